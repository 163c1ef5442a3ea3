// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target for the helper's request decoding: what a hostile client controls is
 * the bytes of one SOCK_SEQPACKET message and how many fds come with it.
 *
 * Input: byte 0 is the fd count (as a signed char, so negative and absurd counts are tried
 * too), the rest is the message. Each input drives:
 *   - skaccel_req_validate(): must return a known status, agree with an independent
 *     reading of the protocol (skaccel_proto.h), and be deterministic;
 *   - skaccel_status_str() on every 32-bit window of the input: never NULL or empty;
 *   - skaccel_reply_check() with the input read as a reply: accepts only the exact reply;
 *   - a round trip through a real AF_UNIX SOCK_SEQPACKET pair, received with
 *     skaccel_recv_fds() into the helper's buffer sizes: the length, the fds that arrive
 *     and the truncation flag are what the kernel says they must be, and no fd leaks.
 * A property that fails calls abort(), which libFuzzer reports as a crash.
 *
 * SKT_FUZZ_CANARY=1 makes an input starting with "CRSH" abort, so that
 * tests/e2e/core/fuzz_request.sh can prove it notices a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "common/skaccel_proto.h"

#define HELPER_BUF 64 /* helperd/clients.c: more than a request, so oversize is refused */
#define MAX_SEND_FDS 6

static int pair[2] = { -1, -1 };
static int pipe_fds[2] = { -1, -1 };
static bool canary;

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_request: %s:%d: property failed: %s\n", __FILE__, \
				__LINE__, #cond);                                               \
			abort();                                                                \
		}                                                                               \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *c = getenv("SKT_FUZZ_CANARY");

	canary = c && !strcmp(c, "1");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0 ||
	    pipe2(pipe_fds, O_CLOEXEC) < 0) {
		perror("fuzz_request: set-up");
		exit(1);
	}
	return 0;
}

/* Statuses are contiguous from SKACCEL_ERR_INTERNAL up; newer ones may follow below it. */
static bool known_status(int32_t s)
{
	return strcmp(skaccel_status_str(s), "unknown status") != 0;
}

/* The protocol as skaccel_proto.h states it, written independently of skaccel_proto.c. */
static int32_t expected_status(const uint8_t *buf, long len, int nfds)
{
	uint32_t magic, flags;
	uint16_t version, op;

	if (len != (long)sizeof(struct skaccel_req))
		return SKACCEL_ERR_BAD_REQUEST;
	memcpy(&magic, buf + offsetof(struct skaccel_req, magic), sizeof(magic));
	memcpy(&version, buf + offsetof(struct skaccel_req, version), sizeof(version));
	memcpy(&op, buf + offsetof(struct skaccel_req, op), sizeof(op));
	memcpy(&flags, buf + offsetof(struct skaccel_req, flags), sizeof(flags));
	/* One flag, IF_PEER_WAITS, and only on REGISTER. */
	if (magic != SKACCEL_MAGIC ||
	    (flags && (op != SKACCEL_OP_REGISTER || flags != SKACCEL_REQ_IF_PEER_WAITS)))
		return SKACCEL_ERR_BAD_REQUEST;
	if (version != SKACCEL_PROTO_VERSION)
		return SKACCEL_ERR_VERSION;
	if (op == SKACCEL_OP_PING)
		return nfds ? SKACCEL_ERR_TOO_MANY_FDS : 0;
	if (op == SKACCEL_OP_REGISTER || op == SKACCEL_OP_PAIRED)
		return nfds == 0 ? SKACCEL_ERR_NO_FD : nfds == 1 ? 0 : SKACCEL_ERR_TOO_MANY_FDS;
	return SKACCEL_ERR_UNKNOWN_OP;
}

static void check_validate(const uint8_t *msg, size_t len, int nfds)
{
	int32_t s = skaccel_req_validate(msg, (long)len, nfds);

	CHECK(known_status(s));
	CHECK(s <= 0); /* a request is valid (0) or refused, never a "success" status */
	CHECK(s == skaccel_req_validate(msg, (long)len, nfds));
	if (nfds >= 0)
		CHECK(s == expected_status(msg, (long)len, nfds));
	CHECK(skaccel_req_validate(NULL, (long)len, nfds) == SKACCEL_ERR_BAD_REQUEST);
	CHECK(skaccel_req_validate(msg, -(long)len - 1, nfds) == SKACCEL_ERR_BAD_REQUEST);
}

static void check_strings(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i + 4 <= size; i++) {
		int32_t s;
		const char *str;

		memcpy(&s, data + i, 4);
		str = skaccel_status_str(s);
		CHECK(str && str[0]);
		if (s >= SKACCEL_STATUS_MIN && s <= SKACCEL_STATUS_MAX)
			CHECK(known_status(s)); /* no hole in the enum without a phrase */
	}
}

static void check_reply(const uint8_t *msg, size_t len)
{
	struct skaccel_reply rep;
	struct skaccel_req req;
	int r;

	if (len < sizeof(rep) + sizeof(req))
		return;
	memcpy(&rep, msg, sizeof(rep));
	memcpy(&req, msg + sizeof(rep), sizeof(req));
	r = skaccel_reply_check(&rep, (long)sizeof(rep), &req);
	CHECK(r == 0 || r == -EPROTO);
	CHECK((r == 0) == (rep.magic == SKACCEL_MAGIC && rep.version == SKACCEL_PROTO_VERSION &&
			   rep.op == req.op && rep.seq == req.seq));
	CHECK(skaccel_reply_check(&rep, (long)sizeof(rep) - 1, &req) == -EPROTO);
}

/* Send msg with n fds (dups of one pipe end) the way a client could, receive it the way the
 * helper does, and check what arrived. */
static void check_round_trip(const uint8_t *msg, size_t len, int n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[SKACCEL_FD_PASS_MAX], nfds, truncated, i, probe, probe_after;
	int send_fds[MAX_SEND_FDS];
	char buf[HELPER_BUF];
	ssize_t sent, got;

	if (n < 0 || n > MAX_SEND_FDS)
		n = n < 0 ? 0 : MAX_SEND_FDS;
	probe = dup(pipe_fds[0]); /* the lowest free fd number: it must be free again after */
	CHECK(probe >= 0);
	close(probe);

	if (n == 0 || n == 1) {
		sent = skaccel_send_fd(pair[0], msg, len, n ? pipe_fds[0] : -1, MSG_DONTWAIT);
	} else {
		struct cmsghdr *c;

		for (i = 0; i < n; i++)
			send_fds[i] = pipe_fds[0];
		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), send_fds, sizeof(int) * n);
		sent = sendmsg(pair[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0)
			sent = -errno;
	}
	if (sent < 0) {
		CHECK(sent == -EMSGSIZE || sent == -ENOBUFS); /* larger than the socket takes */
		return;
	}
	CHECK((size_t)sent == len);

	got = skaccel_recv_fds(pair[1], buf, sizeof(buf), fds, &nfds, &truncated, MSG_DONTWAIT);
	CHECK(got >= 0);
	CHECK((size_t)got == (len < sizeof(buf) ? len : sizeof(buf)));
	CHECK(memcmp(buf, msg, (size_t)got) == 0);
	CHECK(nfds == (n < SKACCEL_FD_PASS_MAX ? n : SKACCEL_FD_PASS_MAX));
	CHECK(truncated == (len > sizeof(buf) || n > SKACCEL_FD_PASS_MAX));
	for (i = 0; i < nfds; i++) {
		CHECK(fds[i] >= 0);
		CHECK(fcntl(fds[i], F_GETFD) == FD_CLOEXEC); /* MSG_CMSG_CLOEXEC */
		close(fds[i]);
	}
	/* The helper's own rule, applied to what arrived. */
	if (!truncated)
		CHECK(skaccel_req_validate(buf, got, nfds) == expected_status(msg, (long)len, n));
	probe_after = dup(pipe_fds[0]);
	CHECK(probe_after == probe); /* nothing that arrived is left open */
	close(probe_after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *msg;
	size_t len;
	int nfds;

	if (size == 0)
		return 0;
	if (canary && size >= 4 && !memcmp(data, "CRSH", 4))
		abort();
	nfds = (int)(int8_t)data[0];
	msg = data + 1;
	len = size - 1;

	check_validate(msg, len, nfds);
	check_strings(data, size);
	check_reply(msg, len);
	check_round_trip(msg, len, nfds);
	return 0;
}
