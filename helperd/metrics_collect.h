/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The metrics' snapshot of a running helper, and what is done with it on each tick. */
#ifndef HELPERD_METRICS_COLLECT_H
#define HELPERD_METRICS_COLLECT_H

#include <stddef.h>

#include "helperd/metrics.h"

struct helperd_daemon;

/* Fill *s from the daemon and the data-path counters map; never fails (see have_counters). */
void helperd_metrics_collect(const struct helperd_daemon *d, struct helperd_metrics_snapshot *s);

/* Collect and render into a malloc'ed buffer: a helperd_metrics_http render callback. */
int helperd_metrics_render_daemon(void *daemon, char **buf, size_t *len);

/* Write --metrics-textfile now, logging a failure (rate-limited); 0 or -errno. */
int helperd_metrics_textfile_update(struct helperd_daemon *d);

#endif /* HELPERD_METRICS_COLLECT_H */
