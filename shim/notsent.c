// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * TCP_NOTSENT_LOWAT on registered sockets. The redirect path never uses the writer's send
 * queue, so the mark costs nothing there; it bounds only what a writer queues on TCP
 * after a fallback (notsent.h). The application must not see it: getsockopt() returns
 * what it would without the shim (0: never set), and a mark the application sets itself
 * replaces ours and is what it reads back.
 *
 * Kept on blocking sockets. A non-blocking writer whose push by TCP stops at the mark gets
 * EAGAIN in the middle of a message, and the kernel then keeps that message's verdict for
 * the next send without running the program (tcp_bpf_send_verdict() resets it only after a
 * complete push, docs/KERNEL-NOTES.md §2.3): with a one-byte mark nearly every message of
 * a non-blocking bulk writer went by TCP unseen by the program while the reader was behind
 * (the redis and memcached tests saw up to 4 MB more on the wire than the counters said).
 *
 * But a non-blocking writer that sent by TCP before it was paired (lazy promotion: the
 * first calls of every connection) needs it for a while: the program redirects only once
 * the peer has every byte sent by TCP (§3.3), and a streaming writer without a mark keeps
 * its send queue full, so that moment never comes (nginx sending a file: all of it by
 * TCP). So such a socket DRAINs: the mark is set while its send queue holds anything, so
 * that poll() says writable only when everything is sent, and cleared by the first write
 * that finds the queue empty, from when its messages are redirected.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <linux/sockios.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/real.h"

/* The socket's own mark: 0 when nobody set one (the sysctl applies), -1 on error. */
static int kernel_mark(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (real.getsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &len) < 0 || len != sizeof(v))
		return -1;
	return v;
}

static int set_ours(int fd)
{
	int v = SHIM_NOTSENT_LOWAT;

	return real.setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
}

/* Bytes in the send queue, sent or not, not yet acknowledged (SIOCOUTQ), or -1. */
static int unacked(int fd)
{
	int n;

	if (!SHIM_REAL_READY(ioctl) || real.ioctl(fd, SIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

void shim_notsent_take(int fd)
{
	int err = errno;

	/* A mark the application set before the connection was registered stays. */
	if (kernel_mark(fd) != 0)
		goto out;
	if (!(shim_fd_get(fd) & SHIM_FD_NONBLOCK)) {
		if (set_ours(fd) == 0)
			shim_fd_add(fd, SHIM_FD_LOWAT);
	} else if (unacked(fd) > 0 && set_ours(fd) == 0) {
		shim_fd_add(fd, SHIM_FD_LOWAT | SHIM_FD_DRAIN);
	} else {
		shim_fd_add(fd, SHIM_FD_LOWAT);
	}
out:
	errno = err;
}

void shim_notsent_before_write(int fd, size_t len)
{
	struct timespec pause = { .tv_nsec = SHIM_SENT_WAIT_STEP_NS };
	unsigned int st = shim_fd_get(fd), i;
	int err = errno;

	if (!shim_notsent_may_wait(st) || len < SHIM_SENT_WAIT_MIN)
		return;
	for (i = 0; i < SHIM_SENT_WAIT_STEPS && unacked(fd) > 0; i++)
		nanosleep(&pause, NULL);
	errno = err;
}

void shim_notsent_drain_check(int fd)
{
	int err = errno, v = 0;

	if (!(shim_fd_get(fd) & SHIM_FD_DRAIN) || unacked(fd) != 0)
		return;
	if (real.setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)) == 0)
		shim_fd_del(fd, SHIM_FD_DRAIN);
	errno = err;
}

void shim_notsent_blocking_changed(int fd)
{
	unsigned int st = shim_fd_get(fd);
	int err = errno, v = 0;

	if (!(st & SHIM_FD_LOWAT))
		return; /* not ours to manage: the application's mark, or never registered */
	if (!(st & SHIM_FD_NONBLOCK))
		v = SHIM_NOTSENT_LOWAT;
	real.setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
	if (st & SHIM_FD_DRAIN)
		shim_fd_del(fd, SHIM_FD_DRAIN); /* blocking: kept for good; non-blocking: off */
	errno = err;
}

void shim_notsent_adopt(int fd)
{
	int err = errno;

	if (kernel_mark(fd) == SHIM_NOTSENT_LOWAT)
		shim_fd_add(fd, SHIM_FD_LOWAT);
	errno = err;
}

void shim_notsent_hide(int fd, void *val, const socklen_t *len)
{
	int err = errno;

	/* Set by the application through another fd of the same socket: its value shows. */
	if (val && len && *len > 0 && kernel_mark(fd) == SHIM_NOTSENT_LOWAT)
		memset(val, 0, *len < sizeof(int) ? *len : sizeof(int));
	errno = err;
}

void shim_notsent_after_set(int fd, const void *val, socklen_t len)
{
	int err = errno, v;

	if (!val || len < sizeof(int))
		return;
	memcpy(&v, val, sizeof(v));
	/*
	 * 0 asks for the system default, which is what the application reads back from us
	 * anyway: keep the bound. Any other value is the application's from now on.
	 */
	if (v == 0 && ((shim_fd_get(fd) & SHIM_FD_NONBLOCK) || set_ours(fd) == 0))
		goto out;
	shim_fd_del(fd, SHIM_FD_LOWAT | SHIM_FD_DRAIN);
out:
	errno = err;
}
