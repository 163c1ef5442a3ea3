// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's small pure parts: quotas, rate limits, insert errno mapping. */
#include <linux/types.h>

#include "common/skaccel_proto.h"
#include "helperd/quota.h"
#include "helperd/ratelimit.h"
#include "helperd/registration.h"
#include "test_helperd_assert.h"

static void test_quota(void)
{
	struct helperd_quota q = {};
	uid_t uid;

	ASSERT_EQ(helperd_quota_get(&q, 1000), 0);
	helperd_quota_dec(&q, 1000); /* never below zero, even when unknown */
	ASSERT_EQ(helperd_quota_get(&q, 1000), 0);
	ASSERT_EQ(helperd_quota_inc(&q, 1000), 0);
	ASSERT_EQ(helperd_quota_inc(&q, 1000), 0);
	ASSERT_EQ(helperd_quota_inc(&q, 0), 0);
	ASSERT_EQ(helperd_quota_get(&q, 1000), 2);
	ASSERT_EQ(helperd_quota_get(&q, 0), 1);
	ASSERT_EQ(q.total, 3);
	/* Enough uids to grow the table several times; counts survive. */
	for (uid = 5000; uid < 5100; uid++)
		ASSERT_EQ(helperd_quota_inc(&q, uid), 0);
	ASSERT_EQ(helperd_quota_get(&q, 1000), 2);
	ASSERT_EQ(helperd_quota_get(&q, 5099), 1);
	ASSERT_EQ(q.total, 103);
	helperd_quota_dec(&q, 1000);
	helperd_quota_dec(&q, 1000);
	helperd_quota_dec(&q, 1000);
	ASSERT_EQ(helperd_quota_get(&q, 1000), 0);
	ASSERT_EQ(q.total, 101);
	helperd_quota_reset(&q);
	ASSERT_EQ(helperd_quota_get(&q, 0), 0);
	ASSERT_EQ(q.total, 0);
	helperd_quota_free(&q);
}

static void test_ratelimit(void)
{
	struct helperd_ratelimit rl;
	unsigned int missed = 99;
	uint64_t t = 1000;

	helperd_ratelimit_init(&rl, 100, 2);
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t, &missed));
	ASSERT_EQ(missed, 0);
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 1, &missed));
	ASSERT_FALSE(helperd_ratelimit_ok(&rl, t + 2, &missed));
	ASSERT_FALSE(helperd_ratelimit_ok(&rl, t + 99, NULL));
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 100, &missed)); /* next window */
	ASSERT_EQ(missed, 2);
	ASSERT_TRUE(helperd_ratelimit_ok(&rl, t + 101, &missed));
	ASSERT_EQ(missed, 0);
}

static void test_insert_status(void)
{
	ASSERT_EQ(helperd_insert_status(EEXIST), SKACCEL_ERR_ALREADY);
	ASSERT_EQ(helperd_insert_status(EBUSY), SKACCEL_ERR_ALREADY);
	ASSERT_EQ(helperd_insert_status(EOPNOTSUPP), SKACCEL_ERR_NOT_ESTABLISHED);
	ASSERT_EQ(helperd_insert_status(E2BIG), SKACCEL_ERR_MAP_FULL);
	ASSERT_EQ(helperd_insert_status(ENOSPC), SKACCEL_ERR_MAP_FULL);
	ASSERT_EQ(helperd_insert_status(ENOMEM), SKACCEL_ERR_MAP_FULL);
	ASSERT_EQ(helperd_insert_status(EINVAL), SKACCEL_ERR_UNSUPPORTED);
	ASSERT_EQ(helperd_insert_status(EPERM), SKACCEL_ERR_INTERNAL);
	ASSERT_TRUE(helperd_errno_is_full(E2BIG));
	ASSERT_FALSE(helperd_errno_is_full(EEXIST));
}

int main(void)
{
	test_quota();
	test_ratelimit();
	test_insert_status();
	return test_summary();
}
