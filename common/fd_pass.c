// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * SCM_RIGHTS send/receive, used by the shim (send side) and the helper (receive side).
 * The receive side follows dbus-broker: exact CMSG_SPACE, MSG_CMSG_CLOEXEC so a received
 * fd can never leak into a child, and every fd that arrived is handed to the caller even
 * when the message is refused, because an fd we forget is an fd we leak.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "common/fd_pass.h"

int skaccel_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);
	bool abstract = path[0] == '@';

	/* A file name needs its terminator; an abstract name may fill sun_path. */
	if (n == 0 || n + !abstract > sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (abstract)
		sun->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + !abstract);
	return 0;
}

ssize_t skaccel_send_fd(int sock, const void *buf, size_t len, int fd, int extra_flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | extra_flags);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t skaccel_recv_fds(int sock, void *buf, size_t len, int fds[SKACCEL_FD_PASS_MAX], int *nfds,
			 int *truncated, int extra_flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SKACCEL_FD_PASS_MAX)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*nfds = 0;
	*truncated = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | extra_flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		size_t payload, count, i;

		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		payload = cmsg->cmsg_len - CMSG_LEN(0);
		count = payload / sizeof(int);
		for (i = 0; i < count && *nfds < SKACCEL_FD_PASS_MAX; i++)
			memcpy(&fds[(*nfds)++], CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
		if (i < count)
			*truncated = 1; /* cannot happen with our buffer size, but never leak */
	}
	if (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))
		*truncated = 1;
	return n;
}
