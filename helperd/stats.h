/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* --stats: counters, registration outcomes and live sockets, read from the pinned maps. */
#ifndef HELPERD_STATS_H
#define HELPERD_STATS_H

#include <stdbool.h>
#include <stdio.h>

struct helperd_maps;

/*
 * Print the counters, registration outcomes and live sockets of the maps open in maps, as
 * tables or as one JSON object. 0 or -errno.
 */
int helperd_stats_maps_print(FILE *out, const char *pin_dir, const struct helperd_maps *maps,
			     bool json);

#endif /* HELPERD_STATS_H */
