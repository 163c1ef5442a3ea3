// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Many connections in one loop: a select() server and an epoll ET client. */
#include "tests/progs/semx_check/semx_check.h"

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
void run_many(struct rng *r)
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
