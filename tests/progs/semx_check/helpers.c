// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Bounded reads, queue waits, socket options and a delayed sender: what every semx_check scenario
 * uses. */
#include "tests/progs/semx_check/semx_check.h"

void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r)
{
	stream_send(fd, vs, vs->off + len, r, 16 * KIB, 0, 0, NULL);
}

/* Read exactly vs->total - vs->off bytes, each read bounded by WAIT_MS (SO_RCVTIMEO). */
void recv_exact(int fd, struct vstream *vs, const char *what)
{
	uint8_t *buf = malloc(64 * KIB);

	CHECK(buf, "out of memory");
	set_timeo(fd, SO_RCVTIMEO, WAIT_MS);
	while (vs->off < vs->total) {
		uint64_t left = vs->total - vs->off;
		ssize_t n;

		do {
			n = recv(fd, buf, left < 64 * KIB ? (size_t)left : 64 * KIB, 0);
		} while (n < 0 && errno == EINTR);
		CHECK(n >= 0, "%s: recv at offset %" PRIu64 " of %" PRIu64 " returned %s", what,
		      vs->off, vs->total, RES(n, errno));
		CHECK(n > 0, "%s: EOF at offset %" PRIu64 " of %" PRIu64 ": bytes LOST", what,
		      vs->off, vs->total);
		vs_check(vs, buf, (size_t)n);
	}
	free(buf);
}

void expect_eof(int fd, const char *what)
{
	uint8_t b[64];
	ssize_t n;

	set_timeo(fd, SO_RCVTIMEO, WAIT_MS);
	do {
		n = recv(fd, b, sizeof(b), 0);
	} while (n < 0 && errno == EINTR);
	CHECK(n == 0, "%s: expected EOF (0), got %s%s", what, RES(n, errno), n > 0 ? " bytes" : "");
}

/* Nothing readable (no data, no EOF) for ms milliseconds: the peer still holds the socket. */
void expect_quiet(int fd, int ms, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	int pr = poll(&p, 1, ms);

	CHECK(pr == 0,
	      "%s: poll returned %d revents %s; plain TCP shows nothing (no EOF) while "
	      "another descriptor still holds the socket",
	      what, pr, REVENTS(p.revents));
}

void wait_outq_zero(int fd, const char *what)
{
	uint64_t t0 = now_ns();

	while (siocoutq(fd) > 0) {
		CHECK(now_ns() - t0 < WAIT_MS * 1000000ull,
		      "%s: SIOCOUTQ still %d after %d ms with an idle peer", what, siocoutq(fd),
		      WAIT_MS);
		sleep_us(1000);
	}
}

/* Wait (bounded) until SIOCINQ (FIONREAD) reaches want; more than want is a failure. */
void expect_inq(int fd, int want, const char *when)
{
	uint64_t t0 = now_ns();
	int got;

	while ((got = fionread(fd)) != want) {
		CHECK(got < want, "%s: SIOCINQ %d, more than the %d bytes sent", when, got, want);
		CHECK(now_ns() - t0 < 2000000000ull, "%s: SIOCINQ %d, expected %d", when, got,
		      want);
		sleep_us(1000);
	}
}

int sockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int v = -1;

	CHECK_SYS(!getsockopt(fd, level, name, &v, &len), "getsockopt");
	return v;
}

void set_sockopt_int(int fd, int level, int name, int v, const char *what)
{
	CHECK_SYS(!setsockopt(fd, level, name, &v, sizeof(v)), what);
}

uint64_t ms_since(uint64_t t0)
{
	return (now_ns() - t0) / 1000000;
}

void wait_child(pid_t pid, const char *what)
{
	int st;

	CHECK_SYS(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s failed (%s %d; its FAIL line says why)",
	      what, WIFEXITED(st) ? "exit" : "signal",
	      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void *later_run(void *arg)
{
	struct later *l = arg;

	sleep_us(l->delay_us);
	send_stream(l->fd, &l->vs, l->len, &l->r);
	if (l->len2) {
		sleep_us(l->delay_us);
		send_stream(l->fd, &l->vs, l->len2, &l->r);
	}
	if (l->shut_wr)
		CHECK_SYS(!shutdown(l->fd, SHUT_WR), "shutdown(SHUT_WR)");
	return NULL;
}

void later_start(pthread_t *th, struct later *l, struct rng *r)
{
	rng_init(&l->r, g_seed, rng_next(r));
	CHECK(!pthread_create(th, NULL, later_run, l), "pthread_create failed");
}
