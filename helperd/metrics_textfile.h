/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* --metrics-textfile: the exposition in a file, for node_exporter's textfile collector. */
#ifndef HELPERD_METRICS_TEXTFILE_H
#define HELPERD_METRICS_TEXTFILE_H

#include <stddef.h>

/*
 * Replace path with buf atomically: write PATH.tmp.PID next to it and rename it over, so
 * a reader sees the old file or the new one, never half of one. Neither name is followed
 * if it is a symlink. 0 or -errno.
 */
int helperd_metrics_textfile_write(const char *path, const char *buf, size_t len);

#endif /* HELPERD_METRICS_TEXTFILE_H */
