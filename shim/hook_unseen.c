// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fdopen() and recvmmsg() hooks: reads the shim cannot count. A stdio stream reads its
 * socket through libc's internal read, which no hook sees, and a thread blocked in
 * recvmmsg() waits in the TCP receive path like any other reader: a candidate read that
 * way (or that may be) is promoted before, or stays on TCP (promote.h).
 */
#include <stdio.h>

#include "shim/promote.h"
#include "shim/real.h"

SHIM_EXPORT FILE *fdopen(int fd, const char *mode)
{
	if (!SHIM_REAL_READY(fdopen)) {
		shim_enosys();
		return NULL;
	}
	/* Before the call: the stream may be read by another thread as soon as it exists. */
	shim_promote_before_unseen(fd);
	return real.fdopen(fd, mode);
}

SHIM_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
			 struct timespec *timeout)
{
	if (!SHIM_REAL_READY(recvmmsg))
		return shim_enosys();
	shim_promote_before_unseen(fd);
	return real.recvmmsg(fd, vec, vlen, flags, timeout);
}
