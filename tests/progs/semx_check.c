// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * More TCP semantics an application relies on, each checked against what plain TCP does
 * (sem_check.c has the first set): SIOCOUTQ/SIOCINQ, SO_RCVLOWAT, SO_RCVTIMEO/SO_SNDTIMEO,
 * EINTR, MSG_DONTWAIT/MSG_TRUNC, TCP_CORK/MSG_MORE/TCP_NODELAY, writev with many iovecs
 * and zero-length I/O, one write larger than every buffer, SO_LINGER, close with unread
 * data, fork, exec, threads, dup/dup2/dup3/close_range, SCM_RIGHTS, and select()/epoll ET
 * over many connections in one loop.
 *
 * Besides asserting what plain TCP gives, each scenario prints what the application saw
 * as "obs:" lines, deterministic for a seed: tests/e2e/semantics/observed.sh runs the same seed on
 * plain TCP and under skaccel and compares them line by line.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/select.h>
#include <sys/wait.h>

#include "xfer_common.h"

#define WAIT_MS 5000 /* longest any single wait may take before it counts as a hang */

/* --- observations: what the application saw, compared between the two runs ---------- */

__attribute__((format(printf, 1, 2))) static void obs(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_report_lock);
	printf("%s: obs: %s iter=%d: ", g_prog, g_scenario, atomic_load(&g_iter));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	pthread_mutex_unlock(&g_report_lock);
}

/* A call's outcome as a program sees it: "12" or "-1/EAGAIN". */
static const char *res_str(char *buf, size_t len, ssize_t n, int err)
{
	if (n >= 0)
		snprintf(buf, len, "%zd", n);
	else
		snprintf(buf, len, "-1/%s", strerrorname_np(err) ?: "?");
	return buf;
}

#define RES(n, err) res_str((char[48]){ 0 }, 48, (n), (err))

/* poll() revents as names, in a fixed order. */
static const char *revents_str(char *buf, size_t len, short ev)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = { { POLLIN, "IN" },	     { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
		      { POLLERR, "ERR" },    { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
		      { POLLRDHUP, "RDHUP" } };
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ev & names[i].bit)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
						names[i].name);
	if (!off)
		snprintf(buf, len, "0");
	return buf;
}

#define REVENTS(ev) revents_str((char[64]){ 0 }, 64, (ev))

/* --- helpers --------------------------------------------------------------------------- */

static void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r)
{
	stream_send(fd, vs, vs->off + len, r, 16 * KIB, 0, 0, NULL);
}

/* Read exactly vs->total - vs->off bytes, each read bounded by WAIT_MS (SO_RCVTIMEO). */
static void recv_exact(int fd, struct vstream *vs, const char *what)
{
	uint8_t *buf = malloc(64 * KIB);

	CHECK(buf, "out of memory");
	set_timeo(fd, SO_RCVTIMEO, WAIT_MS);
	while (vs->off < vs->total) {
		uint64_t left = vs->total - vs->off;
		ssize_t n;

		do {
			n = recv(fd, buf, left < 64 * KIB ? (size_t)left : 64 * KIB, 0);
		} while (n < 0 && errno == EINTR);
		CHECK(n >= 0, "%s: recv at offset %" PRIu64 " of %" PRIu64 " returned %s", what,
		      vs->off, vs->total, RES(n, errno));
		CHECK(n > 0, "%s: EOF at offset %" PRIu64 " of %" PRIu64 ": bytes LOST", what,
		      vs->off, vs->total);
		vs_check(vs, buf, (size_t)n);
	}
	free(buf);
}

static void expect_eof(int fd, const char *what)
{
	uint8_t b[64];
	ssize_t n;

	set_timeo(fd, SO_RCVTIMEO, WAIT_MS);
	do {
		n = recv(fd, b, sizeof(b), 0);
	} while (n < 0 && errno == EINTR);
	CHECK(n == 0, "%s: expected EOF (0), got %s%s", what, RES(n, errno), n > 0 ? " bytes" : "");
}

/* Nothing readable (no data, no EOF) for ms milliseconds: the peer still holds the socket. */
static void expect_quiet(int fd, int ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	int pr = poll(&p, 1, ms);

	CHECK(pr == 0,
	      "%s: poll returned %d revents %s; plain TCP shows nothing (no EOF) while "
	      "another descriptor still holds the socket",
	      what, pr, REVENTS(p.revents));
}

static void wait_outq_zero(int fd, const char *what)
{
	uint64_t t0 = now_ns();

	while (siocoutq(fd) > 0) {
		CHECK(now_ns() - t0 < WAIT_MS * 1000000ull,
		      "%s: SIOCOUTQ still %d after %d ms with an idle peer", what, siocoutq(fd),
		      WAIT_MS);
		sleep_us(1000);
	}
}

/* Wait (bounded) until SIOCINQ (FIONREAD) reaches want; more than want is a failure. */
static void expect_inq(int fd, int want, const char *when)
{
	uint64_t t0 = now_ns();
	int got;

	while ((got = fionread(fd)) != want) {
		CHECK(got < want, "%s: SIOCINQ %d, more than the %d bytes sent", when, got, want);
		CHECK(now_ns() - t0 < 2000000000ull, "%s: SIOCINQ %d, expected %d", when, got,
		      want);
		sleep_us(1000);
	}
}

static int sockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	CHECK_SYS(!getsockopt(fd, level, name, &v, &len), "getsockopt");
	return v;
}

static void set_sockopt_int(int fd, int level, int name, int v, const char *what)
{
	CHECK_SYS(!setsockopt(fd, level, name, &v, sizeof(v)), what);
}

static uint64_t ms_since(uint64_t t0)
{
	return (now_ns() - t0) / 1000000;
}

static void wait_child(pid_t pid, const char *what)
{
	int st;

	CHECK_SYS(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (%s %d; its FAIL line says why)",
	      what, WIFEXITED(st) ? "exit" : "signal",
	      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/*
 * A thread that sleeps, then sends len stream bytes on fd (and len2 more after sleeping
 * again), then optionally half-closes.
 */
struct later {
	int fd;
	uint64_t delay_us;
	struct vstream vs;
	uint64_t len;
	uint64_t len2; /* then, after the same delay again, this many more */
	bool shut_wr;
	struct rng r;
};

static void *later_run(void *arg)
{
	struct later *l = arg;

	sleep_us(l->delay_us);
	send_stream(l->fd, &l->vs, l->len, &l->r);
	if (l->len2) {
		sleep_us(l->delay_us);
		send_stream(l->fd, &l->vs, l->len2, &l->r);
	}
	if (l->shut_wr)
		CHECK_SYS(!shutdown(l->fd, SHUT_WR), "shutdown(SHUT_WR)");
	return NULL;
}

static void later_start(pthread_t *th, struct later *l, struct rng *r)
{
	rng_init(&l->r, g_seed, rng_next(r));
	CHECK(!pthread_create(th, NULL, later_run, l), "pthread_create failed");
}

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
static void run_outq(struct rng *r)
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

static void run_rcvlowat(struct rng *r)
{
	rcvlowat(r, LOWAT_FRESH, false);
}

static void run_rcvlowat_greeted(struct rng *r)
{
	rcvlowat(r, LOWAT_GREETED, false);
}

static void run_rcvlowat_late(struct rng *r)
{
	rcvlowat(r, LOWAT_LATE, false);
}

static void run_rcvlowat_fionread(struct rng *r)
{
	rcvlowat(r, LOWAT_FRESH, true);
}

/* --- SO_RCVTIMEO / SO_SNDTIMEO ------------------------------------------------------------ */

/*
 * A blocking read on an empty socket with SO_RCVTIMEO T returns -1/EAGAIN after about T:
 * not at once (the spurious EAGAIN of KERNEL-NOTES §6.4, sometimes after the reader's own
 * SHUT_WR), not never. Bounds are generous (T/2 .. 5T + 250 ms): two shared CPUs. Then
 * data sent later is read; a read whose data comes before the timeout gets the data; and
 * MSG_WAITALL with too little data returns the partial count when the timeout expires.
 */
static void run_rcvtimeo(struct rng *r)
{
	static const char *const hows[] = { "recv", "read", "readv" };
	struct vstream w, rd;
	struct later l = { 0 };
	uint8_t buf[256];
	unsigned int t = (unsigned int)rng_range(r, 100, 300);
	int c, s, rfd, wfd, how = (int)rng_range(r, 0, 2);
	bool half = atomic_load(&g_iter) % 2; /* both kinds in every run */
	uint64_t t0, ms, len;
	pthread_t th;
	ssize_t n;
	int err;

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "after the timeout");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "after the timeout");
	if (half)
		CHECK_SYS(!shutdown(rfd, SHUT_WR), "shutdown(SHUT_WR)");
	set_timeo(rfd, SO_RCVTIMEO, t);
	set_phase("timeout on an empty socket");
	t0 = now_ns();
	if (how == 0) {
		n = recv(rfd, buf, sizeof(buf), 0);
	} else if (how == 1) {
		n = read(rfd, buf, sizeof(buf));
	} else {
		struct iovec iov[2] = { { buf, 10 }, { buf + 10, sizeof(buf) - 10 } };

		n = readv(rfd, iov, 2);
	}
	err = errno;
	ms = ms_since(t0);
	CHECK(n < 0 && (err == EAGAIN || err == EWOULDBLOCK),
	      "%s with SO_RCVTIMEO %u ms on an empty socket%s returned %s after %" PRIu64
	      " ms; plain TCP gives -1/EAGAIN",
	      hows[how], t, half ? " (after its own SHUT_WR)" : "", RES(n, err), ms);
	CHECK(ms >= t / 2 && ms <= 5 * t + 250, "SO_RCVTIMEO %u ms: EAGAIN after %" PRIu64 " ms%s",
	      t, ms,
	      ms < t / 2 ? " (too early: spurious EAGAIN, KERNEL-NOTES §6.4)" : " (far too late)");
	obs("%s, SO_RCVTIMEO, empty%s: -1/EAGAIN after about the timeout", hows[how],
	    half ? ", own SHUT_WR" : "");

	set_phase("data after a timeout");
	len = rng_logsize(r, 1, 32 * KIB);
	send_stream(wfd, &w, len, r);
	rd.total = w.off;
	recv_exact(rfd, &rd, "data after a timeout");

	/* Data within the timeout: the read returns it (a 1 s timeout, data after 50 ms). */
	set_phase("data before the timeout");
	set_timeo(rfd, SO_RCVTIMEO, 1000);
	l = (struct later){ .fd = wfd, .delay_us = 50000, .vs = w, .len = 100 };
	later_start(&th, &l, r);
	t0 = now_ns();
	n = recv(rfd, buf, sizeof(buf), MSG_WAITALL);
	err = errno;
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	CHECK(n == 100,
	      "recv(MSG_WAITALL, %zu) with SO_RCVTIMEO 1000 ms, 100 bytes coming after "
	      "50 ms, returned %s after %" PRIu64 " ms; plain TCP returns the 100 "
	      "bytes at the timeout",
	      sizeof(buf), RES(n, err), ms_since(t0));
	w = l.vs;
	rd.total = w.off;
	vs_check(&rd, buf, (size_t)n);
	CHECK(ms_since(t0) >= 500,
	      "recv(MSG_WAITALL) returned a partial read after %" PRIu64
	      " ms, before its 1000 ms timeout",
	      ms_since(t0));
	obs("recv(MSG_WAITALL) with too little data: the partial count at the timeout");
	if (half)
		expect_eof(wfd, "peer of the half-closed reader");
	close(c);
	close(s);
}

/*
 * A blocking send with SO_SNDTIMEO T to a reader that does not read: calls return
 * (full or partial counts while there is room) and finally -1/EAGAIN after about T, each
 * within 5T + 250 ms. Every byte a call accepted arrives, in order, when the reader reads.
 */
static void run_sndtimeo(struct rng *r)
{
	struct vstream w, rd;
	size_t chunk = 1 * MIB;
	uint8_t *buf = malloc(chunk);
	unsigned int t = (unsigned int)rng_range(r, 100, 300);
	int c, s, wfd, rfd, partial = 0;
	uint64_t t0, ms, total = 0;
	ssize_t n;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rfd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "until the send timeout");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "until the send timeout");
	set_timeo(wfd, SO_SNDTIMEO, t);
	set_phase("blocking sends until the timeout");
	for (;;) {
		pat_fill(w.base, w.off, buf, chunk);
		t0 = now_ns();
		n = send(wfd, buf, chunk, MSG_NOSIGNAL);
		ms = ms_since(t0);
		CHECK(ms <= 5 * t + 250,
		      "a send with SO_SNDTIMEO %u ms took %" PRIu64 " ms (returned %s)", t, ms,
		      RES(n, errno));
		if (n < 0) {
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK,
			      "send with SO_SNDTIMEO after %" PRIu64 " bytes returned %s; plain "
			      "TCP gives -1/EAGAIN",
			      total, RES(n, errno));
			CHECK(ms >= t / 2, "EAGAIN after %" PRIu64 " ms, SO_SNDTIMEO is %u ms", ms,
			      t);
			break;
		}
		CHECK(n > 0, "send returned 0");
		if ((size_t)n < chunk)
			partial++;
		w.off += (uint64_t)n;
		total += (uint64_t)n;
		CHECK(total < 1024 * MIB, "%" PRIu64 " MiB accepted by a reader that does not read",
		      total / MIB);
	}
	obs("blocking send with SO_SNDTIMEO to a reader that does not read: -1/EAGAIN after "
	    "about the timeout");
	info("%" PRIu64 " bytes accepted, %d partial sends", total, partial);
	set_phase("the reader drains");
	rd.total = total;
	recv_exact(rfd, &rd, "reading what the timed-out writer sent");
	CHECK(fionread(rfd) == 0,
	      "SIOCINQ %d after reading every accepted byte: more bytes "
	      "arrived than send() accepted",
	      fionread(rfd));
	send_stream(wfd, &w, 1000, r);
	rd.total = w.off;
	recv_exact(rfd, &rd, "after the drain");
	obs("every byte the sends accepted arrived in order; sending works again");
	free(buf);
	close(c);
	close(s);
}

/* --- EINTR ---------------------------------------------------------------------------------- */

static _Atomic int g_signals;

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_signals, 1);
}

/* A thread blocked in one recv() or send() whose outcome the main thread inspects. */
struct blocked {
	int fd;
	bool is_send;
	uint8_t *buf;
	size_t len;
	_Atomic pid_t tid;
	ssize_t ret;
	int err;
	_Atomic bool done;
};

static void *blocked_run(void *arg)
{
	struct blocked *b = arg;

	atomic_store(&b->tid, (pid_t)syscall(SYS_gettid));
	if (b->is_send)
		b->ret = send(b->fd, b->buf, b->len, MSG_NOSIGNAL);
	else
		b->ret = recv(b->fd, b->buf, b->len, 0);
	b->err = errno;
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * Wait until thread tid sleeps in system call nr (/proc/self/task/TID/syscall names the
 * call a thread is in, stat its state): only then is a signal sure to interrupt that call
 * rather than arrive before it. Not after "sleeping" alone: the shim may sleep elsewhere.
 */
static void wait_in_syscall(pid_t tid, long nr, const char *what)
{
	uint64_t t0 = now_ns();
	char path[64], line[256];

	for (;;) {
		long cur = -1;
		char state = '?';
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(line, sizeof(line), f))
				cur = strtol(line, NULL, 10);
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(line, sizeof(line), f) && strrchr(line, ')'))
				state = strrchr(line, ')')[2];
			fclose(f);
		}
		if (cur == nr && state == 'S')
			return;
		CHECK(ms_since(t0) < WAIT_MS,
		      "%s: thread never slept in system call %ld "
		      "(last: %ld, state %c)",
		      what, nr, cur, state);
		sleep_us(1000);
	}
}

/* A SIGUSR1 handler counting signals, with or without SA_RESTART; returns the old action. */
static struct sigaction count_signals(bool restart)
{
	struct sigaction sa = { .sa_handler = count_signal }, old;

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(!sigaction(SIGUSR1, &sa, &old), "sigaction");
	atomic_store(&g_signals, 0);
	return old;
}

/* Start a thread blocked in one call, and signal it once it sleeps in that system call. */
static void block_and_signal(pthread_t *th, struct blocked *b, long nr, const char *what)
{
	CHECK(!pthread_create(th, NULL, blocked_run, b), "pthread_create failed");
	while (!atomic_load(&b->tid))
		sleep_us(100);
	wait_in_syscall(atomic_load(&b->tid), nr, what);
	CHECK(!pthread_kill(*th, SIGUSR1), "pthread_kill failed");
}

/*
 * A signal whose handler has no SA_RESTART interrupts a recv() blocked on an empty socket:
 * -1/EINTR at once. With SA_RESTART the call goes on and returns the data that comes
 * later. (No receive timeout is set: with one, TCP reports EINTR even under SA_RESTART.)
 */
static void run_eintr_recv(struct rng *r)
{
	bool restart = atomic_load(&g_iter) % 2; /* both kinds in every run */
	struct sigaction old = count_signals(restart);
	struct vstream w, rd;
	struct blocked b;
	uint8_t *buf = malloc(64 * KIB);
	int c, s, rfd, wfd;
	pthread_t th;
	uint64_t t0;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "after the signal");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "after the signal");
	set_phase(restart ? "SA_RESTART signal to a blocked recv" : "signal to a blocked recv");
	b = (struct blocked){ .fd = rfd, .buf = buf, .len = 64 * KIB };
	block_and_signal(&th, &b, SYS_recvfrom, "recv");
	t0 = now_ns();
	if (!restart) {
		while (!atomic_load(&b.done) && ms_since(t0) < 2000)
			sleep_us(1000);
		CHECK(atomic_load(&b.done),
		      "recv() still blocked 2 s after a signal whose handler has no "
		      "SA_RESTART (%d delivered); plain TCP returns -1/EINTR at once",
		      atomic_load(&g_signals));
		CHECK(b.ret < 0 && b.err == EINTR,
		      "recv() interrupted by a signal without SA_RESTART returned %s; plain "
		      "TCP gives -1/EINTR",
		      RES(b.ret, b.err));
		obs("blocked recv, signal without SA_RESTART: %s", RES(b.ret, b.err));
	} else {
		sleep_us(100000);
		CHECK(!atomic_load(&b.done),
		      "recv() returned %s after a signal with SA_RESTART; plain TCP "
		      "restarts it and keeps waiting for data",
		      RES(b.ret, b.err));
		send_stream(wfd, &w, rng_logsize(r, 1, 32 * KIB), r);
		while (!atomic_load(&b.done) && ms_since(t0) < WAIT_MS)
			sleep_us(1000);
		CHECK(atomic_load(&b.done), "recv() restarted after a signal never returned the "
					    "data sent later");
		CHECK(b.ret > 0, "restarted recv() returned %s; plain TCP returns the data",
		      RES(b.ret, b.err));
		rd.total = w.off;
		vs_check(&rd, buf, (size_t)b.ret);
		recv_exact(rfd, &rd, "the rest after the restarted recv");
		obs("blocked recv, signal with SA_RESTART: restarted, returned the data");
	}
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	CHECK(atomic_load(&g_signals) == 1, "%d signals delivered, sent 1",
	      atomic_load(&g_signals));
	sigaction(SIGUSR1, &old, NULL);
	free(buf);
	close(c);
	close(s);
}

/*
 * A send() blocked on a full buffer (the reader reads nothing) and interrupted by a
 * signal returns the partial count it had accepted, with or without SA_RESTART; exactly
 * those bytes arrive.
 */
static void run_eintr_send(struct rng *r)
{
	struct sigaction old = count_signals(rng_chance(r, 50));
	size_t big = 64 * MIB;
	uint8_t *sb = malloc(big);
	struct vstream w, rd;
	struct blocked b;
	int c, s, rfd, wfd;
	pthread_t th;
	uint64_t t0;

	CHECK(sb, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rfd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "interrupted send");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "interrupted send");
	set_phase("signal to a blocked send");
	pat_fill(w.base, 0, sb, big);
	b = (struct blocked){ .fd = wfd, .is_send = true, .buf = sb, .len = big };
	block_and_signal(&th, &b, SYS_sendto, "send");
	t0 = now_ns();
	while (!atomic_load(&b.done) && ms_since(t0) < 2000)
		sleep_us(1000);
	CHECK(atomic_load(&b.done), "send() still blocked 2 s after a signal; plain TCP "
				    "returns the partial count at once");
	CHECK(b.ret > 0 && (size_t)b.ret < big,
	      "blocked send() of %zu bytes interrupted by a signal returned %s; plain TCP "
	      "returns the bytes it accepted",
	      big, RES(b.ret, b.err));
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	w.off += (uint64_t)b.ret;
	rd.total = w.off;
	recv_exact(rfd, &rd, "what the interrupted send accepted");
	CHECK(fionread(rfd) == 0, "SIOCINQ %d after the accepted bytes", fionread(rfd));
	obs("blocked send, signal: a partial count, and exactly those bytes arrived");
	sigaction(SIGUSR1, &old, NULL);
	free(sb);
	close(c);
	close(s);
}

/* --- MSG_DONTWAIT, MSG_TRUNC ---------------------------------------------------------------- */

/*
 * MSG_DONTWAIT on an empty blocking socket: -1/EAGAIN at once. MSG_TRUNC on TCP discards
 * instead of copying (the buffer may be NULL) and returns the count; with MSG_PEEK it
 * reports how much is queued without consuming it.
 */
static void run_dontwait_trunc(struct rng *r)
{
	struct vstream w, rd;
	uint8_t buf[256];
	uint64_t len, t0;
	int c, s, rfd, wfd, k;
	ssize_t n;

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "truncated stream");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "truncated stream");

	set_phase("MSG_DONTWAIT on an empty socket");
	t0 = now_ns();
	n = recv(rfd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN && ms_since(t0) < 1000,
	      "recv(MSG_DONTWAIT) on an empty socket returned %s after %" PRIu64
	      " ms; plain TCP gives -1/EAGAIN at once",
	      RES(n, errno), ms_since(t0));
	obs("recv(MSG_DONTWAIT) on an empty socket: %s", RES(n, errno));

	set_phase("MSG_TRUNC");
	len = rng_range(r, 2, 32 * KIB);
	send_stream(wfd, &w, len, r);
	wait_outq_zero(wfd, "writer");
	expect_inq(rfd, (int)len, "before MSG_TRUNC");
	n = recv(rfd, NULL, 64 * KIB, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	CHECK(n == (ssize_t)len,
	      "recv(NULL, 64K, MSG_PEEK|MSG_TRUNC) with %" PRIu64
	      " bytes queued returned %s; plain TCP reports %" PRIu64,
	      len, RES(n, errno), len);
	obs("recv(NULL, MSG_PEEK|MSG_TRUNC): %s of %" PRIu64, RES(n, errno), len);
	k = (int)rng_range(r, 1, len - 1);
	n = recv(rfd, NULL, (size_t)k, MSG_TRUNC | (rng_chance(r, 50) ? MSG_DONTWAIT : 0));
	CHECK(n == k,
	      "recv(NULL, %d, MSG_TRUNC) with %" PRIu64 " bytes queued returned %s; "
	      "plain TCP discards %d bytes and returns %d",
	      k, len, RES(n, errno), k, k);
	obs("recv(NULL, %d, MSG_TRUNC): %s", k, RES(n, errno));
	/* The discarded bytes are gone: the next byte read is byte k of the stream. */
	rd.off = (uint64_t)k;
	rd.total = len;
	CHECK(fionread(rfd) == (int)len - k, "SIOCINQ %d after discarding %d of %" PRIu64,
	      fionread(rfd), k, len);
	recv_exact(rfd, &rd, "after MSG_TRUNC");
	n = recv(rfd, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN, "recv(MSG_DONTWAIT) after draining returned %s",
	      RES(n, errno));
	obs("after MSG_TRUNC the stream went on at byte %d; drained: -1/EAGAIN", k);
	close(c);
	close(s);
}

/* --- TCP_CORK, MSG_MORE, TCP_NODELAY -------------------------------------------------------- */

struct reader {
	int fd;
	struct vstream vs;
	_Atomic uint64_t expect; /* bytes that must have come at EOF, known by then */
	bool readv_many;	 /* read with IOV_MAX tiny iovecs now and then */
	struct rng r;
};

/* Read to EOF, verifying every byte; expect is what must have come by then. */
static void *reader_run(void *arg)
{
	struct reader *rr = arg;
	uint8_t *buf = malloc(256 * KIB);
	struct iovec *iov = calloc(IOV_MAX, sizeof(*iov));
	uint64_t want;

	CHECK(buf && iov, "out of memory");
	set_timeo(rr->fd, SO_RCVTIMEO, WAIT_MS);
	for (;;) {
		ssize_t n;

		if (rr->readv_many && rng_chance(&rr->r, 30)) {
			size_t used = 0;
			int i, cnt = (int)rng_range(&rr->r, 1, IOV_MAX);

			for (i = 0; i < cnt; i++) {
				iov[i].iov_base = buf + used;
				iov[i].iov_len = (size_t)rng_range(&rr->r, 0, 64);
				used += iov[i].iov_len;
			}
			if (rng_chance(&rr->r, 50)) {
				struct msghdr m = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };

				n = recvmsg(rr->fd, &m, 0);
			} else {
				n = readv(rr->fd, iov, cnt);
			}
			if (n == 0 && used == 0)
				continue; /* nothing asked for: 0 is no EOF */
		} else {
			n = recv(rr->fd, buf, (size_t)rng_logsize(&rr->r, 1, 256 * KIB), 0);
		}
		if (n < 0 && errno == EINTR)
			continue;
		CHECK(n >= 0, "%s: read at offset %" PRIu64 " returned %s", rr->vs.name, rr->vs.off,
		      RES(n, errno));
		if (n == 0)
			break;
		vs_check(&rr->vs, buf, (size_t)n);
	}
	want = atomic_load(&rr->expect);
	CHECK(rr->vs.off == want,
	      "%s: EOF after %" PRIu64 " bytes, %" PRIu64 " were sent: bytes LOST", rr->vs.name,
	      rr->vs.off, want);
	free(iov);
	free(buf);
	return NULL;
}

/* A few small writes by write(), send() or send(MSG_MORE). */
static void small_writes(int fd, struct vstream *w, struct rng *r, int flags)
{
	int i, n = (int)rng_range(r, 1, 40);
	uint8_t buf[512];

	for (i = 0; i < n; i++) {
		size_t len = (size_t)rng_range(r, 1, sizeof(buf));
		ssize_t k;

		pat_fill(w->base, w->off, buf, len);
		if (!flags && rng_chance(r, 50))
			k = write(fd, buf, len);
		else
			k = send(fd, buf, len, flags | MSG_NOSIGNAL);
		CHECK(k == (ssize_t)len, "small write of %zu returned %s", len, RES(k, errno));
		w->off += len;
	}
}

/*
 * Corked, MSG_MORE and TCP_NODELAY writes, and a close while still corked: every byte
 * arrives, in order, then EOF. (Timing differs by design, KERNEL-NOTES §7.2: the redirect
 * path delivers each write at once; content and order must not.)
 */
static void run_cork(struct rng *r)
{
	struct reader rr = { 0 };
	struct vstream w;
	pthread_t th;
	int c, s, wfd, one = 1, zero = 0;

	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rr.fd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "corked stream");
	vs_init(&rr.vs, g_opt.key, stream_id(1), UINT64_MAX, "corked stream");

	set_phase("TCP_CORK");
	CHECK_SYS(!setsockopt(wfd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), "TCP_CORK on");
	CHECK(sockopt_int(wfd, IPPROTO_TCP, TCP_CORK) == 1, "TCP_CORK reads back %d",
	      sockopt_int(wfd, IPPROTO_TCP, TCP_CORK));
	small_writes(wfd, &w, r, 0);
	CHECK_SYS(!setsockopt(wfd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero)), "TCP_CORK off");
	set_phase("MSG_MORE");
	small_writes(wfd, &w, r, MSG_MORE);
	small_writes(wfd, &w, r, 0);
	set_phase("TCP_NODELAY");
	CHECK_SYS(!setsockopt(wfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), "TCP_NODELAY");
	CHECK(sockopt_int(wfd, IPPROTO_TCP, TCP_NODELAY) == 1, "TCP_NODELAY reads back %d",
	      sockopt_int(wfd, IPPROTO_TCP, TCP_NODELAY));
	small_writes(wfd, &w, r, 0);
	send_stream(wfd, &w, rng_logsize(r, 1, 256 * KIB), r);
	/* The reader starts late for some seeds: the corked bytes wait for it. */
	if (rng_chance(r, 50))
		sleep_us(20000);
	set_phase("close while corked");
	CHECK_SYS(!setsockopt(wfd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)), "TCP_CORK on");
	small_writes(wfd, &w, r, rng_chance(r, 50) ? MSG_MORE : 0);
	atomic_store(&rr.expect, w.off);
	rng_init(&rr.r, g_seed, rng_next(r));
	CHECK(!pthread_create(&th, NULL, reader_run, &rr), "pthread_create failed");
	close(wfd);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	obs("corked, MSG_MORE, TCP_NODELAY writes and a close while corked: %" PRIu64
	    " bytes in order, then EOF",
	    w.off);
	close(rr.fd);
}

/* --- writev with many iovecs, zero-length I/O ------------------------------------------------- */

/*
 * writev/sendmsg of IOV_MAX small iovecs returns their sum; IOV_MAX + 1 is EINVAL; zero
 * iovecs, zero-length iovecs, send(..., 0) and write(fd, NULL, 0) return 0 and send
 * nothing; a few large iovecs go whole. The reader uses readv/recvmsg with up to IOV_MAX
 * iovecs.
 */
static void run_iov(struct rng *r)
{
	struct iovec *iov = calloc(IOV_MAX + 1, sizeof(*iov));
	uint8_t *buf = malloc(IOV_MAX * 16 + 16), tiny[16], *big;
	struct reader rr = { 0 };
	struct vstream w;
	struct msghdr m = { 0 };
	size_t sum, bigsum, sizes[3];
	int c, s, wfd, i, rfd;
	pthread_t th;
	ssize_t n;

	CHECK(iov && buf, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rfd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "iovec stream");
	vs_init(&rr.vs, g_opt.key, stream_id(1), UINT64_MAX, "iovec stream");

	set_phase("zero-length I/O");
	n = send(wfd, tiny, 0, MSG_NOSIGNAL);
	CHECK(n == 0, "send(fd, buf, 0) returned %s; plain TCP gives 0", RES(n, errno));
	n = write(wfd, NULL, 0);
	CHECK(n == 0, "write(fd, NULL, 0) returned %s; plain TCP gives 0", RES(n, errno));
	n = writev(wfd, iov, 0);
	CHECK(n == 0, "writev(fd, iov, 0) returned %s; plain TCP gives 0", RES(n, errno));
	for (i = 0; i < 3; i++)
		iov[i] = (struct iovec){ tiny, 0 };
	n = writev(wfd, iov, 3);
	CHECK(n == 0, "writev of 3 empty iovecs returned %s; plain TCP gives 0", RES(n, errno));
	n = sendmsg(wfd, &m, MSG_NOSIGNAL);
	CHECK(n == 0, "sendmsg with no iovec returned %s; plain TCP gives 0", RES(n, errno));
	n = recv(rfd, tiny, sizeof(tiny), MSG_DONTWAIT);
	CHECK(n < 0 && errno == EAGAIN,
	      "after zero-length writes the reader got %s; plain TCP: "
	      "nothing was sent (-1/EAGAIN)",
	      RES(n, errno));
	obs("zero-length send, write, writev (0 and empty iovecs), sendmsg: 0, nothing sent");
	rng_init(&rr.r, g_seed, rng_next(r));
	rr.fd = rfd;
	rr.readv_many = true;
	set_phase("IOV_MAX small iovecs");
	for (int round = 0; round < 4; round++) {
		/* Rounds 0 and 1: all IOV_MAX iovecs; then a random count, some empty. */
		int cnt = round < 2 ? IOV_MAX : (int)rng_range(r, 1, IOV_MAX);

		sum = 0;
		for (i = 0; i < cnt; i++) {
			size_t len = (size_t)rng_range(r, round & 1 ? 0 : 1, 16);

			iov[i] = (struct iovec){ buf + sum, len };
			sum += len;
		}
		pat_fill(w.base, w.off, buf, sum);
		if (round == 1)
			n = sendmsg(wfd,
				    &(struct msghdr){ .msg_iov = iov, .msg_iovlen = (size_t)cnt },
				    MSG_NOSIGNAL);
		else
			n = writev(wfd, iov, cnt);
		CHECK(n == (ssize_t)sum, "%s of %d iovecs (%zu bytes) returned %s",
		      round == 1 ? "sendmsg" : "writev", cnt, sum, RES(n, errno));
		w.off += sum;
	}
	n = writev(wfd, iov, IOV_MAX + 1);
	CHECK(n < 0 && errno == EINVAL,
	      "writev of IOV_MAX + 1 iovecs returned %s; plain TCP "
	      "gives -1/EINVAL",
	      RES(n, errno));
	obs("writev and sendmsg of %d small iovecs: their sum; IOV_MAX + 1: %s", IOV_MAX,
	    RES(n, errno));

	/* A few large iovecs, read concurrently. */
	set_phase("large iovecs");
	CHECK(!pthread_create(&th, NULL, reader_run, &rr), "pthread_create failed");
	bigsum = 0;
	for (i = 0; i < 3; i++)
		bigsum += sizes[i] = (size_t)rng_range(r, 256 * KIB, 4 * MIB);
	big = malloc(bigsum);
	CHECK(big, "out of memory");
	pat_fill(w.base, w.off, big, bigsum);
	iov[0] = (struct iovec){ big, sizes[0] };
	iov[1] = (struct iovec){ big + sizes[0], sizes[1] };
	iov[2] = (struct iovec){ big + sizes[0] + sizes[1], sizes[2] };
	n = writev(wfd, iov, 3);
	CHECK(n == (ssize_t)bigsum, "blocking writev of 3 iovecs, %zu bytes, returned %s", bigsum,
	      RES(n, errno));
	w.off += bigsum;
	obs("blocking writev of 3 large iovecs (%zu bytes): all of them", bigsum);
	free(big);
	/* The reader learns the total only now; it cannot reach EOF before the close. */
	atomic_store(&rr.expect, w.off);
	close(wfd);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	obs("reader (readv/recvmsg with up to %d iovecs) got every byte in order", IOV_MAX);
	close(rfd);
	free(iov);
	free(buf);
}

/*
 * Zero-length reads. read(fd, buf, 0) returns 0 before reaching the protocol. recv()
 * with length 0 does reach it: on TCP it returns 0 at once when bytes are queued (and
 * consumes none), -1/EAGAIN with MSG_DONTWAIT on an empty queue, and on a blocking empty
 * socket it waits like any read, for data (then 0) or SO_RCVTIMEO (then 0): a program
 * may use it to wait for readability without consuming.
 */
static void run_zero_read(struct rng *r)
{
	struct vstream w, rd;
	struct later l = { 0 };
	uint8_t tiny[16];
	uint64_t t0, ms;
	int c, s, rfd, wfd;
	pthread_t th;
	ssize_t n;

	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "zero-length reads");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "zero-length reads");

	set_phase("empty socket");
	n = read(rfd, tiny, 0);
	CHECK(n == 0, "read(fd, buf, 0) on an empty socket returned %s", RES(n, errno));
	n = recv(rfd, tiny, 0, MSG_DONTWAIT);
	obs("empty: read(0) 0, recv(0, MSG_DONTWAIT) %s", RES(n, errno));
	set_timeo(rfd, SO_RCVTIMEO, 200);
	t0 = now_ns();
	n = recv(rfd, tiny, 0, 0);
	ms = ms_since(t0);
	CHECK(n == 0 && ms >= 100,
	      "blocking recv(fd, buf, 0, 0) on an empty socket with SO_RCVTIMEO 200 ms returned "
	      "%s after %" PRIu64 " ms; plain TCP waits for the timeout, then returns 0",
	      RES(n, errno), ms);
	obs("empty, blocking recv(0) with SO_RCVTIMEO: waited for the timeout, returned 0");

	set_phase("blocking recv(0) woken by data");
	set_timeo(rfd, SO_RCVTIMEO, 2000);
	l = (struct later){ .fd = wfd, .delay_us = 100000, .vs = w, .len = 10 };
	later_start(&th, &l, r);
	t0 = now_ns();
	n = recv(rfd, tiny, 0, 0);
	ms = ms_since(t0);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	w = l.vs;
	CHECK(n == 0 && ms >= 50 && ms < 1500,
	      "blocking recv(fd, buf, 0, 0), data coming after 100 ms, returned %s after %" PRIu64
	      " ms; plain TCP returns 0 when the data comes",
	      RES(n, errno), ms);
	obs("empty, blocking recv(0): returned 0 when data came");

	set_phase("data queued");
	expect_inq(rfd, 10, "ten bytes");
	n = recv(rfd, tiny, 0, 0);
	CHECK(n == 0, "recv(fd, buf, 0, 0) with 10 bytes queued returned %s", RES(n, errno));
	n = recv(rfd, tiny, 0, MSG_DONTWAIT);
	CHECK(n == 0, "recv(fd, buf, 0, MSG_DONTWAIT) with 10 bytes queued returned %s",
	      RES(n, errno));
	CHECK(fionread(rfd) == 10, "SIOCINQ %d after zero-length reads, 10 were queued",
	      fionread(rfd));
	rd.total = w.off;
	recv_exact(rfd, &rd, "the ten bytes");
	obs("data queued: recv(0) 0 at once, nothing consumed");
	close(c);
	close(s);
}

/* --- one write larger than every buffer ------------------------------------------------------ */

struct slow_reader {
	int fd;
	struct vstream vs;
	struct rng r;
};

static void *slow_reader_run(void *arg)
{
	struct slow_reader *sr = arg;
	uint8_t *buf = malloc(64 * KIB);

	CHECK(buf, "out of memory");
	set_timeo(sr->fd, SO_RCVTIMEO, WAIT_MS);
	while (sr->vs.off < sr->vs.total) {
		size_t want = (size_t)rng_logsize(&sr->r, 1, 64 * KIB);
		ssize_t n;

		if (want > sr->vs.total - sr->vs.off)
			want = (size_t)(sr->vs.total - sr->vs.off);
		n = recv(sr->fd, buf, want, 0);
		CHECK(n > 0, "slow reader at offset %" PRIu64 ": %s", sr->vs.off,
		      n ? RES(n, errno) : "EOF");
		vs_check(&sr->vs, buf, (size_t)n);
		if (rng_chance(&sr->r, 2))
			sleep_us(rng_range(&sr->r, 1000, 20000));
	}
	free(buf);
	return NULL;
}

/*
 * A single blocking write() (or writev) much larger than the send and receive buffers
 * together, to a reader that reads slowly in small pieces: the call blocks as long as it
 * must and returns the full count; every byte arrives in order. (bp_check covers a reader
 * that stops altogether, with many 1 MiB writes and a memory bound.)
 */
static void run_big_write(struct rng *r)
{
	struct slow_reader sr;
	struct vstream w;
	uint64_t len = rng_range(r, 8 * MIB, 24 * MIB);
	uint8_t *buf = malloc(len);
	pthread_t th;
	int c, s, wfd;
	ssize_t n;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	sr.fd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), len, "one big write");
	vs_init(&sr.vs, g_opt.key, stream_id(1), len, "one big write");
	pat_fill(w.base, 0, buf, len);
	rng_init(&sr.r, g_seed, rng_next(r));
	CHECK(!pthread_create(&th, NULL, slow_reader_run, &sr), "pthread_create failed");
	set_phase("one big write");
	if (rng_chance(r, 50)) {
		n = write(wfd, buf, len);
	} else {
		struct iovec iov[2] = { { buf, len / 3 }, { buf + len / 3, len - len / 3 } };

		n = writev(wfd, iov, 2);
	}
	CHECK(n == (ssize_t)len, "one blocking write of %" PRIu64 " bytes returned %s", len,
	      RES(n, errno));
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	obs("one blocking write of %" PRIu64 " bytes: returned %zd, all read in order", len, n);
	close(wfd);
	expect_eof(sr.fd, "after the big write");
	close(sr.fd);
	free(buf);
}

/* --- SO_LINGER, close with unread data ------------------------------------------------------- */

/*
 * What the peer of a reset connection sees, probe by probe, in an order drawn from the
 * seed: poll() revents (waiting for the reset to arrive), then SO_ERROR, send() and
 * recv(), each twice. Every answer is an observation; the first error is ECONNRESET.
 */
static void observe_reset(int fd, struct rng *r, const char *why)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };
	uint64_t t0 = now_ns();
	int order = (int)rng_range(r, 0, 2), i, first_err = 0;
	uint8_t b[64] = { 0 };

	/* Wait for the connection to be torn down (POLLHUP), bounded. */
	do {
		CHECK(poll(&p, 1, 100) >= 0, "poll: %s", strerror(errno));
	} while (!(p.revents & POLLHUP) && ms_since(t0) < WAIT_MS);
	obs("%s: poll revents %s", why, REVENTS(p.revents));
	for (i = 0; i < 6; i++) {
		int probe = (order + i) % 3;
		ssize_t n;
		int err;

		if (probe == 0) {
			int v = sockopt_int(fd, SOL_SOCKET, SO_ERROR);

			obs("%s: SO_ERROR %s", why, v ? strerrorname_np(v) : "0");
			err = v;
			n = v ? -1 : 0;
		} else if (probe == 1) {
			n = send(fd, b, sizeof(b), MSG_NOSIGNAL | MSG_DONTWAIT);
			err = errno;
			obs("%s: send %s", why, RES(n, err));
		} else {
			n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
			err = errno;
			obs("%s: recv %s", why, RES(n, err));
		}
		if (n < 0 && !first_err)
			first_err = err;
	}
	CHECK(first_err == ECONNRESET,
	      "%s: the first error the peer saw was %s; plain TCP reports ECONNRESET", why,
	      first_err ? strerrorname_np(first_err) : "none (EOF: a FIN, not a RST)");
}

/*
 * SO_LINGER {1,0}: close() sends a RST; the peer, which had read everything, sees
 * ECONNRESET once, then EOF and EPIPE (sem_check's rst covers a reader with data still
 * queued). SO_LINGER {1,N}: close() returns once the bytes are delivered; the peer reads
 * them all, then EOF.
 */
static void run_linger(struct rng *r)
{
	struct vstream w, rd;
	bool zero = atomic_load(&g_iter) % 2 == 0; /* both kinds in every run */
	struct linger lg = { .l_onoff = 1, .l_linger = zero ? 0 : 2 };
	int c, s, closer, peer;
	uint64_t t0;

	test_pair(&c, &s);
	closer = rng_chance(r, 50) ? c : s;
	peer = closer == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "before the close");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "before the close");
	send_stream(closer, &w, rng_logsize(r, 1, 32 * KIB), r);
	rd.total = w.off;
	if (zero)
		recv_exact(peer, &rd, "before the RST");
	CHECK_SYS(!setsockopt(closer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), "SO_LINGER");
	set_phase(zero ? "close with SO_LINGER {1,0}" : "close with SO_LINGER {1,2}");
	t0 = now_ns();
	CHECK_SYS(!close(closer), "close");
	CHECK(ms_since(t0) < 1500, "close() with SO_LINGER {1,%d} took %" PRIu64 " ms", lg.l_linger,
	      ms_since(t0));
	if (zero) {
		observe_reset(peer, r, "peer after SO_LINGER {1,0}");
	} else {
		recv_exact(peer, &rd, "after a lingering close");
		expect_eof(peer, "after a lingering close");
		obs("SO_LINGER {1,2}: close returned at once, peer read %" PRIu64 " bytes, EOF",
		    rd.off);
	}
	close(peer);
}

/*
 * A socket closed with unread bytes in its receive queue sends a RST (RFC 2525 2.17),
 * so its peer sees ECONNRESET. README.md ("What is not covered") documents that under
 * skaccel the peer sees EOF instead: the sockmap purges the queue before tcp_close()
 * looks at it (KERNEL-NOTES §5.5).
 */
static void run_close_unread(struct rng *r)
{
	struct vstream w;
	int c, s, closer, peer;
	uint64_t len = rng_logsize(r, 1, 32 * KIB);

	test_pair(&c, &s);
	closer = rng_chance(r, 50) ? c : s;
	peer = closer == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "never read");
	send_stream(peer, &w, len, r);
	wait_outq_zero(peer, "sender");
	expect_inq(closer, (int)len, "before the close");
	set_phase("close with unread data");
	CHECK_SYS(!close(closer), "close");
	observe_reset(peer, r, "peer of a close with unread data");
	close(peer);
}

/*
 * A sendfile() of a file much larger than TCP lets a writer run ahead (the reader's
 * receive buffer plus the writer's send buffer, about 10 MiB at most with the default
 * sysctls) to a peer that reads a little, then closes with unread data: on TCP the
 * writer blocks once the peer stops reading, the close resets the connection, and the
 * blocked sendfile() returns a short count, the next one a connection error. A path
 * without TCP's limit would accept the whole file into the peer's queue, and one whose
 * close sends a FIN would leave the writer blocked (SO_SNDTIMEO: EAGAIN).
 */
struct sf_writer {
	int fd, file;
	uint64_t len, sent;
	int err; /* errno of the failed call, 0 if every byte was accepted */
};

static void *sf_writer_run(void *arg)
{
	struct sf_writer *w = arg;
	off_t off = 0;

	while ((uint64_t)off < w->len) {
		ssize_t n = sendfile(w->fd, w->file, &off, w->len - (uint64_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? errno : EIO;
			break;
		}
	}
	w->sent = (uint64_t)off;
	return NULL;
}

static void run_sendfile_reset(struct rng *r)
{
	const uint64_t len = 64 * MIB;
	struct sf_writer w = { .len = len };
	struct vstream rd;
	uint64_t head = rng_logsize(r, 1, 256 * KIB);
	uint8_t *buf = malloc(MIB);
	pthread_t th;
	int c, s, peer;
	uint64_t off;

	CHECK(buf, "out of memory");
	w.file = memfd_create("semx-sendfile", MFD_CLOEXEC);
	CHECK_SYS(w.file >= 0, "memfd_create");
	vs_init(&rd, g_opt.key, stream_id(1), head, "sendfile");
	for (off = 0; off < len; off += MIB) {
		pat_fill(rd.base, off, buf, MIB);
		CHECK_SYS(write(w.file, buf, MIB) == (ssize_t)MIB, "write to the memfd");
	}
	test_pair(&c, &s);
	w.fd = rng_chance(r, 50) ? c : s;
	peer = w.fd == c ? s : c;
	set_timeo(w.fd, SO_SNDTIMEO, WAIT_MS);
	set_phase("sendfile to a reader that reads a little");
	CHECK(!pthread_create(&th, NULL, sf_writer_run, &w), "pthread_create failed");
	recv_exact(peer, &rd, "the head of the file");
	sleep_us(300000); /* the writer runs as far ahead as it may, and blocks */
	set_phase("the reader closes with unread data");
	CHECK_SYS(!close(peer), "close");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	CHECK(w.sent < len,
	      "sendfile() sent the whole %" PRIu64 " byte file to a peer that read %" PRIu64
	      " bytes: no flow control",
	      len, head);
	CHECK(w.err == ECONNRESET || w.err == EPIPE,
	      "sendfile() to a peer that closed with unread data ended with %s after %" PRIu64
	      " bytes; plain TCP reports ECONNRESET or EPIPE",
	      w.err ? strerrorname_np(w.err) : "no error", w.sent);
	obs("sendfile of %" PRIu64 " MiB to a peer that read some and closed: a connection error",
	    len / MIB);
	close(w.fd);
	close(w.file);
	free(buf);
}

/* --- the peer protocol: what a forked, exec'd or fd-passed process does ----------------------- */

/*
 * A process that got its socket some other way than connect()/accept() runs this as the
 * client; peer_protocol_server() is the other end. It exercises what depends on the
 * shim knowing the socket is accelerated (readfix.c): a MSG_WAITALL read of a message
 * that trickles in (KERNEL-NOTES §6.3), then a request, shutdown(SHUT_WR) and a blocking
 * read of a reply that comes 200 ms later (§6.4), then EOF.
 */
struct proto_hdr {
	uint64_t trickle, request, reply;
};

static void peer_protocol_client(int fd)
{
	struct vstream tr, req, rep;
	struct proto_hdr h;
	struct rng r;
	uint8_t *buf;
	ssize_t n;

	set_phase("peer protocol: header");
	n = recv(fd, &h, sizeof(h), MSG_WAITALL);
	CHECK(n == sizeof(h), "recv(MSG_WAITALL) of the %zu byte header returned %s", sizeof(h),
	      RES(n, errno));
	CHECK(h.trickle < 16 * MIB && h.request < 16 * MIB && h.reply < 16 * MIB, "garbled header");
	buf = malloc(h.trickle + 1);
	CHECK(buf, "out of memory");
	set_phase("peer protocol: MSG_WAITALL of a trickled message");
	n = recv(fd, buf, h.trickle, MSG_WAITALL);
	CHECK(n == (ssize_t)h.trickle,
	      "recv(MSG_WAITALL) of %" PRIu64 " bytes arriving in 3 pieces returned %s; plain "
	      "TCP waits for all of them",
	      h.trickle, RES(n, errno));
	vs_init(&tr, g_opt.key, stream_id(11), h.trickle, "trickled message");
	vs_check(&tr, buf, (size_t)n);
	free(buf);
	set_phase("peer protocol: request, SHUT_WR, late reply");
	rng_init(&r, g_seed, 12);
	vs_init(&req, g_opt.key, stream_id(12), UINT64_MAX, "request");
	send_stream(fd, &req, h.request, &r);
	CHECK_SYS(!shutdown(fd, SHUT_WR), "shutdown(SHUT_WR)");
	vs_init(&rep, g_opt.key, stream_id(13), h.reply, "late reply");
	stream_recv(fd, &rep, &r, 64 * KIB, 0, 0, true, NULL);
}

static void peer_protocol_server(int fd, struct rng *r)
{
	struct proto_hdr h = { .trickle = rng_range(r, 3, 64 * KIB),
			       .request = rng_logsize(r, 1, 256 * KIB),
			       .reply = rng_logsize(r, 1, 256 * KIB) };
	struct vstream tr, req, rep;
	uint64_t piece = h.trickle / 3;
	int i;

	send_all(fd, &h, sizeof(h), "header");
	vs_init(&tr, g_opt.key, stream_id(11), UINT64_MAX, "trickled message");
	for (i = 0; i < 3; i++) {
		send_stream(fd, &tr, i < 2 ? piece : h.trickle - 2 * piece, r);
		if (i < 2)
			sleep_us(50000);
	}
	vs_init(&req, g_opt.key, stream_id(12), h.request, "request");
	recv_exact(fd, &req, "server reading the request");
	expect_eof(fd, "server after the request");
	sleep_us(200000);
	vs_init(&rep, g_opt.key, stream_id(13), UINT64_MAX, "late reply");
	send_stream(fd, &rep, h.reply, r);
	close(fd);
}

/* --- fork ---------------------------------------------------------------------------------- */

/*
 * The socket after fork(). child_uses: the parent closes its copy at once and the child
 * runs the peer protocol on it; the peer sees EOF when the child exits. Otherwise the
 * child writes, closes its copy and exits: the peer sees no EOF while the parent holds
 * the socket, and the parent goes on using it.
 */
static void run_fork(struct rng *r)
{
	bool child_uses = atomic_load(&g_iter) % 2 == 0; /* both kinds in every run */
	struct vstream w, rd;
	int c, s;
	pid_t pid;

	test_pair(&c, &s);
	set_phase(child_uses ? "child uses, parent closed" : "child closes, parent uses");
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "from the child");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "from the child");
	rd.total = rng_logsize(r, 1, 64 * KIB);
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		close(s);
		if (child_uses) {
			peer_protocol_client(c);
		} else {
			struct rng cr;

			rng_init(&cr, g_seed, 77);
			send_stream(c, &w, rd.total, &cr);
		}
		close(c);
		_exit(0);
	}
	if (child_uses) {
		close(c);
		peer_protocol_server(s, r);
		wait_child(pid, "forked child running the peer protocol");
		obs("fork, parent closed its copy: the child's MSG_WAITALL, half-close and late "
		    "reply behave as on TCP; EOF at the child's exit");
		return;
	}
	recv_exact(s, &rd, "what the child wrote");
	wait_child(pid, "forked child");
	expect_quiet(s, 200, "after the child closed its copy");
	w.off = rd.off;
	send_stream(c, &w, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "from the parent after the child left");
	close(c);
	expect_eof(s, "after the parent's close");
	close(s);
	obs("fork, child closed its copy: no EOF until the parent's close; data flows");
}

/* --- exec ------------------------------------------------------------------------------------ */

static char g_self[PATH_MAX];

/* The descriptor the exec'd program finds the socket on. */
#define EXEC_FD 9
#define EXEC_FD_STR "9"

/*
 * The socket inherited across execve(). cat: /bin/sh -c 'exec cat <&9 >&9' echoes a
 * stream back (read()/write() in a program that never saw connect()). self: this program
 * runs the peer protocol in a fresh image (semx_check --exec-child FD SEED ITER).
 */
static void exec_scenario(struct rng *r, bool cat)
{
	struct later l = { .shut_wr = true };
	struct vstream rd;
	pthread_t th;
	int c, s;
	pid_t pid;

	test_pair(&c, &s);
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		char fdarg[16], seed[32], iter[16];

		/*
		 * dup2() to another number clears FD_CLOEXEC: EXEC_FD survives the exec, the
		 * rest does not.
		 */
		if (s == EXEC_FD ? fcntl(s, F_SETFD, 0) < 0 : dup2(s, EXEC_FD) != EXEC_FD)
			_exit(20);
		if (cat) {
			execl("/bin/sh", "sh", "-c",
			      "exec cat <&" EXEC_FD_STR " >&" EXEC_FD_STR " " EXEC_FD_STR ">&-",
			      (char *)NULL);
			_exit(21);
		}
		snprintf(fdarg, sizeof(fdarg), "%d", EXEC_FD);
		snprintf(seed, sizeof(seed), "%" PRIu64, g_seed);
		snprintf(iter, sizeof(iter), "%d", atomic_load(&g_iter));
		execl(g_self, g_self, "--exec-child", fdarg, seed, iter, (char *)NULL);
		_exit(22);
	}
	close(s);
	if (!cat) {
		peer_protocol_server(c, r);
		wait_child(pid, "exec'd child running the peer protocol");
		obs("exec'd program: MSG_WAITALL, half-close and late reply behave as on TCP");
		return;
	}
	set_phase("echo through cat");
	l.fd = c;
	l.len = rng_logsize(r, 1, 1 * MIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), UINT64_MAX, "echoed by cat");
	vs_init(&rd, g_opt.key, stream_id(1), l.len, "echoed by cat");
	later_start(&th, &l, r);
	recv_exact(c, &rd, "reading cat's echo");
	expect_eof(c, "after cat exits");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	wait_child(pid, "sh -c 'cat <&9 >&9'");
	close(c);
	obs("cat with the socket as stdin and stdout echoed %" PRIu64 " bytes, then EOF", l.len);
}

static void run_exec_cat(struct rng *r)
{
	exec_scenario(r, true);
}

static void run_exec_child(struct rng *r)
{
	exec_scenario(r, false);
}

/* The entry point of an exec'd child: semx_check --exec-child FD SEED ITER. */
static int exec_child_main(int argc, char **argv)
{
	int fd;

	if (argc != 5)
		return 2;
	g_prog = "semx_check(exec'd)";
	snprintf(g_scenario, sizeof(g_scenario), "exec_child");
	fd = atoi(argv[2]);
	g_seed = strtoull(argv[3], NULL, 0);
	atomic_store(&g_iter, atoi(argv[4]));
	g_opt.key = mix64(g_seed + 1);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog_arm(30);
	peer_protocol_client(fd);
	close(fd);
	return 0;
}

/* --- SCM_RIGHTS ------------------------------------------------------------------------------ */

static int recv_fd(int us)
{
	char control[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	int fd;

	CHECK(recvmsg(us, &m, MSG_CMSG_CLOEXEC) == 1, "recvmsg(SCM_RIGHTS): %s", strerror(errno));
	cm = CMSG_FIRSTHDR(&m);
	CHECK(cm && cm->cmsg_type == SCM_RIGHTS, "no SCM_RIGHTS in the message");
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static void send_fd(int us, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "F", 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	CHECK_SYS(sendmsg(us, &m, MSG_NOSIGNAL) == 1, "sendmsg(SCM_RIGHTS)");
}

/*
 * An accelerated socket passed over a Unix socketpair to a worker process that was
 * forked before the connection existed (so it knows nothing of it) and uses it: the
 * peer protocol, then EOF when the worker closes it. The sender closes its copy first.
 */
static void run_scm_rights(struct rng *r)
{
	int sp[2], c, s, fd;
	bool pass_client = rng_chance(r, 50);
	pid_t pid;

	CHECK_SYS(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), "socketpair");
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		close(sp[0]);
		fd = recv_fd(sp[1]);
		peer_protocol_client(fd);
		close(fd);
		_exit(0);
	}
	close(sp[1]);
	test_pair(&c, &s);
	set_phase("pass the socket");
	send_fd(sp[0], pass_client ? c : s);
	close(pass_client ? c : s);
	close(sp[0]);
	peer_protocol_server(pass_client ? s : c, r);
	wait_child(pid, "worker that received the socket by SCM_RIGHTS");
	obs("socket passed by SCM_RIGHTS: the worker's MSG_WAITALL, half-close and late reply "
	    "behave as on TCP; EOF at its close");
}

/* --- threads ---------------------------------------------------------------------------------- */

struct duplex_writer {
	int fd;
	struct vstream vs;
	uint64_t len;
	struct rng r;
};

static void *duplex_writer_run(void *arg)
{
	struct duplex_writer *dw = arg;

	stream_send(dw->fd, &dw->vs, dw->len, &dw->r, 64 * KIB, 5, 2000, NULL);
	CHECK_SYS(!shutdown(dw->fd, SHUT_WR), "shutdown(SHUT_WR)");
	return NULL;
}

/*
 * Two threads on each socket of a pair, one reading and one writing at the same time,
 * both directions at once; each writer half-closes when done while the reader thread of
 * the same socket still waits for the other direction (KERNEL-NOTES §6.4 in a thread).
 */
static void run_threads(struct rng *r)
{
	struct duplex_writer dw[2];
	struct reader rr[2];
	pthread_t wt[2], rt[2];
	int fds[2], i;

	test_pair(&fds[0], &fds[1]);
	for (i = 0; i < 2; i++) {
		uint64_t len = rng_logsize(r, 1, 4 * MIB);

		dw[i] = (struct duplex_writer){ .fd = fds[i], .len = len };
		vs_init(&dw[i].vs, g_opt.key, stream_id(1 + (uint64_t)i), UINT64_MAX,
			i ? "server->client" : "client->server");
		rng_init(&dw[i].r, g_seed, rng_next(r));
		rr[!i] = (struct reader){ .fd = fds[!i] };
		vs_init(&rr[!i].vs, g_opt.key, stream_id(1 + (uint64_t)i), UINT64_MAX,
			i ? "server->client" : "client->server");
		atomic_store(&rr[!i].expect, len);
		rng_init(&rr[!i].r, g_seed, rng_next(r));
	}
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_create(&rt[i], NULL, reader_run, &rr[i]), "pthread_create failed");
		CHECK(!pthread_create(&wt[i], NULL, duplex_writer_run, &dw[i]),
		      "pthread_create failed");
	}
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_join(wt[i], NULL), "pthread_join failed");
		CHECK(!pthread_join(rt[i], NULL), "pthread_join failed");
	}
	obs("a reader and a writer thread on each socket: %" PRIu64 " and %" PRIu64
	    " bytes in order, EOF each way",
	    dw[0].len, dw[1].len);
	close(fds[0]);
	close(fds[1]);
}

/* --- dup, dup2, dup3, close_range ------------------------------------------------------------- */

struct proto_server {
	int fd;
	struct rng r;
};

static void *dup_server_run(void *arg)
{
	struct proto_server *ps = arg;

	peer_protocol_server(ps->fd, &ps->r);
	return NULL;
}

/*
 * The connection stays open while any descriptor refers to it: the original is closed
 * (by close() or close_range()) after a dup(), dup2(), dup3(O_CLOEXEC) or
 * F_DUPFD_CLOEXEC copy, and the copy carries data both ways and the shim's read fixups
 * (it runs the peer protocol); EOF comes with the last close only.
 */
static void run_dup(struct rng *r)
{
	int how = (int)rng_range(r, 0, 3), c, s, d, target = 200 + (int)rng_range(r, 0, 50);
	static const char *const hows[] = { "dup", "dup2", "dup3(O_CLOEXEC)", "F_DUPFD_CLOEXEC" };
	bool via_range = rng_chance(r, 50);
	struct proto_server srv;
	pthread_t th;

	test_pair(&c, &s);
	set_phase(hows[how]);
	switch (how) {
	case 0:
		d = dup(c);
		break;
	case 1:
		d = dup2(c, target);
		break;
	case 2:
		d = dup3(c, target, O_CLOEXEC);
		break;
	default:
		d = fcntl(c, F_DUPFD_CLOEXEC, target);
		break;
	}
	CHECK_SYS(d >= 0, hows[how]);
	CHECK(((fcntl(d, F_GETFD) & FD_CLOEXEC) != 0) == (how >= 2),
	      "%s: FD_CLOEXEC is %s on the copy", hows[how],
	      fcntl(d, F_GETFD) & FD_CLOEXEC ? "set" : "clear");
	if (via_range)
		CHECK_SYS(!close_range((unsigned int)c, (unsigned int)c, 0), "close_range");
	else
		close(c);
	expect_quiet(s, 100, "after closing the original");
	/* The copy runs the client side of the peer protocol against a server thread. */
	srv.fd = s;
	rng_init(&srv.r, g_seed, rng_next(r));
	CHECK(!pthread_create(&th, NULL, dup_server_run, &srv), "pthread_create failed");
	peer_protocol_client(d);
	close(d);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	obs("%s copy, original closed by %s: no EOF, the copy works (peer protocol), EOF at "
	    "its close",
	    hows[how], via_range ? "close_range" : "close");
}

/*
 * close_range() over a range holding an accelerated socket, with a copy outside the
 * range: no EOF. CLOSE_RANGE_CLOEXEC over the copy: still open here and working; an
 * exec'd child drops its copy (no EOF); close_range() to ~0U finally closes it: EOF.
 */
static void run_close_range(struct rng *r)
{
	struct vstream w, rd, b, brd;
	unsigned int lo = 300 + (unsigned int)rng_range(r, 0, 50), hi = lo + 10;
	int c, s, c2, d, i, devnull;
	pid_t pid;

	test_pair(&c, &s);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "client->server");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "client->server");
	vs_init(&b, g_opt.key, stream_id(2), UINT64_MAX, "server->client");
	vs_init(&brd, g_opt.key, stream_id(2), 0, "server->client");
	c2 = fcntl(c, F_DUPFD, lo + 3);
	CHECK_SYS(c2 >= 0, "F_DUPFD");
	close(c);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_SYS(devnull >= 0, "open /dev/null");
	for (i = 0; i < 3; i++)
		CHECK_SYS(fcntl(devnull, F_DUPFD, lo + (unsigned int)i) >= 0, "F_DUPFD");
	d = fcntl(c2, F_DUPFD, hi + 100);
	CHECK_SYS(d >= 0, "F_DUPFD");
	send_stream(c2, &w, rng_logsize(r, 1, 64 * KIB), r);
	set_phase("close_range over the original");
	CHECK_SYS(!close_range(lo, hi, 0), "close_range");
	CHECK(fcntl(c2, F_GETFD) < 0 && errno == EBADF, "close_range left fd %d open", c2);
	rd.total = w.off;
	recv_exact(s, &rd, "sent before close_range");
	expect_quiet(s, 100, "after close_range over one of two descriptors");
	send_stream(d, &w, rng_logsize(r, 1, 64 * KIB), r);
	send_stream(s, &b, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "through the copy");
	brd.total = b.off;
	recv_exact(d, &brd, "to the copy");

	set_phase("CLOSE_RANGE_CLOEXEC");
	CHECK_SYS(!close_range((unsigned int)d, (unsigned int)d + 10, CLOSE_RANGE_CLOEXEC),
		  "close_range(CLOSE_RANGE_CLOEXEC)");
	CHECK(fcntl(d, F_GETFD) & FD_CLOEXEC, "CLOSE_RANGE_CLOEXEC did not set FD_CLOEXEC");
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(21);
	}
	wait_child(pid, "exec'd /bin/true");
	expect_quiet(s, 100, "after an exec'd child dropped its close-on-exec copy");
	send_stream(d, &w, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "after CLOSE_RANGE_CLOEXEC");
	set_phase("close_range to ~0U");
	CHECK_SYS(!close_range((unsigned int)d, ~0U, 0), "close_range(d, ~0U)");
	expect_eof(s, "after the last descriptor was closed by close_range");
	close(s);
	close(devnull);
	obs("close_range over one copy: no EOF; CLOSE_RANGE_CLOEXEC: open and working, exec "
	    "drops the child's copy; close_range over the last: EOF");
}

/* --- many connections in one loop: select() and epoll ET ----------------------------------------
 */

struct many {
	int n;
	int *c, *s;
	struct vstream *req, *reqrd, *echo;
	uint64_t *len;
	_Atomic int echoes_done;
	struct rng r;
};

/* Writes every request in random pieces, round-robin in random order, then SHUT_WR. */
static void *many_writer_run(void *arg)
{
	struct many *m = arg;
	int left = m->n, i;
	uint8_t buf[4096];
	bool *done = calloc((size_t)m->n, sizeof(bool));

	CHECK(done, "out of memory");
	while (left) {
		i = (int)rng_range(&m->r, 0, (uint64_t)m->n - 1);
		if (done[i])
			continue;
		{
			uint64_t rest = m->len[i] - m->req[i].off;
			size_t k = (size_t)rng_range(&m->r, 1, sizeof(buf));
			ssize_t n;

			if (k > rest)
				k = (size_t)rest;
			pat_fill(m->req[i].base, m->req[i].off, buf, k);
			for (;;) {
				struct pollfd p = { .fd = m->c[i], .events = POLLOUT };

				n = send(m->c[i], buf, k, MSG_NOSIGNAL);
				if (!(n < 0 && errno == EAGAIN))
					break;
				CHECK(poll(&p, 1, WAIT_MS) == 1, "connection %d never writable", i);
			}
			CHECK(n > 0, "request %d: send returned %s", i, RES(n, errno));
			m->req[i].off += (uint64_t)n;
		}
		if (m->req[i].off == m->len[i]) {
			CHECK_SYS(!shutdown(m->c[i], SHUT_WR), "shutdown(SHUT_WR)");
			done[i] = true;
			left--;
		}
		if (rng_chance(&m->r, 3))
			sleep_us(rng_range(&m->r, 0, 2000));
	}
	free(done);
	return NULL;
}

/* The server ends in one select() loop: read what is ready, echo it, close at EOF. */
static void *many_select_run(void *arg)
{
	struct many *m = arg;
	uint8_t buf[8192];
	int open = m->n, i;
	bool *closed = calloc((size_t)m->n, sizeof(bool));

	CHECK(closed, "out of memory");
	while (open) {
		struct timeval tv = { .tv_sec = WAIT_MS / 1000 };
		fd_set rs;
		int maxfd = -1, k;

		FD_ZERO(&rs);
		for (i = 0; i < m->n; i++) {
			if (closed[i])
				continue;
			FD_SET(m->s[i], &rs);
			if (m->s[i] > maxfd)
				maxfd = m->s[i];
		}
		k = select(maxfd + 1, &rs, NULL, NULL, &tv);
		CHECK(k >= 0, "select: %s", strerror(errno));
		CHECK(k > 0, "select: nothing ready for %d ms with %d connections open", WAIT_MS,
		      open);
		for (i = 0; i < m->n; i++) {
			ssize_t n;

			if (closed[i] || !FD_ISSET(m->s[i], &rs))
				continue;
			n = recv(m->s[i], buf, sizeof(buf), MSG_DONTWAIT);
			CHECK(n >= 0 || errno == EAGAIN, "server %d: recv after select returned %s",
			      i, RES(n, errno));
			if (n > 0) {
				vs_check(&m->reqrd[i], buf, (size_t)n);
				send_all(m->s[i], buf, (size_t)n, "echo");
			} else if (n == 0) {
				CHECK(m->reqrd[i].off == m->len[i],
				      "server %d: EOF after %" PRIu64 " of %" PRIu64 " bytes", i,
				      m->reqrd[i].off, m->len[i]);
				close(m->s[i]);
				closed[i] = true;
				open--;
			}
		}
	}
	free(closed);
	return NULL;
}

/* The client ends in one edge-triggered epoll loop: drain to EAGAIN on every edge. */
static void many_epoll_run(struct many *m)
{
	struct epoll_event evs[64];
	uint8_t buf[8192];
	int ep = epoll_create1(EPOLL_CLOEXEC), open = m->n, i;

	CHECK_SYS(ep >= 0, "epoll_create1");
	for (i = 0; i < m->n; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.u32 = i };

		CHECK_SYS(!epoll_ctl(ep, EPOLL_CTL_ADD, m->c[i], &ev), "epoll_ctl");
	}
	while (open) {
		int k = epoll_wait(ep, evs, 64, WAIT_MS);

		CHECK(k >= 0 || errno == EINTR, "epoll_wait: %s", strerror(errno));
		CHECK(k != 0,
		      "epoll ET: no event for %d ms with %d connections waiting for their "
		      "echo or EOF",
		      WAIT_MS, open);
		for (int e = 0; e < k; e++) {
			i = (int)evs[e].data.u32;
			for (;;) {
				ssize_t n = recv(m->c[i], buf, sizeof(buf), MSG_DONTWAIT);

				if (n < 0 && errno == EAGAIN)
					break;
				CHECK(n >= 0, "client %d: recv after an edge returned %s", i,
				      RES(n, errno));
				if (n == 0) {
					CHECK(m->echo[i].off == m->len[i],
					      "client %d: EOF after %" PRIu64 " of %" PRIu64
					      " echoed bytes",
					      i, m->echo[i].off, m->len[i]);
					CHECK_SYS(!epoll_ctl(ep, EPOLL_CTL_DEL, m->c[i], NULL),
						  "epoll_ctl(DEL)");
					close(m->c[i]);
					open--;
					break;
				}
				vs_check(&m->echo[i], buf, (size_t)n);
			}
		}
	}
	close(ep);
}

/*
 * Many connections (-c, default 50) served in one loop each way: the server ends by one
 * select() loop that echoes, the client ends by one edge-triggered epoll loop that drains
 * every edge to EAGAIN; a third thread writes the requests piece by piece in random
 * order, then half-closes. Every echo must be complete and every EOF seen.
 */
static void run_many(struct rng *r)
{
	struct many m = { .n = g_opt.conns ? g_opt.conns : 50 };
	struct endpoint l, t;
	pthread_t wt, st;
	int lfd, i;

	CHECK(m.n * 2 + 16 < FD_SETSIZE, "too many connections for select()");
	m.c = calloc((size_t)m.n, sizeof(int));
	m.s = calloc((size_t)m.n, sizeof(int));
	m.req = calloc((size_t)m.n, sizeof(*m.req));
	m.reqrd = calloc((size_t)m.n, sizeof(*m.reqrd));
	m.echo = calloc((size_t)m.n, sizeof(*m.echo));
	m.len = calloc((size_t)m.n, sizeof(uint64_t));
	CHECK(m.c && m.s && m.req && m.reqrd && m.echo && m.len, "out of memory");
	lfd = test_listen(&l, m.n, 0);
	t = test_target(&l);
	for (i = 0; i < m.n; i++) {
		m.c[i] = connect_to(&t);
		m.s[i] = accept_one(lfd, 0);
		set_nonblock(m.c[i], true);
		m.len[i] = rng_logsize(r, 1, 32 * KIB);
		vs_init(&m.req[i], g_opt.key, stream_id(100 + (uint64_t)i), UINT64_MAX, "request");
		vs_init(&m.reqrd[i], g_opt.key, stream_id(100 + (uint64_t)i), m.len[i], "request");
		vs_init(&m.echo[i], g_opt.key, stream_id(100 + (uint64_t)i), m.len[i], "echo");
	}
	close(lfd);
	rng_init(&m.r, g_seed, rng_next(r));
	set_phase("select() server, epoll ET client");
	CHECK(!pthread_create(&st, NULL, many_select_run, &m), "pthread_create failed");
	CHECK(!pthread_create(&wt, NULL, many_writer_run, &m), "pthread_create failed");
	many_epoll_run(&m);
	CHECK(!pthread_join(wt, NULL), "pthread_join failed");
	CHECK(!pthread_join(st, NULL), "pthread_join failed");
	obs("%d connections: select() server echoed every request, epoll ET client got every "
	    "echo and EOF",
	    m.n);
	free(m.c);
	free(m.s);
	free(m.req);
	free(m.reqrd);
	free(m.echo);
	free(m.len);
}

static const struct scenario scenarios[] = {
	{ "outq", run_outq, 4, "SIOCOUTQ/SIOCINQ after writes, partial reads, EAGAIN, draining" },
	{ "rcvlowat", run_rcvlowat, 4,
	  "SO_RCVLOWAT set before any data: poll and recv wait for it" },
	{ "rcvlowat_greeted", run_rcvlowat_greeted, 4,
	  "SO_RCVLOWAT set after the reader's greeting: poll and recv wait for the mark" },
	{ "rcvlowat_late", run_rcvlowat_late, 4,
	  "SO_RCVLOWAT set after data flowed both ways: poll and recv wait for the mark" },
	{ "rcvlowat_fionread", run_rcvlowat_fionread, 4,
	  "SO_RCVLOWAT: SIOCINQ counts the bytes queued below the mark" },
	{ "rcvtimeo", run_rcvtimeo, 4,
	  "SO_RCVTIMEO: EAGAIN after about the timeout, partial WAITALL" },
	{ "sndtimeo", run_sndtimeo, 2,
	  "SO_SNDTIMEO: blocked send gives EAGAIN; accepted bytes arrive" },
	{ "eintr_recv", run_eintr_recv, 4,
	  "signal to a blocked recv: EINTR, or restarted (SA_RESTART)" },
	{ "eintr_send", run_eintr_send, 2,
	  "signal to a send blocked on a full buffer: partial count" },
	{ "dontwait_trunc", run_dontwait_trunc, 6,
	  "MSG_DONTWAIT on empty: EAGAIN; MSG_TRUNC discards" },
	{ "cork", run_cork, 6,
	  "TCP_CORK, MSG_MORE, TCP_NODELAY, close while corked: bytes in order" },
	{ "iov", run_iov, 3, "writev/readv with IOV_MAX iovecs, large iovecs, zero-length I/O" },
	{ "zero_read", run_zero_read, 2,
	  "zero-length recv: waits on an empty socket, 0 with data" },
	{ "big_write", run_big_write, 2, "one write larger than all buffers to a slow reader" },
	{ "linger", run_linger, 6, "SO_LINGER {1,0}: peer sees ECONNRESET; {1,N}: data then EOF" },
	{ "close_unread", run_close_unread, 4, "close with unread data: the peer sees a reset" },
	{ "sendfile_reset", run_sendfile_reset, 2,
	  "sendfile to a peer that reads a little and closes: a connection error" },
	{ "fork", run_fork, 4, "socket shared across fork: EOF only at the last close" },
	{ "exec_cat", run_exec_cat, 2, "socket inherited by sh -c 'cat <&9 >&9': echo, then EOF" },
	{ "exec_child", run_exec_child, 2, "socket inherited across execve: WAITALL, half-close" },
	{ "scm_rights", run_scm_rights, 3, "socket passed by SCM_RIGHTS to another process" },
	{ "threads", run_threads, 3, "a reader and a writer thread on each socket at once" },
	{ "dup", run_dup, 6, "dup/dup2/dup3/F_DUPFD_CLOEXEC copy outlives the original" },
	{ "close_range", run_close_range, 3, "close_range with and without CLOSE_RANGE_CLOEXEC" },
	{ "many", run_many, 2, "select() and epoll ET loops over many connections" },
};

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main(argc, argv);
	/* The exec scenario re-executes this very program. */
	n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
	if (n > 0)
		g_self[n] = 0;
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
