/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Registration outcome counters: counted in memory, written to skaccel_regcnt in batches. */
#ifndef HELPERD_REGCNT_H
#define HELPERD_REGCNT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/skaccel_maps.h"

/*
 * A copy of skaccel_regcnt. Counting costs no syscall; the changed slots are written out
 * on every periodic tick (1 s), when a client disconnects and at a clean exit, so --stats
 * lags by at most one tick, and a SIGKILL loses at most the counts of the last tick.
 */
struct helperd_regcnt {
	__u64 count[SKACCEL_REGCNT_MAX];
	uint64_t dirty; /* bit k: count[k] changed since the last flush */
	int fd;		/* skaccel_regcnt, from helperd_regcnt_load() */
	bool stalled;	/* the last write failed (logged once) */
};
_Static_assert(SKACCEL_REGCNT_MAX <= 64, "one dirty bit per slot");

/* Start from what the map regcnt_fd holds (an earlier helper's counts); 0 or -errno. */
int helperd_regcnt_load(struct helperd_regcnt *rc, int regcnt_fd);

/* count[status + SKACCEL_REGCNT_BIAS] += 1, pure; 0 or -ERANGE. */
int helperd_regcnt_bump(struct helperd_regcnt *rc, int32_t status);

static inline bool helperd_regcnt_dirty(const struct helperd_regcnt *rc)
{
	return rc->dirty != 0;
}

/* Write every changed slot (one update each); 0 or the -errno of the first failure. */
int helperd_regcnt_flush(struct helperd_regcnt *rc, int regcnt_fd);

/*
 * Write the changed counters to the map loaded from, logging the first failure of a run
 * of them (they stay dirty, written at the next call). Called on every tick, whenever a
 * client disconnects (a program that registered and exited finds its counts in --stats),
 * and at exit; never per registration.
 */
void helperd_regcnt_publish(struct helperd_regcnt *rc);

#endif /* HELPERD_REGCNT_H */
