// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sweep. The kernel removes a socket from the sockhash at its last close; the other
 * maps are ours to tidy. We never delete from skaccel_socks (that would purge bytes
 * queued for the reader): a cookie absent from it is the proof the socket is gone, and
 * cookies are never reused, so deleting its entries can never hit a live socket.
 *
 * The registry says which cookies there are, so a sweep costs one sockhash lookup per
 * registered socket and two batched deletes, and never walks a map; only the start-up
 * rebuild does, once.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/skaccel_maps.h"
#include "helperd/pair_check.h"
#include "helperd/sweep.h"

/* 1: the socket is gone, 0: alive, -errno: cannot tell (then leave it alone). */
static int socket_gone(const struct helperd_maps *maps, __u64 cookie)
{
	__u64 value;

	if (bpf_map_lookup_elem(maps->socks, &cookie, &value) == 0)
		return 0;
	return errno == ENOENT ? 1 : -errno;
}

static int delete_one_by_one(int map_fd, const __u64 *keys, __u32 n)
{
	__u32 i;
	int r = 0;

	for (i = 0; i < n; i++)
		if (bpf_map_delete_elem(map_fd, &keys[i]) < 0 && errno != ENOENT && !r)
			r = -errno;
	return r;
}

/*
 * Delete keys[0, n) from a hash map, skipping keys that are not there. The kernel's batch
 * delete stops at the first missing key and says how many it deleted before it, so we
 * step over that one and go on; a kernel without batch ops gets one delete per key.
 */
static int delete_keys(int map_fd, const __u64 *keys, __u32 n)
{
	__u32 done = 0, count;
	int err;

	while (done < n) {
		count = n - done;
		if (bpf_map_delete_batch(map_fd, keys + done, &count, NULL) == 0)
			return 0;
		err = errno;
		if (helperd_batch_unsupported(err))
			return delete_one_by_one(map_fd, keys + done, n - done);
		if (err != ENOENT || count >= n - done)
			return -err;
		done += count + 1;
	}
	return 0;
}

/*
 * Like socket_gone() for a waiting end, but through the pairing check, which also says
 * whether it is still the connection it registered; a ghost is taken out of waiting.
 */
static int probe_waiting(const struct helperd_sweep *sw, struct helperd_registry *reg,
			 struct helperd_reg_end *e, struct helperd_sweep_stats *stats)
{
	int verdict = helperd_pair_check(sw->pair_prog, e->cookie, 0);

	if (verdict == SKACCEL_PAIR_GONE)
		return 1;
	if (verdict == SKACCEL_PAIR_NOT_ESTABLISHED || verdict == SKACCEL_PAIR_MOVED) {
		helperd_registry_unwait(reg, e);
		stats->ghosts++;
	}
	return verdict < 0 ? verdict : 0;
}

int helperd_sweep_init(struct helperd_sweep *sw, uint32_t max, int pair_prog)
{
	sw->pair_prog = pair_prog;
	sw->probe_at = 0;
	sw->keys = calloc(max, sizeof(*sw->keys));
	sw->cap = sw->keys ? max : 0;
	return sw->keys ? 0 : -ENOMEM;
}

void helperd_sweep_free(struct helperd_sweep *sw)
{
	free(sw->keys);
	sw->keys = NULL;
	sw->cap = 0;
}

int helperd_sweep_run(struct helperd_sweep *sw, const struct helperd_maps *maps,
		      struct helperd_registry *reg, struct helperd_sweep_stats *stats)
{
	__u32 i, npaired = 0, nwaiting = 0, from, to;
	__u64 *keys = sw->keys;
	int r, r2, gone;

	memset(stats, 0, sizeof(*stats));
	if (sw->cap < reg->n)
		return -ENOBUFS; /* not sized for this registry: a bug, never expected */
	/*
	 * Paired ends (which also have a skaccel_peers entry) collect from the front of
	 * keys, the others from the back. Backwards through the registry, so a removal
	 * moves an end already looked at into the hole.
	 */
	/* The waiting ends with an index in [from, to), cyclically, are probed this time. */
	from = reg->n ? sw->probe_at % reg->n : 0;
	to = reg->n ? (from + HELPERD_SWEEP_PROBES) % reg->n : 0;
	sw->probe_at = to;
	for (i = reg->n; i-- > 0;) {
		struct helperd_reg_end *e = &reg->ends[i];
		bool probe = e->waiting && sw->pair_prog >= 0 &&
			     (reg->n <= HELPERD_SWEEP_PROBES ||
			      (from < to ? (i >= from && i < to) : (i >= from || i < to)));

		stats->scanned++;
		gone = probe ? probe_waiting(sw, reg, e, stats) : socket_gone(maps, e->cookie);
		if (gone <= 0) {
			stats->live++;
			continue;
		}
		if (e->peer)
			keys[npaired++] = e->cookie;
		else
			keys[sw->cap - ++nwaiting] = e->cookie;
		helperd_registry_remove(reg, e);
	}
	memmove(keys + npaired, keys + sw->cap - nwaiting, nwaiting * sizeof(*keys));
	stats->removed = npaired + nwaiting;
	r = delete_keys(maps->conns, keys, npaired + nwaiting);
	r2 = delete_keys(maps->peers, keys, npaired);
	(void)delete_keys(maps->meta, keys, npaired + nwaiting); /* status details only */
	return r ? r : r2;
}

int helperd_sweep_rebuild(const struct helperd_maps *maps, struct helperd_registry *reg,
			  struct helperd_sweep_stats *stats)
{
	__u64 key, next, peer, *dead;
	bool have_key = false;
	__u32 ndead = 0;
	int r = 0;

	memset(stats, 0, sizeof(*stats));
	dead = calloc(reg->max, sizeof(*dead));
	if (!dead)
		return -ENOMEM;
	/* Collect the dead first: deleting while iterating would restart the iteration. */
	while (stats->scanned < reg->max) {
		struct helperd_reg_end *e;
		struct skaccel_conn conn;

		if (bpf_map_get_next_key(maps->conns, have_key ? &key : NULL, &next) < 0) {
			if (errno != ENOENT)
				r = -errno;
			break;
		}
		key = next;
		have_key = true;
		stats->scanned++;
		if (bpf_map_lookup_elem(maps->conns, &key, &conn) < 0)
			continue;
		if (socket_gone(maps, key) == 1) {
			dead[ndead++] = key;
			continue;
		}
		/* Alive, or cannot tell: registered, so that the sweep looks again. */
		r = helperd_registry_add(reg, key, &conn.tuple, conn.uid, &e);
		if (r == -EEXIST) {
			r = 0;
			continue;
		}
		if (r)
			break;
		stats->live++;
		if (bpf_map_lookup_elem(maps->peers, &key, &peer) == 0)
			e->peer = peer;
		else
			helperd_registry_wait(reg, e);
	}
	stats->removed = ndead;
	if (!r)
		r = delete_keys(maps->conns, dead, ndead);
	if (!r) /* most have a skaccel_peers entry; the others are skipped */
		r = delete_keys(maps->peers, dead, ndead);
	if (!r)
		(void)delete_keys(maps->meta, dead, ndead);
	free(dead);
	return r;
}
