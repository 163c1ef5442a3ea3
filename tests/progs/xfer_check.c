// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Bulk-transfer scenarios that catch lost, duplicated and reordered bytes when a
 * connection switches paths mid-stream: data sent before accept(), a full send queue at
 * accept time, random partial reads and writes, full duplex, and many concurrent
 * connections. Both ends live in this one process (threads), so under skaccel-run both
 * the connect() and the accept() go through the shim.
 */
#include <sys/wait.h>

#include "tests/progs/xfer_common.h"

/* --- accept_late: the client writes before the server has accepted ------------------ */

struct late_client {
	struct endpoint ep;
	uint64_t up, down;
	struct rng r;
};

static void *late_client_run(void *arg)
{
	struct late_client *lc = arg;
	struct vstream up, down;
	int fd = connect_to(&lc->ep);

	vs_init(&up, g_opt.key, stream_id(1), lc->up, "client->server");
	vs_init(&down, g_opt.key, stream_id(2), lc->down, "server->client");
	/* Small pauses spread the TCP -> redirect switch over random stream offsets. */
	stream_send(fd, &up, lc->up, &lc->r, 256 * KIB, 5, 3000, NULL);
	stream_recv(fd, &down, &lc->r, 64 * KIB, 0, 0, true, NULL);
	close(fd);
	return NULL;
}

/*
 * KERNEL-NOTES §3.1 and §3.4: bytes that reached the server before its socket was
 * accepted (and registered) must come out before anything redirected afterwards. Small
 * sizes complete before accept(); large ones block the client mid-stream, so the switch
 * happens with the server's receive queue and the client's send queue both loaded.
 */
static void run_accept_late(struct rng *r)
{
	struct late_client lc;
	struct vstream up, down;
	struct endpoint l;
	pthread_t th;
	int lfd, fd, kind = (int)rng_range(r, 0, 2);

	lfd = test_listen(&l, 16, 0);
	lc.ep = test_target(&l);
	lc.up = kind == 0   ? rng_range(r, 1, 1000)
		: kind == 1 ? rng_range(r, 1001, 256 * KIB)
			    : rng_range(r, 256 * KIB, 4 * MIB);
	if (g_opt.bytes && kind == 2)
		lc.up = g_opt.bytes;
	lc.down = rng_logsize(r, 1, 1 * MIB);
	rng_init(&lc.r, g_seed, rng_next(r));
	vs_init(&up, g_opt.key, stream_id(1), lc.up, "client->server");
	vs_init(&down, g_opt.key, stream_id(2), lc.down, "server->client");
	info("up=%" PRIu64 " down=%" PRIu64, lc.up, lc.down);

	set_phase("connect+write before accept");
	CHECK(!pthread_create(&th, NULL, late_client_run, &lc), "pthread_create failed");
	sleep_us(rng_range(r, 0, 50000));
	set_phase("accept late, read request");
	fd = accept_one(lfd, 0);
	close(lfd);
	stream_recv(fd, &up, r, 64 * KIB, 2, 2000, false, NULL);
	set_phase("reply");
	stream_send(fd, &down, lc.down, r, 256 * KIB, 0, 0, NULL);
	CHECK_SYS(!shutdown(fd, SHUT_WR), "shutdown(SHUT_WR)");
	set_phase("wait for client EOF");
	{
		char c;

		CHECK(recv_blocking(fd, &c, 1, 0, "server waiting for EOF") == 0,
		      "server: expected EOF after the exchange, got a byte");
	}
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(fd);
}

/* --- sendq_full: the sender's queue is full when the server accepts ------------------ */

struct reader_arg {
	int fd;
	struct vstream vs;
	struct rng r;
	uint64_t delay_us;
	size_t maxr;
	_Atomic uint64_t progress;
};

static void *reader_run(void *arg)
{
	struct reader_arg *ra = arg;

	sleep_us(ra->delay_us);
	stream_recv(ra->fd, &ra->vs, &ra->r, ra->maxr, 2, 2000, true, &ra->progress);
	return NULL;
}

struct writer_arg {
	int fd;
	struct vstream vs;
	uint64_t total;
	struct rng r;
	size_t maxw;
	bool shut;
	unsigned int pause_pct; /* chance of a pause after a write, up to pause_us */
	uint64_t pause_us;
	_Atomic uint64_t progress;
};

static void *writer_run(void *arg)
{
	struct writer_arg *wa = arg;

	stream_send(wa->fd, &wa->vs, wa->total, &wa->r, wa->maxw, wa->pause_pct ? wa->pause_pct : 1,
		    wa->pause_us ? wa->pause_us : 1000, &wa->progress);
	if (wa->shut)
		CHECK_SYS(!shutdown(wa->fd, SHUT_WR), "shutdown(SHUT_WR) after the stream");
	return NULL;
}

/* Non-blocking writes until the kernel refuses more: both queues are then full. */
static uint64_t fill_until_eagain(int fd, struct vstream *vs, struct rng *r)
{
	uint8_t *buf = malloc(64 * KIB);

	CHECK(buf, "out of memory");
	for (;;) {
		size_t len = (size_t)rng_range(r, 1, 64 * KIB);
		ssize_t n;

		pat_fill(vs->base, vs->off, buf, len);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		CHECK(n > 0, "filling the send queue: send failed: %s", strerror(errno));
		vs->off += (uint64_t)n;
	}
	free(buf);
	return vs->off;
}

/* Non-blocking sender: poll for POLLOUT, write what fits. */
static void send_nonblocking(int fd, struct vstream *vs, uint64_t total, struct rng *r)
{
	uint8_t *buf = malloc(256 * KIB);

	CHECK(buf, "out of memory");
	while (vs->off < total) {
		size_t len = (size_t)rng_logsize(r, 1, 256 * KIB);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (len > total - vs->off)
			len = (size_t)(total - vs->off);
		pat_fill(vs->base, vs->off, buf, len);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int pr = poll(&p, 1, 10000);

			CHECK(pr == 1,
			      "sender: no POLLOUT for 10 s at offset %" PRIu64
			      " (poll returned %d): writer stranded",
			      vs->off, pr);
			CHECK(!(p.revents & (POLLERR | POLLHUP)), "sender: poll revents 0x%x",
			      p.revents);
			continue;
		}
		CHECK(n > 0, "sender: send at offset %" PRIu64 " failed: %s", vs->off,
		      strerror(errno));
		vs->off += (uint64_t)n;
		/*
		 * Now and then a pause, as real senders have: a path that may only switch to
		 * the fast path once nothing is in flight gets its chance, at a random offset
		 * behind the bytes that were queued at accept time.
		 */
		if (rng_chance(r, 3))
			sleep_us(rng_range(r, 0, 5000));
	}
	free(buf);
}

/*
 * KERNEL-NOTES §3.2: megabytes still unsent or unacked in the client's TCP send
 * queue when the connection becomes accelerated (at accept()). Bytes sent after the
 * switch must not overtake them. Two ways to be full: a non-blocking writer that hit
 * EAGAIN, or a thread blocked inside send().
 */
static void run_sendq_full(struct rng *r)
{
	struct reader_arg ra = { 0 };
	struct writer_arg wa = { 0 };
	struct vstream vs;
	struct endpoint l, t;
	pthread_t rt, wt;
	int lfd, cfd, sfd;
	bool threaded = rng_chance(r, 50);
	uint64_t pre, total, extra = g_opt.bytes ? g_opt.bytes : rng_range(r, 4 * MIB, 16 * MIB);

	lfd = test_listen(&l, 16, 0);
	t = test_target(&l);
	set_phase("connect, fill queues before accept");
	cfd = connect_to(&t);
	vs_init(&vs, g_opt.key, stream_id(1), 0, "client->server");
	if (threaded) {
		uint64_t last = UINT64_MAX, stable_since = now_ns();

		wa.fd = cfd;
		wa.vs = vs;
		wa.total = UINT64_MAX; /* set below, once the thread is blocked */
		wa.maxw = 256 * KIB;
		wa.shut = true;
		wa.pause_pct = 3; /* as in send_nonblocking() */
		wa.pause_us = 5000;
		rng_init(&wa.r, g_seed, rng_next(r));
		/* The thread writes a fixed total; it blocks once the queues are full. */
		wa.total = extra + 8 * MIB;
		CHECK(!pthread_create(&wt, NULL, writer_run, &wa), "pthread_create failed");
		/* Blocked = no progress for 30 ms. */
		while (now_ns() - stable_since < 30000000ull) {
			uint64_t p = atomic_load(&wa.progress);

			if (p != last)
				last = p, stable_since = now_ns();
			sleep_us(2000);
		}
		pre = last;
		total = wa.total;
	} else {
		set_nonblock(cfd, true);
		pre = fill_until_eagain(cfd, &vs, r);
		total = pre + extra;
	}
	info("%s sender, %" PRIu64 " bytes queued before accept (SIOCOUTQ %d), total %" PRIu64,
	     threaded ? "blocked-thread" : "non-blocking", pre, siocoutq(cfd), total);

	set_phase("accept with full queues, drain");
	sfd = accept_one(lfd, 0);
	close(lfd);
	ra.fd = sfd;
	vs_init(&ra.vs, g_opt.key, stream_id(1), total, "client->server");
	rng_init(&ra.r, g_seed, rng_next(r));
	ra.delay_us = rng_range(r, 0, 100000);
	ra.maxr = 64 * KIB;
	CHECK(!pthread_create(&rt, NULL, reader_run, &ra), "pthread_create failed");
	if (threaded) {
		CHECK(!pthread_join(wt, NULL), "pthread_join failed");
	} else {
		send_nonblocking(cfd, &vs, total, r);
		CHECK_SYS(!shutdown(cfd, SHUT_WR), "shutdown(SHUT_WR)");
	}
	set_phase("reader drains to EOF");
	CHECK(!pthread_join(rt, NULL), "pthread_join failed");
	close(cfd);
	close(sfd);
}

/* --- partial: random write and read sizes ---------------------------------------------- */

/* Random write sizes 1..256K (some writev), random read sizes 1..64K (some readv). */
static void run_partial(struct rng *r)
{
	struct writer_arg wa = { 0 };
	struct vstream vs;
	pthread_t wt;
	int cfd, sfd;
	bool c2s = rng_chance(r, 50);
	uint64_t total = g_opt.bytes	     ? g_opt.bytes
			 : rng_chance(r, 20) ? rng_logsize(r, 1, 1 * MIB)
					     : rng_range(r, 1 * MIB, 32 * MIB);

	set_phase("connect");
	test_pair(&cfd, &sfd);
	wa.fd = c2s ? cfd : sfd;
	vs_init(&wa.vs, g_opt.key, stream_id(1), total, c2s ? "client->server" : "server->client");
	wa.total = total;
	wa.maxw = 256 * KIB;
	wa.shut = true;
	rng_init(&wa.r, g_seed, rng_next(r));
	vs_init(&vs, g_opt.key, stream_id(1), total, wa.vs.name);
	info("%s %" PRIu64 " bytes", vs.name, total);
	set_phase("transfer");
	CHECK(!pthread_create(&wt, NULL, writer_run, &wa), "pthread_create failed");
	stream_recv(c2s ? sfd : cfd, &vs, r, 64 * KIB, 2, 1000, true, NULL);
	CHECK(!pthread_join(wt, NULL), "pthread_join failed");
	close(cfd);
	close(sfd);
}

/* --- duplex: both directions at once ---------------------------------------------------- */

/*
 * Both directions busy at once, each end with a reader and a writer thread. Each writer
 * half-closes when done while its own reader may still be blocked in recv(): the pattern
 * of KERNEL-NOTES §6.4, which must not produce EAGAIN.
 */
static void run_duplex(struct rng *r)
{
	struct writer_arg w[2] = { 0 };
	struct reader_arg rd[2] = { 0 };
	pthread_t wt[2], rt[2];
	int fds[2], i;

	set_phase("connect");
	test_pair(&fds[0], &fds[1]);
	for (i = 0; i < 2; i++) {
		uint64_t total = g_opt.bytes ? g_opt.bytes : rng_range(r, 4 * MIB, 32 * MIB);
		const char *name = i == 0 ? "client->server" : "server->client";

		w[i].fd = fds[i];
		vs_init(&w[i].vs, g_opt.key, stream_id(1 + (uint64_t)i), total, name);
		w[i].total = total;
		w[i].maxw = 256 * KIB;
		w[i].shut = true;
		rng_init(&w[i].r, g_seed, rng_next(r));
		rd[i].fd = fds[1 - i];
		vs_init(&rd[i].vs, g_opt.key, stream_id(1 + (uint64_t)i), total, name);
		rng_init(&rd[i].r, g_seed, rng_next(r));
		rd[i].maxr = 64 * KIB;
		info("%s %" PRIu64 " bytes", name, total);
	}
	set_phase("full duplex");
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_create(&rt[i], NULL, reader_run, &rd[i]), "pthread_create failed");
		CHECK(!pthread_create(&wt[i], NULL, writer_run, &w[i]), "pthread_create failed");
	}
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_join(wt[i], NULL), "pthread_join failed");
		CHECK(!pthread_join(rt[i], NULL), "pthread_join failed");
	}
	close(fds[0]);
	close(fds[1]);
}

/* --- many: hundreds of short connections beside a few long ones -------------------------- */

#define MANY_MAGIC 0x534b54455354ull /* "SKTEST" */

/* Sent raw before the payload: which stream follows and how long each direction is. */
struct many_hdr {
	uint64_t magic;
	uint64_t id;
	uint64_t up;
	uint64_t down;
};

struct many_srv {
	int lfd;
	_Atomic int active;
	_Atomic int served;
	int expected;
};

struct many_conn {
	struct many_srv *srv;
	int fd;
};

static void recv_exact(int fd, void *buf, size_t len, const char *what)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv_blocking(fd, p, len, 0, what);

		CHECK(n > 0, "%s: early EOF with %zu bytes missing", what, len);
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Server side of one connection: verify the client's stream, answer with the stream the
 * header names, then wait for the client's EOF. The reply's stream id is derived from
 * the request's, so a reply delivered to the wrong connection is caught by the client.
 */
static void *many_serve(void *arg)
{
	struct many_conn *mc = arg;
	struct many_hdr h;
	struct vstream up, down;
	struct rng r;
	char c;

	recv_exact(mc->fd, &h, sizeof(h), "server reading header");
	CHECK(h.magic == MANY_MAGIC, "server: bad header magic %#" PRIx64 " (foreign bytes?)",
	      h.magic);
	rng_init(&r, g_seed, h.id);
	vs_init(&up, g_opt.key, h.id, h.up, "many client->server");
	vs_init(&down, g_opt.key, h.id | (1ull << 62), h.down, "many server->client");
	stream_recv(mc->fd, &up, &r, 64 * KIB, 0, 0, false, NULL);
	stream_send(mc->fd, &down, h.down, &r, 128 * KIB, 0, 0, NULL);
	CHECK_SYS(!shutdown(mc->fd, SHUT_WR), "shutdown(SHUT_WR) after the reply");
	CHECK(recv_blocking(mc->fd, &c, 1, 0, "server waiting for EOF") == 0,
	      "server: stream %" PRIu64 ": a byte after the request, expected EOF", h.id);
	close(mc->fd);
	atomic_fetch_add(&mc->srv->served, 1);
	atomic_fetch_sub(&mc->srv->active, 1);
	free(mc);
	return NULL;
}

static void *many_accept(void *arg)
{
	struct many_srv *srv = arg;
	int n;

	for (n = 0; n < srv->expected; n++) {
		struct many_conn *mc = malloc(sizeof(*mc));
		pthread_attr_t at;
		pthread_t th;

		CHECK(mc, "out of memory");
		mc->srv = srv;
		mc->fd = accept_one(srv->lfd, 0);
		atomic_fetch_add(&srv->active, 1);
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 256 * KIB);
		CHECK(!pthread_create(&th, &at, many_serve, mc), "pthread_create failed");
		pthread_attr_destroy(&at);
	}
	return NULL;
}

struct many_client {
	struct endpoint ep;
	int conns;
	uint64_t first_id;
	uint64_t up_max, down_max;
	bool exact; /* sizes are exactly up_max/down_max (the long connections) */
	struct rng r;
};

static void *many_client_run(void *arg)
{
	struct many_client *mcl = arg;
	int i;

	for (i = 0; i < mcl->conns; i++) {
		struct many_hdr h = { .magic = MANY_MAGIC, .id = mcl->first_id + (uint64_t)i };
		struct vstream up, down;
		struct rng r;
		int fd;

		/* Some requests are empty: the reply then flows on a socket that never sent. */
		h.up = mcl->exact		 ? mcl->up_max
		       : rng_chance(&mcl->r, 10) ? 0
						 : rng_logsize(&mcl->r, 1, mcl->up_max);
		h.down = mcl->exact ? mcl->down_max : rng_logsize(&mcl->r, 1, mcl->down_max);
		rng_init(&r, g_seed, ~h.id);
		vs_init(&up, g_opt.key, h.id, h.up, "many client->server");
		vs_init(&down, g_opt.key, h.id | (1ull << 62), h.down, "many server->client");
		fd = connect_to(&mcl->ep);
		send_all(fd, &h, sizeof(h), "client sending header");
		stream_send(fd, &up, h.up, &r, 128 * KIB, 0, 0, NULL);
		stream_recv(fd, &down, &r, 64 * KIB, 0, 0, true, NULL);
		close(fd);
	}
	return NULL;
}

/*
 * Hundreds of short connections (each a request and a reply of random size) while a few
 * long ones stream megabytes, all concurrently: registration under load, pairing of the
 * right two ends, and sockets leaving the map while others are busy.
 */
static void run_many(struct rng *r)
{
	enum { SHORT_THREADS = 8, LONG_CONNS = 3 };
	struct many_client sc[SHORT_THREADS], lc[LONG_CONNS];
	pthread_t sth[SHORT_THREADS], lth[LONG_CONNS], ath;
	struct many_srv srv = { 0 };
	struct endpoint l;
	int shorts = g_opt.conns ? g_opt.conns : 400, i;
	uint64_t long_bytes = g_opt.bytes ? g_opt.bytes : 24 * MIB;

	srv.lfd = test_listen(&l, 512, 0);
	srv.expected = shorts + LONG_CONNS;
	set_phase("many connections");
	CHECK(!pthread_create(&ath, NULL, many_accept, &srv), "pthread_create failed");
	for (i = 0; i < LONG_CONNS; i++) {
		lc[i] = (struct many_client){ .ep = test_target(&l),
					      .conns = 1,
					      .first_id = stream_id(1000000 + (uint64_t)i),
					      .up_max = long_bytes,
					      .down_max = long_bytes / 3,
					      .exact = true };
		rng_init(&lc[i].r, g_seed, rng_next(r));
		CHECK(!pthread_create(&lth[i], NULL, many_client_run, &lc[i]),
		      "pthread_create failed");
	}
	for (i = 0; i < SHORT_THREADS; i++) {
		sc[i] = (struct many_client){ .ep = test_target(&l),
					      .conns = shorts / SHORT_THREADS +
						       (i < shorts % SHORT_THREADS),
					      .first_id = stream_id(10000 * (uint64_t)(i + 1)),
					      .up_max = 64 * KIB,
					      .down_max = 64 * KIB };
		rng_init(&sc[i].r, g_seed, rng_next(r));
		CHECK(!pthread_create(&sth[i], NULL, many_client_run, &sc[i]),
		      "pthread_create failed");
	}
	for (i = 0; i < SHORT_THREADS; i++)
		CHECK(!pthread_join(sth[i], NULL), "pthread_join failed");
	for (i = 0; i < LONG_CONNS; i++)
		CHECK(!pthread_join(lth[i], NULL), "pthread_join failed");
	CHECK(!pthread_join(ath, NULL), "pthread_join failed");
	set_phase("server handlers finishing");
	while (atomic_load(&srv.served) < srv.expected)
		sleep_us(1000);
	info("%d connections served", srv.expected);
	close(srv.lfd);
}

/* --- selftest: the verifier itself catches what it must ----------------------------------- */

/*
 * A test that cannot fail is a defect: feed vs_check() a stream with one known defect
 * in a child process and require the failure, at the right offset, with the right
 * diagnosis.
 */
static void expect_detect(const char *what, uint8_t *buf, size_t len, uint64_t total,
			  const char *needle1, const char *needle2)
{
	char out[2048] = "";
	int pfd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	CHECK_SYS(!pipe(pfd), "pipe");
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		struct vstream vs;
		size_t off = 0;

		dup2(pfd[1], STDOUT_FILENO);
		vs_init(&vs, g_opt.key, 7, total, "selftest");
		while (off < len) { /* in uneven reads, like a real reader */
			size_t chunk = len - off < 3000 ? len - off : 3000;

			vs_check(&vs, buf + off, chunk);
			off += chunk;
		}
		_exit(0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], out + got, sizeof(out) - 1 - (size_t)got)) > 0)
		got += n;
	close(pfd[0]);
	CHECK_SYS(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	      "verifier missed a %s (child status %#x, output '%s')", what, status, out);
	info("%s: %s", what, out);
	CHECK(strstr(out, needle1) && (!needle2 || strstr(out, needle2)),
	      "verifier reported a %s without '%s'%s%s: '%s'", what, needle1,
	      needle2 ? " and " : "", needle2 ? needle2 : "", out);
}

static void run_selftest(struct rng *r)
{
	enum { LEN = 64 * 1024 };
	uint64_t base = pat_base(g_opt.key, 7);
	uint8_t *good = malloc(LEN + 4096), *buf = malloc(LEN + 4096);

	CHECK(good && buf, "out of memory");
	pat_fill(base, 0, good, LEN);
	/* Sanity: the intact stream passes (in-process; a failure here ends the test). */
	{
		struct vstream vs;

		vs_init(&vs, g_opt.key, 7, LEN, "selftest intact");
		vs_check(&vs, good, LEN);
	}
	/* Duplicate: bytes 1000..4999 delivered again at offset 8000. */
	memcpy(buf, good, 8000);
	memcpy(buf + 8000, good + 1000, 4000);
	memcpy(buf + 12000, good + 8000, LEN - 12000);
	expect_detect("duplicate", buf, LEN, LEN, "first bad byte at offset 8000",
		      "sent at offset 1000: DUPLICATE");
	/* Reorder: 10000..19999 and 20000..29999 swapped. */
	memcpy(buf, good, LEN);
	memcpy(buf + 10000, good + 20000, 10000);
	memcpy(buf + 20000, good + 10000, 10000);
	expect_detect("reordering", buf, LEN, LEN, "first bad byte at offset 10000",
		      "sent at offset 20000: 10000 bytes LOST or REORDERED");
	/* Loss: 100 bytes missing at 5000, the stream ends short. */
	memcpy(buf, good, 5000);
	memcpy(buf + 5000, good + 5100, LEN - 5100);
	expect_detect("loss", buf, LEN - 100, LEN, "first bad byte at offset 5000",
		      "sent at offset 5100: 100 bytes LOST");
	/* Corruption of a single bit, at a random offset. */
	{
		size_t at = (size_t)rng_range(r, 0, LEN - 1);
		char needle[64];

		memcpy(buf, good, LEN);
		buf[at] ^= 0x10;
		snprintf(needle, sizeof(needle), "first bad byte at offset %zu ", at);
		expect_detect("flipped bit", buf, LEN, LEN, needle, NULL);
	}
	/* Foreign bytes: another stream's data in the middle. */
	memcpy(buf, good, LEN);
	pat_fill(pat_base(g_opt.key, 8), 0, buf + 30000, 500);
	expect_detect("foreign run", buf, LEN, LEN, "first bad byte at offset 30000",
		      "not found in this stream");
	/* Excess: the whole stream, then its first 100 bytes again. */
	memcpy(buf, good, LEN);
	memcpy(buf + LEN, good, 100);
	expect_detect("trailing duplicate", buf, LEN + 100, LEN, "100 excess bytes",
		      "DUPLICATE, they were sent at offset 0");
	free(good);
	free(buf);
}

static const struct scenario scenarios[] = {
	{ "accept_late", run_accept_late, 30,
	  "client writes right after connect(), server accepts 0-50 ms later" },
	{ "sendq_full", run_sendq_full, 6,
	  "client's send queue full (EAGAIN or blocked thread) when the server accepts" },
	{ "partial", run_partial, 10, "random write sizes 1..256K, random read sizes 1..64K" },
	{ "duplex", run_duplex, 4, "both directions at once, each end reading and writing" },
	{ "many", run_many, 1, "hundreds of short connections beside 3 long ones" },
	{ "selftest", run_selftest, 1, "the verifier catches duplication, reordering, loss" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
