/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What skaccel's test programs share: a byte stream that pins loss, duplication and
 * reordering to an exact offset, a seeded PRNG, socket helpers and failure reporting.
 *
 * xfer_common.c holds the code; every test program links it. The programs are plain TCP
 * programs: nothing here knows about skaccel, so the same binary runs on plain TCP and
 * under skaccel-run.
 *
 * The stream: byte i of stream s under key k is byte (i % 8) of mix(base(k, s) + (i / 8) * D),
 * where mix is the splitmix64 finaliser (a bijection) and D is odd, so every 8-byte block
 * of a stream is distinct and any misplaced run of 15+ bytes can be traced back to the
 * offset it was sent at (pat_locate), which tells a duplicate (earlier offset) from a
 * reordering (later offset) from foreign bytes (not in this stream at all).
 */
#ifndef XFER_COMMON_H
#define XFER_COMMON_H

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB ((uint64_t)1024 * 1024)

/* --- failure reporting ------------------------------------------------------------- */

extern const char *g_prog;
extern char g_scenario[64];
extern uint64_t g_seed;
extern _Atomic int g_iter;
extern const char *_Atomic g_phase;
extern pthread_mutex_t g_report_lock;
extern int g_verbose;

void set_phase(const char *phase);

__attribute__((format(printf, 1, 2), noreturn)) void fail(const char *fmt, ...);

__attribute__((format(printf, 1, 2))) void info(const char *fmt, ...);

void watchdog_arm(unsigned int seconds);

#define CHECK(cond, ...)                   \
	do {                               \
		if (!(cond))               \
			fail(__VA_ARGS__); \
	} while (0)

/* For syscalls: the message names the call, the result says errno. */
#define CHECK_SYS(cond, what)                                                           \
	do {                                                                            \
		if (!(cond))                                                            \
			fail("%s failed: %s (errno %d)", what, strerror(errno), errno); \
	} while (0)

/* --- time -------------------------------------------------------------------------- */

uint64_t now_ns(void);

double now_s(void);

void sleep_us(uint64_t us);

/* --- PRNG (splitmix64): sizes and pauses are a function of the seed ----------------- */

struct rng {
	uint64_t s;
};

uint64_t mix64(uint64_t x);

void rng_init(struct rng *r, uint64_t seed, uint64_t stream);

uint64_t rng_next(struct rng *r);

uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);

uint64_t rng_logsize(struct rng *r, uint64_t lo, uint64_t hi);

bool rng_chance(struct rng *r, unsigned int percent);

/* --- the verifiable stream ----------------------------------------------------------- */

#define PAT_D 0xd1b54a32d192ed03ull /* odd: blk -> blk * D is a bijection mod 2^64 */

uint64_t pat_base(uint64_t key, uint64_t stream);

void pat_fill(uint64_t base, uint64_t off, uint8_t *buf, size_t len);

/*
 * One direction of one connection as its reader sees it: what must come next, and how
 * much in all. total == UINT64_MAX means "until EOF, any length".
 */
struct vstream {
	uint64_t base;
	uint64_t id;
	uint64_t off;
	uint64_t total;
	const char *name;
};

void vs_init(struct vstream *vs, uint64_t key, uint64_t id, uint64_t total, const char *name);

void vs_check(struct vstream *vs, const uint8_t *buf, size_t n);

/* --- sockets ------------------------------------------------------------------------ */

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

int ep_parse(struct endpoint *ep, const char *addr, uint16_t port);

uint16_t ep_port(const struct endpoint *ep);

const char *ep_str(const struct endpoint *ep, char *buf, size_t len);

int listen_on(struct endpoint *ep, int backlog, int type_flags);

int connect_to(const struct endpoint *ep);

int accept_one(int lfd, int flags);

void set_timeo(int fd, int optname, unsigned int ms);

void set_nonblock(int fd, bool on);

int fionread(int fd);

int siocoutq(int fd);

void send_all(int fd, const void *buf, size_t len, const char *what);

extern int g_raw_syscalls;

ssize_t test_recv(int fd, void *buf, size_t len, int flags);

ssize_t recv_blocking(int fd, void *buf, size_t len, int flags, const char *what);

void stream_send(int fd, struct vstream *vs, uint64_t total, struct rng *r, size_t maxw,
		 unsigned int pause_pct, uint64_t pause_us, _Atomic uint64_t *progress);

void stream_recv(int fd, struct vstream *vs, struct rng *r, size_t maxr, unsigned int pause_pct,
		 uint64_t pause_us, bool expect_eof, _Atomic uint64_t *progress);

/* --- the common command line ---------------------------------------------------------- */

/*
 * Every test program is a list of scenarios, each run for some iterations with sizes and
 * pauses drawn from the seed. The verdict is one line on stdout per scenario:
 *   "<prog>: ok: <scenario> seed=S iterations=N time=Ts"  or  "<prog>: FAIL: ...".
 */
struct opts {
	const char *addr;	 /* where clients connect */
	const char *listen_addr; /* where the listener binds */
	uint64_t bytes;		 /* size scale of bulk scenarios; 0 = scenario default */
	int conns;		 /* connection count of the "many" scenarios; 0 = default */
	unsigned int stall_ms;	 /* reader stall in the backpressure scenario */
	uint64_t mem_bound;	 /* backpressure bound in bytes; 0 = derived from sysctls */
	uint64_t key;		 /* stream key, derived from the seed */
};
extern struct opts g_opt;

struct scenario {
	const char *name;
	void (*run)(struct rng *r); /* one iteration; calls fail() on any deviation */
	int iterations;		    /* default iteration count */
	const char *help;
};

uint64_t stream_id(uint64_t n);

int test_listen(struct endpoint *ep, int backlog, int flags);

struct endpoint test_target(const struct endpoint *listener);

/*
 * A connected pair over the configured addresses: *c from connect(), *s from accept().
 * test_pair() then warms it up (two one-byte round trips, read whole): under skaccel-run
 * both ends are registered afterwards (lazy promotion registers a connection after a few
 * reads and writes). test_pair_cold() leaves it as connect() and accept() returned it.
 */
void test_pair(int *c, int *s);
void test_pair_cold(int *c, int *s);

uint64_t parse_size(const char *s);

int run_main(int argc, char **argv, const struct scenario *sc, size_t n);

#endif /* XFER_COMMON_H */
