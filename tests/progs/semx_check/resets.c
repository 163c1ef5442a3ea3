// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Resets: SO_LINGER, close with unread data, sendfile to a peer that goes away. */
#include "tests/progs/semx_check/semx_check.h"

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
void run_linger(struct rng *r)
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
void run_close_unread(struct rng *r)
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

void run_sendfile_reset(struct rng *r)
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
