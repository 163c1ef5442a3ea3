// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's small pure parts: quotas, rate limits, insert errno mapping. */
#include <linux/types.h>

#include "common/skaccel_proto.h"
#include "helperd/quota.h"
#include "helperd/ratelimit.h"
#include "helperd/registration.h"
#include "tests/unit/skt_assert.h"

static void test_quota(void)
{
	struct helperd_quota q = {};
	uid_t uid;

	ASSERT_EQ(helperd_quota_get(&q, 1000), 0, "helperd_quota_get");
	helperd_quota_dec(&q, 1000); /* never below zero, even when unknown */
	ASSERT_EQ(helperd_quota_get(&q, 1000), 0, "helperd_quota_get");
	ASSERT_EQ(helperd_quota_inc(&q, 1000), 0, "helperd_quota_inc");
	ASSERT_EQ(helperd_quota_inc(&q, 1000), 0, "helperd_quota_inc");
	ASSERT_EQ(helperd_quota_inc(&q, 0), 0, "helperd_quota_inc");
	ASSERT_EQ(helperd_quota_get(&q, 1000), 2, "helperd_quota_get");
	ASSERT_EQ(helperd_quota_get(&q, 0), 1, "helperd_quota_get");
	ASSERT_EQ(q.total, 3, "q.total");
	/* Enough uids to grow the table several times; counts survive. */
	for (uid = 5000; uid < 5100; uid++)
		ASSERT_EQ(helperd_quota_inc(&q, uid), 0, "helperd_quota_inc");
	ASSERT_EQ(helperd_quota_get(&q, 1000), 2, "helperd_quota_get");
	ASSERT_EQ(helperd_quota_get(&q, 5099), 1, "helperd_quota_get");
	ASSERT_EQ(q.total, 103, "q.total");
	helperd_quota_dec(&q, 1000);
	helperd_quota_dec(&q, 1000);
	helperd_quota_dec(&q, 1000);
	ASSERT_EQ(helperd_quota_get(&q, 1000), 0, "helperd_quota_get");
	ASSERT_EQ(q.total, 101, "q.total");
	helperd_quota_reset(&q);
	ASSERT_EQ(helperd_quota_get(&q, 0), 0, "helperd_quota_get");
	ASSERT_EQ(q.total, 0, "q.total");
	helperd_quota_free(&q);
}

static void test_ratelimit(void)
{
	struct helperd_ratelimit rl;
	unsigned int missed = 99;
	uint64_t t = 1000;

	helperd_ratelimit_init(&rl, 100, 2);
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t, &missed), "helperd_ratelimit_ok");
	ASSERT_EQ(missed, 0, "missed");
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 1, &missed), "helperd_ratelimit_ok");
	ASSERT_FALSE(helperd_ratelimit_ok(&rl, t + 2, &missed), "helperd_ratelimit_ok");
	ASSERT_FALSE(helperd_ratelimit_ok(&rl, t + 99, NULL), "helperd_ratelimit_ok");
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 100, &missed),
		    "helperd_ratelimit_ok"); /* next window */
	ASSERT_EQ(missed, 2, "missed");
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 101, &missed), "helperd_ratelimit_ok");
	ASSERT_EQ(missed, 0, "missed");
}

static void test_insert_status(void)
{
	ASSERT_EQ(helperd_insert_status(EEXIST), SKACCEL_ERR_ALREADY, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(EBUSY), SKACCEL_ERR_ALREADY, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(EOPNOTSUPP), SKACCEL_ERR_NOT_ESTABLISHED,
		  "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(E2BIG), SKACCEL_ERR_MAP_FULL, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(ENOSPC), SKACCEL_ERR_MAP_FULL, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(ENOMEM), SKACCEL_ERR_MAP_FULL, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(EINVAL), SKACCEL_ERR_UNSUPPORTED, "helperd_insert_status");
	ASSERT_EQ(helperd_insert_status(EPERM), SKACCEL_ERR_INTERNAL, "helperd_insert_status");
	ASSERT_TRUE(helperd_errno_is_full(E2BIG), "helperd_errno_is_full");
	ASSERT_FALSE(helperd_errno_is_full(EEXIST), "helperd_errno_is_full");
}

int main(void)
{
	test_quota();
	test_ratelimit();
	test_insert_status();
	return skt_summary();
}
