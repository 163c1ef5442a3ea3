/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Validating an fd a client handed over, and deriving its keys from the kernel alone. */
#ifndef HELPERD_SOCKCHECK_H
#define HELPERD_SOCKCHECK_H

#include <linux/types.h>
#include <stdint.h>

#include "common/skaccel_maps.h"

/*
 * Is fd an established TCP socket the redirect path can serve? Returns 0 or the refusal
 * (enum skaccel_status: NOT_SOCKET, NOT_TCP, NOT_ESTABLISHED, UNSUPPORTED, or INTERNAL
 * with *err set to the errno of the call that failed).
 */
int32_t helperd_sock_check(int fd, int *err);

/*
 * The socket's cookie (SO_COOKIE, which also assigns it) and its pairing tuple (netns
 * cookie, getsockname, getpeername). Returns 0, NOT_ESTABLISHED when the peer has gone
 * meanwhile (ENOTCONN), or INTERNAL with *err.
 */
int32_t helperd_sock_key(int fd, __u64 *cookie, struct skaccel_tuple *t, int *err);

/* The network namespace cookie of the calling process (of a throwaway socket); 0 or -errno. */
int helperd_own_netns_cookie(__u64 *cookie);

#endif /* HELPERD_SOCKCHECK_H */
