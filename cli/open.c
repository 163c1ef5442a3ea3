// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Opening the pinned maps for the skaccel command (and skaccel-helperd --stats), with one
 * clear line for each way it fails: libbpf's own messages are silenced, since a user who
 * may not read the maps would otherwise get a stack of them for one missing privilege.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

void cli_quiet_libbpf(void)
{
	libbpf_set_print(silent);
}

int cli_open_maps(struct helperd_maps *maps, const char *pin_dir, const char *prog)
{
	const char *failed = NULL;
	struct stat st;
	int r;

	cli_quiet_libbpf();
	if (stat(pin_dir, &st) < 0 && errno == ENOENT) {
		fprintf(stderr,
			"%s: skaccel-helperd is not running: nothing is pinned in %s (start it, "
			"or give its --pin-dir)\n",
			prog, pin_dir);
		return CLI_EXIT_NOT_RUNNING;
	}
	r = helperd_maps_open_pinned(maps, pin_dir, &failed);
	if (!r)
		return 0;
	switch (r) {
	case -EACCES:
	case -EPERM:
		fprintf(stderr,
			"%s: permission denied reading the skaccel maps in %s: run it as root "
			"(it needs CAP_BPF and access to %s)\n",
			prog, pin_dir, pin_dir);
		return CLI_EXIT_PERMISSION;
	case -ENOENT:
		fprintf(stderr,
			"%s: skaccel-helperd is not running: no map %s in %s (start it, or give "
			"its --pin-dir)\n",
			prog, failed ? failed : "", pin_dir);
		return CLI_EXIT_NOT_RUNNING;
	case -EPROTO:
		fprintf(stderr,
			"%s: the map %s/%s has another layout than this build's (a newer or older "
			"skaccel pinned it)\n",
			prog, pin_dir, failed ? failed : "?");
		return CLI_EXIT_FAILURE;
	}
	fprintf(stderr, "%s: Failed to open the skaccel maps in %s%s%s: %s\n", prog, pin_dir,
		failed ? "/" : "", failed ? failed : "", strerror(-r));
	return CLI_EXIT_FAILURE;
}
