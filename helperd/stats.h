/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* --stats: counters, registration outcomes and live sockets, read from the pinned maps. */
#ifndef HELPERD_STATS_H
#define HELPERD_STATS_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Open the maps pinned in pin_dir (no skeleton, no program load) and print them to out,
 * as tables or as one JSON object. Returns 0, or -errno with *failed naming the map that
 * could not be opened (-ENOENT: nothing pinned there, -EPROTO: another layout).
 */
int helperd_stats_print(FILE *out, const char *pin_dir, bool json, const char **failed);

#endif /* HELPERD_STATS_H */
