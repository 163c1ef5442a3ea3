/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Is an address another network namespace on this host? Asked of the helper's routes. */
#ifndef HELPERD_HOST_ROUTE_H
#define HELPERD_HOST_ROUTE_H

#include <linux/types.h>
#include <stdint.h>

/* A verdict is kept this long: pods come and go, routes with them. */
#define HELPERD_HOST_ROUTE_TTL_NS (2ull * 1000000000ull)
#define HELPERD_HOST_ROUTE_CACHE 64

struct helperd_host_route_entry {
	__u8 addr[16];
	uint64_t at_ns; /* 0: empty */
	int verdict;
};

struct helperd_host_routes {
	int nl; /* NETLINK_ROUTE socket in the helper's namespace, -1 until first use */
	__u32 seq;
	struct helperd_host_route_entry cache[HELPERD_HOST_ROUTE_CACHE];
};

void helperd_host_routes_init(struct helperd_host_routes *hr);
void helperd_host_routes_free(struct helperd_host_routes *hr);

/*
 * 1 if addr (16 bytes, v4-mapped for IPv4) is reached from the helper's network namespace
 * without leaving the host: a local route (an address of that namespace), or a route
 * without a gateway out of a bridge or a veth device (a container's or pod's address behind
 * the host's bridge or its own veth, as CNI plugins set them up). 0 if not, -errno if the
 * kernel could not be asked. No privilege needed.
 */
int helperd_host_route_is_local(struct helperd_host_routes *hr, const __u8 addr[16],
				uint64_t now_ns);

#endif /* HELPERD_HOST_ROUTE_H */
