/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The assertions of every unit test, in the kernel selftests' order: ASSERT_EQ(actual,
 * expected, name). Each counts a pass or prints one line on failure: where (file:line),
 * what (name and the expression), what was expected, what came, and errno as it was when the check
 * began. One meaning per name:
 *
 *   ASSERT_EQ/NEQ/GE/LE/GT/LT(actual, expected, name)   integers, compared as long long
 *   ASSERT_OK(err, name)          err is 0 (a 0/-errno return); else prints -errno's text
 *   ASSERT_ERR(err, name)         err is negative
 *   ASSERT_TRUE/FALSE(cond, name)
 *   ASSERT_STREQ(actual, expected, name)   both non-NULL and equal
 *   ASSERT_MEMEQ(actual, expected, len, name)
 *
 * name is a string; skt_fmt() makes one with numbers in it. A test's main() ends with
 * `return skt_summary();`: exit 0 if all passed, 1 if not; a test that cannot run here
 * returns SKT_SKIP (77), as tests/run-all.sh expects.
 */
#ifndef SKT_ASSERT_H
#define SKT_ASSERT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SKT_SKIP 77

static int skt_passed, skt_failed;

/* name with printf arguments, in one of a few rotating buffers (enough for one check). */
static inline __attribute__((format(printf, 1, 2))) const char *skt_fmt(const char *fmt, ...)
{
	static char buf[4][256];
	static unsigned int next;
	char *b = buf[next++ % 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(buf[0]), fmt, ap);
	va_end(ap);
	return b;
}

/* Count ok; else print "FAIL file:line: name: <what> (errno N: text)". */
#define SKT_CHECK_(ok, name, saved_errno, fmt, ...)                                           \
	do {                                                                                  \
		if (ok) {                                                                     \
			skt_passed++;                                                         \
		} else {                                                                      \
			skt_failed++;                                                         \
			fprintf(stderr, "FAIL %s:%d: %s: " fmt " (errno %d: %s)\n", __FILE__, \
				__LINE__, (name), __VA_ARGS__, (saved_errno),                 \
				strerror(saved_errno));                                       \
		}                                                                             \
	} while (0)

#define SKT_CMP_(actual, op, expected, name, what)                                              \
	do {                                                                                    \
		int skt_errno_ = errno;                                                         \
		long long skt_a_ = (long long)(actual), skt_e_ = (long long)(expected);         \
		SKT_CHECK_(skt_a_ op skt_e_, name, skt_errno_, "%s: expected %s%lld, got %lld", \
			   #actual, what, skt_e_, skt_a_);                                      \
	} while (0)

#define ASSERT_EQ(actual, expected, name) SKT_CMP_(actual, ==, expected, name, "")
#define ASSERT_NEQ(actual, expected, name) SKT_CMP_(actual, !=, expected, name, "anything but ")
#define ASSERT_GE(actual, expected, name) SKT_CMP_(actual, >=, expected, name, ">= ")
#define ASSERT_LE(actual, expected, name) SKT_CMP_(actual, <=, expected, name, "<= ")
#define ASSERT_GT(actual, expected, name) SKT_CMP_(actual, >, expected, name, "> ")
#define ASSERT_LT(actual, expected, name) SKT_CMP_(actual, <, expected, name, "< ")

#define ASSERT_OK(err, name)                                                                     \
	do {                                                                                     \
		int skt_errno_ = errno;                                                          \
		long long skt_r_ = (long long)(err);                                             \
		SKT_CHECK_(skt_r_ == 0, name, skt_errno_, "%s: expected 0, got %lld (%s)", #err, \
			   skt_r_, skt_r_ < 0 ? strerror((int)-skt_r_) : "not an -errno");       \
	} while (0)

#define ASSERT_ERR(err, name)                                                                      \
	do {                                                                                       \
		int skt_errno_ = errno;                                                            \
		long long skt_r_ = (long long)(err);                                               \
		SKT_CHECK_(skt_r_ < 0, name, skt_errno_, "%s: expected an -errno, got %lld", #err, \
			   skt_r_);                                                                \
	} while (0)

#define ASSERT_TRUE(cond, name)                                                   \
	do {                                                                      \
		int skt_errno_ = errno;                                           \
		SKT_CHECK_((cond), name, skt_errno_, "expected true: %s", #cond); \
	} while (0)

#define ASSERT_FALSE(cond, name)                                                    \
	do {                                                                        \
		int skt_errno_ = errno;                                             \
		SKT_CHECK_(!(cond), name, skt_errno_, "expected false: %s", #cond); \
	} while (0)

#define ASSERT_STREQ(actual, expected, name)                                                       \
	do {                                                                                       \
		int skt_errno_ = errno;                                                            \
		const char *skt_a_ = (actual), *skt_e_ = (expected);                               \
		SKT_CHECK_(skt_a_ &&skt_e_ &&strcmp(skt_a_, skt_e_) == 0, name, skt_errno_,        \
			   "%s: expected \"%s\", got \"%s\"", #actual, skt_e_ ? skt_e_ : "(null)", \
			   skt_a_ ? skt_a_ : "(null)");                                            \
	} while (0)

#define ASSERT_MEMEQ(actual, expected, len, name)                                      \
	do {                                                                           \
		int skt_errno_ = errno;                                                \
		SKT_CHECK_(memcmp((actual), (expected), (len)) == 0, name, skt_errno_, \
			   "%s: expected the same %zu bytes", #actual, (size_t)(len)); \
	} while (0)

/* Print "N passed, N failed" and turn it into the exit status. */
static inline int skt_summary(void)
{
	printf("%d passed, %d failed\n", skt_passed, skt_failed);
	return skt_failed ? 1 : 0;
}

#endif /* SKT_ASSERT_H */
