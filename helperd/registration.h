/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* REGISTER: validating a socket and inserting it into the maps in the order that is safe. */
#ifndef HELPERD_REGISTRATION_H
#define HELPERD_REGISTRATION_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/skaccel_maps.h"
#include "helperd/host_route.h"
#include "helperd/local_peer.h"
#include "helperd/maps.h"
#include "helperd/policy.h"
#include "helperd/registry.h"

/* Refuse a request that reaches us less than this before the client gives up. */
#define HELPERD_DEADLINE_MARGIN_NS (20ull * 1000 * 1000)

struct helperd_reg_ctx {
	const struct helperd_maps *maps;
	int pair_prog; /* the pairing check program (pair_check.h); -1: none, nothing pairs */
	struct helperd_registry *registry; /* pairing, quotas: never read back from the maps */
	struct helperd_localaddrs *localaddrs;
	__u64 own_netns;		     /* network namespace cookie of the helper */
	const struct helperd_policy *policy; /* NULL: everyone may register */
	unsigned int max_per_user;	     /* for users the policy gives no limit of their own */
	bool enabled;			     /* false: --disable, every registration is refused */
	/*
	 * --cross-netns=on: a socket may pair with its mirror in another network namespace
	 * of this host (the sequence numbers prove it), and an address behind the host's
	 * bridge or veth devices counts as local (host_routes, NULL: never). Off: only the
	 * mirror in the socket's own namespace, as ever.
	 */
	bool cross_netns;
	struct helperd_host_routes *host_routes;
};

/* Who registers: what the kernel said about its connection to us (clients.c). */
struct helperd_reg_client {
	uid_t uid; /* SO_PEERCRED */
	pid_t pid;
	/*
	 * false only for the helper's own sockets (the start-up self-test): then no ownership,
	 * namespace or policy check applies, only the per-user limit.
	 */
	bool untrusted;
	__u64 netns_cookie; /* SO_NETNS_COOKIE of its connection: its network namespace */
	const struct helperd_policy_subject *subject; /* its identity for the policy */
};

struct helperd_reg_result {
	int32_t status;	  /* enum skaccel_status */
	int err;	  /* positive errno behind status, 0 if none */
	const char *step; /* for the log when err is set: "<verb> <object>" that failed */
	bool inserted;	  /* the socket is in skaccel_socks (a retry would be ALREADY) */
	bool have_tuple;  /* cookie and tuple are valid */
	__u64 cookie;
	__u64 peer_cookie;  /* when ACCELERATED */
	int pair_verdict;   /* of the pairing check, when it ran (pair_check.h), else 0 */
	__u64 refused_peer; /* the waiting end with the mirror tuple the check refused, or 0 */
	struct skaccel_tuple tuple;
	const struct helperd_policy_rule *rule; /* POLICY: the rule that refused, NULL: default */
	uid_t owner;				/* NOT_OWNER: the socket's owner */
	unsigned int limit;			/* QUOTA: the user's limit */
};

/*
 * Register the socket fd for a client; flags are the request's (SKACCEL_REQ_*): with
 * IF_PEER_WAITS and no registered end waiting for this one, nothing is done and the status
 * is OK_NO_PEER, after the same checks as a registration. Never closes fd: the caller must close it
 * at once afterwards (a socket the helper keeps open would not close when the application closes
 * it). Never deletes from skaccel_socks. An untrusted client must hand over a socket of
 * its own user (unless it is root) and of its own network namespace, and the policy must
 * allow it; that costs one fstat() for users other than root, nothing more.
 */
void helperd_register_client(struct helperd_reg_ctx *ctx, int fd,
			     const struct helperd_reg_client *who, uint64_t deadline_ns,
			     uint32_t flags, struct helperd_reg_result *res);

/*
 * PAIRED: what became of the registered socket fd, checked for the client as REGISTER
 * checks it (a socket of its user, in its namespace). res->status is OK_ACCELERATED once
 * paired, OK_WAITING_PEER before, NOT_ESTABLISHED (err ENOENT) if it is not registered.
 * Reads the registry only; never closes fd.
 */
void helperd_registration_paired(struct helperd_reg_ctx *ctx, int fd,
				 const struct helperd_reg_client *who,
				 struct helperd_reg_result *res);

/* The same for one of the helper's own sockets (uid, pid), with no client checks. */
void helperd_register(struct helperd_reg_ctx *ctx, int fd, uid_t uid, pid_t pid,
		      uint64_t deadline_ns, struct helperd_reg_result *res);

/* Status for a failed sockhash insert, pure: EEXIST/EBUSY -> ALREADY, ... */
int32_t helperd_insert_status(int err);

/* Is this insert errno a lack of room, worth a sweep and one retry? */
bool helperd_errno_is_full(int err);

#endif /* HELPERD_REGISTRATION_H */
