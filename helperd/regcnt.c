// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Registration counters. The helper is the only writer of skaccel_regcnt (and single-
 * threaded), so its copy in memory is the truth and the map a published snapshot.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "helperd/log.h"
#include "helperd/regcnt.h"

int helperd_regcnt_load(struct helperd_regcnt *rc, int regcnt_fd)
{
	__u32 key;

	memset(rc, 0, sizeof(*rc));
	rc->fd = regcnt_fd;
	for (key = 0; key < SKACCEL_REGCNT_MAX; key++)
		if (bpf_map_lookup_elem(regcnt_fd, &key, &rc->count[key]) < 0)
			return -errno;
	return 0;
}

int helperd_regcnt_bump(struct helperd_regcnt *rc, int32_t status)
{
	int64_t slot = (int64_t)status + SKACCEL_REGCNT_BIAS;

	if (slot < 0 || slot >= SKACCEL_REGCNT_MAX)
		return -ERANGE;
	rc->count[slot]++;
	rc->dirty |= 1ull << slot;
	return 0;
}

int helperd_regcnt_flush(struct helperd_regcnt *rc, int regcnt_fd)
{
	__u32 key;
	int r = 0;

	for (key = 0; key < SKACCEL_REGCNT_MAX; key++) {
		if (!(rc->dirty & (1ull << key)))
			continue;
		if (bpf_map_update_elem(regcnt_fd, &key, &rc->count[key], BPF_ANY) < 0) {
			if (!r)
				r = -errno;
			continue; /* stays dirty: written again next time */
		}
		rc->dirty &= ~(1ull << key);
	}
	return r;
}

void helperd_regcnt_publish(struct helperd_regcnt *rc)
{
	int r;

	if (!helperd_regcnt_dirty(rc))
		return;
	r = helperd_regcnt_flush(rc, rc->fd);
	if (r < 0 && !rc->stalled)
		log_warn("Failed to write registration counters to skaccel_regcnt, will retry: %s",
			 strerror(-r));
	rc->stalled = r < 0;
}
