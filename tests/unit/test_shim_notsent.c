// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the unsent-bytes mark the shim puts on registered sockets (notsent.h): set
 * on blocking sockets, on non-blocking ones only while they drain, following O_NONBLOCK
 * both ways, never over the application's
 * own mark, and hidden from the application's getsockopt(). Real loopback TCP sockets, so
 * the mark read back is the kernel's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/real.h"
#include "tests/unit/skt_assert.h"

/* A connected loopback TCP socket (its peer and the listener are leaked: a test). */
static int tcp_socket(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &len) ||
	    connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	return c;
}

/* The kernel's mark on fd. */
static int mark(int fd)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
	return v;
}

static void test_blocking(void)
{
	int fd = tcp_socket(), v = 1;
	socklen_t len = sizeof(v);

	ASSERT_EQ(fd >= 0, 1, "fd >= 0");
	shim_fd_set(fd, SHIM_FD_REGISTERED);
	shim_notsent_take(fd);
	ASSERT_EQ(mark(fd), SHIM_NOTSENT_LOWAT, "mark");
	ASSERT_EQ(shim_fd_get(fd) & SHIM_FD_LOWAT, SHIM_FD_LOWAT, "shim_fd_get");
	/* What the application reads: 0, as without the shim. */
	getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len);
	shim_notsent_hide(fd, &v, &len);
	ASSERT_EQ(v, 0, "v");

	/* Made non-blocking: no mark (notsent.c says why); blocking again: the mark is back. */
	shim_fd_add(fd, SHIM_FD_NONBLOCK);
	shim_notsent_blocking_changed(fd);
	ASSERT_EQ(mark(fd), 0, "mark");
	shim_fd_del(fd, SHIM_FD_NONBLOCK);
	shim_notsent_blocking_changed(fd);
	ASSERT_EQ(mark(fd), SHIM_NOTSENT_LOWAT, "mark");

	/* The application's own mark replaces ours for good. */
	v = 4096;
	ASSERT_EQ(setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)), 0, "setsockopt");
	shim_notsent_after_set(fd, &v, sizeof(v));
	ASSERT_EQ(shim_fd_get(fd) & SHIM_FD_LOWAT, 0, "shim_fd_get");
	shim_fd_add(fd, SHIM_FD_NONBLOCK);
	shim_notsent_blocking_changed(fd);
	ASSERT_EQ(mark(fd), 4096, "mark");
	close(fd);
	shim_fd_clear(fd);
}

static void test_nonblocking_and_preset(void)
{
	int fd = tcp_socket(), v = 8192;

	/* Registered non-blocking: managed, but no mark until it turns blocking. */
	ASSERT_EQ(fd >= 0, 1, "fd >= 0");
	shim_fd_set(fd, SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK);
	shim_notsent_take(fd);
	ASSERT_EQ(mark(fd), 0, "mark");
	ASSERT_EQ(shim_fd_get(fd) & SHIM_FD_LOWAT, SHIM_FD_LOWAT, "shim_fd_get");
	shim_fd_del(fd, SHIM_FD_NONBLOCK);
	shim_notsent_blocking_changed(fd);
	ASSERT_EQ(mark(fd), SHIM_NOTSENT_LOWAT, "mark");
	close(fd);
	shim_fd_clear(fd);

	/* A mark the application set before registration stays, and stays its own. */
	fd = tcp_socket();
	ASSERT_EQ(setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)), 0, "setsockopt");
	shim_fd_set(fd, SHIM_FD_REGISTERED);
	shim_notsent_take(fd);
	ASSERT_EQ(mark(fd), 8192, "mark");
	ASSERT_EQ(shim_fd_get(fd) & SHIM_FD_LOWAT, 0, "shim_fd_get");
	close(fd);
	shim_fd_clear(fd);
}

/*
 * Paired non-blocking with bytes still in its send queue (lazy promotion: sent by TCP
 * before the pairing): the mark holds until a write finds the queue empty.
 */
static void test_drain(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), a;
	static char buf[1 << 16];
	ssize_t n;

	ASSERT_OK(bind(l, (struct sockaddr *)&sin, sizeof(sin)), "bind");
	ASSERT_OK(listen(l, 1), "listen");
	ASSERT_OK(getsockname(l, (struct sockaddr *)&sin, &len), "getsockname");
	ASSERT_OK(connect(c, (struct sockaddr *)&sin, sizeof(sin)), "connect");
	a = accept(l, NULL, NULL);
	ASSERT_TRUE(a >= 0, "accept");
	/* Nothing queued: managed, no mark (the non-blocking rule). */
	shim_fd_set(c, SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK);
	shim_notsent_take(c);
	ASSERT_EQ(mark(c), 0, "mark, queue empty");
	ASSERT_EQ(shim_fd_get(c), SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK | SHIM_FD_LOWAT,
		  "shim_fd_get, queue empty");

	/* The peer reads nothing: fill its window, then our send queue holds bytes. */
	shim_fd_clear(c);
	while (send(c, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	shim_fd_set(c, SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK);
	shim_notsent_take(c);
	ASSERT_EQ(mark(c), SHIM_NOTSENT_LOWAT, "mark, draining");
	ASSERT_EQ(shim_fd_get(c) & SHIM_FD_DRAIN, SHIM_FD_DRAIN, "shim_fd_get, draining");
	shim_notsent_drain_check(c);
	ASSERT_EQ(mark(c), SHIM_NOTSENT_LOWAT, "mark, still queued");

	/* The peer reads everything: the next check drops the mark. */
	do {
		n = recv(a, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			usleep(10000), n = recv(a, buf, sizeof(buf), MSG_DONTWAIT);
	} while (n > 0);
	shim_notsent_drain_check(c);
	ASSERT_EQ(mark(c), 0, "mark, drained");
	ASSERT_EQ(shim_fd_get(c), SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK | SHIM_FD_LOWAT,
		  "shim_fd_get, drained");
	close(a);
	close(c);
	close(l);
	shim_fd_clear(c);
}

int main(void)
{
	shim_real_init();
	if (shim_fdtab_init() < 0)
		return 1;
	test_blocking();
	test_nonblocking_and_preset();
	test_drain();
	return skt_summary();
}
