/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's unit-test assertions: print what was expected, what came, and errno. */
#ifndef TEST_HELPERD_ASSERT_H
#define TEST_HELPERD_ASSERT_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond, fmt, ...)                                                                 \
	do {                                                                                  \
		int saved_errno_ = errno;                                                     \
		if (cond) {                                                                   \
			test_passed++;                                                        \
		} else {                                                                      \
			test_failed++;                                                        \
			fprintf(stderr, "FAIL %s:%d: %s: " fmt " (errno %d: %s)\n", __FILE__, \
				__LINE__, #cond, __VA_ARGS__, saved_errno_,                   \
				strerror(saved_errno_));                                      \
		}                                                                             \
	} while (0)

/* Integers of any width, compared as long long. */
#define ASSERT_EQ(actual, expected)                                             \
	do {                                                                    \
		long long a_ = (long long)(actual), e_ = (long long)(expected); \
		CHECK(a_ == e_, "expected %lld, got %lld", e_, a_);             \
	} while (0)

#define ASSERT_NE(actual, unexpected)                                             \
	do {                                                                      \
		long long a_ = (long long)(actual), u_ = (long long)(unexpected); \
		CHECK(a_ != u_, "expected anything but %lld", u_);                \
	} while (0)

#define ASSERT_TRUE(cond) CHECK((cond), "%s", "expected true")
#define ASSERT_FALSE(cond) CHECK(!(cond), "%s", "expected false")

#define ASSERT_STREQ(actual, expected)                                              \
	do {                                                                        \
		const char *a_ = (actual), *e_ = (expected);                        \
		CHECK(a_ &&e_ &&strcmp(a_, e_) == 0, "expected \"%s\", got \"%s\"", \
		      e_ ? e_ : "(null)", a_ ? a_ : "(null)");                      \
	} while (0)

#define ASSERT_MEMEQ(actual, expected, len) \
	CHECK(memcmp((actual), (expected), (len)) == 0, "%zu bytes differ", (size_t)(len))

/* Print the summary line and turn it into the exit status. */
static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif /* TEST_HELPERD_ASSERT_H */
