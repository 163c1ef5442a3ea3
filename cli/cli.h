/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The skaccel command: its subcommands, exit codes, and what they share. */
#ifndef SKACCEL_CLI_H
#define SKACCEL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "helperd/maps.h"

/* Exit codes, the same for every subcommand (skaccel --help, skaccel(8)). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1     /* anything else that went wrong */
#define CLI_EXIT_USAGE 2       /* bad command line */
#define CLI_EXIT_NOT_RUNNING 3 /* no maps pinned: the helper is not running (or --pin-dir) */
#define CLI_EXIT_PERMISSION 4  /* not allowed to read the maps or the process */
#define CLI_EXIT_NO_PROCESS 5  /* explain: no such process */

#define CLI_DEFAULT_PIN_DIR "/sys/fs/bpf/skaccel"

/* Keep libbpf's own messages off the terminal: every failure is said once, by us. */
void cli_quiet_libbpf(void);

/*
 * Open the maps pinned in pin_dir. On failure prints one line to stderr saying what is
 * wrong and what to do, and returns the exit code (never 0); 0 on success.
 */
int cli_open_maps(struct helperd_maps *maps, const char *pin_dir, const char *prog);

/* The subcommands; argv[0] is the subcommand's name. Each returns an exit code. */
int cli_status_main(int argc, char **argv, const char *pin_dir);
int cli_stats_main(int argc, char **argv, const char *pin_dir);
int cli_explain_main(int argc, char **argv, const char *pin_dir);

/* `skaccel stats` and `skaccel-helperd --stats`: one implementation. */
int cli_stats_run(const char *prog, const char *pin_dir, bool json, unsigned int watch_s);

/* Print the help of one subcommand (NULL: the overview) to out; false if unknown. */
bool cli_help(FILE *out, const char *cmd);

#endif /* SKACCEL_CLI_H */
