// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* What is queued: SIOCOUTQ/SIOCINQ and SO_RCVLOWAT. */
#include "tests/progs/semx_check/semx_check.h"

/* --- SIOCOUTQ / SIOCINQ ------------------------------------------------------------------ */

/*
 * What is comparable. SIOCOUTQ counts bytes sent but not yet acknowledged. A redirected
 * byte never enters the send queue, so under skaccel SIOCOUTQ is 0 right after a write,
 * where plain TCP shows the bytes until the ACK comes (microseconds on loopback, but
 * observable). What an application can rely on, and what is checked: SIOCOUTQ never
 * exceeds what was written; it drains to 0 once the peer's kernel has the bytes, even if
 * the peer has not read them (so "SIOCOUTQ == 0" still means "delivered to the peer"); a
 * writer told EAGAIN has bytes waiting (SIOCOUTQ > 0), because it is the send queue that
 * is full; and it is 0 again once the peer has read everything. SIOCINQ (the same ioctl
 * number as FIONREAD, which sem_check covers in depth) equals the bytes queued at the
 * reader after acknowledged writes and after partial reads.
 */
void run_outq(struct rng *r)
{
	struct vstream w, rd;
	uint8_t *buf = malloc(64 * KIB);
	uint64_t len, written = 0, t0;
	int c, s, wfd, rfd, q, part;
	ssize_t n;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rfd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "outq stream");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "outq stream");

	set_phase("writes to an idle reader");
	len = rng_logsize(r, 2, 32 * KIB);
	send_stream(wfd, &w, len, r);
	q = siocoutq(wfd);
	CHECK(q >= 0 && (uint64_t)q <= len, "SIOCOUTQ %d right after writing %" PRIu64 " bytes", q,
	      len);
	wait_outq_zero(wfd, "reader has not read");
	q = -1;
	CHECK_SYS(!ioctl(wfd, SIOCOUTQNSD, &q), "ioctl(SIOCOUTQNSD)");
	CHECK(q == 0, "SIOCOUTQNSD %d with everything acknowledged", q);
	expect_inq(rfd, (int)len, "after acknowledged writes");
	obs("idle reader: SIOCOUTQ drains to 0, SIOCOUTQNSD 0, SIOCINQ %d of %" PRIu64 " written",
	    fionread(rfd), len);

	set_phase("partial reads");
	part = (int)rng_range(r, 1, len - 1);
	n = recv(rfd, buf, (size_t)part, MSG_DONTWAIT);
	CHECK(n == part, "recv(%d) with %" PRIu64 " queued returned %s", part, len, RES(n, errno));
	rd.total = len;
	vs_check(&rd, buf, (size_t)n);
	CHECK(fionread(rfd) == (int)len - part, "SIOCINQ %d after reading %d of %" PRIu64,
	      fionread(rfd), part, len);
	recv_exact(rfd, &rd, "reading the rest");
	CHECK(fionread(rfd) == 0 && siocoutq(wfd) == 0,
	      "after reading everything: SIOCINQ %d, SIOCOUTQ %d, both 0 on plain TCP",
	      fionread(rfd), siocoutq(wfd));
	obs("after partial reads: SIOCINQ followed them; after the last: SIOCINQ 0, SIOCOUTQ 0");

	/* A non-blocking writer facing a reader that does not read, until EAGAIN. */
	set_phase("non-blocking writer until EAGAIN");
	set_nonblock(wfd, true);
	t0 = now_ns();
	for (;;) {
		size_t chunk = 64 * KIB;

		pat_fill(w.base, w.off, buf, chunk);
		n = send(wfd, buf, chunk, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		CHECK(n > 0, "non-blocking send after %" PRIu64 " bytes returned %s", written,
		      RES(n, errno));
		w.off += (uint64_t)n;
		written += (uint64_t)n;
		CHECK(written < 512 * MIB && ms_since(t0) < WAIT_MS,
		      "a non-blocking writer sent %" PRIu64 " MiB to a reader that does not "
		      "read without EAGAIN",
		      written / MIB);
	}
	q = siocoutq(wfd);
	CHECK(q > 0 && (uint64_t)q <= written,
	      "EAGAIN after %" PRIu64 " bytes with SIOCOUTQ %d: plain TCP holds the "
	      "unacknowledged bytes that filled the send buffer",
	      written, q);
	n = fionread(rfd);
	CHECK(n > 0 && (uint64_t)n <= written, "SIOCINQ %zd with %" PRIu64 " bytes written", n,
	      written);
	obs("non-blocking writer got EAGAIN: SIOCOUTQ > 0, 0 < SIOCINQ <= written");

	set_phase("reader drains");
	rd.total = w.off;
	recv_exact(rfd, &rd, "draining");
	wait_outq_zero(wfd, "after the reader drained");
	CHECK(fionread(rfd) == 0, "SIOCINQ %d after draining", fionread(rfd));
	obs("after the reader drained every byte: SIOCOUTQ 0, SIOCINQ 0");
	free(buf);
	close(c);
	close(s);
}

/* --- SO_RCVLOWAT ------------------------------------------------------------------------ */

/* When the reader sets its mark: the connection's history before setsockopt(). */
enum lowat_when {
	LOWAT_FRESH,   /* before any byte went either way (accept, mark, read a header) */
	LOWAT_GREETED, /* after the reader sent a greeting, before the writer sent anything */
	LOWAT_LATE,    /* after data went both ways */
};

/*
 * With SO_RCVLOWAT L, poll() reports POLLIN only once L bytes are queued and a blocking
 * recv() waits for L bytes (tcp_poll, tcp_recvmsg's target). Under skaccel the writer
 * must not redirect to a reader with a mark (ARCHITECTURE.md, step 4): LOWAT_LATE, a mark
 * set once the writer already redirects, is documented as not honoured (README.md, "What
 * is not covered").
 */
/*
 * count_inq: also check that SIOCINQ counts the bytes held below the mark. Its own
 * scenario (rcvlowat_fionread), because under skaccel it cannot: tcp_data_ready() keeps
 * them in the TCP receive queue, and tcp_bpf's SIOCINQ counts only the psock queue
 * (KERNEL-NOTES §6.2). poll() and recv() are right either way.
 */
static void rcvlowat(struct rng *r, enum lowat_when when, bool count_inq)
{
	struct vstream w, rd, back, backrd;
	struct later l = { 0 };
	uint8_t *buf = malloc(64 * KIB);
	int c, s, wfd, rfd, lowat, inq_below;
	struct pollfd p;
	pthread_t th;
	ssize_t n;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	/* Usually the accepted end reads (a server waiting for a whole header). */
	rfd = rng_chance(r, 75) ? s : c;
	wfd = rfd == c ? s : c;
	lowat = (int)rng_range(r, 2, 16 * KIB);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "to the reader with a mark");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "to the reader with a mark");
	vs_init(&back, g_opt.key, stream_id(2), UINT64_MAX, "back");
	vs_init(&backrd, g_opt.key, stream_id(2), 0, "back");
	if (when == LOWAT_GREETED) {
		set_phase("greeting before the mark");
		send_stream(rfd, &back, rng_logsize(r, 1, 1 * KIB), r);
		backrd.total = back.off;
		recv_exact(wfd, &backrd, "greeting");
	} else if (when == LOWAT_LATE) {
		/* Steady state first: both directions carry data. */
		set_phase("exchange before the mark");
		send_stream(wfd, &w, rng_logsize(r, 1, 64 * KIB), r);
		rd.total = w.off;
		recv_exact(rfd, &rd, "before the mark");
		send_stream(rfd, &back, rng_logsize(r, 1, 64 * KIB), r);
		backrd.total = back.off;
		recv_exact(wfd, &backrd, "reply before the mark");
	}
	set_sockopt_int(rfd, SOL_SOCKET, SO_RCVLOWAT, lowat, "setsockopt(SO_RCVLOWAT)");
	CHECK(sockopt_int(rfd, SOL_SOCKET, SO_RCVLOWAT) == lowat, "SO_RCVLOWAT reads back %d",
	      sockopt_int(rfd, SOL_SOCKET, SO_RCVLOWAT));

	set_phase("below the mark");
	send_stream(wfd, &w, (uint64_t)lowat - 1, r);
	wait_outq_zero(wfd, "writer below the mark");
	sleep_us(20000); /* the bytes are in the reader's kernel: give a wake-up time to show */
	p = (struct pollfd){ .fd = rfd, .events = POLLIN };
	n = poll(&p, 1, 0);
	CHECK(n == 0,
	      "%d bytes queued, SO_RCVLOWAT %d: poll returned %zd revents %s; plain TCP "
	      "reports no POLLIN below the mark",
	      lowat - 1, lowat, n, REVENTS(p.revents));
	obs("%d bytes below SO_RCVLOWAT %d: no POLLIN", lowat - 1, lowat);
	/* Checked at the end, so that poll() and recv() are checked whatever it says. */
	inq_below = fionread(rfd);

	/* One more byte reaches the mark: POLLIN. Then drain without blocking. */
	send_stream(wfd, &w, 1, r);
	p.revents = 0;
	n = poll(&p, 1, WAIT_MS);
	CHECK(n == 1 && (p.revents & POLLIN),
	      "the mark of %d bytes reached: poll returned %zd revents %s; plain TCP reports "
	      "POLLIN",
	      lowat, n, REVENTS(p.revents));
	rd.total = w.off;
	while (rd.off < rd.total) {
		n = recv(rfd, buf, 64 * KIB, MSG_DONTWAIT);
		CHECK(n > 0, "draining with MSG_DONTWAIT at offset %" PRIu64 ": %s", rd.off,
		      n ? RES(n, errno) : "EOF");
		vs_check(&rd, buf, (size_t)n);
	}
	obs("the mark reached: POLLIN; MSG_DONTWAIT reads drained it");

	/*
	 * A blocking recv() on an empty queue waits for the mark: a first piece below it
	 * comes after 100 ms, the rest 100 ms later. (Not with bytes already queued:
	 * tcp_recvmsg copies those first and then waits for a whole mark more, a TCP quirk
	 * not worth comparing.)
	 */
	set_phase("blocking recv waits for the mark");
	l.fd = wfd;
	l.delay_us = 100000;
	l.len = rng_range(r, 1, (uint64_t)lowat - 1);
	l.len2 = (uint64_t)lowat - l.len + rng_range(r, 0, 4 * KIB);
	l.vs = w;
	later_start(&th, &l, r);
	set_timeo(rfd, SO_RCVTIMEO, WAIT_MS);
	n = recv(rfd, buf, 64 * KIB, 0);
	CHECK(n >= lowat,
	      "blocking recv with SO_RCVLOWAT %d, a piece below it coming after 100 ms and "
	      "the rest 100 ms later, returned %s; plain TCP waits for the mark",
	      lowat, RES(n, errno));
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	w = l.vs;
	rd.total = w.off;
	vs_check(&rd, buf, (size_t)n);
	obs("blocking recv returned at least SO_RCVLOWAT bytes");
	set_sockopt_int(rfd, SOL_SOCKET, SO_RCVLOWAT, 1, "setsockopt(SO_RCVLOWAT, 1)");
	recv_exact(rfd, &rd, "the rest");
	if (count_inq) {
		CHECK(inq_below == lowat - 1,
		      "SIOCINQ was %d with %d bytes queued below SO_RCVLOWAT %d; plain TCP counts "
		      "them",
		      inq_below, lowat - 1, lowat);
		obs("SIOCINQ counted the %d bytes below the mark", lowat - 1);
	}

	/* The reverse direction (no mark there) still flows. */
	set_phase("reverse direction");
	send_stream(rfd, &back, rng_logsize(r, 1, 64 * KIB), r);
	backrd.total = back.off;
	recv_exact(wfd, &backrd, "reverse direction");
	free(buf);
	close(c);
	close(s);
}

void run_rcvlowat(struct rng *r)
{
	rcvlowat(r, LOWAT_FRESH, false);
}

void run_rcvlowat_greeted(struct rng *r)
{
	rcvlowat(r, LOWAT_GREETED, false);
}

void run_rcvlowat_late(struct rng *r)
{
	rcvlowat(r, LOWAT_LATE, false);
}

void run_rcvlowat_fionread(struct rng *r)
{
	rcvlowat(r, LOWAT_FRESH, true);
}
