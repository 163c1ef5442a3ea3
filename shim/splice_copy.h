/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* splice() from a registered socket, served by copying (see splice_copy.c for why). */
#ifndef SHIM_SPLICE_COPY_H
#define SHIM_SPLICE_COPY_H

#include <sys/types.h>

/*
 * Move up to len bytes from the socket fd_in into the pipe fd_out as splice(2) would,
 * honouring SPLICE_F_NONBLOCK. Returns bytes moved, 0 at EOF, or -1 with errno.
 */
ssize_t shim_splice_copy(int fd_in, int fd_out, size_t len, unsigned int flags);

#endif /* SHIM_SPLICE_COPY_H */
