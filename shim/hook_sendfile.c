// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sendfile() hooks: a write like any other (write_watch.h, which may shorten it on a
 * non-blocking socket). A server that sends its files with sendfile() (nginx, iperf3 -Z)
 * would otherwise never count its writes, and its connections would never be promoted.
 */
#include <stdbool.h>
#include <sys/sendfile.h>

#include "shim/real.h"
#include "shim/write_watch.h"

/*
 * What both hooks do around their real call, which differs only in the offset's type
 * (off_t is 32 bits on some ABIs, off64_t never): whether out_fd is watched, with *count
 * made what the call may pass on.
 */
static inline bool sendfile_before(int out_fd, size_t *count)
{
	if (__builtin_expect(!shim_write_watched(out_fd, *count), 1))
		return false;
	*count = shim_write_before(out_fd, *count);
	return true;
}

/* n: what the real call returned, and what the hook returns. */
static inline ssize_t sendfile_after(int out_fd, bool watched, ssize_t n)
{
	if (watched)
		shim_write_after(out_fd, n);
	return n;
}

SHIM_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	bool watched;

	if (!SHIM_REAL_READY(sendfile))
		return shim_enosys();
	watched = sendfile_before(out_fd, &count);
	return sendfile_after(out_fd, watched, real.sendfile(out_fd, in_fd, offset, count));
}

SHIM_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	bool watched;

	if (!SHIM_REAL_READY(sendfile64))
		return shim_enosys();
	watched = sendfile_before(out_fd, &count);
	return sendfile_after(out_fd, watched, real.sendfile64(out_fd, in_fd, offset, count));
}
