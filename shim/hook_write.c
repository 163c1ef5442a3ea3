// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The write(), writev(), send() and sendto() hooks: around the real call, what a watched
 * fd's writes do (write_watch.h, which may shorten a write on a non-blocking socket); for
 * every other fd, one table lookup.
 */
#include <unistd.h>

#include "shim/write_watch.h"
#include "shim/real.h"

SHIM_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t n;

	if (!SHIM_REAL_READY(write))
		return shim_enosys();
	if (__builtin_expect(!shim_write_watched(fd, len), 1))
		return real.write(fd, buf, len);
	len = shim_write_before(fd, len);
	n = real.write(fd, buf, len);
	shim_write_after(fd, n);
	return n;
}

SHIM_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct iovec cut[SHIM_IOV_CUT_MAX];
	size_t len;
	ssize_t n;
	int k;

	if (!SHIM_REAL_READY(writev))
		return shim_enosys();
	if (__builtin_expect(!shim_writev_watched(fd, iov, iovcnt, &len), 1))
		return real.writev(fd, iov, iovcnt);
	k = shim_iov_cut(iov, iovcnt, shim_write_before(fd, len), cut);
	n = k ? real.writev(fd, cut, k) : real.writev(fd, iov, iovcnt);
	shim_write_after(fd, n);
	return n;
}

SHIM_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t n;

	if (!SHIM_REAL_READY(send))
		return shim_enosys();
	if (__builtin_expect(!shim_write_watched(fd, len), 1))
		return real.send(fd, buf, len, flags);
	len = shim_write_before(fd, len);
	n = real.send(fd, buf, len, flags);
	shim_write_after(fd, n);
	return n;
}

SHIM_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *addr, socklen_t alen)
{
	ssize_t n;

	if (!SHIM_REAL_READY(sendto))
		return shim_enosys();
	if (__builtin_expect(!shim_write_watched(fd, len), 1))
		return real.sendto(fd, buf, len, flags, addr, alen);
	len = shim_write_before(fd, len);
	n = real.sendto(fd, buf, len, flags, addr, alen);
	shim_write_after(fd, n);
	return n;
}
