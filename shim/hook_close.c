// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The close(), close_range() and closefrom() hooks: closed fds lose their state, and the
 * last close of a registered socket with unread bytes resets the connection; that of a
 * socket a silent helper may still hold ends the connection itself (reset.c).
 */
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/real.h"
#include "shim/reset.h"

SHIM_EXPORT int close(int fd)
{
	unsigned int st;

	if (!SHIM_REAL_READY(close))
		return shim_enosys();
	st = shim_fd_get(fd);
	if (__builtin_expect((st & (SHIM_FD_REGISTERED | SHIM_FD_SHARED)) == SHIM_FD_REGISTERED, 0))
		shim_reset_closing(fd, st);
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
	/* CLOSE_RANGE_CLOEXEC closes nothing now; exec will (hook_exec.c). */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first <= last)
		shim_reset_closing_range(first, last);
	ret = real.close_range(first, last, flags);
	/* A vfork() child (python's subprocess) closes its copies, not the parent's fds. */
	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && !shim_in_vfork_child())
		shim_fd_clear_range(first, last);
	return ret;
}

/* glibc's closefrom() calls its close_range() directly, not through our hook. */
SHIM_EXPORT void closefrom(int lowfd)
{
	unsigned int first = lowfd > 0 ? (unsigned int)lowfd : 0; /* as glibc's */

	if (!SHIM_REAL_READY(closefrom)) {
		close_range(first, ~0u, 0);
		return;
	}
	shim_reset_closing_range(first, ~0u);
	real.closefrom(lowfd);
	if (!shim_in_vfork_child())
		shim_fd_clear_range(first, ~0u);
}
