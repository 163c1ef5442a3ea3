// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sendfile() hooks: a write like any other (write_watch.h, which may shorten it on a
 * non-blocking socket). A server that sends its files with sendfile() (nginx, iperf3 -Z)
 * would otherwise never count its writes, and its connections would never be promoted.
 */
#include <sys/sendfile.h>

#include "shim/real.h"
#include "shim/write_watch.h"

SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	ssize_t n;

	if (!SHIM_REAL_READY(sendfile))
		return shim_enosys();
	if (__builtin_expect(!shim_write_watched(out_fd, count), 1))
		return real.sendfile(out_fd, in_fd, offset, count);
	count = shim_write_before(out_fd, count);
	n = real.sendfile(out_fd, in_fd, offset, count);
	shim_write_after(out_fd, n);
	return n;
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	ssize_t n;

	if (!SHIM_REAL_READY(sendfile64))
		return shim_enosys();
	if (__builtin_expect(!shim_write_watched(out_fd, count), 1))
		return real.sendfile64(out_fd, in_fd, offset, count);
	count = shim_write_before(out_fd, count);
	n = real.sendfile64(out_fd, in_fd, offset, count);
	shim_write_after(out_fd, n);
	return n;
}
