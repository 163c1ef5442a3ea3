/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The helper socket's address, and sending and receiving one message with file descriptors
 * over it (AF_UNIX, SCM_RIGHTS).
 */
#ifndef SKACCEL_FD_PASS_H
#define SKACCEL_FD_PASS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

/*
 * The address of the helper socket at path: a file, or "@name" for a name in the abstract
 * namespace (no terminator, the exact length counts). 0, or -ENAMETOOLONG when path is
 * empty or does not fit.
 */
int skaccel_unix_addr(const char *path, struct sockaddr_un *sun, socklen_t *len);

/* Most fds skaccel_recv_fds() accepts in one message; more sets *truncated. */
#define SKACCEL_FD_PASS_MAX 4

/*
 * Send one message of len bytes with fd attached (fd < 0: none), MSG_NOSIGNAL plus
 * extra_flags. Returns bytes sent or -errno.
 */
ssize_t skaccel_send_fd(int sock, const void *buf, size_t len, int fd, int extra_flags);

/*
 * Receive one message into buf (up to len bytes) and the fds that came with it, CLOEXEC.
 * On return *nfds fds are stored in fds[] (max SKACCEL_FD_PASS_MAX) and belong to the
 * caller. *truncated is set when the message or its control data did not fit (MSG_TRUNC
 * or MSG_CTRUNC): the fds that did arrive are still returned so the caller can close them.
 * Anything in the control data that is not SCM_RIGHTS is ignored. Returns bytes received
 * (0 at EOF) or -errno.
 */
ssize_t skaccel_recv_fds(int sock, void *buf, size_t len, int fds[SKACCEL_FD_PASS_MAX], int *nfds,
			 int *truncated, int extra_flags);

#endif /* SKACCEL_FD_PASS_H */
