/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* sd_notify(3) by hand: telling systemd we are ready, what we do, and that we stop. */
#ifndef HELPERD_NOTIFY_H
#define HELPERD_NOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

/*
 * $NOTIFY_SOCKET -> address, pure. "/path" is a filesystem socket, "@name" an abstract
 * one (leading NUL). Returns 0, or -EINVAL (empty, relative, unsupported such as vsock:)
 * or -ENAMETOOLONG.
 */
int helperd_notify_addr(const char *env, struct sockaddr_un *sa, socklen_t *len);

/* Send text (e.g. "READY=1\nSTATUS=...") if env is set; 0 when unset or sent, else -errno. */
int helperd_notify(const char *env, const char *text);

#endif /* HELPERD_NOTIFY_H */
