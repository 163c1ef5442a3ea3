// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The close() and close_range() hooks: closed fds lose their state, and the last close
 * of a registered socket with unread bytes resets the connection; that of a socket a
 * silent helper may still hold ends the connection itself (reset.c).
 */
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/real.h"
#include "shim/reset.h"

SHIM_EXPORT int close(int fd)
{
	unsigned int st;

	if (!SHIM_REAL_READY(close))
		return shim_enosys();
	st = shim_fd_get(fd);
	if (__builtin_expect((st & (SHIM_FD_REGISTERED | SHIM_FD_SHARED)) == SHIM_FD_REGISTERED,
			     0)) {
		shim_reset_if_unread(fd);
		if (st & SHIM_FD_HELD)
			shim_release_held(fd);
	}
	/*
	 * Forget first: once the real close() returns, another thread may get the same number
	 * from accept() and register it, and we must not wipe that. (close() frees the number
	 * even when it fails with EINTR or EIO, so there is no failure to undo.)
	 */
	shim_fd_clear(fd);
	return real.close(fd);
}

SHIM_EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int ret;

	if (!SHIM_REAL_READY(close_range))
		return shim_enosys();
	ret = real.close_range(first, last, flags);
	/* CLOSE_RANGE_CLOEXEC closes nothing now; exec will, and exec drops our table too. */
	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		shim_fd_clear_range(first, last);
	return ret;
}
