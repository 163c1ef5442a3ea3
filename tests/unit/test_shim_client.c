// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the shim's helper client against a fake helper running in a thread (good
 * replies, bad ones, silence, hang-ups, restarts, a missing helper, threads and fork), of
 * registration (what connect/accept/getsockopt hand to it, on real loopback sockets), and
 * of the hooks themselves: this binary re-runs itself with the built libskaccel.so preloaded.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "shim/fdtab.h"
#include "shim/helper_client.h"
#include "shim/init.h"
#include "shim/pairwait.h"
#include "shim/write_watch.h"
#include "shim/promote.h"
#include "shim/register.h"

/* skaccel-run's ping talks to the same fake helper; run/ is not in the unit test link. */
#include "run/ping.c"

#include "tests/unit/skt_assert.h"

enum fake_mode {
	FAKE_GOOD,	/* answer every request properly */
	FAKE_WRONG_SEQ, /* answer with another seq */
	FAKE_SHORT,	/* answer with a truncated reply */
	FAKE_SILENT,	/* never answer */
	FAKE_HANGUP,	/* close the connection instead of answering */
};

#define MAX_CONNS 64

struct fake_helper {
	char path[108];
	int lfd;
	pthread_t thread;
	int conns[MAX_CONNS];
	int nconns;
	/* Set by the test, read by the thread. */
	int mode;
	int status;
	int drop_all; /* close every connection (a helper restart, as seen by clients) */
	int no_peer;  /* answer REGISTER_IF_PEER_WAITS with OK_NO_PEER */
	int old;      /* answer any flag with BAD_REQUEST, as a helper before the flag */
	int stop;
	/* Counted by the thread. */
	int accepts;
	int last_flags; /* of the last request */
	int requests;
	int fds;
};

static int get(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void put(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static void fake_drop(struct fake_helper *h, int i)
{
	close(h->conns[i]);
	h->conns[i] = h->conns[--h->nconns];
}

static void fake_serve(struct fake_helper *h, int i)
{
	struct skaccel_req req;
	struct skaccel_reply rep = { 0 };
	int fds[SKACCEL_FD_PASS_MAX], nfds, trunc, k;
	ssize_t n;

	n = skaccel_recv_fds(h->conns[i], &req, sizeof(req), fds, &nfds, &trunc, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		fake_drop(h, i);
		return;
	}
	for (k = 0; k < nfds; k++)
		close(fds[k]);
	__atomic_fetch_add(&h->fds, nfds, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&h->requests, 1, __ATOMIC_SEQ_CST);
	rep.magic = SKACCEL_MAGIC;
	rep.version = SKACCEL_PROTO_VERSION;
	rep.op = req.op;
	rep.seq = req.seq;
	put(&h->last_flags, (int)req.flags);
	rep.status = req.op == SKACCEL_OP_PING ? SKACCEL_OK_PONG : get(&h->status);
	if ((req.flags & SKACCEL_REQ_IF_PEER_WAITS) && get(&h->no_peer))
		rep.status = SKACCEL_OK_NO_PEER;
	if (req.flags && get(&h->old))
		rep.status = SKACCEL_ERR_BAD_REQUEST;
	switch (get(&h->mode)) {
	case FAKE_WRONG_SEQ:
		rep.seq++;
		break;
	case FAKE_SILENT:
		return;
	case FAKE_HANGUP:
		fake_drop(h, i);
		return;
	}
	if (send(h->conns[i], &rep, get(&h->mode) == FAKE_SHORT ? sizeof(rep) - 4 : sizeof(rep),
		 MSG_NOSIGNAL) < 0)
		fake_drop(h, i);
}

static void *fake_thread(void *p)
{
	struct fake_helper *h = p;

	while (!get(&h->stop)) {
		struct pollfd pfd[MAX_CONNS + 1];
		int i, n;

		if (get(&h->drop_all)) {
			while (h->nconns)
				fake_drop(h, 0);
			put(&h->drop_all, 0);
		}
		pfd[0] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
		for (i = 0; i < h->nconns; i++)
			pfd[i + 1] = (struct pollfd){ .fd = h->conns[i], .events = POLLIN };
		n = h->nconns;
		if (poll(pfd, (nfds_t)n + 1, 5) <= 0)
			continue;
		for (i = n - 1; i >= 0; i--)
			if (pfd[i + 1].revents)
				fake_serve(h, i);
		if (pfd[0].revents & POLLIN) {
			int c = accept4(h->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (c >= 0 && h->nconns < MAX_CONNS) {
				h->conns[h->nconns++] = c;
				__atomic_fetch_add(&h->accepts, 1, __ATOMIC_SEQ_CST);
			} else if (c >= 0) {
				close(c);
			}
		}
	}
	while (h->nconns)
		fake_drop(h, 0);
	return NULL;
}

static void fake_start(struct fake_helper *h, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(h, 0, sizeof(*h));
	snprintf(h->path, sizeof(h->path), "%s", path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	h->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (h->lfd < 0 || bind(h->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(h->lfd, 16) < 0) {
		perror("fake helper");
		exit(2);
	}
	pthread_create(&h->thread, NULL, fake_thread, h);
}

static void fake_stop(struct fake_helper *h)
{
	put(&h->stop, 1);
	pthread_join(h->thread, NULL);
	close(h->lfd);
	unlink(h->path);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static char path[108];
static int some_fd; /* any fd to pass: the helper only counts it */

static int req(struct shim_client *c, struct skaccel_reply *rep, bool *sent)
{
	return shim_client_request(c, SKACCEL_OP_REGISTER, 0, some_fd, rep, sent);
}

static void test_no_helper(void)
{
	struct shim_client c;
	struct skaccel_reply rep;
	struct fake_helper h;
	bool sent = true;
	long t0;

	shim_client_init(&c, path, 250, 300);
	t0 = now_ms();
	ASSERT_EQ(req(&c, &rep, &sent), -ENOENT, "req");
	ASSERT_EQ(sent, false, "sent");
	ASSERT_EQ(now_ms() - t0 < 50, true, "now_ms");
	/* The helper appears, but within the backoff nobody looks. */
	fake_start(&h, path);
	ASSERT_EQ(req(&c, &rep, &sent), -ENOENT, "req");
	ASSERT_EQ(get(&h.accepts), 0, "get");
	sleep_ms(320);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(get(&h.accepts), 1, "get");
	fake_stop(&h);

	/* A socket file nobody listens on: refused, as fast. */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		char longpath[200];

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind");
		shim_client_init(&c, path, 250, 300);
		ASSERT_EQ(req(&c, &rep, &sent), -ECONNREFUSED, "req");
		close(fd);
		unlink(path);

		/* A path longer than sun_path: never a buffer overrun, just a failure. */
		memset(longpath, 'x', sizeof(longpath));
		longpath[sizeof(longpath) - 1] = '\0';
		shim_client_init(&c, longpath, 250, 300);
		ASSERT_EQ(req(&c, &rep, &sent), -ENAMETOOLONG, "req");
	}
}

static void test_good(void)
{
	struct shim_client c;
	struct skaccel_reply rep;
	struct fake_helper h;
	bool sent;

	fake_start(&h, path);
	shim_client_init(&c, path, 250, 300);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(sent, true, "sent");
	ASSERT_EQ(rep.status, SKACCEL_OK_ACCELERATED, "rep");
	ASSERT_EQ(rep.seq, 1, "rep");
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(rep.seq, 2, "rep");
	ASSERT_EQ(shim_client_request(&c, SKACCEL_OP_PING, 0, -1, &rep, &sent), 0,
		  "shim_client_request");
	ASSERT_EQ(sent, false, "sent");
	ASSERT_EQ(rep.status, SKACCEL_OK_PONG, "rep");
	ASSERT_EQ(get(&h.requests), 3, "get");
	ASSERT_EQ(get(&h.fds), 2, "get");
	ASSERT_EQ(get(&h.accepts), 1, "get"); /* one connection for all of them */
	/* Our fd is close-on-exec. */
	ASSERT_EQ(fcntl(c.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC, "fcntl");

	/* A refusal is an answer, not a failure: no backoff. */
	put(&h.status, SKACCEL_ERR_NOT_LOCAL);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(rep.status, SKACCEL_ERR_NOT_LOCAL, "rep");
	put(&h.status, SKACCEL_OK_ACCELERATED);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");

	/* The helper restarted: the dead connection is replaced at once, nothing lost. */
	put(&h.drop_all, 1);
	while (get(&h.drop_all))
		sleep_ms(1);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(get(&h.accepts), 2, "get");

	/* The application closed our fd and reused the number: leave its file alone. */
	{
		int ourfd = c.fd, p[2];

		close(ourfd);
		ASSERT_EQ(pipe(p), 0, "pipe");
		if (p[0] != ourfd) { /* make the number the pipe's */
			dup2(p[0], ourfd);
			close(p[0]);
			p[0] = ourfd;
		}
		ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
		ASSERT_EQ(fcntl(p[0], F_GETFD) < 0, 0, "fcntl"); /* still open */
		ASSERT_EQ(c.fd != p[0], true, "c");
		ASSERT_EQ(get(&h.accepts), 3, "get");
		close(p[0]);
		close(p[1]);
	}

	/* fork: the child gets its own connection, the parent keeps its own. */
	{
		int status = -1;
		pid_t pid;

		shim_client_atfork_prepare(&c);
		pid = fork();
		if (pid == 0) {
			shim_client_atfork_child(&c);
			_exit(req(&c, &rep, &sent) == 0 && rep.status == 0 ? 0 : 1);
		}
		shim_client_atfork_parent(&c);
		ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid");
		ASSERT_EQ(status, 0, "status");
		ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
		ASSERT_EQ(get(&h.accepts), 4, "get");
	}
	shim_client_reset(&c);
	ASSERT_EQ(c.fd, -1, "c");
	fake_stop(&h);
}

static void test_failures(void)
{
	struct shim_client c;
	struct skaccel_reply rep;
	struct fake_helper h;
	bool sent;
	int n;
	long t0;

	fake_start(&h, path);
	shim_client_init(&c, path, 100, 300);

	/* Wrong seq: -EPROTO, connection closed, and backoff. */
	put(&h.mode, FAKE_WRONG_SEQ);
	ASSERT_EQ(req(&c, &rep, &sent), -EPROTO, "req");
	ASSERT_EQ(sent, true, "sent");
	ASSERT_EQ(c.fd, -1, "c");
	put(&h.mode, FAKE_GOOD);
	n = get(&h.requests);
	ASSERT_EQ(req(&c, &rep, &sent), -EPROTO, "req");
	ASSERT_EQ(sent, false, "sent");
	ASSERT_EQ(get(&h.requests), n, "get");
	sleep_ms(320);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");

	put(&h.mode, FAKE_SHORT);
	ASSERT_EQ(req(&c, &rep, &sent), -EPROTO, "req");
	sleep_ms(320);

	/* Silence: -ETIMEDOUT within the bound, then backoff costs nothing. */
	put(&h.mode, FAKE_SILENT);
	t0 = now_ms();
	ASSERT_EQ(req(&c, &rep, &sent), -ETIMEDOUT, "req");
	ASSERT_EQ(sent, true, "sent");
	ASSERT_EQ(now_ms() - t0 >= 95 && now_ms() - t0 < 400, true, "now_ms");
	t0 = now_ms();
	ASSERT_EQ(req(&c, &rep, &sent), -ETIMEDOUT, "req");
	ASSERT_EQ(now_ms() - t0 < 50, true, "now_ms");
	/* A late answer can never be taken for the next request's: a new connection. */
	put(&h.mode, FAKE_GOOD);
	sleep_ms(320);
	n = get(&h.accepts);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	ASSERT_EQ(get(&h.accepts), n + 1, "get");

	/* Hang-up. */
	put(&h.mode, FAKE_HANGUP);
	ASSERT_EQ(req(&c, &rep, &sent), -ECONNRESET, "req");
	shim_client_reset(&c);
	put(&h.mode, FAKE_GOOD);
	ASSERT_EQ(req(&c, &rep, &sent), 0, "req");
	fake_stop(&h);
}

struct worker {
	struct shim_client *c;
	int ok;
	long ms;
};

static void *worker_fn(void *p)
{
	struct worker *w = p;
	struct skaccel_reply rep;
	long t0 = now_ms();
	bool sent;
	int i;

	for (i = 0; i < 50; i++)
		w->ok += req(w->c, &rep, &sent) == 0 && rep.status == 0;
	w->ms = now_ms() - t0;
	return NULL;
}

static void test_threads(void)
{
	struct worker w[8];
	pthread_t t[8];
	struct shim_client c;
	struct fake_helper h;
	int i, ok = 0;
	long worst = 0;

	fake_start(&h, path);
	shim_client_init(&c, path, 1000, 300);
	for (i = 0; i < 8; i++) {
		w[i] = (struct worker){ .c = &c };
		pthread_create(&t[i], NULL, worker_fn, &w[i]);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
	}
	ASSERT_EQ(ok, 400, "ok");
	ASSERT_EQ(get(&h.requests), 400, "get");
	ASSERT_EQ(get(&h.accepts), 1, "get");

	/*
	 * While one thread waits for a silent helper, another gives up by the same deadline
	 * instead of queueing behind it: nobody waits longer than the timeout.
	 */
	shim_client_init(&c, path, 150, 2000);
	put(&h.mode, FAKE_SILENT);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .c = &c };
		pthread_create(&t[i], NULL, worker_fn, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (w[i].ms > worst)
			worst = w[i].ms;
	}
	/* 50 requests each: one timeout, the rest inside the backoff. */
	ASSERT_EQ(worst >= 140 && worst < 600, true, "worst");
	fake_stop(&h);
}

/* A loopback listener; *addr gets its address. */
static int listener(struct sockaddr_in *addr, int backlog)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	*addr = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, len) < 0 || listen(fd, backlog) < 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) < 0)
		exit(2);
	return fd;
}

/* connect() as the hook does it: the real call, then shim_after_connect(). */
static int hooked_connect(int fd, const struct sockaddr_in *addr)
{
	int ret = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)), err = errno;

	shim_after_connect(fd, (const struct sockaddr *)addr, sizeof(*addr), ret, err);
	errno = err;
	return ret;
}

static int hooked_accept4(int lfd, int flags)
{
	int fd = accept4(lfd, NULL, NULL, flags | SOCK_CLOEXEC);

	if (fd >= 0)
		shim_after_accept(fd, NULL, NULL, flags);
	return fd;
}

static int so_error(int fd)
{
	socklen_t len = sizeof(int);
	int val = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &val, &len) == 0 &&
	    (shim_fd_get(fd) & SHIM_FD_CANDIDATE))
		shim_after_getsockopt(fd, SOL_SOCKET, SO_ERROR, &val, &len);
	return val;
}

/*
 * Let fd carry enough to be promoted (a write, then a read and a write for each turn),
 * then promote it as the next read or write would.
 */
static unsigned int promote_now(int fd)
{
	unsigned int i;

	shim_promote_count(fd, 1);
	for (i = 0; i < SHIM_PROMOTE_AFTER; i += 2) {
		if (shim_promote_enter(fd))
			shim_promote_leave(fd, 1);
		shim_promote_count(fd, 1);
	}
	shim_promote_try(fd);
	return shim_fd_get(fd);
}

static void test_register(void)
{
	const unsigned int R = SHIM_FD_REGISTERED, N = SHIM_FD_NONBLOCK;
	const unsigned int C = SHIM_FD_CANDIDATE;
	/* Registered with a reply from the helper: the shim set TCP_NOTSENT_LOWAT. */
	const unsigned int L = SHIM_FD_LOWAT;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s, n, errpipe[2], saved_stderr;
	char line[256] = "", want[256];
	struct pollfd pfd;
	ssize_t len;

	fake_start(&h, path);
	setenv("SKACCEL_SOCKET", path, 1);
	setenv("SKACCEL_TIMEOUT_MS", "500", 1);
	setenv("SKACCEL_DEBUG", "1", 1);
	ASSERT_EQ(shim_active(), true, "shim_active");
	ASSERT_EQ(shim_cfg.timeout_ms, 500, "shim_cfg");
	/* Lazy promotion, the default; test_register_eager() has SKACCEL_PROMOTE_AFTER=0. */
	ASSERT_EQ(shim_cfg.promote_after, SHIM_PROMOTE_AFTER, "shim_cfg");
	lfd = listener(&la, 16);

	/* Blocking connect and accept: both ends candidates, registered once promoted. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(pipe2(errpipe, O_CLOEXEC), 0, "pipe2");
	saved_stderr = dup(2);
	dup2(errpipe[1], 2);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect");
	dup2(saved_stderr, 2);
	close(saved_stderr);
	close(errpipe[1]);
	len = read(errpipe[0], line, sizeof(line) - 1);
	line[len > 0 ? len : 0] = '\0';
	close(errpipe[0]);
	{
		/* Nothing asked of the kernel at connect(): the addresses come at promotion. */
		snprintf(want, sizeof(want), "skaccel[%d]: fd %d: candidate\n", (int)getpid(), c);
		ASSERT_EQ(strcmp(line, want), 0, "strcmp");
		if (strcmp(line, want))
			fprintf(stderr, "  expected: %s  got:      %s", want, line);
	}
	setenv("SKACCEL_DEBUG", "0", 1);
	shim_cfg.debug = false;
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	ASSERT_EQ(get(&h.fds), 0, "get");
	/* Not yet due: nothing happens. */
	shim_promote_try(c);
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	ASSERT_EQ(promote_now(c), R | L, "promote_now");
	ASSERT_EQ(get(&h.fds), 1, "get");
	s = hooked_accept4(lfd, 0);
	ASSERT_EQ(shim_fd_get(s), C, "shim_fd_get");
	/* A hooked read in progress holds the promotion off; it runs after the read. */
	ASSERT_EQ(shim_promote_enter(s), true, "shim_promote_enter");
	ASSERT_EQ(promote_now(s), C, "promote_now");
	ASSERT_EQ(get(&h.fds), 1, "get");
	shim_promote_leave(s, 1);
	shim_promote_try(s);
	ASSERT_EQ(shim_fd_get(s), R | L, "shim_fd_get");
	ASSERT_EQ(get(&h.fds), 2, "get");
	close(s);
	close(c);
	shim_fd_clear(s);
	shim_fd_clear(c);

	/* accept4(SOCK_NONBLOCK) and a non-blocking connect: O_NONBLOCK asked at promotion. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), -1, "hooked_connect");
	ASSERT_EQ(errno, EINPROGRESS, "errno");
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	s = hooked_accept4(lfd, SOCK_NONBLOCK);
	ASSERT_EQ(shim_fd_get(s), C | N, "shim_fd_get");
	/* The application still sees a plain completion. */
	ASSERT_EQ(so_error(c), 0, "so_error");
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	/* The event loop's second connect(): nothing changes, nothing is asked. */
	n = get(&h.requests);
	shim_after_connect(c, (struct sockaddr *)&la, sizeof(la), 0, 0);
	shim_after_connect(c, (struct sockaddr *)&la, sizeof(la), -1, EISCONN);
	shim_after_connect(c, (struct sockaddr *)&la, sizeof(la), -1, EALREADY);
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	ASSERT_EQ(get(&h.requests), n, "get");
	ASSERT_EQ(promote_now(c), R | L | N, "promote_now");
	ASSERT_EQ(promote_now(s), R | L | N, "promote_now");
	ASSERT_EQ(get(&h.fds), 4, "get");
	close(c);
	close(s);

	/* A failed connect is no candidate, whichever way the application learns of it. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	shim_fd_set(c, C);
	shim_after_getsockopt(c, SOL_SOCKET, SO_ERROR, &(int){ ECONNREFUSED }, &(socklen_t){ 4 });
	ASSERT_EQ(shim_fd_get(c), 0, "shim_fd_get");
	shim_fd_set(c, C);
	shim_after_connect(c, (struct sockaddr *)&la, sizeof(la), -1, ECONNREFUSED);
	ASSERT_EQ(shim_fd_get(c), 0, "shim_fd_get");
	close(c);

	/* Not TCP: a candidate until it is due, then dropped without a request. */
	n = get(&h.requests);
	c = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect");
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get");
	ASSERT_EQ(promote_now(c), 0, "promote_now");
	close(c);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		ASSERT_EQ(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0, "connect");
		shim_after_connect(c, (struct sockaddr *)&sun, sizeof(sun), 0, 0);
		ASSERT_EQ(shim_fd_get(c), 0, "shim_fd_get");
		close(c);
	}
	ASSERT_EQ(get(&h.requests), n, "get");

	/* The helper refuses: the fd stays unregistered. */
	put(&h.status, SKACCEL_ERR_NOT_ESTABLISHED);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect");
	ASSERT_EQ(promote_now(c), 0, "promote_now");
	ASSERT_EQ(get(&h.requests), n + 1, "get");
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(s);
	close(c);
	put(&h.status, SKACCEL_ERR_ALREADY); /* ... unless it says the fd is in already */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect");
	ASSERT_EQ(promote_now(c), R,
		  "promote_now"); /* not known to be paired: no unsent-bytes mark */
	s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(s);
	close(c);
	shim_fd_clear(c);
	put(&h.status, SKACCEL_OK_WAITING_PEER);
	close(lfd);

	/*
	 * A real SYN_SENT: the listener's accept queue is full, so the SYN is dropped and the
	 * connect goes on in the background (SYN retransmitted after 1 s).
	 */
	lfd = listener(&la, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect"); /* fills the queue */
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	n = get(&h.requests);
	ASSERT_EQ(hooked_connect(s, &la), -1, "hooked_connect");
	ASSERT_EQ(errno, EINPROGRESS, "errno");
	ASSERT_EQ(shim_fd_get(s), C, "shim_fd_get");
	ASSERT_EQ(get(&h.requests), n, "get");
	ASSERT_EQ(so_error(s), 0, "so_error"); /* not done yet: stays a candidate */
	ASSERT_EQ(shim_fd_get(s), C, "shim_fd_get");
	close(hooked_accept4(lfd, 0)); /* room in the queue */
	pfd = (struct pollfd){ .fd = s, .events = POLLOUT };
	ASSERT_EQ(poll(&pfd, 1, 5000), 1, "poll");
	ASSERT_EQ(so_error(s), 0, "so_error");
	ASSERT_EQ(shim_fd_get(s), C, "shim_fd_get");
	ASSERT_EQ(get(&h.requests), n,
		  "get"); /* the accepted one and the completed one: candidates */
	/* Waiting for its peer: no unsent-bytes mark, it asks later (test_pairwait()). */
	ASSERT_EQ(promote_now(s), R | N | SHIM_FD_UNPAIRED, "promote_now");
	ASSERT_EQ(get(&h.requests), n + 1, "get");
	close(s);
	close(c);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	fake_stop(&h);
}

/*
 * A client connected to lfd (at la) and registered while the helper says its peer is not
 * (SKACCEL_OK_WAITING_PEER): UNPAIRED. nonblock: 0 or SOCK_NONBLOCK. *s: the accepted
 * peer, which the shim never sees.
 */
static int unpaired_client(struct fake_helper *h, int lfd, const struct sockaddr_in *la,
			   int nonblock, int *s)
{
	const unsigned int st =
	    SHIM_FD_REGISTERED | SHIM_FD_UNPAIRED | (nonblock ? SHIM_FD_NONBLOCK : 0);
	int c;

	put(&h->status, SKACCEL_OK_WAITING_PEER);
	c = socket(AF_INET, SOCK_STREAM | nonblock | SOCK_CLOEXEC, 0);
	if (nonblock)
		hooked_connect(c, la); /* EINPROGRESS, or done already: so_error() below says */
	else
		ASSERT_EQ(hooked_connect(c, la), 0, "hooked_connect");
	*s = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (nonblock)
		ASSERT_EQ(so_error(c), 0, "so_error");
	ASSERT_EQ(promote_now(c), st, "promote_now");
	return c;
}

/*
 * A blocking socket registered before its peer has no unsent-bytes mark: it asks whether it
 * is paired before the write that reaches 64 KiB, then every 256 KiB, and takes the mark
 * on yes; a refusal or no answer ends the questions.
 */
static void test_pairwait(void)
{
	const unsigned int R = SHIM_FD_REGISTERED, L = SHIM_FD_LOWAT, U = SHIM_FD_UNPAIRED;
	const size_t K = 1024;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s, n;

	fake_start(&h, path);
	ASSERT_EQ(shim_active(), true, "shim_active");
	lfd = listener(&la, 16);
	c = unpaired_client(&h, lfd, &la, 0, &s);
	n = get(&h.requests);
	shim_pairwait_before(c, 64 * K - 1);
	shim_pairwait_wrote(c, 64 * K - 1);
	ASSERT_EQ(get(&h.requests), n, "get: before 64 KiB");
	shim_pairwait_before(c, 1);
	ASSERT_EQ(get(&h.requests), n + 1, "get: at 64 KiB");
	ASSERT_EQ(shim_fd_get(c), R | U, "shim_fd_get: not yet");
	shim_pairwait_wrote(c, 1); /* the write that asked: 256 KiB - 1 to go */
	shim_pairwait_before(c, 256 * K - 2);
	shim_pairwait_wrote(c, 256 * K - 2);
	ASSERT_EQ(get(&h.requests), n + 1, "get: before 256 KiB more");
	put(&h.status, SKACCEL_OK_ACCELERATED);
	shim_pairwait_before(c, 1);
	ASSERT_EQ(get(&h.requests), n + 2, "get: at 256 KiB more");
	ASSERT_EQ(shim_fd_get(c), R | L, "shim_fd_get: paired, marked");
	shim_pairwait_before(c, 1024 * K);
	ASSERT_EQ(get(&h.requests), n + 2, "get: asks no more");
	close(c);
	close(s);
	shim_fd_clear(c);

	/* Refused (an older helper: unknown op): no more questions, no mark. */
	c = unpaired_client(&h, lfd, &la, 0, &s);
	put(&h.status, SKACCEL_ERR_UNKNOWN_OP);
	n = get(&h.requests);
	shim_pairwait_before(c, 64 * K);
	ASSERT_EQ(get(&h.requests), n + 1, "get");
	ASSERT_EQ(shim_fd_get(c), R, "shim_fd_get: refused");
	shim_pairwait_before(c, 1024 * K);
	ASSERT_EQ(get(&h.requests), n + 1, "get: asks no more");
	close(c);
	close(s);
	shim_fd_clear(c);

	/*
	 * A non-blocking one asks too; paired with nothing unacknowledged in its send queue, it
	 * takes no mark (it would DRAIN with some: tests/e2e/apps/nginx).
	 */
	c = unpaired_client(&h, lfd, &la, SOCK_NONBLOCK, &s);
	/* Still waiting: a large write is cut to what it may send before it asks again. */
	ASSERT_EQ(shim_write_before(c, 1 << 20), (size_t)SHIM_PAIRWAIT_STEP, "shim_write_before");
	ASSERT_EQ(shim_write_before(c, 1000), (size_t)1000, "shim_write_before: small");
	shim_pairwait_wrote(c, SHIM_PAIRWAIT_STEP);
	put(&h.status, SKACCEL_OK_ACCELERATED);
	n = get(&h.requests);
	shim_pairwait_before(c, 64 * K);
	ASSERT_EQ(get(&h.requests), n + 1, "get");
	ASSERT_EQ(shim_fd_get(c), R | L | SHIM_FD_NONBLOCK, "shim_fd_get: paired, not draining");
	close(c);
	close(s);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	put(&h.status, SKACCEL_OK_ACCELERATED);
	fake_stop(&h);
}

/* A connection through the hooks: returns the client's fd, the accepted one in *s. */
static int candidate_pair(int lfd, const struct sockaddr_in *la, int *s)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_EQ(hooked_connect(c, la), 0, "hooked_connect");
	*s = hooked_accept4(lfd, 0);
	return c;
}

/* kib KiB read by hooked reads of 64 KiB (or what is left) on the candidate fd. */
static void read_kib(int fd, unsigned int kib)
{
	unsigned int k;

	for (; kib; kib -= k) {
		k = kib < 64 ? kib : 64;
		if (shim_promote_enter(fd))
			shim_promote_leave(fd, (ssize_t)k << 10);
	}
}

/*
 * A reader whose writer has not registered: "no peer", still a candidate, and it asks again
 * after twice the bytes each time, counted in bytes however small its reads.
 */
static void test_promote_no_peer(void)
{
	const unsigned int C = SHIM_FD_CANDIDATE, R = SHIM_FD_REGISTERED;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s, i, asked;
	unsigned int kib = SHIM_PROMOTE_KIB;

	fake_start(&h, path);
	put(&h.no_peer, 1);
	lfd = listener(&la, 16);
	c = candidate_pair(lfd, &la, &s);
	for (i = 0; i < 4; i++, kib *= 2) {
		asked = get(&h.requests);
		read_kib(s, kib - 64);
		shim_promote_try(s);
		ASSERT_EQ(get(&h.requests), asked,
			  skt_fmt("round %d: not due before %u KiB", i, kib));
		read_kib(s, 64);
		shim_promote_try(s);
		ASSERT_EQ(get(&h.requests), asked + 1,
			  skt_fmt("round %d: asked at %u KiB", i, kib));
		ASSERT_EQ(shim_fd_get(s), C, skt_fmt("round %d: no peer, still a candidate", i));
	}
	/* 64 B reads: after a "no peer", 100,000 of them (6 MiB) do not make it ask again. */
	asked = get(&h.requests);
	for (i = 0; i < 100000; i++)
		if (shim_promote_enter(s))
			shim_promote_leave(s, 64);
	shim_promote_try(s);
	ASSERT_EQ(get(&h.requests), asked, "small reads count their bytes, not one unit each");
	/* Its writer waits now: the next question registers it. */
	put(&h.no_peer, 0);
	read_kib(s, kib);
	shim_promote_try(s);
	ASSERT_EQ(shim_fd_get(s) & R, R, "registered once its peer waits");
	close(c);
	close(s);

	/* A reply after a "no peer" counts afresh: 256 KiB of large writes promote it. */
	put(&h.no_peer, 1);
	c = candidate_pair(lfd, &la, &s);
	read_kib(s, SHIM_PROMOTE_KIB);
	shim_promote_try(s);
	ASSERT_EQ(shim_fd_get(s), C, "no peer");
	for (i = 0; i < (int)(SHIM_PROMOTE_KIB / 64) - 1; i++)
		shim_promote_count(s, 64 << 10);
	shim_promote_try_write(s, 1024);
	ASSERT_EQ(shim_fd_get(s), C, "the reply, under 256 KiB: still a candidate");
	shim_promote_try_write(s, 64 << 10);
	ASSERT_EQ(shim_fd_get(s) & R, R, "the reply's 256 KiB: promoted");
	ASSERT_EQ(get(&h.last_flags), 0, "as a writer: whether its peer waits or not");
	close(c);
	close(s);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	fake_stop(&h);
}

/* writev() and sendmsg() of a socket that may send only so much: the iovec cut to it. */
static void test_iov_cut(void)
{
	char a[10], b[20], c[30];
	struct iovec iov[4] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = NULL, .iov_len = 0 },
		{ .iov_base = b, .iov_len = sizeof(b) },
		{ .iov_base = c, .iov_len = sizeof(c) },
	};
	struct iovec cut[SHIM_IOV_CUT_MAX], many[SHIM_IOV_CUT_MAX + 10];
	int i, k;

	ASSERT_EQ(shim_iov_cut(iov, 4, 60, cut), 0, "all of it fits: no cut");
	ASSERT_EQ(shim_iov_cut(iov, 4, 1000, cut), 0, "more than all: no cut");
	ASSERT_EQ(shim_iov_cut(NULL, 0, 10, cut), 0, "no iovec");
	ASSERT_EQ(shim_iov_cut(iov, 4, 0, cut), 0, "nothing may go: as it is");
	k = shim_iov_cut(iov, 4, 25, cut);
	ASSERT_EQ(k, 2, "25 bytes: two entries, the empty one skipped");
	ASSERT_TRUE(cut[0].iov_base == a && cut[0].iov_len == 10, "first entry whole");
	ASSERT_TRUE(cut[1].iov_base == b && cut[1].iov_len == 15, "second entry shortened");
	k = shim_iov_cut(iov, 4, 10, cut);
	ASSERT_EQ(k, 1, "exactly the first entry");
	ASSERT_EQ(cut[0].iov_len, 10, "first entry whole");
	/* More entries than a cut holds: the first SHIM_IOV_CUT_MAX, a shorter write. */
	for (i = 0; i < SHIM_IOV_CUT_MAX + 10; i++)
		many[i] = (struct iovec){ .iov_base = a, .iov_len = 1 };
	k = shim_iov_cut(many, SHIM_IOV_CUT_MAX + 10, SHIM_IOV_CUT_MAX + 5, cut);
	ASSERT_EQ(k, SHIM_IOV_CUT_MAX, "at most SHIM_IOV_CUT_MAX entries");
}

/*
 * Which writes go through shim_write_before/after: every write of a candidate, of a socket
 * waiting for its peer or of one that DRAINs; of a paired blocking socket with the mark,
 * only those long enough to wait for its TCP bytes first; nothing else.
 */
static void test_write_watched(void)
{
	const unsigned int R = SHIM_FD_REGISTERED, L = SHIM_FD_LOWAT, N = SHIM_FD_NONBLOCK;
	const size_t big = SHIM_SENT_WAIT_MIN;
	struct iovec small_iov[2] = { { .iov_len = 1000 }, { .iov_len = 1000 } };
	struct iovec big_iov[2] = { { .iov_len = big / 2 }, { .iov_len = big / 2 } };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = 0;

	ASSERT_GE(fd, 0, "socket");
	ASSERT_EQ(shim_write_watched(fd, big), false, "untracked");
	shim_fd_set(fd, R | L);
	ASSERT_EQ(shim_write_watched(fd, 1000), false, "LOWAT, small write");
	ASSERT_EQ(shim_write_watched(fd, big - 1), false, "LOWAT, just under the wait");
	ASSERT_EQ(shim_write_watched(fd, big), true, "LOWAT, 64 KiB write");
	ASSERT_EQ(shim_writev_watched(fd, small_iov, 2, &len), false, "LOWAT, small writev");
	ASSERT_EQ(shim_writev_watched(fd, big_iov, 2, &len), true, "LOWAT, 64 KiB writev");
	ASSERT_EQ(len, big, "the writev's byte count, for shim_write_before()");
	ASSERT_EQ(shim_writev_watched(fd, big_iov, 1, &len), false,
		  "LOWAT, 32 KiB of a 64 KiB iovec");
	shim_fd_set(fd, R | L | N);
	ASSERT_EQ(shim_write_watched(fd, big), false, "LOWAT, non-blocking: never waits");
	ASSERT_EQ(shim_writev_watched(fd, big_iov, 2, &len), false, "LOWAT, non-blocking writev");
	shim_fd_set(fd, R | L | N | SHIM_FD_DRAIN);
	ASSERT_EQ(shim_write_watched(fd, 1), true, "DRAIN");
	ASSERT_EQ(shim_writev_watched(fd, small_iov, 2, &len), true, "DRAIN, writev");
	shim_fd_set(fd, R | SHIM_FD_UNPAIRED);
	ASSERT_EQ(shim_write_watched(fd, 1), true, "UNPAIRED");
	ASSERT_EQ(shim_writev_watched(fd, NULL, 0, &len), true, "UNPAIRED, writev");
	shim_promote_candidate(fd, 0);
	ASSERT_EQ(shim_write_watched(fd, 1), true, "CANDIDATE, first write");
	ASSERT_EQ(shim_writev_watched(fd, small_iov, 2, &len), true, "CANDIDATE, writev");
	/* After a write, a small one counts for nothing; a large one, or one after a read, does. */
	shim_promote_count(fd, 1);
	ASSERT_EQ(shim_write_watched(fd, 1), false, "CANDIDATE, small write after a write");
	ASSERT_EQ(shim_writev_watched(fd, small_iov, 2, &len), false, "CANDIDATE, small writev");
	ASSERT_EQ(shim_write_watched(fd, SHIM_PROMOTE_WRITE_MIN), true, "CANDIDATE, 8 KiB write");
	ASSERT_EQ(shim_writev_watched(fd, big_iov, 2, &len), true, "CANDIDATE, 64 KiB writev");
	if (shim_promote_enter(fd))
		shim_promote_leave(fd, 1);
	ASSERT_EQ(shim_write_watched(fd, 1), true, "CANDIDATE, small write after a read");
	close(fd);
	shim_fd_clear(fd);
}

/*
 * A helper from before IF_PEER_WAITS refuses the flag: the reader is registered at once
 * without it, and the process never sets it again. Last in main(): that is for good.
 */
static void test_promote_old_helper(void)
{
	const unsigned int R = SHIM_FD_REGISTERED;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s, n;

	fake_start(&h, path);
	put(&h.old, 1);
	lfd = listener(&la, 16);
	c = candidate_pair(lfd, &la, &s);
	n = get(&h.requests);
	read_kib(s, SHIM_PROMOTE_KIB);
	shim_promote_try(s);
	ASSERT_EQ(get(&h.requests), n + 2, "refused with the flag, asked again without");
	ASSERT_EQ(shim_fd_get(s) & R, R, "registered");
	read_kib(c, SHIM_PROMOTE_KIB);
	shim_promote_try(c);
	ASSERT_EQ(get(&h.requests), n + 3, "the next reader asks once, without the flag");
	ASSERT_EQ(get(&h.last_flags), 0, "no flag any more");
	ASSERT_EQ(shim_fd_get(c) & R, R, "registered");
	close(c);
	close(s);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	fake_stop(&h);
}

/*
 * What makes a candidate due: two turns (promote_now()), SHIM_PROMOTE_KIB read, or a
 * write that reaches it; small writes, however many, carry nothing towards it.
 */
static void test_promote_rules(void)
{
	const unsigned int C = SHIM_FD_CANDIDATE, R = SHIM_FD_REGISTERED;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s, i;

	fake_start(&h, path);
	ASSERT_EQ(shim_active(), true, "shim_active");
	lfd = listener(&la, 16);
	c = candidate_pair(lfd, &la, &s);
	ASSERT_EQ(shim_fd_get(c), C, "shim_fd_get: candidate");
	/* 4 MiB in writes of 64 B and 1 KiB, the bench's small-write streams. */
	for (i = 0; i < 4096; i++) {
		shim_promote_count(c, 1024);
		shim_promote_count(c, 64);
	}
	shim_promote_try(c);
	ASSERT_EQ(shim_fd_get(c) & R, 0u, "small writes: still a candidate");
	shim_promote_try_write(c, 1024);
	ASSERT_EQ(shim_fd_get(c) & R, 0u, "a small write ahead: still a candidate");
	shim_promote_try_write(c, SHIM_PROMOTE_KIB << 10);
	ASSERT_EQ(shim_fd_get(c) & R, R, "a write of SHIM_PROMOTE_KIB: promoted before it");
	ASSERT_EQ(get(&h.last_flags), 0, "a writer registers whether its peer waits or not");
	/* A reader: what it reads counts, whatever the writer's sizes. */
	read_kib(s, SHIM_PROMOTE_KIB - 64);
	shim_promote_try(s);
	ASSERT_EQ(shim_fd_get(s) & R, 0u, "reader, under SHIM_PROMOTE_KIB: still a candidate");
	read_kib(s, 64);
	shim_promote_try(s);
	ASSERT_EQ(shim_fd_get(s) & R, R, "reader, SHIM_PROMOTE_KIB read: promoted");
	ASSERT_EQ(get(&h.last_flags), (int)SKACCEL_REQ_IF_PEER_WAITS,
		  "a reader registers only if its peer waits");
	close(c);
	close(s);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	fake_stop(&h);
}

/* SKACCEL_PROMOTE_AFTER=0: registered inside connect() and accept(), before the app has the fd. */
static void test_register_eager(void)
{
	const unsigned int R = SHIM_FD_REGISTERED, N = SHIM_FD_NONBLOCK, L = SHIM_FD_LOWAT;
	struct sockaddr_in la;
	struct fake_helper h;
	int lfd, c, s;

	ASSERT_EQ(shim_env_promote_after(NULL), SHIM_PROMOTE_AFTER, "shim_env_promote_after");
	ASSERT_EQ(shim_env_promote_after("x"), SHIM_PROMOTE_AFTER, "shim_env_promote_after");
	ASSERT_EQ(shim_env_promote_after("256"), SHIM_PROMOTE_AFTER, "shim_env_promote_after");
	ASSERT_EQ(shim_env_promote_after("-1"), SHIM_PROMOTE_AFTER, "shim_env_promote_after");
	ASSERT_EQ(shim_env_promote_after("0"), 0u, "shim_env_promote_after");
	ASSERT_EQ(shim_env_promote_after("3"), 3u, "shim_env_promote_after");
	fake_start(&h, path);
	ASSERT_EQ(shim_active(), true, "shim_active");
	shim_cfg.promote_after = 0;
	lfd = listener(&la, 16);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), 0, "hooked_connect");
	/* Waiting for its peer, and still the unsent-bytes mark: the peer's accept() comes. */
	ASSERT_EQ(shim_fd_get(c), R | L, "shim_fd_get");
	ASSERT_EQ(get(&h.fds), 1, "get");
	s = hooked_accept4(lfd, SOCK_NONBLOCK);
	ASSERT_EQ(shim_fd_get(s), R | L | N, "shim_fd_get");
	ASSERT_EQ(get(&h.fds), 2, "get");
	close(s);
	close(c);
	shim_fd_clear(s);
	shim_fd_clear(c);

	/* A non-blocking connect: registered at once, established within the call here. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_EQ(hooked_connect(c, &la), -1, "hooked_connect");
	ASSERT_EQ(errno, EINPROGRESS, "errno");
	ASSERT_EQ(shim_fd_get(c), R | L | N, "shim_fd_get");
	ASSERT_EQ(get(&h.fds), 3, "get");
	close(c);
	close(lfd);
	shim_fd_clear_range(0, ~0u);
	shim_cfg.promote_after = SHIM_PROMOTE_AFTER;
	fake_stop(&h);
}

static void test_ping(void)
{
	struct fake_helper h;
	int32_t status = 0;
	long t0;

	ASSERT_EQ(skrun_ping(path, 100, &status), -ENOENT, "skrun_ping");
	fake_start(&h, path);
	ASSERT_EQ(skrun_ping(path, 100, &status), 0, "skrun_ping");
	ASSERT_EQ(status, SKACCEL_OK_PONG, "status");
	put(&h.mode, FAKE_WRONG_SEQ);
	ASSERT_EQ(skrun_ping(path, 100, &status), -EPROTO, "skrun_ping");
	put(&h.mode, FAKE_SILENT);
	t0 = now_ms();
	ASSERT_EQ(skrun_ping(path, 100, &status), -ETIMEDOUT, "skrun_ping");
	ASSERT_EQ(now_ms() - t0 < 300, true, "now_ms");
	put(&h.mode, FAKE_HANGUP);
	ASSERT_EQ(skrun_ping(path, 100, &status), -ECONNRESET, "skrun_ping");
	fake_stop(&h);
}

/*
 * Runs in a child with libskaccel.so preloaded: every call below goes through a hook. Each
 * must return what libc returns, errno included, and local connections must reach the
 * helper. Returns the number of failed checks.
 */
/*
 * rounds request/reply exchanges between c and s through the hooked calls: two promote
 * both (SHIM_PROMOTE_AFTER is 2 turns: the server at its second write, the client at its
 * second read, with the reply still queued).
 */
static void exchanges(int c, int s, int rounds)
{
	struct pollfd pfd = { .events = POLLIN };
	char b[4];

	while (rounds-- > 0) {
		ASSERT_EQ(write(c, "ping", 4), 4, "write");
		pfd.fd = s;
		poll(&pfd, 1, 1000);
		ASSERT_EQ(read(s, b, sizeof(b)), 4, "read");
		ASSERT_EQ(write(s, "pong", 4), 4, "write");
		pfd.fd = c;
		poll(&pfd, 1, 1000);
		ASSERT_EQ(read(c, b, sizeof(b)), 4, "read");
	}
}

static int hooks_child(void)
{
	struct sockaddr_in la, closed;
	int lfd, c, s, val, sv[2];
	socklen_t len = sizeof(val);
	struct pollfd pfd;
	Dl_info info;
	char buf[8];

	alarm(30); /* a hang is a failure, not a stuck CI run */
	/* The hooks are the shim's. */
	ASSERT_EQ(dladdr(dlsym(RTLD_DEFAULT, "connect"), &info) && info.dli_fname &&
		      strstr(info.dli_fname, "libskaccel.so"),
		  true, "dladdr");
	ASSERT_EQ(dladdr(dlsym(RTLD_DEFAULT, "__recv_chk"), &info) && info.dli_fname &&
		      strstr(info.dli_fname, "libskaccel.so"),
		  true, "dladdr");
	/* Nothing of the shim's own leaks out. */
	ASSERT_EQ(dlsym(RTLD_DEFAULT, "shim_active") == dlsym(RTLD_NEXT, "shim_active"), true,
		  "dlsym");

	lfd = listener(&la, 16);
	/* errno is the real call's, on failure and on success alike. */
	close(listener(&closed, 1)); /* a port nobody listens on any more */
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(c, (struct sockaddr *)&closed, sizeof(closed)), -1, "connect");
	ASSERT_EQ(errno, ECONNREFUSED, "errno");
	close(c);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	errno = 1234;
	ASSERT_EQ(connect(c, (struct sockaddr *)&la, sizeof(la)), 0, "connect");
	ASSERT_EQ(errno, 1234, "errno");
	s = accept(lfd, NULL, NULL);
	ASSERT_EQ(s >= 0, true, "s");
	ASSERT_EQ(errno, 1234, "errno");
	exchanges(c, s, 2);
	ASSERT_EQ(write(c, "abc", 3), 3, "write");
	ASSERT_EQ(read(s, buf, sizeof(buf)), 3, "read");
	ASSERT_EQ(write(s, "def", 3), 3, "write");
	ASSERT_EQ(recv(c, buf, 3, MSG_WAITALL), 3, "recv");
	/* A registered blocking socket with a receive timeout still times out with EAGAIN. */
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){ .tv_usec = 100000 },
		   sizeof(struct timeval));
	ASSERT_EQ(recv(c, buf, 1, 0), -1, "recv");
	ASSERT_EQ(errno, EAGAIN, "errno");
	/* O_NONBLOCK set through fcntl and FIONBIO: EAGAIN at once. */
	ASSERT_EQ(fcntl(c, F_SETFL, O_NONBLOCK), 0, "fcntl");
	ASSERT_EQ(fcntl(c, F_GETFL) & O_NONBLOCK, O_NONBLOCK, "fcntl");
	ASSERT_EQ(read(c, buf, 1), -1, "read");
	ASSERT_EQ(errno, EAGAIN, "errno");
	ASSERT_EQ(ioctl(c, FIONBIO, &(int){ 0 }), 0, "ioctl");
	ASSERT_EQ(ioctl(s, FIONBIO, &(int){ 1 }), 0, "ioctl");
	ASSERT_EQ(recv(s, buf, 1, 0), -1, "recv");
	ASSERT_EQ(errno, EAGAIN, "errno");
	ASSERT_EQ(ioctl(c, FIONREAD, &val), 0, "ioctl");
	/* dup2 onto a registered fd, then close both. */
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0, "socketpair");
	ASSERT_EQ(dup2(sv[0], s), s, "dup2");
	ASSERT_EQ(close(s), 0, "close");
	ASSERT_EQ(close(c), 0, "close");
	ASSERT_EQ(close(c), -1, "close");
	ASSERT_EQ(errno, EBADF, "errno");
	ASSERT_EQ(dup2(-1, 100), -1, "dup2");
	ASSERT_EQ(errno, EBADF, "errno");
	ASSERT_EQ(close_range(5, 4, 0), -1, "close_range");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_EQ(recv(-1, buf, 1, 0), -1, "recv");
	ASSERT_EQ(errno, EBADF, "errno");

	/* Non-blocking connect: EINPROGRESS, then POLLOUT and SO_ERROR 0, as on TCP. */
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(c, (struct sockaddr *)&la, sizeof(la)), -1, "connect");
	ASSERT_EQ(errno, EINPROGRESS, "errno");
	pfd = (struct pollfd){ .fd = c, .events = POLLOUT };
	ASSERT_EQ(poll(&pfd, 1, 1000), 1, "poll");
	val = -1;
	ASSERT_EQ(getsockopt(c, SOL_SOCKET, SO_ERROR, &val, &len), 0, "getsockopt");
	ASSERT_EQ(val, 0, "val");
	/* The event loop's second connect(): 0 once, then EISCONN. */
	ASSERT_EQ(connect(c, (struct sockaddr *)&la, sizeof(la)), 0, "connect");
	ASSERT_EQ(connect(c, (struct sockaddr *)&la, sizeof(la)), -1, "connect");
	ASSERT_EQ(errno, EISCONN, "errno");
	s = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_EQ(recv(s, buf, 1, 0), -1, "recv");
	ASSERT_EQ(errno, EAGAIN, "errno");
	exchanges(c, s, 2);
	/* The client is promoted at a call that finds its receive queue empty. */
	ASSERT_EQ(write(c, "x", 1), 1, "write");
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	ASSERT_EQ(poll(&pfd, 1, 1000), 1, "poll");
	ASSERT_EQ(recv(s, buf, 1, 0), 1, "recv");
	ASSERT_EQ(recv(s, buf, 1, 0), -1, "recv");
	ASSERT_EQ(errno, EAGAIN, "errno");
	close(s);
	ASSERT_EQ(fcntl(lfd, F_SETFL, O_NONBLOCK), 0, "fcntl");
	ASSERT_EQ(accept(lfd, NULL, NULL), -1, "accept");
	ASSERT_EQ(errno, EAGAIN, "errno");
	ASSERT_EQ(fcntl(lfd, F_SETFL, 0), 0, "fcntl");
	close(c);

	/*
	 * A forked child makes its own helper connection and registers too: a writer that
	 * never reads is promoted by what it writes, before a write of SHIM_PROMOTE_KIB
	 * (non-blocking: nobody reads it). Small writes alone never promote it.
	 */
	if (fork() == 0) {
		static char big[(SHIM_PROMOTE_KIB + 1) << 10];
		int k, ok;

		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ok = connect(c, (struct sockaddr *)&la, sizeof(la)) == 0;
		for (k = 0; ok && k <= (int)SHIM_PROMOTE_KIB; k++)
			ok = write(c, "a", 1) == 1;
		ok = ok && send(c, big, sizeof(big), MSG_DONTWAIT) > 0;
		_exit(ok ? 0 : 1);
	}
	ASSERT_EQ(wait(&val) > 0 && val == 0, true, "wait");
	close(accept(lfd, NULL, NULL));
	close(lfd);
	return skt_failed;
}

/* Run hooks_child() in a copy of this binary with lib preloaded; its failed checks or -1. */
static int run_hooks_child(const char *self, const char *lib, const char *sock)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		setenv("LD_PRELOAD", lib, 1);
		setenv("SKACCEL_SOCKET", sock, 1);
		unsetenv("SKACCEL_PROMOTE_AFTER"); /* the default: after two turns */
		unsetenv("SKACCEL_DEBUG");
		execl(self, self, "hooks-child", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Run hooks_child() in a preloaded copy of this binary, with the fake helper and without. */
static void test_hooks(void)
{
	char self[4096], lib[4200], *slash;
	struct fake_helper h;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ASSERT_EQ(n > 0, true, "n");
	if (n <= 0)
		return;
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	/* $(OUTPUT)/tests/test_shim_client -> $(OUTPUT)/libskaccel.so */
	snprintf(lib, sizeof(lib), "%s/../libskaccel.so", self);
	*slash = '/';
	if (access(lib, R_OK) < 0) {
		fprintf(stderr, "%s: build it first (make): the hooks are tested through it\n",
			lib);
		ASSERT_EQ(access(lib, R_OK), 0, "access");
		return;
	}
	fake_start(&h, path);
	ASSERT_EQ(run_hooks_child(self, lib, path), 0, "run_hooks_child");
	/* Both ends of the blocking and non-blocking connections, the forked client. */
	ASSERT_EQ(get(&h.fds), 5, "get");
	ASSERT_EQ(get(&h.accepts), 2, "get"); /* the child's connection and the grandchild's */
	fake_stop(&h);
	/* No helper: the shim's own calls fail inside every hook, and none of it shows. */
	ASSERT_EQ(run_hooks_child(self, lib, "/nonexistent/helperd.sock"), 0, "run_hooks_child");
}

/*
 * A socket at the helper's path served by another user: nothing is handed to it. The
 * listener is bound here and listens as nobody (SO_PEERCRED records the listen()er).
 */
static void test_untrusted_helper(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char passwd[64], msg[64];
	struct skaccel_reply rep;
	struct shim_client c;
	int fd, conn, status, sync[2];
	bool sent = true;
	pid_t child;
	uid_t uid;
	FILE *f;

	if (geteuid() != 0) {
		printf("SKIP: untrusted helper (needs root to listen as nobody)\n");
		return;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind");
	ASSERT_EQ(pipe2(sync, O_CLOEXEC), 0, "pipe2");
	child = fork();
	if (child == 0) {
		ssize_t n;

		if (setresuid(65534, 65534, 65534) < 0 || listen(fd, 4) < 0)
			_exit(2);
		close(sync[0]);
		close(sync[1]); /* listening */
		conn = accept(fd, NULL, NULL);
		if (conn < 0)
			_exit(2);
		n = recv(conn, msg, sizeof(msg), 0);
		_exit(n == 0 ? 0 : 1); /* 1: the shim sent us something */
	}
	close(sync[1]);
	ASSERT_EQ((int)read(sync[0], msg, 1), 0, "check");
	close(sync[0]);
	shim_client_init(&c, path, 250, 300);
	ASSERT_EQ(req(&c, &rep, &sent), -EPERM, "req");
	ASSERT_EQ(sent, false, "sent");
	ASSERT_EQ(c.fd, -1, "c");
	waitpid(child, &status, 0);
	ASSERT_EQ(WIFEXITED(status), true, "WIFEXITED");
	ASSERT_EQ(WEXITSTATUS(status), 0, "WEXITSTATUS"); /* it saw only our hang-up */
	close(fd);
	unlink(path);

	/* The helper's own user comes from the passwd file, without NSS. */
	snprintf(passwd, sizeof(passwd), "/tmp/skaccel-test-passwd.%d", (int)getpid());
	f = fopen(passwd, "w");
	fputs("root:x:0:0::/root:/bin/sh\nskaccelx:x:1:1::/:/bin/false\n"
	      "skaccel:x:991:991:skaccel helper:/:/usr/sbin/nologin\n",
	      f);
	fclose(f);
	ASSERT_EQ(shim_passwd_uid(passwd, "skaccel", &uid), 0, "shim_passwd_uid");
	ASSERT_EQ((int)uid, 991, "check");
	ASSERT_EQ(shim_passwd_uid(passwd, "skacce", &uid), -ENOENT, "shim_passwd_uid");
	unlink(passwd);
	ASSERT_EQ(shim_parse_uid("0", &uid), 0, "shim_parse_uid");
	ASSERT_EQ(shim_parse_uid("4294967295", &uid), -EINVAL, "shim_parse_uid");
	ASSERT_EQ(shim_parse_uid("12a", &uid), -EINVAL, "shim_parse_uid");
	ASSERT_EQ(shim_parse_uid("", &uid), -EINVAL, "shim_parse_uid");
}

int main(int argc, char **argv)
{
	int sv[2];

	if (argc > 1 && strcmp(argv[1], "hooks-child") == 0)
		return hooks_child();

	snprintf(path, sizeof(path), "/tmp/skaccel-test-client.%d.sock", (int)getpid());
	test_hooks();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 2;
	some_fd = sv[0];
	test_no_helper();
	test_good();
	test_failures();
	test_threads();
	test_register();
	test_pairwait();
	test_write_watched();
	test_iov_cut();
	test_promote_rules();
	test_promote_no_peer();
	test_register_eager();
	test_ping();
	test_untrusted_helper();
	test_promote_old_helper(); /* last: the process remembers an old helper for good */
	return skt_summary();
}
