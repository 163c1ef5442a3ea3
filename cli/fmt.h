/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Pure formatting for the skaccel command: units, table columns, reasons. */
#ifndef SKACCEL_CLI_FMT_H
#define SKACCEL_CLI_FMT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/skaccel_maps.h"

/* "0", "999", "1.0K", "12.3M", "4.0G" (powers of 1024, 3 significant digits). */
void cli_fmt_bytes(char *buf, size_t len, uint64_t bytes);

/* "12s", "5m", "3h", "2d": an age in seconds, roughly. */
void cli_fmt_age(char *buf, size_t len, uint64_t seconds);

/* "1.2K/s"-like rate from a delta over seconds (0 seconds: "-"). */
void cli_fmt_rate(char *buf, size_t len, uint64_t delta, double seconds);

/* What status knows about one socket, and what it concludes. */
struct cli_sock {
	__u64 cookie;
	bool registered; /* in skaccel_conns and alive in skaccel_socks */
	bool refused;	 /* from skaccel_refused: never registered */
	bool have_meta;
	struct skaccel_conn conn;     /* when registered */
	struct skaccel_sockmeta meta; /* when have_meta */
	__u64 peer;		      /* cookie of the paired end, 0: none */
	bool peer_live;
	bool have_peer_conn; /* peer_conn holds the peer's counters: our receive side */
	struct skaccel_conn peer_conn;
};

enum cli_state { CLI_STATE_FAST, CLI_STATE_TCP };

/*
 * The state of a socket and why: *key is a stable snake_case name ("" on the fast path),
 * text a phrase for people. Pure.
 */
enum cli_state cli_sock_state(const struct cli_sock *s, const char **key, char *text, size_t len);

/* "fast" or "tcp". */
const char *cli_state_name(enum cli_state st);

/* A table printed with aligned columns: cells are copied, column widths found at the end. */
struct cli_table {
	size_t ncols;
	const char *const *heads;
	const bool *right; /* right-align this column (numbers) */
	char **cells;	   /* nrows * ncols */
	size_t nrows, cap;
};

void cli_table_init(struct cli_table *t, size_t ncols, const char *const *heads, const bool *right);
/* Append a row of ncols strings; 0 or -ENOMEM. */
int cli_table_add(struct cli_table *t, const char *const *row);
/* Print the heads and rows, columns two spaces apart, the last one not padded. */
void cli_table_print(FILE *out, const struct cli_table *t);
void cli_table_free(struct cli_table *t);

#endif /* SKACCEL_CLI_FMT_H */
