/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The helper's listening socket: taken from systemd (LISTEN_FDS) or bound by ourselves. */
#ifndef HELPERD_LISTENER_H
#define HELPERD_LISTENER_H

#include <stdbool.h>
#include <sys/types.h>
#include <sys/un.h>

#define HELPERD_LISTEN_FDS_START 3 /* SD_LISTEN_FDS_START */

struct helperd_listener {
	int fd;
	bool activated;	   /* came from systemd */
	bool created_path; /* we bound path: unlink it at exit if it is still ours */
	dev_t dev;
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * Socket activation, pure: the values of $LISTEN_PID and $LISTEN_FDS and our pid.
 * Returns 1 when activated with exactly one fd (at HELPERD_LISTEN_FDS_START), 0 when not
 * activated ($LISTEN_FDS unset), -EINVAL when the variables are malformed, name another
 * process, or pass other than one fd; *why (if non-NULL) then says which.
 */
int helperd_activation_parse(const char *listen_pid, const char *listen_fds, pid_t self,
			     const char **why);

/* Is fd a listening AF_UNIX SOCK_SEQPACKET socket? 0, or -ENOTSOCK/-EAFNOSUPPORT/
 * -EPROTOTYPE/-EINVAL (not listening), or -errno. */
int helperd_listener_check(int fd);

/* Take over fd from systemd: check it, set CLOEXEC and NONBLOCK; 0 or -errno. */
int helperd_listener_adopt(struct helperd_listener *l, int fd);

/*
 * Bind path ourselves: mkdir -p its parent (0755); if a socket file is there, connect to
 * it: a helper answering is -EADDRINUSE, a dead one (ECONNREFUSED) is unlinked; a
 * non-socket file is -EEXIST. Then bind SOCK_SEQPACKET|CLOEXEC|NONBLOCK under umask 0111
 * (so the socket is 0666 whatever the caller's umask, with no chmod of the path after),
 * listen(SOMAXCONN). 0 or -errno: -ENAMETOOLONG for an empty path or one of 108 bytes or
 * more, -EINVAL for "@name" (an abstract name, which anyone could take first).
 */
int helperd_listener_bind(struct helperd_listener *l, const char *path);

/* Close, and unlink the path if we created it and it is still our socket. */
void helperd_listener_close(struct helperd_listener *l);

#endif /* HELPERD_LISTENER_H */
