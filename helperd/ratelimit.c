// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* A token-window rate limiter, and the monotonic clock it runs on. */
#include <time.h>

#include "helperd/ratelimit.h"

void helperd_ratelimit_init(struct helperd_ratelimit *rl, uint64_t interval_ns, unsigned int burst)
{
	*rl = (struct helperd_ratelimit){ .interval_ns = interval_ns, .burst = burst };
}

bool helperd_ratelimit_ok(struct helperd_ratelimit *rl, uint64_t now_ns, unsigned int *missed)
{
	if (missed)
		*missed = 0;
	if (!rl->begin_ns || now_ns - rl->begin_ns >= rl->interval_ns) {
		rl->begin_ns = now_ns ? now_ns : 1;
		rl->used = 0;
	}
	if (rl->used >= rl->burst) {
		rl->missed++;
		return false;
	}
	rl->used++;
	if (missed)
		*missed = rl->missed;
	rl->missed = 0;
	return true;
}

uint64_t helperd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
