/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * --metrics-listen: a minimal HTTP/1.x server for GET /metrics, run by the daemon's
 * event loop. Everything is non-blocking and bounded: a few connections (the oldest is
 * dropped for a new one), a small request, a short deadline, one response, then close.
 */
#ifndef HELPERD_METRICS_HTTP_H
#define HELPERD_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "helperd/ratelimit.h"

#define HELPERD_METRICS_MAX_CONNS 8
#define HELPERD_METRICS_REQ_MAX 2048			  /* request line and headers */
#define HELPERD_METRICS_TIMEOUT_NS (3ull * 1000000000ull) /* from accept to the last byte */

/* Where to listen: "127.0.0.1:PORT", "[::1]:PORT" or an absolute Unix socket path. */
struct helperd_metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback; /* 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, or a Unix socket */
};

/*
 * Parse a --metrics-listen value: numeric addresses only (no name lookup), port 0 to
 * 65535 (0: any free port, logged). 0 or -EINVAL.
 */
int helperd_metrics_addr_parse(const char *s, struct helperd_metrics_addr *a);

/* Format a bound address (getsockname) for the log: "127.0.0.1:9464", "[::1]:9464", path. */
void helperd_metrics_addr_format(char *buf, size_t len, const struct sockaddr_storage *ss,
				 socklen_t sslen);

/*
 * What a request asks for, once its headers are complete: 0 if more bytes are needed,
 * else the HTTP status to answer: 200 (GET or HEAD /metrics, *head set for HEAD), 404
 * (another path), 405 (another method), 400 (not HTTP/1.x) or 431 (no end within
 * HELPERD_METRICS_REQ_MAX bytes). Pure.
 */
int helperd_metrics_http_parse(const char *req, size_t len, bool *head);

/* Renders the body of a 200: a malloc'ed buffer; 0 or -errno. */
typedef int (*helperd_metrics_render_fn)(void *ctx, char **buf, size_t *len);

struct helperd_metrics_conn {
	int fd; /* -1: free */
	uint32_t gen;
	uint64_t since_ns;
	char req[HELPERD_METRICS_REQ_MAX];
	size_t req_len;
	char *out; /* the response, once the request is complete */
	size_t out_len, out_off;
};

struct helperd_metrics_http {
	int fd;
	int epoll_fd;
	uint32_t listen_token; /* epoll token of the listener */
	uint32_t conn_token;   /* ... of connection slot i: conn_token + i, gen in the high half */
	bool paused;	       /* out of fds: not accepting until the next tick */
	helperd_metrics_render_fn render;
	void *ctx;
	struct helperd_metrics_conn conns[HELPERD_METRICS_MAX_CONNS];
	struct helperd_ratelimit rl; /* every log line of the server together */
	char name[128];		     /* the bound address */
};

/*
 * Bind and listen (non-blocking, close-on-exec). A Unix socket path is replaced only if
 * it is a socket nobody answers on (-EADDRINUSE if someone does, -EEXIST if it is not a
 * socket), and made mode 0600. 0 or -errno; m->name holds the address either way.
 */
int helperd_metrics_http_open(struct helperd_metrics_http *m, const struct helperd_metrics_addr *a);

/* Add the listener to epoll_fd with the given tokens; conn_token..+MAX_CONNS-1 are ours. */
int helperd_metrics_http_attach(struct helperd_metrics_http *m, int epoll_fd, uint32_t listen_token,
				uint32_t conn_token, helperd_metrics_render_fn render, void *ctx);

/* Is this token ours (the listener's or a connection's)? */
bool helperd_metrics_http_owns(const struct helperd_metrics_http *m, uint64_t token);

/* Handle an epoll event with one of our tokens. */
void helperd_metrics_http_event(struct helperd_metrics_http *m, uint64_t token, uint32_t events);

/* Once a second: drop connections past their deadline, resume a paused listener. */
void helperd_metrics_http_tick(struct helperd_metrics_http *m, uint64_t now_ns);

/* Close every connection and the listener; a Unix socket path stays (replaced at start). */
void helperd_metrics_http_close(struct helperd_metrics_http *m);

#endif /* HELPERD_METRICS_HTTP_H */
