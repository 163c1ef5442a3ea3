// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The helper ping of skaccel-run. The shim has its own client (shim/helper_client.c) built
 * for life inside an application; this one-shot check runs before exec and may be simple.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "common/skaccel_proto.h"
#include "run/ping.h"

int skrun_ping(const char *path, int timeout_ms, int32_t *status)
{
	struct sockaddr_un sun;
	struct pollfd pfd = { .events = POLLIN };
	struct skaccel_req req;
	union {
		struct skaccel_reply rep;
		char raw[sizeof(struct skaccel_reply) + 16];
	} buf;
	socklen_t len;
	ssize_t r;
	int fd, ret;

	ret = skaccel_unix_addr(path, &sun, &len);
	if (ret < 0)
		return ret;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	pfd.fd = fd;
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		ret = -errno;
		goto out;
	}
	skaccel_req_init(&req, SKACCEL_OP_PING, 1);
	r = skaccel_send_fd(fd, &req, sizeof(req), -1, MSG_DONTWAIT);
	if (r != (ssize_t)sizeof(req)) {
		ret = r < 0 ? (int)r : -EPROTO;
		goto out;
	}
	do
		ret = poll(&pfd, 1, timeout_ms);
	while (ret < 0 && errno == EINTR); /* a signal before exec: close enough to the bound */
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -ETIMEDOUT;
		goto out;
	}
	r = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT);
	if (r < 0) {
		ret = -errno;
		goto out;
	}
	if (r == 0) {
		ret = -ECONNRESET;
		goto out;
	}
	if (skaccel_reply_check(&buf.rep, r, &req) < 0) {
		ret = -EPROTO;
		goto out;
	}
	*status = buf.rep.status;
	ret = 0;
out:
	close(fd);
	return ret;
}
