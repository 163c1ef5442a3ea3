/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* When and how a connection is handed to the helper: the logic behind connect/accept hooks. */
#ifndef SHIM_REGISTER_H
#define SHIM_REGISTER_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * Each runs after the real call, with its result and errno, and never changes either (the
 * hook restores errno). A local connection becomes a candidate; promote.c decides when it
 * is registered (shim_register_candidate()).
 */

/* connect() returned ret (err = errno when ret < 0). */
void shim_after_connect(int fd, const struct sockaddr *addr, socklen_t len, int ret, int err);

/* accept()/accept4() returned the new socket fd; flags are accept4's (SOCK_NONBLOCK). */
void shim_after_accept(int fd, const struct sockaddr *addr, const socklen_t *len, int flags);

/* getsockopt() succeeded on a candidate: SO_ERROR says whether its connect failed. */
void shim_after_getsockopt(int fd, int level, int name, const void *val, const socklen_t *len);

/*
 * Hand the candidate fd to the helper now and record the outcome (REGISTERED, or nothing:
 * plain TCP for good). Only promote.c calls it, with every hooked read on fd excluded.
 * if_peer_waits: only if its peer is registered and waits (SKACCEL_REQ_IF_PEER_WAITS);
 * returns true when it was not for that reason: fd stays a candidate, to ask later.
 */
bool shim_register_candidate(int fd, bool if_peer_waits);

/*
 * Ask the helper whether fd, registered while its peer was not, is paired now; on yes it
 * takes the unsent-bytes mark (if blocking). Returns 1 (paired), 0 (not yet) or -1 (no
 * answer, or a refusal: it is no longer UNPAIRED and asks no more).
 */
int shim_register_ask_paired(int fd);

/* This thread is inside a request to the helper (its own calls come back through hooks). */
bool shim_registering(void);

#endif /* SHIM_REGISTER_H */
