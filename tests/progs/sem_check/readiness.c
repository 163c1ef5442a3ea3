// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Readiness and blocked readers: poll and epoll, MSG_WAITALL over a trickle, and readers
 * blocked before data (or before accept) being woken.
 */
#include "tests/progs/sem_check/sem_check.h"

/* No readiness without data; POLLIN within the bound once the peer writes; none after draining. */
void run_poll(struct rng *r)
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
void run_epoll(struct rng *r)
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
void run_waitall(struct rng *r)
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
void run_blocked_reader(struct rng *r)
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

void run_blocked_before_accept(struct rng *r)
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
