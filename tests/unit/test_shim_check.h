/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The shim's unit-test checks: print what was expected, what came, and errno. */
#ifndef TEST_SHIM_CHECK_H
#define TEST_SHIM_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK_EQ(expected, actual)                                                             \
	do {                                                                                   \
		long long e_ = (long long)(expected), a_ = (long long)(actual);                \
		if (e_ == a_) {                                                                \
			passed++;                                                              \
		} else {                                                                       \
			failed++;                                                              \
			fprintf(stderr, "%s:%d: %s: expected %lld, got %lld (errno %d: %s)\n", \
				__FILE__, __LINE__, #actual, e_, a_, errno, strerror(errno));  \
		}                                                                              \
	} while (0)

#define CHECK_STR(expected, actual)                                                           \
	do {                                                                                  \
		const char *e_ = (expected), *a_ = (actual);                                  \
		if (a_ && strcmp(e_, a_) == 0) {                                              \
			passed++;                                                             \
		} else {                                                                      \
			failed++;                                                             \
			fprintf(stderr, "%s:%d: %s: expected \"%s\", got \"%s\"\n", __FILE__, \
				__LINE__, #actual, e_, a_ ? a_ : "(null)");                   \
		}                                                                             \
	} while (0)

#endif /* TEST_SHIM_CHECK_H */
