/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Lazy promotion: a local connection is a candidate at connect()/accept() and is handed to
 * the helper only once it has carried enough, from inside a hooked read or write on it,
 * never while a hooked read on it may be waiting in the kernel or bytes wait unread.
 */
#ifndef SHIM_PROMOTE_H
#define SHIM_PROMOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "shim/fdtab.h"

/*
 * Lazy promotion is off by default (shim_cfg.promote_after 0: a connection is registered
 * inside connect() and accept(), and a connect still in progress at its first read or
 * write). With SKACCEL_PROMOTE_AFTER=N it is registered at the first hooked call after N
 * reads and writes that moved data. N = 3, the value measured here: 3 leaves a connection that
 * carries one request and one reply, then closes (both ends' calls: write, read / read, write, read
 * of EOF), entirely on TCP: such connections never pay the helper round trip (connections per
 * second, bench "crr64"); a ping-pong connection is promoted within its second exchange, a one-way
 * stream before its fourth write.
 */
#define SHIM_PROMOTE_AFTER 3u

/* Lazy promotion is on (SKACCEL_PROMOTE_AFTER above 0). */
bool shim_promote_lazy(void);

/* Map the per-fd promotion words. 0 or -errno; without them nothing becomes a candidate. */
int shim_promote_init(void);

/* fd is a local TCP connection: make it a candidate (nonblock: its SHIM_FD_NONBLOCK bit). */
void shim_promote_candidate(int fd, unsigned int nonblock);

/*
 * A hooked read or write is about to run on the candidate fd: hand it to the helper now if
 * it has carried enough, it is not shared, and no hooked read on it is in progress.
 */
void shim_promote_try(int fd);

/*
 * A hooked read on the candidate fd starts; a promotion in progress on another thread is
 * waited out first (the fd may be registered when this returns: check). True: go ahead
 * (the read may block; no promotion starts until shim_promote_leave() with n, the read's
 * result). False: a signal handler reading on the thread that is promoting fd, or too many
 * readers to count: the read must not wait in the kernel (serve it with MSG_DONTWAIT and
 * poll(), which see the socket before and after the insert); no leave.
 */
bool shim_promote_enter(int fd);
void shim_promote_leave(int fd, ssize_t n);

/* A hooked write on the candidate fd returned n. */
void shim_promote_count(int fd, ssize_t n);

static inline bool shim_fd_is_candidate(int fd)
{
	return shim_fd_get(fd) & SHIM_FD_CANDIDATE;
}

#endif /* SHIM_PROMOTE_H */
