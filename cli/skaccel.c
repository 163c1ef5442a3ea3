// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * skaccel's main(): the global options, then one subcommand (status, stats, explain,
 * help). Each subcommand parses its own options and returns its exit code (cli.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#ifndef SKACCEL_VERSION
#define SKACCEL_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *pin_dir = CLI_DEFAULT_PIN_DIR, *cmd;
	int c;

	cli_quiet_libbpf();
	/* "+": stop at the subcommand, whose options are its own */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			pin_dir = optarg;
			break;
		case 'h':
			cli_help(stdout, NULL);
			return CLI_EXIT_OK;
		case 'V':
			printf("skaccel %s\n", SKACCEL_VERSION);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try 'skaccel --help' for more information.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_help(stderr, NULL);
		return CLI_EXIT_USAGE;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "status"))
		return cli_status_main(argc, argv, pin_dir);
	if (!strcmp(cmd, "stats"))
		return cli_stats_main(argc, argv, pin_dir);
	if (!strcmp(cmd, "explain"))
		return cli_explain_main(argc, argv, pin_dir);
	if (!strcmp(cmd, "help")) {
		if (argc > 2 || !cli_help(stdout, argc == 2 ? argv[1] : NULL)) {
			fprintf(stderr, "skaccel: no command '%s'; try 'skaccel --help'\n",
				argc == 2 ? argv[1] : "");
			return CLI_EXIT_USAGE;
		}
		return CLI_EXIT_OK;
	}
	fprintf(stderr, "skaccel: unknown command '%s'; try 'skaccel --help'\n", cmd);
	return CLI_EXIT_USAGE;
}
