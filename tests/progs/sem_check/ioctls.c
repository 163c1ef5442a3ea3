// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* What is queued: FIONREAD (also before accept) and MSG_PEEK. */
#include "tests/progs/sem_check/sem_check.h"

/* Wait (bounded) until FIONREAD reaches want; a wrong final value is a failure. */
static void expect_fionread(int fd, int want, const char *when)
{
	uint64_t t0 = now_ns();
	int got;

	while ((got = fionread(fd)) != want) {
		CHECK(got < want, "%s: FIONREAD %d, more than the %d bytes queued", when, got,
		      want);
		CHECK(now_ns() - t0 < 1000000000ull, "%s: FIONREAD %d, %d bytes are queued", when,
		      got, want);
		sleep_us(1000);
	}
}

/*
 * FIONREAD counts exactly what is readable, after several writes (acknowledged, so they
 * are in the reader's queue on plain TCP too), after a MSG_PEEK (which must not change
 * it) and after a partial read; a non-blocking read then returns exactly that much.
 */
static void fionread_check(int wfd, int rfd, struct vstream *w, struct vstream *rd, struct rng *r)
{
	int rounds = (int)rng_range(r, 1, 5), i, queued = (int)(w->off - rd->off);
	uint8_t *buf = malloc(64 * KIB);
	ssize_t n;

	CHECK(buf, "out of memory");
	for (i = 0; i < rounds; i++) {
		uint64_t len = rng_logsize(r, 1, 8 * KIB);

		send_stream(wfd, w, len, r);
		queued += (int)len;
		wait_acked(wfd, "writer");
		expect_fionread(rfd, queued, "after acknowledged writes");
	}
	rd->total = w->off;
	n = recv(rfd, buf, 64 * KIB, MSG_PEEK | MSG_DONTWAIT);
	CHECK(n == queued, "MSG_PEEK returned %zd%s%s with FIONREAD %d", n, n < 0 ? " " : "",
	      n < 0 ? strerror(errno) : "", queued);
	CHECK(fionread(rfd) == queued, "FIONREAD %d after MSG_PEEK, was %d", fionread(rfd), queued);
	if (queued > 1) {
		int part = (int)rng_range(r, 1, (uint64_t)queued - 1);

		n = recv(rfd, buf, (size_t)part, MSG_DONTWAIT);
		CHECK(n == part, "partial read of %d returned %zd with %d queued", part, n, queued);
		vs_check(rd, buf, (size_t)n);
		queued -= part;
		CHECK(fionread(rfd) == queued, "FIONREAD %d after reading %d, expected %d",
		      fionread(rfd), part, queued);
	}
	n = recv(rfd, buf, 64 * KIB, MSG_DONTWAIT);
	CHECK(n == queued, "non-blocking read returned %zd%s%s, FIONREAD said %d", n,
	      n < 0 ? " " : "", n < 0 ? strerror(errno) : "", queued);
	vs_check(rd, buf, (size_t)n);
	CHECK(fionread(rfd) == 0, "FIONREAD %d after draining", fionread(rfd));
	n = recv(rfd, buf, 1, MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN, "read after draining returned %zd, expected EAGAIN", n);
	free(buf);
}

void run_fionread(struct rng *r)
{
	struct vstream w, rd;
	int c, s;
	bool c2s = rng_chance(r, 50);

	test_pair(&c, &s);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "fionread stream");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "fionread stream");
	fionread_check(c2s ? c : s, c2s ? s : c, &w, &rd, r);
	fionread_check(c2s ? c : s, c2s ? s : c, &w, &rd, r);
	close(c);
	close(s);
}

/* Bytes that arrived before accept() count in FIONREAD right after it (KERNEL-NOTES §6.2). */
void run_fionread_preaccept(struct rng *r)
{
	struct vstream w, rd;
	struct endpoint l, t;
	uint64_t len = rng_logsize(r, 1, 32 * KIB);
	int lfd, c, s;

	lfd = test_listen(&l, 4, 0);
	t = test_target(&l);
	c = connect_to(&t);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "pre-accept stream");
	vs_init(&rd, g_opt.key, stream_id(1), len, "pre-accept stream");
	send_stream(c, &w, len, r);
	wait_acked(c, "client before accept");
	s = accept_one(lfd, 0);
	close(lfd);
	expect_fionread(s, (int)len, "right after accept()");
	fionread_check(c, s, &w, &rd, r);
	close(c);
	close(s);
}

/* MSG_PEEK then read returns the same bytes, peeks across several writes included. */
void run_peek(struct rng *r)
{
	struct later l = { .delay_us = 0, .then = LATER_SHUT_WR };
	struct vstream vs;
	uint8_t *pk = malloc(64 * KIB), *rb = malloc(64 * KIB);
	pthread_t th;
	int c, s;

	CHECK(pk && rb, "out of memory");
	test_pair(&c, &s);
	l.fd = c;
	l.len = rng_range(r, 64 * KIB, 1 * MIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "peek stream");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "peek stream");
	later_start(&th, &l, r);
	while (vs.off < vs.total) {
		size_t want = (size_t)rng_logsize(r, 1, 64 * KIB);
		ssize_t p = recv_timed(s, pk, want, MSG_PEEK, "MSG_PEEK"), p2, n;

		CHECK(p > 0, "MSG_PEEK returned %zd (%s) at offset %" PRIu64, p,
		      p < 0 ? strerror(errno) : "EOF", vs.off);
		if (rng_chance(r, 30)) {
			/* Peeking again shows at least the same bytes. */
			p2 = recv(s, rb, want, MSG_PEEK | MSG_DONTWAIT);
			CHECK(p2 >= p && !memcmp(pk, rb, (size_t)p),
			      "second MSG_PEEK differs from the first (%zd vs %zd bytes)", p2, p);
		}
		n = recv(s, rb, (size_t)p, MSG_DONTWAIT);
		CHECK(n == p, "read after a MSG_PEEK of %zd bytes returned %zd%s%s", p, n,
		      n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
		CHECK(!memcmp(pk, rb, (size_t)p),
		      "read returned different bytes than MSG_PEEK "
		      "at offset %" PRIu64,
		      vs.off);
		vs_check(&vs, rb, (size_t)n);
	}
	expect_eof(s, "after the stream");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(c);
	close(s);
	free(pk);
	free(rb);
}
