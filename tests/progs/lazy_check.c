// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Switching a connection from TCP to the redirect while it carries data. Under skaccel a
 * connection is handed to the helper only after it has carried a few reads and writes
 * (lazy promotion, shim/promote.h), so the insert into the sockhash happens in the middle
 * of the application's traffic: before the first byte is read, mid-stream with partly
 * read segments, while another thread is blocked in recv(), and with the peer's FIN
 * already queued. Every byte must arrive once and in order, no reader may be stranded
 * (each read is bounded by SO_RCVTIMEO), and EOF must never come ahead of data.
 * A plain TCP program: the same binary runs on TCP and under skaccel-run.
 */
#include "xfer_common.h"

/* A reader that waits this long for data that was sent was stranded. */
#define WAIT_MS 5000

static ssize_t recv_timed(int fd, void *buf, size_t len, const char *what)
{
	uint64_t t0 = now_ns(), ms;
	ssize_t n;

	do {
		n = test_recv(fd, buf, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		ms = (now_ns() - t0) / 1000000;
		if (ms < WAIT_MS * 9 / 10)
			fail("%s: blocking recv() returned EAGAIN after %" PRIu64 " ms", what, ms);
		fail("%s: nothing arrived within %d ms: reader stranded", what, WAIT_MS);
	}
	CHECK(n >= 0, "%s: recv failed: %s", what, strerror(errno));
	return n;
}

/* Read the rest of vs in random sizes up to maxr (partial segments), then expect EOF. */
static void read_stream(int fd, struct vstream *vs, struct rng *r, size_t maxr, bool eof)
{
	uint8_t *buf = malloc(maxr);
	ssize_t n;

	CHECK(buf, "out of memory");
	while (vs->off < vs->total) {
		size_t len = (size_t)rng_logsize(r, 1, maxr);

		if (len > vs->total - vs->off)
			len = (size_t)(vs->total - vs->off);
		n = recv_timed(fd, buf, len, vs->name);
		if (n == 0)
			fail("%s: EOF at offset %" PRIu64 " of %" PRIu64
			     ": EOF ahead of data, %" PRIu64 " bytes LOST",
			     vs->name, vs->off, vs->total, vs->total - vs->off);
		vs_check(vs, buf, (size_t)n);
	}
	if (eof) {
		n = recv_timed(fd, buf, maxr, vs->name);
		if (n > 0)
			vs_check(vs, buf, (size_t)n); /* reports the excess */
	}
	free(buf);
}

/* k blocking send()s of 1..maxw bytes each: reads and writes are what promotion counts. */
static void send_chunks(int fd, struct vstream *vs, int k, struct rng *r, size_t maxw)
{
	uint8_t buf[4096];

	while (k-- > 0 && vs->off < vs->total) {
		size_t len = (size_t)rng_range(r, 1, maxw < sizeof(buf) ? maxw : sizeof(buf));

		if (len > vs->total - vs->off)
			len = (size_t)(vs->total - vs->off);
		pat_fill(vs->base, vs->off, buf, len);
		send_all(fd, buf, len, vs->name);
		vs->off += len;
	}
}

static void timed_pair(int *c, int *s)
{
	test_pair_cold(c, s); /* promotion is what is tested: nothing before the scenario */
	set_timeo(*c, SO_RCVTIMEO, WAIT_MS);
	set_timeo(*s, SO_RCVTIMEO, WAIT_MS);
}

/* --- threads ------------------------------------------------------------------------ */

struct job {
	int fd;
	struct vstream vs;
	struct rng r;
	size_t max;
	unsigned int pause_pct;
	uint64_t pause_us;
	bool shut; /* writer: shutdown(SHUT_WR) at the end; reader: expect EOF */
	bool write;
	pthread_t th;
};

static void *job_run(void *arg)
{
	struct job *j = arg;

	if (j->write) {
		stream_send(j->fd, &j->vs, j->vs.total, &j->r, j->max, j->pause_pct, j->pause_us,
			    NULL);
		if (j->shut)
			CHECK(!shutdown(j->fd, SHUT_WR), "shutdown failed: %s", strerror(errno));
	} else {
		read_stream(j->fd, &j->vs, &j->r, j->max, j->shut);
	}
	return NULL;
}

static void job_start(struct job *j, struct rng *r, int fd, bool write, const struct vstream *vs,
		      size_t max, unsigned int pause_pct, uint64_t pause_us)
{
	j->fd = fd;
	j->write = write;
	j->vs = *vs;
	j->max = max;
	j->pause_pct = pause_pct;
	j->pause_us = pause_us;
	j->shut = true;
	rng_init(&j->r, rng_next(r), fd);
	CHECK(!pthread_create(&j->th, NULL, job_run, j), "pthread_create failed");
}

static void job_join(struct job *j)
{
	CHECK(!pthread_join(j->th, NULL), "pthread_join failed");
}

/* --- scenarios ---------------------------------------------------------------------- */

/*
 * Both ends write three times before either reads a byte; then full duplex to EOF, where
 * each end is promoted at its second turn (shim/promote.h), with the peer's bytes still
 * queued on the TCP side.
 */
static void run_before_first_byte(struct rng *r)
{
	struct vstream c2s, s2c, rc2s, rs2c;
	struct job jw[2], jr[2];
	uint64_t l1 = rng_logsize(r, 16 * KIB, 1 * MIB), l2 = rng_logsize(r, 16 * KIB, 1 * MIB);
	int c, s;

	timed_pair(&c, &s);
	vs_init(&c2s, g_opt.key, stream_id(1), l1, "client->server");
	vs_init(&s2c, g_opt.key, stream_id(2), l2, "server->client");
	rc2s = c2s;
	rs2c = s2c;
	set_phase("three writes each, nothing read");
	send_chunks(c, &c2s, 3, r, 4096);
	send_chunks(s, &s2c, 3, r, 4096);
	sleep_us(rng_range(r, 0, 20000));
	set_phase("full duplex across the promotion");
	job_start(&jr[0], r, c, false, &rs2c, rng_logsize(r, 1, 64 * KIB), 0, 0);
	job_start(&jr[1], r, s, false, &rc2s, rng_logsize(r, 1, 64 * KIB), 0, 0);
	job_start(&jw[0], r, c, true, &c2s, rng_logsize(r, 1 * KIB, 64 * KIB), 2, 2000);
	job_start(&jw[1], r, s, true, &s2c, rng_logsize(r, 1 * KIB, 64 * KIB), 2, 2000);
	job_join(&jw[0]);
	job_join(&jw[1]);
	job_join(&jr[0]);
	job_join(&jr[1]);
	close(c);
	close(s);
}

/*
 * One stream in random write sizes, read in random sizes (segments partly read when the
 * reader is inserted; both ends are promoted by what they carried, a one-way stream makes
 * no turn); then a reply the other way.
 */
static void run_mid_stream(struct rng *r)
{
	struct vstream down, up, rup;
	struct job jw;
	uint64_t len = rng_logsize(r, 512 * KIB, 4 * MIB);
	int c, s;

	timed_pair(&c, &s);
	vs_init(&up, g_opt.key, stream_id(1), len, "client->server");
	rup = up;
	job_start(&jw, r, c, true, &up, rng_logsize(r, 1 * KIB, 256 * KIB), 2, 1000);
	jw.shut = false;
	set_phase("reading a stream across both promotions");
	read_stream(s, &rup, r, rng_logsize(r, 1, 64 * KIB), false);
	job_join(&jw);
	vs_init(&down, g_opt.key, stream_id(2), rng_logsize(r, 1, 256 * KIB), "server->client");
	up = down;
	set_phase("the reply");
	stream_send(s, &down, down.total, r, 64 * KIB, 0, 0, NULL);
	shutdown(s, SHUT_WR);
	read_stream(c, &up, r, 64 * KIB, true);
	shutdown(c, SHUT_WR);
	read_stream(s, &rup, r, 16, true); /* nothing more: EOF */
	close(c);
	close(s);
}

/*
 * A thread sleeps in recv() on the client while another thread keeps writing on the same
 * socket (each write may promote it) and the server answers in bursts, so that the reader
 * is blocked in the kernel, then between reads, again and again while promotion is due.
 */
static void run_blocked_reader(struct rng *r)
{
	struct vstream c2s, s2c, rc2s, rs2c;
	struct job rd_c, rd_s, wr_s;
	int c, s;

	timed_pair(&c, &s);
	vs_init(&c2s, g_opt.key, stream_id(1), rng_logsize(r, 16 * KIB, 256 * KIB),
		"client->server");
	vs_init(&s2c, g_opt.key, stream_id(2), rng_logsize(r, 4 * KIB, 256 * KIB),
		"server->client");
	rc2s = c2s;
	rs2c = s2c;
	set_phase("client reader blocked before anything is sent");
	job_start(&rd_c, r, c, false, &rs2c, rng_logsize(r, 1, 16 * KIB), 0, 0);
	job_start(&rd_s, r, s, false, &rc2s, rng_logsize(r, 1, 16 * KIB), 0, 0);
	sleep_us(rng_range(r, 5000, 30000)); /* both readers asleep in recv() by now */
	set_phase("writing while the other thread reads");
	job_start(&wr_s, r, s, true, &s2c, rng_logsize(r, 256, 8 * KIB), 30, 3000);
	stream_send(c, &c2s, c2s.total, r, rng_logsize(r, 256, 4 * KIB), 30, 2000, NULL);
	CHECK(!shutdown(c, SHUT_WR), "shutdown failed: %s", strerror(errno));
	job_join(&wr_s);
	job_join(&rd_c);
	job_join(&rd_s);
	close(c);
	close(s);
}

/*
 * The peer's last bytes and its FIN are queued when the reader is promoted (or while a
 * thread is blocked reading and another promotes): every byte, then EOF, never EOF first.
 */
static void run_at_eof(struct rng *r)
{
	struct vstream c2s, s2c, rc2s, rs2c;
	struct job rd;
	bool blocked = rng_chance(r, 50), full_close = rng_chance(r, 50);
	int c, s;

	timed_pair(&c, &s);
	vs_init(&c2s, g_opt.key, stream_id(1), 64 * KIB, "client->server");
	vs_init(&s2c, g_opt.key, stream_id(2), rng_range(r, 1, 48 * KIB), "server->client");
	rc2s = c2s;
	rs2c = s2c;
	set_phase("client writes three times");
	send_chunks(c, &c2s, 3, r, 4096);
	rc2s.total = c2s.off;
	read_stream(s, &rc2s, r, 4096, false);
	if (blocked) {
		set_phase("client reader blocked before the data and FIN");
		job_start(&rd, r, c, false, &rs2c, rng_logsize(r, 1, 16 * KIB), 0, 0);
		sleep_us(rng_range(r, 5000, 20000));
	}
	set_phase("server sends its last bytes and FIN");
	send_chunks(s, &s2c, 2, r, 4096);
	stream_send(s, &s2c, s2c.total, r, 16 * KIB, 0, 0, NULL);
	if (full_close) {
		close(s);
		s = -1;
	} else {
		CHECK(!shutdown(s, SHUT_WR), "shutdown failed: %s", strerror(errno));
	}
	sleep_us(rng_range(r, 0, 20000)); /* the FIN is queued behind the data by now */
	set_phase("client writes (promotion due) and reads to EOF");
	send_chunks(c, &c2s, 1, r, 4096);
	if (blocked)
		job_join(&rd);
	else
		read_stream(c, &rs2c, r, rng_logsize(r, 1, 64 * KIB), true);
	close(c);
	if (s >= 0)
		close(s);
}

/*
 * The reader has read part of a large segment when promotion is due: the writer has run
 * far ahead (loopback coalesces what it queued into segments of 100+ KiB), and the reader
 * takes three reads of 30000 bytes out of the head of the queue first.
 */
static void run_partly_read(struct rng *r)
{
	struct vstream up, rup;
	struct job jw;
	uint8_t *buf = malloc(30000);
	int c, s, k;

	CHECK(buf, "out of memory");
	timed_pair(&c, &s);
	vs_init(&up, g_opt.key, stream_id(1), rng_logsize(r, 512 * KIB, 4 * MIB), "client->server");
	rup = up;
	job_start(&jw, r, c, true, &up, 256 * KIB, 0, 0);
	sleep_us(rng_range(r, 10000, 40000)); /* the queue fills, its segments coalesce */
	set_phase("three reads out of the head of a full queue");
	for (k = 0; k < 3; k++) {
		ssize_t n = recv_timed(s, buf, 30000, rup.name);

		CHECK(n > 0, "early EOF");
		vs_check(&rup, buf, (size_t)n);
	}
	set_phase("the rest, across the promotion");
	read_stream(s, &rup, r, rng_logsize(r, 1, 64 * KIB), true);
	job_join(&jw);
	free(buf);
	close(c);
	close(s);
}

/*
 * Many short connections of one to five exchanges: promotion lands on every boundary,
 * including the last call before close().
 */
static void run_short(struct rng *r)
{
	int i, k, n, c, s;

	for (i = 0; i < 40; i++) {
		timed_pair(&c, &s);
		n = (int)rng_range(r, 1, 5);
		for (k = 0; k < n; k++) {
			struct vstream q, a, rq, ra;
			uint64_t ql = rng_range(r, 1, 2048), al = rng_range(r, 1, 2048);

			vs_init(&q, g_opt.key, stream_id(100 + 2 * (uint64_t)(i * 8 + k)), ql,
				"request");
			vs_init(&a, g_opt.key, stream_id(101 + 2 * (uint64_t)(i * 8 + k)), al,
				"reply");
			rq = q;
			ra = a;
			stream_send(c, &q, ql, r, 2048, 0, 0, NULL);
			read_stream(s, &rq, r, 4096, false);
			stream_send(s, &a, al, r, 2048, 0, 0, NULL);
			read_stream(c, &ra, r, 4096, false);
		}
		if (rng_chance(r, 50)) {
			close(c);
			CHECK(recv_timed(s, &(char){ 0 }, 1, "EOF after close") == 0,
			      "data after the last exchange");
			close(s);
		} else {
			close(s);
			CHECK(recv_timed(c, &(char){ 0 }, 1, "EOF after close") == 0,
			      "data after the last exchange");
			close(c);
		}
	}
}

static const struct scenario scenarios[] = {
	{ "before_first_byte", run_before_first_byte, 6,
	  "both ends promoted with the peer's bytes still unread, then full duplex" },
	{ "mid_stream", run_mid_stream, 6, "a stream in random sizes across both promotions" },
	{ "partly_read", run_partly_read, 6,
	  "a segment partly read when promotion is due: every byte once" },
	{ "blocked_reader", run_blocked_reader, 8,
	  "a thread blocked in recv() while another thread's writes promote the socket" },
	{ "at_eof", run_at_eof, 12, "the peer's last bytes and FIN queued at the promotion" },
	{ "short", run_short, 3, "connections of one to five exchanges, then close" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
