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

#include "test_shim_check.h"

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
	CHECK_EQ(0, shim_fdtab_init());
	CHECK_EQ(0, tcp_pair(&c, &s));
	CHECK_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u));
	CHECK_EQ(0, pipe2(p, O_CLOEXEC));
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(0, listen(l, 1));

	/* A loopback TCP connection is adopted, with its O_NONBLOCK bit. */
	shim_adopt_fd(c, "test");
	CHECK_EQ(R, shim_fd_get(c));
	CHECK_EQ(0, fcntl(s, F_SETFL, O_NONBLOCK));
	shim_adopt_fd(s, "test");
	CHECK_EQ(R | N, shim_fd_get(s));

	/* Anything else is not, and a stale entry on it goes. */
	shim_fd_set(u[0], R);
	shim_adopt_fd(u[0], "test");
	CHECK_EQ(0, shim_fd_get(u[0]));
	shim_fd_set(l, R);
	shim_adopt_fd(l, "test"); /* a listener has no peer */
	CHECK_EQ(0, shim_fd_get(l));
	shim_adopt_fd(-1, "test");
	CHECK_EQ(0, shim_fd_get(-1));

	/* What an SCM_RIGHTS message carries. */
	got = pass_fd(c, &m, control, sizeof(control));
	CHECK_EQ(1, got >= 0);
	shim_fd_set(got, 0);
	shim_adopt_received(&m);
	CHECK_EQ(R, shim_fd_get(got));
	m.msg_controllen = 0; /* no control data: nothing happens */
	shim_fd_set(got, 0);
	shim_adopt_received(&m);
	CHECK_EQ(0, shim_fd_get(got));

	/* Everything open at start-up, as after an exec. */
	shim_fd_clear(c);
	shim_fd_clear(s);
	shim_fd_set(p[0], R);
	errno = EINTR;
	shim_adopt_inherited();
	CHECK_EQ(EINTR, errno); /* errno untouched */
	CHECK_EQ(R, shim_fd_get(c));
	CHECK_EQ(R | N, shim_fd_get(s));
	CHECK_EQ(R, shim_fd_get(got));
	CHECK_EQ(0, shim_fd_get(p[0]));
	CHECK_EQ(0, shim_fd_get(u[1]));

	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
