// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* `skaccel stats`: its command line; the work is cli_stats_run() (stats_run.c). */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "common/number.h"
#include "helperd/text.h"

int cli_stats_main(int argc, char **argv, const char *pin_dir)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	unsigned int watch_s = 0;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jw::h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'w':
			watch_s = 1;
			/* --watch 5 as well as --watch=5 */
			if (!optarg && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				optarg = argv[optind++];
			if (optarg && skaccel_parse_uint(optarg, 1, 3600, &watch_s) < 0) {
				fprintf(stderr,
					"skaccel stats: --watch takes seconds from 1 to 3600, not "
					"'%s'\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'h':
			cli_help(stdout, "stats");
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try 'skaccel help stats' for more information.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "skaccel stats: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return cli_stats_run("skaccel", pin_dir, json, watch_s);
}
