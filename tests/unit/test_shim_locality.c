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
#include "tests/unit/skt_assert.h"

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

	ASSERT_TRUE(loopback("127.0.0.1"), "loopback");
	ASSERT_TRUE(loopback("127.255.1.2"), "loopback");
	ASSERT_FALSE(loopback("128.0.0.1"), "loopback");
	ASSERT_FALSE(loopback("10.0.0.1"), "loopback");
	ASSERT_TRUE(loopback("::1"), "loopback");
	ASSERT_FALSE(loopback("::2"), "loopback");
	ASSERT_TRUE(loopback("::ffff:127.0.0.1"), "loopback");
	ASSERT_TRUE(loopback("::ffff:127.9.9.9"), "loopback");
	ASSERT_FALSE(loopback("::ffff:10.0.0.1"), "loopback");
	ASSERT_FALSE(loopback("::127.0.0.1"), "loopback"); /* v4-compatible, not v4-mapped */
	ASSERT_FALSE(shim_addr_is_loopback(SA(un)), "shim_addr_is_loopback");

	ASSERT_EQ(kind("127.0.0.1", "127.0.0.1"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("127.0.0.1", "127.0.0.2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("::1", "::1"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("::ffff:127.0.0.1", "::ffff:127.0.0.1"), SHIM_SOCK_LOCAL, "kind");
	/* A connection to this host's own address uses that address as its source. */
	ASSERT_EQ(kind("192.0.2.2", "192.0.2.2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("fd00::2", "fd00::2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("::ffff:192.0.2.2", "192.0.2.2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("192.0.2.2", "::ffff:192.0.2.2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("fe80::1%2", "fe80::1%2"), SHIM_SOCK_LOCAL, "kind");
	ASSERT_EQ(kind("192.0.2.2", "0.0.0.0"), SHIM_SOCK_LOCAL, "kind"); /* connect(0.0.0.0) */
	/* Remote peers. */
	ASSERT_EQ(kind("192.0.2.2", "192.0.2.1"), SHIM_SOCK_REMOTE, "kind");
	ASSERT_EQ(kind("fd00::2", "fd00::1"), SHIM_SOCK_REMOTE, "kind");
	ASSERT_EQ(kind("::ffff:192.0.2.2", "::ffff:192.0.2.1"), SHIM_SOCK_REMOTE, "kind");
	ASSERT_EQ(kind("fe80::1%2", "fe80::1%3"), SHIM_SOCK_REMOTE, "kind");
	ASSERT_EQ(kind("0.0.0.0", "192.0.2.2"), SHIM_SOCK_REMOTE,
		  "kind"); /* unbound source proves nothing */
	ASSERT_EQ(kind("::", "fd00::2"), SHIM_SOCK_REMOTE, "kind");
	/* A v4 address never equals a v6 one that merely embeds it. */
	ASSERT_EQ(kind("::c000:202", "192.0.2.2"), SHIM_SOCK_REMOTE, "kind");
	ASSERT_EQ(shim_peer_kind(SA(un), SA(v4)), SHIM_SOCK_OTHER, "shim_peer_kind");
	ASSERT_EQ(shim_peer_kind(SA(v4), SA(un)), SHIM_SOCK_OTHER, "shim_peer_kind");

	ASSERT_EQ(strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)), "127.0.0.1:1"), 0, "strcmp");
	v4 = addr("::ffff:127.0.0.1", 65535);
	ASSERT_EQ(strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)), "[::ffff:127.0.0.1]:65535"), 0,
		  "strcmp");
	v4 = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	ASSERT_EQ(strcmp(shim_addr_format(SA(v4), buf, sizeof(buf)),
			 "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
		  0, "strcmp");
	ASSERT_EQ(strcmp(shim_addr_format(SA(un), buf, sizeof(buf)), "?"), 0, "strcmp");
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
	ASSERT_EQ(shim_classify_fd(c, &ep, NULL, 0), SHIM_SOCK_LOCAL, "shim_classify_fd");
	ASSERT_EQ(ep.peer.ss_family, AF_INET, "ep.peer.ss_family");
	ASSERT_EQ(shim_classify_fd(s, &ep, NULL, 0), SHIM_SOCK_LOCAL, "shim_classify_fd");
	close(c);
	close(s);

	c = tcp_pair(AF_INET6, "::1", &s);
	if (c >= 0) {
		ASSERT_EQ(shim_classify_fd(c, &ep, NULL, 0), SHIM_SOCK_LOCAL, "shim_classify_fd");
		ASSERT_EQ(shim_classify_fd(s, &ep, NULL, 0), SHIM_SOCK_LOCAL, "shim_classify_fd");
		close(c);
		close(s);
	}

	/* Dual-stack server accepting an IPv4 client: the accepted end is v4-mapped. */
	c = tcp_pair(AF_INET6, "::ffff:127.0.0.1", &s);
	if (c >= 0) {
		ASSERT_EQ(shim_classify_fd(s, &ep, NULL, 0), SHIM_SOCK_LOCAL, "shim_classify_fd");
		close(c);
		close(s);
	}

	/* Not candidates: UDP (even connected to loopback), AF_UNIX, listener, bad fd. */
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(c, SA(hint), sizeof(struct sockaddr_in)), 0, "connect");
	ASSERT_EQ(shim_classify_fd(c, &ep, NULL, 0), SHIM_SOCK_OTHER, "shim_classify_fd");
	close(c);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0, "socketpair");
	ASSERT_EQ(shim_classify_fd(fds[0], &ep, NULL, 0), SHIM_SOCK_OTHER, "shim_classify_fd");
	close(fds[0]);
	close(fds[1]);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(listen(c, 1), 0, "listen");
	ASSERT_EQ(shim_classify_fd(c, &ep, NULL, 0), SHIM_SOCK_OTHER, "shim_classify_fd");
	/* ... unless a connect() in progress names its peer: then the hint decides. */
	ASSERT_EQ(shim_classify_fd(c, &ep, SA(hint), sizeof(struct sockaddr_in)), SHIM_SOCK_LOCAL,
		  "shim_classify_fd");
	ASSERT_EQ(shim_classify_fd(c, &ep, SA(hint), 2), SHIM_SOCK_OTHER,
		  "shim_classify_fd"); /* too short a hint */
	close(c);
	ASSERT_EQ(shim_classify_fd(-1, &ep, NULL, 0), SHIM_SOCK_OTHER, "shim_classify_fd");
	ASSERT_EQ(shim_classify_fd(0 + 9999, &ep, NULL, 0), SHIM_SOCK_OTHER, "shim_classify_fd");
}

int main(void)
{
	test_addresses();
	test_sockets();
	return skt_summary();
}
