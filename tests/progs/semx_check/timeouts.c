// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* SO_RCVTIMEO and SO_SNDTIMEO. */
#include "tests/progs/semx_check/semx_check.h"

/*
 * A blocking read on an empty socket with SO_RCVTIMEO T returns -1/EAGAIN after about T:
 * not at once (the spurious EAGAIN of KERNEL-NOTES §6.4, sometimes after the reader's own
 * SHUT_WR), not never. Bounds are generous (T/2 .. 5T + 250 ms): two shared CPUs. Then
 * data sent later is read; a read whose data comes before the timeout gets the data; and
 * MSG_WAITALL with too little data returns the partial count when the timeout expires.
 */
void run_rcvtimeo(struct rng *r)
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
void run_sndtimeo(struct rng *r)
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
