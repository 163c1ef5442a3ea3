// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Per-uid socket counts in a small open-addressing table. The counts live only here:
 * a restarted helper rebuilds them from the uid stored in every skaccel_conns entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helperd/quota.h"

static uint32_t hash_uid(uint32_t uid)
{
	return uid * 2654435761u; /* Knuth's multiplicative hash */
}

static struct helperd_quota_slot *find(const struct helperd_quota *q, uint32_t uid)
{
	uint32_t i, mask;

	if (!q->cap)
		return NULL;
	mask = q->cap - 1;
	for (i = hash_uid(uid) & mask;; i = (i + 1) & mask) {
		if (!q->slots[i].used)
			return &q->slots[i]; /* where it would go */
		if (q->slots[i].uid == uid)
			return &q->slots[i];
	}
}

static int grow(struct helperd_quota *q)
{
	struct helperd_quota old = *q;
	uint32_t i;

	q->cap = old.cap ? old.cap * 2 : 16;
	q->slots = calloc(q->cap, sizeof(*q->slots));
	if (!q->slots) {
		*q = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].used)
			*find(q, old.slots[i].uid) = old.slots[i];
	free(old.slots);
	return 0;
}

uint32_t helperd_quota_get(const struct helperd_quota *q, uid_t uid)
{
	struct helperd_quota_slot *s = find(q, uid);

	return s && s->used ? s->count : 0;
}

int helperd_quota_inc(struct helperd_quota *q, uid_t uid)
{
	struct helperd_quota_slot *s;

	if ((q->n + 1) * 2 > q->cap && grow(q) < 0) /* keep the load under one half */
		return -ENOMEM;
	s = find(q, uid);
	if (!s->used) {
		*s = (struct helperd_quota_slot){ .uid = uid, .used = 1 };
		q->n++;
	}
	s->count++;
	q->total++;
	return 0;
}

void helperd_quota_dec(struct helperd_quota *q, uid_t uid)
{
	struct helperd_quota_slot *s = find(q, uid);

	if (s && s->used && s->count) {
		s->count--;
		q->total--;
	}
}

void helperd_quota_reset(struct helperd_quota *q)
{
	uint32_t i;

	for (i = 0; i < q->cap; i++)
		q->slots[i].count = 0;
	q->total = 0;
}

void helperd_quota_free(struct helperd_quota *q)
{
	free(q->slots);
	memset(q, 0, sizeof(*q));
}
