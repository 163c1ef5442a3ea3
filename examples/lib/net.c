// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The socket plumbing both examples need (net.h says what each part is for). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/lib/net.h"

int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t recv_some(int fd, void *buf, size_t len, bool may_timeout, uint64_t *eagain_retries)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && !may_timeout) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (eagain_retries)
				(*eagain_retries)++;
			poll(&p, 1, 1000);
			continue;
		}
		return -errno;
	}
}

int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int resolve(int family, const char *host, const char *port, int flags, struct sockaddr_storage *ss,
	    socklen_t *len)
{
	struct addrinfo hints = { .ai_family = family,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = flags };
	struct addrinfo *ai;
	int err;

	err = getaddrinfo(host, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "%s: Failed to resolve %s port %s: %s\n",
			program_invocation_short_name, host, port, gai_strerror(err));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}
