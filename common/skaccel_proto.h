/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The wire protocol between the shim (libskaccel.so, skaccel-run) and skaccel-helperd.
 *
 * Transport: AF_UNIX SOCK_SEQPACKET, so every request and reply is one message and a
 * short read can never desynchronise the stream. A request is exactly one
 * struct skaccel_req; REGISTER and PAIRED carry exactly one socket fd in SCM_RIGHTS, PING
 * carries none. The helper answers every request it can parse with exactly one
 * struct skaccel_reply echoing op and seq. All integers are host byte order (both ends
 * run on the same host); every struct has fixed-width fields and explicit padding.
 */
#ifndef SKACCEL_PROTO_H
#define SKACCEL_PROTO_H

#include <stdint.h>

#define SKACCEL_MAGIC 0x534b4143u /* "SKAC" */
/*
 * 2: the request carries deadline_ns (24 bytes, was 16), and the helper may answer
 * NOT_OWNER and OTHER_NETNS. A shim treats any status below 0, known or not, as "stay on
 * TCP", so new refusals need no new shim; a changed layout does. PAIRED came later with
 * the same layout: a helper without it answers UNKNOWN_OP, and the shim stops asking.
 */
#define SKACCEL_PROTO_VERSION 2

/* Default helper socket; SKACCEL_SOCKET (shim, skaccel-run) and --socket (helper) override. */
#define SKACCEL_DEFAULT_SOCKET "/run/skaccel/helperd.sock"
#define SKACCEL_SOCKET_ENV "SKACCEL_SOCKET"

enum skaccel_op {
	SKACCEL_OP_PING = 1,	 /* no fd; reply SKACCEL_OK_PONG: "is a helper there?" */
	SKACCEL_OP_REGISTER = 2, /* one TCP socket fd: accelerate this connection */
	/*
	 * One TCP socket fd the client registered and was told WAITING_PEER: has its peer
	 * come since? Reply OK_ACCELERATED (paired), OK_WAITING_PEER (not yet) or a refusal
	 * (NOT_ESTABLISHED with err ENOENT: the helper holds no such registration; the
	 * socket's checks as for REGISTER). Changes nothing and is not counted.
	 */
	SKACCEL_OP_PAIRED = 3,
};

/*
 * Request flags. REGISTER_IF_PEER_WAITS (REGISTER only): register the socket only if its
 * other end is registered and waiting for it; otherwise do nothing and answer OK_NO_PEER.
 * The shim sets it when a connection is due for promotion only by what it has read: a
 * reader registered before its writer would wait, every segment through the sk_skb program,
 * for a writer that may never register (one sending small writes stays on TCP, where they
 * are faster). A helper without it answers BAD_REQUEST, and the shim stops setting it.
 */
#define SKACCEL_REQ_IF_PEER_WAITS 0x1u

/*
 * Every outcome the helper can report, defined here once: X(NAME, value, key, phrase,
 * metric, label) gives SKACCEL_<NAME> = value, its stable snake_case key (JSON, --stats),
 * a short phrase for people (skaccel_status_str()), and its Prometheus counter: the
 * metric name after "skaccel_" and the name of the label whose value is the key (NULL:
 * none; helperd/metrics.c). Values >= 0 are successes, < 0 are refusals; the connection
 * stays usable on plain TCP in every case.
 */
#define SKACCEL_STATUS_LIST(X)                                                                     \
	/* both ends registered: the fast path is live */                                          \
	X(OK_ACCELERATED, 0, "accelerated", "accelerated", "connections_accelerated_total", NULL)  \
	/* registered; accelerates when the peer registers */                                      \
	X(OK_WAITING_PEER, 1, "waiting_peer", "registered, peer not opted in yet",                 \
	  "registrations_waiting_peer_total", NULL)                                                \
	/* answer to PING */                                                                       \
	X(OK_PONG, 2, "pong", "pong", "pings_total", NULL)                                         \
	/* REGISTER_IF_PEER_WAITS and the peer has not registered: nothing done, ask later */      \
	X(OK_NO_PEER, 3, "no_peer", "not registered, peer not registered yet",                     \
	  "registrations_deferred_total", NULL)                                                    \
	/* wrong size, magic or reserved bits */                                                   \
	X(ERR_BAD_REQUEST, -1, "bad_request", "bad request", "registrations_refused_total",        \
	  "reason")                                                                                \
	/* protocol version not spoken by this helper */                                           \
	X(ERR_VERSION, -2, "version", "unsupported protocol version",                              \
	  "registrations_refused_total", "reason")                                                 \
	X(ERR_UNKNOWN_OP, -3, "unknown_op", "unknown operation", "registrations_refused_total",    \
	  "reason")                                                                                \
	/* REGISTER without an fd */                                                               \
	X(ERR_NO_FD, -4, "no_fd", "no fd passed", "registrations_refused_total", "reason")         \
	/* more than one fd, or fds on an op that takes none */                                    \
	X(ERR_TOO_MANY_FDS, -5, "too_many_fds", "too many fds passed",                             \
	  "registrations_refused_total", "reason")                                                 \
	/* the fd is a file, pipe, FIFO, eventfd, ... */                                           \
	X(ERR_NOT_SOCKET, -6, "not_socket", "not a socket", "registrations_refused_total",         \
	  "reason")                                                                                \
	/* not an AF_INET/AF_INET6 SOCK_STREAM IPPROTO_TCP socket */                               \
	X(ERR_NOT_TCP, -7, "not_tcp", "not a TCP socket", "registrations_refused_total", "reason") \
	/* listening, connecting or closing */                                                     \
	X(ERR_NOT_ESTABLISHED, -8, "not_established", "not an established connection",             \
	  "registrations_refused_total", "reason")                                                 \
	/* the peer is on another host: TCP is already right */                                    \
	X(ERR_NOT_LOCAL, -9, "not_local", "not local", "registrations_refused_total", "reason")    \
	/* this socket is registered already */                                                    \
	X(ERR_ALREADY, -10, "already", "already registered", "registrations_refused_total",        \
	  "reason")                                                                                \
	/* ULP (kTLS), SO_ZEROCOPY: the redirect cannot serve it */                                \
	X(ERR_UNSUPPORTED, -11, "unsupported", "socket option not supported by the fast path",     \
	  "registrations_refused_total", "reason")                                                 \
	X(ERR_POLICY, -12, "policy", "refused by policy", "registrations_refused_total", "reason") \
	/* the caller's user has too many registered sockets */                                    \
	X(ERR_QUOTA, -13, "quota", "per-user quota exceeded", "registrations_refused_total",       \
	  "reason")                                                                                \
	/* the sockhash is full */                                                                 \
	X(ERR_MAP_FULL, -14, "map_full", "sockhash full", "registrations_refused_total", "reason") \
	/* the helper runs with acceleration disabled */                                           \
	X(ERR_DISABLED, -15, "disabled", "acceleration disabled", "registrations_refused_total",   \
	  "reason")                                                                                \
	/* control data was truncated (MSG_CTRUNC) */                                              \
	X(ERR_TRUNCATED, -16, "truncated", "control data truncated",                               \
	  "registrations_refused_total", "reason")                                                 \
	/* the helper failed; detail in err and its log */                                         \
	X(ERR_INTERNAL, -17, "internal", "helper internal error", "registrations_refused_total",   \
	  "reason")                                                                                \
	/* reached the helper too close to its deadline */                                         \
	X(ERR_TOO_LATE, -18, "too_late", "helper answered too late",                               \
	  "registrations_refused_total", "reason")                                                 \
	/* the socket was created by another user */                                               \
	X(ERR_NOT_OWNER, -19, "not_owner", "socket of another user",                               \
	  "registrations_refused_total", "reason")                                                 \
	/* the socket is in another network namespace */                                           \
	X(ERR_OTHER_NETNS, -20, "other_netns", "socket in another network namespace",              \
	  "registrations_refused_total", "reason")

enum skaccel_status {
#define SKACCEL_STATUS_ENUM_(name, value, ...) SKACCEL_##name = value,
	SKACCEL_STATUS_LIST(SKACCEL_STATUS_ENUM_)
#undef SKACCEL_STATUS_ENUM_
};

/* Tables indexed by status must cover SKACCEL_STATUS_MIN..SKACCEL_STATUS_MAX. */
#define SKACCEL_STATUS_MIN SKACCEL_ERR_OTHER_NETNS
#define SKACCEL_STATUS_MAX SKACCEL_OK_NO_PEER

struct skaccel_req {
	uint32_t magic;	  /* SKACCEL_MAGIC */
	uint16_t version; /* SKACCEL_PROTO_VERSION */
	uint16_t op;	  /* enum skaccel_op */
	uint32_t flags;	  /* SKACCEL_REQ_*, only on the ops that take them; others 0 */
	uint32_t seq;	  /* chosen by the client, echoed in the reply */
	/*
	 * CLOCK_MONOTONIC time at which the client stops waiting for the reply (0: none).
	 * Once a client has given up it uses the socket on plain TCP; inserting it after
	 * that could strand a reader already blocked in recv() (KERNEL-NOTES §3.5), so the
	 * helper refuses a request it cannot finish well before this.
	 */
	uint64_t deadline_ns;
};
_Static_assert(sizeof(struct skaccel_req) == 24, "skaccel_req is 24 bytes on the wire");

struct skaccel_reply {
	uint32_t magic;	   /* SKACCEL_MAGIC */
	uint16_t version;  /* SKACCEL_PROTO_VERSION */
	uint16_t op;	   /* echoed from the request (0 if it could not be parsed) */
	uint32_t seq;	   /* echoed from the request (0 if it could not be parsed) */
	int32_t status;	   /* enum skaccel_status */
	int32_t err;	   /* positive errno behind the status, 0 if none */
	uint32_t reserved; /* 0 */
	uint64_t cookie;   /* the socket's SO_COOKIE when known, else 0 */
};
_Static_assert(sizeof(struct skaccel_reply) == 32, "skaccel_reply is 32 bytes on the wire");

/* A short, stable, human-readable phrase for a status ("accelerated", "not local", ...). */
const char *skaccel_status_str(int32_t status);

/* Fill in a request header for op/seq. */
void skaccel_req_init(struct skaccel_req *req, enum skaccel_op op, uint32_t seq);

/*
 * Check a received request: len is what recvmsg() returned, nfds how many fds came with it.
 * Returns SKACCEL_OK_ACCELERATED (0) when the request is well formed, else the refusal to
 * send back. Pure: no I/O, so the fuzzer and unit tests drive it directly.
 */
int32_t skaccel_req_validate(const void *buf, long len, int nfds);

/* Check a received reply against the request it answers; 0 if it is the one, else -EPROTO. */
int skaccel_reply_check(const struct skaccel_reply *rep, long len, const struct skaccel_req *req);

#endif /* SKACCEL_PROTO_H */
