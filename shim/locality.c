// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Candidate classification: is this socket a TCP connection that may stay on this host? */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "shim/locality.h"
#include "shim/real.h"

/* The IPv4 address inside an AF_INET or v4-mapped AF_INET6 address, in network order. */
static bool addr_v4(const struct sockaddr *sa, struct in_addr *out)
{
	if (sa->sa_family == AF_INET) {
		*out = ((const struct sockaddr_in *)sa)->sin_addr;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			memcpy(out, &a6->s6_addr[12], sizeof(*out));
			return true;
		}
	}
	return false;
}

bool shim_addr_is_loopback(const struct sockaddr *sa)
{
	struct in_addr a4;

	if (addr_v4(sa, &a4))
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return false;
}

bool shim_addr_same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	struct in_addr a4, b4;
	bool a_is_v4 = addr_v4(a, &a4), b_is_v4 = addr_v4(b, &b4);

	if (a_is_v4 || b_is_v4)
		return a_is_v4 && b_is_v4 && a4.s_addr == b4.s_addr;
	if (a->sa_family != AF_INET6 || b->sa_family != AF_INET6)
		return false;
	if (!IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr))
		return false;
	/* fe80::1%eth0 and fe80::1%eth1 are two different hosts' addresses. */
	if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) && a6->sin6_scope_id != b6->sin6_scope_id)
		return false;
	return true;
}

static bool addr_is_unspecified(const struct sockaddr *sa)
{
	struct in_addr a4;

	if (addr_v4(sa, &a4))
		return a4.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

enum shim_sock_kind shim_peer_kind(const struct sockaddr *self, const struct sockaddr *peer)
{
	if ((self->sa_family != AF_INET && self->sa_family != AF_INET6) ||
	    (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
		return SHIM_SOCK_OTHER;
	/* Linux sends a connect() to 0.0.0.0 or :: to the loopback device. */
	if (shim_addr_is_loopback(peer) || addr_is_unspecified(peer))
		return SHIM_SOCK_LOCAL;
	/* An unbound source (connect() still resolving) proves nothing. */
	if (!addr_is_unspecified(self) && shim_addr_same_ip(self, peer))
		return SHIM_SOCK_LOCAL;
	return SHIM_SOCK_REMOTE;
}

static bool getsockopt_int(int fd, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return real.getsockopt(fd, SOL_SOCKET, name, val, &len) == 0 && len == sizeof(*val);
}

static enum shim_sock_kind classify(int fd, struct shim_endpoints *ep,
				    const struct sockaddr *peer_hint, socklen_t hint_len,
				    bool tcp_level)
{
	socklen_t len = sizeof(ep->self);
	int type, proto;

	memset(ep, 0, sizeof(*ep));
	if (!real.getsockopt && (shim_real_init(), !real.getsockopt))
		return SHIM_SOCK_OTHER;
	/* getsockname() first: it alone turns away AF_UNIX, the most common other socket. */
	if (getsockname(fd, (struct sockaddr *)&ep->self, &len) < 0 ||
	    (ep->self.ss_family != AF_INET && ep->self.ss_family != AF_INET6))
		return SHIM_SOCK_OTHER;
	/*
	 * SOCK_RAW sockets may have protocol IPPROTO_TCP too, but they have no TCP level: a
	 * socket that answered TCP_INFO is SOCK_STREAM (v4 raw gives EOPNOTSUPP, v6
	 * ENOPROTOOPT), so then only the protocol is asked (MPTCP answers TCP_INFO too).
	 */
	if ((!tcp_level && (!getsockopt_int(fd, SO_TYPE, &type) || type != SOCK_STREAM)) ||
	    !getsockopt_int(fd, SO_PROTOCOL, &proto) || proto != IPPROTO_TCP)
		return SHIM_SOCK_OTHER;
	len = sizeof(ep->peer);
	if (getpeername(fd, (struct sockaddr *)&ep->peer, &len) < 0) {
		/* SYN_SENT has no peer name yet; a connect() in progress knows where it goes. */
		if (errno != ENOTCONN || !peer_hint || hint_len > sizeof(ep->peer) ||
		    hint_len < sizeof(struct sockaddr_in))
			return SHIM_SOCK_OTHER;
		memcpy(&ep->peer, peer_hint, hint_len);
	}
	return shim_peer_kind((struct sockaddr *)&ep->self, (struct sockaddr *)&ep->peer);
}

enum shim_sock_kind shim_classify_fd(int fd, struct shim_endpoints *ep,
				     const struct sockaddr *peer_hint, socklen_t hint_len)
{
	return classify(fd, ep, peer_hint, hint_len, false);
}

enum shim_sock_kind shim_classify_tcp_fd(int fd, struct shim_endpoints *ep)
{
	return classify(fd, ep, NULL, 0, true);
}

char *shim_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		if (inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip))) {
			snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
			return buf;
		}
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip))) {
			snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
			return buf;
		}
	}
	snprintf(buf, len, "?");
	return buf;
}
