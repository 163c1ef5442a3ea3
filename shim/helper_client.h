/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The shim's connection to skaccel-helperd: one request, one bounded wait, one reply. */
#ifndef SHIM_HELPER_CLIENT_H
#define SHIM_HELPER_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/skaccel_proto.h"

#define SHIM_CLIENT_TIMEOUT_MS 250  /* default bound on one request, SKACCEL_TIMEOUT_MS */
#define SHIM_CLIENT_BACKOFF_MS 1000 /* after a failure, no new connection attempt for this long */
#define SHIM_CLIENT_PATH_MAX 108    /* sizeof(sun_path) */

/*
 * One per process (the shim's lives in init.c; tests make their own). Threads share it
 * under lock; a forked child must call shim_client_atfork_child() before using it, and a
 * process that changed pid any other way (raw clone) notices by itself.
 */
struct shim_client {
	pthread_mutex_t lock;
	int fd;			 /* SEQPACKET connection to the helper, -1 if none */
	dev_t dev;		 /* identity of fd: the application may close our fd number */
	ino_t ino;		 /* ... and reuse it, and we must never write to its file */
	pid_t pid;		 /* process that made fd */
	uint32_t seq;		 /* last request's seq */
	uint64_t retry_after_ns; /* CLOCK_MONOTONIC: no connection attempt before this */
	int last_err;		 /* positive errno of the last failure, replayed during backoff */
	bool fork_locked;	 /* the fork prepare handler holds lock */
	int timeout_ms;
	int backoff_ms;
	uid_t helper_uid; /* trusted besides root and ourselves; (uid_t)-1: none */
	char path[SHIM_CLIENT_PATH_MAX + 1]; /* "@name": abstract socket */
};

void shim_client_init(struct shim_client *c, const char *path, int timeout_ms, int backoff_ms);

/*
 * Who may serve the helper socket. Before anything is sent, the shim checks the uid the
 * kernel recorded for the listening end (SO_PEERCRED): root, our own euid (which could
 * read our memory anyway) or helper_uid. Another user who bound the path (or squatted a
 * path we were pointed at) gets nothing: the request fails with -EPERM and the socket
 * stays on plain TCP. shim_client_init() trusts no helper_uid; init.c sets it from
 * SKACCEL_HELPER_UID, else from the user SHIM_HELPER_USER in /etc/passwd.
 */
#define SHIM_HELPER_USER "skaccel"
void shim_client_trust_uid(struct shim_client *c, uid_t uid);

/*
 * The uid of name in a passwd(5) file, read directly: a preloaded library must not pull
 * NSS modules into every program. 0 or -ENOENT / -errno.
 */
int shim_passwd_uid(const char *file, const char *name, uid_t *uid);

/* A uid in decimal (SKACCEL_HELPER_UID), 0 or -EINVAL; (uid_t)-1 is not one. */
int shim_parse_uid(const char *s, uid_t *uid);

/*
 * Send op with flags (SKACCEL_REQ_*; fd attached if fd >= 0) and wait at most timeout_ms for the
 * reply, lock included. Returns 0 with *rep filled (rep->status says what the helper did, refusals
 * included), or -errno if no valid reply came: the helper socket's error, -ETIMEDOUT,
 * -EPROTO for a malformed or mismatched reply, -ECONNRESET if the helper hung up, -EPERM
 * if the socket is served by a user we do not trust (see shim_client_trust_uid). After
 * a failure the connection is closed (a late reply can never be taken for the answer to a
 * later request) and for backoff_ms every request fails at once with the same error.
 * *fd_sent says whether the helper got fd, i.e. whether it may have been inserted even
 * though the reply never came.
 */
int shim_client_request(struct shim_client *c, enum skaccel_op op, uint32_t flags, int fd,
			struct skaccel_reply *rep, bool *fd_sent);

/*
 * The helper failed recently and no request goes out before the backoff ends: a caller
 * that can ask later (a promotion, a pairing question) keeps its state and asks then.
 * Reads the deadline without the lock: a stale answer costs one request, or one wait.
 */
bool shim_client_backing_off(const struct shim_client *c);

/* Close the connection (if it is still ours) and forget any backoff. */
void shim_client_reset(struct shim_client *c);

/* pthread_atfork handlers: no fork in the middle of a request; the child starts afresh. */
void shim_client_atfork_prepare(struct shim_client *c);
void shim_client_atfork_parent(struct shim_client *c);
void shim_client_atfork_child(struct shim_client *c);

#endif /* SHIM_HELPER_CLIENT_H */
