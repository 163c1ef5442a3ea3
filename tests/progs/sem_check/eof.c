// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * EOF and shutdown: all data then EOF, EPIPE after SHUT_WR, reading after a half-close, RST
 * after data, a refused connect and close() delivering EOF.
 */
#include "tests/progs/sem_check/sem_check.h"

/* All data, then EOF (0, and 0 again); a reader waiting in poll() or recv() is woken by it. */
void run_eof(struct rng *r)
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
void run_epipe(struct rng *r)
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

void run_halfclose(struct rng *r)
{
	halfclose(r, false);
}

void run_halfclose_thread(struct rng *r)
{
	halfclose(r, true);
}

/*
 * Peer sends data, then closes with SO_LINGER {1,0} (RST): the reader gets every byte,
 * then ECONNRESET (not EOF, not an early error). Sometimes the reader already sleeps in
 * recv() when the RST comes.
 */
void run_rst(struct rng *r)
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

/* A blocking connect() to a closed port fails with ECONNREFUSED, as on plain TCP. */
void run_refused(struct rng *r)
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
void run_close_eof(struct rng *r)
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
