// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The sd_notify datagram: one AF_UNIX SOCK_DGRAM message to $NOTIFY_SOCKET. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "helperd/notify.h"

int helperd_notify_addr(const char *env, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (!env || (env[0] != '/' && env[0] != '@'))
		return -EINVAL;
	n = strlen(env);
	if (n < 2)
		return -EINVAL;
	if (n > sizeof(sa->sun_path) - (env[0] == '/')) /* a path needs its NUL */
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, env, n);
	if (env[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: the length, not a NUL, ends the name */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (env[0] == '/'));
	return 0;
}

int helperd_notify(const char *env, const char *text)
{
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t n;
	int fd, r;

	if (!env)
		return 0;
	r = helperd_notify_addr(env, &sa, &len);
	if (r)
		return r;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}
