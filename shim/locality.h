/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Which sockets are worth handing to the helper: TCP connections whose peer may be this host. */
#ifndef SHIM_LOCALITY_H
#define SHIM_LOCALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum shim_sock_kind {
	SHIM_SOCK_OTHER,  /* not an AF_INET/AF_INET6 TCP connection (or unknown): ignore silently */
	SHIM_SOCK_REMOTE, /* TCP, but the peer is another host */
	SHIM_SOCK_LOCAL,  /* TCP to this host: a candidate */
};

/* A connection's two ends, as the kernel reports them. */
struct shim_endpoints {
	struct sockaddr_storage self;
	struct sockaddr_storage peer;
};

/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. */
bool shim_addr_is_loopback(const struct sockaddr *sa);

/* Same IP address, an IPv4 one and its v4-mapped form being the same (ports ignored). */
bool shim_addr_same_ip(const struct sockaddr *a, const struct sockaddr *b);

/*
 * SHIM_SOCK_LOCAL if a connection between these addresses can only be local: the peer is a
 * loopback address, or it is our own address (a connection to one of this host's own
 * addresses takes that address as its source). Anything unexpected is SHIM_SOCK_OTHER.
 */
enum shim_sock_kind shim_peer_kind(const struct sockaddr *self, const struct sockaddr *peer);

/*
 * Classify a socket from what the kernel says: family, type, protocol (SO_PROTOCOL ==
 * IPPROTO_TCP keeps MPTCP and SCTP out), own and peer address. peer_hint, if not NULL, is
 * used as the peer address while the kernel has none yet (a connect() in progress). Fills
 * ep (for logging) as far as it got. Any failing call means SHIM_SOCK_OTHER: the helper makes
 * the authoritative check anyway, this one only spares it the obvious refusals.
 */
enum shim_sock_kind shim_classify_fd(int fd, struct shim_endpoints *ep,
				     const struct sockaddr *peer_hint, socklen_t hint_len);

/*
 * shim_classify_fd() for a socket whose TCP_INFO the caller has just read: it has a TCP
 * level, so it is no raw socket and SO_TYPE need not be asked (one system call less on
 * every registration). No peer hint: the caller saw it established.
 */
enum shim_sock_kind shim_classify_tcp_fd(int fd, struct shim_endpoints *ep);

/* Format "1.2.3.4:80" or "[::1]:80" into buf; "?" for anything else. Returns buf. */
char *shim_addr_format(const struct sockaddr *sa, char *buf, size_t len);

/* Longest string shim_addr_format() writes, with its terminator. */
#define SHIM_ADDRSTRLEN (46 + 2 + 1 + 5 + 1 + 11)

#endif /* SHIM_LOCALITY_H */
