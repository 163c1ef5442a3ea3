/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* REGISTER: validating a socket and inserting it into the maps in the order that is safe. */
#ifndef HELPERD_REGISTRATION_H
#define HELPERD_REGISTRATION_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "local_peer.h"
#include "maps.h"
#include "registry.h"
#include "skaccel_maps.h"

/* Refuse a request that reaches us less than this before the client gives up. */
#define HELPERD_DEADLINE_MARGIN_NS (20ull * 1000 * 1000)

struct helperd_reg_ctx {
	const struct helperd_maps *maps;
	struct helperd_registry *registry; /* pairing, quotas: never read back from the maps */
	struct helperd_localaddrs *localaddrs;
	__u64 own_netns; /* network namespace cookie of the helper */
	unsigned int max_per_user;
	bool enabled; /* false: --disable, every registration is refused */
};

struct helperd_reg_result {
	int32_t status;	   /* enum skaccel_status */
	int err;	   /* positive errno behind status, 0 if none */
	const char *step;  /* for the log when err is set: "<verb> <object>" that failed */
	bool inserted;	   /* the socket is in skaccel_socks (a retry would be ALREADY) */
	bool have_tuple;   /* cookie and tuple are valid */
	__u64 cookie;
	__u64 peer_cookie; /* when ACCELERATED */
	struct skaccel_tuple tuple;
};

/*
 * Register the socket fd for the client (uid, pid from SO_PEERCRED). Never closes fd: the
 * caller must close it at once afterwards (a socket the helper keeps open would not close
 * when the application closes it). Never deletes from skaccel_socks.
 */
void helperd_register(struct helperd_reg_ctx *ctx, int fd, uid_t uid, pid_t pid,
		      uint64_t deadline_ns, struct helperd_reg_result *res);

/* Status for a failed sockhash insert, pure: EEXIST/EBUSY -> ALREADY, ... */
int32_t helperd_insert_status(int err);

/* Is this insert errno a lack of room, worth a sweep and one retry? */
bool helperd_errno_is_full(int err);

#endif /* HELPERD_REGISTRATION_H */
