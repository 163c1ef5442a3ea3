// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Read fixups for registered sockets. The sockmap receive path (tcp_bpf_recvmsg) waits once
 * and turns a wake-up without data into -EAGAIN even on a blocking socket, and it ignores
 * MSG_WAITALL. Only reads on registered, blocking sockets come here; the cached O_NONBLOCK
 * bit is a hint (a dup or fork sibling may change the file's flags behind our back), so the
 * slow path asks the kernel again before it waits on the application's behalf.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "fdtab.h"
#include "readfix.h"
#include "real.h"

/* After this many spurious EAGAINs in a row with data reported readable, sleep between tries. */
#define SPIN_LIMIT 8

struct read_state {
	int fd;
	struct timespec start; /* CLOCK_MONOTONIC at entry: SO_RCVTIMEO counts from here */
	long timeo_ms;	       /* SO_RCVTIMEO, 0 = none, -1 = not asked yet */
	int spins;
};

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* SO_RCVTIMEO in ms (rounded up), 0 if none; -errno if the fd is no socket. */
static long rcvtimeo_ms(struct read_state *rs)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (rs->timeo_ms >= 0)
		return rs->timeo_ms;
	if (real.getsockopt(rs->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) < 0)
		return -errno;
	rs->timeo_ms = tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	return rs->timeo_ms;
}

/*
 * A blocking read returned EAGAIN. Returns 0 when the read should be retried (data may be
 * there now), or the -errno the application gets: -EAGAIN when the socket is really
 * non-blocking or SO_RCVTIMEO has expired, -EINTR when a signal interrupted the wait.
 */
static int wait_spurious(struct read_state *rs)
{
	struct pollfd pfd = {.fd = rs->fd, .events = POLLIN};
	long timeo, left = -1;
	int fl, r;

	fl = real.fcntl(rs->fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK)) {
		if (fl >= 0)
			shim_fd_add(rs->fd, SHIM_FD_NONBLOCK);
		return -EAGAIN; /* really non-blocking: EAGAIN is the true answer */
	}
	timeo = rcvtimeo_ms(rs);
	if (timeo < 0)
		return -EAGAIN; /* not a socket (a stale table entry): report what came */
	if (timeo > 0) {
		left = timeo - elapsed_ms(&rs->start);
		if (left <= 0)
			return -EAGAIN; /* the application's timeout: EAGAIN, as TCP says it */
	}
	if (++rs->spins > SPIN_LIMIT) {
		/* Readable yet nothing to read, again and again: do not burn a CPU on it. */
		struct timespec ms = {.tv_nsec = 1000000};

		nanosleep(&ms, NULL);
	}
	r = poll(&pfd, 1, left > INT_MAX ? -1 : (int)left);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -EAGAIN;
	return 0;
}

/* Drop the first n bytes from iov[0..*cnt). */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
	/* Skip empty entries so "nothing left" is *cnt == 0. */
	while (*cnt > 0 && (*iov)->iov_len == 0) {
		(*iov)++;
		(*cnt)--;
	}
}

static bool is_stream(int fd)
{
	socklen_t len = sizeof(int);
	int type;

	return real.getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

ssize_t shim_read_blocking(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			   void *ctx)
{
	struct read_state rs = {.fd = fd, .timeo_ms = -1};
	struct iovec local[SHIM_WAITALL_IOV_MAX], *cur = iov;
	bool waitall =
	    (flags & (MSG_WAITALL | MSG_PEEK)) == MSG_WAITALL && iovcnt <= SHIM_WAITALL_IOV_MAX;
	int saved_errno = errno, curcnt = iovcnt, err;
	size_t total = 0;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &rs.start);
	if (!real.fcntl || !real.getsockopt)
		shim_real_init();
	for (;;) {
		n = fn(ctx, cur, curcnt, flags);
		if (n > 0) {
			total += (size_t)n;
			if (!waitall)
				break;
			if (cur == iov) {
				/*
				 * A short read under MSG_WAITALL. Check once that this is still a
				 * stream socket (a stale entry could be a datagram socket, where
				 * reading on would merge messages).
				 */
				if (!is_stream(fd))
					break;
				memcpy(local, iov, sizeof(*iov) * (size_t)iovcnt);
				cur = local;
			}
			iov_advance(&cur, &curcnt, (size_t)n);
			if (curcnt == 0)
				break;
			if (rcvtimeo_ms(&rs) > 0 && elapsed_ms(&rs.start) >= rs.timeo_ms)
				break; /* TCP returns a partial read when SO_RCVTIMEO expires */
			continue;
		}
		if (n == 0)
			break; /* EOF (or an empty buffer): what we have */
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK) {
			int r = wait_spurious(&rs);

			if (r == 0)
				continue;
			err = -r;
		}
		if (total > 0)
			break; /* the error comes again on the next call, as TCP does it */
		errno = err;
		return -1;
	}
	errno = saved_errno;
	return (ssize_t)total;
}
