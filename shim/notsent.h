/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* TCP_NOTSENT_LOWAT on registered sockets, set by the shim and hidden from the application. */
#ifndef SHIM_NOTSENT_H
#define SHIM_NOTSENT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "shim/fdtab.h"

/*
 * The unsent TCP bytes a registered writer may queue. When the data path falls back to
 * TCP (the reader is a full TCP window behind), the writer then blocks, as TCP's window
 * would block it, instead of queueing megabytes behind a window that the redirected bytes
 * keep closed; and its next write can go back to the redirect as soon as the reader has
 * every TCP byte, which cannot happen while unsent bytes wait in its send queue.
 * 1 byte: the writer waits until TCP has sent everything it holds. With 16 KiB, a writer
 * woken with bytes still unsent sent its next writes by TCP too (8-13% of a 100 MB stream
 * under load in core/accel_proof.sh, against under 5% with 1); while redirecting nothing is
 * ever unsent, so the mark costs nothing there.
 */
#define SHIM_NOTSENT_LOWAT 1u

/*
 * fd was just paired (or registered with SKACCEL_PROMOTE_AFTER=0): bound its unsent bytes
 * unless the application set a mark; a non-blocking one only while it DRAINs.
 */
void shim_notsent_take(int fd);

/*
 * Before a blocking write of len bytes on a paired socket: if bytes it sent by TCP are
 * still unacknowledged, wait a little for them. The program redirects a message only
 * once the peer has every byte sent by TCP (docs/KERNEL-NOTES.md §3.3); the mark makes
 * the writer wait until they are sent, not until the peer's stack has them, and a reader
 * that holds its socket lock while it copies leaves them in its backlog meanwhile, so
 * without this wait one message by TCP (before the pairing, or after the reader fell
 * behind) made the next go by TCP too, and so on (core/accel_proof: 8-19% of a 100 MB
 * stream). Large writes only: a bulk writer's next write is worth 20 us, a small one's
 * is not. Bounded: the write then goes on as it would have.
 */
#define SHIM_SENT_WAIT_MIN (64u << 10)
#define SHIM_SENT_WAIT_STEP_NS 20000
#define SHIM_SENT_WAIT_STEPS 100
void shim_notsent_before_write(int fd, size_t len);

/*
 * Whether the writes of SHIM_SENT_WAIT_MIN or more on a fd in state st (its fd table bits)
 * wait first: a blocking socket with our mark. write_watch.h asks it too, so that the
 * other writes of such a socket skip the call.
 */
static inline bool shim_notsent_may_wait(unsigned int st)
{
	return (st & (SHIM_FD_LOWAT | SHIM_FD_NONBLOCK)) == SHIM_FD_LOWAT;
}

/* After a write on fd: a DRAIN socket whose send queue is empty drops the mark. */
void shim_notsent_drain_check(int fd);

/*
 * After the application made a LOWAT fd blocking or non-blocking (the fd table holds the
 * new state): the mark is set on blocking sockets only (notsent.c says why).
 */
void shim_notsent_blocking_changed(int fd);

/* fd was adopted: the process that registered it may have set the mark. */
void shim_notsent_adopt(int fd);

/* After a successful getsockopt(TCP_NOTSENT_LOWAT) on a LOWAT fd: show what the app set (0). */
void shim_notsent_hide(int fd, void *val, const socklen_t *len);

/* After a successful setsockopt(TCP_NOTSENT_LOWAT) on a LOWAT fd. */
void shim_notsent_after_set(int fd, const void *val, socklen_t len);

#endif /* SHIM_NOTSENT_H */
