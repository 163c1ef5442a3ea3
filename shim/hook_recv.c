// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The recv() family hooks, fortified variants included. Untracked fds cost one table
 * lookup; registered blocking ones go through shim_recv_blocking() with a callback that
 * makes the real call.
 */
#include <limits.h>

#include "shim/adopt.h"
#include "shim/candidate_io.h"
#include "shim/init.h"
#include "shim/promote.h"
#include "shim/readfix.h"
#include "shim/real.h"

struct recv_ctx {
	int fd;
	struct sockaddr *addr; /* recvfrom() */
	socklen_t *alen;
	socklen_t alen0;
	struct msghdr *msg; /* recvmsg() */
	bool got_data;
};

static ssize_t do_recv(void *p, struct iovec *iov, int iovcnt, int flags)
{
	struct recv_ctx *c = p;

	return real.recv(c->fd, iov[0].iov_base, iov[0].iov_len, flags);
}

static ssize_t do_recvfrom(void *p, struct iovec *iov, int iovcnt, int flags)
{
	struct recv_ctx *c = p;

	if (c->alen)
		*c->alen = c->alen0; /* a failed attempt may have changed it */
	return real.recvfrom(c->fd, iov[0].iov_base, iov[0].iov_len, flags, c->addr, c->alen);
}

/*
 * The first call that returns data fills the application's msghdr (name, control, flags);
 * the calls that complete a MSG_WAITALL read only add bytes.
 */
static ssize_t do_recvmsg(void *p, struct iovec *iov, int iovcnt, int flags)
{
	struct recv_ctx *c = p;
	struct msghdr m = *c->msg;
	ssize_t n;

	m.msg_iov = iov;
	m.msg_iovlen = (size_t)iovcnt;
	if (c->got_data) {
		m.msg_name = NULL;
		m.msg_namelen = 0;
		m.msg_control = NULL;
		m.msg_controllen = 0;
	}
	n = real.recvmsg(c->fd, &m, flags);
	if (!c->got_data) {
		c->msg->msg_namelen = m.msg_namelen;
		c->msg->msg_controllen = m.msg_controllen;
		c->msg->msg_flags = m.msg_flags;
		c->got_data = n > 0;
	}
	return n;
}

/* Registered and in need of a fixup, or a candidate: the calls that cannot go to libc. */
static inline bool recv_slow_path(int fd, int flags, const struct iovec *iov, size_t iovcnt)
{
	return shim_recv_needs_fixup(fd, flags, iov, iovcnt) || shim_fd_is_candidate(fd);
}

static ssize_t recv_slow(int fd, void *buf, size_t len, int flags)
{
	struct recv_ctx c = { .fd = fd };
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (shim_fd_is_candidate(fd))
		return shim_candidate_read(fd, &iov, 1, flags, do_recv, &c, true);
	return shim_recv_blocking(fd, &iov, 1, flags, do_recv, &c);
}

static ssize_t recvfrom_slow(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *alen)
{
	struct recv_ctx c = { .fd = fd, .addr = addr, .alen = alen, .alen0 = alen ? *alen : 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (shim_fd_is_candidate(fd))
		return shim_candidate_read(fd, &iov, 1, flags, do_recvfrom, &c, true);
	return shim_recv_blocking(fd, &iov, 1, flags, do_recvfrom, &c);
}

SHIM_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (!SHIM_REAL_READY(recv))
		return shim_enosys();
	if (__builtin_expect(!recv_slow_path(fd, flags, &(struct iovec){ buf, len }, 1), 1))
		return real.recv(fd, buf, len, flags);
	return recv_slow(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
			     socklen_t *alen)
{
	if (!SHIM_REAL_READY(recvfrom))
		return shim_enosys();
	if (__builtin_expect(!recv_slow_path(fd, flags, &(struct iovec){ buf, len }, 1), 1))
		return real.recvfrom(fd, buf, len, flags, addr, alen);
	return recvfrom_slow(fd, buf, len, flags, addr, alen);
}

SHIM_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct recv_ctx c = { .fd = fd, .msg = msg };
	ssize_t n;

	if (!SHIM_REAL_READY(recvmsg))
		return shim_enosys();
	/* A NULL msg or too many iovecs: let the kernel say EFAULT or EMSGSIZE. */
	if (!msg || msg->msg_iovlen > IOV_MAX ||
	    __builtin_expect(!recv_slow_path(fd, flags, msg->msg_iov, msg->msg_iovlen), 1))
		n = real.recvmsg(fd, msg, flags);
	else if (shim_fd_is_candidate(fd))
		n = shim_candidate_read(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, do_recvmsg,
					&c, true);
	else
		n = shim_recv_blocking(fd, msg->msg_iov, (int)msg->msg_iovlen, flags, do_recvmsg,
				       &c);
	/* Descriptors passed in by SCM_RIGHTS may be accelerated sockets (adopt.c). */
	if (n >= 0 && msg && msg->msg_controllen && shim_active())
		shim_adopt_received(msg);
	return n;
}

/*
 * _FORTIFY_SOURCE: the application called recv() with a buffer of known size buflen. The
 * real __recv_chk aborts when len > buflen; only calls that pass that check take our path.
 */
SHIM_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (!SHIM_REAL_READY(__recv_chk) || !real.recv)
		return shim_enosys();
	if (__builtin_expect(!recv_slow_path(fd, flags, &(struct iovec){ buf, len }, 1), 1) ||
	    len > buflen)
		return real.__recv_chk(fd, buf, len, buflen, flags);
	return recv_slow(fd, buf, len, flags);
}

SHIM_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
				   struct sockaddr *addr, socklen_t *alen)
{
	if (!SHIM_REAL_READY(__recvfrom_chk) || !real.recvfrom)
		return shim_enosys();
	if (__builtin_expect(!recv_slow_path(fd, flags, &(struct iovec){ buf, len }, 1), 1) ||
	    len > buflen)
		return real.__recvfrom_chk(fd, buf, len, buflen, flags, addr, alen);
	return recvfrom_slow(fd, buf, len, flags, addr, alen);
}
