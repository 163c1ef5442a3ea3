// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * TCP semantics an application relies on, each checked against what plain TCP does:
 * EOF, EPIPE after SHUT_WR, reading after a half-close, RST after data, poll/epoll
 * readiness, FIONREAD, MSG_PEEK, MSG_WAITALL, readers blocked before data (or before
 * accept) being woken, close() delivering EOF, splice() and sendfile(), MSG_ZEROCOPY
 * completions and MSG_OOB. Every wait is bounded, so a stranded
 * reader is a failure with a reason, never a hang.
 */
#include <fcntl.h>
#include <linux/errqueue.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/wait.h>

#include "tests/progs/xfer_common.h"

#define WAIT_MS 5000 /* longest any single wait may take before it counts as a hang */

/*
 * Blocking recv bounded by SO_RCVTIMEO. On timeout (EAGAIN after ~WAIT_MS) the reader
 * was stranded; EAGAIN well before the timeout is the spurious EAGAIN of KERNEL-NOTES §6.4.
 * Returns recv()'s result otherwise (errno kept for the caller on -1).
 */
static ssize_t recv_timed(int fd, void *buf, size_t len, int flags, const char *what)
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
static void recv_stream_timed(int fd, struct vstream *vs, const char *what)
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

static void expect_eof(int fd, const char *what)
{
	uint8_t b[64];
	ssize_t n = recv_timed(fd, b, sizeof(b), 0, what);

	CHECK(n == 0, "%s: expected EOF, got %zd%s%s", what, n, n < 0 ? " errno " : " bytes",
	      n < 0 ? strerror(errno) : "");
}

static void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r)
{
	stream_send(fd, vs, vs->off + len, r, 16 * KIB, 0, 0, NULL);
}

/* Wait until everything fd sent has been acknowledged, i.e. sits in the peer's queue. */
static void wait_acked(int fd, const char *what)
{
	uint64_t t0 = now_ns();

	while (siocoutq(fd) > 0) {
		CHECK(now_ns() - t0 < WAIT_MS * 1000000ull,
		      "%s: %d bytes still unacked after %d ms", what, siocoutq(fd), WAIT_MS);
		sleep_us(1000);
	}
}

/* A thread that sleeps, then sends len stream bytes on fd, then optionally acts. */
struct later {
	int fd;
	uint64_t delay_us;
	struct vstream vs;
	uint64_t len;
	enum { LATER_NONE, LATER_CLOSE, LATER_RST, LATER_SHUT_WR } then;
	struct rng r;
};

static void *later_run(void *arg)
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

static void later_start(pthread_t *th, struct later *l, struct rng *r)
{
	rng_init(&l->r, g_seed, rng_next(r));
	CHECK(!pthread_create(th, NULL, later_run, l), "pthread_create failed");
}

/* --- the checks ---------------------------------------------------------------------- */

/* All data, then EOF (0, and 0 again); a reader waiting in poll() or recv() is woken by it. */
static void run_eof(struct rng *r)
{
	struct later l = { .delay_us = 0, .then = LATER_CLOSE };
	struct vstream vs;
	pthread_t th;
	int c, s;
	bool waiting = rng_chance(r, 50);

	test_pair(&c, &s);
	l.fd = s;
	l.len = rng_logsize(r, 1, 256 * KIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "server->client");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "server->client");
	if (waiting) {
		/* The reader has everything and sleeps in recv() when the FIN comes. */
		l.delay_us = 0;
		l.then = LATER_NONE;
		later_start(&th, &l, r);
		recv_stream_timed(c, &vs, "reading data");
		CHECK(!pthread_join(th, NULL), "pthread_join failed");
		l.delay_us = 100000;
		l.len = 0;
		l.then = LATER_CLOSE;
		set_phase("recv() blocked when the peer closes");
		later_start(&th, &l, r);
		expect_eof(c, "blocked reader at peer close");
	} else {
		struct pollfd p = { .fd = c, .events = POLLIN | POLLRDHUP };
		int pr;

		later_start(&th, &l, r);
		recv_stream_timed(c, &vs, "reading data");
		set_phase("poll() for the EOF");
		pr = poll(&p, 1, WAIT_MS);
		CHECK(pr == 1 && (p.revents & POLLIN),
		      "poll after the peer closed: returned %d revents %#x, plain TCP gives POLLIN",
		      pr, p.revents);
		expect_eof(c, "read at EOF");
	}
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	expect_eof(c, "second read at EOF");
	close(c);
}

/*
 * After shutdown(SHUT_WR) a send fails with EPIPE (KERNEL-NOTES §5.3: the redirect path
 * would accept it and strand it behind the FIN). The peer reads exactly the bytes sent
 * before, then EOF; the other direction keeps working.
 */
static void run_epipe(struct rng *r)
{
	struct vstream up, rd, down, drd;
	uint8_t b[100] = { 0 };
	ssize_t n;
	int c, s;

	test_pair(&c, &s);
	vs_init(&up, g_opt.key, stream_id(1), 0, "client->server");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "client->server");
	/* Several writes, read by the peer: the connection is in steady state, not fresh. */
	up.total = rng_range(r, 1, 200 * KIB);
	send_stream(c, &up, up.total, r);
	rd.total = up.total;
	recv_stream_timed(s, &rd, "server reading before the shutdown");

	set_phase("send after shutdown(SHUT_WR)");
	CHECK_SYS(!shutdown(c, SHUT_WR), "shutdown(SHUT_WR)");
	pat_fill(up.base, up.off, b, sizeof(b));
	n = send(c, b, sizeof(b), MSG_NOSIGNAL);
	CHECK(n < 0 && errno == EPIPE,
	      "send(MSG_NOSIGNAL) after SHUT_WR returned %zd%s%s, "
	      "plain TCP gives -1/EPIPE",
	      n, n < 0 ? "/" : " bytes", n < 0 ? strerror(errno) : "");
	n = write(c, b, 1); /* SIGPIPE is ignored: write() must also report EPIPE */
	CHECK(n < 0 && errno == EPIPE,
	      "write() after SHUT_WR returned %zd%s%s, plain TCP "
	      "gives -1/EPIPE",
	      n, n < 0 ? "/" : " bytes", n < 0 ? strerror(errno) : "");
	set_phase("peer reads EOF, nothing after it");
	expect_eof(s, "server after the client's SHUT_WR");

	set_phase("the other direction still works");
	vs_init(&down, g_opt.key, stream_id(2), 0, "server->client");
	vs_init(&drd, g_opt.key, stream_id(2), 0, "server->client");
	down.total = drd.total = rng_range(r, 1, 200 * KIB);
	send_stream(s, &down, down.total, r);
	close(s);
	recv_stream_timed(c, &drd, "client reading after its own SHUT_WR");
	expect_eof(c, "client at the end");
	close(c);
}

/* The server of a half-close exchange: request to EOF, a pause, the reply, close. */
struct hc_server {
	int fd;
	struct vstream req, reply;
	struct rng r;
};

static void *hc_server_run(void *arg)
{
	struct hc_server *hs = arg;

	recv_stream_timed(hs->fd, &hs->req, "server reading the request");
	expect_eof(hs->fd, "server after the request");
	sleep_us(300000);
	send_stream(hs->fd, &hs->reply, hs->reply.total, &hs->r);
	close(hs->fd);
	return NULL;
}

/*
 * Request, shutdown(SHUT_WR), blocking read of the reply that comes 300 ms later
 * (HTTP/1.0 clients, netcat): KERNEL-NOTES §6.4, the reader must not see EAGAIN. With
 * threaded, the reader is already blocked in recv() when another thread sends the
 * request and half-closes.
 */
static void halfclose(struct rng *r, bool threaded)
{
	struct later req = { .delay_us = 50000, .then = LATER_SHUT_WR };
	struct hc_server hs;
	struct vstream rep;
	pthread_t th, sth;
	int c;

	test_pair(&c, &hs.fd);
	req.fd = c;
	req.len = rng_logsize(r, 1, 64 * KIB);
	vs_init(&req.vs, g_opt.key, stream_id(1), req.len, "request");
	vs_init(&hs.req, g_opt.key, stream_id(1), req.len, "request");
	vs_init(&hs.reply, g_opt.key, stream_id(2), rng_logsize(r, 1, 256 * KIB), "reply");
	vs_init(&rep, g_opt.key, stream_id(2), hs.reply.total, "reply");
	rng_init(&hs.r, g_seed, rng_next(r));
	CHECK(!pthread_create(&sth, NULL, hc_server_run, &hs), "pthread_create failed");
	if (threaded) {
		later_start(&th, &req, r);
	} else {
		rng_init(&req.r, g_seed, rng_next(r));
		req.delay_us = 0;
		later_run(&req); /* request and SHUT_WR on this thread, then read below */
	}
	set_phase("client blocked in recv() around its SHUT_WR");
	recv_stream_timed(c, &rep, "client reading the reply after SHUT_WR");
	expect_eof(c, "client after the reply");
	if (threaded)
		CHECK(!pthread_join(th, NULL), "pthread_join failed");
	CHECK(!pthread_join(sth, NULL), "pthread_join failed");
	close(c);
}

static void run_halfclose(struct rng *r)
{
	halfclose(r, false);
}

static void run_halfclose_thread(struct rng *r)
{
	halfclose(r, true);
}

/*
 * Peer sends data, then closes with SO_LINGER {1,0} (RST): the reader gets every byte,
 * then ECONNRESET (not EOF, not an early error). Sometimes the reader already sleeps in
 * recv() when the RST comes.
 */
static void run_rst(struct rng *r)
{
	struct later l = { .then = LATER_RST };
	struct vstream vs;
	pthread_t th;
	uint8_t b[64];
	ssize_t n;
	int c, s;
	bool blocked = rng_chance(r, 50);

	test_pair(&c, &s);
	l.fd = s;
	/* Unread, it must fit the receive window, or it could never all be acknowledged. */
	l.len = rng_logsize(r, 1, blocked ? 256 * KIB : 32 * KIB);
	l.delay_us = blocked ? 200000 : 0;
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "server->client");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "server->client");
	later_start(&th, &l, r);
	if (!blocked) {
		CHECK(!pthread_join(th, NULL), "pthread_join failed");
		sleep_us(50000); /* the RST has certainly arrived */
	}
	set_phase("reading data sent before the RST");
	recv_stream_timed(c, &vs, "client reading data before the RST");
	set_phase("reading past the data");
	n = recv_timed(c, b, sizeof(b), 0, "client after the data");
	CHECK(!(n == 0), "got EOF where plain TCP reports ECONNRESET after an RST");
	CHECK(n < 0 && errno == ECONNRESET,
	      "after the data: recv returned %zd%s%s, plain TCP "
	      "gives -1/ECONNRESET",
	      n, n < 0 ? "/" : " bytes", n < 0 ? strerror(errno) : "");
	if (blocked)
		CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(c);
}

/* No readiness without data; POLLIN within the bound once the peer writes; none after draining. */
static void run_poll(struct rng *r)
{
	struct later l = { .delay_us = 100000, .then = LATER_NONE };
	struct vstream vs;
	struct pollfd p;
	pthread_t th;
	int c, s, rfd, pr;
	uint64_t t0;

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	l.fd = rfd == c ? s : c;
	l.len = rng_logsize(r, 1, 32 * KIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "poll stream");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "poll stream");
	p = (struct pollfd){ .fd = rfd, .events = POLLIN };
	CHECK(poll(&p, 1, 0) == 0, "POLLIN (revents %#x) before the peer wrote anything",
	      p.revents);
	later_start(&th, &l, r);
	set_phase("poll() waiting for data");
	t0 = now_ns();
	pr = poll(&p, 1, WAIT_MS);
	CHECK(pr == 1 && (p.revents & POLLIN),
	      "poll returned %d revents %#x after %" PRIu64 " ms; the peer sent %" PRIu64
	      " bytes: reader not woken",
	      pr, p.revents, (now_ns() - t0) / 1000000, l.len);
	CHECK(fionread(rfd) > 0, "POLLIN but FIONREAD is 0");
	recv_stream_timed(rfd, &vs, "reading after POLLIN");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	p.revents = 0;
	CHECK(poll(&p, 1, 0) == 0, "POLLIN (revents %#x) after everything was read", p.revents);
	close(c);
	close(s);
}

/* The same with epoll, level- or edge-triggered: each new write is a new edge. */
static void run_epoll(struct rng *r)
{
	struct vstream vs, rd;
	int c, s, rfd, wfd, ep, round;
	bool et = rng_chance(r, 50);

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK_SYS(ep >= 0, "epoll_create1");
	{
		struct epoll_event ev = { .events = EPOLLIN | (et ? EPOLLET : 0) };

		CHECK_SYS(!epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev), "epoll_ctl");
	}
	vs_init(&vs, g_opt.key, stream_id(1), 0, "epoll stream");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "epoll stream");
	for (round = 0; round < 4; round++) {
		struct later l = { .fd = wfd, .delay_us = rng_range(r, 0, 50000), .vs = vs };
		struct epoll_event ev;
		uint8_t buf[16384];
		pthread_t th;
		int n;

		CHECK(epoll_wait(ep, &ev, 1, 0) == 0, "%s: EPOLLIN before data (round %d)",
		      et ? "ET" : "LT", round);
		l.len = rng_logsize(r, 1, 32 * KIB);
		later_start(&th, &l, r);
		set_phase("epoll_wait for data");
		n = epoll_wait(ep, &ev, 1, WAIT_MS);
		CHECK(n == 1 && (ev.events & EPOLLIN),
		      "%s: epoll_wait returned %d (events %#x) in "
		      "%d ms; the peer sent %" PRIu64 " bytes (round %d): reader not woken",
		      et ? "ET" : "LT", n, n == 1 ? ev.events : 0, WAIT_MS, l.len, round);
		CHECK(!pthread_join(th, NULL), "pthread_join failed");
		vs = l.vs;
		rd.total = vs.off;
		/* Drain to EAGAIN, as an edge-triggered loop must. */
		for (;;) {
			ssize_t k = recv(rfd, buf, sizeof(buf), MSG_DONTWAIT);

			if (k < 0 && errno == EAGAIN) {
				if (rd.off == rd.total)
					break;
				/*
				 * Sent bytes not all readable yet (still on their way even on
				 * loopback): their arrival must be a new event, bounded.
				 */
				CHECK(epoll_wait(ep, &ev, 1, WAIT_MS) == 1,
				      "%s: %" PRIu64 " sent bytes never became readable or never "
				      "raised EPOLLIN",
				      et ? "ET" : "LT", rd.total - rd.off);
				continue;
			}
			CHECK(k > 0, "recv after EPOLLIN: %zd (%s)", k,
			      k < 0 ? strerror(errno) : "EOF");
			vs_check(&rd, buf, (size_t)k);
		}
	}
	close(ep);
	close(c);
	close(s);
}

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

static void run_fionread(struct rng *r)
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
static void run_fionread_preaccept(struct rng *r)
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
static void run_peek(struct rng *r)
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

/* Three pieces, 50 ms apart: the reader asked for all of them at once. */
struct trickle {
	int fd;
	struct vstream vs;
	uint64_t len[3];
	struct rng r;
};

static void *trickle_run(void *arg)
{
	struct trickle *t = arg;
	int i;

	for (i = 0; i < 3; i++) {
		sleep_us(50000);
		send_stream(t->fd, &t->vs, t->len[i], &t->r);
	}
	return NULL;
}

/* MSG_WAITALL returns the full length on a blocking socket, data trickling in. */
static void run_waitall(struct rng *r)
{
	struct trickle t;
	struct vstream vs;
	uint64_t total;
	uint8_t *buf;
	pthread_t th;
	ssize_t n;
	int c, s, i;

	test_pair(&c, &s);
	t.fd = c;
	for (i = 0; i < 3; i++)
		t.len[i] = rng_logsize(r, 1, 32 * KIB);
	total = t.len[0] + t.len[1] + t.len[2];
	vs_init(&t.vs, g_opt.key, stream_id(1), total, "waitall stream");
	vs_init(&vs, g_opt.key, stream_id(1), total, "waitall stream");
	rng_init(&t.r, g_seed, rng_next(r));
	buf = malloc(total);
	CHECK(buf, "out of memory");
	CHECK(!pthread_create(&th, NULL, trickle_run, &t), "pthread_create failed");
	n = recv_timed(s, buf, total, MSG_WAITALL, "recv(MSG_WAITALL)");
	CHECK(n == (ssize_t)total,
	      "recv(MSG_WAITALL) of %" PRIu64 " bytes returned %zd%s%s, "
	      "plain TCP waits for all of them",
	      total, n, n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
	vs_check(&vs, buf, (size_t)n);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	free(buf);
	close(c);
	close(s);
}

/* A thread blocked in recv() before the peer writes gets the data (KERNEL-NOTES §3.5). */
static void run_blocked_reader(struct rng *r)
{
	struct later l = { .delay_us = rng_range(r, 20000, 300000), .then = LATER_NONE };
	struct vstream vs;
	pthread_t th;
	int c, s, rfd;

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	l.fd = rfd == c ? s : c;
	l.len = rng_logsize(r, 1, 1 * MIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "to a blocked reader");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "to a blocked reader");
	later_start(&th, &l, r);
	set_phase("reader blocked in recv() before the write");
	recv_stream_timed(rfd, &vs, "blocked reader");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(c);
	close(s);
}

/*
 * The client's reader blocks in recv() before the server has even accepted: under skaccel
 * the client is registered (waiting for its peer) while a thread sleeps on it, and the
 * pairing at accept() must not strand that thread.
 */
struct blocked_client {
	int fd;
	struct vstream vs;
};

static void *blocked_client_run(void *arg)
{
	struct blocked_client *bc = arg;

	recv_stream_timed(bc->fd, &bc->vs, "client reader blocked since before accept()");
	return NULL;
}

static void run_blocked_before_accept(struct rng *r)
{
	struct blocked_client bc;
	struct vstream down, up, uprd;
	struct endpoint l, t;
	pthread_t th;
	int lfd, s;
	uint64_t len = rng_logsize(r, 1, 1 * MIB);

	lfd = test_listen(&l, 4, 0);
	t = test_target(&l);
	bc.fd = connect_to(&t);
	vs_init(&bc.vs, g_opt.key, stream_id(1), len, "server->client");
	CHECK(!pthread_create(&th, NULL, blocked_client_run, &bc), "pthread_create failed");
	sleep_us(rng_range(r, 20000, 150000)); /* the reader is asleep in recv() by now */
	set_phase("accept while the client's reader sleeps");
	s = accept_one(lfd, 0);
	close(lfd);
	sleep_us(rng_range(r, 0, 50000));
	vs_init(&down, g_opt.key, stream_id(1), UINT64_MAX, "server->client");
	send_stream(s, &down, len, r);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	set_phase("the other direction");
	vs_init(&up, g_opt.key, stream_id(2), UINT64_MAX, "client->server");
	vs_init(&uprd, g_opt.key, stream_id(2), 0, "client->server");
	uprd.total = rng_logsize(r, 1, 64 * KIB);
	send_stream(bc.fd, &up, uprd.total, r);
	recv_stream_timed(s, &uprd, "server reading");
	close(bc.fd);
	expect_eof(s, "server after the client closed");
	close(s);
}

/* A blocking connect() to a closed port fails with ECONNREFUSED, as on plain TCP. */
static void run_refused(struct rng *r)
{
	struct endpoint l, t;
	int lfd = test_listen(&l, 1, 0), fd, rc;

	(void)r;
	t = test_target(&l);
	close(lfd);
	fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_SYS(fd >= 0, "socket");
	rc = connect(fd, (struct sockaddr *)&t.ss, t.len);
	CHECK(rc < 0 && errno == ECONNREFUSED,
	      "connect to a closed port returned %d/%s, plain "
	      "TCP gives -1/ECONNREFUSED",
	      rc, rc < 0 ? strerror(errno) : "success");
	close(fd);
}

/*
 * Closing the application's last reference sends the FIN at once: nobody else (the
 * helper) may hold the socket (KERNEL-NOTES §5.1). Closed by close(), by dup2() over
 * the fd, or by a forked child that held a copy and exits after the parent closed.
 */
static void run_close_eof(struct rng *r)
{
	struct vstream w, rd;
	int c, s, how = (int)rng_range(r, 0, 2), pfd[2];
	pid_t pid = -1;
	static const char *const hows[] = { "close()", "dup2() over the fd",
					    "fork()ed child exits last" };

	test_pair(&c, &s);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "client->server");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "client->server");
	rd.total = rng_logsize(r, 1, 64 * KIB);
	send_stream(c, &w, rd.total, r);
	info("closing by %s", hows[how]);
	set_phase(hows[how]);
	switch (how) {
	case 0:
		close(c);
		break;
	case 1:
		CHECK_SYS(!pipe(pfd), "pipe");
		CHECK_SYS(dup2(pfd[0], c) == c, "dup2");
		close(pfd[0]);
		close(pfd[1]);
		close(c);
		break;
	case 2:
		pid = fork();
		CHECK_SYS(pid >= 0, "fork");
		if (pid == 0) {
			/* The child writes the rest of the stream on its copy, then exits. */
			struct rng cr;
			uint64_t more = 1000;

			rng_init(&cr, g_seed, 99);
			sleep_us(100000);
			stream_send(c, &w, w.off + more, &cr, 16 * KIB, 0, 0, NULL);
			_exit(0);
		}
		close(c);
		rd.total += 1000;
		break;
	}
	recv_stream_timed(s, &rd, "server reading");
	expect_eof(s, "server after the client's last close");
	if (pid > 0) {
		int st;

		CHECK_SYS(waitpid(pid, &st, 0) == pid, "waitpid");
		CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "child failed (status %#x)", st);
	}
	close(s);
}

/*
 * A reader that moves bytes with splice(socket -> pipe), as Go's io.Copy, HAProxy and
 * nginx do. KERNEL-NOTES §6.5: splice reads only the TCP receive queue, so redirected
 * bytes are invisible to it unless something handles that.
 */
static void run_splice(struct rng *r)
{
	struct later l = { .then = LATER_SHUT_WR };
	struct vstream vs;
	uint8_t buf[65536];
	pthread_t th;
	int c, s, p[2];

	test_pair(&c, &s);
	CHECK_SYS(!pipe2(p, O_CLOEXEC), "pipe2");
	l.fd = c;
	l.delay_us = rng_range(r, 0, 20000);
	l.len = rng_logsize(r, 1, 1 * MIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), l.len, "spliced stream");
	vs_init(&vs, g_opt.key, stream_id(1), l.len, "spliced stream");
	later_start(&th, &l, r);
	set_timeo(s, SO_RCVTIMEO, WAIT_MS); /* tcp_splice_read honours it */
	set_phase("splice(socket -> pipe)");
	for (;;) {
		uint64_t t0 = now_ns();
		ssize_t n = splice(s, NULL, p[1], NULL, sizeof(buf), SPLICE_F_MOVE), k;

		if (n < 0 && errno == EAGAIN)
			fail("splice: nothing for %" PRIu64 " ms at offset %" PRIu64 " of %" PRIu64
			     " although the peer sent everything: spliced reader stranded "
			     "(KERNEL-NOTES §6.5)",
			     (now_ns() - t0) / 1000000, vs.off, vs.total);
		CHECK(n >= 0, "splice failed: %s", strerror(errno));
		if (n == 0)
			break;
		while (n > 0) {
			k = read(p[0], buf, (size_t)n);
			CHECK(k > 0, "read from the pipe: %zd", k);
			vs_check(&vs, buf, (size_t)k);
			n -= k;
		}
	}
	CHECK(vs.off == vs.total,
	      "splice reported EOF at offset %" PRIu64 " of %" PRIu64 ": bytes LOST", vs.off,
	      vs.total);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(p[0]);
	close(p[1]);
	close(c);
	close(s);
}

/* A writer that uses sendfile() from a file: the bytes arrive, in order. */
static void run_sendfile(struct rng *r)
{
	struct vstream vs;
	uint64_t len = rng_logsize(r, 1, 4 * MIB);
	uint8_t *map;
	off_t off = 0;
	int c, s, mfd;
	pid_t pid;

	test_pair(&c, &s);
	mfd = memfd_create("sem_check", MFD_CLOEXEC);
	CHECK_SYS(mfd >= 0, "memfd_create");
	CHECK_SYS(!ftruncate(mfd, (off_t)len), "ftruncate");
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK_SYS(map != MAP_FAILED, "mmap");
	vs_init(&vs, g_opt.key, stream_id(1), len, "sendfile stream");
	pat_fill(vs.base, 0, map, len);
	munmap(map, len);
	/* The writer is a child: sendfile blocks until the reader below drains. */
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		while ((uint64_t)off < len) {
			ssize_t n = sendfile(c, mfd, &off, (size_t)(len - (uint64_t)off));

			if (n <= 0)
				_exit(10 + (n < 0 ? errno : 0));
		}
		_exit(0);
	}
	close(c);
	close(mfd);
	recv_stream_timed(s, &vs, "reading what sendfile() sent");
	expect_eof(s, "after the file");
	{
		int st;

		CHECK_SYS(waitpid(pid, &st, 0) == pid, "waitpid");
		CHECK(WIFEXITED(st) && !WEXITSTATUS(st), "sendfile() writer failed (status %#x%s)",
		      st, WIFEXITED(st) && WEXITSTATUS(st) > 10 ? ", exit 10+errno" : "");
	}
	close(s);
}

/*
 * MSG_ZEROCOPY: every send is completed by a notification on the error queue. A socket
 * with SO_ZEROCOPY set before connect() may not be accelerated (the redirect path copies
 * and never posts completions, KERNEL-NOTES §7.3); with late, SO_ZEROCOPY is set on a
 * connection that is already established (and possibly accelerated).
 */
static void zerocopy(struct rng *r, bool late)
{
	struct endpoint l, t;
	struct vstream w, vs;
	int lfd, c, s, one = 1, sends = (int)rng_range(r, 1, 8), i;
	uint32_t done = 0;
	uint8_t *buf;
	size_t chunk = (size_t)rng_range(r, 1, 64 * KIB);
	uint64_t t0;

	lfd = test_listen(&l, 4, 0);
	t = test_target(&l);
	c = socket(t.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_SYS(c >= 0, "socket");
	if (!late)
		CHECK_SYS(!setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)),
			  "setsockopt(SO_ZEROCOPY) before connect");
	CHECK_SYS(!connect(c, (struct sockaddr *)&t.ss, t.len), "connect");
	s = accept_one(lfd, 0);
	close(lfd);
	if (late)
		CHECK_SYS(!setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)),
			  "setsockopt(SO_ZEROCOPY) after connect");
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "zerocopy stream");
	vs_init(&vs, g_opt.key, stream_id(1), (uint64_t)sends * chunk, "zerocopy stream");
	buf = malloc(chunk * (size_t)sends);
	CHECK(buf, "out of memory");
	pat_fill(w.base, 0, buf, chunk * (size_t)sends);
	set_phase("send(MSG_ZEROCOPY)");
	for (i = 0; i < sends; i++) {
		ssize_t n = send(c, buf + (size_t)i * chunk, chunk, MSG_ZEROCOPY | MSG_NOSIGNAL);

		CHECK(n == (ssize_t)chunk, "send(MSG_ZEROCOPY) returned %zd%s%s", n,
		      n < 0 ? " " : "", n < 0 ? strerror(errno) : "");
	}
	set_phase("reading");
	recv_stream_timed(s, &vs, "reading zerocopy data");
	set_phase("waiting for zerocopy completions");
	/* Notifications carry ranges [ee_info, ee_data] of send numbers 0..sends-1. */
	t0 = now_ns();
	while (done < (uint32_t)sends) {
		char control[128];
		struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };
		struct pollfd p = { .fd = c, .events = 0 };
		struct cmsghdr *cm;
		int pr;

		pr = poll(&p, 1, 200);
		CHECK(pr >= 0, "poll: %s", strerror(errno));
		if (recvmsg(c, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			CHECK(errno == EAGAIN, "recvmsg(MSG_ERRQUEUE): %s", strerror(errno));
			CHECK(
			    now_ns() - t0 < WAIT_MS * 1000000ull,
			    "%u of %d MSG_ZEROCOPY completions after %d ms: the application waits "
			    "forever for its buffers (sends %s)",
			    done, sends, WAIT_MS,
			    late ? "after a late SO_ZEROCOPY" : "with SO_ZEROCOPY");
			continue;
		}
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err ee;

			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			CHECK(ee.ee_origin == SO_EE_ORIGIN_ZEROCOPY && ee.ee_errno == 0,
			      "unexpected error-queue entry: origin %u errno %u", ee.ee_origin,
			      ee.ee_errno);
			done += ee.ee_data - ee.ee_info + 1;
		}
	}
	free(buf);
	close(c);
	close(s);
}

static void run_zerocopy(struct rng *r)
{
	zerocopy(r, false);
}

static void run_zerocopy_late(struct rng *r)
{
	zerocopy(r, true);
}

/* Urgent data: the byte sent with MSG_OOB is read with MSG_OOB, not inline. */
static void run_oob(struct rng *r)
{
	struct vstream w, vs;
	struct pollfd p;
	char oob = 0;
	ssize_t n;
	int c, s, pr;

	test_pair(&c, &s);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "stream before the urgent byte");
	vs_init(&vs, g_opt.key, stream_id(1), rng_logsize(r, 1, 32 * KIB), w.name);
	send_stream(c, &w, vs.total, r);
	n = send(c, "!", 1, MSG_OOB | MSG_NOSIGNAL);
	CHECK(n == 1, "send(MSG_OOB) returned %zd%s%s", n, n < 0 ? " " : "",
	      n < 0 ? strerror(errno) : "");
	recv_stream_timed(s, &vs, "reading the normal data");
	p = (struct pollfd){ .fd = s, .events = POLLPRI };
	pr = poll(&p, 1, WAIT_MS);
	CHECK(pr == 1 && (p.revents & POLLPRI),
	      "no POLLPRI for the urgent byte (poll %d, revents %#x)", pr, p.revents);
	n = recv(s, &oob, 1, MSG_OOB | MSG_DONTWAIT);
	CHECK(n == 1 && oob == '!',
	      "recv(MSG_OOB) returned %zd (%s), byte %#x; plain TCP gives the '!'", n,
	      n < 0 ? strerror(errno) : "ok", (unsigned char)oob);
	close(c);
	expect_eof(s, "after the urgent byte (it is not part of the stream)");
	close(s);
}

static const struct scenario scenarios[] = {
	{ "eof", run_eof, 20, "data then EOF; poll/recv waiting at the FIN are woken" },
	{ "epipe", run_epipe, 20, "send after shutdown(SHUT_WR) gives EPIPE, peer sees EOF" },
	{ "halfclose", run_halfclose, 6, "request, SHUT_WR, blocking read of a late reply" },
	{ "halfclose_thread", run_halfclose_thread, 6,
	  "reader thread blocked in recv() while another thread half-closes" },
	{ "rst", run_rst, 20, "SO_LINGER {1,0} close: all data, then ECONNRESET" },
	{ "poll", run_poll, 20, "POLLIN only with data, within the bound" },
	{ "epoll", run_epoll, 10, "EPOLLIN level- and edge-triggered, each write an edge" },
	{ "fionread", run_fionread, 20, "FIONREAD equals what is readable, also after PEEK" },
	{ "fionread_preaccept", run_fionread_preaccept, 20,
	  "bytes sent before accept() are counted by FIONREAD after it" },
	{ "peek", run_peek, 10, "MSG_PEEK then read return the same bytes" },
	{ "waitall", run_waitall, 6, "recv(MSG_WAITALL) returns the full length" },
	{ "blocked_reader", run_blocked_reader, 20, "reader blocked before the write is woken" },
	{ "blocked_before_accept", run_blocked_before_accept, 10,
	  "client reader blocked before the server accepts is woken" },
	{ "refused", run_refused, 5, "blocking connect to a closed port: ECONNREFUSED" },
	{ "close_eof", run_close_eof, 12, "last close (close, dup2, fork) sends EOF at once" },
	{ "splice", run_splice, 10, "a reader using splice(socket -> pipe) gets every byte" },
	{ "sendfile", run_sendfile, 6, "a writer using sendfile() from a file" },
	{ "zerocopy", run_zerocopy, 6,
	  "SO_ZEROCOPY before connect: MSG_ZEROCOPY completions come" },
	{ "zerocopy_late", run_zerocopy_late, 6,
	  "SO_ZEROCOPY set on an established connection: completions come" },
	{ "oob", run_oob, 6, "MSG_OOB urgent byte read with MSG_OOB, not inline" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
