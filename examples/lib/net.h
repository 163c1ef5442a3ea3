/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The socket plumbing both examples need, so that each example file shows its own idea
 * (tcp_echo_server: serving; tcp_bench_client: measuring). Plain TCP; nothing here knows
 * about skaccel.
 */
#ifndef EXAMPLES_NET_H
#define EXAMPLES_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Write all of buf; 0 or -errno. MSG_NOSIGNAL: a peer that went away is not fatal. */
int send_all(int fd, const void *buf, size_t len);

/*
 * recv() that retries EINTR; >= 0 bytes or -errno. A blocking socket without SO_RCVTIMEO
 * should never report EAGAIN, but one in a sockhash can (docs/KERNEL-NOTES.md §6.4):
 * unless may_timeout (SO_RCVTIMEO is set, so EAGAIN is the timeout), wait for data with
 * poll() and retry, counting each time in *eagain_retries if it is not NULL.
 */
ssize_t recv_some(int fd, void *buf, size_t len, bool may_timeout, uint64_t *eagain_retries);

/* A decimal number from 0 to max, nothing else around it; 0 or -1. */
int parse_uint(const char *s, uint64_t max, uint64_t *out);

/*
 * The address of host and port (getaddrinfo() with ai_flags flags) into *ss; 0, or -1
 * after saying why on stderr.
 */
int resolve(int family, const char *host, const char *port, int flags, struct sockaddr_storage *ss,
	    socklen_t *len);

#endif /* EXAMPLES_NET_H */
