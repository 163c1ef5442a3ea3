/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Hooked reads on a candidate: the read side of lazy promotion (promote.h). */
#ifndef SHIM_CANDIDATE_IO_H
#define SHIM_CANDIDATE_IO_H

#include <stdbool.h>

#include "shim/readfix.h"

/*
 * A read on the candidate fd, made through fn as readfix.h's calls make it (fn must honour
 * flags, MSG_DONTWAIT included; recv_family: recv() rules). Promotes fd first when it is
 * due, then reads without ever waiting in the kernel across a promotion. Returns like the
 * real call, errno included.
 */
ssize_t shim_candidate_read(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			    void *ctx, bool recv_family);

#endif /* SHIM_CANDIDATE_IO_H */
