/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The sweep: dropping the map entries of sockets the kernel has removed from the sockhash. */
#ifndef HELPERD_SWEEP_H
#define HELPERD_SWEEP_H

#include <linux/types.h>
#include <stdint.h>

#include "helperd/maps.h"
#include "helperd/registry.h"

/* Waiting ends whose connection the pairing check re-reads per sweep, in turn. */
#define HELPERD_SWEEP_PROBES 1024

struct helperd_sweep {
	__u64 *keys; /* room for every registered cookie: the batch to delete */
	uint32_t cap;
	int pair_prog;	   /* the pairing check (pair_check.h), -1: none */
	uint32_t probe_at; /* registry index where the next round of probes starts */
};

struct helperd_sweep_stats {
	unsigned int scanned;
	unsigned int removed;
	unsigned int live;
	unsigned int ghosts; /* waiting ends found out of their connection: they wait no more */
};

/* Room for sweeping a registry of max ends, probing with pair_prog; 0 or -ENOMEM. */
int helperd_sweep_init(struct helperd_sweep *sw, uint32_t max, int pair_prog);

void helperd_sweep_free(struct helperd_sweep *sw);

/*
 * Look up every registered cookie in skaccel_socks (one lookup each); for the sockets
 * gone, delete their skaccel_conns and skaccel_peers entries (in batches) and remove them
 * from the registry, which also uncounts them from their uid. Up to HELPERD_SWEEP_PROBES
 * waiting ends, in turn, are checked with the pairing check instead of the lookup: one
 * that left its connection without closing (a ghost) stops waiting, so that nobody who
 * later reuses its ports finds it, and it stays registered (and counted) until it closes.
 * Returns 0, or the -errno of
 * a failed delete: the registry is swept regardless, and the entries left in the maps go
 * at the next start (they only cost room, and --stats shows them as closed).
 */
int helperd_sweep_run(struct helperd_sweep *sw, const struct helperd_maps *maps,
		      struct helperd_registry *reg, struct helperd_sweep_stats *stats);

/*
 * Start-up on reused maps: walk skaccel_conns, delete the entries of closed sockets, and
 * fill the empty registry with the live ones: paired when skaccel_peers has the cookie,
 * else waiting for their peer, so that ends registered before a restart still pair.
 * Returns 0 or -errno.
 */
int helperd_sweep_rebuild(const struct helperd_maps *maps, struct helperd_registry *reg,
			  struct helperd_sweep_stats *stats);

#endif /* HELPERD_SWEEP_H */
