// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The splice() hook: a registered socket as the source is served by copying. */
#include <fcntl.h>

#include "shim/fdtab.h"
#include "shim/real.h"
#include "shim/splice_copy.h"

SHIM_EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
			   unsigned int flags)
{
	if (!SHIM_REAL_READY(splice))
		return shim_enosys();
	/* A candidate read by splice() (tcp_splice_read waits on the TCP queue) stays on TCP. */
	if (__builtin_expect(shim_fd_get(fd_in) & SHIM_FD_CANDIDATE, 0))
		shim_fd_del(fd_in, SHIM_FD_CANDIDATE);
	if (__builtin_expect(!(shim_fd_get(fd_in) & SHIM_FD_REGISTERED), 1) || off_in || off_out)
		return real.splice(fd_in, off_in, fd_out, off_out, len, flags);
	return shim_splice_copy(fd_in, fd_out, len, flags);
}
