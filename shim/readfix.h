/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Making reads on a registered socket behave as on plain TCP (KERNEL-NOTES §6.3, §6.4). */
#ifndef SHIM_READFIX_H
#define SHIM_READFIX_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "shim/fdtab.h"

/*
 * The only question every read hook asks: is fd registered and, as far as we know,
 * blocking for this call? Everything else goes straight to libc.
 */
static inline bool shim_read_needs_fixup(int fd, int flags)
{
	return (shim_fd_get(fd) & (SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK)) == SHIM_FD_REGISTERED &&
	       !(flags & MSG_DONTWAIT);
}

/*
 * The recv() family asks more: a registered socket also needs the fixup, blocking or not,
 * for MSG_TRUNC and for a zero-length read (the sockmap path ignores the flag, and says 0
 * where TCP says EAGAIN on an empty queue).
 */
static inline bool shim_recv_needs_fixup(int fd, int flags, const struct iovec *iov, size_t iovcnt)
{
	unsigned int st = shim_fd_get(fd);
	size_t i;

	if (!(st & SHIM_FD_REGISTERED))
		return false;
	if (!((st & SHIM_FD_NONBLOCK) || (flags & MSG_DONTWAIT)) || (flags & MSG_TRUNC))
		return true;
	for (i = 0; i < iovcnt; i++)
		if (iov[i].iov_len)
			return false;
	return true;
}

/* One attempt of the application's call on iov[0..iovcnt): returns what libc returns. */
typedef ssize_t (*shim_read_fn)(void *ctx, struct iovec *iov, int iovcnt, int flags);

/* Most iovecs for which MSG_WAITALL is emulated; beyond, short reads pass through. */
#define SHIM_WAITALL_IOV_MAX 64

/*
 * Perform a read on a registered socket the application believes blocking, with flags
 * (MSG_*, 0 for read()/readv()), through fn: a spurious -1/EAGAIN (the sockmap receive
 * path wakes without data, e.g. after our own shutdown(SHUT_WR)) is waited out with
 * poll() within SO_RCVTIMEO; an EAGAIN or poll() interrupted by a signal handler becomes
 * EINTR or a restart, as TCP decides by SA_RESTART (sigwrap.h); MSG_WAITALL (which the
 * sockmap path ignores) keeps reading until the buffer is full, EOF or an error; and
 * MSG_TRUNC (ignored too) discards or counts without touching the buffer. Returns like the
 * real call, errno included; iov is not modified.
 */
ssize_t shim_read_blocking(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			   void *ctx);

/*
 * The same for the recv() family, where a zero-length read returns 0 when something is
 * readable; on an empty queue a blocking one waits for that (or SO_RCVTIMEO, or a signal)
 * and returns 0, a non-blocking one fails with EAGAIN, as on TCP.
 */
ssize_t shim_recv_blocking(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			   void *ctx);

/*
 * The same for a socket that may be inserted into the sockhash during the call (promote.h):
 * every attempt adds MSG_DONTWAIT and every wait is a poll(), so the call never waits on the
 * TCP receive queue the insert leaves behind. fn must honour flags (read() and readv()
 * attempts use recv() and recvmsg()); recv_family: the recv() rules for a zero-length read.
 * The application's own flags and O_NONBLOCK still decide whether the call waits.
 */
ssize_t shim_read_polling(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			  void *ctx, bool recv_family);

#endif /* SHIM_READFIX_H */
