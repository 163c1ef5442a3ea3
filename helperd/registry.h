/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's in-memory view of the registered sockets: who they are, who pairs with whom. */
#ifndef HELPERD_REGISTRY_H
#define HELPERD_REGISTRY_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/skaccel_maps.h"
#include "helperd/quota.h"

/* One registered socket (one end of a connection). */
struct helperd_reg_end {
	__u64 cookie;		    /* SO_COOKIE, never 0 */
	__u64 peer;		    /* the other end's cookie once paired, else 0 */
	struct skaccel_tuple tuple; /* as registered */
	__u32 uid;		    /* whose quota it counts against */
	__u32 waiting;		    /* 1: the end the waiting index finds under tuple */
};

/*
 * Every socket the helper has put into skaccel_conns and not swept yet, so that pairing,
 * quotas and the sweep need no map reads: the maps are written, never searched.
 *
 * ends[0, n) is dense (a removal moves the last end into the hole), so the sweep walks
 * an array; two open-addressing indexes (linear probing, values are index + 1, 0 is
 * empty, load at most one half) find an end by cookie, and the end waiting for its peer
 * by tuple. A restarted helper rebuilds all of it from the pinned maps (sweep.c).
 */
struct helperd_registry {
	struct helperd_reg_end *ends;
	uint32_t n;		    /* ends in use */
	uint32_t max;		    /* capacity: the size of skaccel_conns (--max-socks) */
	uint32_t *by_cookie;	    /* every end */
	uint32_t *by_tuple;	    /* waiting ends only */
	uint32_t mask;		    /* index size - 1 */
	__u64 seed;		    /* per process: clients choose ports and addresses */
	struct helperd_quota quota; /* ends per uid, kept in step with ends[] */
};

/* Room for max ends; 0 or -ENOMEM. */
int helperd_registry_init(struct helperd_registry *r, uint32_t max);

void helperd_registry_free(struct helperd_registry *r);

/* The end with this cookie, or NULL. */
struct helperd_reg_end *helperd_registry_find(const struct helperd_registry *r, __u64 cookie);

/*
 * Add an end, neither paired nor waiting; *end (if non-NULL) points at it until the next
 * removal. Returns 0, -EEXIST (cookie known), -ENOSPC (full) or -ENOMEM (quota table).
 */
int helperd_registry_add(struct helperd_registry *r, __u64 cookie, const struct skaccel_tuple *t,
			 __u32 uid, struct helperd_reg_end **end);

/* Remove an end (pointers to ends are stale afterwards: the last one moves). */
void helperd_registry_remove(struct helperd_registry *r, struct helperd_reg_end *e);

/* The end waiting for its peer under tuple t, or NULL. */
struct helperd_reg_end *helperd_registry_waiting(const struct helperd_registry *r,
						 const struct skaccel_tuple *t);

/*
 * Make e the end waiting under its tuple. An end already waiting there (a closed socket of
 * an earlier connection with the same addresses and ports) stops waiting; it stays
 * registered until the sweep finds it gone.
 */
void helperd_registry_wait(struct helperd_registry *r, struct helperd_reg_end *e);

/* e no longer waits (nothing if it did not). */
void helperd_registry_unwait(struct helperd_registry *r, struct helperd_reg_end *e);

/* a and b are the two ends of one connection; neither waits any more. */
void helperd_registry_pair(struct helperd_registry *r, struct helperd_reg_end *a,
			   struct helperd_reg_end *b);

/* Registered ends of uid. */
uint32_t helperd_registry_user_count(const struct helperd_registry *r, uid_t uid);

#endif /* HELPERD_REGISTRY_H */
