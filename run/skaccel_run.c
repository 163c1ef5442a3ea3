// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * skaccel-run: run a command with libskaccel.so preloaded. It only sets the environment
 * and warns about what would keep the shim out; it never stops the command from running.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "run/ping.h"
#include "run/preload.h"
#include "run/target.h"

#ifndef SKACCEL_VERSION
#define SKACCEL_VERSION "0.1.0"
#endif

/* Exit statuses of env(1), nice(1), timeout(1): ours, then "cannot run", "not found". */
#define EXIT_RUN_FAILED 125
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127

#define PING_TIMEOUT_MS 250

static bool quiet;

static const char usage_text[] =
    "Usage: skaccel-run [OPTION]... COMMAND [ARG]...\n"
    "\n"
    "Run COMMAND with libskaccel.so preloaded, so that its TCP connections to this host\n"
    "(loopback, or one of the host's own addresses) are handed to skaccel-helperd and\n"
    "carried by BPF socket redirection instead of the TCP/IP stack. COMMAND needs no\n"
    "change and sees ordinary TCP sockets. A connection is accelerated when both of its\n"
    "ends run under skaccel-run (or preload the library); everything else, including any\n"
    "connection the helper refuses, stays on plain TCP.\n"
    "\n"
    "Before it runs COMMAND, skaccel-run warns on standard error when the library cannot\n"
    "take effect: COMMAND is set-user-ID, set-group-ID or has file capabilities (the\n"
    "dynamic loader ignores LD_PRELOAD for it), COMMAND is statically linked or built for\n"
    "another ELF class, or no helper answers on the socket. It runs COMMAND in every case.\n"
    "\n"
    "Options:\n"
    "  -s, --socket=PATH  talk to the helper at PATH (sets SKACCEL_SOCKET); a name\n"
    "                     starting with '@' is an abstract socket\n"
    "  -l, --lib=PATH     preload this library instead of searching for it\n"
    "  -d, --debug        print one line per registration attempt on standard error\n"
    "                     (sets SKACCEL_DEBUG=1)\n"
    "  -q, --quiet        print no warnings\n"
    "  -h, --help         print this help and exit\n"
    "  -V, --version      print the version and exit\n"
    "\n"
    "Options end at COMMAND or at \"--\"; everything after is passed to COMMAND.\n"
    "\n"
    "Library search, first match wins:\n"
    "  --lib PATH, then $SKACCEL_LIB, then, with DIR the directory holding skaccel-run,\n"
    "  DIR/libskaccel.so (build tree), DIR/../lib/libskaccel.so (PREFIX/bin -> PREFIX/lib)\n"
    "  and DIR/../lib/skaccel/libskaccel.so.\n"
    "\n"
    "Environment:\n"
    "  SKACCEL_SOCKET      helper socket (default " SKACCEL_DEFAULT_SOCKET ")\n"
    "  SKACCEL_LIB         library to preload when --lib is not given\n"
    "  SKACCEL_DEBUG=1     as --debug\n"
    "  SKACCEL_DISABLE=1   the library passes every call straight to libc\n"
    "  SKACCEL_TIMEOUT_MS  longest a connect() or accept() waits for the helper\n"
    "                      (default 250)\n"
    "  LD_PRELOAD          kept; the library is added at its end, once\n"
    "\n"
    "Exit status:\n"
    "  125  skaccel-run failed (bad usage, library not found)\n"
    "  126  COMMAND was found but could not be run\n"
    "  127  COMMAND was not found\n"
    "  otherwise, the exit status of COMMAND\n"
    "\n"
    "Examples:\n"
    "  skaccel-run redis-server --port 6379 &\n"
    "  skaccel-run redis-benchmark -q -n 100000\n"
    "  skaccel-run -d curl -s http://127.0.0.1:8080/\n"
    "  skaccel-run -s /tmp/helperd.sock -l build/libskaccel.so python3 -m http.server\n";

__attribute__((format(printf, 1, 2))) static void warn(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fputs("skaccel-run: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

__attribute__((format(printf, 2, 3), noreturn)) static void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("skaccel-run: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

static int lib_usable(const char *path)
{
	return access(path, R_OK) == 0 ? 0 : -errno;
}

/* The directory holding our own executable, or NULL. */
static char *exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return buf;
}

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) < 0)
		die(EXIT_RUN_FAILED, "Failed to set %s: %s", name, strerror(errno));
}

static void setup_preload(const char *opt_lib)
{
	char dir[PATH_MAX], found[PATH_MAX], abs[PATH_MAX];
	const char *env_lib = getenv("SKACCEL_LIB");
	char *preload;
	int ret;

	ret = skrun_find_lib(opt_lib, env_lib, exe_dir(dir, sizeof(dir)), lib_usable, found,
			     sizeof(found));
	if (ret == -ENOENT && !(opt_lib && *opt_lib) && !(env_lib && *env_lib))
		die(EXIT_RUN_FAILED,
		    "Failed to find " SKRUN_LIB_NAME " next to skaccel-run, in ../lib or "
		    "../lib/skaccel: use --lib PATH or set SKACCEL_LIB");
	if (ret < 0)
		die(EXIT_RUN_FAILED, "Failed to use library %s: %s",
		    opt_lib && *opt_lib ? opt_lib : env_lib, strerror(-ret));
	/* Absolute: the command may chdir() before it starts programs of its own. */
	if (!realpath(found, abs))
		die(EXIT_RUN_FAILED, "Failed to resolve library path %s: %s", found,
		    strerror(errno));
	preload = skrun_preload_compose(getenv("LD_PRELOAD"), abs);
	if (!preload)
		die(EXIT_RUN_FAILED, "Failed to compose LD_PRELOAD: %s", strerror(ENOMEM));
	set_env("LD_PRELOAD", preload);
	free(preload);
}

/* Warn about what keeps the library out of cmd; false if cmd cannot be run at all. */
static bool check_target(const char *cmd)
{
	char path[PATH_MAX];
	enum skrun_elf kind;
	const char *why;
	int elf_class;

	/* If it cannot be found, execvp() below reports it with the right exit status. */
	if (skrun_resolve_cmd(cmd, getenv("PATH"), path, sizeof(path)) < 0)
		return false;
	why = skrun_secure_reason(path);
	if (why)
		warn("%s %s: the dynamic loader ignores LD_PRELOAD for it, so it runs "
		     "without acceleration",
		     path, why);
	if (skrun_elf_kind(path, &kind, &elf_class) < 0)
		return true;
	if (kind == SKRUN_ELF_STATIC)
		warn("%s is statically linked: " SKRUN_LIB_NAME " cannot be preloaded into it, "
		     "so it runs without acceleration",
		     path);
	else if (kind == SKRUN_ELF_DYNAMIC && elf_class != (sizeof(void *) == 8 ? 2 : 1))
		warn("%s is a %d-bit program and " SKRUN_LIB_NAME " is %d-bit: it runs "
		     "without acceleration",
		     path, elf_class == 1 ? 32 : 64, (int)sizeof(void *) * 8);
	return true;
}

static void check_helper(void)
{
	const char *path = getenv(SKACCEL_SOCKET_ENV);
	int32_t status;
	int ret;

	if (!path || !*path)
		path = SKACCEL_DEFAULT_SOCKET;
	ret = skrun_ping(path, PING_TIMEOUT_MS, &status);
	if (ret < 0)
		warn("helper not reachable at %s (%s): connections will use plain TCP", path,
		     ret == -ETIMEDOUT ? "no answer within 250 ms"
		     : ret == -EPROTO  ? "malformed reply"
				       : strerror(-ret));
	else if (status != SKACCEL_OK_PONG)
		warn("helper at %s answered: %s: connections will use plain TCP", path,
		     skaccel_status_str(status));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "lib", required_argument, NULL, 'l' },
		{ "debug", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	const char *lib = NULL;
	int c;

	/* '+': stop at the first non-option, which is COMMAND; its options are its own. */
	while ((c = getopt_long(argc, argv, "+s:l:dqhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!*optarg)
				die(EXIT_RUN_FAILED, "--socket needs a path");
			set_env(SKACCEL_SOCKET_ENV, optarg);
			break;
		case 'l':
			lib = optarg;
			break;
		case 'd':
			set_env("SKACCEL_DEBUG", "1");
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("skaccel-run (skaccel) %s, helper protocol %d\n", SKACCEL_VERSION,
			       SKACCEL_PROTO_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'skaccel-run --help' for more information.\n");
			return EXIT_RUN_FAILED;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "skaccel-run: missing COMMAND\n"
				"Try 'skaccel-run --help' for more information.\n");
		return EXIT_RUN_FAILED;
	}

	setup_preload(lib);
	/* No helper warning for a command that is not there: execvp() has the news. */
	if (check_target(argv[optind]))
		check_helper();
	fflush(NULL);

	execvp(argv[optind], &argv[optind]);
	c = errno;
	fprintf(stderr, "skaccel-run: Failed to run %s: %s\n", argv[optind], strerror(c));
	return c == ENOENT || c == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
}
