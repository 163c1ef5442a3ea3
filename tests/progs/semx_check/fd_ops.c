// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Descriptor operations: dup, dup2, dup3, F_DUPFD_CLOEXEC and close_range. */
#include "tests/progs/semx_check/semx_check.h"

struct proto_server {
	int fd;
	struct rng r;
};

static void *dup_server_run(void *arg)
{
	struct proto_server *ps = arg;

	peer_protocol_server(ps->fd, &ps->r);
	return NULL;
}

/*
 * The connection stays open while any descriptor refers to it: the original is closed
 * (by close() or close_range()) after a dup(), dup2(), dup3(O_CLOEXEC) or
 * F_DUPFD_CLOEXEC copy, and the copy carries data both ways and the shim's read fixups
 * (it runs the peer protocol); EOF comes with the last close only.
 */
void run_dup(struct rng *r)
{
	int how = (int)rng_range(r, 0, 3), c, s, d, target = 200 + (int)rng_range(r, 0, 50);
	static const char *const hows[] = { "dup", "dup2", "dup3(O_CLOEXEC)", "F_DUPFD_CLOEXEC" };
	bool via_range = rng_chance(r, 50);
	struct proto_server srv;
	pthread_t th;

	test_pair(&c, &s);
	set_phase(hows[how]);
	switch (how) {
	case 0:
		d = dup(c);
		break;
	case 1:
		d = dup2(c, target);
		break;
	case 2:
		d = dup3(c, target, O_CLOEXEC);
		break;
	default:
		d = fcntl(c, F_DUPFD_CLOEXEC, target);
		break;
	}
	CHECK_SYS(d >= 0, hows[how]);
	CHECK(((fcntl(d, F_GETFD) & FD_CLOEXEC) != 0) == (how >= 2),
	      "%s: FD_CLOEXEC is %s on the copy", hows[how],
	      fcntl(d, F_GETFD) & FD_CLOEXEC ? "set" : "clear");
	if (via_range)
		CHECK_SYS(!close_range((unsigned int)c, (unsigned int)c, 0), "close_range");
	else
		close(c);
	expect_quiet(s, 100, "after closing the original");
	/* The copy runs the client side of the peer protocol against a server thread. */
	srv.fd = s;
	rng_init(&srv.r, g_seed, rng_next(r));
	CHECK(!pthread_create(&th, NULL, dup_server_run, &srv), "pthread_create failed");
	peer_protocol_client(d);
	close(d);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	obs("%s copy, original closed by %s: no EOF, the copy works (peer protocol), EOF at "
	    "its close",
	    hows[how], via_range ? "close_range" : "close");
}

/*
 * close_range() over a range holding an accelerated socket, with a copy outside the
 * range: no EOF. CLOSE_RANGE_CLOEXEC over the copy: still open here and working; an
 * exec'd child drops its copy (no EOF); close_range() to ~0U finally closes it: EOF.
 */
void run_close_range(struct rng *r)
{
	struct vstream w, rd, b, brd;
	unsigned int lo = 300 + (unsigned int)rng_range(r, 0, 50), hi = lo + 10;
	int c, s, c2, d, i, devnull;
	pid_t pid;

	test_pair(&c, &s);
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "client->server");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "client->server");
	vs_init(&b, g_opt.key, stream_id(2), UINT64_MAX, "server->client");
	vs_init(&brd, g_opt.key, stream_id(2), 0, "server->client");
	c2 = fcntl(c, F_DUPFD, lo + 3);
	CHECK_SYS(c2 >= 0, "F_DUPFD");
	close(c);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_SYS(devnull >= 0, "open /dev/null");
	for (i = 0; i < 3; i++)
		CHECK_SYS(fcntl(devnull, F_DUPFD, lo + (unsigned int)i) >= 0, "F_DUPFD");
	d = fcntl(c2, F_DUPFD, hi + 100);
	CHECK_SYS(d >= 0, "F_DUPFD");
	send_stream(c2, &w, rng_logsize(r, 1, 64 * KIB), r);
	set_phase("close_range over the original");
	CHECK_SYS(!close_range(lo, hi, 0), "close_range");
	CHECK(fcntl(c2, F_GETFD) < 0 && errno == EBADF, "close_range left fd %d open", c2);
	rd.total = w.off;
	recv_exact(s, &rd, "sent before close_range");
	expect_quiet(s, 100, "after close_range over one of two descriptors");
	send_stream(d, &w, rng_logsize(r, 1, 64 * KIB), r);
	send_stream(s, &b, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "through the copy");
	brd.total = b.off;
	recv_exact(d, &brd, "to the copy");

	set_phase("CLOSE_RANGE_CLOEXEC");
	CHECK_SYS(!close_range((unsigned int)d, (unsigned int)d + 10, CLOSE_RANGE_CLOEXEC),
		  "close_range(CLOSE_RANGE_CLOEXEC)");
	CHECK(fcntl(d, F_GETFD) & FD_CLOEXEC, "CLOSE_RANGE_CLOEXEC did not set FD_CLOEXEC");
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(21);
	}
	wait_child(pid, "exec'd /bin/true");
	expect_quiet(s, 100, "after an exec'd child dropped its close-on-exec copy");
	send_stream(d, &w, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "after CLOSE_RANGE_CLOEXEC");
	set_phase("close_range to ~0U");
	CHECK_SYS(!close_range((unsigned int)d, ~0U, 0), "close_range(d, ~0U)");
	expect_eof(s, "after the last descriptor was closed by close_range");
	close(s);
	close(devnull);
	obs("close_range over one copy: no EOF; CLOSE_RANGE_CLOEXEC: open and working, exec "
	    "drops the child's copy; close_range over the last: EOF");
}
