// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What skaccel's test programs share (xfer_common.h says what each part is for): failure
 * reporting, time, the seeded PRNG, the verifiable stream, socket helpers and the common
 * command line that runs a program's scenarios.
 */
#include "tests/progs/xfer_common.h"

/*
 * Test context printed with every verdict so that any failure can be replayed with the
 * same seed (timing is not replayable, sizes and bytes are).
 */
const char *g_prog = "test";
char g_scenario[64] = "-";
uint64_t g_seed;
_Atomic int g_iter;
const char *_Atomic g_phase = "start";
pthread_mutex_t g_report_lock = PTHREAD_MUTEX_INITIALIZER;
int g_verbose;
void set_phase(const char *phase)
{
	atomic_store(&g_phase, phase);
}

/*
 * First failure wins and ends the process: the threads of a scenario share one verdict,
 * and a half-failed transfer would only produce noise after the first wrong byte.
 */
void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_report_lock);
	fprintf(stdout, "%s: FAIL: %s iter=%d seed=%" PRIu64 " phase=%s: ", g_prog, g_scenario,
		atomic_load(&g_iter), g_seed, atomic_load(&g_phase));
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	fflush(stderr);
	_exit(1);
}

void info(const char *fmt, ...)
{
	va_list ap;

	if (!g_verbose)
		return;
	pthread_mutex_lock(&g_report_lock);
	fprintf(stderr, "%s: %s iter=%d: ", g_prog, g_scenario, atomic_load(&g_iter));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&g_report_lock);
}

/*
 * A hang must become a failure with a reason, not a stuck CI job. snprintf() is not
 * async-signal-safe, but the process ends right here, whatever state libc was in.
 */
static void watchdog_handler(int sig)
{
	char buf[512];
	int n;

	(void)sig;
	n = snprintf(buf, sizeof(buf),
		     "%s: FAIL: %s iter=%d seed=%" PRIu64 " phase=%s: timed out (hang)\n", g_prog,
		     g_scenario, atomic_load(&g_iter), g_seed, atomic_load(&g_phase));
	if (n > 0 && write(STDOUT_FILENO, buf, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

void watchdog_arm(unsigned int seconds)
{
	struct sigaction sa = { .sa_handler = watchdog_handler };

	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

double now_s(void)
{
	return (double)now_ns() / 1e9;
}

void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->s = mix64(seed ^ mix64(stream + 0x632be59bd9b4e019ull));
}

uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

/* Uniform in [lo, hi]. */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rng_next(r) % (hi - lo + 1);
}

/*
 * Log-uniform in [lo, hi], lo >= 1: as many 1..16 byte operations as 16K..256K ones,
 * because both ends of the size range hit different kernel paths (tiny sk_msgs, skbs
 * split across pages).
 */
uint64_t rng_logsize(struct rng *r, uint64_t lo, uint64_t hi)
{
	int lb = 63 - __builtin_clzll(lo ? lo : 1), hb = 63 - __builtin_clzll(hi);
	int b = (int)rng_range(r, (uint64_t)lb, (uint64_t)hb);
	uint64_t a = 1ull << b, z = (b >= 63) ? UINT64_MAX : (2ull << b) - 1;

	if (a < lo)
		a = lo;
	if (z > hi)
		z = hi;
	return rng_range(r, a, z);
}

bool rng_chance(struct rng *r, unsigned int percent)
{
	return rng_next(r) % 100 < percent;
}

uint64_t pat_base(uint64_t key, uint64_t stream)
{
	return mix64(key ^ mix64(stream ^ 0x5851f42d4c957f2dull));
}

static uint64_t pat_block(uint64_t base, uint64_t blk)
{
	return mix64(base + blk * PAT_D);
}

static uint8_t pat_byte(uint64_t base, uint64_t off)
{
	return (uint8_t)(pat_block(base, off / 8) >> (8 * (off % 8)));
}

/* Fill buf with stream bytes [off, off + len). */
void pat_fill(uint64_t base, uint64_t off, uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (off + i) % 8)
		buf[i] = pat_byte(base, off + i), i++;
	for (; i + 8 <= len; i += 8) {
		uint64_t v = htole64(pat_block(base, (off + i) / 8));

		memcpy(buf + i, &v, 8);
	}
	for (; i < len; i++)
		buf[i] = pat_byte(base, off + i);
}

/* Index of the first byte of buf that is not stream byte off + index, or len. */
static size_t pat_mismatch(uint64_t base, uint64_t off, const uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (off + i) % 8) {
		if (buf[i] != pat_byte(base, off + i))
			return i;
		i++;
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t v = htole64(pat_block(base, (off + i) / 8));

		if (memcmp(buf + i, &v, 8)) {
			size_t j;

			for (j = 0; j < 8; j++)
				if (buf[i + j] != pat_byte(base, off + i + j))
					return i + j;
		}
	}
	for (; i < len; i++)
		if (buf[i] != pat_byte(base, off + i))
			return i;
	return len;
}

/*
 * Find the stream offset the bytes buf[0..len) were sent at, searching [0, limit).
 * Needs len >= 15 so that one whole 8-byte block lies inside buf whatever the alignment.
 * Returns -1 if not found. Linear in limit (about 50 ms per 100 MB): failure path only.
 */
static int64_t pat_locate(uint64_t base, const uint8_t *buf, size_t len, uint64_t limit)
{
	uint64_t cand[8], blk, nblk = limit / 8 + 1;
	size_t check = len < 64 ? len : 64;
	int d;

	if (len < 15)
		return -1;
	for (d = 0; d < 8; d++) {
		memcpy(&cand[d], buf + d, 8);
		cand[d] = le64toh(cand[d]);
	}
	for (blk = 0; blk < nblk; blk++) {
		uint64_t v = pat_block(base, blk);

		for (d = 0; d < 8; d++) {
			int64_t src = (int64_t)(blk * 8) - d;

			if (v != cand[d] || src < 0)
				continue;
			if (pat_mismatch(base, (uint64_t)src, buf, check) == check)
				return src;
		}
	}
	return -1;
}

void vs_init(struct vstream *vs, uint64_t key, uint64_t id, uint64_t total, const char *name)
{
	vs->base = pat_base(key, id);
	vs->id = id;
	vs->off = 0;
	vs->total = total;
	vs->name = name;
}

static void hex16(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	out[0] = 0;
	for (i = 0; i < n && i < 16; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* Check n received bytes against the stream; on a mismatch fail with a diagnosis. */
void vs_check(struct vstream *vs, const uint8_t *buf, size_t n)
{
	size_t bad, want = n;

	if (vs->total != UINT64_MAX && n > vs->total - vs->off)
		want = (size_t)(vs->total - vs->off);
	bad = pat_mismatch(vs->base, vs->off, buf, want);
	if (bad == want && want < n) {
		/* Everything expected came, and then more: say where the surplus comes from. */
		int64_t src =
		    pat_locate(vs->base, buf + want, n - want > 64 ? 64 : n - want, vs->total + 64);

		if (src >= 0 && (uint64_t)src < vs->total)
			fail("%s (stream %" PRIu64 "): %zu excess bytes after the expected %" PRIu64
			     ": DUPLICATE, they were sent at offset %" PRId64,
			     vs->name, vs->id, n - want, vs->total, src);
		if (src >= 0)
			fail("%s (stream %" PRIu64 "): %zu excess bytes after the expected %" PRIu64
			     ": the stream went on past its end (test bug: sender and reader "
			     "disagree on the length)",
			     vs->name, vs->id, n - want, vs->total);
		fail("%s (stream %" PRIu64 "): %zu excess bytes after the expected %" PRIu64
		     ": not from this stream (foreign or corrupt)",
		     vs->name, vs->id, n - want, vs->total);
	}
	if (bad < want) {
		uint64_t at = vs->off + bad;
		size_t avail = n - bad;
		uint64_t limit = vs->total != UINT64_MAX ? vs->total : at + 64 * MIB;
		int64_t src = pat_locate(vs->base, buf + bad, avail > 64 ? 64 : avail, limit + 64);
		uint8_t exp[16];
		char hexp[40], hgot[40], where[160];

		pat_fill(vs->base, at, exp, sizeof(exp));
		hex16(hexp, exp, sizeof(exp));
		hex16(hgot, buf + bad, avail);
		if (src < 0)
			snprintf(where, sizeof(where), "%s",
				 avail < 15
				     ? "too few bytes in this read to locate them"
				     : "bytes not found in this stream: lost, foreign or corrupt");
		else if ((uint64_t)src < at)
			snprintf(where, sizeof(where),
				 "they were sent at offset %" PRId64 ": DUPLICATE of %" PRIu64
				 " earlier bytes",
				 src, at - (uint64_t)src);
		else
			snprintf(where, sizeof(where),
				 "they were sent at offset %" PRId64 ": %" PRIu64
				 " bytes LOST or REORDERED (overtaken)",
				 src, (uint64_t)src - at);
		fail("%s (stream %" PRIu64 "): first bad byte at offset %" PRIu64 " of %" PRIu64
		     ": expected %s got %s (%zu bytes in this read); %s",
		     vs->name, vs->id, at, vs->total, hexp, hgot, avail, where);
	}
	vs->off += n;
}

/* Parse a numeric IPv4/IPv6 address ("127.0.0.1", "::1", "::ffff:127.0.0.1", "::"). */
int ep_parse(struct endpoint *ep, const char *addr, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ep->ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ep->ss;

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		ep->len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		ep->len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

uint16_t ep_port(const struct endpoint *ep)
{
	if (ep->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&ep->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&ep->ss)->sin6_port);
}

const char *ep_str(const struct endpoint *ep, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ep->ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ep->ss)->sin_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ep->ss)->sin6_addr, a,
			  sizeof(a));
	snprintf(buf, len, ep->ss.ss_family == AF_INET ? "%s:%u" : "[%s]:%u", a, ep_port(ep));
	return buf;
}

/*
 * Listen on ep (port 0 picks one; ep is updated). An AF_INET6 listener is explicitly
 * dual-stack, so "::" also accepts IPv4 clients as v4-mapped peers.
 */
int listen_on(struct endpoint *ep, int backlog, int type_flags)
{
	int fd, one = 1, zero = 0;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);
	CHECK_SYS(fd >= 0, "socket(listen)");
	CHECK_SYS(!setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
		  "setsockopt(SO_REUSEADDR)");
	if (ep->ss.ss_family == AF_INET6)
		CHECK_SYS(!setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)),
			  "setsockopt(IPV6_V6ONLY, 0)");
	CHECK_SYS(!bind(fd, (struct sockaddr *)&ep->ss, ep->len), "bind(listener)");
	CHECK_SYS(!listen(fd, backlog), "listen");
	CHECK_SYS(!getsockname(fd, (struct sockaddr *)&ep->ss, &ep->len), "getsockname(listener)");
	return fd;
}

int connect_to(const struct endpoint *ep)
{
	int fd;

	fd = socket(ep->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_SYS(fd >= 0, "socket(client)");
	while (connect(fd, (const struct sockaddr *)&ep->ss, ep->len) < 0) {
		/* A full accept queue under load makes loopback SYNs retry; not a failure. */
		CHECK_SYS(errno == EINTR, "connect");
	}
	return fd;
}

int accept_one(int lfd, int flags)
{
	int fd;

	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | flags);
	} while (fd < 0 && errno == EINTR);
	CHECK_SYS(fd >= 0, "accept4");
	return fd;
}

void set_timeo(int fd, int optname, unsigned int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	CHECK_SYS(!setsockopt(fd, SOL_SOCKET, optname, &tv, sizeof(tv)), "setsockopt(SO_*TIMEO)");
}

void set_nonblock(int fd, bool on)
{
	int v = on ? 1 : 0;

	CHECK_SYS(!ioctl(fd, FIONBIO, &v), "ioctl(FIONBIO)");
}

int fionread(int fd)
{
	int n = -1;

	CHECK_SYS(!ioctl(fd, FIONREAD, &n), "ioctl(FIONREAD)");
	return n;
}

int siocoutq(int fd)
{
	int n = -1;

	CHECK_SYS(!ioctl(fd, TIOCOUTQ, &n), "ioctl(SIOCOUTQ)");
	return n;
}

/* Blocking send of all of buf; MSG_NOSIGNAL so a broken pipe is a reported errno. */
void send_all(int fd, const void *buf, size_t len, const char *what)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			fail("%s: blocking send() returned EAGAIN", what);
		CHECK(n > 0, "%s: send failed: %s (errno %d)", what,
		      n < 0 ? strerror(errno) : "returned 0", n < 0 ? errno : 0);
		p += n;
		len -= (size_t)n;
	}
}

/*
 * With --raw-syscalls, blocking reads bypass libc (syscall(SYS_recvfrom)), as Go and other
 * runtimes without libc do, so no preloaded library can fix up what the kernel returns:
 * the tests then see the kernel's own sockmap behaviour (e.g. KERNEL-NOTES §6.4).
 */
int g_raw_syscalls;
ssize_t test_recv(int fd, void *buf, size_t len, int flags)
{
	if (g_raw_syscalls)
		return syscall(SYS_recvfrom, fd, buf, len, flags, NULL, NULL);
	return recv(fd, buf, len, flags);
}

/*
 * Blocking recv that treats EAGAIN as the failure it is on a socket without a receive
 * timeout (KERNEL-NOTES §6.4: sockmap can hand a blocking reader EAGAIN).
 */
ssize_t recv_blocking(int fd, void *buf, size_t len, int flags, const char *what)
{
	ssize_t n;

	do {
		n = test_recv(fd, buf, len, flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		fail("%s: blocking recv() returned EAGAIN (no receive timeout is set)", what);
	if (n < 0)
		fail("%s: recv failed: %s (errno %d)", what, strerror(errno), errno);
	return n;
}

/*
 * Writer side of a stream: send total bytes (from vs->off on) in random sizes up to
 * maxw, sometimes with writev of several pieces, sometimes pausing up to pause_us.
 * Advances *progress (if given) as bytes are accepted, for observers.
 */
void stream_send(int fd, struct vstream *vs, uint64_t total, struct rng *r, size_t maxw,
		 unsigned int pause_pct, uint64_t pause_us, _Atomic uint64_t *progress)
{
	size_t cap = maxw;
	uint8_t *buf = malloc(cap);

	CHECK(buf, "out of memory");
	while (vs->off < total) {
		size_t len = (size_t)rng_logsize(r, 1, maxw);
		ssize_t n;

		if (len > total - vs->off)
			len = (size_t)(total - vs->off);
		pat_fill(vs->base, vs->off, buf, len);
		if (len >= 4 && rng_chance(r, 20)) {
			/* A few iovecs: sk_msg is built from the iterator piecewise. */
			struct iovec iov[4];
			size_t a = len / 4, used = 0;
			int k;

			for (k = 0; k < 4; k++) {
				iov[k].iov_base = buf + used;
				iov[k].iov_len = k == 3 ? len - used : a;
				used += iov[k].iov_len;
			}
			do {
				n = writev(fd, iov, 4);
			} while (n < 0 && errno == EINTR);
		} else {
			do {
				n = send(fd, buf, len, MSG_NOSIGNAL);
			} while (n < 0 && errno == EINTR);
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			fail("%s: blocking send() returned EAGAIN at offset %" PRIu64, vs->name,
			     vs->off);
		CHECK(n > 0, "%s: send at offset %" PRIu64 " failed: %s (errno %d)", vs->name,
		      vs->off, n < 0 ? strerror(errno) : "returned 0", n < 0 ? errno : 0);
		vs->off += (uint64_t)n;
		if (progress)
			atomic_store(progress, vs->off);
		if (pause_pct && rng_chance(r, pause_pct))
			sleep_us(rng_range(r, 0, pause_us));
	}
	free(buf);
}

/*
 * Reader side: read in random sizes up to maxr until the stream's total arrived,
 * verifying every byte; with expect_eof, the next read must return 0.
 */
void stream_recv(int fd, struct vstream *vs, struct rng *r, size_t maxr, unsigned int pause_pct,
		 uint64_t pause_us, bool expect_eof, _Atomic uint64_t *progress)
{
	uint8_t *buf = malloc(maxr);

	CHECK(buf, "out of memory");
	while (vs->off < vs->total) {
		size_t len = (size_t)rng_logsize(r, 1, maxr);
		ssize_t n;

		/* Never ask past the end: excess is checked by the EOF read, with its own
		 * diagnosis. */
		if (len > vs->total - vs->off)
			len = (size_t)(vs->total - vs->off);
		if (rng_chance(r, 10) && len >= 2) {
			struct iovec iov[2] = { { buf, len / 2 },
						{ buf + len / 2, len - len / 2 } };

			do {
				n = readv(fd, iov, 2);
			} while (n < 0 && errno == EINTR);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				fail("%s: blocking readv() returned EAGAIN at offset %" PRIu64,
				     vs->name, vs->off);
			CHECK(n >= 0, "%s: readv at offset %" PRIu64 " failed: %s", vs->name,
			      vs->off, strerror(errno));
		} else {
			n = recv_blocking(fd, buf, len, 0, vs->name);
		}
		if (n == 0)
			fail("%s (stream %" PRIu64 "): early EOF at offset %" PRIu64 " of %" PRIu64
			     ": %" PRIu64 " bytes LOST",
			     vs->name, vs->id, vs->off, vs->total, vs->total - vs->off);
		vs_check(vs, buf, (size_t)n);
		if (progress)
			atomic_store(progress, vs->off);
		if (pause_pct && rng_chance(r, pause_pct))
			sleep_us(rng_range(r, 0, pause_us));
	}
	if (expect_eof) {
		ssize_t n = recv_blocking(fd, buf, maxr, 0, vs->name);

		if (n > 0)
			vs_check(vs, buf, (size_t)n); /* reports the excess with a diagnosis */
	}
	free(buf);
}

struct opts g_opt;
/* Stream ids are unique across iterations, so bytes leaking between connections show. */
uint64_t stream_id(uint64_t n)
{
	return ((uint64_t)atomic_load(&g_iter) << 32) | n;
}

/* A fresh listener on the configured address, port picked by the kernel. */
int test_listen(struct endpoint *ep, int backlog, int flags)
{
	CHECK(!ep_parse(ep, g_opt.listen_addr, 0), "bad listen address '%s'", g_opt.listen_addr);
	return listen_on(ep, backlog, flags);
}

/* Where a client reaches a listener made by test_listen(). */
struct endpoint test_target(const struct endpoint *listener)
{
	struct endpoint ep;

	CHECK(!ep_parse(&ep, g_opt.addr, ep_port(listener)), "bad address '%s'", g_opt.addr);
	return ep;
}

/*
 * Two one-byte round trips, read whole at both ends, then until both ends' bytes are
 * acknowledged (a delayed ACK would show in SIOCOUTQ). Under skaccel-run a connection is
 * registered once each end has made two turns (lazy promotion, shim/promote.h), so after
 * these both ends are on the fast path, which is what the scenarios test; on plain TCP
 * they leave nothing a scenario could see.
 */
static void warm_up(int c, int s)
{
	uint64_t t0;
	char b = 'w';
	int i;

	for (i = 0; i < 2; i++) {
		CHECK_SYS(write(c, &b, 1) == 1, "write(warm-up, client)");
		CHECK_SYS(read(s, &b, 1) == 1, "read(warm-up, server)");
		CHECK_SYS(write(s, &b, 1) == 1, "write(warm-up, server)");
		CHECK_SYS(read(c, &b, 1) == 1, "read(warm-up, client)");
	}
	t0 = now_ns();
	while (siocoutq(c) || siocoutq(s)) {
		CHECK(now_ns() - t0 < 2000000000ull, "warm-up bytes unacknowledged after 2 s");
		sleep_us(200);
	}
}

void test_pair_cold(int *c, int *s)
{
	struct endpoint l, t;
	int lfd = test_listen(&l, 16, 0);

	t = test_target(&l);
	*c = connect_to(&t);
	*s = accept_one(lfd, 0);
	close(lfd);
}

void test_pair(int *c, int *s)
{
	test_pair_cold(c, s);
	warm_up(*c, *s);
}

static void scenario_usage(const struct scenario *sc, size_t n, int code)
{
	size_t i;

	fprintf(
	    code ? stderr : stdout,
	    "usage: %s [-s SCENARIO[,SCENARIO...]|all] [-S SEED] [-n ITERATIONS] [-t TIMEOUT_S]\n"
	    "          [-a CONNECT_ADDR] [-L LISTEN_ADDR] [-b BYTES] [-c CONNS]\n"
	    "          [--stall-ms MS] [--mem-bound BYTES] [-v] [-l]\n"
	    "  A plain TCP test program: run it as is, or under skaccel-run.\n"
	    "  -a defaults to 127.0.0.1; -L defaults to -a, or :: (dual-stack) when -a is\n"
	    "  v4-mapped (::ffff:a.b.c.d). TIMEOUT_S bounds each iteration (default 60).\n"
	    "scenarios:\n",
	    g_prog);
	for (i = 0; i < n; i++)
		fprintf(code ? stderr : stdout, "  %-22s %s (default %d iterations)\n", sc[i].name,
			sc[i].help, sc[i].iterations);
	exit(code);
}

uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k':
	case 'K':
		v *= KIB;
		end++;
		break;
	case 'm':
	case 'M':
		v *= MIB;
		end++;
		break;
	case 'g':
	case 'G':
		v *= 1024 * MIB;
		end++;
		break;
	}
	if (*end) {
		fprintf(stderr, "%s: bad size '%s'\n", g_prog, s);
		exit(2);
	}
	return v;
}

int run_main(int argc, char **argv, const struct scenario *sc, size_t n)
{
	const char *which = "all";
	int iterations = 0, i;
	unsigned int timeout = 60;
	bool seeded = false;
	char *list, *tok, *save;
	size_t k;

	g_prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	g_opt.addr = "127.0.0.1";
	g_opt.stall_ms = 3000;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			scenario_usage(sc, n, 0);
		if (!strcmp(a, "-l")) {
			for (k = 0; k < n; k++)
				printf("%s\n", sc[k].name);
			return 0;
		}
		if (!strcmp(a, "-v")) {
			g_verbose = 1;
			continue;
		}
		if (!strcmp(a, "--raw-syscalls")) {
			g_raw_syscalls = 1;
			continue;
		}
		if (!v)
			scenario_usage(sc, n, 2);
		if (!strcmp(a, "-s"))
			which = v;
		else if (!strcmp(a, "-S"))
			g_seed = strtoull(v, NULL, 0), seeded = true;
		else if (!strcmp(a, "-n"))
			iterations = atoi(v);
		else if (!strcmp(a, "-t"))
			timeout = (unsigned int)atoi(v);
		else if (!strcmp(a, "-a"))
			g_opt.addr = v;
		else if (!strcmp(a, "-L"))
			g_opt.listen_addr = v;
		else if (!strcmp(a, "-b"))
			g_opt.bytes = parse_size(v);
		else if (!strcmp(a, "-c"))
			g_opt.conns = atoi(v);
		else if (!strcmp(a, "--stall-ms"))
			g_opt.stall_ms = (unsigned int)atoi(v);
		else if (!strcmp(a, "--mem-bound"))
			g_opt.mem_bound = parse_size(v);
		else
			scenario_usage(sc, n, 2);
		i++;
	}
	if (!g_opt.listen_addr)
		g_opt.listen_addr = strncasecmp(g_opt.addr, "::ffff:", 7) ? g_opt.addr : "::";
	if (!seeded)
		g_seed = now_ns() ^ ((uint64_t)getpid() << 32);
	g_opt.key = mix64(g_seed + 1);
	/* A dead peer must be an errno the test reports, not a silent SIGPIPE death. */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);

	list = strdup(which);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool all = !strcmp(tok, "all"), found = false;

		for (k = 0; k < n; k++) {
			int iters = iterations ? iterations : sc[k].iterations, it;
			double t0 = now_s();

			if (!all && strcmp(tok, sc[k].name))
				continue;
			found = true;
			snprintf(g_scenario, sizeof(g_scenario), "%s", sc[k].name);
			for (it = 0; it < iters; it++) {
				struct rng r;

				atomic_store(&g_iter, it);
				set_phase("start");
				rng_init(&r, g_seed, (uint64_t)it);
				watchdog_arm(timeout);
				sc[k].run(&r);
				alarm(0);
			}
			printf("%s: ok: %s seed=%" PRIu64 " iterations=%d time=%.2fs\n", g_prog,
			       sc[k].name, g_seed, iters, now_s() - t0);
		}
		if (!found) {
			fprintf(stderr, "%s: unknown scenario '%s'\n", g_prog, tok);
			scenario_usage(sc, n, 2);
		}
	}
	free(list);
	return 0;
}
