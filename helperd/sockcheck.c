// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fd checks behind REGISTER. A client may send anything; only what the kernel says
 * about the fd counts. The sockhash itself would also take UDP, unix, listening or
 * kTLS sockets, or refuse some states with an errno that is hard to explain, so every
 * property is checked here first and answered with a status the shim can log.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "helperd/sockcheck.h"
#include "helperd/tuple.h"

static int getsockopt_int(int fd, int level, int name, int *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	return getsockopt(fd, level, name, val, &len) < 0 ? -errno : 0;
}

static int getsockopt_u64(int fd, int name, __u64 *val)
{
	socklen_t len = sizeof(*val);

	*val = 0;
	if (getsockopt(fd, SOL_SOCKET, name, val, &len) < 0)
		return -errno;
	return len == sizeof(*val) ? 0 : -EIO;
}

/*
 * Five getsockopt calls, each needed: every one costs a connection registration on the
 * hot path, so nothing is asked twice. No fstat: getsockopt on anything but a socket
 * fails with ENOTSOCK. No SO_TYPE: an AF_INET/AF_INET6 socket with SO_PROTOCOL
 * IPPROTO_TCP is SOCK_STREAM, except a raw socket opened with IPPROTO_TCP, and that one
 * has no TCP level to answer TCP_INFO. No SO_ACCEPTCONN: a listening socket's TCP_INFO
 * state is LISTEN.
 */
int32_t helperd_sock_check(int fd, int *err)
{
	struct tcp_info info;
	socklen_t len;
	char ulp[16];
	int val;

	*err = 0;
	if (getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &val) < 0) {
		/* A file, pipe, FIFO, eventfd, ...; EBADF: an O_PATH fd, which is no socket. */
		if (errno == ENOTSOCK || errno == EBADF)
			return SKACCEL_ERR_NOT_SOCKET;
		goto internal;
	}
	if (val != AF_INET && val != AF_INET6)
		return SKACCEL_ERR_NOT_TCP;
	/* MPTCP sockets are SOCK_STREAM too, with IPPROTO_MPTCP: not for the sockhash. */
	if (getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &val) < 0)
		goto internal;
	if (val != IPPROTO_TCP)
		return SKACCEL_ERR_NOT_TCP;

	memset(&info, 0, sizeof(info));
	len = sizeof(info);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0) {
		/* SOCK_RAW with IPPROTO_TCP: no TCP level (v4 EOPNOTSUPP, v6 ENOPROTOOPT) */
		if (errno == EOPNOTSUPP || errno == ENOPROTOOPT)
			return SKACCEL_ERR_NOT_TCP;
		goto internal;
	}
	/* Listening, connecting, closing or closed: anything else the sockhash refuses. */
	if (info.tcpi_state != TCP_ESTABLISHED)
		return SKACCEL_ERR_NOT_ESTABLISHED;

	/* kTLS and other ULPs replace the proto ops the sockhash needs (insert gives EINVAL). */
	memset(ulp, 0, sizeof(ulp));
	len = sizeof(ulp);
	if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &len) < 0)
		goto internal;
	if (len > 0 && ulp[0])
		return SKACCEL_ERR_UNSUPPORTED;
	/* The redirect path copies and never posts MSG_ZEROCOPY completions. */
	if (getsockopt_int(fd, SOL_SOCKET, SO_ZEROCOPY, &val) < 0)
		goto internal;
	if (val)
		return SKACCEL_ERR_UNSUPPORTED;
	return 0;

internal:
	*err = errno;
	return SKACCEL_ERR_INTERNAL;
}

int32_t helperd_sock_key(int fd, __u64 *cookie, struct skaccel_tuple *t, int *err)
{
	struct sockaddr_storage local, remote;
	socklen_t local_len = sizeof(local), remote_len = sizeof(remote);
	__u64 netns;
	int r;

	*err = 0;
	r = getsockopt_u64(fd, SO_COOKIE, cookie);
	if (r < 0)
		goto fail;
	r = getsockopt_u64(fd, SO_NETNS_COOKIE, &netns);
	if (r < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&local, &local_len) < 0) {
		r = -errno;
		goto fail;
	}
	if (getpeername(fd, (struct sockaddr *)&remote, &remote_len) < 0) {
		r = -errno;
		if (r == -ENOTCONN) { /* reset since the check above */
			*err = ENOTCONN;
			return SKACCEL_ERR_NOT_ESTABLISHED;
		}
		goto fail;
	}
	r = helperd_tuple_build(t, netns, (struct sockaddr *)&local, local_len,
				(struct sockaddr *)&remote, remote_len);
	if (r < 0)
		goto fail;
	return 0;

fail:
	*err = -r;
	return SKACCEL_ERR_INTERNAL;
}

int helperd_own_netns_cookie(__u64 *cookie)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = getsockopt_u64(fd, SO_NETNS_COOKIE, cookie);
	close(fd);
	return r;
}
