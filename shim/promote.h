/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Lazy promotion: a local connection is a candidate at connect()/accept() and is handed to
 * the helper only once it has carried enough, from inside a hooked read or write on it,
 * never while a hooked read on it may be waiting in the kernel.
 */
#ifndef SHIM_PROMOTE_H
#define SHIM_PROMOTE_H

#include <stdbool.h>
#include <sys/types.h>

#include "shim/fdtab.h"

/*
 * A connection is registered at the first hooked call after it has made SHIM_PROMOTE_AFTER
 * turns (a read after a write, or a write after a read, counted at each end on its own) or
 * carried SHIM_PROMOTE_KIB, or at a write that takes it there (SKACCEL_PROMOTE_AFTER=N
 * changes the turns; 0 registers it inside connect() and accept(), and a connect still in
 * progress at its first read or write). Two turns: a connection that carries one request
 * and one reply, however many reads the reply takes, and closes (client: write, read...;
 * server: read, write..., read of EOF) stays entirely on TCP and never pays the helper
 * round trip (connections per second, bench "crr64"; wrk without keepalive); a ping-pong
 * connection is promoted within its second exchange (both ends). 256 KiB: a one-way stream
 * is promoted after a few hundred microseconds of TCP; a reply of 64 KiB is not.
 */
#define SHIM_PROMOTE_AFTER 2u
#define SHIM_PROMOTE_KIB 256u
/*
 * A write smaller than this carries no KiB towards promotion: a one-way stream of small
 * writes stays on TCP, which is faster for it (Nagle and autocorking coalesce the writes
 * into large segments; on the redirect each write is one message and one wake-up of the
 * reader: 0.25-0.65x of TCP for 64 B and 1 KiB writes, docs/BENCHMARKS.md). Its reader is
 * promoted by what it reads and waits; small messages that turn (request/response) are
 * promoted by their turns, where the redirect is faster.
 */
#define SHIM_PROMOTE_WRITE_MIN 8192u

/*
 * A candidate due only by what it has read asks the helper to register it only if its peer
 * waits already (SKACCEL_REQ_IF_PEER_WAITS): the writer of a one-way stream registers by
 * its writes, ahead of its reader, unless it writes small (then both stay on TCP, where its
 * stream is faster). "No peer": it asks again after twice the bytes, up to this many times
 * (256 KiB, 512 KiB, ..., then every 64 MiB): a stream whose writer turns to large writes
 * later is found, at a cost of one round trip per 64 MiB at most.
 */
#define SHIM_PROMOTE_NO_PEER_LEVELS 8u

/* Lazy promotion is on (SKACCEL_PROMOTE_AFTER not 0). */
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

/* The same before a write of len bytes, which counts as carried already. */
void shim_promote_try_write(int fd, size_t len);

/*
 * Would a write of len bytes on the candidate fd promote it or count for anything? Not a
 * small write after a write (no turn, no KiB) when it is not due: the writer of a stream of
 * small writes, which stays on TCP, then pays one load per write and nothing more. A read
 * on another thread meanwhile may make the answer stale: a turn uncounted, no harm.
 */
bool shim_promote_write_matters(int fd, size_t len);

/*
 * fd is about to be read where the shim cannot count (passed by SCM_RIGHTS, fdopen(),
 * recvmmsg(), splice() from it): promote the candidate now, due or not, if no hooked read
 * on it is in progress; otherwise it stays on TCP for good.
 */
void shim_promote_before_unseen(int fd);

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
