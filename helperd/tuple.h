/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Building, mirroring and printing the connection tuples that pair the two ends. */
#ifndef HELPERD_TUPLE_H
#define HELPERD_TUPLE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/skaccel_maps.h"

/* "[v6]:port -> [v6]:port" worst case, plus room. */
#define HELPERD_ADDR_STRLEN 56

/*
 * Fill *t from what getsockname()/getpeername() reported, in network namespace netns.
 * IPv4 (AF_INET) becomes v4-mapped IPv6 so both families of one connection agree; ports
 * become host order; pad is zeroed. Returns 0, -EAFNOSUPPORT for another family or two
 * families that cannot be one connection's, -EINVAL for a short address.
 */
int helperd_tuple_build(struct skaccel_tuple *t, __u64 netns, const struct sockaddr *local,
			socklen_t local_len, const struct sockaddr *remote, socklen_t remote_len);

/* The tuple the other end of the same connection has: local and remote swapped. */
void helperd_tuple_mirror(struct skaccel_tuple *mirror, const struct skaccel_tuple *t);

/* A 16-byte address from sockaddr (v4 mapped); 0 or -EAFNOSUPPORT/-EINVAL. */
int helperd_addr_from_sockaddr(__u8 addr[16], const struct sockaddr *sa, socklen_t len);

bool helperd_addr_is_v4mapped(const __u8 addr[16]);

/* 127.0.0.0/8 (plain or v4-mapped) or ::1. */
bool helperd_addr_is_loopback(const __u8 addr[16]);

/* "1.2.3.4:80" for v4-mapped addresses, "[::1]:80" otherwise. */
void helperd_addr_format(char *buf, size_t len, const __u8 addr[16], __u16 port);

#endif /* HELPERD_TUPLE_H */
