// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Locality: a connection to another host is never accelerated (it would only pay the
 * programs' overhead). The shim makes the same check; this one is the authority because
 * it runs on addresses the kernel reported.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "helperd/local_peer.h"
#include "helperd/tuple.h"

bool helperd_is_local(const struct skaccel_tuple *t, __u64 own_netns, const __u8 (*addrs)[16],
		      size_t n)
{
	size_t i;

	if (helperd_addr_is_loopback(t->remote_addr))
		return true;
	if (memcmp(t->remote_addr, t->local_addr, 16) == 0)
		return true;
	if (t->netns_cookie != own_netns)
		return false;
	for (i = 0; i < n; i++)
		if (memcmp(addrs[i], t->remote_addr, 16) == 0)
			return true;
	return false;
}

int helperd_localaddrs_refresh(struct helperd_localaddrs *la, uint64_t now_ns)
{
	struct ifaddrs *list, *ifa;
	__u8(*addrs)[16] = NULL;
	size_t n = 0, cap = 0;

	if (la->refreshed_ns && now_ns - la->refreshed_ns < HELPERD_LOCALADDRS_TTL_NS)
		return 0;
	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		socklen_t len;

		if (!ifa->ifa_addr)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (ifa->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(addrs, ncap * sizeof(*addrs));

			if (!p) {
				free(addrs);
				freeifaddrs(list);
				return -ENOMEM;
			}
			addrs = p;
			cap = ncap;
		}
		if (helperd_addr_from_sockaddr(addrs[n], ifa->ifa_addr, len) == 0)
			n++;
	}
	freeifaddrs(list);
	free(la->addrs);
	la->addrs = addrs;
	la->n = n;
	la->cap = cap;
	la->refreshed_ns = now_ns ? now_ns : 1;
	return 0;
}

void helperd_localaddrs_free(struct helperd_localaddrs *la)
{
	free(la->addrs);
	*la = (struct helperd_localaddrs){};
}
