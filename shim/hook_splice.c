// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The splice() hook: a registered socket as the source is served by copying; a candidate
 * as the source is promoted first or stays on TCP, and a watched socket as the
 * destination counts the write (write_watch.h).
 */
#include <fcntl.h>

#include "shim/promote.h"
#include "shim/real.h"
#include "shim/splice_copy.h"
#include "shim/write_watch.h"

SHIM_EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
			   unsigned int flags)
{
	bool watched;
	ssize_t n;

	if (!SHIM_REAL_READY(splice))
		return shim_enosys();
	/* A candidate read by splice() (tcp_splice_read waits on the TCP queue): now or never. */
	if (__builtin_expect(shim_fd_get(fd_in) & SHIM_FD_CANDIDATE, 0))
		shim_promote_before_unseen(fd_in);
	watched = shim_write_watched(fd_out, len);
	if (__builtin_expect(watched, 0))
		shim_write_before(fd_out, len);
	if (__builtin_expect(!(shim_fd_get(fd_in) & SHIM_FD_REGISTERED), 1) || off_in || off_out)
		n = real.splice(fd_in, off_in, fd_out, off_out, len, flags);
	else
		n = shim_splice_copy(fd_in, fd_out, len, flags);
	if (__builtin_expect(watched, 0))
		shim_write_after(fd_out, n);
	return n;
}
