// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcp_bench_client: a plain TCP benchmark client (request/response latency, stream
 * throughput, connection rate) that knows nothing about skaccel; it talks to
 * tcp_echo_server and prints its results as key=value lines for scripts.
 *
 * Blocking sockets and one connection at a time, so every number is one application's view
 * of the transport: no event loop, no concurrency, no batching hiding a slow path.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "examples/lib/net.h"

#define PROG "tcp_bench_client"
#define MAX_SIZE (64u << 20)

enum mode { MODE_RR, MODE_STREAM, MODE_CRR };

struct opts {
	int family;
	const char *host;
	const char *port;
	enum mode mode;
	size_t size;
	uint64_t iterations; /* 0: run for duration_ns */
	uint64_t duration_ns;
	long warmup; /* < 0: the mode's default */
};

/* Times a blocking recv() said EAGAIN although no timeout was set (see recv_all()). */
static uint64_t eagain_retries;

static const char usage_text[] =
    "Usage: " PROG " [-6] -H HOST -p PORT --mode rr|stream|crr --size N\n"
    "                        [--iterations N | --duration SEC] [--warmup N]\n"
    "\n"
    "A plain TCP benchmark client for tcp_echo_server.\n"
    "\n"
    "  -4, -6               address family (default IPv4)\n"
    "  -H, --host HOST      server address or name\n"
    "  -p, --port PORT      server port\n"
    "  -m, --mode MODE      rr:     N-byte request/response ping-pong on one connection\n"
    "                               (server in echo mode); latency per round trip\n"
    "                       stream: N-byte writes for the duration, then a half-close;\n"
    "                               the server (sink mode) confirms the byte count\n"
    "                       crr:    connect, N-byte request, N-byte reply, close, over\n"
    "                               and over (server in crr mode); connections per second\n"
    "  -s, --size N         message or write size in bytes (1 to 64 MiB)\n"
    "  -n, --iterations N   measured round trips, writes or connections\n"
    "  -d, --duration SEC   measure for SEC seconds instead (default 2)\n"
    "  -w, --warmup N       unmeasured round trips, writes or connections first\n"
    "                       (default 1000 for rr and stream, 100 for crr)\n"
    "  -h, --help           this text\n"
    "\n"
    "Output, one key=value per line:\n"
    "  rr:     mode size count p50_us p99_us mean_us min_us max_us\n"
    "  stream: mode size bytes seconds MBps Gbps\n"
    "  crr:    mode size count seconds conns_per_sec p50_us p99_us\n"
    "  all:    eagain_retries: spurious EAGAINs from a blocking recv(), retried (want 0)\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Read exactly len bytes; 0, -errno, or -EPIPE on a premature EOF. recv_some() waits out
 * the spurious EAGAIN a sockhash can give a blocking reader after its own shutdown(SHUT_WR)
 * and counts it: the count is printed so a benchmark can tell the quirk happened.
 */
static int recv_all(int fd, char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = recv_some(fd, buf, len, false, &eagain_retries);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int dial(const struct sockaddr_storage *ss, socklen_t len, bool nodelay)
{
	int fd, one = 1;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		fprintf(stderr, PROG ": Failed to create socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)ss, len)) {
		fprintf(stderr, PROG ": Failed to connect: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	if (nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one))) {
		fprintf(stderr, PROG ": Failed to set TCP_NODELAY: %s\n", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Growable array of per-operation latencies in nanoseconds. */
struct samples {
	uint64_t *v;
	size_t n, cap;
};

static int samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, in microseconds. */
static double pct_us(const struct samples *s, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)s->n);

	if (rank < 1)
		rank = 1;
	return (double)s->v[rank - 1] / 1000.0;
}

static bool done(const struct opts *o, uint64_t count, uint64_t start, uint64_t now)
{
	return o->iterations ? count >= o->iterations : now - start >= o->duration_ns;
}

/* A request filled with fill and room for its reply; the caller frees both, even on -1. */
static int alloc_exchange(size_t size, char fill, char **req, char **resp)
{
	*req = malloc(size);
	*resp = malloc(size);
	if (!*req || !*resp) {
		fprintf(stderr, PROG ": Failed to allocate buffers: %s\n", strerror(ENOMEM));
		return -1;
	}
	memset(*req, fill, size);
	return 0;
}

static int run_rr(const struct opts *o, const struct sockaddr_storage *ss, socklen_t sslen)
{
	long warmup = o->warmup < 0 ? 1000 : o->warmup;
	struct samples s = {};
	uint64_t start, t0, t1, sum = 0;
	char *req, *resp;
	int fd, err = 0;

	if (alloc_exchange(o->size, 'r', &req, &resp))
		goto out_free;
	fd = dial(ss, sslen, true);
	if (fd < 0)
		goto out_free;

	for (long i = 0; i < warmup; i++) {
		err = send_all(fd, req, o->size);
		if (!err)
			err = recv_all(fd, resp, o->size);
		if (err)
			goto out_err;
	}
	start = t0 = now_ns();
	for (;;) {
		err = send_all(fd, req, o->size);
		if (!err)
			err = recv_all(fd, resp, o->size);
		if (err)
			goto out_err;
		t1 = now_ns();
		err = samples_add(&s, t1 - t0);
		if (err)
			goto out_err;
		sum += t1 - t0;
		if (done(o, s.n, start, t1))
			break;
		t0 = now_ns();
	}
	close(fd);

	qsort(s.v, s.n, sizeof(*s.v), cmp_u64);
	printf("mode=rr\nsize=%zu\ncount=%zu\n", o->size, s.n);
	printf("p50_us=%.2f\np99_us=%.2f\nmean_us=%.2f\n", pct_us(&s, 50), pct_us(&s, 99),
	       (double)sum / (double)s.n / 1000.0);
	printf("min_us=%.2f\nmax_us=%.2f\n", s.v[0] / 1000.0, s.v[s.n - 1] / 1000.0);
	free(s.v);
	free(req);
	free(resp);
	return 0;

out_err:
	fprintf(stderr, PROG ": Failed to exchange %zu-byte messages: %s\n", o->size,
		err == -EPIPE ? "connection closed by server" : strerror(-err));
	close(fd);
out_free:
	free(s.v);
	free(req);
	free(resp);
	return 1;
}

static int run_stream(const struct opts *o, const struct sockaddr_storage *ss, socklen_t sslen)
{
	long warmup = o->warmup < 0 ? 1000 : o->warmup;
	uint64_t start, end, writes = 0, confirmed_be, confirmed, total;
	double secs;
	char *buf;
	int fd, err;

	buf = malloc(o->size);
	if (!buf) {
		fprintf(stderr, PROG ": Failed to allocate buffer: %s\n", strerror(ENOMEM));
		return 1;
	}
	memset(buf, 's', o->size);
	fd = dial(ss, sslen, false);
	if (fd < 0)
		goto out_free;

	for (long i = 0; i < warmup; i++) {
		err = send_all(fd, buf, o->size);
		if (err)
			goto out_send;
	}
	/*
	 * The clock runs from the first measured write until the server has confirmed it
	 * received every byte: what an application can count on, not what left the buffer.
	 */
	start = now_ns();
	do {
		err = send_all(fd, buf, o->size);
		if (err)
			goto out_send;
		writes++;
	} while (!done(o, writes, start, now_ns()));

	if (shutdown(fd, SHUT_WR)) {
		fprintf(stderr, PROG ": Failed to shut down sending: %s\n", strerror(errno));
		goto out_close;
	}
	err = recv_all(fd, (char *)&confirmed_be, sizeof(confirmed_be));
	if (err) {
		fprintf(stderr, PROG ": Failed to receive the server's byte count: %s\n",
			err == -EPIPE ? "connection closed by server" : strerror(-err));
		goto out_close;
	}
	end = now_ns();
	close(fd);
	free(buf);

	confirmed = be64toh(confirmed_be);
	total = ((uint64_t)warmup + writes) * o->size;
	if (confirmed != total) {
		fprintf(stderr, PROG ": Server received %llu bytes but %llu were sent\n",
			(unsigned long long)confirmed, (unsigned long long)total);
		return 1;
	}
	secs = (double)(end - start) / 1e9;
	printf("mode=stream\nsize=%zu\nbytes=%llu\nseconds=%.3f\n", o->size,
	       (unsigned long long)(writes * o->size), secs);
	printf("MBps=%.1f\nGbps=%.3f\n", (double)(writes * o->size) / secs / 1e6,
	       (double)(writes * o->size) * 8 / secs / 1e9);
	return 0;

out_send:
	fprintf(stderr, PROG ": Failed to send: %s\n", strerror(-err));
out_close:
	close(fd);
out_free:
	free(buf);
	return 1;
}

/* One connect, request, reply, close; 0 or 1 (after printing why). */
static int crr_once(const struct opts *o, const struct sockaddr_storage *ss, socklen_t sslen,
		    char *req, char *resp)
{
	int fd, err;

	fd = dial(ss, sslen, true);
	if (fd < 0)
		return 1;
	err = send_all(fd, req, o->size);
	if (!err)
		err = recv_all(fd, resp, o->size);
	close(fd);
	if (err) {
		fprintf(stderr, PROG ": Failed to exchange %zu-byte request and reply: %s\n",
			o->size, err == -EPIPE ? "connection closed by server" : strerror(-err));
		return 1;
	}
	return 0;
}

static int run_crr(const struct opts *o, const struct sockaddr_storage *ss, socklen_t sslen)
{
	long warmup = o->warmup < 0 ? 100 : o->warmup;
	uint64_t start, t0, t1;
	struct samples s = {};
	char *req, *resp;
	double secs;
	int ret = 1;

	if (alloc_exchange(o->size, 'c', &req, &resp))
		goto out;
	for (long i = 0; i < warmup; i++) {
		if (crr_once(o, ss, sslen, req, resp))
			goto out;
	}
	start = t0 = now_ns();
	for (;;) {
		if (crr_once(o, ss, sslen, req, resp))
			goto out;
		t1 = now_ns();
		if (samples_add(&s, t1 - t0)) {
			fprintf(stderr, PROG ": Failed to record sample: %s\n", strerror(ENOMEM));
			goto out;
		}
		if (done(o, s.n, start, t1))
			break;
		t0 = t1;
	}
	secs = (double)(t1 - start) / 1e9;
	qsort(s.v, s.n, sizeof(*s.v), cmp_u64);
	printf("mode=crr\nsize=%zu\ncount=%zu\nseconds=%.3f\n", o->size, s.n, secs);
	printf("conns_per_sec=%.1f\np50_us=%.2f\np99_us=%.2f\n", (double)s.n / secs, pct_us(&s, 50),
	       pct_us(&s, 99));
	ret = 0;
out:
	free(s.v);
	free(req);
	free(resp);
	return ret;
}

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "mode", required_argument, NULL, 'm' },
	{ "size", required_argument, NULL, 's' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "warmup", required_argument, NULL, 'w' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

int main(int argc, char **argv)
{
	struct opts o = { .family = AF_INET, .duration_ns = 2000000000ull, .warmup = -1 };
	bool have_mode = false, have_duration = false;
	struct sockaddr_storage ss;
	socklen_t sslen;
	uint64_t v;
	double d;
	char *end;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "46H:p:m:s:n:d:w:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case '4':
			o.family = AF_INET;
			break;
		case '6':
			o.family = AF_INET6;
			break;
		case 'H':
			o.host = optarg;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &v) || v == 0) {
				fprintf(stderr, PROG ": Invalid port '%s'\n", optarg);
				return 2;
			}
			o.port = optarg;
			break;
		case 'm':
			have_mode = true;
			if (!strcmp(optarg, "rr")) {
				o.mode = MODE_RR;
			} else if (!strcmp(optarg, "stream")) {
				o.mode = MODE_STREAM;
			} else if (!strcmp(optarg, "crr")) {
				o.mode = MODE_CRR;
			} else {
				fprintf(stderr, PROG ": Invalid mode '%s' (rr, stream, crr)\n",
					optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_uint(optarg, MAX_SIZE, &v) || v == 0) {
				fprintf(stderr, PROG ": Invalid size '%s' (1..%u)\n", optarg,
					MAX_SIZE);
				return 2;
			}
			o.size = (size_t)v;
			break;
		case 'n':
			if (parse_uint(optarg, UINT64_MAX, &v) || v == 0) {
				fprintf(stderr, PROG ": Invalid iteration count '%s'\n", optarg);
				return 2;
			}
			o.iterations = v;
			break;
		case 'd':
			errno = 0;
			d = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(d > 0 && d <= 86400)) {
				fprintf(stderr, PROG ": Invalid duration '%s'\n", optarg);
				return 2;
			}
			o.duration_ns = (uint64_t)(d * 1e9);
			have_duration = true;
			break;
		case 'w':
			if (parse_uint(optarg, 1000000000, &v)) {
				fprintf(stderr, PROG ": Invalid warmup count '%s'\n", optarg);
				return 2;
			}
			o.warmup = (long)v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !o.host || !o.port || !have_mode || !o.size) {
		fprintf(stderr, PROG ": %s\n",
			optind != argc ? "Unexpected argument"
				       : "-H, -p, --mode and --size are required");
		usage(stderr);
		return 2;
	}
	if (o.iterations && have_duration) {
		fprintf(stderr, PROG ": --iterations and --duration are exclusive\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (resolve(o.family, o.host, o.port, 0, &ss, &sslen))
		return 1;

	switch (o.mode) {
	case MODE_RR:
		ret = run_rr(&o, &ss, sslen);
		break;
	case MODE_STREAM:
		ret = run_stream(&o, &ss, sslen);
		break;
	default:
		ret = run_crr(&o, &ss, sslen);
		break;
	}
	if (!ret)
		printf("eagain_retries=%llu\n", (unsigned long long)eagain_retries);
	if (eagain_retries)
		fprintf(stderr, PROG ": warning: a blocking recv() returned EAGAIN %llu times\n",
			(unsigned long long)eagain_retries);
	return ret;
}
