// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Flags and shapes of I/O: MSG_DONTWAIT/MSG_TRUNC, TCP_CORK/MSG_MORE/TCP_NODELAY, writev with
 * many iovecs, zero-length I/O and one write larger than every buffer.
 */
#include "tests/progs/semx_check/semx_check.h"

/* --- MSG_DONTWAIT, MSG_TRUNC ---------------------------------------------------------------- */

/*
 * MSG_DONTWAIT on an empty blocking socket: -1/EAGAIN at once. MSG_TRUNC on TCP discards
 * instead of copying (the buffer may be NULL) and returns the count; with MSG_PEEK it
 * reports how much is queued without consuming it.
 */
void run_dontwait_trunc(struct rng *r)
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

/* Read to EOF, verifying every byte; expect is what must have come by then. */
void *reader_run(void *arg)
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
void run_cork(struct rng *r)
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
void run_iov(struct rng *r)
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
void run_zero_read(struct rng *r)
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
void run_big_write(struct rng *r)
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
