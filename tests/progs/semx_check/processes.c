// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * One socket, several owners: fork, exec (the program re-executes itself), SCM_RIGHTS and
 * threads, all speaking the same small peer protocol.
 */
#include "tests/progs/semx_check/semx_check.h"

/* --- the peer protocol: what a forked, exec'd or fd-passed process does ----------------------- */

/*
 * A process that got its socket some other way than connect()/accept() runs this as the
 * client; peer_protocol_server() is the other end. It exercises what depends on the
 * shim knowing the socket is accelerated (readfix.c): a MSG_WAITALL read of a message
 * that trickles in (KERNEL-NOTES §6.3), then a request, shutdown(SHUT_WR) and a blocking
 * read of a reply that comes 200 ms later (§6.4), then EOF.
 */
struct proto_hdr {
	uint64_t trickle, request, reply;
};

void peer_protocol_client(int fd)
{
	struct vstream tr, req, rep;
	struct proto_hdr h;
	struct rng r;
	uint8_t *buf;
	ssize_t n;

	set_phase("peer protocol: header");
	n = recv(fd, &h, sizeof(h), MSG_WAITALL);
	CHECK(n == sizeof(h), "recv(MSG_WAITALL) of the %zu byte header returned %s", sizeof(h),
	      RES(n, errno));
	CHECK(h.trickle < 16 * MIB && h.request < 16 * MIB && h.reply < 16 * MIB, "garbled header");
	buf = malloc(h.trickle + 1);
	CHECK(buf, "out of memory");
	set_phase("peer protocol: MSG_WAITALL of a trickled message");
	n = recv(fd, buf, h.trickle, MSG_WAITALL);
	CHECK(n == (ssize_t)h.trickle,
	      "recv(MSG_WAITALL) of %" PRIu64 " bytes arriving in 3 pieces returned %s; plain "
	      "TCP waits for all of them",
	      h.trickle, RES(n, errno));
	vs_init(&tr, g_opt.key, stream_id(11), h.trickle, "trickled message");
	vs_check(&tr, buf, (size_t)n);
	free(buf);
	set_phase("peer protocol: request, SHUT_WR, late reply");
	rng_init(&r, g_seed, 12);
	vs_init(&req, g_opt.key, stream_id(12), UINT64_MAX, "request");
	send_stream(fd, &req, h.request, &r);
	CHECK_SYS(!shutdown(fd, SHUT_WR), "shutdown(SHUT_WR)");
	vs_init(&rep, g_opt.key, stream_id(13), h.reply, "late reply");
	stream_recv(fd, &rep, &r, 64 * KIB, 0, 0, true, NULL);
}

void peer_protocol_server(int fd, struct rng *r)
{
	struct proto_hdr h = { .trickle = rng_range(r, 3, 64 * KIB),
			       .request = rng_logsize(r, 1, 256 * KIB),
			       .reply = rng_logsize(r, 1, 256 * KIB) };
	struct vstream tr, req, rep;
	uint64_t piece = h.trickle / 3;
	int i;

	send_all(fd, &h, sizeof(h), "header");
	vs_init(&tr, g_opt.key, stream_id(11), UINT64_MAX, "trickled message");
	for (i = 0; i < 3; i++) {
		send_stream(fd, &tr, i < 2 ? piece : h.trickle - 2 * piece, r);
		if (i < 2)
			sleep_us(50000);
	}
	vs_init(&req, g_opt.key, stream_id(12), h.request, "request");
	recv_exact(fd, &req, "server reading the request");
	expect_eof(fd, "server after the request");
	sleep_us(200000);
	vs_init(&rep, g_opt.key, stream_id(13), UINT64_MAX, "late reply");
	send_stream(fd, &rep, h.reply, r);
	close(fd);
}

/* --- fork ---------------------------------------------------------------------------------- */

/*
 * The socket after fork(). child_uses: the parent closes its copy at once and the child
 * runs the peer protocol on it; the peer sees EOF when the child exits. Otherwise the
 * child writes, closes its copy and exits: the peer sees no EOF while the parent holds
 * the socket, and the parent goes on using it.
 */
void run_fork(struct rng *r)
{
	bool child_uses = atomic_load(&g_iter) % 2 == 0; /* both kinds in every run */
	struct vstream w, rd;
	int c, s;
	pid_t pid;

	test_pair(&c, &s);
	set_phase(child_uses ? "child uses, parent closed" : "child closes, parent uses");
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "from the child");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "from the child");
	rd.total = rng_logsize(r, 1, 64 * KIB);
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		close(s);
		if (child_uses) {
			peer_protocol_client(c);
		} else {
			struct rng cr;

			rng_init(&cr, g_seed, 77);
			send_stream(c, &w, rd.total, &cr);
		}
		close(c);
		_exit(0);
	}
	if (child_uses) {
		close(c);
		peer_protocol_server(s, r);
		wait_child(pid, "forked child running the peer protocol");
		obs("fork, parent closed its copy: the child's MSG_WAITALL, half-close and late "
		    "reply behave as on TCP; EOF at the child's exit");
		return;
	}
	recv_exact(s, &rd, "what the child wrote");
	wait_child(pid, "forked child");
	expect_quiet(s, 200, "after the child closed its copy");
	w.off = rd.off;
	send_stream(c, &w, rng_logsize(r, 1, 64 * KIB), r);
	rd.total = w.off;
	recv_exact(s, &rd, "from the parent after the child left");
	close(c);
	expect_eof(s, "after the parent's close");
	close(s);
	obs("fork, child closed its copy: no EOF until the parent's close; data flows");
}

/* --- exec ------------------------------------------------------------------------------------ */

char g_self[PATH_MAX];

/* The descriptor the exec'd program finds the socket on. */
#define EXEC_FD 9

#define EXEC_FD_STR "9"

/*
 * The socket inherited across execve(). cat: /bin/sh -c 'exec cat <&9 >&9' echoes a
 * stream back (read()/write() in a program that never saw connect()). self: this program
 * runs the peer protocol in a fresh image (semx_check --exec-child FD SEED ITER).
 */
static void exec_scenario(struct rng *r, bool cat)
{
	struct later l = { .shut_wr = true };
	struct vstream rd;
	pthread_t th;
	int c, s;
	pid_t pid;

	test_pair(&c, &s);
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		char fdarg[16], seed[32], iter[16];

		/*
		 * dup2() to another number clears FD_CLOEXEC: EXEC_FD survives the exec, the
		 * rest does not.
		 */
		if (s == EXEC_FD ? fcntl(s, F_SETFD, 0) < 0 : dup2(s, EXEC_FD) != EXEC_FD)
			_exit(20);
		if (cat) {
			execl("/bin/sh", "sh", "-c",
			      "exec cat <&" EXEC_FD_STR " >&" EXEC_FD_STR " " EXEC_FD_STR ">&-",
			      (char *)NULL);
			_exit(21);
		}
		snprintf(fdarg, sizeof(fdarg), "%d", EXEC_FD);
		snprintf(seed, sizeof(seed), "%" PRIu64, g_seed);
		snprintf(iter, sizeof(iter), "%d", atomic_load(&g_iter));
		execl(g_self, g_self, "--exec-child", fdarg, seed, iter, (char *)NULL);
		_exit(22);
	}
	close(s);
	if (!cat) {
		peer_protocol_server(c, r);
		wait_child(pid, "exec'd child running the peer protocol");
		obs("exec'd program: MSG_WAITALL, half-close and late reply behave as on TCP");
		return;
	}
	set_phase("echo through cat");
	l.fd = c;
	l.len = rng_logsize(r, 1, 1 * MIB);
	vs_init(&l.vs, g_opt.key, stream_id(1), UINT64_MAX, "echoed by cat");
	vs_init(&rd, g_opt.key, stream_id(1), l.len, "echoed by cat");
	later_start(&th, &l, r);
	recv_exact(c, &rd, "reading cat's echo");
	expect_eof(c, "after cat exits");
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	wait_child(pid, "sh -c 'cat <&9 >&9'");
	close(c);
	obs("cat with the socket as stdin and stdout echoed %" PRIu64 " bytes, then EOF", l.len);
}

void run_exec_cat(struct rng *r)
{
	exec_scenario(r, true);
}

void run_exec_child(struct rng *r)
{
	exec_scenario(r, false);
}

/* The entry point of an exec'd child: semx_check --exec-child FD SEED ITER. */
int exec_child_main(int argc, char **argv)
{
	int fd;

	if (argc != 5)
		return 2;
	g_prog = "semx_check(exec'd)";
	snprintf(g_scenario, sizeof(g_scenario), "exec_child");
	fd = atoi(argv[2]);
	g_seed = strtoull(argv[3], NULL, 0);
	atomic_store(&g_iter, atoi(argv[4]));
	g_opt.key = mix64(g_seed + 1);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog_arm(30);
	peer_protocol_client(fd);
	close(fd);
	return 0;
}

/* --- SCM_RIGHTS ------------------------------------------------------------------------------ */

static int recv_fd(int us)
{
	char control[CMSG_SPACE(sizeof(int))];
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	int fd;

	CHECK(recvmsg(us, &m, MSG_CMSG_CLOEXEC) == 1, "recvmsg(SCM_RIGHTS): %s", strerror(errno));
	cm = CMSG_FIRSTHDR(&m);
	CHECK(cm && cm->cmsg_type == SCM_RIGHTS, "no SCM_RIGHTS in the message");
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static void send_fd(int us, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "F", 1 };
	struct msghdr m = { .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control,
			    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	CHECK_SYS(sendmsg(us, &m, MSG_NOSIGNAL) == 1, "sendmsg(SCM_RIGHTS)");
}

/*
 * An accelerated socket passed over a Unix socketpair to a worker process that was
 * forked before the connection existed (so it knows nothing of it) and uses it: the
 * peer protocol, then EOF when the worker closes it. The sender closes its copy first.
 */
void run_scm_rights(struct rng *r)
{
	int sp[2], c, s, fd;
	bool pass_client = rng_chance(r, 50);
	pid_t pid;

	CHECK_SYS(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), "socketpair");
	pid = fork();
	CHECK_SYS(pid >= 0, "fork");
	if (pid == 0) {
		close(sp[0]);
		fd = recv_fd(sp[1]);
		peer_protocol_client(fd);
		close(fd);
		_exit(0);
	}
	close(sp[1]);
	test_pair(&c, &s);
	set_phase("pass the socket");
	send_fd(sp[0], pass_client ? c : s);
	close(pass_client ? c : s);
	close(sp[0]);
	peer_protocol_server(pass_client ? s : c, r);
	wait_child(pid, "worker that received the socket by SCM_RIGHTS");
	obs("socket passed by SCM_RIGHTS: the worker's MSG_WAITALL, half-close and late reply "
	    "behave as on TCP; EOF at its close");
}

/* --- threads ---------------------------------------------------------------------------------- */

struct duplex_writer {
	int fd;
	struct vstream vs;
	uint64_t len;
	struct rng r;
};

static void *duplex_writer_run(void *arg)
{
	struct duplex_writer *dw = arg;

	stream_send(dw->fd, &dw->vs, dw->len, &dw->r, 64 * KIB, 5, 2000, NULL);
	CHECK_SYS(!shutdown(dw->fd, SHUT_WR), "shutdown(SHUT_WR)");
	return NULL;
}

/*
 * Two threads on each socket of a pair, one reading and one writing at the same time,
 * both directions at once; each writer half-closes when done while the reader thread of
 * the same socket still waits for the other direction (KERNEL-NOTES §6.4 in a thread).
 */
void run_threads(struct rng *r)
{
	struct duplex_writer dw[2];
	struct reader rr[2];
	pthread_t wt[2], rt[2];
	int fds[2], i;

	test_pair(&fds[0], &fds[1]);
	for (i = 0; i < 2; i++) {
		uint64_t len = rng_logsize(r, 1, 4 * MIB);

		dw[i] = (struct duplex_writer){ .fd = fds[i], .len = len };
		vs_init(&dw[i].vs, g_opt.key, stream_id(1 + (uint64_t)i), UINT64_MAX,
			i ? "server->client" : "client->server");
		rng_init(&dw[i].r, g_seed, rng_next(r));
		rr[!i] = (struct reader){ .fd = fds[!i] };
		vs_init(&rr[!i].vs, g_opt.key, stream_id(1 + (uint64_t)i), UINT64_MAX,
			i ? "server->client" : "client->server");
		atomic_store(&rr[!i].expect, len);
		rng_init(&rr[!i].r, g_seed, rng_next(r));
	}
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_create(&rt[i], NULL, reader_run, &rr[i]), "pthread_create failed");
		CHECK(!pthread_create(&wt[i], NULL, duplex_writer_run, &dw[i]),
		      "pthread_create failed");
	}
	for (i = 0; i < 2; i++) {
		CHECK(!pthread_join(wt[i], NULL), "pthread_join failed");
		CHECK(!pthread_join(rt[i], NULL), "pthread_join failed");
	}
	obs("a reader and a writer thread on each socket: %" PRIu64 " and %" PRIu64
	    " bytes in order, EOF each way",
	    dw[0].len, dw[1].len);
	close(fds[0]);
	close(fds[1]);
}
