/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Prometheus metrics: the text exposition (format 0.0.4) of a snapshot of the helper's
 * counters. Pure: the snapshot is filled by metrics_collect.c, served by metrics_http.c
 * and written to a file by metrics_textfile.c.
 */
#ifndef HELPERD_METRICS_H
#define HELPERD_METRICS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/skaccel_maps.h"

#define HELPERD_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct helperd_metrics_snapshot {
	bool have_counters;		 /* counters[] was read (skaccel_cnt) */
	__u64 counters[SKACCEL_CNT_MAX]; /* summed over CPUs */
	__u64 regcnt[SKACCEL_REGCNT_MAX];
	unsigned int sockets; /* registered now */
	unsigned int sockets_max;
	unsigned int clients; /* client connections now */
	unsigned int clients_max;
	bool enabled;	     /* registrations accepted and the programs redirect */
	bool selftest_ok;    /* the kernel self-test ran at start and passed */
	double start_time_s; /* CLOCK_REALTIME at start-up, in seconds */
	const char *version; /* SKACCEL_VERSION */
};

/* Write the exposition of s to out; 0, or -EIO if out failed. */
int helperd_metrics_render(FILE *out, const struct helperd_metrics_snapshot *s);

/* The same into a malloc'ed buffer (*buf, *len, NUL-terminated); 0 or -errno. */
int helperd_metrics_render_buf(const struct helperd_metrics_snapshot *s, char **buf, size_t *len);

/*
 * The HELP text of a metric family (name after "skaccel_") defined in the counter lists
 * with labels; NULL if it has none (it then borrows its first member's phrase).
 */
const char *helperd_metrics_family_help(const char *family);

#endif /* HELPERD_METRICS_H */
