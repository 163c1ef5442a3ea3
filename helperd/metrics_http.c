// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The metrics endpoint. It shares the daemon's thread and epoll set, so a scrape reads
 * the helper's state between two events, never during a registration, and nothing here
 * may wait: every socket is non-blocking, a request is at most HELPERD_METRICS_REQ_MAX
 * bytes and every connection is closed HELPERD_METRICS_TIMEOUT_NS after its accept,
 * whatever it did. With all slots taken, a new connection replaces the oldest, so clients
 * that connect and say nothing (slowloris) delay a scrape by at most one retry and never
 * the clients of the helper socket. The server answers exactly one request per
 * connection with "Connection: close"; there is nothing else to serve.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/number.h"
#include "helperd/log.h"
#include "helperd/metrics.h"
#include "helperd/metrics_http.h"
#include "helperd/text.h"

#define LISTEN_BACKLOG 16

static bool v4_loopback(const struct in_addr *a)
{
	return (ntohl(a->s_addr) >> 24) == 127;
}

static bool v6_loopback(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_LOOPBACK(a))
		return true;
	return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

int helperd_metrics_addr_parse(const char *s, struct helperd_metrics_addr *a)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon;
	unsigned int port;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (!s || !s[0])
		return -EINVAL;
	if (s[0] == '/') {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;

		if (strlen(s) >= sizeof(un->sun_path))
			return -EINVAL;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, s);
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(s) + 1);
		a->loopback = true;
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || skaccel_parse_uint(colon + 1, 0, 65535, &port))
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;

		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*in6);
		a->loopback = v6_loopback(&in6->sin6_addr);
		return 0;
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		a->len = sizeof(*in);
		a->loopback = v4_loopback(&in->sin_addr);
	}
	return 0;
}

void helperd_metrics_addr_format(char *buf, size_t len, const struct sockaddr_storage *ss,
				 socklen_t sslen)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss->ss_family == AF_UNIX && sslen > offsetof(struct sockaddr_un, sun_path)) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)ss;

		snprintf(buf, len, "%.*s", (int)(sslen - offsetof(struct sockaddr_un, sun_path)),
			 un->sun_path);
	} else {
		snprintf(buf, len, "(unknown address)");
	}
}

/* The end of the header block, or NULL: a blank line, with or without CRs. */
static const char *headers_end(const char *req, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i + 1] == '\n')
			return req + i + 2;
		if (i + 2 < len && req[i + 1] == '\r' && req[i + 2] == '\n')
			return req + i + 3;
	}
	return NULL;
}

int helperd_metrics_http_parse(const char *req, size_t len, bool *head)
{
	const char *eol, *sp1, *sp2, *path_end;
	size_t mlen, vlen, plen;

	*head = false;
	if (memchr(req, '\0', len))
		return 400;
	eol = memchr(req, '\n', len);
	if (!eol)
		return len >= HELPERD_METRICS_REQ_MAX ? 431 : 0;
	/* The request line: METHOD SP TARGET SP HTTP/1.x, judged as soon as it is whole. */
	sp1 = memchr(req, ' ', (size_t)(eol - req));
	if (!sp1)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2)
		return 400;
	mlen = (size_t)(sp1 - req);
	if (mlen == 0 || mlen > 16 || strspn(req, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != mlen)
		return 400;
	vlen = (size_t)(eol - sp2 - 1);
	if (vlen && sp2[vlen] == '\r')
		vlen--;
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.0", 8) && memcmp(sp2 + 1, "HTTP/1.1", 8)))
		return 400;
	if (sp1[1] != '/')
		return 400;
	if (!headers_end(req, len))
		return len >= HELPERD_METRICS_REQ_MAX ? 431 : 0;
	if (!(mlen == 3 && !memcmp(req, "GET", 3)) && !(mlen == 4 && !memcmp(req, "HEAD", 4)))
		return 405;
	*head = mlen == 4;
	path_end = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	plen = (size_t)((path_end ? path_end : sp2) - sp1 - 1);
	if (plen != strlen("/metrics") || memcmp(sp1 + 1, "/metrics", plen))
		return 404;
	return 200;
}

/* A Unix socket path in the way: replace a dead socket, refuse anything else. */
static int clear_unix_path(const struct helperd_metrics_addr *a)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
	struct stat st;
	int fd, r;

	if (lstat(un->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	/* Non-blocking: a live server with a full backlog must not hold up our start. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0 ? 0 : errno;
	close(fd);
	if (r == 0 || r == EAGAIN)
		return -EADDRINUSE;
	return unlink(un->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

int helperd_metrics_http_open(struct helperd_metrics_http *m, const struct helperd_metrics_addr *a)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int one = 1, r, i;

	memset(m, 0, sizeof(*m));
	m->fd = m->epoll_fd = -1;
	for (i = 0; i < HELPERD_METRICS_MAX_CONNS; i++)
		m->conns[i].fd = -1;
	helperd_ratelimit_init(&m->rl, 10ull * 1000000000ull, 3);
	helperd_metrics_addr_format(m->name, sizeof(m->name), &a->ss, a->len);
	if (a->ss.ss_family == AF_UNIX) {
		r = clear_unix_path(a);
		if (r)
			return r;
	}
	m->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return -errno;
	if (a->ss.ss_family != AF_UNIX)
		setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/*
	 * A Unix socket is born mode 0600 through the umask, rather than chmod()ed by path
	 * afterwards, which a writer of its directory could point elsewhere. The umask is
	 * the process's: this runs before any other thread exists.
	 */
	if (a->ss.ss_family == AF_UNIX) {
		mode_t old = umask(0177);

		r = bind(m->fd, (const struct sockaddr *)&a->ss, a->len);
		umask(old);
	} else {
		r = bind(m->fd, (const struct sockaddr *)&a->ss, a->len);
	}
	if (r < 0)
		goto fail;
	if (listen(m->fd, LISTEN_BACKLOG) < 0)
		goto fail;
	if (getsockname(m->fd, (struct sockaddr *)&bound, &blen) == 0 && a->ss.ss_family != AF_UNIX)
		helperd_metrics_addr_format(m->name, sizeof(m->name), &bound, blen);
	return 0;
fail:
	r = -errno;
	close(m->fd);
	m->fd = -1;
	return r;
}

static uint64_t conn_token(const struct helperd_metrics_http *m, unsigned int i)
{
	return ((uint64_t)m->conns[i].gen << 32) | (m->conn_token + i);
}

int helperd_metrics_http_attach(struct helperd_metrics_http *m, int epoll_fd, uint32_t listen_token,
				uint32_t conn_token, helperd_metrics_render_fn render, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = listen_token };

	m->epoll_fd = epoll_fd;
	m->listen_token = listen_token;
	m->conn_token = conn_token;
	m->render = render;
	m->ctx = ctx;
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, m->fd, &ev) < 0 ? -errno : 0;
}

bool helperd_metrics_http_owns(const struct helperd_metrics_http *m, uint64_t token)
{
	uint32_t low = (uint32_t)token;

	return m && m->fd >= 0 &&
	       (low == m->listen_token ||
		(low >= m->conn_token && low < m->conn_token + HELPERD_METRICS_MAX_CONNS));
}

/* Every complaint of the server on one budget: a client must not flood the log. */
#define http_log(m, level, fmt, ...)                                                        \
	do {                                                                                \
		unsigned int missed_ = 0;                                                   \
		if (helperd_ratelimit_ok(&(m)->rl, helperd_now_ns(), &missed_))             \
			helperd_log(level, "Metrics %s: " fmt "%s", (m)->name, __VA_ARGS__, \
				    missed_ ? " (more suppressed)" : "");                   \
	} while (0)

static void conn_close(struct helperd_metrics_conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd); /* also leaves the epoll set: nobody else holds the socket */
	c->fd = -1;
	c->gen++;
	free(c->out);
	c->out = NULL;
	c->req_len = c->out_len = c->out_off = 0;
}

static int oldest_or_free(struct helperd_metrics_http *m)
{
	int i, oldest = 0;

	for (i = 0; i < HELPERD_METRICS_MAX_CONNS; i++) {
		if (m->conns[i].fd < 0)
			return i;
		if (m->conns[i].since_ns < m->conns[oldest].since_ns)
			oldest = i;
	}
	http_log(m, HELPERD_LOG_DEBUG, "%d connections open, dropping the oldest",
		 HELPERD_METRICS_MAX_CONNS);
	conn_close(&m->conns[oldest]);
	return oldest;
}

static void accept_some(struct helperd_metrics_http *m)
{
	int n, fd, i;

	for (n = 0; n < HELPERD_METRICS_MAX_CONNS; n++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };

		fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			/* Out of fds or memory: stop polling the listener, or it spins. */
			http_log(m, HELPERD_LOG_WARN,
				 "Failed to accept a connection: %m; pausing for a second%s", "");
			if (epoll_ctl(m->epoll_fd, EPOLL_CTL_DEL, m->fd, NULL) == 0)
				m->paused = true;
			return;
		}
		i = oldest_or_free(m);
		m->conns[i].fd = fd;
		m->conns[i].since_ns = helperd_now_ns();
		ev.data.u64 = conn_token(m, (unsigned int)i);
		if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			http_log(m, HELPERD_LOG_WARN, "Failed to watch a connection: %m%s", "");
			conn_close(&m->conns[i]);
		}
	}
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	}
	return "Internal Server Error";
}

/* The whole response in c->out; 0 or -errno. */
static int build_response(struct helperd_metrics_http *m, struct helperd_metrics_conn *c,
			  int status, bool head)
{
	char hdr[256], err_body[64];
	char *body = NULL;
	size_t body_len = 0;
	int hlen, r = 0;

	if (status == 200) {
		r = m->render(m->ctx, &body, &body_len);
		if (r) {
			http_log(m, HELPERD_LOG_WARN, "Failed to render the metrics: %s",
				 strerror(-r));
			status = 500;
		}
	}
	if (status != 200) {
		body_len = (size_t)snprintf(err_body, sizeof(err_body), "%d %s\n", status,
					    reason_phrase(status));
	}
	hlen = snprintf(hdr, sizeof(hdr),
			"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
			"Connection: close\r\n\r\n",
			status, reason_phrase(status),
			status == 200 ? HELPERD_METRICS_CONTENT_TYPE : "text/plain; charset=utf-8",
			body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (head)
		body_len = 0;
	c->out = malloc((size_t)hlen + body_len);
	if (!c->out) {
		free(body);
		return -ENOMEM;
	}
	memcpy(c->out, hdr, (size_t)hlen);
	if (body_len)
		memcpy(c->out + hlen, status == 200 ? body : err_body, body_len);
	c->out_len = (size_t)hlen + body_len;
	c->out_off = 0;
	free(body);
	return 0;
}

/* 1: the response is out (close), 0: the socket is full, wait for EPOLLOUT; -errno. */
static int send_some(struct helperd_metrics_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		c->out_off += (size_t)n;
	}
	return 1;
}

static void conn_readable(struct helperd_metrics_http *m, struct helperd_metrics_conn *c,
			  unsigned int i)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = conn_token(m, i) };
	bool head;
	ssize_t n;
	int status, r;

	n = recv(c->fd, c->req + c->req_len, sizeof(c->req) - c->req_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone before a whole request, or reset */
		conn_close(c);
		return;
	}
	c->req_len += (size_t)n;
	status = helperd_metrics_http_parse(c->req, c->req_len, &head);
	if (status == 0)
		return;
	if (status != 200 && status != 404)
		http_log(m, HELPERD_LOG_DEBUG, "answered %d to a request of %zu bytes", status,
			 c->req_len);
	if (build_response(m, c, status, head)) {
		conn_close(c);
		return;
	}
	r = send_some(c);
	if (r == 0 && epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		return;
	/* Sent, or the client is gone: we serve one request per connection. */
	conn_close(c);
}

void helperd_metrics_http_event(struct helperd_metrics_http *m, uint64_t token, uint32_t events)
{
	uint32_t low = (uint32_t)token;
	struct helperd_metrics_conn *c;
	unsigned int i;

	if (low == m->listen_token) {
		accept_some(m);
		return;
	}
	i = low - m->conn_token;
	if (i >= HELPERD_METRICS_MAX_CONNS)
		return;
	c = &m->conns[i];
	/* Closed (and maybe reused) earlier in the same batch of events. */
	if (c->fd < 0 || c->gen != (uint32_t)(token >> 32))
		return;
	if (c->out) {
		if (send_some(c) != 0)
			conn_close(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_readable(m, c, i);
}

void helperd_metrics_http_tick(struct helperd_metrics_http *m, uint64_t now_ns)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = m->listen_token };
	unsigned int i;

	for (i = 0; i < HELPERD_METRICS_MAX_CONNS; i++)
		if (m->conns[i].fd >= 0 &&
		    now_ns - m->conns[i].since_ns > HELPERD_METRICS_TIMEOUT_NS)
			conn_close(&m->conns[i]);
	if (m->paused && epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->fd, &ev) == 0)
		m->paused = false;
}

void helperd_metrics_http_close(struct helperd_metrics_http *m)
{
	unsigned int i;

	for (i = 0; i < HELPERD_METRICS_MAX_CONNS; i++)
		conn_close(&m->conns[i]);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
