/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* A token-window rate limiter for log lines a client could otherwise flood. */
#ifndef HELPERD_RATELIMIT_H
#define HELPERD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct helperd_ratelimit {
	uint64_t interval_ns; /* window length */
	unsigned int burst;   /* events allowed per window */
	uint64_t begin_ns;    /* start of the current window */
	unsigned int used;    /* events allowed in the current window */
	unsigned int missed;  /* events refused since the last allowed one */
};

void helperd_ratelimit_init(struct helperd_ratelimit *rl, uint64_t interval_ns, unsigned int burst);

/*
 * May an event happen at now_ns? When the answer is yes after some were refused,
 * *missed (if non-NULL) gets how many, so the caller can say "N messages suppressed".
 */
bool helperd_ratelimit_ok(struct helperd_ratelimit *rl, uint64_t now_ns, unsigned int *missed);

/* CLOCK_MONOTONIC in nanoseconds, the clock bpf_ktime_get_ns() uses too. */
uint64_t helperd_now_ns(void);

#endif /* HELPERD_RATELIMIT_H */
