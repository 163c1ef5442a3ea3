// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the request path (request.c) over a socketpair: the test is the client,
 * helperd_request_serve() the helper. Every case is refused, or answered, before the maps
 * are touched, so no privilege and no BPF are needed: what is checked is the reply (status,
 * op, seq), the counter, that every fd sent is closed, and that each refusal is logged once.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "common/skaccel_proto.h"
#include "helperd/daemon.h"
#include "helperd/request.h"
#include "tests/unit/skt_assert.h"

struct fixture {
	struct helperd_daemon d;
	struct helperd_registry registry;
	struct helperd_localaddrs la;
	struct helperd_client c;
	int peer; /* the client's end */
};

static void setup(struct fixture *f)
{
	int sp[2];

	memset(f, 0, sizeof(*f));
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0, "socketpair");
	ASSERT_EQ(helperd_registry_init(&f->registry, 64), 0, "helperd_registry_init");
	helperd_policy_init(&f->d.policy);
	helperd_ratelimit_init(&f->d.global_rl, 1000000000ull, 50);
	f->d.reg.registry = &f->registry;
	f->d.reg.localaddrs = &f->la;
	f->d.reg.policy = &f->d.policy;
	f->d.reg.enabled = true;
	f->d.reg.max_per_user = 100;
	f->d.reg.pair_prog = -1;
	f->d.regcnt.fd = -1;
	f->c.fd = sp[0];
	f->c.uid = getuid();
	f->c.gid = getgid();
	f->c.pid = getpid();
	snprintf(f->c.name, sizeof(f->c.name), "pid %d (uid %u)", (int)f->c.pid,
		 (unsigned int)f->c.uid);
	f->peer = sp[1];
}

static void teardown(struct fixture *f)
{
	close(f->c.fd);
	close(f->peer);
	free(f->c.groups);
	free(f->c.exe);
	helperd_policy_free(&f->d.policy);
	helperd_registry_free(&f->registry);
}

/* Send n fds (n may be 0) with a message of len bytes. */
static void send_fds(int sock, const void *buf, size_t len, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)] = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (n) {
		msg.msg_control = ctl;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	ASSERT_EQ(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len, "sendmsg");
}

static int32_t get_reply(struct fixture *f, const struct skaccel_req *req)
{
	struct skaccel_reply rep = {};
	ssize_t n = recv(f->peer, &rep, sizeof(rep), MSG_DONTWAIT);

	ASSERT_EQ(n, sizeof(rep), "n");
	ASSERT_EQ(rep.magic, SKACCEL_MAGIC, "rep.magic");
	ASSERT_EQ(rep.op, req ? req->op : 0, "rep.op");
	ASSERT_EQ(rep.seq, req ? req->seq : 0, "rep.seq");
	ASSERT_EQ(rep.cookie, 0, "rep.cookie");
	return n == sizeof(rep) ? rep.status : 1000;
}

static __u64 counted(struct fixture *f, int32_t status)
{
	return f->d.regcnt.count[status + SKACCEL_REGCNT_BIAS];
}

/* A pipe whose read end is sent: is it closed by the helper once ours is? */
static bool pipe_reader_gone(int w)
{
	return write(w, "x", 1) < 0 && errno == EPIPE;
}

static void test_ping(void)
{
	struct fixture f;
	struct skaccel_req req;

	setup(&f);
	skaccel_req_init(&req, SKACCEL_OP_PING, 7);
	send_fds(f.peer, &req, sizeof(req), NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_OK_PONG, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_OK_PONG), 0, "counted"); /* a ping is no registration */
	ASSERT_FALSE(helperd_regcnt_dirty(&f.d.regcnt), "helperd_regcnt_dirty");
	/* Nothing more to read, then the client leaves. */
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), -EAGAIN, "helperd_request_serve");
	shutdown(f.peer, SHUT_WR);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), -ECONNRESET, "helperd_request_serve");
	teardown(&f);
}

static void test_malformed(void)
{
	struct fixture f;
	struct skaccel_req req;
	int p[2];

	setup(&f);
	/* Bad magic: nothing to echo. */
	skaccel_req_init(&req, SKACCEL_OP_PING, 8);
	req.magic ^= 1;
	send_fds(f.peer, &req, sizeof(req), NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, NULL), SKACCEL_ERR_BAD_REQUEST, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_ERR_BAD_REQUEST), 1, "counted");
	ASSERT_EQ(f.c.unlogged, 0, "f.c.unlogged");
	/* The same again: answered and counted, not logged again. */
	send_fds(f.peer, &req, sizeof(req), NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, NULL), SKACCEL_ERR_BAD_REQUEST, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_ERR_BAD_REQUEST), 2, "counted");
	ASSERT_EQ(f.c.unlogged, 1, "f.c.unlogged");

	/* Short: a bad request, even with our magic. */
	skaccel_req_init(&req, SKACCEL_OP_PING, 9);
	send_fds(f.peer, &req, sizeof(req) - 1, NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, NULL), SKACCEL_ERR_BAD_REQUEST, "get_reply");

	/* Another version: op and seq echoed. */
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 10);
	req.version = SKACCEL_PROTO_VERSION + 1;
	send_fds(f.peer, &req, sizeof(req), NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_VERSION, "get_reply");

	/* REGISTER without its fd. */
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 11);
	send_fds(f.peer, &req, sizeof(req), NULL, 0);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_NO_FD, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_ERR_NO_FD), 1, "counted");

	/* PING with an fd: refused, and the fd closed. */
	ASSERT_EQ(pipe(p), 0, "pipe");
	skaccel_req_init(&req, SKACCEL_OP_PING, 12);
	send_fds(f.peer, &req, sizeof(req), &p[0], 1);
	close(p[0]);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_TOO_MANY_FDS, "get_reply");
	ASSERT_TRUE(pipe_reader_gone(p[1]), "pipe_reader_gone");
	close(p[1]);
	teardown(&f);
}

static void test_register_refused(void)
{
	struct fixture f;
	struct skaccel_req req;
	int p[2], u[2];

	setup(&f);
	/* A pipe: registration refuses it, and its fd is closed. */
	ASSERT_EQ(pipe(p), 0, "pipe");
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 20);
	send_fds(f.peer, &req, sizeof(req), &p[0], 1);
	close(p[0]);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_NOT_SOCKET, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_ERR_NOT_SOCKET), 1, "counted");
	ASSERT_TRUE(pipe_reader_gone(p[1]), "pipe_reader_gone");
	close(p[1]);

	/* A Unix socket: not TCP. */
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, u), 0, "socketpair");
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 21);
	send_fds(f.peer, &req, sizeof(req), &u[0], 1);
	close(u[0]);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_NOT_TCP, "get_reply");
	ASSERT_EQ(recv(u[1], &req, 1, MSG_DONTWAIT), 0,
		  "recv"); /* EOF: the helper's copy is closed */
	close(u[1]);

	/* Disabled: refused before anything is looked at. */
	f.d.reg.enabled = false;
	ASSERT_EQ(pipe(p), 0, "pipe");
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 22);
	send_fds(f.peer, &req, sizeof(req), &p[0], 1);
	close(p[0]);
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), 0, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_DISABLED, "get_reply");
	ASSERT_TRUE(pipe_reader_gone(p[1]), "pipe_reader_gone");
	close(p[1]);
	teardown(&f);
}

static void test_truncated(void)
{
	int fds[SKACCEL_FD_PASS_MAX + 1], p[2], i;
	struct fixture f;
	struct skaccel_req req;

	setup(&f);
	ASSERT_EQ(pipe(p), 0, "pipe");
	for (i = 0; i <= SKACCEL_FD_PASS_MAX; i++)
		fds[i] = p[0];
	skaccel_req_init(&req, SKACCEL_OP_REGISTER, 30);
	send_fds(f.peer, &req, sizeof(req), fds, SKACCEL_FD_PASS_MAX + 1);
	close(p[0]);
	/* Answered, then to be cut off. */
	ASSERT_EQ(helperd_request_serve(&f.d, &f.c), -EMSGSIZE, "helperd_request_serve");
	ASSERT_EQ(get_reply(&f, &req), SKACCEL_ERR_TRUNCATED, "get_reply");
	ASSERT_EQ(counted(&f, SKACCEL_ERR_TRUNCATED), 1, "counted");
	ASSERT_TRUE(pipe_reader_gone(p[1]), "pipe_reader_gone");
	close(p[1]);
	teardown(&f);
}

/* A client that does not read its replies: the caller is told to drop it. */
static void test_not_reading(void)
{
	struct fixture f;
	struct skaccel_req req;
	int i, r = 0;

	setup(&f);
	skaccel_req_init(&req, SKACCEL_OP_PING, 40);
	for (i = 0; i < 10000 && r == 0; i++) {
		send_fds(f.peer, &req, sizeof(req), NULL, 0);
		r = helperd_request_serve(&f.d, &f.c);
	}
	ASSERT_EQ(r, -ENOBUFS, "r");
	teardown(&f);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_ping();
	test_malformed();
	test_register_refused();
	test_truncated();
	test_not_reading();
	return skt_summary();
}
