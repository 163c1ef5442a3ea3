// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The daemon: one epoll set with the listener, the clients, a signalfd (so signals are
 * events, handled between requests, never in the middle of a map update) and a timerfd
 * driving the sweep. A readable client's request is served by request.c; the client
 * table is clients.c's. Single-threaded by design: the insertion protocol's
 * read-modify-write steps rely on being the only writer.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "helperd/closer.h"
#include "helperd/daemon.h"
#include "helperd/log.h"
#include "helperd/metrics_collect.h"
#include "helperd/notify.h"
#include "helperd/request.h"

static void log_policy_diags(const char *path, const struct helperd_policy_diags *dg)
{
	char line[PATH_MAX + 256];
	unsigned int i;

	for (i = 0; i < dg->n; i++) {
		helperd_policy_diag_format(line, sizeof(line), path, &dg->diag[i]);
		if (dg->diag[i].warning)
			log_warn("Policy %s", line);
		else
			log_err("Policy error %s", line);
	}
	if (dg->errors + dg->warnings > dg->n)
		log_err("Policy %s: %u more errors and warnings (see --check-config)", path,
			dg->errors + dg->warnings - dg->n);
}

int helperd_daemon_load_policy(struct helperd_daemon *d, bool reload)
{
	const struct helperd_options *o = d->opts;
	const char *path = o->config_path;
	struct helperd_policy_diags dg = {};
	struct helperd_policy p;
	int r;

	helperd_policy_init(&p);
	r = helperd_policy_load(&p, path, &helperd_policy_system, &dg);
	log_policy_diags(path, &dg);
	if (r == -ENOENT && !o->config_explicit) {
		log_info("No policy file %s: every user may opt in", path);
		r = 0;
	}
	if (r) {
		if (reload)
			log_err("Failed to reload policy %s: %s; the policy loaded before stays in "
				"force",
				path, r == -EINVAL ? "errors above" : strerror(-r));
		else
			log_err("Failed to load policy %s: %s", path,
				r == -EINVAL ? "errors above" : strerror(-r));
		return r;
	}
	/*
	 * exe= rules need the reader, which must be forked while we still hold the
	 * capabilities it keeps: at start-up only. A reload that brings the first exe= rule
	 * has only what the helper can read itself (its own uid's processes without
	 * capabilities of their own).
	 */
	if (p.needs_exe && d->exe_reader.pid <= 0) {
		if (reload)
			log_warn(
			    "Policy %s has exe= rules, the first since start-up: only a restart "
			    "starts the executable reader, until then they match only processes "
			    "the helper may inspect itself",
			    path);
		else if ((r = helperd_exe_reader_start(&d->exe_reader)) < 0)
			log_warn("Failed to start the executable reader, ignoring: %s; exe= rules "
				 "will match only processes the helper may inspect itself",
				 strerror(-r));
		r = 0;
	}
	helperd_policy_free(&d->policy);
	d->policy = p;
	d->policy_gen++;
	if (!d->policy_gen) /* 0 means "nothing read yet" to a client */
		d->policy_gen++;
	if (reload) {
		d->reg.policy = &d->policy;
		d->reg.max_per_user =
		    helperd_policy_global_limit(&d->policy, o->max_per_user, o->max_per_user_given);
	}
	if (p.from_file)
		log_info("%s policy %s: %u rules, default %s, max-per-user %u, %u users with "
			 "limits of their own",
			 reload ? "Reloaded" : "Loaded", path, p.n_rules,
			 p.default_allow ? "allow" : "deny",
			 helperd_policy_global_limit(&p, o->max_per_user, o->max_per_user_given),
			 p.n_limits);
	return 0;
}

static int epoll_add(int epoll_fd, int fd, uint64_t token)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = token };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int helperd_block_signals(sigset_t *mask)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (mask)
		*mask = set;
	return sigprocmask(SIG_BLOCK, &set, NULL) < 0 ? -errno : 0;
}

int helperd_daemon_init(struct helperd_daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = HELPERD_SWEEP_INTERVAL_S },
		.it_value = { .tv_sec = HELPERD_SWEEP_INTERVAL_S },
	};
	sigset_t mask;
	int r;

	d->epoll_fd = d->signal_fd = d->timer_fd = -1;
	r = helperd_clients_init(d);
	if (r)
		return r;
	d->listener_paused = false;
	d->status[0] = '\0';
	helperd_ratelimit_init(&d->accept_rl, 10ull * 1000000000ull, 3);
	helperd_ratelimit_init(&d->global_rl, 1000000000ull, 50);
	helperd_ratelimit_init(&d->metrics_rl, 60ull * 1000000000ull, 1);
	d->metrics_ticks = 0;

	r = helperd_block_signals(&mask);
	if (r)
		return r;
	d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->signal_fd < 0)
		return -errno;
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timer_fd < 0)
		return -errno;
	if (timerfd_settime(d->timer_fd, 0, &its, NULL) < 0)
		return -errno;
	d->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epoll_fd < 0)
		return -errno;
	r = epoll_add(d->epoll_fd, d->listen_fd, HELPERD_TOKEN_LISTENER);
	if (!r)
		r = epoll_add(d->epoll_fd, d->signal_fd, HELPERD_TOKEN_SIGNAL);
	if (!r)
		r = epoll_add(d->epoll_fd, d->timer_fd, HELPERD_TOKEN_TIMER);
	if (!r && helperd_closer_event_fd() >= 0)
		r = epoll_add(d->epoll_fd, helperd_closer_event_fd(), HELPERD_TOKEN_CLOSER);
	if (!r && d->metrics_http)
		r = helperd_metrics_http_attach(d->metrics_http, d->epoll_fd, HELPERD_TOKEN_METRICS,
						HELPERD_TOKEN_METRICS_CONN,
						helperd_metrics_render_daemon, d);
	return r;
}

void helperd_daemon_notify_status(struct helperd_daemon *d, bool ready)
{
	char status[sizeof(d->status)];
	char msg[sizeof(status) + 32];

	snprintf(status, sizeof(status), "Serving: %u sockets registered, %u clients%s",
		 d->reg.registry->n, d->n_clients, d->reg.enabled ? "" : ", acceleration disabled");
	if (!ready && strcmp(status, d->status) == 0)
		return;
	snprintf(msg, sizeof(msg), "%sSTATUS=%s", ready ? "READY=1\n" : "", status);
	if (helperd_notify(d->notify_socket, msg) == 0)
		strcpy(d->status, status);
}

/* 1: asked to exit, 0: carry on. */
static int handle_signal(struct helperd_daemon *d)
{
	struct signalfd_siginfo si;
	ssize_t n;

	for (;;) {
		n = read(d->signal_fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			return 0;
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("Received %s, exiting", strsignal((int)si.ssi_signo));
			return 1;
		}
		if (si.ssi_signo == SIGHUP) {
			log_info("Received %s, reloading the policy", strsignal((int)si.ssi_signo));
			helperd_daemon_load_policy(d, true);
			continue;
		}
		log_info("Received %s, ignoring", strsignal((int)si.ssi_signo));
	}
}

static void handle_timer(struct helperd_daemon *d)
{
	struct helperd_sweep_stats stats;
	uint64_t ticks;
	int r;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	r = helperd_sweep_run(&d->sweep, d->reg.maps, d->reg.registry, &stats);
	if (r < 0)
		log_warn("Failed to delete map entries of closed sockets, ignoring: %s",
			 strerror(-r));
	if (stats.removed)
		log_debug("Swept %u closed sockets (%u looked at, %u live)", stats.removed,
			  stats.scanned, stats.live);
	if (stats.ghosts)
		log_info("%u waiting sockets left their connection without closing; they wait no "
			 "more (pairing check)",
			 stats.ghosts);
	helperd_regcnt_publish(&d->regcnt);
	helperd_clients_resume_listener(d);
	helperd_daemon_notify_status(d, false);
	if (d->metrics_http)
		helperd_metrics_http_tick(d->metrics_http, helperd_now_ns());
	if (d->opts->metrics_textfile && ++d->metrics_ticks >= d->opts->metrics_interval) {
		d->metrics_ticks = 0;
		helperd_metrics_textfile_update(d);
	}
}

/*
 * One message per wake-up. The shim waits for each reply, so after one request there is
 * nothing more to read, and trying would cost a failed recvmsg per registration; a
 * client with more queued stays readable, and the level-triggered epoll calls again,
 * after every other client ready now had its turn.
 */
static void serve_client(struct helperd_daemon *d, struct helperd_client *c)
{
	int r;

	if (helperd_client_hold(d, c))
		return;
	r = helperd_request_serve(d, c);
	if (r == 0 || r == -EAGAIN)
		return;
	if (r == -ECONNRESET)
		log_debug("Client pid %d (uid %u) disconnected", (int)c->pid, (unsigned int)c->uid);
	else if (r != -EMSGSIZE)
		log_debug("Dropping client pid %d (uid %u): %s", (int)c->pid, (unsigned int)c->uid,
			  r == -ENOBUFS ? "not reading its replies" : strerror(-r));
	helperd_client_drop(d, c);
}

int helperd_daemon_run(struct helperd_daemon *d)
{
	struct epoll_event events[64];
	struct helperd_client *c;
	int i, n;

	for (;;) {
		/*
		 * No timeout, ever: arming one on every wait (to flush the counters once idle)
		 * cost about 10 us per registration in a VM, a third of the helper's time.
		 */
		n = epoll_wait(d->epoll_fd, events, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("Failed to wait for events: %m");
			return -errno;
		}
		for (i = 0; i < n; i++) {
			uint64_t token = events[i].data.u64;

			switch ((uint32_t)token) {
			case HELPERD_TOKEN_LISTENER:
				helperd_clients_accept(d);
				continue;
			case HELPERD_TOKEN_SIGNAL:
				if (handle_signal(d))
					return 0;
				continue;
			case HELPERD_TOKEN_TIMER:
				handle_timer(d);
				continue;
			case HELPERD_TOKEN_CLOSER:
				helperd_clients_closes_done(d);
				continue;
			}
			if (helperd_metrics_http_owns(d->metrics_http, token)) {
				helperd_metrics_http_event(d->metrics_http, token,
							   events[i].events);
				continue;
			}
			c = helperd_client_of(d, token);
			if (!c)
				continue;
			if (events[i].events & EPOLLIN)
				serve_client(d, c);
			else if (events[i].events & (EPOLLHUP | EPOLLERR))
				helperd_client_drop(d, c);
		}
	}
}

void helperd_daemon_free(struct helperd_daemon *d)
{
	helperd_clients_free(d);
	if (d->epoll_fd >= 0)
		close(d->epoll_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	d->epoll_fd = d->signal_fd = d->timer_fd = -1;
	if (d->metrics_http)
		helperd_metrics_http_close(d->metrics_http);
	helperd_policy_free(&d->policy);
	helperd_exe_reader_stop(&d->exe_reader);
}
