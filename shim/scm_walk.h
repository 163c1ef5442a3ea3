/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Walking the descriptors the SCM_RIGHTS messages of a msghdr carry. */
#ifndef SHIM_SCM_WALK_H
#define SHIM_SCM_WALK_H

#include <sys/socket.h>

/* Call fn(fd, ctx) for every descriptor in every SCM_RIGHTS control message of msg. */
void shim_scm_for_each_fd(const struct msghdr *msg, void (*fn)(int fd, void *ctx), void *ctx);

#endif /* SHIM_SCM_WALK_H */
