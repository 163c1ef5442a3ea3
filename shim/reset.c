// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A TCP socket closed with unread bytes in its receive queue sends a RST, not a FIN
 * (RFC 2525 2.17), and its peer learns at once that the rest of what it sends is lost:
 * its next send fails, a send blocked on a full window returns. A registered socket's
 * unread bytes sit in the sockmap's queue, which the kernel purges before tcp_close()
 * looks at its own empty queue, so the peer would get a FIN. SO_LINGER {1,0} set just
 * before the last close makes tcp_close() send the RST itself.
 *
 * Only the last close may do this: a {1,0} linger left on a socket that someone else
 * still holds would turn their later close into a reset. The shim cannot count the
 * file's references, so it resets only when it knows of no other holder: no other fd of
 * this process refers to the socket, and the socket was never inherited, received,
 * passed on by SCM_RIGHTS, or open across a fork() (SHIM_FD_SHARED). A socket left to a
 * child by posix_spawn() or vfork() is not seen; its close in the parent with unread
 * bytes resets the connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/real.h"
#include "shim/reset.h"
#include "shim/scm_walk.h"

/*
 * The fds that close together with the one at hand: a range (one fd for close(), dup2()
 * and dup3() over it; close_range(), closefrom()), or every close-on-exec fd (exec).
 */
struct closing {
	unsigned int first, last;
	bool cloexec;
};

static bool closes_too(int fd, const struct closing *c)
{
	int fl;

	if ((unsigned int)fd >= c->first && (unsigned int)fd <= c->last)
		return true;
	return c->cloexec && (fl = real.fcntl(fd, F_GETFD)) >= 0 && (fl & FD_CLOEXEC);
}

/* Another fd of this process, one that stays open, refers to the same socket (dup, F_DUPFD). */
static bool other_fd_holds(int fd, const struct closing *c)
{
	unsigned int high = shim_fd_high(), i;
	struct stat me, st;

	if (fstat(fd, &me) < 0)
		return true;
	for (i = 0; i <= high; i++) {
		if ((int)i == fd || !(shim_fd_get((int)i) & SHIM_FD_REGISTERED) ||
		    closes_too((int)i, c))
			continue;
		if (fstat((int)i, &st) == 0 && st.st_ino == me.st_ino && st.st_dev == me.st_dev)
			return true;
	}
	return false;
}

static void reset_if_unread(int fd, const struct closing *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int err = errno, unread = 0;

	/* Bytes in the sockmap's queue (tcp_bpf_ioctl); 0 on plain TCP sockets. */
	if (real.ioctl(fd, FIONREAD, &unread) == 0 && unread > 0 && !shim_in_vfork_child() &&
	    !other_fd_holds(fd, c))
		real.setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	errno = err;
}

void shim_reset_if_unread(int fd)
{
	reset_if_unread(fd,
			&(struct closing){ .first = (unsigned int)fd, .last = (unsigned int)fd });
}

/*
 * A socket handed to a helper that never answered may still wait in the helper's receive
 * queue (the fd in flight holds the file): the application's last close() is then not the
 * last reference, TCP sends neither FIN nor RST, and the peer waits for its EOF until the
 * helper reads its queue, which a stopped or stalled helper never does. So the last close
 * ends the connection itself, as tcp_close() would: a reset when bytes are unread or
 * SO_LINGER is {1, 0} (connect(AF_UNSPEC) is tcp_disconnect(), which sends it), else a FIN
 * with both directions shut (data arriving afterwards is answered with a reset, as for a
 * closed socket). Only an SO_LINGER timeout is not waited out: close() returns at once.
 */
static void end_connection(int fd)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct linger lg = { 0 };
	socklen_t len = sizeof(lg);
	int err = errno, unread = 0;

	if ((real.ioctl(fd, FIONREAD, &unread) == 0 && unread > 0) ||
	    (real.getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && lg.l_onoff &&
	     lg.l_linger == 0))
		real.connect(fd, &unspec, sizeof(unspec));
	else
		shutdown(fd, SHUT_RDWR);
	errno = err;
}

static void release_held(int fd, const struct closing *c)
{
	if (!shim_in_vfork_child() && !other_fd_holds(fd, c))
		end_connection(fd);
}

void shim_release_held(int fd)
{
	release_held(fd, &(struct closing){ .first = (unsigned int)fd, .last = (unsigned int)fd });
}

void shim_reset_closing(int fd, unsigned int st)
{
	if ((st & (SHIM_FD_REGISTERED | SHIM_FD_SHARED)) != SHIM_FD_REGISTERED)
		return;
	shim_reset_if_unread(fd);
	if (st & SHIM_FD_HELD)
		shim_release_held(fd);
}

void shim_reset_closing_range(unsigned int first, unsigned int last)
{
	const struct closing c = { .first = first, .last = last };
	unsigned int high = shim_fd_high(), fd, st;

	for (fd = first; fd <= last && fd <= high; fd++) {
		st = shim_fd_get((int)fd);
		if ((st & (SHIM_FD_REGISTERED | SHIM_FD_SHARED)) != SHIM_FD_REGISTERED)
			continue;
		reset_if_unread((int)fd, &c);
		if (st & SHIM_FD_HELD)
			release_held((int)fd, &c);
	}
}

void shim_release_held_all(void)
{
	unsigned int high = shim_fd_high(), i;

	if (shim_in_vfork_child())
		return;
	/* Every fd of the process closes now: another fd of the same socket holds nothing. */
	for (i = 0; i <= high; i++)
		if ((shim_fd_get((int)i) & (SHIM_FD_HELD | SHIM_FD_SHARED)) == SHIM_FD_HELD)
			end_connection((int)i);
}

void shim_release_held_cloexec(void)
{
	const struct closing c = { .first = 1, .last = 0, .cloexec = true };
	unsigned int high = shim_fd_high(), i;

	for (i = 0; i <= high; i++)
		if ((shim_fd_get((int)i) & (SHIM_FD_HELD | SHIM_FD_SHARED)) == SHIM_FD_HELD &&
		    closes_too((int)i, &c))
			release_held((int)i, &c);
}

static void mark_shared(int fd, void *ctx)
{
	/* A candidate too: the receiver's reads cannot be counted (promote.c). */
	if (shim_fd_get(fd) & (SHIM_FD_REGISTERED | SHIM_FD_CANDIDATE))
		shim_fd_add(fd, SHIM_FD_SHARED);
}

void shim_reset_note_passed(const struct msghdr *msg)
{
	shim_scm_for_each_fd(msg, mark_shared, NULL);
}
