// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sweep. The kernel removes a socket from the sockhash at its last close; the other
 * maps are ours to tidy. We never delete from skaccel_socks (that would purge bytes
 * queued for the reader): a cookie absent from it is the proof the socket is gone, and
 * cookies are never reused, so deleting its entries can never hit a live socket.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "skaccel_maps.h"
#include "sweep.h"

struct dead {
	__u64 cookie;
	struct skaccel_tuple tuple;
	__u32 uid;
};

/* 1: the socket is gone, 0: alive, -errno: cannot tell (then leave it alone). */
static int socket_gone(const struct helperd_maps *maps, __u64 cookie)
{
	__u64 value;

	if (bpf_map_lookup_elem(maps->socks, &cookie, &value) == 0)
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

static void forget(const struct helperd_maps *maps, struct helperd_quota *quota,
		   const struct dead *d)
{
	__u64 owner;

	bpf_map_delete_elem(maps->conns, &d->cookie);
	bpf_map_delete_elem(maps->peers, &d->cookie);
	if (bpf_map_lookup_elem(maps->ends, &d->tuple, &owner) == 0 && owner == d->cookie)
		bpf_map_delete_elem(maps->ends, &d->tuple);
	if (quota)
		helperd_quota_dec(quota, d->uid);
}

/*
 * Scan up to max keys from *cursor, collecting the dead (deleting while iterating would
 * restart the iteration). Live entries are passed to quota when recounting.
 */
static int scan(const struct helperd_maps *maps, struct helperd_sweep *sw, unsigned int max,
		struct dead *dead, unsigned int *ndead, struct helperd_quota *recount,
		struct helperd_sweep_stats *stats)
{
	__u64 key, next;
	bool have_key = sw->have_cursor;
	int r;

	key = sw->cursor;
	*ndead = 0;
	while (stats->scanned < max) {
		struct skaccel_conn conn;

		if (bpf_map_get_next_key(maps->conns, have_key ? &key : NULL, &next) < 0) {
			if (errno != ENOENT)
				return -errno;
			sw->have_cursor = false; /* end of the map: next run starts over */
			return 0;
		}
		key = next;
		have_key = true;
		stats->scanned++;
		if (bpf_map_lookup_elem(maps->conns, &key, &conn) < 0)
			continue; /* deleted meanwhile */
		r = socket_gone(maps, key);
		if (r < 0)
			continue;
		if (r) {
			dead[*ndead] = (struct dead){ key, conn.tuple, conn.uid };
			(*ndead)++;
			continue;
		}
		stats->live++;
		/* Resume from a live key: a deleted one would restart the iteration. */
		sw->cursor = key;
		sw->have_cursor = true;
		if (recount)
			helperd_quota_inc(recount, conn.uid);
	}
	return 0;
}

static int sweep(struct helperd_sweep *sw, const struct helperd_maps *maps,
		 struct helperd_quota *quota, struct helperd_quota *recount, unsigned int max,
		 struct helperd_sweep_stats *stats)
{
	struct dead *dead;
	unsigned int i, ndead;
	int r;

	memset(stats, 0, sizeof(*stats));
	dead = calloc(max, sizeof(*dead));
	if (!dead)
		return -ENOMEM;
	r = scan(maps, sw, max, dead, &ndead, recount, stats);
	for (i = 0; i < ndead; i++)
		forget(maps, recount ? NULL : quota, &dead[i]);
	stats->removed = ndead;
	free(dead);
	return r;
}

int helperd_sweep_run(struct helperd_sweep *sw, const struct helperd_maps *maps,
		      struct helperd_quota *quota, unsigned int max,
		      struct helperd_sweep_stats *stats)
{
	return sweep(sw, maps, quota, NULL, max, stats);
}

int helperd_sweep_recount(const struct helperd_maps *maps, struct helperd_quota *quota,
			  struct helperd_sweep_stats *stats)
{
	struct helperd_sweep sw = {};

	helperd_quota_reset(quota);
	return sweep(&sw, maps, quota, quota, SKACCEL_MAX_SOCKS, stats);
}
