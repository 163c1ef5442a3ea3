/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The sweep: dropping the map entries of sockets the kernel has removed from the sockhash. */
#ifndef HELPERD_SWEEP_H
#define HELPERD_SWEEP_H

#include <linux/types.h>
#include <stdbool.h>

#include "maps.h"
#include "quota.h"

/* Entries looked at per periodic run; a full run (start-up, map full) looks at all. */
#define HELPERD_SWEEP_BATCH 4096

struct helperd_sweep {
	__u64 cursor; /* resume after this skaccel_conns key */
	bool have_cursor;
};

struct helperd_sweep_stats {
	unsigned int scanned;
	unsigned int removed;
	unsigned int live;
};

/*
 * Look at up to max entries of skaccel_conns, resuming where the last run stopped; for
 * each cookie no longer in skaccel_socks delete its conns and peers entries, its ends
 * entry if that still names it, and uncount it from its uid. Returns 0 or -errno.
 */
int helperd_sweep_run(struct helperd_sweep *sw, const struct helperd_maps *maps,
		      struct helperd_quota *quota, unsigned int max,
		      struct helperd_sweep_stats *stats);

/*
 * A full run that also rebuilds the per-uid counts from the live entries: what a helper
 * starting on reused maps needs. Returns 0 or -errno.
 */
int helperd_sweep_recount(const struct helperd_maps *maps, struct helperd_quota *quota,
			  struct helperd_sweep_stats *stats);

#endif /* HELPERD_SWEEP_H */
