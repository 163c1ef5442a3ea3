/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The running daemon's state: listener, clients, timers, and what REGISTER needs. */
#ifndef HELPERD_DAEMON_H
#define HELPERD_DAEMON_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "exe_reader.h"
#include "options.h"
#include "policy.h"
#include "ratelimit.h"
#include "regcnt.h"
#include "registration.h"
#include "sweep.h"

#define HELPERD_SWEEP_INTERVAL_S 1
#define HELPERD_ACCEPTS_PER_WAKEUP 32 /* per loop iteration: fairness */
/*
 * The send buffer of a client connection (the kernel doubles it): about 22 replies of
 * 32 bytes at some 750 bytes of accounting each. The shim has one request in flight, so
 * this only bounds the kernel memory a client that never reads can pin (16 KiB, not
 * net.core.wmem_default's 208), before it is dropped.
 */
#define HELPERD_CLIENT_SNDBUF 8192
/* Distinct policy refusals logged per client connection (by rule); more are counted. */
#define HELPERD_CLIENT_LOGGED_RULES 4

/* epoll tokens: the low 32 bits say what woke us; for clients, the high 32 the slot's gen. */
enum {
	HELPERD_TOKEN_LISTENER = 0,
	HELPERD_TOKEN_SIGNAL = 1,
	HELPERD_TOKEN_TIMER = 2,
	HELPERD_TOKEN_CLOSER = 3,	/* closes a client was charged for are done */
	HELPERD_TOKEN_CLIENT_BASE = 16, /* + slot number */
};

struct helperd_client {
	int fd;	      /* -1: free slot */
	uint32_t gen; /* bumped on every reuse of the slot, part of the epoll token */
	uid_t uid;    /* SO_PEERCRED at accept */
	gid_t gid;
	pid_t pid;
	__u64 netns_cookie; /* SO_NETNS_COOKIE of the connection: the client's namespace */
	/* For the policy, read once per client the first time a policy needs them. */
	uint32_t policy_gen; /* the policy groups and logged_rules are for; 0: none yet */
	unsigned int n_groups;
	gid_t *groups; /* its groups (primary first) that the policy names */
	char *exe;     /* its executable; NULL: not read yet, or unknown */
	bool exe_read;
	/* What this client made us log: each refusal once (status, and policy rule). */
	uint32_t logged;				   /* bit -status */
	int16_t logged_rules[HELPERD_CLIENT_LOGGED_RULES]; /* rule index, -1: the default */
	unsigned int n_logged_rules;
	unsigned int unlogged; /* refusals not logged since they were logged once */
	/*
	 * Its fds the closer threads still owe a close (closer.h), its connection's included.
	 * Over HELPERD_CLOSER_PER_CLIENT, it is paused: not read until they are done. A slot
	 * dropped with closes owed is a zombie: not reused, and still its user's, until then.
	 */
	atomic_uint closes;
	bool paused;
	bool zombie;
};

struct helperd_daemon {
	/* Set by the caller before helperd_daemon_init(). */
	int listen_fd;
	unsigned int max_clients;
	unsigned int max_clients_per_user;  /* for every uid but root's */
	const char *notify_socket;	    /* $NOTIFY_SOCKET or NULL */
	const struct helperd_options *opts; /* the policy file and --max-per-user, for reloads */
	struct helperd_reg_ctx reg;
	struct helperd_regcnt regcnt; /* loaded from the map */
	struct helperd_sweep sweep;   /* sized for reg.registry */

	/* Owned by the daemon. */
	struct helperd_policy policy;	      /* reg.policy points here; replaced by a reload */
	uint32_t policy_gen;		      /* bumped by every load */
	struct helperd_exe_reader exe_reader; /* when the first policy had exe= rules */
	bool exe_warned;		      /* "cannot read executables" was logged */
	int epoll_fd;
	int signal_fd;
	int timer_fd;
	bool listener_paused; /* out of fds: stop accepting until the next tick or a close */
	struct helperd_client *clients; /* max_clients slots */
	uint32_t *free_slots;		/* stack of released slot numbers */
	unsigned int n_free;
	unsigned int high_water; /* slots [0, high_water) have been used */
	unsigned int n_clients;
	bool regcnt_stalled;		    /* the last write failed (logged once) */
	uint64_t last_full_sweep_ns;	    /* on demand, outside the tick */
	bool last_full_sweep_fruitful;	    /* it freed something: the next may come sooner */
	struct helperd_ratelimit accept_rl; /* "too many clients" and accept failures */
	struct helperd_ratelimit global_rl; /* all per-client lines together */
	char status[160];		    /* last STATUS= sent to systemd */
};

/*
 * Block SIGTERM, SIGINT and SIGHUP (into *mask if non-NULL), so that they wait for the
 * event loop's signalfd instead of killing us halfway through set-up; 0 or -errno.
 */
int helperd_block_signals(sigset_t *mask);

/*
 * Load the policy file (d->opts->config_path) into d->policy, logging what it holds or
 * every error in it; at a reload (SIGHUP), also set reg.max_per_user. A missing file is
 * the built-in policy (everyone) unless it was named explicitly. On an error the policy
 * before stays. 0 or -errno.
 */
int helperd_daemon_load_policy(struct helperd_daemon *d, bool reload);

/* Block the signals we handle, create epoll, signalfd and timerfd; 0 or -errno. */
int helperd_daemon_init(struct helperd_daemon *d);

/* Serve until SIGTERM/SIGINT (returns 0) or a fatal error (-errno, logged). */
int helperd_daemon_run(struct helperd_daemon *d);

/* Close every client and the daemon's own fds (not the listener, not the maps). */
void helperd_daemon_free(struct helperd_daemon *d);

/* Tell systemd READY=1 (ready) and/or a STATUS= line, the latter only when it changed. */
void helperd_daemon_notify_status(struct helperd_daemon *d, bool ready);

/*
 * Write the changed registration counters to skaccel_regcnt, logging a failure. Called on
 * every tick, whenever a client disconnects (a program that registered and exited finds
 * its counts in --stats), and at exit; never per registration.
 */
void helperd_daemon_flush_counters(struct helperd_daemon *d);

/* clients.c: accept what is pending, serve one client's message, drop one client. */
void helperd_clients_accept(struct helperd_daemon *d);
void helperd_client_serve(struct helperd_daemon *d, struct helperd_client *c);
void helperd_client_drop(struct helperd_daemon *d, struct helperd_client *c);
/* clients.c: the closer finished closes: resume paused clients, free zombie slots. */
void helperd_clients_closes_done(struct helperd_daemon *d);

#endif /* HELPERD_DAEMON_H */
