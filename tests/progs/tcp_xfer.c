// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A verified bulk transfer between two processes, for the end-to-end tests: a server
 * and a client that can run in different processes, users or network namespaces, each
 * opted in to skaccel or not.
 *
 *   tcp_xfer server ADDR PORT [--conns N] [--ready FILE] [--concurrent]
 *   tcp_xfer client ADDR PORT [--bytes N | --duration S] [--reply N] [--pause-us U]
 *                             [--src-port P] [--wsize N (fixed write size)] [--fast]
 *
 * The client sends a header (stream id, lengths), the stream, then half-closes; the
 * server verifies every byte and the EOF, answers with a verified reply stream and
 * closes. Both print one "ok" line with the byte counts, or a FAIL line and exit 1.
 *
 * --fast checks the upstream with memcmp against a precomputed pattern instead of the
 * keyed per-byte one, so that the reader keeps up with a writer on the redirect path (the
 * acceleration proof measures the redirect, not a reader slower than its writer, which
 * backpressure rightly sends by TCP). The period, 1 MiB + 13, is odd and larger than any
 * read or write, so a lost, duplicated or reordered byte still shows at its offset. In
 * --fast mode the server also says "go" (one byte) once it has accepted, and the client
 * streams only then: bytes sent before the server's end exists can only go by TCP.
 */
#include "tests/progs/xfer_common.h"

#define XFER_MAGIC 0x54435058464552ull /* "TCPXFER" */
#define UNTIL_EOF UINT64_MAX

#define XFER_FAST 1ull
#define FAST_PERIOD (MIB + 13)
#define FAST_CHUNK (256 * KIB) /* the largest read or write in --fast mode */

struct xfer_hdr {
	uint64_t magic;
	uint64_t id;
	uint64_t up; /* UNTIL_EOF: as long as the client likes */
	uint64_t down;
	uint64_t flags; /* XFER_FAST */
};

/* The --fast pattern: one period of the keyed stream, plus a chunk to read across the end. */
static uint8_t *fast_pattern(uint64_t base)
{
	uint8_t *p = malloc(FAST_PERIOD + FAST_CHUNK);

	CHECK(p, "out of memory");
	pat_fill(base, 0, p, FAST_PERIOD);
	memcpy(p + FAST_PERIOD, p, FAST_CHUNK);
	return p;
}

static void fast_check(const uint8_t *pat, uint64_t off, const uint8_t *buf, size_t n, uint64_t id)
{
	const uint8_t *want = pat + off % FAST_PERIOD;
	size_t i;

	if (!memcmp(buf, want, n))
		return;
	for (i = 0; buf[i] == want[i]; i++)
		;
	fail("client->server (stream %" PRIu64 ", --fast): byte at offset %" PRIu64
	     " is %#04x, expected %#04x: bytes LOST, DUPLICATED or REORDERED before it",
	     id, off + i, buf[i], want[i]);
}

static void recv_exact(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv_blocking(fd, p, len, 0, "reading the header");

		CHECK(n > 0, "EOF inside the header");
		p += n;
		len -= (size_t)n;
	}
}

struct conn_arg {
	int fd;
	int n;
};

static void *serve(void *arg)
{
	struct conn_arg *ca = arg;
	struct xfer_hdr h;
	struct vstream up, down;
	struct rng r;
	uint8_t *buf = malloc(256 * KIB);
	double t0 = now_s();

	CHECK(buf, "out of memory");
	recv_exact(ca->fd, &h, sizeof(h));
	CHECK(h.magic == XFER_MAGIC, "bad header magic %#" PRIx64, h.magic);
	rng_init(&r, g_seed, h.id);
	vs_init(&up, g_opt.key, h.id, h.up, "client->server");
	vs_init(&down, g_opt.key, h.id ^ (1ull << 62), h.down, "server->client");
	uint8_t *pat = h.flags & XFER_FAST ? fast_pattern(up.base) : NULL;

	if (pat)
		send_all(ca->fd, "G", 1, "sending go");

	for (;;) {
		size_t want = 256 * KIB;
		ssize_t n;

		if (h.up != UNTIL_EOF && want > h.up - up.off + 1)
			want = (size_t)(h.up - up.off + 1); /* one more: the EOF, or excess */
		n = recv_blocking(ca->fd, buf, want, 0, "server");
		if (n == 0)
			break;
		if (!pat) {
			vs_check(&up, buf, (size_t)n);
			continue;
		}
		CHECK(h.up == UNTIL_EOF || (uint64_t)n <= h.up - up.off,
		      "client->server (stream %" PRIu64 "): excess bytes after %" PRIu64, h.id,
		      h.up);
		fast_check(pat, up.off, buf, (size_t)n, h.id);
		up.off += (uint64_t)n;
	}
	free(pat);
	CHECK(h.up == UNTIL_EOF || up.off == h.up,
	      "client->server (stream %" PRIu64 "): EOF at offset %" PRIu64 " of %" PRIu64
	      ": bytes LOST",
	      h.id, up.off, h.up);
	stream_send(ca->fd, &down, h.down, &r, 256 * KIB, 0, 0, NULL);
	close(ca->fd);
	printf("%s: server ok: conn %d stream %" PRIu64 ": received %" PRIu64 " sent %" PRIu64
	       " in %.2fs\n",
	       g_prog, ca->n, h.id, up.off, down.off, now_s() - t0);
	free(buf);
	free(ca);
	return NULL;
}

static int run_server(struct endpoint *ep, int conns, const char *ready, bool concurrent)
{
	int lfd = listen_on(ep, 128, 0), n;

	if (ready) {
		char tmp[4096], addr[80];
		FILE *f;

		/* Written whole, then renamed: a watcher never sees a half-written file. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
		f = fopen(tmp, "w");
		CHECK(f, "cannot write %s: %s", tmp, strerror(errno));
		fprintf(f, "%u %s\n", ep_port(ep), ep_str(ep, addr, sizeof(addr)));
		fclose(f);
		CHECK_SYS(!rename(tmp, ready), "rename(ready file)");
	}
	for (n = 0; !conns || n < conns; n++) {
		struct conn_arg *ca = malloc(sizeof(*ca));
		pthread_t th;

		CHECK(ca, "out of memory");
		ca->fd = accept_one(lfd, 0);
		ca->n = n;
		if (!concurrent) {
			serve(ca);
			continue;
		}
		CHECK(!pthread_create(&th, NULL, serve, ca), "pthread_create failed");
		CHECK(!pthread_detach(th), "pthread_detach failed");
	}
	close(lfd);
	if (concurrent)
		pthread_exit(NULL); /* the process ends when the last connection is served */
	return 0;
}

/*
 * Connect from a fixed source port: two namespaces can then hold connections with
 * identical 4-tuples, which must never be mistaken for each other.
 */
static int connect_from(const struct endpoint *ep, uint16_t src_port)
{
	struct endpoint src;
	int fd, one = 1;

	if (!src_port)
		return connect_to(ep);
	CHECK(!ep_parse(&src, ep->ss.ss_family == AF_INET ? "0.0.0.0" : "::", src_port),
	      "bad source port");
	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_SYS(fd >= 0, "socket(client)");
	CHECK_SYS(!setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
		  "setsockopt(SO_REUSEADDR)");
	CHECK_SYS(!bind(fd, (struct sockaddr *)&src.ss, src.len), "bind(source port)");
	CHECK_SYS(!connect(fd, (const struct sockaddr *)&ep->ss, ep->len), "connect");
	return fd;
}

/* --fast: write straight from the precomputed pattern, fixed or random sizes up to 256K. */
static void send_fast(int fd, struct vstream *vs, uint64_t total, struct rng *r, size_t wsize,
		      uint64_t pause_us)
{
	uint8_t *pat = fast_pattern(vs->base);

	while (vs->off < total) {
		size_t len = wsize ? wsize : (size_t)rng_range(r, 1, FAST_CHUNK);

		if (len > FAST_CHUNK)
			len = FAST_CHUNK;
		if (len > total - vs->off)
			len = (size_t)(total - vs->off);
		send_all(fd, pat + vs->off % FAST_PERIOD, len, vs->name);
		vs->off += len;
		if (pause_us)
			sleep_us(pause_us);
	}
	free(pat);
}

/* Fixed-size writes (iperf-style) when wsize is set, else random sizes 1..256K. */
static void send_sized(int fd, struct vstream *vs, uint64_t total, struct rng *r, size_t wsize,
		       uint64_t pause_us)
{
	uint8_t *buf;

	if (!wsize) {
		stream_send(fd, vs, total, r, 256 * KIB, pause_us ? 100 : 0, pause_us, NULL);
		return;
	}
	buf = malloc(wsize);
	CHECK(buf, "out of memory");
	while (vs->off < total) {
		size_t len = total - vs->off < wsize ? (size_t)(total - vs->off) : wsize;

		pat_fill(vs->base, vs->off, buf, len);
		send_all(fd, buf, len, vs->name);
		vs->off += len;
		if (pause_us)
			sleep_us(pause_us);
	}
	free(buf);
}

static int run_client(struct endpoint *ep, uint64_t bytes, double duration, uint64_t reply,
		      uint64_t pause_us, uint64_t id, uint16_t src_port, size_t wsize, bool fast)
{
	struct xfer_hdr h = { .magic = XFER_MAGIC,
			      .id = id,
			      .up = bytes,
			      .down = reply,
			      .flags = fast ? XFER_FAST : 0 };
	struct vstream up, down;
	struct rng r;
	double t0 = now_s(), secs;
	int fd;

	if (duration > 0)
		h.up = UNTIL_EOF;
	rng_init(&r, g_seed, id);
	set_phase("connect");
	fd = connect_from(ep, src_port);
	set_phase("send");
	send_all(fd, &h, sizeof(h), "sending the header");
	vs_init(&up, g_opt.key, id, h.up, "client->server");
	vs_init(&down, g_opt.key, id ^ (1ull << 62), reply, "server->client");
	if (duration > 0) {
		/* Paced for a while: the test changes the world (kills the helper) meanwhile. */
		while (now_s() - t0 < duration)
			stream_send(fd, &up, up.off + 64 * KIB, &r, 16 * KIB, 100, pause_us, NULL);
	} else if (fast) {
		char go;

		recv_exact(fd, &go, 1);
		send_fast(fd, &up, bytes, &r, wsize, pause_us);
	} else {
		send_sized(fd, &up, bytes, &r, wsize, pause_us);
	}
	CHECK_SYS(!shutdown(fd, SHUT_WR), "shutdown(SHUT_WR)");
	set_phase("receive the reply");
	stream_recv(fd, &down, &r, 256 * KIB, 0, 0, true, NULL);
	close(fd);
	secs = now_s() - t0;
	printf("%s: client ok: stream %" PRIu64 ": sent %" PRIu64 " received %" PRIu64
	       " in %.2fs (%.0f MB/s)\n",
	       g_prog, id, up.off, down.off, secs,
	       (double)(up.off + down.off) / 1e6 / (secs > 0 ? secs : 1e-9));
	return 0;
}

static void xfer_usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: tcp_xfer server ADDR PORT [--conns N (0: forever)] [--ready FILE] "
		"[--concurrent]\n"
		"       tcp_xfer client ADDR PORT [--bytes N | --duration SECONDS] [--reply N]\n"
		"                       [--pause-us U] [--id ID] [--src-port PORT] [--wsize N]\n"
		"                       [--fast (memcmp-speed check of a periodic pattern)]\n"
		"       common: [--key K] [-t TIMEOUT_S] [-v]\n"
		"A plain TCP program: run it as is, or under skaccel-run.\n");
	exit(code);
}

int main(int argc, char **argv)
{
	uint64_t bytes = 1 * MIB, reply = 64 * KIB, pause_us = 0, key = 42, id, wsize = 0;
	const char *ready = NULL;
	struct endpoint ep;
	bool server, concurrent = false, fast = false;
	double duration = 0;
	unsigned int timeout = 60;
	uint16_t src_port = 0;
	int conns = 1, i;

	g_prog = "tcp_xfer";
	if (argc < 4)
		xfer_usage(argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) ? 0
											      : 2);
	server = !strcmp(argv[1], "server");
	if (!server && strcmp(argv[1], "client"))
		xfer_usage(2);
	if (ep_parse(&ep, argv[2], (uint16_t)atoi(argv[3]))) {
		fprintf(stderr, "tcp_xfer: bad address '%s'\n", argv[2]);
		return 2;
	}
	id = ((uint64_t)getpid() << 20) ^ now_ns();
	for (i = 4; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--concurrent")) {
			concurrent = true;
			continue;
		}
		if (!strcmp(a, "-v")) {
			g_verbose = 1;
			continue;
		}
		if (!strcmp(a, "--fast")) {
			fast = true;
			continue;
		}
		if (!v)
			xfer_usage(2);
		if (!strcmp(a, "--conns"))
			conns = atoi(v);
		else if (!strcmp(a, "--ready"))
			ready = v;
		else if (!strcmp(a, "--bytes"))
			bytes = parse_size(v);
		else if (!strcmp(a, "--duration"))
			duration = atof(v);
		else if (!strcmp(a, "--reply"))
			reply = parse_size(v);
		else if (!strcmp(a, "--pause-us"))
			pause_us = parse_size(v);
		else if (!strcmp(a, "--wsize"))
			wsize = parse_size(v);
		else if (!strcmp(a, "--src-port"))
			src_port = (uint16_t)atoi(v);
		else if (!strcmp(a, "--id"))
			id = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--key"))
			key = strtoull(v, NULL, 0);
		else if (!strcmp(a, "-t"))
			timeout = (unsigned int)atoi(v);
		else
			xfer_usage(2);
		i++;
	}
	g_seed = key;
	g_opt.key = mix64(key + 1);
	snprintf(g_scenario, sizeof(g_scenario), "%s", server ? "server" : "client");
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog_arm(timeout);
	if (server)
		return run_server(&ep, conns, ready, concurrent);
	return run_client(&ep, bytes, duration, reply, pause_us, id, src_port, (size_t)wsize, fast);
}
