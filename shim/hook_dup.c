// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The dup(), dup2() and dup3() hooks: the new fd is the same socket, with the same state. */
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/real.h"

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
	ret = real.dup3(oldfd, newfd, flags);
	if (ret >= 0)
		shim_fd_copy(oldfd, newfd);
	return ret;
}
