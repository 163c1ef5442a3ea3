/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What every hooked write (write, writev, send, sendto, sendmsg, sendfile, splice) does
 * around the real call on an fd the shim watches: a candidate may be promoted first and
 * counts what it carried (promote.h); a socket registered before its peer counts it too
 * and may ask whether it is paired now (pairwait.h); a non-blocking one that DRAINs may
 * drop its mark after the write, and a paired blocking one may wait for what it sent by
 * TCP before a large write (notsent.h). Every other write, the small ones of a paired
 * socket included: one table lookup.
 */
#ifndef SHIM_WRITE_WATCH_H
#define SHIM_WRITE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/pairwait.h"
#include "shim/promote.h"

/* Each of these bits gives shim_write_before() or shim_write_after() work on every write. */
#define SHIM_WRITE_WATCH_ANY (SHIM_FD_UNPAIRED | SHIM_FD_DRAIN)

/*
 * Whether a write of len bytes on fd goes through shim_write_before() and
 * shim_write_after(). A paired socket with our mark (LOWAT) and none of those bits needs
 * them only for the wait before a large blocking write: the counts are a candidate's or
 * an unpaired socket's, the drain check a DRAIN socket's. Its other writes, most of a
 * paired connection's, take the one-lookup path. So do a candidate's writes that count for
 * nothing (shim_promote_write_matters()): a stream of small writes stays on TCP, and its
 * writer must not pay for the promotion it never gets.
 */
static inline bool shim_write_watched_st(int fd, unsigned int st, size_t len)
{
	if (st & SHIM_WRITE_WATCH_ANY)
		return true;
	if (st & SHIM_FD_CANDIDATE)
		return shim_promote_write_matters(fd, len);
	return shim_notsent_may_wait(st) && len >= SHIM_SENT_WAIT_MIN;
}

static inline bool shim_write_watched(int fd, size_t len)
{
	return shim_write_watched_st(fd, shim_fd_get(fd), len);
}

/* The bytes an iovec array holds (saturating). */
static inline size_t shim_iov_bytes(const struct iovec *iov, int iovcnt)
{
	size_t sum = 0;
	int i;

	for (i = 0; iov && i < iovcnt; i++)
		sum = sum + iov[i].iov_len < sum ? (size_t)-1 : sum + iov[i].iov_len;
	return sum;
}

/*
 * shim_write_watched() for an iovec array, added up only on a candidate or a socket whose
 * writes may wait or are watched anyway; when watched, *len is its byte count, for
 * shim_write_before().
 */
static inline bool shim_writev_watched(int fd, const struct iovec *iov, int iovcnt, size_t *len)
{
	unsigned int st = shim_fd_get(fd);

	if (!(st & (SHIM_WRITE_WATCH_ANY | SHIM_FD_CANDIDATE)) && !shim_notsent_may_wait(st))
		return false;
	*len = shim_iov_bytes(iov, iovcnt);
	return shim_write_watched_st(fd, st, *len);
}

/*
 * len: the bytes the call is about to write (a large write promotes a candidate first).
 * Returns what the call may pass on (writev() and sendmsg() through shim_iov_cut()): len,
 * or, on a non-blocking socket still waiting for its peer, SHIM_PAIRWAIT_STEP. Such a socket sends
 * by TCP until it learns of the pairing, which it asks before every SHIM_PAIRWAIT_STEP bytes: a
 * short write, which a non-blocking socket may always return, keeps a 4 MiB write from going by TCP
 * whole because the peer was promoted a moment after it started.
 */
static inline size_t shim_write_before(int fd, size_t len)
{
	/* This order: a candidate this promotes has just been told; it asks later. */
	shim_pairwait_before(fd, len);
	shim_promote_try_write(fd, len);
	shim_notsent_before_write(fd, len);
	if (len > SHIM_PAIRWAIT_STEP && (shim_fd_get(fd) & (SHIM_FD_UNPAIRED | SHIM_FD_NONBLOCK)) ==
					    (SHIM_FD_UNPAIRED | SHIM_FD_NONBLOCK))
		return SHIM_PAIRWAIT_STEP;
	return len;
}

/* The most iovec entries a cut writev()/sendmsg() passes on (a short write either way). */
#define SHIM_IOV_CUT_MAX 64

/*
 * The first max bytes of iov into cut (at most SHIM_IOV_CUT_MAX entries, the last one
 * shortened): the number of entries, or 0 when there is nothing to cut (iov holds no more
 * than max) or nothing left (max 0, or only empty entries): then iov goes as it is.
 */
static inline int shim_iov_cut(const struct iovec *iov, int iovcnt, size_t max, struct iovec *cut)
{
	size_t sum = 0;
	int i, k = 0;

	if (!iov || shim_iov_bytes(iov, iovcnt) <= max)
		return 0;
	for (i = 0; i < iovcnt && k < SHIM_IOV_CUT_MAX && sum < max; i++) {
		if (!iov[i].iov_len)
			continue;
		cut[k] = iov[i];
		if (cut[k].iov_len > max - sum)
			cut[k].iov_len = max - sum;
		sum += cut[k++].iov_len;
	}
	return sum ? k : 0;
}

/* n: what the real call returned. */
static inline void shim_write_after(int fd, ssize_t n)
{
	shim_promote_count(fd, n);
	shim_pairwait_wrote(fd, n);
	shim_notsent_drain_check(fd);
}

#endif /* SHIM_WRITE_WATCH_H */
