// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fdopen() and recvmmsg() hooks: reads the shim cannot count. A stdio stream reads its
 * socket through libc's internal read, which no hook sees, and a thread blocked in
 * recvmmsg() waits in the TCP receive path like any other reader: a candidate read that
 * way (or that may be) must never be promoted, so it stays on TCP (promote.c).
 */
#include <stdio.h>

#include "shim/fdtab.h"
#include "shim/real.h"

static void stay_on_tcp(int fd)
{
	if (shim_fd_get(fd) & SHIM_FD_CANDIDATE)
		shim_fd_del(fd, SHIM_FD_CANDIDATE);
}

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (!SHIM_REAL_READY(fdopen)) {
		shim_enosys();
		return NULL;
	}
	/* Before the call: the stream may be read by another thread as soon as it exists. */
	stay_on_tcp(fd);
	return real.fdopen(fd, mode);
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
			 struct timespec *timeout)
{
	if (!SHIM_REAL_READY(recvmmsg))
		return shim_enosys();
	stay_on_tcp(fd);
	return real.recvmmsg(fd, vec, vlen, flags, timeout);
}
