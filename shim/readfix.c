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
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "shim/fdtab.h"
#include "shim/readfix.h"
#include "shim/real.h"
#include "shim/sigwrap.h"

/* After this many spurious EAGAINs in a row with data reported readable, sleep between tries. */
#define SPIN_LIMIT 8

/* MSG_TRUNC discards through a stack buffer this large, a chunk at a time. */
#define TRUNC_CHUNK 4096
/* MSG_PEEK|MSG_TRUNC counts at most this much (a peek cannot be done in chunks). */
#define TRUNC_PEEK_MAX (1u << 20)

struct read_state {
	int fd;
	struct timespec start; /* CLOCK_MONOTONIC at entry: SO_RCVTIMEO counts from here */
	long timeo_ms;	       /* SO_RCVTIMEO, 0 = none, -1 = not asked yet */
	int spins;
	int flags;		    /* the MSG_* flags of the application's call */
	bool polling;		    /* every attempt MSG_DONTWAIT, every wait a poll() */
	struct shim_sig_count sigs; /* handlers run on this thread before the call */
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
 * A signal handler ran during the call (sigwrap.c counts them). TCP fails a wait interrupted
 * by one without SA_RESTART with EINTR, restarts it after one with SA_RESTART, and with
 * SO_RCVTIMEO set says EINTR either way (sock_intr_errno()). Returns -EINTR or 0 (go on).
 * rs->timeo_ms must be known.
 */
static int signal_verdict(const struct read_state *rs)
{
	switch (shim_sig_since(&rs->sigs)) {
	case SHIM_SIG_INTR:
		return -EINTR;
	case SHIM_SIG_RESTART:
		return rs->timeo_ms > 0 ? -EINTR : 0;
	default:
		return 0;
	}
}

/*
 * A blocking read returned EAGAIN. Returns 0 when the read should be retried (data may be
 * there now), or the -errno the application gets: -EAGAIN when the socket is really
 * non-blocking or SO_RCVTIMEO has expired, -EINTR when a signal interrupted the wait.
 */
static int wait_spurious(struct read_state *rs)
{
	struct pollfd pfd = { .fd = rs->fd, .events = POLLIN };
	long timeo, left = -1;
	int fl, r;

	if (rs->flags & MSG_DONTWAIT)
		return -EAGAIN; /* a MSG_TRUNC call, which comes here even when not blocking */
	fl = real.fcntl(rs->fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK)) {
		if (fl >= 0)
			shim_fd_add(rs->fd, SHIM_FD_NONBLOCK);
		return -EAGAIN; /* really non-blocking: EAGAIN is the true answer */
	}
	timeo = rcvtimeo_ms(rs);
	if (timeo < 0)
		return -EAGAIN; /* not a socket (a stale table entry): report what came */
	/*
	 * The sockmap path answers a wait interrupted by a signal with EAGAIN, and the handler
	 * has run by now: poll() below would not see the signal and could wait forever.
	 */
	r = signal_verdict(rs);
	if (r)
		return r;
	if (timeo > 0) {
		left = timeo - elapsed_ms(&rs->start);
		if (left <= 0)
			return -EAGAIN; /* the application's timeout: EAGAIN, as TCP says it */
	}
	if (++rs->spins > SPIN_LIMIT) {
		/* Readable yet nothing to read, again and again: do not burn a CPU on it. */
		struct timespec ms = { .tv_nsec = 1000000 };

		nanosleep(&ms, NULL);
	}
	r = poll(&pfd, 1, left > INT_MAX ? -1 : (int)left);
	if (r < 0 && errno == EINTR && shim_sig_since(&rs->sigs) != SHIM_SIG_NONE)
		return signal_verdict(rs); /* a wrapped handler: EINTR or a restart, as TCP */
	if (r < 0)
		return -errno; /* EINTR from a handler we do not know (set before init): EINTR */
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

/* The reads of one call: retry spurious EAGAINs, and complete MSG_WAITALL. */
static ssize_t read_loop(struct read_state *rs, struct iovec *iov, int iovcnt, int flags,
			 shim_read_fn fn, void *ctx)
{
	struct iovec local[SHIM_WAITALL_IOV_MAX], *cur = iov;
	bool waitall =
	    (flags & (MSG_WAITALL | MSG_PEEK)) == MSG_WAITALL && iovcnt <= SHIM_WAITALL_IOV_MAX;
	int saved_errno = errno, curcnt = iovcnt, err;
	size_t total = 0;
	ssize_t n;

	rs->flags = flags;
	for (;;) {
		n = fn(ctx, cur, curcnt, rs->polling ? flags | MSG_DONTWAIT : flags);
		if (n > 0) {
			total += (size_t)n;
			rs->spins = 0; /* (polling waits once per chunk of a MSG_WAITALL read) */
			if (!waitall)
				break;
			if (cur == iov) {
				/*
				 * A short read under MSG_WAITALL. Check once that this is still a
				 * stream socket (a stale entry could be a datagram socket, where
				 * reading on would merge messages).
				 */
				if (!is_stream(rs->fd))
					break;
				memcpy(local, iov, sizeof(*iov) * (size_t)iovcnt);
				cur = local;
			}
			iov_advance(&cur, &curcnt, (size_t)n);
			if (curcnt == 0)
				break;
			if (rcvtimeo_ms(rs) > 0 && elapsed_ms(&rs->start) >= rs->timeo_ms)
				break; /* TCP returns a partial read when SO_RCVTIMEO expires */
			continue;
		}
		if (n == 0)
			break; /* EOF (or an empty buffer): what we have */
		err = errno;
		if (err == EAGAIN || err == EWOULDBLOCK) {
			int r = wait_spurious(rs);

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

/*
 * MSG_TRUNC: TCP discards up to len bytes instead of copying them (with MSG_PEEK, only
 * counts them) and the buffer may be NULL; the sockmap path copies anyway (EFAULT). So read
 * into scratch memory. The first chunk waits as the call would (blocking, MSG_DONTWAIT or
 * MSG_WAITALL); later ones only take what is there, unless MSG_WAITALL, as one TCP read
 * returns what is queued. noinline: the chunk stays off the stack of every other read.
 */
static __attribute__((noinline)) ssize_t read_trunc(struct read_state *rs, size_t len, int flags,
						    shim_read_fn fn, void *ctx)
{
	char chunk[TRUNC_CHUNK];
	struct iovec v = { .iov_base = chunk };
	size_t total = 0, mapped = 0;
	int saved_errno = errno, err;
	ssize_t n;

	flags &= ~MSG_TRUNC;
	if (flags & MSG_PEEK) {
		/* A peek starts at the first byte every time: one buffer for the whole count. */
		v.iov_len = len < TRUNC_PEEK_MAX ? len : TRUNC_PEEK_MAX;
		if (v.iov_len > sizeof(chunk)) {
			void *p = mmap(NULL, v.iov_len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED) {
				v.iov_base = p;
				mapped = v.iov_len;
			} else {
				v.iov_len = sizeof(chunk); /* a short count is still a valid one */
			}
		}
		n = read_loop(rs, &v, 1, flags, fn, ctx);
		err = errno;
		if (mapped)
			munmap(v.iov_base, mapped);
		errno = n < 0 ? err : saved_errno;
		return n;
	}
	do {
		v.iov_len = len - total < sizeof(chunk) ? len - total : sizeof(chunk);
		n = read_loop(rs, &v, 1, flags, fn, ctx);
		if (n < 0 && total == 0)
			return -1;
		if (n <= 0)
			break; /* an error after data comes again on the next call */
		total += (size_t)n;
		if ((size_t)n < v.iov_len)
			break; /* all there was (or EOF, or SO_RCVTIMEO under MSG_WAITALL) */
		if (!(flags & MSG_WAITALL))
			flags |= MSG_DONTWAIT;
	} while (total < len);
	errno = saved_errno;
	return (ssize_t)total;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
	size_t total = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total)
			return SSIZE_MAX; /* the kernel would say EINVAL; we only need a bound */
		total += iov[i].iov_len;
	}
	return total;
}

static ssize_t read_call(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			 void *ctx, bool polling)
{
	/*
	 * A socket handed to a helper that never answered (SHIM_FD_HELD) may be inserted
	 * later, at any moment: a read waiting in the kernel then would be stranded
	 * (KERNEL-NOTES §3.5), so it is always served by polling, which survives the insert.
	 */
	struct read_state rs = { .fd = fd,
				 .timeo_ms = -1,
				 .polling = polling || (shim_fd_get(fd) & SHIM_FD_HELD) };

	clock_gettime(CLOCK_MONOTONIC, &rs.start);
	shim_sig_count_now(&rs.sigs);
	if (!real.fcntl || !real.getsockopt)
		shim_real_init();
	/* On a datagram socket (a stale entry) MSG_TRUNC means something else: pass it on. */
	if ((flags & MSG_TRUNC) && is_stream(fd))
		return read_trunc(&rs, iov_total(iov, iovcnt), flags, fn, ctx);
	return read_loop(&rs, iov, iovcnt, flags, fn, ctx);
}

/*
 * A zero-length recv() on TCP returns 0 when data or EOF is there; on an empty queue it
 * fails with EAGAIN if non-blocking, else waits once, for data, EOF, an error, a signal or
 * SO_RCVTIMEO, and returns 0 whichever came (a program may use it to wait for readability
 * without consuming). The sockmap path returns 0 at once. read() of 0 bytes never reaches
 * the protocol (sock_read_iter() returns 0): only the recv() family comes here.
 */
static ssize_t recv_zero(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			 void *ctx, bool polling)
{
	struct read_state rs = { .fd = fd, .timeo_ms = -1 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int saved_errno = errno, fl, r;
	bool nowait;
	long timeo;
	ssize_t n;

	if (!real.fcntl || !real.getsockopt)
		shim_real_init();
	n = fn(ctx, iov, iovcnt, polling ? flags | MSG_DONTWAIT : flags);
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return n; /* a real error, as TCP reports it before waiting */
	fl = real.fcntl(fd, F_GETFL);
	/* Not on a stale entry's datagram socket, where a zero-length read takes a message. */
	if (fl < 0 || !is_stream(fd) || (timeo = rcvtimeo_ms(&rs)) < 0) {
		errno = n < 0 ? EAGAIN : saved_errno;
		return n;
	}
	nowait = (flags & MSG_DONTWAIT) || (fl & O_NONBLOCK);
	r = poll(&pfd, 1, nowait ? 0 : timeo == 0 || timeo > INT_MAX ? -1 : (int)timeo);
	if (nowait && r == 0) {
		errno = EAGAIN; /* empty */
		return -1;
	}
	errno = saved_errno;
	return 0; /* readable, or woken by a signal or the timeout */
}

ssize_t shim_read_blocking(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			   void *ctx)
{
	return read_call(fd, iov, iovcnt, flags, fn, ctx, false);
}

ssize_t shim_recv_blocking(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			   void *ctx)
{
	if (iov_total(iov, iovcnt) == 0)
		return recv_zero(fd, iov, iovcnt, flags, fn, ctx, false);
	return read_call(fd, iov, iovcnt, flags, fn, ctx, false);
}

ssize_t shim_read_polling(int fd, struct iovec *iov, int iovcnt, int flags, shim_read_fn fn,
			  void *ctx, bool recv_family)
{
	if (recv_family && iov_total(iov, iovcnt) == 0)
		return recv_zero(fd, iov, iovcnt, flags, fn, ctx, true);
	return read_call(fd, iov, iovcnt, flags, fn, ctx, true);
}
