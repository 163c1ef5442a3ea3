// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Hooked reads on a candidate. Each may promote the socket first (promote.c), then reads
 * counted in (it may wait in the kernel: no promotion starts meanwhile), after any
 * promotion in progress, or, in a signal handler on the promoting thread, polling
 * (readfix.c), which is safe across the insert. A read that finds its socket promoted gets
 * the registered socket's fixups.
 */
#include <errno.h>

#include "shim/candidate_io.h"
#include "shim/fdtab.h"
#include "shim/promote.h"

static ssize_t registered_read(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			       void *ctx, bool recv_family)
{
	if (recv_family) {
		if (shim_recv_needs_fixup(fd, flags, iov, (size_t)iovcnt))
			return shim_recv_blocking(fd, iov, iovcnt, flags, fn, ctx);
	} else if (shim_read_needs_fixup(fd, flags)) {
		return shim_read_blocking(fd, iov, iovcnt, flags, fn, ctx);
	}
	return fn(ctx, iov, iovcnt, flags);
}

ssize_t shim_candidate_read(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			    void *ctx, bool recv_family)
{
	int saved_errno = errno, err;
	ssize_t n;

	shim_promote_try(fd);
	errno = saved_errno;
	if (!shim_fd_is_candidate(fd))
		return registered_read(fd, iov, iovcnt, flags, fn, ctx, recv_family);
	if (!shim_promote_enter(fd))
		return shim_read_polling(fd, iov, iovcnt, flags, fn, ctx, recv_family);
	/* Counted in: any promotion is over, and it may have registered fd. */
	if (!shim_fd_is_candidate(fd)) {
		shim_promote_leave(fd, 0);
		errno = saved_errno;
		return registered_read(fd, iov, iovcnt, flags, fn, ctx, recv_family);
	}
	n = fn(ctx, iov, iovcnt, flags);
	err = errno;
	shim_promote_leave(fd, n);
	errno = err;
	return n;
}
