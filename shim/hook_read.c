// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The read(), readv() and __read_chk() hooks. read() is the hottest call a program makes on
 * files and pipes: for anything but a registered socket it is one table lookup and libc.
 */
#include <unistd.h>

#include "shim/candidate_io.h"
#include "shim/promote.h"
#include "shim/readfix.h"
#include "shim/real.h"

/* flags: MSG_DONTWAIT when the read must not wait (candidate_io.h); only sockets get it. */
static ssize_t do_read(void *p, struct iovec *iov, int iovcnt, int flags)
{
	if (flags)
		return real.recv(*(int *)p, iov[0].iov_base, iov[0].iov_len, flags);
	return real.read(*(int *)p, iov[0].iov_base, iov[0].iov_len);
}

static ssize_t do_readv(void *p, struct iovec *iov, int iovcnt, int flags)
{
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };

	if (flags)
		return real.recvmsg(*(int *)p, &m, flags);
	return real.readv(*(int *)p, iov, iovcnt);
}

static ssize_t read_slow(int fd, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (shim_fd_is_candidate(fd))
		return shim_candidate_read(fd, &iov, 1, 0, do_read, &fd, false);
	return shim_read_blocking(fd, &iov, 1, 0, do_read, &fd);
}

/* Registered and blocking, or a candidate: the calls that cannot go straight to libc. */
static inline bool read_slow_path(int fd)
{
	return shim_read_needs_fixup(fd, 0) || shim_fd_is_candidate(fd);
}

SHIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	if (!SHIM_REAL_READY(read))
		return shim_enosys();
	if (__builtin_expect(!read_slow_path(fd), 1))
		return real.read(fd, buf, len);
	return read_slow(fd, buf, len);
}

SHIM_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
	if (!SHIM_REAL_READY(readv))
		return shim_enosys();
	if (__builtin_expect(!read_slow_path(fd), 1))
		return real.readv(fd, iov, iovcnt);
	/* shim_read_blocking() never writes to iov without MSG_WAITALL, which readv lacks. */
	if (shim_fd_is_candidate(fd))
		return shim_candidate_read(fd, (struct iovec *)iov, iovcnt, 0, do_readv, &fd,
					   false);
	return shim_read_blocking(fd, (struct iovec *)iov, iovcnt, 0, do_readv, &fd);
}

SHIM_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (!SHIM_REAL_READY(__read_chk) || !real.read)
		return shim_enosys();
	if (__builtin_expect(!read_slow_path(fd), 1) || len > buflen)
		return real.__read_chk(fd, buf, len, buflen);
	return read_slow(fd, buf, len);
}
