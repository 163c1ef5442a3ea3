// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of adopting sockets a process got by exec or SCM_RIGHTS (shim/adopt.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/adopt.h"
#include "shim/fdtab.h"
#include "shim/real.h"
#include "tests/unit/skt_assert.h"

/* A loopback TCP connection: *c connected, *s accepted; the listener is closed. */
static int tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return -1;
	*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	return *s < 0 ? -1 : 0;
}

/* Pass fd over a socketpair and receive it with the real recvmsg; returns the new fd. */
static int pass_fd(int fd, struct msghdr *m, char *control, size_t clen)
{
	int sp[2], got = -1;
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	struct msghdr out = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = CMSG_SPACE(sizeof(int)) };
	struct cmsghdr *cm;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return -1;
	memset(control, 0, clen);
	cm = CMSG_FIRSTHDR(&out);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	if (sendmsg(sp[0], &out, 0) == 1) {
		*m = (struct msghdr){ .msg_iov = &iov,
				      .msg_iovlen = 1,
				      .msg_control = control,
				      .msg_controllen = clen };
		if (recvmsg(sp[1], m, MSG_CMSG_CLOEXEC) == 1 && (cm = CMSG_FIRSTHDR(m)))
			memcpy(&got, CMSG_DATA(cm), sizeof(got));
	}
	close(sp[0]);
	close(sp[1]);
	return got;
}

int main(void)
{
	/* Adopted sockets may have another holder: SHARED (no reset at their close). */
	const unsigned int R = SHIM_FD_REGISTERED | SHIM_FD_SHARED, N = SHIM_FD_NONBLOCK;
	char control[CMSG_SPACE(sizeof(int))];
	int c = -1, s = -1, u[2], p[2], l, got;
	struct msghdr m;

	shim_real_init();
	ASSERT_EQ(shim_fdtab_init(), 0, "shim_fdtab_init");
	ASSERT_EQ(tcp_pair(&c, &s), 0, "tcp_pair");
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u), 0, "socketpair");
	ASSERT_EQ(pipe2(p, O_CLOEXEC), 0, "pipe2");
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(listen(l, 1), 0, "listen");

	/* A loopback TCP connection is adopted, with its O_NONBLOCK bit. */
	shim_adopt_fd(c, "test");
	ASSERT_EQ(shim_fd_get(c), R, "shim_fd_get");
	ASSERT_EQ(fcntl(s, F_SETFL, O_NONBLOCK), 0, "fcntl");
	shim_adopt_fd(s, "test");
	ASSERT_EQ(shim_fd_get(s), R | N, "shim_fd_get");

	/* Anything else is not, and a stale entry on it goes. */
	shim_fd_set(u[0], R);
	shim_adopt_fd(u[0], "test");
	ASSERT_EQ(shim_fd_get(u[0]), 0, "shim_fd_get");
	shim_fd_set(l, R);
	shim_adopt_fd(l, "test"); /* a listener has no peer */
	ASSERT_EQ(shim_fd_get(l), 0, "shim_fd_get");
	shim_adopt_fd(-1, "test");
	ASSERT_EQ(shim_fd_get(-1), 0, "shim_fd_get");

	/* What an SCM_RIGHTS message carries. */
	got = pass_fd(c, &m, control, sizeof(control));
	ASSERT_EQ(got >= 0, 1, "got >= 0");
	shim_fd_set(got, 0);
	shim_adopt_received(&m);
	ASSERT_EQ(shim_fd_get(got), R, "shim_fd_get");
	m.msg_controllen = 0; /* no control data: nothing happens */
	shim_fd_set(got, 0);
	shim_adopt_received(&m);
	ASSERT_EQ(shim_fd_get(got), 0, "shim_fd_get");

	/* Everything open at start-up, as after an exec. */
	shim_fd_clear(c);
	shim_fd_clear(s);
	shim_fd_set(p[0], R);
	errno = EINTR;
	shim_adopt_inherited();
	ASSERT_EQ(errno, EINTR, "errno"); /* errno untouched */
	ASSERT_EQ(shim_fd_get(c), R, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(s), R | N, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(got), R, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(p[0]), 0, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(u[1]), 0, "shim_fd_get");

	return skt_summary();
}
