/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The shim's process-wide state: configuration from the environment, the helper connection. */
#ifndef SHIM_INIT_H
#define SHIM_INIT_H

#include <stdbool.h>
#include <sys/types.h>

#include "shim/helper_client.h"

/* Read once from the environment (secure_getenv: nothing from it in a setuid program). */
struct shim_config {
	bool disabled;	/* SKACCEL_DISABLE=1: every hook passes straight through */
	bool debug;	/* SKACCEL_DEBUG=1: one line per registration attempt on stderr */
	int timeout_ms; /* SKACCEL_TIMEOUT_MS: bound on one helper request (default 250) */
	/*
	 * SKACCEL_PROMOTE_AFTER: N (1..255, default SHIM_PROMOTE_AFTER) makes a local
	 * connection a candidate at connect() and accept() and registers it after N turns
	 * (a read after a write or the reverse) or SHIM_PROMOTE_KIB carried (lazy promotion,
	 * promote.h); 0 registers it inside connect() and accept().
	 */
	unsigned int promote_after;
	/*
	 * SKACCEL_CROSS_NETNS=1: also hand over connections to addresses that are not ours (a
	 * container's peer in another container of this host looks remote from inside); the
	 * helper, which sees the host's routes, decides (its --cross-netns).
	 */
	bool cross_netns;
	pid_t pid; /* this process's, set at start-up and in a fork() child (shim_in_vfork_child) */
};

extern struct shim_config shim_cfg;
extern struct shim_client shim_helper;

/*
 * True when the shim is set up and enabled. The first call (the library constructor, or an
 * earlier hook) reads the environment, maps the fd table and installs the fork handlers;
 * until then and when disabled, hooks do nothing but call libc.
 */
bool shim_active(void);

/*
 * In a vfork() child (posix_spawn, python's subprocess) the fd table is the parent's memory
 * while the fds are the child's copies: a close or exec there is never a socket's last, a
 * reset or shutdown would end the parent's connection, and clearing an entry would make the
 * parent forget its own fd. A fork() child has its own pid in shim_cfg.pid.
 */
bool shim_in_vfork_child(void);

/* Parse a boolean switch: unset, "", "0", "no", "false" and "off" are false. */
bool shim_env_flag(const char *value);

/* Parse SKACCEL_TIMEOUT_MS: 1..60000, else the default. */
int shim_env_timeout_ms(const char *value);

/* Parse SKACCEL_PROMOTE_AFTER: 0..255, else (unset, empty, invalid) SHIM_PROMOTE_AFTER. */
unsigned int shim_env_promote_after(const char *value);

/* "skaccel[pid]: <message>\n" on stderr with one write(2), only when debugging. */
__attribute__((format(printf, 1, 2))) void shim_log(const char *fmt, ...);

#endif /* SHIM_INIT_H */
