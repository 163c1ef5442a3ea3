// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the helper's fd validation and key derivation, on real fds of every
 * kind a client could send. Loopback TCP needs no privileges.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "helperd/sockcheck.h"
#include "helperd/tuple.h"
#include "tests/unit/skt_assert.h"

static int check(int fd)
{
	int err = 0;

	return helperd_sock_check(fd, &err);
}

/* A listening socket of family on loopback; *port gets its port. */
static int listener(int family, unsigned short *port)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len =
	    family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), off = 0;

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else /* dual-stack "::", as many servers listen */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static int connect_to(int family, const char *ip, unsigned short port, int flags)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);

	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		inet_pton(AF_INET, ip, &sin->sin_addr);
		sin->sin_port = htons(port);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
		sin6->sin6_port = htons(port);
		len = sizeof(*sin6);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_not_sockets(void)
{
	int pipefd[2], fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_SOCKET, "check");
	close(fd);
	ASSERT_EQ(pipe2(pipefd, O_CLOEXEC), 0, "pipe2");
	ASSERT_EQ(check(pipefd[0]), SKACCEL_ERR_NOT_SOCKET, "check");
	ASSERT_EQ(check(pipefd[1]), SKACCEL_ERR_NOT_SOCKET, "check");
	close(pipefd[0]);
	close(pipefd[1]);
	fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_SOCKET, "check");
	close(fd);
	/* O_PATH fds can be passed but not used: getsockopt() says EBADF, not ENOTSOCK. */
	fd = open("/", O_PATH | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0, "fd >= 0");
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_SOCKET, "check");
	close(fd);
}

static void test_not_tcp(void)
{
	int sv[2], fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_TCP, "check");
	close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_TCP, "check");
	close(fd);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0, "socketpair");
	ASSERT_EQ(check(sv[0]), SKACCEL_ERR_NOT_TCP, "check");
	close(sv[0]);
	close(sv[1]);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 262 /* IPPROTO_MPTCP */);
	if (fd >= 0) { /* only where MPTCP is enabled */
		ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_TCP, "check");
		close(fd);
	}
	/* SO_PROTOCOL says TCP, but it is no TCP socket (only with CAP_NET_RAW). */
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd >= 0) {
		ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_TCP, "check");
		close(fd);
	}
	fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd >= 0) {
		ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_TCP, "check");
		close(fd);
	}
}

static int tcp_state(int fd)
{
	struct tcp_info info = {};
	socklen_t len = sizeof(info);

	getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len);
	return info.tcpi_state;
}

/*
 * Connecting (SYN_SENT), without any network: a listener with backlog 0 whose accept
 * queue holds one connection already drops the next SYN, so that connect stays pending.
 */
static void test_connecting(void)
{
	unsigned short port;
	int lfd, first, second, i;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sin);

		bind(lfd, (struct sockaddr *)&sin, sizeof(sin));
		listen(lfd, 0);
		getsockname(lfd, (struct sockaddr *)&sin, &len);
		port = ntohs(sin.sin_port);
	}
	first = connect_to(AF_INET, "127.0.0.1", port, 0);
	second = connect_to(AF_INET, "127.0.0.1", port, SOCK_NONBLOCK);
	for (i = 0; i < 50 && tcp_state(second) == TCP_ESTABLISHED; i++)
		usleep(1000); /* not expected: only if the kernel accepted it after all */
	ASSERT_EQ(tcp_state(second), TCP_SYN_SENT, "tcp_state");
	ASSERT_EQ(check(second), SKACCEL_ERR_NOT_ESTABLISHED, "check");
	close(second);
	close(first);
	close(lfd);
}

static void test_states(void)
{
	unsigned short port;
	int lfd, fd, cfd, afd;
	struct pollfd pfd;

	lfd = listener(AF_INET, &port);
	ASSERT_TRUE(lfd >= 0, "lfd >= 0");
	ASSERT_EQ(check(lfd), SKACCEL_ERR_NOT_ESTABLISHED, "check"); /* listening */

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* fresh, never connected */
	ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_ESTABLISHED, "check");
	close(fd);

	test_connecting();

	/* Refused: RST in answer to the SYN, state CLOSE. */
	{
		unsigned short dead_port;
		int dead = listener(AF_INET, &dead_port);

		close(dead);
		fd = connect_to(AF_INET, "127.0.0.1", dead_port, SOCK_NONBLOCK);
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		poll(&pfd, 1, 1000);
		ASSERT_EQ(check(fd), SKACCEL_ERR_NOT_ESTABLISHED, "check");
		close(fd);
	}

	cfd = connect_to(AF_INET, "127.0.0.1", port, 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_EQ(check(cfd), 0, "check");
	ASSERT_EQ(check(afd), 0, "check");

	/* The peer closed: CLOSE_WAIT, which the sockhash would refuse. */
	close(cfd);
	pfd = (struct pollfd){ .fd = afd, .events = POLLIN };
	poll(&pfd, 1, 1000);
	ASSERT_EQ(check(afd), SKACCEL_ERR_NOT_ESTABLISHED, "check");
	close(afd);

	/* SO_ZEROCOPY set: the redirect path would never post completions. */
	cfd = connect_to(AF_INET, "127.0.0.1", port, 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	{
		int one = 1;

		if (setsockopt(cfd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0)
			ASSERT_EQ(check(cfd), SKACCEL_ERR_UNSUPPORTED, "check");
		ASSERT_EQ(check(afd), 0, "check");
	}
	/* A ULP (kTLS) replaces the proto ops the sockhash needs; only if "tls" is loadable. */
	if (setsockopt(afd, IPPROTO_TCP, TCP_ULP, "tls", sizeof("tls")) == 0)
		ASSERT_EQ(check(afd), SKACCEL_ERR_UNSUPPORTED, "check");
	else
		ASSERT_EQ(check(afd), 0, "check");
	/* shutdown(SHUT_RDWR): FIN_WAIT, not ESTABLISHED. */
	shutdown(afd, SHUT_RDWR);
	ASSERT_EQ(check(afd), SKACCEL_ERR_NOT_ESTABLISHED, "check");
	close(cfd);
	close(afd);
	close(lfd);
}

static void test_keys_pair(int lfamily, int cfamily, const char *cip)
{
	struct skaccel_tuple ct, at, mirror;
	__u64 ccookie = 0, acookie = 0, own = 0;
	unsigned short port;
	int lfd, cfd, afd, err;

	lfd = listener(lfamily, &port);
	cfd = connect_to(cfamily, cip, port, 0);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ASSERT_TRUE(cfd >= 0 && afd >= 0, "cfd >= 0 && afd >= 0");
	ASSERT_EQ(helperd_sock_key(cfd, &ccookie, &ct, &err), 0, "helperd_sock_key");
	ASSERT_EQ(helperd_sock_key(afd, &acookie, &at, &err), 0, "helperd_sock_key");
	ASSERT_NEQ(ccookie, 0, "ccookie");
	ASSERT_NEQ(acookie, 0, "acookie");
	ASSERT_NEQ(ccookie, acookie, "ccookie");
	ASSERT_EQ(helperd_own_netns_cookie(&own), 0, "helperd_own_netns_cookie");
	ASSERT_EQ(ct.netns_cookie, own, "ct.netns_cookie");
	ASSERT_EQ(at.netns_cookie, own, "at.netns_cookie");
	ASSERT_EQ(ct.remote_port, port, "ct.remote_port");
	ASSERT_EQ(at.local_port, port, "at.local_port");
	helperd_tuple_mirror(&mirror, &ct);
	ASSERT_MEMEQ(&mirror, &at, sizeof(mirror), "&mirror"); /* the two ends meet */
	close(cfd);
	close(afd);
	close(lfd);
}

static void test_keys(void)
{
	test_keys_pair(AF_INET, AF_INET, "127.0.0.1");
	test_keys_pair(AF_INET6, AF_INET6, "::1");
	test_keys_pair(AF_INET6, AF_INET, "127.0.0.1"); /* v4 client, dual-stack server */
}

int main(void)
{
	test_not_sockets();
	test_not_tcp();
	test_states();
	test_keys();
	return skt_summary();
}
