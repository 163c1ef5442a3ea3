// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the helper's in-memory registry (pairing index, per-uid counts) and the
 * in-memory registration counters. Pure: no maps, no privileges.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "common/skaccel_proto.h"
#include "helperd/regcnt.h"
#include "helperd/registry.h"
#include "helperd/tuple.h"
#include "tests/unit/skt_assert.h"

static struct skaccel_tuple tuple(__u16 lport, __u16 rport)
{
	struct skaccel_tuple t;

	memset(&t, 0, sizeof(t));
	t.netns_cookie = 4096;
	t.local_addr[10] = t.local_addr[11] = t.remote_addr[10] = t.remote_addr[11] = 0xff;
	t.local_addr[12] = t.remote_addr[12] = 127;
	t.local_addr[15] = t.remote_addr[15] = 1;
	t.local_port = lport;
	t.remote_port = rport;
	return t;
}

static void test_add_find_remove(void)
{
	struct helperd_registry r;
	struct helperd_reg_end *e = NULL;
	struct skaccel_tuple t = tuple(1000, 80);
	__u64 c;

	ASSERT_EQ(helperd_registry_init(&r, 4), 0, "helperd_registry_init");
	ASSERT_TRUE(helperd_registry_find(&r, 7) == NULL, "helperd_registry_find");
	ASSERT_EQ(helperd_registry_add(&r, 0, &t, 1000, &e), -EINVAL, "helperd_registry_add");
	ASSERT_EQ(helperd_registry_add(&r, 7, &t, 1000, &e), 0, "helperd_registry_add");
	ASSERT_TRUE(e && e->cookie == 7 && e->peer == 0 && !e->waiting && e->uid == 1000, "e");
	ASSERT_TRUE(helperd_registry_find(&r, 7) == e, "helperd_registry_find");
	ASSERT_EQ(helperd_registry_add(&r, 7, &t, 1000, NULL), -EEXIST, "helperd_registry_add");
	for (c = 8; c < 11; c++)
		ASSERT_EQ(helperd_registry_add(&r, c, &t, c == 10 ? 0 : 1000, NULL), 0,
			  "helperd_registry_add");
	ASSERT_EQ(helperd_registry_add(&r, 11, &t, 1000, NULL), -ENOSPC,
		  "helperd_registry_add"); /* max 4 */
	ASSERT_EQ(r.n, 4, "r.n");
	ASSERT_EQ(helperd_registry_user_count(&r, 1000), 3, "helperd_registry_user_count");
	ASSERT_EQ(helperd_registry_user_count(&r, 0), 1, "helperd_registry_user_count");
	ASSERT_EQ(helperd_registry_user_count(&r, 1), 0, "helperd_registry_user_count");

	/* Removing the first moves the last into its place; both still found. */
	helperd_registry_remove(&r, helperd_registry_find(&r, 7));
	ASSERT_TRUE(helperd_registry_find(&r, 7) == NULL, "helperd_registry_find");
	for (c = 8; c < 11; c++)
		ASSERT_TRUE(helperd_registry_find(&r, c) &&
				helperd_registry_find(&r, c)->cookie == c,
			    "helperd_registry_find");
	ASSERT_EQ(r.n, 3, "r.n");
	ASSERT_EQ(helperd_registry_user_count(&r, 1000), 2, "helperd_registry_user_count");
	ASSERT_EQ(helperd_registry_add(&r, 11, &t, 1000, NULL), 0,
		  "helperd_registry_add"); /* room again */
	helperd_registry_free(&r);
}

static void test_waiting_and_pairing(void)
{
	struct skaccel_tuple client = tuple(40000, 80), server, other = tuple(40001, 80);
	struct helperd_reg_end *a, *b, *old;
	struct helperd_registry r;

	helperd_tuple_mirror(&server, &client);
	ASSERT_EQ(helperd_registry_init(&r, 16), 0, "helperd_registry_init");

	ASSERT_EQ(helperd_registry_add(&r, 100, &client, 0, &a), 0, "helperd_registry_add");
	ASSERT_TRUE(helperd_registry_waiting(&r, &client) == NULL,
		    "helperd_registry_waiting"); /* added, not waiting */
	helperd_registry_wait(&r, a);
	ASSERT_TRUE(helperd_registry_waiting(&r, &client) == a, "helperd_registry_waiting");
	ASSERT_TRUE(helperd_registry_waiting(&r, &server) == NULL, "helperd_registry_waiting");
	ASSERT_TRUE(helperd_registry_waiting(&r, &other) == NULL, "helperd_registry_waiting");

	/* The server end finds the client end under its mirror tuple. */
	ASSERT_EQ(helperd_registry_add(&r, 101, &server, 0, &b), 0, "helperd_registry_add");
	a = helperd_registry_find(&r, 100);
	ASSERT_TRUE(helperd_registry_waiting(&r, &client) == a, "helperd_registry_waiting");
	helperd_registry_pair(&r, b, a);
	ASSERT_EQ(a->peer, 101, "a->peer");
	ASSERT_EQ(b->peer, 100, "b->peer");
	ASSERT_FALSE(a->waiting, "a->waiting");
	ASSERT_TRUE(helperd_registry_waiting(&r, &client) == NULL, "helperd_registry_waiting");

	/* A closed end with the same tuple is replaced by the new one, and stays registered. */
	ASSERT_EQ(helperd_registry_add(&r, 200, &other, 0, &old), 0, "helperd_registry_add");
	helperd_registry_wait(&r, old);
	ASSERT_EQ(helperd_registry_add(&r, 201, &other, 0, &b), 0, "helperd_registry_add");
	helperd_registry_wait(&r, b);
	old = helperd_registry_find(&r, 200);
	ASSERT_TRUE(helperd_registry_waiting(&r, &other) == b, "helperd_registry_waiting");
	ASSERT_FALSE(old->waiting, "old->waiting");
	/* Removing the replaced one must not take the new one out of the index. */
	helperd_registry_remove(&r, old);
	b = helperd_registry_find(&r, 201);
	ASSERT_TRUE(b && helperd_registry_waiting(&r, &other) == b,
		    "b && helperd_registry_waiting(&r, &other) == b");
	/* Removing a waiting end takes it out of the index; unwait of a non-waiter is nothing. */
	helperd_registry_remove(&r, b);
	ASSERT_TRUE(helperd_registry_waiting(&r, &other) == NULL, "helperd_registry_waiting");
	a = helperd_registry_find(&r, 100);
	helperd_registry_unwait(&r, a);
	ASSERT_EQ(r.n, 2, "r.n");
	helperd_registry_free(&r);
}

/*
 * Random operations against a plain model, with the registry nearly full and tuples
 * drawn from a small set (long probe runs, many removals in the middle of them).
 */
#define MODEL_MAX 48
#define MODEL_TUPLES 12

struct model_end {
	__u64 cookie; /* 0: none */
	int tuple;
	__u32 uid;
	bool waiting;
};

static void check_model(const struct helperd_registry *r, const struct model_end *m, int *bad)
{
	uint32_t n = 0, per_uid[3] = {};
	int i, k;

	for (i = 0; i < MODEL_MAX; i++) {
		const struct helperd_reg_end *e;

		if (!m[i].cookie)
			continue;
		n++;
		per_uid[m[i].uid]++;
		e = helperd_registry_find(r, m[i].cookie);
		if (!e || e->cookie != m[i].cookie || e->uid != m[i].uid ||
		    (bool)e->waiting != m[i].waiting)
			(*bad)++;
	}
	for (k = 0; k < MODEL_TUPLES; k++) {
		struct skaccel_tuple t = tuple((__u16)(1000 + k), 80);
		const struct helperd_reg_end *e = helperd_registry_waiting(r, &t);
		__u64 want = 0;

		for (i = 0; i < MODEL_MAX; i++)
			if (m[i].cookie && m[i].waiting && m[i].tuple == k)
				want = m[i].cookie;
		if ((e ? e->cookie : 0) != want)
			(*bad)++;
	}
	if (r->n != n)
		(*bad)++;
	for (k = 0; k < 3; k++)
		if (helperd_registry_user_count(r, (uid_t)k) != per_uid[k])
			(*bad)++;
}

static void test_random_against_model(void)
{
	struct model_end m[MODEL_MAX] = {};
	struct helperd_registry r;
	__u64 next_cookie = 1;
	int step, i, j, bad = 0;

	srand(12345);
	ASSERT_EQ(helperd_registry_init(&r, MODEL_MAX), 0, "helperd_registry_init");
	for (step = 0; step < 200000 && !bad; step++) {
		i = rand() % MODEL_MAX;
		if (!m[i].cookie) { /* add, and usually wait like a new end */
			struct skaccel_tuple t;
			struct helperd_reg_end *e;

			m[i] = (struct model_end){ .cookie = next_cookie++,
						   .tuple = rand() % MODEL_TUPLES,
						   .uid = (__u32)(rand() % 3) };
			t = tuple((__u16)(1000 + m[i].tuple), 80);
			if (helperd_registry_add(&r, m[i].cookie, &t, m[i].uid, &e) != 0) {
				bad++;
				break;
			}
			if (rand() % 4) {
				for (j = 0; j < MODEL_MAX; j++)
					if (m[j].cookie && m[j].waiting && m[j].tuple == m[i].tuple)
						m[j].waiting = false;
				m[i].waiting = true;
				helperd_registry_wait(&r, e);
			}
		} else if (rand() % 3) {
			helperd_registry_remove(&r, helperd_registry_find(&r, m[i].cookie));
			m[i].cookie = 0;
			m[i].waiting = false;
		} else {
			helperd_registry_unwait(&r, helperd_registry_find(&r, m[i].cookie));
			m[i].waiting = false;
		}
		check_model(&r, m, &bad);
	}
	ASSERT_TRUE(bad == 0, skt_fmt("registry and model disagree at step %d", step));
	helperd_registry_free(&r);
}

static void test_full_size(void)
{
	struct skaccel_tuple t = tuple(1, 2);
	struct helperd_registry r;
	__u64 c;
	int bad = 0;

	/* The helper's real size, filled with sequential cookies as the kernel hands them out. */
	ASSERT_EQ(helperd_registry_init(&r, SKACCEL_MAX_SOCKS), 0, "helperd_registry_init");
	for (c = 1; c <= SKACCEL_MAX_SOCKS; c++) {
		t.local_port = (__u16)c;
		bad += helperd_registry_add(&r, c << 1, &t, 0, NULL) != 0;
	}
	ASSERT_EQ(bad, 0, "bad");
	ASSERT_EQ(helperd_registry_add(&r, 1, &t, 0, NULL), -ENOSPC, "helperd_registry_add");
	for (c = 1; c <= SKACCEL_MAX_SOCKS; c += 2)
		helperd_registry_remove(&r, helperd_registry_find(&r, c << 1));
	for (c = 1; c <= SKACCEL_MAX_SOCKS; c++)
		bad += (helperd_registry_find(&r, c << 1) != NULL) != (c % 2 == 0);
	ASSERT_EQ(bad, 0, "bad");
	ASSERT_EQ(r.n, SKACCEL_MAX_SOCKS / 2, "r.n");
	ASSERT_EQ(helperd_registry_user_count(&r, 0), SKACCEL_MAX_SOCKS / 2,
		  "helperd_registry_user_count");
	helperd_registry_free(&r);
}

static void test_regcnt(void)
{
	struct helperd_regcnt rc;

	memset(&rc, 0, sizeof(rc));
	ASSERT_FALSE(helperd_regcnt_dirty(&rc), "helperd_regcnt_dirty");
	ASSERT_EQ(helperd_regcnt_bump(&rc, SKACCEL_OK_ACCELERATED), 0, "helperd_regcnt_bump");
	ASSERT_EQ(helperd_regcnt_bump(&rc, SKACCEL_OK_ACCELERATED), 0, "helperd_regcnt_bump");
	ASSERT_EQ(helperd_regcnt_bump(&rc, SKACCEL_ERR_INTERNAL), 0, "helperd_regcnt_bump");
	ASSERT_EQ(rc.count[SKACCEL_REGCNT_BIAS], 2, "rc.count[SKACCEL_REGCNT_BIAS]");
	ASSERT_EQ(rc.count[SKACCEL_REGCNT_BIAS + SKACCEL_ERR_INTERNAL], 1,
		  "rc.count[SKACCEL_REGCNT_BIAS + SKACCEL_ERR_INTERNAL]");
	ASSERT_EQ(rc.dirty,
		  (1ull << SKACCEL_REGCNT_BIAS) |
		      (1ull << (SKACCEL_REGCNT_BIAS + SKACCEL_ERR_INTERNAL)),
		  "rc.dirty");
	ASSERT_TRUE(helperd_regcnt_dirty(&rc), "helperd_regcnt_dirty");
	ASSERT_EQ(helperd_regcnt_bump(&rc, -SKACCEL_REGCNT_BIAS - 1), -ERANGE,
		  "helperd_regcnt_bump");
	ASSERT_EQ(helperd_regcnt_bump(&rc, SKACCEL_REGCNT_MAX - SKACCEL_REGCNT_BIAS), -ERANGE,
		  "helperd_regcnt_bump");
	ASSERT_EQ(helperd_regcnt_bump(&rc, SKACCEL_REGCNT_MAX - SKACCEL_REGCNT_BIAS - 1), 0,
		  "helperd_regcnt_bump");
	ASSERT_EQ(rc.count[SKACCEL_REGCNT_MAX - 1], 1, "rc.count[SKACCEL_REGCNT_MAX - 1]");
}

int main(void)
{
	test_add_find_remove();
	test_waiting_and_pairing();
	test_random_against_model();
	test_full_size();
	test_regcnt();
	return skt_summary();
}
