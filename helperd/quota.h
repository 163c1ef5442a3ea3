/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Per-user counts of registered sockets, so one user cannot fill the sockhash. */
#ifndef HELPERD_QUOTA_H
#define HELPERD_QUOTA_H

#include <stdint.h>
#include <sys/types.h>

struct helperd_quota_slot {
	uint32_t uid;
	uint32_t used;	/* slot taken (a uid never leaves once seen: there are few) */
	uint32_t count; /* registered sockets of this uid */
};

struct helperd_quota {
	struct helperd_quota_slot *slots; /* open addressing, cap a power of two */
	uint32_t cap;
	uint32_t n;	/* slots in use */
	uint32_t total; /* sum of all counts: sockets registered */
};

uint32_t helperd_quota_get(const struct helperd_quota *q, uid_t uid);

/* Count one more socket for uid; 0 or -ENOMEM. */
int helperd_quota_inc(struct helperd_quota *q, uid_t uid);

/* One socket fewer (never below zero). */
void helperd_quota_dec(struct helperd_quota *q, uid_t uid);

/* Forget every count (before recounting from the maps). */
void helperd_quota_reset(struct helperd_quota *q);

void helperd_quota_free(struct helperd_quota *q);

#endif /* HELPERD_QUOTA_H */
