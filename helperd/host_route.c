// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Locality across network namespaces (--cross-netns=on). A socket in a container's
 * namespace talks to an address the helper cannot find among its own interfaces: the
 * other end may be in another container on this host, or on another host, where the
 * programs would only cost. The host's routing table knows: a peer container on this host
 * is reached through a bridge or veth device with no gateway, a peer on another host
 * through a gateway or a tunnel device. One RTM_GETROUTE and one RTM_GETLINK, cached.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "host_route.h"
#include "tuple.h"

#define NL_BUF 8192

void helperd_host_routes_init(struct helperd_host_routes *hr)
{
	memset(hr, 0, sizeof(*hr));
	hr->nl = -1;
}

void helperd_host_routes_free(struct helperd_host_routes *hr)
{
	if (hr->nl >= 0)
		close(hr->nl);
	hr->nl = -1;
}

static int nl_open(struct helperd_host_routes *hr)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (hr->nl >= 0)
		return 0;
	hr->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (hr->nl < 0)
		return -errno;
	/* The kernel answers at once; a bound on the wait keeps the event loop alive anyway. */
	if (setsockopt(hr->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(hr->nl, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(hr->nl);
		hr->nl = -1;
		return err;
	}
	return 0;
}

/* Send one request, read its one answer into buf; the answer's length or -errno. */
static int nl_ask(struct helperd_host_routes *hr, struct nlmsghdr *req, char *buf, size_t len)
{
	struct nlmsghdr *h;
	ssize_t n;

	req->nlmsg_seq = ++hr->seq;
	if (send(hr->nl, req, req->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(hr->nl, buf, len, 0);
		if (n < 0)
			return -errno;
		h = (struct nlmsghdr *)buf;
		if (!NLMSG_OK(h, (size_t)n))
			return -EBADMSG;
		if (h->nlmsg_seq != hr->seq)
			continue; /* a late answer to an earlier, timed-out question */
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			return e->error ? e->error : -ENOENT;
		}
		return (int)n;
	}
}

static void add_attr(struct nlmsghdr *h, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* The route the helper's namespace would take to addr: its type, device, gateway. */
static int route_get(struct helperd_host_routes *hr, const __u8 addr[16], unsigned char *type,
		     int *oif, bool *gateway)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		char attrs[64];
	} req;
	char buf[NL_BUF];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtmsg *rt;
	struct rtattr *a;
	int n, alen;
	bool v4 = helperd_addr_is_v4mapped(addr);

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.r.rtm_family = v4 ? AF_INET : AF_INET6;
	req.r.rtm_dst_len = v4 ? 32 : 128;
	add_attr(&req.h, RTA_DST, v4 ? addr + 12 : addr, v4 ? 4 : 16);
	n = nl_ask(hr, &req.h, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (h->nlmsg_type != RTM_NEWROUTE)
		return -EBADMSG;
	rt = NLMSG_DATA(h);
	*type = rt->rtm_type;
	*oif = 0;
	*gateway = false;
	alen = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(oif, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_GATEWAY || a->rta_type == RTA_VIA)
			*gateway = true;
	}
	return 0;
}

/* Is device ifindex a bridge or a veth (IFLA_INFO_KIND)? 1, 0 or -errno. */
static int link_is_host_side(struct helperd_host_routes *hr, int ifindex)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req;
	char buf[NL_BUF];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtattr *a, *b;
	int n, alen, blen;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.i));
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST;
	req.i.ifi_family = AF_UNSPEC;
	req.i.ifi_index = ifindex;
	n = nl_ask(hr, &req.h, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (h->nlmsg_type != RTM_NEWLINK)
		return -EBADMSG;
	alen = (int)IFLA_PAYLOAD(h);
	for (a = IFLA_RTA(NLMSG_DATA(h)); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
		if (a->rta_type != IFLA_LINKINFO)
			continue;
		blen = (int)RTA_PAYLOAD(a);
		for (b = RTA_DATA(a); RTA_OK(b, blen); b = RTA_NEXT(b, blen)) {
			const char *kind = RTA_DATA(b);
			size_t klen = RTA_PAYLOAD(b);

			if (b->rta_type != IFLA_INFO_KIND)
				continue;
			return (klen >= 6 && memcmp(kind, "bridge", 6) == 0 &&
				(klen == 6 || kind[6] == '\0')) ||
			       (klen >= 4 && memcmp(kind, "veth", 4) == 0 &&
				(klen == 4 || kind[4] == '\0'));
		}
	}
	return 0;
}

static int ask(struct helperd_host_routes *hr, const __u8 addr[16])
{
	unsigned char type;
	bool gateway;
	int r, oif;

	r = nl_open(hr);
	if (r < 0)
		return r;
	r = route_get(hr, addr, &type, &oif, &gateway);
	if (r == -ENETUNREACH || r == -EHOSTUNREACH)
		return 0;
	if (r < 0)
		return r;
	if (type == RTN_LOCAL)
		return 1;
	if (type != RTN_UNICAST || gateway || oif <= 0)
		return 0;
	return link_is_host_side(hr, oif);
}

int helperd_host_route_is_local(struct helperd_host_routes *hr, const __u8 addr[16],
				uint64_t now_ns)
{
	unsigned int h = 0, i;
	struct helperd_host_route_entry *e;
	int r;

	for (i = 0; i < 16; i++)
		h = h * 31 + addr[i];
	e = &hr->cache[h % HELPERD_HOST_ROUTE_CACHE];
	if (e->at_ns && now_ns - e->at_ns < HELPERD_HOST_ROUTE_TTL_NS &&
	    memcmp(e->addr, addr, 16) == 0)
		return e->verdict;
	r = ask(hr, addr);
	if (r < 0)
		return r;
	memcpy(e->addr, addr, 16);
	e->at_ns = now_ns ? now_ns : 1;
	e->verdict = r;
	return r;
}
