// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * pair_probe PIN_DIR: the pairing check (bpf/skaccel_pair.bpf.c) against a running
 * helper's pinned maps and program, on loopback pairs this program inserts itself as the
 * helper would (skaccel_conns, then skaccel_socks). One line per case, "ok NAME" or
 * "FAIL NAME: what came"; exit 0 only if every case passed (tests/e2e/core/pair_check.sh).
 *
 *   live_pair_under_stream  a true pair streaming both ways: every one of 50 000 checks,
 *                           both orders, says OK (sequence numbers read mid-flight)
 *   self_only               a live socket alone (peer 0): OK
 *   other_connection        one end each of two live connections: not their mirror
 *   ghost_peer              the peer left its connection (connect(AF_UNSPEC)): refused as
 *                           the peer's, not established (its old peer got the reset, so
 *                           the registering end is a live socket of another connection)
 *   moved                   that ghost reconnected elsewhere: alone, it is no longer the
 *                           connection it registered
 *   closed_peer             the peer closed: gone
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/skaccel_maps.h"
#include "common/skaccel_pair.h"

#define STREAM_CHECKS 50000

static int socks_fd, conns_fd, prog_fd, failures;

static __u64 sock_u64(int fd, int opt)
{
	__u64 v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, opt, &v, &len);
	return v;
}

/* Insert fd as the helper does: its state (tuple from the kernel), then the sockhash. */
static int insert(int fd)
{
	struct sockaddr_in l, r;
	socklen_t len = sizeof(l);
	struct skaccel_conn conn = { 0 };
	__u64 cookie = sock_u64(fd, SO_COOKIE), value = (__u64)fd;

	getsockname(fd, (struct sockaddr *)&l, &len);
	len = sizeof(r);
	getpeername(fd, (struct sockaddr *)&r, &len);
	conn.tuple.netns_cookie = sock_u64(fd, SO_NETNS_COOKIE);
	conn.tuple.local_addr[10] = conn.tuple.local_addr[11] = 0xff;
	memcpy(conn.tuple.local_addr + 12, &l.sin_addr, 4);
	conn.tuple.remote_addr[10] = conn.tuple.remote_addr[11] = 0xff;
	memcpy(conn.tuple.remote_addr + 12, &r.sin_addr, 4);
	conn.tuple.local_port = ntohs(l.sin_port);
	conn.tuple.remote_port = ntohs(r.sin_port);
	if (bpf_map_update_elem(conns_fd, &cookie, &conn, BPF_NOEXIST) ||
	    bpf_map_update_elem(socks_fd, &cookie, &value, BPF_NOEXIST)) {
		fprintf(stderr, "pair_probe: insert fd %d: %s\n", fd, strerror(errno));
		return -1;
	}
	return 0;
}

static int check_cookies(__u64 cookie, __u64 peer_cookie)
{
	struct skaccel_pair_req req = { .cookie = cookie, .peer_cookie = peer_cookie };
	unsigned char frame[SKACCEL_PAIR_REQ_OFF + sizeof(req)] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);

	memcpy(frame + SKACCEL_PAIR_REQ_OFF, &req, sizeof(req));
	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

/* a with its would-be peer b (b < 0: a alone). */
static int check(int a, int b)
{
	return check_cookies(sock_u64(a, SO_COOKIE), b < 0 ? 0 : sock_u64(b, SO_COOKIE));
}

static void expect(const char *name, int want, int got)
{
	if (want == got) {
		printf("ok %s\n", name);
		return;
	}
	printf("FAIL %s: verdict %#x, expected %#x\n", name, got, want);
	failures++;
}

/* A connected loopback pair, both inserted; *port: the listener's, for reconnecting. */
static int pair(int *c, int *s, struct sockaddr_in *at)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || *c < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&sin, &len) ||
	    connect(*c, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	*s = accept(l, NULL, NULL);
	if (at)
		*at = sin;
	else
		close(l);
	return *s < 0 || insert(*c) || insert(*s) ? -1 : 0;
}

struct streamer {
	int fd;
	volatile int *stop;
};

static void *pump(void *arg)
{
	static char buf[2][65536];
	struct streamer *st = arg;
	char *b = buf[st->fd & 1];

	while (!*st->stop) {
		if (send(st->fd, b, 65536, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
		if (recv(st->fd, b, 65536, MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

static void live_pair_under_stream(void)
{
	volatile int stop = 0;
	struct streamer sc, ss;
	pthread_t tc, ts;
	int c, s, i, v, bad = 0, first = 0;

	if (pair(&c, &s, NULL)) {
		printf("FAIL live_pair_under_stream: set-up\n");
		failures++;
		return;
	}
	sc = (struct streamer){ c, &stop };
	ss = (struct streamer){ s, &stop };
	pthread_create(&tc, NULL, pump, &sc);
	pthread_create(&ts, NULL, pump, &ss);
	for (i = 0; i < STREAM_CHECKS; i++) {
		v = i & 1 ? check(c, s) : check(s, c);
		if (v != SKACCEL_PAIR_OK && !bad++)
			first = v;
	}
	stop = 1;
	pthread_join(tc, NULL);
	pthread_join(ts, NULL);
	if (bad) {
		printf("FAIL live_pair_under_stream: %d of %d checks refused a true pair (first "
		       "verdict %#x)\n",
		       bad, STREAM_CHECKS, first);
		failures++;
	} else {
		printf("ok live_pair_under_stream\n");
	}
	expect("self_only", SKACCEL_PAIR_OK, check(c, -1));
	close(c);
	close(s);
}

/* Checks about the peer use a live socket of a third connection as the registering end. */
static void ghosts(void)
{
	struct sockaddr_in at, unspec = { .sin_family = AF_UNSPEC };
	int c1, s1, c2, s2, c3, s3, r;
	__u64 gone;

	if (pair(&c1, &s1, NULL) || pair(&c2, &s2, &at) || pair(&c3, &s3, NULL)) {
		printf("FAIL other_connection: set-up\n");
		failures++;
		return;
	}
	expect("other_connection", SKACCEL_PAIR_NOT_MIRROR, check(s1, c2));
	/* The pair's listener is still open: after the disconnect, c2 can connect again. */
	connect(c2, (struct sockaddr *)&unspec, sizeof(unspec));
	expect("ghost_peer", SKACCEL_PAIR_NOT_ESTABLISHED | SKACCEL_PAIR_PEER, check(s3, c2));
	r = connect(c2, (struct sockaddr *)&at, sizeof(at));
	expect("moved", r == 0 ? SKACCEL_PAIR_MOVED : -1, check(c2, -1));
	gone = sock_u64(c1, SO_COOKIE);
	close(c1);
	expect("closed_peer", SKACCEL_PAIR_GONE | SKACCEL_PAIR_PEER,
	       check_cookies(sock_u64(s3, SO_COOKIE), gone));
	close(s1);
	close(c2);
	close(s2);
	close(c3);
	close(s3);
}

int main(int argc, char **argv)
{
	char path[512];

	if (argc != 2) {
		fprintf(stderr, "usage: pair_probe PIN_DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/skaccel_socks", argv[1]);
	socks_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/skaccel_conns", argv[1]);
	conns_fd = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/prog_pair", argv[1]);
	prog_fd = bpf_obj_get(path);
	if (socks_fd < 0 || conns_fd < 0 || prog_fd < 0) {
		fprintf(stderr, "pair_probe: cannot open the pins in %s: %s\n", argv[1],
			strerror(errno));
		return 2;
	}
	live_pair_under_stream();
	ghosts();
	return failures ? 1 : 0;
}
