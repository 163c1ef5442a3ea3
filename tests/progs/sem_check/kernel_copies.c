// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The kernel's own copy paths: splice(), sendfile(), MSG_ZEROCOPY completions and MSG_OOB. */
#include "tests/progs/sem_check/sem_check.h"

/*
 * A reader that moves bytes with splice(socket -> pipe), as Go's io.Copy, HAProxy and
 * nginx do. KERNEL-NOTES §6.5: splice reads only the TCP receive queue, so redirected
 * bytes are invisible to it unless something handles that.
 */
void run_splice(struct rng *r)
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
void run_sendfile(struct rng *r)
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

	if (late) {
		/* After the first exchanges: registered by then under skaccel (test_pair()). */
		test_pair(&c, &s);
		CHECK_SYS(!setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)),
			  "setsockopt(SO_ZEROCOPY) after the first exchanges");
	} else {
		lfd = test_listen(&l, 4, 0);
		t = test_target(&l);
		c = socket(t.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		CHECK_SYS(c >= 0, "socket");
		CHECK_SYS(!setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)),
			  "setsockopt(SO_ZEROCOPY) before connect");
		CHECK_SYS(!connect(c, (struct sockaddr *)&t.ss, t.len), "connect");
		s = accept_one(lfd, 0);
		close(lfd);
	}
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

void run_zerocopy(struct rng *r)
{
	zerocopy(r, false);
}

void run_zerocopy_late(struct rng *r)
{
	zerocopy(r, true);
}

/* Urgent data: the byte sent with MSG_OOB is read with MSG_OOB, not inline. */
void run_oob(struct rng *r)
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
