// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the read fixups for registered sockets. The sockmap's spurious EAGAIN and
 * short MSG_WAITALL reads are scripted by a fake read function on top of a real socketpair,
 * so poll(), SO_RCVTIMEO and O_NONBLOCK are the kernel's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/readfix.h"
#include "tests/unit/skt_assert.h"

/*
 * The fake: the first `eagains` calls fail with EAGAIN at once (the sockmap's wake-up
 * without data); then each call reads at most `chunk` bytes from the real socket, ignoring
 * MSG_WAITALL as the sockmap does; after `ok_calls` successful reads it fails ECONNRESET.
 */
struct fake {
	int fd;
	int eagains;
	size_t chunk;
	int ok_calls;
	int calls;
};

static ssize_t fake_read(void *ctx, struct iovec *iov, int iovcnt, int flags)
{
	struct fake *f = ctx;
	size_t len = iov[0].iov_len < f->chunk ? iov[0].iov_len : f->chunk;
	ssize_t n;

	f->calls++;
	if (f->eagains > 0) {
		f->eagains--;
		errno = EAGAIN;
		return -1;
	}
	if (f->ok_calls == 0) {
		errno = ECONNRESET;
		return -1;
	}
	n = recv(f->fd, iov[0].iov_base, len, flags & ~MSG_WAITALL);
	if (n > 0 && f->ok_calls > 0)
		f->ok_calls--;
	return n;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Something to happen on the other end after a delay, in a thread. */
struct later {
	pthread_t thread;
	int fd;
	int delay_ms;
	const char *data; /* sent if not NULL */
	bool shut;	  /* then shutdown(SHUT_WR) */
	pthread_t kill;	  /* SIGUSR1 to it if set */
	bool do_kill;
};

static void *later_fn(void *p)
{
	struct later *l = p;
	struct timespec ts = { .tv_sec = l->delay_ms / 1000,
			       .tv_nsec = (l->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	if (l->data && send(l->fd, l->data, strlen(l->data), 0) < 0)
		perror("send");
	if (l->shut)
		shutdown(l->fd, SHUT_WR);
	if (l->do_kill)
		pthread_kill(l->kill, SIGUSR1);
	return NULL;
}

static void later_start(struct later *l)
{
	pthread_create(&l->thread, NULL, later_fn, l);
}

static void on_usr1(int sig)
{
}

static int pair(int type, int sv[2])
{
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	shim_fd_set(sv[0], SHIM_FD_REGISTERED);
	return 0;
}

static void set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static ssize_t rd(struct fake *f, char *buf, size_t len, int flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return shim_read_blocking(f->fd, &iov, 1, flags, fake_read, f);
}

static void test_spurious_eagain(void)
{
	struct later l = { 0 };
	char buf[64] = "";
	struct fake f;
	int sv[2];
	long t0;

	/* Spurious EAGAINs with data queued: retried at once, errno as before the call. */
	pair(SOCK_STREAM, sv);
	f = (struct fake){ .fd = sv[0], .eagains = 3, .chunk = 64, .ok_calls = -1 };
	ASSERT_EQ(send(sv[1], "hello", 5, 0), 5, "send");
	errno = 1234;
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), 5, "rd");
	ASSERT_EQ(errno, 1234, "errno");
	ASSERT_EQ(f.calls, 4, "f.calls");
	ASSERT_EQ(memcmp(buf, "hello", 5), 0, "memcmp");

	/* Spurious EAGAIN before the data exists: wait for it as a blocking recv() does. */
	f = (struct fake){ .fd = sv[0], .eagains = 1, .chunk = 64, .ok_calls = -1 };
	l = (struct later){ .fd = sv[1], .delay_ms = 150, .data = "late" };
	later_start(&l);
	t0 = now_ms();
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), 4, "rd");
	ASSERT_TRUE(now_ms() - t0 >= 140, "now_ms");
	pthread_join(l.thread, NULL);

	/* SO_RCVTIMEO set: EAGAIN once it has passed, counted from the call's start. */
	set_rcvtimeo(sv[0], 200);
	f = (struct fake){ .fd = sv[0], .eagains = 1000000, .chunk = 64, .ok_calls = -1 };
	t0 = now_ms();
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), -1, "rd");
	ASSERT_EQ(errno, EAGAIN, "errno");
	ASSERT_TRUE(now_ms() - t0 >= 190 && now_ms() - t0 < 600, "now_ms");
	/* ... and retried within it. */
	f = (struct fake){ .fd = sv[0], .eagains = 1, .chunk = 64, .ok_calls = -1 };
	l = (struct later){ .fd = sv[1], .delay_ms = 50, .data = "in time" };
	later_start(&l);
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), 7, "rd");
	pthread_join(l.thread, NULL);
	set_rcvtimeo(sv[0], 0);

	/* The file is non-blocking after all (a dup changed it): EAGAIN is the truth. */
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	f = (struct fake){ .fd = sv[0], .eagains = 1, .chunk = 64, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), -1, "rd");
	ASSERT_EQ(errno, EAGAIN, "errno");
	ASSERT_EQ(f.calls, 1, "f.calls");
	ASSERT_EQ(shim_fd_get(sv[0]), SHIM_FD_REGISTERED | SHIM_FD_NONBLOCK, "shim_fd_get");
	ASSERT_FALSE(shim_read_needs_fixup(sv[0], 0), "shim_read_needs_fixup");
	fcntl(sv[0], F_SETFL, 0);
	shim_fd_set(sv[0], SHIM_FD_REGISTERED);
	ASSERT_TRUE(shim_read_needs_fixup(sv[0], 0), "shim_read_needs_fixup");
	ASSERT_FALSE(shim_read_needs_fixup(sv[0], MSG_DONTWAIT), "shim_read_needs_fixup");

	/* A signal while waiting: EINTR, as from a blocking recv() interrupted. */
	sigaction(SIGUSR1, &(struct sigaction){ .sa_handler = on_usr1 }, NULL); /* no SA_RESTART */
	f = (struct fake){ .fd = sv[0], .eagains = 1000000, .chunk = 64, .ok_calls = -1 };
	l = (struct later){ .delay_ms = 100, .kill = pthread_self(), .do_kill = true };
	later_start(&l);
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), -1, "rd");
	ASSERT_EQ(errno, EINTR, "errno");
	pthread_join(l.thread, NULL);

	/* EOF after a spurious EAGAIN: 0. */
	f = (struct fake){ .fd = sv[0], .eagains = 1, .chunk = 64, .ok_calls = -1 };
	shutdown(sv[1], SHUT_WR);
	ASSERT_EQ(rd(&f, buf, sizeof(buf), 0), 0, "rd");
	close(sv[0]);
	close(sv[1]);
	shim_fd_clear(sv[0]);
}

static void test_waitall(void)
{
	char buf[64], big[16] = "";
	struct later l = { 0 };
	struct iovec iov[3];
	struct fake f;
	int sv[2];

	pair(SOCK_STREAM, sv);
	/* All there, handed out 3 bytes at a time: one full read. */
	ASSERT_EQ(send(sv[1], "0123456789", 10, 0), 10, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 3, .ok_calls = -1 };
	errno = 77;
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 10, "rd");
	ASSERT_EQ(errno, 77, "errno");
	ASSERT_EQ(f.calls, 4, "f.calls");
	ASSERT_EQ(memcmp(buf, "0123456789", 10), 0, "memcmp");

	/* Without MSG_WAITALL, or with MSG_PEEK, a short read is the answer. */
	ASSERT_EQ(send(sv[1], "0123456789", 10, 0), 10, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 3, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, 10, 0), 3, "rd");
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL | MSG_PEEK), 3, "rd");
	ASSERT_EQ(rd(&f, buf, 7, MSG_WAITALL), 7, "rd");

	/* The rest arrives later: wait for it. */
	ASSERT_EQ(send(sv[1], "abcde", 5, 0), 5, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 64, .ok_calls = -1 };
	l = (struct later){ .fd = sv[1], .delay_ms = 80, .data = "fghij" };
	later_start(&l);
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 10, "rd");
	ASSERT_EQ(memcmp(buf, "abcdefghij", 10), 0, "memcmp");
	pthread_join(l.thread, NULL);

	/* Scattered over several iovecs, one of them empty. */
	ASSERT_EQ(send(sv[1], "ABCDEFGHIJ", 10, 0), 10, "send");
	iov[0] = (struct iovec){ big, 4 };
	iov[1] = (struct iovec){ big + 4, 0 };
	iov[2] = (struct iovec){ big + 8, 6 };
	f = (struct fake){ .fd = sv[0], .chunk = 3, .ok_calls = -1 };
	ASSERT_EQ(shim_read_blocking(sv[0], iov, 3, MSG_WAITALL, fake_read, &f), 10,
		  "shim_read_blocking");
	ASSERT_EQ(memcmp(big, "ABCD", 4), 0, "memcmp");
	ASSERT_EQ(memcmp(big + 8, "EFGHIJ", 6), 0, "memcmp");
	ASSERT_EQ((long)iov[0].iov_len, 4,
		  "(long)iov[0].iov_len"); /* the caller's iovecs are left alone */

	/* An error after some data: the data now, the error on the next call. */
	ASSERT_EQ(send(sv[1], "0123456789", 10, 0), 10, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 3, .ok_calls = 2 };
	errno = 0;
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 6, "rd");
	ASSERT_EQ(errno, 0, "errno");
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), -1, "rd");
	ASSERT_EQ(errno, ECONNRESET, "errno");
	f = (struct fake){ .fd = sv[0], .chunk = 64, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, 4, 0), 4, "rd");

	/* SO_RCVTIMEO expires with part of the data: that part, as TCP returns it. */
	set_rcvtimeo(sv[0], 150);
	ASSERT_EQ(send(sv[1], "wxyz", 4, 0), 4, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 64, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 4, "rd");
	set_rcvtimeo(sv[0], 0);

	/* EOF in the middle: what came. */
	ASSERT_EQ(send(sv[1], "tail!!", 6, 0), 6, "send");
	shutdown(sv[1], SHUT_WR);
	f = (struct fake){ .fd = sv[0], .chunk = 4, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 6, "rd");
	close(sv[0]);
	close(sv[1]);
	shim_fd_clear(sv[0]);

	/* A stale entry on a datagram socket: messages are never merged. */
	pair(SOCK_SEQPACKET, sv);
	ASSERT_EQ(send(sv[1], "abc", 3, 0), 3, "send");
	ASSERT_EQ(send(sv[1], "def", 3, 0), 3, "send");
	f = (struct fake){ .fd = sv[0], .chunk = 64, .ok_calls = -1 };
	ASSERT_EQ(rd(&f, buf, 10, MSG_WAITALL), 3, "rd");
	close(sv[0]);
	close(sv[1]);
	shim_fd_clear(sv[0]);
}

int main(void)
{
	if (shim_fdtab_init() < 0)
		return 1;
	test_spurious_eagain();
	test_waitall();
	return skt_summary();
}
