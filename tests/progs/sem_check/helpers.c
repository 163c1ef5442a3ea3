// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Bounded reads, EOF checks and a delayed sender: what every sem_check scenario uses. */
#include "tests/progs/sem_check/sem_check.h"

/*
 * Blocking recv bounded by SO_RCVTIMEO. On timeout (EAGAIN after ~WAIT_MS) the reader
 * was stranded; EAGAIN well before the timeout is the spurious EAGAIN of KERNEL-NOTES §6.4.
 * Returns recv()'s result otherwise (errno kept for the caller on -1).
 */
ssize_t recv_timed(int fd, void *buf, size_t len, int flags, const char *what)
{
	uint64_t t0 = now_ns(), ms;
	ssize_t n;

	set_timeo(fd, SO_RCVTIMEO, WAIT_MS);
	do {
		n = test_recv(fd, buf, len, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		ms = (now_ns() - t0) / 1000000;
		if (ms < WAIT_MS * 9 / 10)
			fail("%s: blocking recv() returned EAGAIN after %" PRIu64
			     " ms, before its %d ms timeout (spurious EAGAIN, KERNEL-NOTES §6.4)",
			     what, ms, WAIT_MS);
		fail("%s: nothing arrived within %d ms: reader stranded", what, WAIT_MS);
	}
	return n;
}

/* Read exactly vs->total - vs->off stream bytes with bounded blocking reads. */
void recv_stream_timed(int fd, struct vstream *vs, const char *what)
{
	uint8_t buf[16384];

	while (vs->off < vs->total) {
		size_t want =
		    vs->total - vs->off < sizeof(buf) ? (size_t)(vs->total - vs->off) : sizeof(buf);
		ssize_t n = recv_timed(fd, buf, want, 0, what);

		CHECK(n >= 0, "%s: recv at offset %" PRIu64 " of %" PRIu64 " failed: %s", what,
		      vs->off, vs->total, strerror(errno));
		CHECK(n > 0, "%s: EOF at offset %" PRIu64 " of %" PRIu64 ": bytes LOST", what,
		      vs->off, vs->total);
		vs_check(vs, buf, (size_t)n);
	}
}

void expect_eof(int fd, const char *what)
{
	uint8_t b[64];
	ssize_t n = recv_timed(fd, b, sizeof(b), 0, what);

	CHECK(n == 0, "%s: expected EOF, got %zd%s%s", what, n, n < 0 ? " errno " : " bytes",
	      n < 0 ? strerror(errno) : "");
}

void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r)
{
	stream_send(fd, vs, vs->off + len, r, 16 * KIB, 0, 0, NULL);
}

/* Wait until everything fd sent has been acknowledged, i.e. sits in the peer's queue. */
void wait_acked(int fd, const char *what)
{
	uint64_t t0 = now_ns();

	while (siocoutq(fd) > 0) {
		CHECK(now_ns() - t0 < WAIT_MS * 1000000ull,
		      "%s: %d bytes still unacked after %d ms", what, siocoutq(fd), WAIT_MS);
		sleep_us(1000);
	}
}

void *later_run(void *arg)
{
	struct later *l = arg;

	sleep_us(l->delay_us);
	send_stream(l->fd, &l->vs, l->len, &l->r);
	switch (l->then) {
	case LATER_CLOSE:
		close(l->fd);
		break;
	case LATER_RST: {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		wait_acked(l->fd, "before the RST");
		CHECK_SYS(!setsockopt(l->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
			  "setsockopt(SO_LINGER)");
		close(l->fd);
		break;
	}
	case LATER_SHUT_WR:
		CHECK_SYS(!shutdown(l->fd, SHUT_WR), "shutdown(SHUT_WR)");
		break;
	case LATER_NONE:
		break;
	}
	return NULL;
}

void later_start(pthread_t *th, struct later *l, struct rng *r)
{
	rng_init(&l->r, g_seed, rng_next(r));
	CHECK(!pthread_create(th, NULL, later_run, l), "pthread_create failed");
}
