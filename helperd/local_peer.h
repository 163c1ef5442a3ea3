/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Is a connection's peer on this host? The rule, and the cache of our own addresses. */
#ifndef HELPERD_LOCAL_PEER_H
#define HELPERD_LOCAL_PEER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/skaccel_maps.h"

/* Our interface addresses (v4-mapped where IPv4), re-read at most this often. */
#define HELPERD_LOCALADDRS_TTL_NS (2ull * 1000000000ull)

struct helperd_localaddrs {
	__u8 (*addrs)[16];
	size_t n;
	size_t cap;
	uint64_t refreshed_ns; /* 0: never read */
};

/*
 * The rule, pure: the peer is local when its address is loopback, equals the local
 * address, or (only when the socket lives in the helper's own network namespace, whose
 * interfaces are the only ones we can see) is one of our interface addresses.
 */
bool helperd_is_local(const struct skaccel_tuple *t, __u64 own_netns, const __u8 (*addrs)[16],
		      size_t n);

/* Re-read the addresses with getifaddrs() if older than the TTL; 0 or -errno (cache kept). */
int helperd_localaddrs_refresh(struct helperd_localaddrs *la, uint64_t now_ns);

void helperd_localaddrs_free(struct helperd_localaddrs *la);

#endif /* HELPERD_LOCAL_PEER_H */
