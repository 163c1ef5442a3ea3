// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the shim's candidate classification: addresses, then real sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/locality.h"

#include "test_shim_check.h"

static struct sockaddr_storage addr(const char *ip, int port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		char buf[64], *pct;

		snprintf(buf, sizeof(buf), "%s", ip);
		pct = strchr(buf, '%');
		if (pct) { /* "fe80::1%2": scope id */
			*pct = '\0';
			s6->sin6_scope_id = (uint32_t)atoi(pct + 1);
		}
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, buf, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static bool loopback(const char *ip)
{
	struct sockaddr_storage ss = addr(ip, 1);

	return shim_addr_is_loopback(SA(ss));
}

static enum shim_sock_kind kind(const char *self, const char *peer)
{
	struct sockaddr_storage s = addr(self, 1000), p = addr(peer, 2000);

	return shim_peer_kind(SA(s), SA(p));
}

static void test_addresses(void)
{
	struct sockaddr_storage un = { .ss_family = AF_UNIX }, v4 = addr("127.0.0.1", 1);
	char buf[SHIM_ADDRSTRLEN];

	CHECK_EQ(true, loopback("127.0.0.1"));
	CHECK_EQ(true, loopback("127.255.1.2"));
	CHECK_EQ(false, loopback("128.0.0.1"));
	CHECK_EQ(false, loopback("10.0.0.1"));
	CHECK_EQ(true, loopback("::1"));
	CHECK_EQ(false, loopback("::2"));
	CHECK_EQ(true, loopback("::ffff:127.0.0.1"));
	CHECK_EQ(true, loopback("::ffff:127.9.9.9"));
	CHECK_EQ(false, loopback("::ffff:10.0.0.1"));
	CHECK_EQ(false, loopback("::127.0.0.1")); /* v4-compatible, not v4-mapped */
	CHECK_EQ(false, shim_addr_is_loopback(SA(un)));

	CHECK_EQ(SHIM_SOCK_LOCAL, kind("127.0.0.1", "127.0.0.1"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("127.0.0.1", "127.0.0.2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("::1", "::1"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("::ffff:127.0.0.1", "::ffff:127.0.0.1"));
	/* A connection to this host's own address uses that address as its source. */
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("192.0.2.2", "192.0.2.2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("fd00::2", "fd00::2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("::ffff:192.0.2.2", "192.0.2.2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("192.0.2.2", "::ffff:192.0.2.2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("fe80::1%2", "fe80::1%2"));
	CHECK_EQ(SHIM_SOCK_LOCAL, kind("192.0.2.2", "0.0.0.0")); /* connect(0.0.0.0) */
	/* Remote peers. */
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("192.0.2.2", "192.0.2.1"));
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("fd00::2", "fd00::1"));
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("::ffff:192.0.2.2", "::ffff:192.0.2.1"));
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("fe80::1%2", "fe80::1%3"));
	CHECK_EQ(SHIM_SOCK_REMOTE,
		 kind("0.0.0.0", "192.0.2.2")); /* unbound source proves nothing */
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("::", "fd00::2"));
	/* A v4 address never equals a v6 one that merely embeds it. */
	CHECK_EQ(SHIM_SOCK_REMOTE, kind("::c000:202", "192.0.2.2"));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_peer_kind(SA(un), SA(v4)));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_peer_kind(SA(v4), SA(un)));

	CHECK_EQ(0, strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)), "127.0.0.1:1"));
	v4 = addr("::ffff:127.0.0.1", 65535);
	CHECK_EQ(0, strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)), "[::ffff:127.0.0.1]:65535"));
	v4 = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	CHECK_EQ(0, strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)),
			   "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"));
	CHECK_EQ(0, strcmp(shim_addr_format(SA(un), buf, sizeof(buf)), "?"));
}

/* A connected loopback TCP pair in family fam; returns the client, *server the accepted end. */
static int tcp_pair(int fam, const char *ip, int *server)
{
	struct sockaddr_storage ss = addr(ip, 0);
	socklen_t len = sizeof(ss);
	int lfd, cfd;

	lfd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, SA(ss), sizeof(ss)) < 0 || listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	cfd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, SA(ss), len) < 0)
		return -1;
	*server = accept(lfd, NULL, NULL);
	close(lfd);
	return cfd;
}

static void test_sockets(void)
{
	struct sockaddr_storage hint = addr("127.0.0.1", 9);
	struct shim_endpoints ep;
	int c, s, fds[2];

	c = tcp_pair(AF_INET, "127.0.0.1", &s);
	CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(c, &ep, NULL, 0));
	CHECK_EQ(AF_INET, ep.peer.ss_family);
	CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(s, &ep, NULL, 0));
	close(c);
	close(s);

	c = tcp_pair(AF_INET6, "::1", &s);
	if (c >= 0) {
		CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(c, &ep, NULL, 0));
		CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(s, &ep, NULL, 0));
		close(c);
		close(s);
	}

	/* Dual-stack server accepting an IPv4 client: the accepted end is v4-mapped. */
	c = tcp_pair(AF_INET6, "::ffff:127.0.0.1", &s);
	if (c >= 0) {
		CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(s, &ep, NULL, 0));
		close(c);
		close(s);
	}

	/* Not candidates: UDP (even connected to loopback), AF_UNIX, listener, bad fd. */
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(0, connect(c, SA(hint), sizeof(struct sockaddr_in)));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(c, &ep, NULL, 0));
	close(c);
	CHECK_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(fds[0], &ep, NULL, 0));
	close(fds[0]);
	close(fds[1]);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(0, listen(c, 1));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(c, &ep, NULL, 0));
	/* ... unless a connect() in progress names its peer: then the hint decides. */
	CHECK_EQ(SHIM_SOCK_LOCAL, shim_classify_fd(c, &ep, SA(hint), sizeof(struct sockaddr_in)));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(c, &ep, SA(hint), 2)); /* too short a hint */
	close(c);
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(-1, &ep, NULL, 0));
	CHECK_EQ(SHIM_SOCK_OTHER, shim_classify_fd(0 + 9999, &ep, NULL, 0));
}

int main(void)
{
	test_addresses();
	test_sockets();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
