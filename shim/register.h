/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* When and how a connection is handed to the helper: the logic behind connect/accept hooks. */
#ifndef SHIM_REGISTER_H
#define SHIM_REGISTER_H

#include <sys/socket.h>

/*
 * Each runs after the real call, with its result and errno, and never changes either (the
 * hook restores errno). They register synchronously, before the application sees the fd
 * (KERNEL-NOTES §3.4, §3.5: a socket inserted later may duplicate or strand bytes).
 */

/* connect() returned ret (err = errno when ret < 0). */
void shim_after_connect(int fd, const struct sockaddr *addr, socklen_t len, int ret, int err);

/* accept()/accept4() returned the new socket fd; flags are accept4's (SOCK_NONBLOCK). */
void shim_after_accept(int fd, const struct sockaddr *addr, const socklen_t *len, int flags);

/* getsockopt() succeeded on a PENDING fd. */
void shim_after_getsockopt(int fd, int level, int name, const void *val, const socklen_t *len);

#endif /* SHIM_REGISTER_H */
