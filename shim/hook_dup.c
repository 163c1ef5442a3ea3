// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The dup(), dup2() and dup3() hooks: the new fd is the same socket, with the same state.
 * dup2() and dup3() over an open fd close its file silently: that is a close() of it
 * (reset.c), and its number takes the copied fd's state, keeping none of its own.
 */
#include <fcntl.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/real.h"
#include "shim/reset.h"

/* newfd is about to be closed by a dup2() or dup3() of oldfd that will succeed. */
static void closing_over(int oldfd, int newfd)
{
	unsigned int st = shim_fd_get(newfd);

	/* An invalid oldfd fails the call and leaves newfd open: do nothing to its socket. */
	if (__builtin_expect((st & (SHIM_FD_REGISTERED | SHIM_FD_SHARED)) == SHIM_FD_REGISTERED,
			     0) &&
	    oldfd != newfd && real.fcntl(oldfd, F_GETFD) >= 0)
		shim_reset_closing(newfd, st);
}

SHIM_EXPORT int dup(int fd)
{
	int ret;

	if (!SHIM_REAL_READY(dup))
		return shim_enosys();
	ret = real.dup(fd);
	if (ret >= 0)
		shim_fd_copy(fd, ret);
	return ret;
}

SHIM_EXPORT int dup2(int oldfd, int newfd)
{
	int ret;

	if (!SHIM_REAL_READY(dup2))
		return shim_enosys();
	closing_over(oldfd, newfd);
	ret = real.dup2(oldfd, newfd);
	/* newfd's old file is gone; dup2(fd, fd) changes nothing (shim_fd_copy skips it). */
	if (ret >= 0)
		shim_fd_copy(oldfd, newfd);
	return ret;
}

SHIM_EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int ret;

	if (!SHIM_REAL_READY(dup3))
		return shim_enosys();
	if (!(flags & ~O_CLOEXEC)) /* else EINVAL, nothing closed */
		closing_over(oldfd, newfd);
	ret = real.dup3(oldfd, newfd, flags);
	if (ret >= 0)
		shim_fd_copy(oldfd, newfd);
	return ret;
}
