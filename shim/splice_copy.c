// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * splice() from a registered socket, served by copying. The kernel's splice read
 * (tcp_splice_read) looks only at the TCP receive queue, never at the psock queue where
 * every byte of a socket in the sockhash waits, redirected or not (KERNEL-NOTES §6.5): it
 * reports EOF or waits forever with data queued, a silent loss for proxies and Go-style
 * copy loops. So we peek what is there, write it to the pipe, and only then consume
 * exactly what the pipe took: a full or non-blocking pipe never costs a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/real.h"
#include "shim/splice_copy.h"

/* On the stack: small enough for the smallest thread stacks applications use. */
#define SPLICE_COPY_CHUNK (16 * 1024)

ssize_t shim_splice_copy(int fd_in, int fd_out, size_t len, unsigned int flags)
{
	char buf[SPLICE_COPY_CHUNK];
	int nonblock = flags & SPLICE_F_NONBLOCK;
	ssize_t peeked, written, taken;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if (nonblock) {
		/* splice(SPLICE_F_NONBLOCK) does not wait for room in the pipe either. */
		struct pollfd p = { .fd = fd_out, .events = POLLOUT };

		if (poll(&p, 1, 0) == 0) {
			errno = EAGAIN;
			return -1;
		}
	}
	peeked = real.recv(fd_in, buf, len, MSG_PEEK | (nonblock ? MSG_DONTWAIT : 0));
	if (peeked <= 0)
		return peeked;
	written = write(fd_out, buf, (size_t)peeked);
	if (written <= 0)
		return written;
	/*
	 * What we peeked is still at the head of the queue unless another thread read the
	 * same socket meanwhile, which splice() does not make safe either.
	 */
	taken = real.recv(fd_in, buf, (size_t)written, MSG_DONTWAIT);
	return taken < 0 ? written : taken;
}
