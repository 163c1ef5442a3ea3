/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The daemon: its state (listener, client table, timers, and what REGISTER needs) and its
 * event loop, which hands each readable client to request.h and each other event to
 * clients.h, the sweep or the policy.
 */
#ifndef HELPERD_DAEMON_H
#define HELPERD_DAEMON_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "helperd/clients.h"
#include "helperd/exe_reader.h"
#include "helperd/metrics_http.h"
#include "helperd/options.h"
#include "helperd/policy.h"
#include "helperd/ratelimit.h"
#include "helperd/regcnt.h"
#include "helperd/registration.h"
#include "helperd/sweep.h"

#define HELPERD_SWEEP_INTERVAL_S 1
#define HELPERD_ACCEPTS_PER_WAKEUP 32 /* per loop iteration: fairness */

/* epoll tokens: the low 32 bits say what woke us; for clients, the high 32 the slot's gen. */
enum {
	HELPERD_TOKEN_LISTENER = 0,
	HELPERD_TOKEN_SIGNAL = 1,
	HELPERD_TOKEN_TIMER = 2,
	HELPERD_TOKEN_CLOSER = 3,	/* closes a client was charged for are done */
	HELPERD_TOKEN_METRICS = 4,	/* the --metrics-listen socket */
	HELPERD_TOKEN_METRICS_CONN = 8, /* + its connection slot */
	HELPERD_TOKEN_CLIENT_BASE = 16, /* + slot number */
};

_Static_assert(HELPERD_TOKEN_METRICS_CONN + HELPERD_METRICS_MAX_CONNS <= HELPERD_TOKEN_CLIENT_BASE,
	       "metrics tokens below the clients'");

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
	uint64_t last_full_sweep_ns;	    /* on demand, outside the tick */
	bool last_full_sweep_fruitful;	    /* it freed something: the next may come sooner */
	struct helperd_ratelimit accept_rl; /* "too many clients" and accept failures */
	struct helperd_ratelimit global_rl; /* all per-client lines together */
	char status[160];		    /* last STATUS= sent to systemd */

	/* For the metrics (metrics_collect.h); the first four set by the caller. */
	struct helperd_metrics_http *metrics_http; /* bound, or NULL: no --metrics-listen */
	bool selftest_ok;			   /* the kernel self-test passed at start */
	double start_time_s;			   /* CLOCK_REALTIME at start */
	const char *version;
	unsigned int metrics_ticks;	     /* since --metrics-textfile was written */
	struct helperd_ratelimit metrics_rl; /* "failed to write --metrics-textfile" */
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

#endif /* HELPERD_DAEMON_H */
