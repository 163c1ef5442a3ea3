// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the one number parser (common/number.h) and the escaping (helperd/text.h). */
#include <stdlib.h>

#include "common/number.h"
#include "helperd/text.h"
#include "tests/unit/skt_assert.h"

static void test_u64(void)
{
	uint64_t v = 7;

	ASSERT_OK(skaccel_parse_u64("0", 0, 10, &v), "skaccel_parse_u64");
	ASSERT_EQ(v, 0, "v");
	ASSERT_OK(skaccel_parse_u64("010", 0, 10, &v),
		  "skaccel_parse_u64"); /* leading zeros: decimal still */
	ASSERT_EQ(v, 10, "v");
	ASSERT_OK(skaccel_parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
		  "skaccel_parse_u64");
	ASSERT_TRUE(v == UINT64_MAX, "v == UINT64_MAX");
	ASSERT_EQ(skaccel_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE,
		  "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE,
		  "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("4294967295", 0, UINT32_MAX - 1, &v), -ERANGE,
		  "skaccel_parse_u64");
	ASSERT_OK(skaccel_parse_u64("4294967294", 0, UINT32_MAX - 1, &v), "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("0", 1, 10, &v), -ERANGE, "skaccel_parse_u64");
	/* Nothing strtoull() would let through around the digits. */
	ASSERT_EQ(skaccel_parse_u64(NULL, 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("", 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64(" 1", 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("1 ", 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("+1", 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("-1", 0, 10, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("0x10", 0, 100, &v), -EINVAL, "skaccel_parse_u64");
	ASSERT_EQ(skaccel_parse_u64("99999999999999999999999x", 0, 10, &v), -EINVAL,
		  "skaccel_parse_u64");
	ASSERT_EQ(v, 4294967294u, "v"); /* untouched by the failures */
}

static void test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ASSERT_TRUE(f != NULL, "f != NULL");
	if (!f)
		return;
	helperd_json_string(f, "a\"b\\c\nd");
	fclose(f);
	ASSERT_STREQ(buf, "\"a\\\"b\\\\c\\u000ad\"", "buf");
	free(buf);
}

int main(void)
{
	test_u64();
	test_json();
	return skt_summary();
}
