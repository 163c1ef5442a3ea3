// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * skaccel-helperd's main(): the top level that parses options, sets up in order (listener,
 * bpffs, BPF, counts, event loop), tells systemd, serves, and tears down. Everything below
 * returns 0/-errno; the words for the log are chosen here.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "common/skaccel_proto.h"
#include "helperd/bpf_setup.h"
#include "helperd/bpffs.h"
#include "helperd/caps.h"
#include "helperd/closer.h"
#include "helperd/daemon.h"
#include "helperd/listener.h"
#include "helperd/log.h"
#include "helperd/metrics_collect.h"
#include "helperd/metrics_http.h"
#include "helperd/notify.h"
#include "helperd/options.h"
#include "helperd/selftest.h"
#include "helperd/sockcheck.h"
#include "helperd/stats.h"
#include "helperd/unpin.h"

#ifndef SKACCEL_VERSION
#define SKACCEL_VERSION "0.1.0"
#endif

#define EXIT_USAGE 2

/*
 * --stats is `skaccel stats` (cli/stats_run.c), kept for scripts that use it, with the
 * helper's exit codes: 1 for any failure.
 */
static int run_stats(const struct helperd_options *opts)
{
	return cli_stats_run(program_invocation_short_name, opts->pin_dir, opts->json, 0) == 0
		   ? EXIT_SUCCESS
		   : EXIT_FAILURE;
}

static int run_unpin(const struct helperd_options *opts)
{
	unsigned int removed;
	bool dir_removed;
	int r;

	r = helperd_unpin(opts->pin_dir, &removed, &dir_removed);
	if (r == -ENOTSUP) {
		log_err("Failed to unpin %s: not on a BPF filesystem, refusing to remove anything",
			opts->pin_dir);
		return EXIT_FAILURE;
	}
	if (r) {
		log_err("Failed to unpin %s: %s", opts->pin_dir, strerror(-r));
		return EXIT_FAILURE;
	}
	log_info("Removed %u pinned objects from %s%s", removed, opts->pin_dir,
		 dir_removed ? " and the directory" : "");
	if (!dir_removed && removed)
		log_warn("Left %s in place: it holds files skaccel did not pin", opts->pin_dir);
	return EXIT_SUCCESS;
}

/* Enough fds for every client plus the fds in flight; a soft limit of 1024 would not do. */
static void raise_nofile(unsigned int max_clients)
{
	rlim_t want = (rlim_t)max_clients + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warn("Failed to raise the open file limit to %llu for --max-clients %u, "
			 "ignoring: clients beyond %llu will wait",
			 (unsigned long long)want, max_clients, (unsigned long long)rl.rlim_cur);
}

static const char *listener_reason(int r)
{
	switch (r) {
	case -ENOTSOCK:
		return "not a socket";
	case -EAFNOSUPPORT:
		return "not an AF_UNIX socket";
	case -EPROTOTYPE:
		return "not a SOCK_SEQPACKET socket (use ListenSequentialPacket=)";
	case -EINVAL:
		return "not listening";
	}
	return strerror(-r);
}

static int setup_listener(const struct helperd_options *opts, struct helperd_listener *l)
{
	const char *why = NULL;
	int r;

	r = helperd_activation_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"), getpid(), &why);
	/* Not for our children, whatever happens next. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (r < 0) {
		log_err("Failed to use socket activation: %s", why);
		return r;
	}
	if (r == 1) {
		r = helperd_listener_adopt(l, HELPERD_LISTEN_FDS_START);
		if (r) {
			log_err("Failed to use the socket passed by systemd (fd %d): %s",
				HELPERD_LISTEN_FDS_START, listener_reason(r));
			return r;
		}
		log_info("Listening on the socket passed by systemd");
		return 0;
	}
	r = helperd_listener_bind(l, opts->socket_path);
	if (r == -EADDRINUSE)
		log_err("Failed to listen on %s: another helper is running there (it answered)",
			opts->socket_path);
	else if (r == -EEXIST)
		log_err("Failed to listen on %s: the path exists and is not a socket",
			opts->socket_path);
	else if (r)
		log_err("Failed to listen on %s: %s", opts->socket_path, strerror(-r));
	else
		log_info("Listening on %s", opts->socket_path);
	return r;
}

/* Before privileges are dropped: a port below 1024 or a path in /run may need them. */
static int setup_metrics(const struct helperd_options *opts, struct helperd_metrics_http *m)
{
	int r;

	r = helperd_metrics_http_open(m, &opts->metrics_addr);
	if (r == -EEXIST)
		log_err("Failed to serve metrics on %s: the path exists and is not a socket",
			m->name);
	else if (r == -EADDRINUSE)
		log_err("Failed to serve metrics on %s: address in use (another program "
			"answers there)",
			m->name);
	else if (r)
		log_err("Failed to serve metrics on %s: %s", m->name, strerror(-r));
	else
		log_info("Serving metrics on %s%s%s",
			 opts->metrics_addr.ss.ss_family == AF_UNIX ? "" : "http://", m->name,
			 opts->metrics_addr.ss.ss_family == AF_UNIX ? " (HTTP, GET /metrics)"
								    : "/metrics");
	return r;
}

/*
 * How long a sender waits for its reader's socket lock (bpf/skaccel_lockwait.bpf.h): as
 * given, else the default, but not with one CPU online, where the lock's owner cannot run
 * while a sender waits.
 */
static uint32_t lock_wait_ns(const struct helperd_options *opts)
{
	if (opts->lock_wait_given)
		return opts->lock_wait_us * 1000u;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		log_info("One CPU online: senders will not wait for their reader's socket lock "
			 "(--lock-wait 0)");
		return 0;
	}
	return SKACCEL_DEFAULT_LOCK_WAIT_NS;
}

static int setup_bpf(const struct helperd_options *opts, struct helperd_bpf *bpf)
{
	struct skaccel_config cfg = {
		.enabled = !opts->disable,
		.rx_budget = opts->rx_budget,
		.rx_resume = opts->rx_resume,
		.small_msg = opts->small_msg,
		.lock_wait_ns = lock_wait_ns(opts),
	};
	struct helperd_bpf_report rep;
	char culprit[PATH_MAX], advice[3 * PATH_MAX];
	struct stat st;
	bool mounted;
	int r;

	r = helperd_bpffs_prepare(opts->pin_dir, &mounted);
	if (r == -ENOTSUP) {
		log_err("Failed to prepare pin directory %s: not on a BPF filesystem (choose a "
			"--pin-dir under " HELPERD_BPFFS_ROOT " or mount bpffs there)",
			opts->pin_dir);
		return r;
	}
	if (r) {
		log_err("Failed to prepare pin directory %s: %s%s", opts->pin_dir, strerror(-r),
			r == -EPERM ? " (is bpffs mounted? mount -t bpf bpf " HELPERD_BPFFS_ROOT ")"
				    : "");
		return r;
	}
	if (mounted)
		log_info("Mounted bpffs on " HELPERD_BPFFS_ROOT);
	r = helperd_pin_dir_check(opts->pin_dir, culprit, sizeof(culprit), &st);
	if (r == -EACCES || r == -ENOTDIR) {
		helperd_pin_dir_advice(opts->pin_dir, culprit, &st, r, advice, sizeof(advice));
		log_err("Failed to trust pin directory %s: %s is %s (owner uid %u, mode %04o); "
			"it must be a directory that only root can write to, below directories "
			"only root can write to: %s",
			opts->pin_dir, culprit, r == -ENOTDIR ? "not a directory" : "unsafe",
			(unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777), advice);
		return r;
	}
	if (r) {
		log_err("Failed to check pin directory %s: %s", opts->pin_dir, strerror(-r));
		return r;
	}

	r = helperd_bpf_setup(bpf, opts->pin_dir, &cfg, opts->max_socks, &rep);
	if (r == -EEXIST) {
		log_err("Failed to %s: %s; remove the old pins with 'skaccel-helperd --unpin "
			"--pin-dir %s' (live connections keep working)",
			rep.step, rep.detail, opts->pin_dir);
		return r;
	}
	if (r) {
		log_err("Failed to %s%s%s%s: %s%s", rep.step, rep.detail[0] ? " (" : "", rep.detail,
			rep.detail[0] ? ")" : "", strerror(-r),
			r == -EPERM ? " (needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)" : "");
		return r;
	}
	log_info("Maps in %s: reused [%s], created [%s]; room for %u sockets; programs "
		 "attached and pinned%s",
		 opts->pin_dir, rep.reused, rep.created, bpf->max_socks,
		 opts->disable ? "; acceleration DISABLED" : "");
	if (rep.replaced[0])
		log_warn("Replaced [%s], pinned by an earlier build with another layout: counters "
			 "start again from 0, and connections accelerated before keep counting in "
			 "the old maps until they close",
			 rep.replaced);
	if (bpf->max_socks != opts->max_socks)
		log_info("Kept the pinned maps' size of %u sockets; --max-socks %u applies when "
			 "they are created anew (--unpin)",
			 bpf->max_socks, opts->max_socks);
	return 0;
}

/*
 * Does this kernel behave as skaccel relies on (selftest.h)? Not run with --disable: the
 * programs redirect nothing then. On failure the kill switch goes off, so the programs
 * pass every byte to TCP (redirect -> TCP is always order-safe), and the helper still
 * serves, refusing every registration with SKACCEL_ERR_DISABLED: the shim says why and
 * stays on TCP. Returns whether to accelerate.
 */
static bool kernel_selftest(const struct helperd_options *opts, const struct helperd_bpf *bpf)
{
	struct helperd_selftest_report rep;
	struct skaccel_config cfg;
	__u32 zero = 0;

	if (opts->disable)
		return false;
	if (helperd_selftest(&bpf->maps, bpf->pair_prog, &rep) == 0) {
		log_info("Kernel self-test passed in %.1f ms", (double)rep.took_ns / 1e6);
		return true;
	}
	log_err("Kernel self-test failed: %s: %s; acceleration disabled", rep.step, rep.detail);
	if (bpf_map_lookup_elem(bpf->maps.cfg, &zero, &cfg) < 0 ||
	    (cfg.enabled = 0, bpf_map_update_elem(bpf->maps.cfg, &zero, &cfg, BPF_ANY) < 0))
		log_err("Failed to turn the kill switch in skaccel_cfg off: %s; connections "
			"paired by an earlier helper may keep redirecting",
			strerror(errno));
	return false;
}

static int lookup_user(const struct helperd_options *opts, struct helperd_user *user)
{
	int r;

	if (!opts->user)
		return 0;
	r = helperd_user_lookup(opts->user, user);
	if (r == -ENOENT)
		log_err("Failed to look up user %s: no such user (create it with systemd-sysusers "
			"skaccel.conf, or useradd --system --no-create-home --home-dir / --shell "
			"/usr/sbin/nologin %s)",
			opts->user, opts->user);
	else if (r == -EPERM)
		log_err("Failed to use user %s: it is root; --user wants an unprivileged user",
			opts->user);
	else if (r == -E2BIG)
		log_err("Failed to look up user %s: more than %d groups", opts->user,
			HELPERD_USER_MAX_GROUPS);
	else if (r)
		log_err("Failed to look up user %s: %s", opts->user, strerror(-r));
	return r;
}

/* The policy is read again on SIGHUP, as the user we are now: say now if that will fail. */
static void check_config_readable(const struct helperd_options *opts)
{
	if (access(opts->config_path, R_OK) < 0 && errno != ENOENT)
		log_warn("Failed to access %s as user %s: %s; a reload (SIGHUP) will fail until "
			 "it is readable (e.g. root:%s, mode 0640)",
			 opts->config_path, opts->user, strerror(errno), opts->user);
}

static int drop_privileges(const struct helperd_options *opts, const struct helperd_user *user)
{
	uint64_t before = 0, after = 0;
	char kept[256];
	int r;

	r = helperd_caps_restrict_as(HELPERD_CAPS_KEEP, opts->user ? user : NULL, &before, &after);
	helperd_caps_format(kept, sizeof(kept), after);
	if (r) {
		log_err("Failed to drop %s after set-up: %s (still holding %s, uid %u)",
			opts->user ? "to the user and capabilities" : "capabilities", strerror(-r),
			kept, (unsigned int)geteuid());
		return r;
	}
	if (opts->user) {
		log_info("Switched to user %s (uid %u, gid %u) and dropped capabilities after "
			 "set-up: effective set %#llx, now %s",
			 opts->user, (unsigned int)user->uid, (unsigned int)user->gid,
			 (unsigned long long)before, kept);
		check_config_readable(opts);
	} else {
		log_info("Dropped capabilities after set-up: effective set %#llx, now %s",
			 (unsigned long long)before, kept);
	}
	return 0;
}

static int run_daemon(const struct helperd_options *opts)
{
	struct helperd_listener listener = { .fd = -1 };
	struct helperd_localaddrs localaddrs = {};
	struct helperd_host_routes host_routes;
	struct helperd_sweep_stats sweep_stats;
	struct helperd_registry registry = {};
	struct helperd_bpf bpf = {};
	struct helperd_user user = {};
	struct helperd_daemon d = { .epoll_fd = -1, .signal_fd = -1, .timer_fd = -1 };
	struct helperd_metrics_http metrics = { .fd = -1 };
	struct timespec start;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	const char *notify = getenv("NOTIFY_SOCKET");
	bool ready = false, accelerate;
	__u64 own_netns;
	int r, ret = EXIT_FAILURE;

	clock_gettime(CLOCK_REALTIME, &start);
	d.start_time_s = (double)start.tv_sec + (double)start.tv_nsec / 1e9;
	d.version = SKACCEL_VERSION;
	helperd_host_routes_init(&host_routes);
	/* Replies use MSG_NOSIGNAL; this also covers stderr going away under us. */
	sigaction(SIGPIPE, &ign, NULL);
	/* A SIGTERM during set-up is then served by the loop, which cleans up. */
	helperd_block_signals(NULL);
	raise_nofile(opts->max_clients);

	/* An unknown --user must fail before anything is loaded or pinned. */
	if (lookup_user(opts, &user))
		goto out;

	/* The policy before anything else: a bad file must not cost a restart's set-up. */
	d.opts = opts;
	if (helperd_daemon_load_policy(&d, false))
		goto out;

	/* The listener first: a second helper must stop before touching the shared maps. */
	if (setup_listener(opts, &listener))
		goto out;
	if (opts->metrics_listen) {
		if (setup_metrics(opts, &metrics))
			goto out;
		d.metrics_http = &metrics;
	}
	if (setup_bpf(opts, &bpf))
		goto out;

	r = helperd_registry_init(&registry, bpf.max_socks);
	if (!r)
		r = helperd_sweep_init(&d.sweep, bpf.max_socks, bpf.pair_prog);
	if (r) {
		log_err("Failed to allocate the registry: %s", strerror(-r));
		goto out;
	}
	r = helperd_sweep_rebuild(&bpf.maps, &registry, &sweep_stats);
	if (r) {
		log_err("Failed to read the registered sockets from skaccel_conns: %s",
			strerror(-r));
		goto out;
	}
	r = helperd_regcnt_load(&d.regcnt, bpf.maps.regcnt);
	if (r) {
		log_err("Failed to read registration counters from skaccel_regcnt: %s",
			strerror(-r));
		goto out;
	}
	if (sweep_stats.live || sweep_stats.removed)
		log_info("Found %u live registered sockets, removed %u closed ones",
			 sweep_stats.live, sweep_stats.removed);
	/* After the sweep: closed leftovers have freed their slots. */
	accelerate = kernel_selftest(opts, &bpf);
	d.selftest_ok = accelerate;

	r = helperd_own_netns_cookie(&own_netns);
	if (r) {
		log_err("Failed to read our network namespace cookie: %s", strerror(-r));
		goto out;
	}
	r = helperd_localaddrs_refresh(&localaddrs, helperd_now_ns());
	if (r)
		log_warn("Failed to list local addresses, ignoring: %s", strerror(-r));

	/*
	 * Everything that needed privileges is done. Before the closer thread starts:
	 * capabilities belong to each thread, and it must not keep any either (glibc changes
	 * the uid and gids in every thread, but one thread is simpler to reason about).
	 */
	if (drop_privileges(opts, &user))
		goto out;

	d.listen_fd = listener.fd;
	d.max_clients = opts->max_clients;
	d.notify_socket = notify;
	d.reg = (struct helperd_reg_ctx){
		.maps = &bpf.maps,
		.pair_prog = bpf.pair_prog,
		.registry = &registry,
		.localaddrs = &localaddrs,
		.own_netns = own_netns,
		.policy = &d.policy,
		.max_per_user = helperd_policy_global_limit(&d.policy, opts->max_per_user,
							    opts->max_per_user_given),
		.enabled = accelerate,
		.cross_netns = opts->cross_netns,
		.host_routes = &host_routes,
	};
	d.max_clients_per_user = opts->max_clients_per_user;
	r = helperd_closer_start(opts->max_clients);
	if (r) {
		log_err("Failed to start the closer thread: %s", strerror(-r));
		goto out;
	}
	r = helperd_daemon_init(&d);
	if (r) {
		log_err("Failed to set up the event loop: %s", strerror(-r));
		goto out;
	}

	/* At once, not a --metrics-interval later: node_exporter may read it any time. */
	if (opts->metrics_textfile && helperd_metrics_textfile_update(&d) == 0)
		log_info("Writing metrics to %s every %u s", opts->metrics_textfile,
			 opts->metrics_interval);
	helperd_daemon_notify_status(&d, true);
	ready = true;
	log_info("Ready: %s", d.status[0] ? d.status : "serving");
	r = helperd_daemon_run(&d);
	if (r == 0)
		ret = EXIT_SUCCESS;
	/* Whatever counted since the last tick; a SIGKILL loses at most that. */
	helperd_regcnt_publish(&d.regcnt);

out:
	if (ready || notify)
		helperd_notify(notify, "STOPPING=1");
	helperd_daemon_free(&d);
	helperd_listener_close(&listener);
	if (bpf.skel)
		helperd_bpf_close(&bpf);
	helperd_sweep_free(&d.sweep);
	helperd_registry_free(&registry);
	helperd_localaddrs_free(&localaddrs);
	helperd_host_routes_free(&host_routes);
	return ret;
}

int main(int argc, char **argv)
{
	const char *prog = program_invocation_short_name;
	struct helperd_options opts;
	char err[256];

	if (helperd_options_parse(&opts, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", prog, err, prog);
		return EXIT_USAGE;
	}
	if (opts.mode == HELPERD_HELP) {
		helperd_usage(stdout, prog);
		return EXIT_SUCCESS;
	}
	if (opts.mode == HELPERD_VERSION) {
		printf("skaccel-helperd %s (protocol %d)\n", SKACCEL_VERSION,
		       SKACCEL_PROTO_VERSION);
		return EXIT_SUCCESS;
	}
	if (opts.mode == HELPERD_CHECK_CONFIG)
		return helperd_policy_check_config(stdout, stderr, opts.config_path,
						   opts.config_explicit);
	helperd_log_setup(opts.log_level, helperd_log_stderr_is_journal(getenv("JOURNAL_STREAM")));
	libbpf_set_print(helperd_libbpf_print);

	if (opts.mode == HELPERD_STATS)
		return run_stats(&opts);
	if (opts.mode == HELPERD_UNPIN)
		return run_unpin(&opts);
	return run_daemon(&opts);
}
