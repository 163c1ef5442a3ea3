// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Event-loop clients and servers: non-blocking connect() completed the ways real event
 * loops complete it, accept4(SOCK_NONBLOCK) in an epoll loop, and verified transfers
 * driven by readiness alone. What the application observes must be exactly what plain
 * TCP gives it: -1/EINPROGRESS, then POLLOUT, then SO_ERROR 0 (or 0 from a second
 * connect() and EISCONN from a third), and ECONNREFUSED through SO_ERROR for a closed port.
 */
#include <fcntl.h>
#include <sys/epoll.h>

#include "tests/progs/xfer_common.h"

#define NB_MAGIC 0x4e42434845434bull /* "NBCHECK" */

/* Raw header a client sends first: its stream id and both directions' lengths. */
struct nb_hdr {
	uint64_t magic;
	uint64_t id;
	uint64_t up;
	uint64_t down;
};

/*
 * How a client learns that its non-blocking connect() finished. The shim registers a
 * pending socket at SO_ERROR == 0 or at a second connect() (ARCHITECTURE.md), so each
 * completion point, and none at all, must work.
 */
enum completion {
	COMP_POLL_SOERR,   /* poll(POLLOUT), getsockopt(SO_ERROR): libuv, nginx, asyncio */
	COMP_POLL_EISCONN, /* poll(POLLOUT), connect() again -> 0, then EISCONN: hiredis */
	COMP_EPOLL_SOERR,  /* EPOLLOUT inside the event loop, then SO_ERROR */
	COMP_POLL_ONLY,	   /* poll(POLLOUT) and straight to writing */
	COMP_MAX,
};

static const char *const comp_name[COMP_MAX] = { "poll+SO_ERROR", "poll+EISCONN", "epoll+SO_ERROR",
						 "poll only" };

enum nb_state {
	C_CONNECTING, /* client, COMP_EPOLL_SOERR only */
	C_SEND,	      /* client: header + up stream */
	C_RECV,	      /* client: down stream, then EOF */
	S_HDR,	      /* server: header */
	S_RECV,	      /* server: up stream */
	S_SEND,	      /* server: down stream, then shutdown(SHUT_WR) */
	S_EOF,	      /* server: the client's EOF */
	NB_DONE,
};

struct nb_conn {
	int fd;
	enum nb_state state;
	enum completion comp;
	struct nb_hdr hdr;
	size_t hoff;
	struct vstream in, out;
	uint32_t events; /* current epoll interest, EPOLLET aside */
};

struct nb_loop {
	int ep;
	bool et; /* edge-triggered: every handler must run to EAGAIN */
	int done;
	uint8_t buf[64 * 1024];
};

static void nb_want(struct nb_loop *lp, struct nb_conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events | (lp->et ? EPOLLET : 0), .data.ptr = c };

	if (c->events == events)
		return;
	CHECK_SYS(!epoll_ctl(lp->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev),
		  "epoll_ctl");
	c->events = events;
}

static void nb_finish(struct nb_loop *lp, struct nb_conn *c)
{
	/* A connection can finish in its first step, before it ever waited in epoll. */
	if (c->events)
		CHECK_SYS(!epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL), "epoll_ctl(DEL)");
	close(c->fd);
	c->fd = -1;
	c->state = NB_DONE;
	lp->done++;
}

/* Non-blocking write of the next piece of out; false when the socket is full. */
static bool nb_write(struct nb_loop *lp, struct nb_conn *c, const char *who)
{
	size_t len = sizeof(lp->buf);
	ssize_t n;

	if (len > c->out.total - c->out.off)
		len = (size_t)(c->out.total - c->out.off);
	pat_fill(c->out.base, c->out.off, lp->buf, len);
	n = send(c->fd, lp->buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return false;
	CHECK(n > 0, "%s: send at offset %" PRIu64 " failed: %s", who, c->out.off,
	      n < 0 ? strerror(errno) : "returned 0");
	c->out.off += (uint64_t)n;
	return true;
}

/* Non-blocking read into the in stream; 1 data, 0 EOF, -1 EAGAIN. */
static int nb_read(struct nb_loop *lp, struct nb_conn *c, size_t max, void *dst)
{
	ssize_t n = recv(c->fd, dst ? dst : lp->buf, max, 0);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	CHECK(n >= 0, "%s: recv at offset %" PRIu64 " failed: %s", c->in.name, c->in.off,
	      strerror(errno));
	if (n == 0)
		return 0;
	if (!dst)
		vs_check(&c->in, lp->buf, (size_t)n);
	else
		c->hoff += (size_t)n;
	return 1;
}

static void check_so_error(int fd, int want, const char *when)
{
	int err = -1;
	socklen_t len = sizeof(err);

	CHECK_SYS(!getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), "getsockopt(SO_ERROR)");
	CHECK(err == want, "%s: SO_ERROR is %d (%s), plain TCP gives %d (%s)", when, err,
	      strerror(err), want, strerror(want));
}

/* Run one connection as far as it can go without blocking. */
static void nb_step(struct nb_loop *lp, struct nb_conn *c, uint32_t ev)
{
	for (;;) {
		switch (c->state) {
		case C_CONNECTING:
			CHECK(ev & EPOLLOUT, "connecting socket woke with events %#x, no EPOLLOUT",
			      ev);
			CHECK(!(ev & (EPOLLERR | EPOLLHUP)),
			      "connect completion reported EPOLLERR/EPOLLHUP (%#x)", ev);
			check_so_error(c->fd, 0, "after EPOLLOUT");
			c->state = C_SEND;
			break;
		case C_SEND:
			if (c->hoff < sizeof(c->hdr)) {
				ssize_t n = send(c->fd, (uint8_t *)&c->hdr + c->hoff,
						 sizeof(c->hdr) - c->hoff, MSG_NOSIGNAL);

				if (n < 0 && errno == EAGAIN)
					return nb_want(lp, c, EPOLLOUT);
				CHECK(n > 0, "client: sending header failed: %s", strerror(errno));
				c->hoff += (size_t)n;
				break;
			}
			if (c->out.off < c->out.total) {
				if (!nb_write(lp, c, "client"))
					return nb_want(lp, c, EPOLLOUT);
				break;
			}
			c->state = C_RECV;
			break;
		case C_RECV:
			switch (nb_read(lp, c, sizeof(lp->buf), NULL)) {
			case -1:
				return nb_want(lp, c, EPOLLIN);
			case 0:
				CHECK(c->in.off == c->in.total,
				      "client (stream %" PRIu64 "): EOF at offset %" PRIu64
				      " of %" PRIu64 ": bytes LOST",
				      c->in.id, c->in.off, c->in.total);
				return nb_finish(lp, c);
			}
			break;
		case S_HDR:
			if (c->hoff < sizeof(c->hdr)) {
				int rc = nb_read(lp, c, sizeof(c->hdr) - c->hoff,
						 (uint8_t *)&c->hdr + c->hoff);

				if (rc < 0)
					return nb_want(lp, c, EPOLLIN);
				CHECK(rc > 0, "server: EOF inside the header");
				break;
			}
			CHECK(c->hdr.magic == NB_MAGIC, "server: bad header magic %#" PRIx64,
			      c->hdr.magic);
			vs_init(&c->in, g_opt.key, c->hdr.id, c->hdr.up, "nb client->server");
			vs_init(&c->out, g_opt.key, c->hdr.id | (1ull << 62), c->hdr.down,
				"nb server->client");
			c->state = S_RECV;
			break;
		case S_RECV:
			if (c->in.off == c->in.total) {
				c->state = S_SEND;
				break;
			}
			switch (nb_read(lp, c,
					(size_t)(c->in.total - c->in.off) < sizeof(lp->buf)
					    ? (size_t)(c->in.total - c->in.off)
					    : sizeof(lp->buf),
					NULL)) {
			case -1:
				return nb_want(lp, c, EPOLLIN);
			case 0:
				fail("server (stream %" PRIu64 "): EOF at offset %" PRIu64
				     " of %" PRIu64 ": bytes LOST",
				     c->in.id, c->in.off, c->in.total);
			}
			break;
		case S_SEND:
			if (c->out.off < c->out.total) {
				if (!nb_write(lp, c, "server"))
					return nb_want(lp, c, EPOLLOUT);
				break;
			}
			CHECK_SYS(!shutdown(c->fd, SHUT_WR), "shutdown(SHUT_WR)");
			c->state = S_EOF;
			break;
		case S_EOF: {
			ssize_t n = recv(c->fd, lp->buf, sizeof(lp->buf), 0);

			if (n < 0 && errno == EAGAIN)
				return nb_want(lp, c, EPOLLIN);
			CHECK(n == 0,
			      "server (stream %" PRIu64 "): %s after the request, expected EOF",
			      c->in.id, n < 0 ? strerror(errno) : "bytes");
			return nb_finish(lp, c);
		}
		case NB_DONE:
			return;
		}
	}
}

struct nb_server {
	int lfd;
	int expected;
	bool et;
	struct nb_conn *conns;
};

/* Accept with accept4(SOCK_NONBLOCK) until EAGAIN; the flags must reach the new fd. */
static int nb_accept_all(struct nb_loop *lp, struct nb_server *srv, int n)
{
	for (;;) {
		struct nb_conn *c;
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), fl;

		if (fd < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return n;
		CHECK_SYS(fd >= 0, "accept4(SOCK_NONBLOCK)");
		CHECK(n < srv->expected, "server: more connections than clients");
		fl = fcntl(fd, F_GETFL);
		CHECK(fl >= 0 && (fl & O_NONBLOCK), "accept4(SOCK_NONBLOCK) gave a blocking fd");
		fl = fcntl(fd, F_GETFD);
		CHECK(fl >= 0 && (fl & FD_CLOEXEC), "accept4(SOCK_CLOEXEC) lost FD_CLOEXEC");
		c = &srv->conns[n++];
		c->fd = fd;
		c->state = S_HDR;
		nb_step(lp, c, 0); /* data may be there already; ET reports only new arrivals */
	}
}

static void *nb_server_run(void *arg)
{
	struct nb_server *srv = arg;
	struct nb_loop *lp = calloc(1, sizeof(*lp));
	struct epoll_event ev = { .events = EPOLLIN | (srv->et ? EPOLLET : 0) };
	int accepted = 0;

	CHECK(lp, "out of memory");
	lp->et = srv->et;
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK_SYS(lp->ep >= 0, "epoll_create1");
	CHECK_SYS(!epoll_ctl(lp->ep, EPOLL_CTL_ADD, srv->lfd, &ev), "epoll_ctl(listener)");
	while (lp->done < srv->expected) {
		struct epoll_event evs[32];
		int i, n = epoll_wait(lp->ep, evs, 32, 10000);

		CHECK(n != 0, "server: no epoll event for 10 s with %d of %d connections done",
		      lp->done, srv->expected);
		CHECK_SYS(n > 0 || errno == EINTR, "epoll_wait(server)");
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				accepted = nb_accept_all(lp, srv, accepted);
			else
				nb_step(lp, evs[i].data.ptr, evs[i].events);
		}
	}
	close(lp->ep);
	free(lp);
	return NULL;
}

/* Complete a non-blocking connect with poll() the way comp says. */
static void nb_complete(struct nb_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	int pr = poll(&p, 1, 5000);

	CHECK(pr == 1, "connect: no POLLOUT within 5 s (poll returned %d)", pr);
	CHECK((p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLHUP)),
	      "connect: poll revents %#x, plain TCP gives POLLOUT alone", p.revents);
	if (c->comp == COMP_POLL_SOERR)
		check_so_error(c->fd, 0, "after POLLOUT");
	if (c->comp == COMP_POLL_EISCONN) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof(peer);
		int rc;

		CHECK_SYS(!getpeername(c->fd, (struct sockaddr *)&peer, &len), "getpeername");
		/*
		 * Linux reports the completion itself once: the first connect() after the
		 * handshake returns 0 (the socket leaves SS_CONNECTING), only later ones
		 * give EISCONN (measured on plain TCP). Event loops accept both.
		 */
		rc = connect(c->fd, (struct sockaddr *)&peer, len);
		CHECK(rc == 0, "second connect() returned %d/%s, plain TCP gives 0", rc,
		      rc < 0 ? strerror(errno) : "success");
		rc = connect(c->fd, (struct sockaddr *)&peer, len);
		CHECK(rc < 0 && errno == EISCONN,
		      "third connect() returned %d/%s, plain TCP gives -1/EISCONN", rc,
		      rc < 0 ? strerror(errno) : "success");
	}
}

/*
 * A connect to a closed port: plain TCP on loopback answers -1/EINPROGRESS, then
 * POLLOUT|POLLERR|POLLHUP, then SO_ERROR ECONNREFUSED (measured). The shim must not turn
 * this into anything else.
 */
static void nb_refused(void)
{
	struct endpoint l, t;
	struct pollfd p;
	int lfd = test_listen(&l, 1, 0), fd, rc, pr;

	t = test_target(&l);
	close(lfd); /* the port is now closed */
	fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK_SYS(fd >= 0, "socket");
	rc = connect(fd, (struct sockaddr *)&t.ss, t.len);
	CHECK(rc < 0 && errno == EINPROGRESS,
	      "connect to a closed port returned %d/%s, plain TCP gives -1/EINPROGRESS", rc,
	      rc < 0 ? strerror(errno) : "success");
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	pr = poll(&p, 1, 5000);
	CHECK(pr == 1 && (p.revents & POLLERR),
	      "refused connect: poll returned %d revents %#x, plain TCP gives POLLERR", pr,
	      p.revents);
	check_so_error(fd, ECONNREFUSED, "refused connect");
	close(fd);
}

/*
 * One iteration: a closed-port check, then K clients (each completing its connect one of
 * the four ways) against an epoll server, edge- or level-triggered on both sides.
 */
static void run_nonblock(struct rng *r)
{
	struct nb_server srv = { 0 };
	struct nb_conn *cl;
	struct nb_loop *lp;
	struct endpoint l, t;
	pthread_t th;
	int k = g_opt.conns ? g_opt.conns : 16, i;
	uint64_t max = g_opt.bytes ? g_opt.bytes : 512 * KIB;

	set_phase("connect to a closed port");
	nb_refused();

	srv.lfd = test_listen(&l, 128, SOCK_NONBLOCK);
	srv.expected = k;
	srv.et = rng_chance(r, 50);
	srv.conns = calloc((size_t)k, sizeof(*srv.conns));
	cl = calloc((size_t)k, sizeof(*cl));
	lp = calloc(1, sizeof(*lp));
	CHECK(srv.conns && cl && lp, "out of memory");
	lp->et = rng_chance(r, 50);
	lp->ep = epoll_create1(EPOLL_CLOEXEC);
	CHECK_SYS(lp->ep >= 0, "epoll_create1");
	t = test_target(&l);
	info("%d connections, server %s, client %s", k, srv.et ? "ET" : "LT", lp->et ? "ET" : "LT");
	CHECK(!pthread_create(&th, NULL, nb_server_run, &srv), "pthread_create failed");

	set_phase("non-blocking connect");
	for (i = 0; i < k; i++) {
		struct nb_conn *c = &cl[i];
		int rc;

		c->comp = (enum completion)rng_range(r, 0, COMP_MAX - 1);
		c->hdr = (struct nb_hdr){ .magic = NB_MAGIC,
					  .id = stream_id(100 + (uint64_t)i),
					  .up = rng_chance(r, 10) ? 0 : rng_logsize(r, 1, max),
					  .down = rng_chance(r, 10) ? 0 : rng_logsize(r, 1, max) };
		vs_init(&c->out, g_opt.key, c->hdr.id, c->hdr.up, "nb client->server");
		vs_init(&c->in, g_opt.key, c->hdr.id | (1ull << 62), c->hdr.down,
			"nb server->client");
		c->fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		CHECK_SYS(c->fd >= 0, "socket");
		rc = connect(c->fd, (struct sockaddr *)&t.ss, t.len);
		CHECK(rc < 0 && errno == EINPROGRESS,
		      "non-blocking connect returned %d/%s, plain TCP gives -1/EINPROGRESS", rc,
		      rc < 0 ? strerror(errno) : "success");
		info("conn %d: %s, up %" PRIu64 " down %" PRIu64, i, comp_name[c->comp], c->hdr.up,
		     c->hdr.down);
	}
	for (i = 0; i < k; i++) {
		struct nb_conn *c = &cl[i];

		if (c->comp == COMP_EPOLL_SOERR) {
			c->state = C_CONNECTING;
			nb_want(lp, c, EPOLLOUT);
		} else {
			nb_complete(c);
			c->state = C_SEND;
			nb_step(lp, c, 0);
		}
	}
	set_phase("epoll transfers");
	while (lp->done < k) {
		struct epoll_event evs[32];
		int n = epoll_wait(lp->ep, evs, 32, 10000);

		CHECK(n != 0, "client: no epoll event for 10 s with %d of %d connections done",
		      lp->done, k);
		CHECK_SYS(n > 0 || errno == EINTR, "epoll_wait(client)");
		for (i = 0; i < n; i++)
			nb_step(lp, evs[i].data.ptr, evs[i].events);
	}
	set_phase("server finishing");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(lp->ep);
	close(srv.lfd);
	free(lp);
	free(cl);
	free(srv.conns);
}

static const struct scenario scenarios[] = {
	{ "nonblock", run_nonblock, 20,
	  "non-blocking connect completed 4 ways, accept4(SOCK_NONBLOCK), epoll ET/LT" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
