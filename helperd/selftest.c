// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The start-up self-test: a private loopback connection of the helper's, registered like a
 * client's, checked for the kernel behaviour skaccel relies on (KERNEL-NOTES §3, §5, §6).
 *
 * Every check is measured, never assumed: a stable update of 6.18.y already changed
 * FIONREAD on a sockhash socket (KERNEL-NOTES §1), and fixes drift between stables, so
 * the helper tests the running kernel with its own programs and maps rather than trusting
 * a version number (KERNEL-NOTES §1). Sockets are non-blocking and every wait
 * is a bounded poll: a kernel that strands a reader must fail the test, not hang the
 * helper.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "helperd/local_peer.h"
#include "helperd/names.h"
#include "helperd/ratelimit.h"
#include "helperd/registration.h"
#include "helperd/registry.h"
#include "helperd/selftest.h"
#include "helperd/sockcheck.h"

#define WAIT_NS ((uint64_t)HELPERD_SELFTEST_WAIT_MS * 1000000ull)

/*
 * The streams, one per direction and check. Ordering: PRE1 bytes by TCP before either end
 * is registered, PRE2 by TCP once the client is (its sk_msg runs and passes them to TCP,
 * and the server's bytes reach a socket whose sk_skb verdict queues them), then POST in
 * POST_SENDS messages once paired, all of which must be redirected. Each stream fits in
 * HELPERD_SELFTEST_MAX_STREAM, so each byte's value names its offset.
 */
#define PRE1 48
#define PRE2 48
#define SWITCH_AT (PRE1 + PRE2)
#define POST_SENDS 3
#define POST_EACH 40
#define ORDER_LEN (SWITCH_AT + POST_SENDS * POST_EACH)
#define READY_LEN 64
#define EOF_LEN 32
_Static_assert(ORDER_LEN <= HELPERD_SELFTEST_MAX_STREAM, "ordering stream too long");

enum { CLIENT, SERVER };

struct end {
	int fd;
	const char *name;
	__u64 cookie;	  /* 0 until registration read it */
	__u64 redir_sent; /* bytes sent since pairing: each one must have been redirected */
	uint8_t base;	  /* of the streams this end sends */
};

struct selftest {
	const struct helperd_maps *maps;
	struct helperd_selftest_report *rep;
	struct end end[2];
};

static const char *const dir_name[2] = { "client to server", "server to client" };

/* --- the pure part ---------------------------------------------------------------- */

int helperd_selftest_check_stream(const uint8_t *got, size_t got_len, size_t want_len,
				  size_t switch_at, uint8_t base, char *detail, size_t len)
{
	size_t i, n = got_len < want_len ? got_len : want_len, off;

	for (i = 0; i < n && got[i] == helperd_selftest_byte(base, i); i++)
		;
	if (i == n && got_len == want_len)
		return 0;

	if (i < n) {
		/* Every byte before i came right, so the one at i tells what went wrong. */
		off = (uint8_t)(got[i] - base);
		if (off >= want_len)
			snprintf(detail, len,
				 "byte %zu is 0x%02x, expected 0x%02x, and no byte of the %zu-byte "
				 "stream has that value (corrupted)",
				 i, got[i], helperd_selftest_byte(base, i), want_len);
		else if (off < i)
			snprintf(detail, len,
				 "byte %zu is byte %zu of the stream again (duplicated); %zu bytes "
				 "received, %zu sent",
				 i, off, got_len, want_len);
		else if (i < switch_at && off >= switch_at)
			snprintf(detail, len,
				 "byte %zu is byte %zu of the stream: a redirected byte overtook "
				 "%zu bytes sent by TCP before the switch",
				 i, off, switch_at - i);
		else
			snprintf(detail, len,
				 "byte %zu is byte %zu of the stream: the %zu bytes before it were "
				 "lost or reordered",
				 i, off, off - i);
		return -EPROTO;
	}
	if (got_len < want_len) {
		snprintf(detail, len, "received %zu of %zu bytes: %s from byte %zu never arrived",
			 got_len, want_len,
			 got_len >= switch_at	? "the redirected bytes"
			 : want_len > switch_at ? "the bytes sent by TCP, and the redirected ones,"
						: "the bytes",
			 got_len);
		return -EPROTO;
	}
	off = (uint8_t)(got[want_len] - base);
	if (off < want_len)
		snprintf(detail, len,
			 "received %zu bytes, %zu more than sent: byte %zu is byte %zu of the "
			 "stream again (duplicated)",
			 got_len, got_len - want_len, want_len, off);
	else
		snprintf(detail, len,
			 "received %zu bytes, %zu more than sent: byte %zu is 0x%02x, no byte of "
			 "the stream (corrupted)",
			 got_len, got_len - want_len, want_len, got[want_len]);
	return -EPROTO;
}

int helperd_selftest_check_redirect(const struct skaccel_conn *conn, __u64 want_redir, char *detail,
				    size_t len)
{
	unsigned int fb = conn->last_fallback;
	const char *why = helperd_counter_is_fallback(fb) ? helperd_counter_key(fb) : "none";

	if (conn->tx_redir_bytes == want_redir)
		return 0;
	if (conn->tx_redir_bytes > want_redir)
		snprintf(detail, len,
			 "the programs counted %llu redirected bytes, more than the %llu sent "
			 "since pairing",
			 (unsigned long long)conn->tx_redir_bytes, (unsigned long long)want_redir);
	else
		snprintf(detail, len,
			 "sk_msg redirect did not take effect: %llu of %llu bytes sent since "
			 "pairing were redirected, %llu bytes went by TCP (last fallback: %s)",
			 (unsigned long long)conn->tx_redir_bytes, (unsigned long long)want_redir,
			 (unsigned long long)conn->tx_tcp_bytes, why);
	return -EPROTO;
}

/* --- reporting ----------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int failf(struct selftest *t, const char *step,
						       int err, const char *fmt, ...)
{
	va_list ap;

	t->rep->step = step;
	va_start(ap, fmt);
	vsnprintf(t->rep->detail, sizeof(t->rep->detail), fmt, ap);
	va_end(ap);
	return err;
}

/* --- bounded waits -------------------------------------------------------------------- */

/*
 * poll() fd for events until deadline_ns: the revents (> 0), -ETIMEDOUT, or -errno. A
 * POLLERR/POLLHUP counts as ready: the recv or send that follows says what it means.
 */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = helperd_now_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)((deadline_ns - now + 999999) / 1000000));
		if (r > 0)
			return pfd.revents;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int fionread(int fd, int *n)
{
	*n = 0;
	return ioctl(fd, FIONREAD, n) < 0 ? -errno : 0;
}

/*
 * Wait until fd has at least want bytes readable as FIONREAD counts them, without reading
 * them. Loopback delivers within the sender's send() as a rule, but softirq work may be
 * deferred to ksoftirqd on a busy machine, hence the short sleeps. *have gets the count.
 */
static int wait_queued(int fd, int want, int *have)
{
	uint64_t deadline = helperd_now_ns() + WAIT_NS;
	int r;

	for (;;) {
		r = fionread(fd, have);
		if (r || *have >= want)
			return r;
		if (helperd_now_ns() >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, 1);
	}
}

/*
 * Read want bytes (fewer if they do not come within the wait, or EOF comes first), then
 * whatever else is queued right away, up to cap: bytes beyond want are duplicates, for
 * the comparison to report. *eof: the read returned 0 (end of stream) before want.
 */
static int recv_stream(int fd, uint8_t *buf, size_t want, size_t cap, size_t *got, bool *eof)
{
	uint64_t deadline = helperd_now_ns() + WAIT_NS;
	ssize_t n;
	int r;

	*got = 0;
	*eof = false;
	while (*got < want) {
		n = recv(fd, buf + *got, want - *got, MSG_DONTWAIT);
		if (n > 0) {
			*got += (size_t)n;
			continue;
		}
		if (n == 0) {
			*eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = wait_fd(fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return 0;
		if (r < 0)
			return r;
	}
	n = recv(fd, buf + *got, cap - *got, MSG_DONTWAIT);
	if (n > 0)
		*got += (size_t)n;
	return 0;
}

/* --- the steps' building blocks --------------------------------------------------------- */

/* Send bytes [off, off + len) of from's stream with base, in sends messages of equal size. */
static int send_stream(struct selftest *t, const char *step, int from, uint8_t base, size_t off,
		       size_t len, unsigned int sends)
{
	uint8_t buf[HELPERD_SELFTEST_MAX_STREAM];
	size_t i, each = len / sends ? len / sends : 1;
	ssize_t n;

	for (i = 0; i < len; i++)
		buf[i] = helperd_selftest_byte(base, off + i);
	for (i = 0; i < len; i += (size_t)n) {
		size_t chunk = len - i < 2 * each ? len - i : each;

		n = send(t->end[from].fd, buf + i, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n < 0)
			return failf(t, step, -errno, "%s: send of %zu bytes failed: %s",
				     dir_name[from], chunk, strerror(errno));
		if ((size_t)n != chunk)
			return failf(t, step, -EPROTO, "%s: send of %zu bytes sent only %zd",
				     dir_name[from], chunk, n);
	}
	return 0;
}

/* Read a whole stream of want bytes on the end opposite from and compare it. */
static int expect_stream(struct selftest *t, const char *step, int from, uint8_t base, size_t want,
			 size_t switch_at)
{
	uint8_t buf[HELPERD_SELFTEST_MAX_STREAM + 64];
	char why[sizeof(t->rep->detail)];
	size_t got;
	bool eof;
	int r;

	r = recv_stream(t->end[!from].fd, buf, want, sizeof(buf), &got, &eof);
	if (r)
		return failf(t, step, r, "%s: recv failed after %zu of %zu bytes: %s",
			     dir_name[from], got, want, strerror(-r));
	if (!helperd_selftest_check_stream(buf, got, want, switch_at, base, why, sizeof(why)))
		return 0;
	if (got >= want)
		return failf(t, step, -EPROTO, "%s: %s", dir_name[from], why);
	if (eof)
		return failf(t, step, -EPROTO, "%s: %s (EOF came first)", dir_name[from], why);
	return failf(t, step, -ETIMEDOUT, "%s: %s (waited %d ms)", dir_name[from], why,
		     HELPERD_SELFTEST_WAIT_MS);
}

/* The sender's skaccel_conns counters must show every byte since pairing redirected. */
static int expect_redirected(struct selftest *t, const char *step, int from)
{
	char why[sizeof(t->rep->detail)];
	struct skaccel_conn conn;

	if (bpf_map_lookup_elem(t->maps->conns, &t->end[from].cookie, &conn) < 0)
		return failf(t, step, -errno, "%s: read the sender's skaccel_conns entry: %s",
			     dir_name[from], strerror(errno));
	if (!helperd_selftest_check_redirect(&conn, t->end[from].redir_sent, why, sizeof(why)))
		return 0;
	return failf(t, step, -EPROTO, "%s: %s", dir_name[from], why);
}

/* The reader of a shut-down sender reads 0 (EOF), within the wait. */
static int expect_eof(struct selftest *t, int from)
{
	uint64_t deadline = helperd_now_ns() + WAIT_NS;
	int fd = t->end[!from].fd, r;
	uint8_t byte;
	ssize_t n;

	for (;;) {
		n = recv(fd, &byte, 1, MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0)
			return failf(t, HELPERD_SELFTEST_STEP_EOF, -EPROTO,
				     "%s: read byte 0x%02x after the sender's shutdown(SHUT_WR) "
				     "and all it had sent, expected EOF",
				     dir_name[from], byte);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return failf(t, HELPERD_SELFTEST_STEP_EOF, -errno,
				     "%s: recv failed where EOF was expected: %s", dir_name[from],
				     strerror(errno));
		r = wait_fd(fd, POLLIN, deadline);
		if (r == -ETIMEDOUT)
			return failf(t, HELPERD_SELFTEST_STEP_EOF, r,
				     "%s: no EOF within %d ms of the sender's shutdown(SHUT_WR)",
				     dir_name[from], HELPERD_SELFTEST_WAIT_MS);
		if (r < 0)
			return failf(t, HELPERD_SELFTEST_STEP_EOF, r, "%s: poll failed: %s",
				     dir_name[from], strerror(-r));
	}
}

/* --- the steps ---------------------------------------------------------------------------- */

/* A loopback connection: e[CLIENT] connected, e[SERVER] accepted, both non-blocking. */
static int make_pair(struct selftest *t)
{
	const char *step = HELPERD_SELFTEST_STEP_SETUP, *what;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	uint64_t deadline;
	int lfd, err = 0, r;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		return failf(t, step, -errno, "socket: %s", strerror(errno));
	what = "bind 127.0.0.1";
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		goto fail;
	what = "listen";
	if (listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		goto fail;
	what = "socket";
	t->end[CLIENT].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (t->end[CLIENT].fd < 0)
		goto fail;
	what = "connect";
	if (connect(t->end[CLIENT].fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;

	deadline = helperd_now_ns() + WAIT_NS;
	r = wait_fd(t->end[CLIENT].fd, POLLOUT, deadline);
	if (r >= 0) {
		len = sizeof(err);
		if (getsockopt(t->end[CLIENT].fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		r = -err;
	}
	if (r)
		goto fail_r;
	what = "accept";
	r = wait_fd(lfd, POLLIN, deadline);
	if (r < 0)
		goto fail_r;
	t->end[SERVER].fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (t->end[SERVER].fd < 0)
		goto fail;
	close(lfd);
	return 0;

fail:
	r = -errno;
fail_r:
	close(lfd);
	return failf(t, step, r, "%s: %s", what, strerror(-r));
}

/* Register one end through the helper's own code and expect the given outcome. */
static int register_end(struct selftest *t, struct helperd_reg_ctx *ctx, int which, int32_t want,
			__u64 want_peer)
{
	const char *step = HELPERD_SELFTEST_STEP_REGISTER;
	struct end *e = &t->end[which];
	struct helperd_reg_result res;
	const char *got_key, *want_key = helperd_status_key(want);

	helperd_register(ctx, e->fd, getuid(), getpid(), 0, &res);
	if (res.have_tuple)
		e->cookie = res.cookie; /* whatever happened, clean-up knows what to remove */
	if (res.status == want && (!want_peer || res.peer_cookie == want_peer))
		return 0;
	got_key = helperd_status_key(res.status);
	if (res.err)
		return failf(t, step, -res.err, "%s: failed to %s: %s (%s)", e->name,
			     res.step ? res.step : "register", strerror(res.err),
			     got_key ? got_key : "?");
	if (res.status != want)
		return failf(t, step, -EPROTO, "%s: %s, expected %s", e->name,
			     got_key ? got_key : "unknown status", want_key ? want_key : "?");
	return failf(t, step, -EPROTO, "%s: paired with socket %llu, expected the client (%llu)",
		     e->name, (unsigned long long)res.peer_cookie, (unsigned long long)want_peer);
}

/* Bytes sent by TCP did not become readable (FIONREAD) at the other end. */
static int queued_failed(struct selftest *t, int from, int r, int have, int want, const char *when)
{
	if (r != -ETIMEDOUT)
		return failf(t, HELPERD_SELFTEST_STEP_ORDER, r, "%s: FIONREAD: %s", dir_name[from],
			     strerror(-r));
	return failf(t, HELPERD_SELFTEST_STEP_ORDER, r,
		     "%s, %s: FIONREAD counts %d of the %d bytes sent by TCP (waited %d ms)",
		     dir_name[from], when, have, want, HELPERD_SELFTEST_WAIT_MS);
}

/* Both ways: PRE1 + PRE2 bytes by TCP around the inserts, then POST redirected. */
static int check_order(struct selftest *t, struct helperd_reg_ctx *ctx)
{
	const char *step = HELPERD_SELFTEST_STEP_ORDER;
	int r, i, have;

	for (i = CLIENT; i <= SERVER; i++) {
		r = send_stream(t, step, i, t->end[i].base, 0, PRE1, 1);
		if (r)
			return r;
	}
	/* Sent, not yet read: in the receivers' TCP queues before the inserts. */
	for (i = CLIENT; i <= SERVER; i++) {
		r = wait_queued(t->end[!i].fd, PRE1, &have);
		if (r)
			return queued_failed(t, i, r, have, PRE1, "before the inserts");
	}
	r = register_end(t, ctx, CLIENT, SKACCEL_OK_WAITING_PEER, 0);
	if (r)
		return r;

	/*
	 * One end in the sockhash: the client's sk_msg passes its bytes to TCP (no peer),
	 * and the server's TCP bytes reach a socket whose sk_skb verdict queues them behind
	 * the PRE1 bytes the registration's flush moved into its psock queue.
	 */
	for (i = CLIENT; i <= SERVER; i++) {
		r = send_stream(t, step, i, t->end[i].base, PRE1, PRE2, 1);
		if (r)
			return r;
	}
	for (i = CLIENT; i <= SERVER; i++) {
		r = wait_queued(t->end[!i].fd, SWITCH_AT, &have);
		if (r)
			return queued_failed(t, i, r, have, SWITCH_AT,
					     "with the client registered");
	}
	r = register_end(t, ctx, SERVER, SKACCEL_OK_ACCELERATED, t->end[CLIENT].cookie);
	if (r)
		return r;

	/* Paired: these go by the redirect, into queues that hold the TCP bytes first. */
	for (i = CLIENT; i <= SERVER; i++) {
		r = send_stream(t, step, i, t->end[i].base, SWITCH_AT, ORDER_LEN - SWITCH_AT,
				POST_SENDS);
		if (r)
			return r;
		t->end[i].redir_sent += ORDER_LEN - SWITCH_AT;
		r = expect_redirected(t, step, i);
		if (r)
			return r;
	}
	for (i = CLIENT; i <= SERVER; i++) {
		r = expect_stream(t, step, i, t->end[i].base, ORDER_LEN, SWITCH_AT);
		if (r)
			return r;
	}
	return 0;
}

/*
 * Redirected bytes to an idle reader: an edge-triggered epoll set up before they came
 * must be woken (a reader asleep in epoll_wait would be otherwise), poll() must see them
 * and FIONREAD count exactly them.
 */
static int check_ready(struct selftest *t, int from)
{
	const char *step = HELPERD_SELFTEST_STEP_READY;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct pollfd pfd = { .fd = t->end[!from].fd, .events = POLLIN };
	uint8_t base = (uint8_t)(t->end[from].base + 0x40);
	int ep, r, n;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return failf(t, step, -errno, "epoll_create1: %s", strerror(errno));
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd.fd, &ev) < 0) {
		r = failf(t, step, -errno, "epoll_ctl: %s", strerror(errno));
		goto out;
	}
	r = send_stream(t, step, from, base, 0, READY_LEN, 1);
	if (r)
		goto out;
	t->end[from].redir_sent += READY_LEN;
	r = expect_redirected(t, step, from);
	if (r)
		goto out;

	do
		n = epoll_wait(ep, &ev, 1, HELPERD_SELFTEST_WAIT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = failf(t, step, -errno, "epoll_wait: %s", strerror(errno));
		goto out;
	}
	if (n == 0 || !(ev.events & EPOLLIN)) {
		r = failf(t, step, n ? -EPROTO : -ETIMEDOUT,
			  "%s: %d redirected bytes woke no edge-triggered EPOLLIN (events 0x%x, "
			  "waited %d ms)",
			  dir_name[from], READY_LEN, n ? ev.events : 0, HELPERD_SELFTEST_WAIT_MS);
		goto out;
	}
	n = poll(&pfd, 1, 0);
	if (n < 0 || !(pfd.revents & POLLIN)) {
		r = failf(t, step, n < 0 ? -errno : -EPROTO,
			  "%s: poll() reports 0x%x with %d redirected bytes queued, expected "
			  "POLLIN",
			  dir_name[from], n < 0 ? 0 : pfd.revents, READY_LEN);
		goto out;
	}
	r = fionread(pfd.fd, &n);
	if (r || n != READY_LEN) {
		r = failf(t, step, r ? r : -EPROTO,
			  "%s: FIONREAD says %d with %d redirected bytes queued%s%s",
			  dir_name[from], n, READY_LEN, r ? ": " : "", r ? strerror(-r) : "");
		goto out;
	}
	r = expect_stream(t, step, from, base, READY_LEN, 0);
out:
	close(ep);
	return r;
}

/*
 * from shuts down its sending side behind redirected bytes: the reader gets them, then
 * EOF; a send after the shutdown fails with EPIPE (the redirect path would accept it and
 * queue it behind the EOF, where nobody reads it); nothing surfaces after the EOF.
 */
static int check_eof_from(struct selftest *t, int from)
{
	const char *step = HELPERD_SELFTEST_STEP_EOF;
	uint8_t base = (uint8_t)(t->end[from].base + 0x20), byte = 0;
	ssize_t n;
	int r;

	r = send_stream(t, step, from, base, 0, EOF_LEN, 1);
	if (r)
		return r;
	t->end[from].redir_sent += EOF_LEN;
	r = expect_redirected(t, step, from);
	if (r)
		return r;
	if (shutdown(t->end[from].fd, SHUT_WR) < 0)
		return failf(t, step, -errno, "%s: shutdown(SHUT_WR): %s", dir_name[from],
			     strerror(errno));
	r = expect_stream(t, step, from, base, EOF_LEN, 0);
	if (r)
		return r;
	r = expect_eof(t, from);
	if (r)
		return r;

	n = send(t->end[from].fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0 || errno != EPIPE)
		return failf(t, step, -EPROTO,
			     "%s: a send after shutdown(SHUT_WR) %s, expected EPIPE",
			     dir_name[from], n >= 0 ? "was accepted" : strerror(errno));
	n = recv(t->end[!from].fd, &byte, 1, MSG_DONTWAIT);
	if (n != 0)
		return failf(t, step, -EPROTO,
			     "%s: after EOF the reader got %s, expected EOF again", dir_name[from],
			     n > 0 ? "a byte" : strerror(errno));
	return 0;
}

/* The client half-closes first; the server, half-closed on its reading side, still sends. */
static int check_eof(struct selftest *t)
{
	int r;

	r = check_eof_from(t, CLIENT);
	if (r)
		return r;
	r = send_stream(t, HELPERD_SELFTEST_STEP_EOF, SERVER, t->end[SERVER].base, 0, EOF_LEN, 1);
	if (r)
		return r;
	t->end[SERVER].redir_sent += EOF_LEN;
	r = expect_redirected(t, HELPERD_SELFTEST_STEP_EOF, SERVER);
	if (!r)
		r = expect_stream(t, HELPERD_SELFTEST_STEP_EOF, SERVER, t->end[SERVER].base,
				  EOF_LEN, 0);
	if (r) {
		snprintf(t->rep->detail + strlen(t->rep->detail),
			 sizeof(t->rep->detail) - strlen(t->rep->detail),
			 " (to the client, half-closed)");
		return r;
	}
	return check_eof_from(t, SERVER);
}

/* The last close of a socket takes it out of the sockhash: skaccel never deletes it. */
static int check_close(struct selftest *t)
{
	__u64 value;
	int i;

	for (i = CLIENT; i <= SERVER; i++) {
		close(t->end[i].fd);
		t->end[i].fd = -1;
	}
	for (i = CLIENT; i <= SERVER; i++) {
		if (bpf_map_lookup_elem(t->maps->socks, &t->end[i].cookie, &value) == 0)
			return failf(t, HELPERD_SELFTEST_STEP_CLOSE, -EPROTO,
				     "the %s socket is still in skaccel_socks after its last close",
				     t->end[i].name);
		if (errno != ENOENT)
			return failf(t, HELPERD_SELFTEST_STEP_CLOSE, -errno,
				     "look up the %s socket in skaccel_socks: %s", t->end[i].name,
				     strerror(errno));
	}
	return 0;
}

/*
 * Close the sockets (the kernel drops their sockhash entries) and remove what
 * registration added to skaccel_peers and skaccel_conns. Returns r, or the first clean-up
 * error if r is 0.
 */
static int cleanup(struct selftest *t, int r)
{
	const int map_fd[2] = { t->maps->peers, t->maps->conns };
	const char *const map_name[2] = { "skaccel_peers", "skaccel_conns" };
	int i, m;

	for (i = CLIENT; i <= SERVER; i++)
		if (t->end[i].fd >= 0)
			close(t->end[i].fd);
	for (m = 0; m < 2; m++) {
		for (i = CLIENT; i <= SERVER; i++) {
			if (!t->end[i].cookie)
				continue;
			if (bpf_map_delete_elem(map_fd[m], &t->end[i].cookie) == 0 ||
			    errno == ENOENT || r)
				continue;
			r = failf(t, HELPERD_SELFTEST_STEP_CLEANUP, -errno,
				  "delete the %s socket from %s: %s", t->end[i].name, map_name[m],
				  strerror(errno));
		}
	}
	return r;
}

int helperd_selftest(const struct helperd_maps *maps, int pair_prog,
		     struct helperd_selftest_report *rep)
{
	struct selftest t = {
		.maps = maps,
		.rep = rep,
		.end = { { .fd = -1, .name = "client", .base = 0x00 },
			 { .fd = -1, .name = "server", .base = 0x80 } },
	};
	struct helperd_localaddrs localaddrs = {};
	struct helperd_registry registry;
	struct helperd_reg_ctx ctx;
	struct skaccel_config cfg;
	uint64_t start = helperd_now_ns();
	__u32 zero = 0;
	__u64 own_netns;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (bpf_map_lookup_elem(maps->cfg, &zero, &cfg) < 0) {
		r = failf(&t, HELPERD_SELFTEST_STEP_CONFIG, -errno, "%s", strerror(errno));
		goto out;
	}
	if (!cfg.enabled) {
		r = failf(&t, HELPERD_SELFTEST_STEP_CONFIG, -ECANCELED,
			  "acceleration is disabled, so the programs redirect nothing to test");
		goto out;
	}
	r = helperd_own_netns_cookie(&own_netns);
	if (r) {
		r = failf(&t, HELPERD_SELFTEST_STEP_SETUP, r,
			  "read the network namespace cookie: %s", strerror(-r));
		goto out;
	}
	/*
	 * A registry of its own: the pair is registered exactly as a client's sockets are,
	 * but never becomes one of the helper's (no quota, no sweep, no listing).
	 */
	r = helperd_registry_init(&registry, 2);
	if (r) {
		r = failf(&t, HELPERD_SELFTEST_STEP_SETUP, r, "allocate a registry: %s",
			  strerror(-r));
		goto out;
	}
	ctx = (struct helperd_reg_ctx){
		.maps = maps,
		.pair_prog = pair_prog,
		.registry = &registry,
		.localaddrs = &localaddrs,
		.own_netns = own_netns,
		.max_per_user = 2,
		.enabled = true,
	};

	r = make_pair(&t);
	if (!r)
		r = check_order(&t, &ctx);
	if (!r)
		r = check_ready(&t, CLIENT);
	if (!r)
		r = check_ready(&t, SERVER);
	if (!r)
		r = check_eof(&t);
	if (!r)
		r = check_close(&t);
	r = cleanup(&t, r);
	helperd_registry_free(&registry);
	helperd_localaddrs_free(&localaddrs);
out:
	rep->took_ns = helperd_now_ns() - start;
	return r;
}
