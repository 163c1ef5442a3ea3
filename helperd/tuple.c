// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Connection tuples. The pairing key must come out identical for both ends of one
 * connection whatever their address families: an AF_INET client's peer is the
 * AF_INET6 dual-stack server's ::ffff:a.b.c.d, so IPv4 is always stored v4-mapped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "helperd/tuple.h"

static const __u8 v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int helperd_addr_from_sockaddr(__u8 addr[16], const struct sockaddr *sa, socklen_t len)
{
	if (len < (socklen_t)sizeof(sa->sa_family))
		return -EINVAL;
	switch (sa->sa_family) {
	case AF_INET: {
		struct sockaddr_in sin;

		if (len < (socklen_t)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		memcpy(addr, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(addr + 12, &sin.sin_addr, 4);
		return 0;
	}
	case AF_INET6: {
		struct sockaddr_in6 sin6;

		if (len < (socklen_t)sizeof(sin6))
			return -EINVAL;
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(addr, &sin6.sin6_addr, 16);
		return 0;
	}
	}
	return -EAFNOSUPPORT;
}

/* Host-order port of an address helperd_addr_from_sockaddr() accepted. */
static __u16 sockaddr_port(const struct sockaddr *sa)
{
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;

	if (sa->sa_family == AF_INET) {
		memcpy(&sin, sa, sizeof(sin));
		return ntohs(sin.sin_port);
	}
	memcpy(&sin6, sa, sizeof(sin6));
	return ntohs(sin6.sin6_port);
}

int helperd_tuple_build(struct skaccel_tuple *t, __u64 netns, const struct sockaddr *local,
			socklen_t local_len, const struct sockaddr *remote, socklen_t remote_len)
{
	int r;

	memset(t, 0, sizeof(*t)); /* a hash key: padding must be zero */
	r = helperd_addr_from_sockaddr(t->local_addr, local, local_len);
	if (r)
		return r;
	r = helperd_addr_from_sockaddr(t->remote_addr, remote, remote_len);
	if (r)
		return r;
	/* One socket's two ends always share its family; anything else is not a socket's. */
	if (local->sa_family != remote->sa_family)
		return -EAFNOSUPPORT;
	t->netns_cookie = netns;
	t->local_port = sockaddr_port(local);
	t->remote_port = sockaddr_port(remote);
	return 0;
}

void helperd_tuple_mirror(struct skaccel_tuple *mirror, const struct skaccel_tuple *t)
{
	memset(mirror, 0, sizeof(*mirror));
	mirror->netns_cookie = t->netns_cookie;
	memcpy(mirror->local_addr, t->remote_addr, 16);
	memcpy(mirror->remote_addr, t->local_addr, 16);
	mirror->local_port = t->remote_port;
	mirror->remote_port = t->local_port;
}

bool helperd_addr_is_v4mapped(const __u8 addr[16])
{
	return memcmp(addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}

bool helperd_addr_is_loopback(const __u8 addr[16])
{
	static const __u8 v6_loopback[16] = { [15] = 1 };

	if (helperd_addr_is_v4mapped(addr))
		return addr[12] == 127;
	return memcmp(addr, v6_loopback, 16) == 0;
}

void helperd_addr_format(char *buf, size_t len, const __u8 addr[16], __u16 port)
{
	char text[INET6_ADDRSTRLEN];

	if (helperd_addr_is_v4mapped(addr)) {
		inet_ntop(AF_INET, addr + 12, text, sizeof(text));
		snprintf(buf, len, "%s:%u", text, port);
	} else {
		inet_ntop(AF_INET6, addr, text, sizeof(text));
		snprintf(buf, len, "[%s]:%u", text, port);
	}
}
