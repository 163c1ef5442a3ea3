// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The registry: a dense array of ends and two linear-probing indexes over it. Removal
 * shifts later entries of a probe run back into the hole (no tombstones, so lookups stay
 * short however many sockets come and go), and moves the last end of the array into the
 * removed one's place, re-pointing its index slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "helperd/registry.h"

enum index_kind { BY_COOKIE, BY_TUPLE };

static __u64 mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ull; /* 2^64 / golden ratio */
	return h ^ (h >> 32);
}

static uint32_t hash_cookie(const struct helperd_registry *r, __u64 cookie)
{
	return (uint32_t)mix(r->seed, cookie);
}

static uint32_t hash_tuple(const struct helperd_registry *r, const struct skaccel_tuple *t)
{
	__u64 w[sizeof(*t) / sizeof(__u64)], h = r->seed;
	size_t i;

	memcpy(w, t, sizeof(w));
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		h = mix(h, w[i]);
	return (uint32_t)h;
}

static uint32_t home(const struct helperd_registry *r, enum index_kind kind,
		     const struct helperd_reg_end *e)
{
	return (kind == BY_COOKIE ? hash_cookie(r, e->cookie) : hash_tuple(r, &e->tuple)) & r->mask;
}

/* The by_cookie slot holding cookie, or the empty slot where it would go. */
static uint32_t *cookie_slot(const struct helperd_registry *r, __u64 cookie)
{
	uint32_t i, v;

	for (i = hash_cookie(r, cookie) & r->mask;; i = (i + 1) & r->mask) {
		v = r->by_cookie[i];
		if (!v || r->ends[v - 1].cookie == cookie)
			return &r->by_cookie[i];
	}
}

/* Likewise in by_tuple. The load is at most one half, so both loops end. */
static uint32_t *tuple_slot(const struct helperd_registry *r, const struct skaccel_tuple *t)
{
	uint32_t i, v;

	for (i = hash_tuple(r, t) & r->mask;; i = (i + 1) & r->mask) {
		v = r->by_tuple[i];
		if (!v || memcmp(&r->ends[v - 1].tuple, t, sizeof(*t)) == 0)
			return &r->by_tuple[i];
	}
}

/* Empty slot i of an index, moving back what would no longer be found past the hole. */
static void index_delete(const struct helperd_registry *r, enum index_kind kind, uint32_t i)
{
	uint32_t *table = kind == BY_COOKIE ? r->by_cookie : r->by_tuple;
	uint32_t j = i, k;

	for (;;) {
		j = (j + 1) & r->mask;
		if (!table[j])
			break;
		k = home(r, kind, &r->ends[table[j] - 1]);
		/* It stays if its home lies cyclically in (i, j]: the hole is not on its path. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		table[i] = table[j];
		i = j;
	}
	table[i] = 0;
}

static __u64 random_seed(void)
{
	struct timespec ts;
	__u64 seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* no entropy yet: unpredictable enough here */
	return mix((__u64)ts.tv_nsec ^ ((__u64)ts.tv_sec << 32), (__u64)getpid());
}

int helperd_registry_init(struct helperd_registry *r, uint32_t max)
{
	uint32_t size = 2;

	memset(r, 0, sizeof(*r));
	if (!max || max > (1u << 30))
		return -EINVAL;
	while (size < 2 * max)
		size *= 2;
	r->ends = calloc(max, sizeof(*r->ends));
	r->by_cookie = calloc(size, sizeof(*r->by_cookie));
	r->by_tuple = calloc(size, sizeof(*r->by_tuple));
	if (!r->ends || !r->by_cookie || !r->by_tuple) {
		helperd_registry_free(r);
		return -ENOMEM;
	}
	r->max = max;
	r->mask = size - 1;
	r->seed = random_seed();
	return 0;
}

void helperd_registry_free(struct helperd_registry *r)
{
	free(r->ends);
	free(r->by_cookie);
	free(r->by_tuple);
	helperd_quota_free(&r->quota);
	memset(r, 0, sizeof(*r));
}

struct helperd_reg_end *helperd_registry_find(const struct helperd_registry *r, __u64 cookie)
{
	uint32_t v = *cookie_slot(r, cookie);

	return v ? &r->ends[v - 1] : NULL;
}

int helperd_registry_add(struct helperd_registry *r, __u64 cookie, const struct skaccel_tuple *t,
			 __u32 uid, struct helperd_reg_end **end)
{
	uint32_t *slot;
	int ret;

	if (!cookie)
		return -EINVAL; /* 0 marks nothing; the kernel never hands it out */
	slot = cookie_slot(r, cookie);
	if (*slot)
		return -EEXIST;
	if (r->n >= r->max)
		return -ENOSPC;
	ret = helperd_quota_inc(&r->quota, uid);
	if (ret)
		return ret;
	r->ends[r->n] = (struct helperd_reg_end){ .cookie = cookie, .tuple = *t, .uid = uid };
	if (end)
		*end = &r->ends[r->n];
	*slot = ++r->n; /* index + 1 */
	return 0;
}

void helperd_registry_remove(struct helperd_registry *r, struct helperd_reg_end *e)
{
	uint32_t idx = (uint32_t)(e - r->ends), last = r->n - 1;
	struct helperd_reg_end *moved = &r->ends[last];

	helperd_registry_unwait(r, e);
	index_delete(r, BY_COOKIE, (uint32_t)(cookie_slot(r, e->cookie) - r->by_cookie));
	helperd_quota_dec(&r->quota, e->uid);
	if (idx != last) {
		*cookie_slot(r, moved->cookie) = idx + 1;
		if (moved->waiting)
			*tuple_slot(r, &moved->tuple) = idx + 1;
		*e = *moved;
	}
	r->n--;
}

struct helperd_reg_end *helperd_registry_waiting(const struct helperd_registry *r,
						 const struct skaccel_tuple *t)
{
	uint32_t v = *tuple_slot(r, t);

	return v ? &r->ends[v - 1] : NULL;
}

void helperd_registry_wait(struct helperd_registry *r, struct helperd_reg_end *e)
{
	uint32_t *slot = tuple_slot(r, &e->tuple);

	if (*slot)
		r->ends[*slot - 1].waiting = 0;
	*slot = (uint32_t)(e - r->ends) + 1;
	e->waiting = 1;
}

void helperd_registry_unwait(struct helperd_registry *r, struct helperd_reg_end *e)
{
	if (!e->waiting)
		return;
	index_delete(r, BY_TUPLE, (uint32_t)(tuple_slot(r, &e->tuple) - r->by_tuple));
	e->waiting = 0;
}

void helperd_registry_pair(struct helperd_registry *r, struct helperd_reg_end *a,
			   struct helperd_reg_end *b)
{
	helperd_registry_unwait(r, a);
	helperd_registry_unwait(r, b);
	a->peer = b->cookie;
	b->peer = a->cookie;
}

uint32_t helperd_registry_user_count(const struct helperd_registry *r, uid_t uid)
{
	return helperd_quota_get(&r->quota, uid);
}
