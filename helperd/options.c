// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Command-line parsing for skaccel-helperd: strict, with defaults and a man-page --help. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/options.h"
#include "helperd/policy.h"

enum {
	OPT_SOCKET = 0x100,
	OPT_PIN_DIR,
	OPT_LOG_LEVEL,
	OPT_MAX_CLIENTS,
	OPT_MAX_PER_USER,
	OPT_MAX_CLIENTS_PER_USER,
	OPT_MAX_SOCKS,
	OPT_RX_BUDGET,
	OPT_RX_RESUME,
	OPT_SMALL_MSG,
	OPT_LOCK_WAIT,
	OPT_DISABLE,
	OPT_STATS,
	OPT_JSON,
	OPT_UNPIN,
	OPT_CONFIG,
	OPT_CHECK_CONFIG,
	OPT_USER,
	OPT_METRICS_LISTEN,
	OPT_METRICS_ALLOW_REMOTE,
	OPT_METRICS_TEXTFILE,
	OPT_METRICS_INTERVAL,
	OPT_CROSS_NETNS,
};

static const struct option long_options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-per-user", required_argument, NULL, OPT_MAX_PER_USER },
	{ "max-clients-per-user", required_argument, NULL, OPT_MAX_CLIENTS_PER_USER },
	{ "max-socks", required_argument, NULL, OPT_MAX_SOCKS },
	{ "rx-budget", required_argument, NULL, OPT_RX_BUDGET },
	{ "rx-resume", required_argument, NULL, OPT_RX_RESUME },
	{ "small-msg", required_argument, NULL, OPT_SMALL_MSG },
	{ "lock-wait", required_argument, NULL, OPT_LOCK_WAIT },
	{ "disable", no_argument, NULL, OPT_DISABLE },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "unpin", no_argument, NULL, OPT_UNPIN },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", optional_argument, NULL, OPT_CHECK_CONFIG },
	{ "user", required_argument, NULL, OPT_USER },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "metrics-allow-remote", no_argument, NULL, OPT_METRICS_ALLOW_REMOTE },
	{ "metrics-textfile", required_argument, NULL, OPT_METRICS_TEXTFILE },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "cross-netns", required_argument, NULL, OPT_CROSS_NETNS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{}
};

int helperd_parse_log_level(const char *s, enum helperd_log_level *level)
{
	static const struct {
		const char *name;
		enum helperd_log_level level;
	} levels[] = {
		{ "error", HELPERD_LOG_ERR },
		{ "warn", HELPERD_LOG_WARN },
		{ "info", HELPERD_LOG_INFO },
		{ "debug", HELPERD_LOG_DEBUG },
	};
	size_t i;

	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (strcmp(s, levels[i].name) == 0) {
			*level = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static void set_defaults(struct helperd_options *opts)
{
	*opts = (struct helperd_options){
		.mode = HELPERD_RUN,
		.socket_path = SKACCEL_DEFAULT_SOCKET,
		.pin_dir = HELPERD_DEFAULT_PIN_DIR,
		.config_path = HELPERD_DEFAULT_CONFIG,
		.log_level = HELPERD_LOG_INFO,
		.max_clients = HELPERD_DEFAULT_MAX_CLIENTS,
		.max_clients_per_user = HELPERD_DEFAULT_MAX_CLIENTS_PER_USER,
		.max_per_user = HELPERD_DEFAULT_MAX_PER_USER,
		.max_socks = SKACCEL_MAX_SOCKS,
		.rx_budget = SKACCEL_DEFAULT_RX_BUDGET,
		.rx_resume = SKACCEL_DEFAULT_RX_RESUME,
		.small_msg = SKACCEL_DEFAULT_SMALL_MSG,
		.metrics_interval = HELPERD_DEFAULT_METRICS_INTERVAL,
	};
}

/* Sets *mode unless another action was asked for already. */
static int set_mode(struct helperd_options *opts, enum helperd_mode mode)
{
	if (opts->mode != HELPERD_RUN && opts->mode != mode)
		return -EINVAL;
	opts->mode = mode;
	return 0;
}

static int check_combination(struct helperd_options *opts, bool resume_given, char *err,
			     size_t errlen)
{
	if (opts->json && opts->mode != HELPERD_STATS) {
		snprintf(err, errlen, "--json is only valid with --stats");
		return -EINVAL;
	}
	if (opts->user && opts->mode != HELPERD_RUN) {
		snprintf(err, errlen, "--user applies only to the running helper");
		return -EINVAL;
	}
	if ((opts->metrics_listen || opts->metrics_textfile) && opts->mode != HELPERD_RUN) {
		snprintf(err, errlen, "--metrics-* options apply only to the running helper");
		return -EINVAL;
	}
	if (opts->metrics_listen && !opts->metrics_addr.loopback && !opts->metrics_allow_remote) {
		snprintf(err, errlen,
			 "--metrics-listen %s is not a loopback address; add "
			 "--metrics-allow-remote to serve metrics beyond this host",
			 opts->metrics_listen);
		return -EINVAL;
	}
	if (opts->metrics_allow_remote && !opts->metrics_listen) {
		snprintf(err, errlen, "--metrics-allow-remote needs --metrics-listen");
		return -EINVAL;
	}
	if (opts->metrics_interval_given && !opts->metrics_textfile) {
		snprintf(err, errlen, "--metrics-interval needs --metrics-textfile");
		return -EINVAL;
	}
	if (opts->rx_budget == 0) {
		snprintf(err, errlen, "--rx-budget must be at least 1 byte");
		return -EINVAL;
	}
	/* Only the budget given: no hysteresis, as by default (common/skaccel_maps.h). */
	if (!resume_given)
		opts->rx_resume = opts->rx_budget;
	if (opts->rx_resume == 0 || opts->rx_resume > opts->rx_budget) {
		snprintf(err, errlen,
			 "--rx-resume (%" PRIu64 ") must be between 1 and --rx-budget (%" PRIu64
			 ")",
			 opts->rx_resume, opts->rx_budget);
		return -EINVAL;
	}
	return 0;
}

int helperd_options_parse(struct helperd_options *opts, int argc, char **argv, char *err,
			  size_t errlen)
{
	const char *check_path = NULL;
	bool resume_given = false;
	int c, r, idx = 0;

	set_defaults(opts);
	err[0] = '\0';
	optind = 0; /* glibc: full re-initialisation, so a second parse starts clean */
	opterr = 0; /* we word the errors ourselves */
	/* Leading ':' makes a missing argument ':' rather than '?'. */
	while ((c = getopt_long(argc, argv, ":hV", long_options, &idx)) != -1) {
		r = 0;
		switch (c) {
		case OPT_SOCKET:
			if (!optarg[0] || strlen(optarg) >= 108) {
				snprintf(err, errlen, "--socket: path must be 1 to 107 bytes long");
				return -EINVAL;
			}
			opts->socket_path = optarg;
			break;
		case OPT_PIN_DIR:
			if (optarg[0] != '/') {
				snprintf(err, errlen, "--pin-dir: '%s' is not an absolute path",
					 optarg);
				return -EINVAL;
			}
			opts->pin_dir = optarg;
			break;
		case OPT_LOG_LEVEL:
			r = helperd_parse_log_level(optarg, &opts->log_level);
			break;
		case OPT_MAX_CLIENTS:
			r = skaccel_parse_uint(optarg, 1, HELPERD_MAX_CLIENTS_LIMIT,
					       &opts->max_clients);
			break;
		case OPT_MAX_CLIENTS_PER_USER:
			r = skaccel_parse_uint(optarg, 1, HELPERD_MAX_CLIENTS_LIMIT,
					       &opts->max_clients_per_user);
			break;
		case OPT_MAX_PER_USER:
			r = skaccel_parse_uint(optarg, 1, HELPERD_MAX_SOCKS_LIMIT,
					       &opts->max_per_user);
			opts->max_per_user_given = true;
			break;
		case OPT_MAX_SOCKS:
			r = skaccel_parse_uint(optarg, HELPERD_MIN_SOCKS, HELPERD_MAX_SOCKS_LIMIT,
					       &opts->max_socks);
			break;
		case OPT_RX_BUDGET:
			r = skaccel_parse_size(optarg, &opts->rx_budget);
			break;
		case OPT_RX_RESUME:
			r = skaccel_parse_size(optarg, &opts->rx_resume);
			resume_given = true;
			break;
		case OPT_SMALL_MSG: {
			uint64_t v;

			r = skaccel_parse_size(optarg, &v);
			if (!r && v > UINT32_MAX)
				r = -ERANGE;
			opts->small_msg = (uint32_t)v;
			break;
		}
		case OPT_CONFIG:
			if (!optarg[0]) {
				snprintf(err, errlen, "--config: empty path");
				return -EINVAL;
			}
			opts->config_path = optarg;
			opts->config_explicit = true;
			break;
		case OPT_USER:
			if (!optarg[0]) {
				snprintf(err, errlen, "--user: empty name");
				return -EINVAL;
			}
			opts->user = optarg;
			break;
		case OPT_METRICS_LISTEN:
			if (helperd_metrics_addr_parse(optarg, &opts->metrics_addr)) {
				snprintf(
				    err, errlen,
				    "--metrics-listen: '%s' is not IPV4:PORT, [IPV6]:PORT or an "
				    "absolute Unix socket path (below 108 bytes)",
				    optarg);
				return -EINVAL;
			}
			opts->metrics_listen = optarg;
			break;
		case OPT_METRICS_ALLOW_REMOTE:
			opts->metrics_allow_remote = true;
			break;
		case OPT_METRICS_TEXTFILE:
			if (optarg[0] != '/') {
				snprintf(err, errlen,
					 "--metrics-textfile: '%s' is not an absolute path",
					 optarg);
				return -EINVAL;
			}
			opts->metrics_textfile = optarg;
			break;
		case OPT_METRICS_INTERVAL:
			r = skaccel_parse_uint(optarg, 1, HELPERD_MAX_METRICS_INTERVAL,
					       &opts->metrics_interval);
			opts->metrics_interval_given = true;
			break;
		case OPT_LOCK_WAIT:
			r = skaccel_parse_uint(optarg, 0, SKACCEL_MAX_LOCK_WAIT_NS / 1000,
					       &opts->lock_wait_us);
			opts->lock_wait_given = true;
			break;
		case OPT_DISABLE:
			opts->disable = true;
			break;
		case OPT_CROSS_NETNS:
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				snprintf(err, errlen, "--cross-netns: '%s' is not on or off",
					 optarg);
				return -EINVAL;
			}
			opts->cross_netns = strcmp(optarg, "on") == 0;
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case OPT_STATS:
		case OPT_UNPIN:
		case OPT_CHECK_CONFIG:
		case 'h':
		case 'V':
			r = set_mode(opts, c == OPT_STATS	   ? HELPERD_STATS
					   : c == OPT_UNPIN	   ? HELPERD_UNPIN
					   : c == OPT_CHECK_CONFIG ? HELPERD_CHECK_CONFIG
					   : c == 'h'		   ? HELPERD_HELP
								   : HELPERD_VERSION);
			if (r) {
				snprintf(err, errlen, "'%s' cannot be combined with another action",
					 argv[optind - 1]);
				return r;
			}
			if (c == OPT_CHECK_CONFIG && optarg) {
				if (!optarg[0]) {
					snprintf(err, errlen, "--check-config: empty path");
					return -EINVAL;
				}
				check_path = optarg;
			}
			break;
		case ':':
			snprintf(err, errlen, "option '%s' requires an argument", argv[optind - 1]);
			return -EINVAL;
		default:
			if (optopt && optopt < 0x100)
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
		if (r) {
			/* Only long options take values, so idx names the option. */
			snprintf(err, errlen, "invalid value '%s' for --%s%s", optarg,
				 long_options[idx].name, r == -ERANGE ? ": out of range" : "");
			return r;
		}
	}
	/* --check-config FILE as well as --check-config=FILE (an optional argument's form). */
	if (opts->mode == HELPERD_CHECK_CONFIG && !check_path && optind == argc - 1 &&
	    argv[optind][0])
		check_path = argv[optind++];
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (check_path) {
		opts->config_path = check_path;
		opts->config_explicit = true;
	}
	if (opts->mode == HELPERD_HELP || opts->mode == HELPERD_VERSION)
		return 0;
	return check_combination(opts, resume_given, err, errlen);
}

void helperd_usage(FILE *out, const char *prog)
{
	fprintf(
	    out,
	    "Usage: %1$s [OPTIONS]\n"
	    "       %1$s --stats [--json] [--pin-dir DIR]\n"
	    "       %1$s --unpin [--pin-dir DIR]\n"
	    "       %1$s --check-config [FILE]\n"
	    "\n"
	    "The privileged helper of skaccel: it loads and pins the BPF programs and\n"
	    "maps that redirect bytes between the two ends of a local TCP connection, and\n"
	    "accepts sockets from programs running under skaccel-run (libskaccel.so).\n"
	    "Each socket is validated, keyed from what the kernel reports (never from what\n"
	    "the client says), inserted into the pinned sockhash and paired with its peer;\n"
	    "the helper then closes its copy. Runs in the foreground and logs to stderr.\n"
	    "Maps are reused from the pin directory when present, so a restart drops no\n"
	    "connection. A policy file says who may opt in (see Policy below).\n"
	    "\n"
	    "Options:\n"
	    "  --socket PATH       listening socket (default %2$s); ignored under\n"
	    "                      systemd socket activation (LISTEN_FDS)\n"
	    "  --pin-dir DIR       bpffs directory for the pinned maps and programs\n"
	    "                      (default %3$s)\n"
	    "  --config FILE       the policy file (default %9$s).\n"
	    "                      A missing default file lets everyone opt in; a file\n"
	    "                      named with --config must exist\n"
	    "  --user NAME         once the programs are loaded and pinned, switch to this\n"
	    "                      unprivileged user (its uid, primary and supplementary\n"
	    "                      groups) before dropping every capability; the unit\n"
	    "                      uses skaccel. Default: stay root (without capabilities)\n"
	    "  --log-level LEVEL   error, warn, info or debug (default info)\n"
	    "  --max-clients N     concurrent client connections (default %4$u)\n"
	    "  --max-clients-per-user N\n"
	    "                      concurrent client connections of one user other than\n"
	    "                      root, so that no user can lock the others out (default %7$u)\n"
	    "  --max-per-user N    registered sockets per user (default %5$u); beats the\n"
	    "                      policy file's global max-per-user, not its per-user lines\n"
	    "  --max-socks N       sockets the sockhash holds, all users together (default\n"
	    "                      %8$u); applies when the maps are created: pinned maps\n"
	    "                      keep their size. When full, new connections stay on TCP\n"
	    "                      (counted as map_full)\n"
	    "  --rx-budget BYTES   stop redirecting to a reader holding this much receive\n"
	    "                      memory, when that is less than TCP would let the writer\n"
	    "                      run ahead (its SO_SNDBUF plus the reader's SO_RCVBUF);\n"
	    "                      default: no budget, TCP's limit (suffixes K, M, G)\n"
	    "  --rx-resume BYTES   redirect again only below this (default: the budget,\n"
	    "                      i.e. no hysteresis)\n"
	    "  --small-msg BYTES   writes below this size go by TCP while the reader holds\n"
	    "                      64 KiB or more: TCP merges them, the redirect path wakes\n"
	    "                      the reader once per write (default %6$u: off)\n"
	    "  --lock-wait USEC    how long a sender waits for its reader's socket lock\n"
	    "                      before it sleeps on it (across CPUs a reader holds it\n"
	    "                      while it copies); 0: never wait, at most %15$u (default\n"
	    "                      %14$u, or 0 with one CPU online)\n"
	    "  --disable           acceleration off: the programs pass every byte to TCP and\n"
	    "                      new registrations are refused; existing sockets stay\n"
	    "  --metrics-listen ADDR\n"
	    "                      serve Prometheus metrics (text format 0.0.4) at\n"
	    "                      http://ADDR/metrics; ADDR is 127.0.0.1:PORT, [::1]:PORT\n"
	    "                      (numeric, PORT 0: any free port, logged) or the path of\n"
	    "                      a Unix socket (mode 0600). Off by default. At most %10$d\n"
	    "                      connections (a new one replaces the oldest), one request\n"
	    "                      each, closed after %11$llu s; only GET and HEAD /metrics\n"
	    "  --metrics-allow-remote\n"
	    "                      let --metrics-listen be a non-loopback address (anyone\n"
	    "                      who reaches it reads the metrics); refused without this\n"
	    "  --metrics-textfile FILE\n"
	    "                      write the same metrics to FILE (say NAME.prom in\n"
	    "                      node_exporter's --collector.textfile.directory) at start\n"
	    "                      and every --metrics-interval seconds, atomically: a\n"
	    "                      temporary FILE.tmp.PID renamed over it, by the --user\n"
	    "                      if one is given (the directory must let it write).\n"
	    "                      Off by default\n"
	    "  --metrics-interval SECONDS\n"
	    "                      between two writes of --metrics-textfile, 1 to %12$d\n"
	    "                      (default %13$d)\n"
	    "  --cross-netns on|off\n"
	    "                      on: pair a socket with its other end in another network\n"
	    "                      namespace of this host (containers, pods), whose data\n"
	    "                      then bypasses netfilter, tc and the namespaces' counters\n"
	    "                      after the handshake (default off, see SECURITY.md)\n"
	    "  --stats             print counters and live sockets from the pinned maps, exit\n"
	    "                      (the same as skaccel stats, see skaccel(8))\n"
	    "  --json              with --stats: one JSON object instead of tables\n"
	    "  --unpin             remove the pinned maps and programs, exit (uninstall;\n"
	    "                      live connections keep working until they close)\n"
	    "  --check-config [FILE]\n"
	    "                      check the policy file (FILE, else --config's, else the\n"
	    "                      default), print 'FILE: OK (N rules, default allow)' and\n"
	    "                      exit 0, or every error as FILE:LINE:COLUMN: ... and exit\n"
	    "                      1; needs no privileges\n"
	    "  -h, --help          show this help and exit\n"
	    "  -V, --version       show the version and exit\n"
	    "\n"
	    "Policy:\n"
	    "  One directive per line, '#' starts a comment; the first matching rule decides:\n"
	    "    default allow|deny        when no rule matches (required once there are rules)\n"
	    "    allow|deny [KEY=LIST]...  keys ANDed, comma-separated items ORed:\n"
	    "      user=alice,1001         the client's user, by name or uid\n"
	    "      group=web,33            its primary or any supplementary group\n"
	    "      exe=/usr/sbin/nginx     its executable (/proc/PID/exe)\n"
	    "      ports=80,8000-8999      the socket's local or remote port\n"
	    "    max-per-user N            registered sockets per user\n"
	    "    max-per-user USER N       ... for one user\n"
	    "  Names are resolved at load; any error refuses the whole file. A refusal is\n"
	    "  answered 'refused by policy' (the program stays on TCP) and logged once per\n"
	    "  client connection with the rule that matched. Whatever the policy, a socket is\n"
	    "  refused when a user other than root hands over another user's socket, or when\n"
	    "  it lives in another network namespace than the client's connection.\n"
	    "\n"
	    "Signals:\n"
	    "  SIGTERM, SIGINT     exit cleanly (status 0); pinned state is kept\n"
	    "  SIGHUP              reload the policy file; if it has errors, they are logged\n"
	    "                      and the policy loaded before stays in force\n"
	    "\n"
	    "Metrics:\n"
	    "  With --metrics-listen or --metrics-textfile, in the Prometheus text format,\n"
	    "  all named skaccel_* (counters survive helper restarts: they live in the maps):\n"
	    "    sent_bytes_total, sent_messages_total {path=redirect|tcp}\n"
	    "    fallbacks_total {reason=...}   messages sent by TCP instead, and why\n"
	    "    sockets_registered_total, connections_accelerated_total,\n"
	    "    registrations_waiting_peer_total, registrations_refused_total {reason=...},\n"
	    "    registrations_deferred_total, pings_total\n"
	    "                                   the outcomes of the clients' requests\n"
	    "    skb_segments_total, skb_bytes_total, skb_overlap_bytes_total,\n"
	    "    skb_trim_failed_segments_total  what the receive-side program saw\n"
	    "    sockets, sockets_max, clients, clients_max, acceleration_enabled,\n"
	    "    selftest_ok, helper_start_time_seconds, build_info {version, protocol}\n"
	    "\n"
	    "Environment:\n"
	    "  LISTEN_PID, LISTEN_FDS  socket activation: exactly one AF_UNIX SOCK_SEQPACKET\n"
	    "                      listening socket at fd 3\n"
	    "  NOTIFY_SOCKET       sd_notify: READY=1 once serving, STOPPING=1 at exit\n"
	    "  JOURNAL_STREAM      when it names stderr, lines carry <N> syslog priorities\n"
	    "\n"
	    "Files:\n"
	    "  %2$s   default listening socket\n"
	    "  %9$s  policy (optional)\n"
	    "  %3$s/skaccel_*   pinned maps; prog_msg, prog_skb: pinned programs\n"
	    "\n"
	    "Exit status:\n"
	    "  0  clean exit (signal, --stats, --unpin, --check-config, --help, --version)\n"
	    "  1  failure (set-up, a policy error, --stats without maps, ...)\n"
	    "  2  invalid command line\n"
	    "\n"
	    "Examples:\n"
	    "  %1$s                               run in the foreground\n"
	    "  %1$s --socket /tmp/h.sock --pin-dir /sys/fs/bpf/skaccel-dev --log-level debug\n"
	    "  %1$s --stats\n"
	    "  %1$s --stats --json | python3 -m json.tool\n"
	    "  systemd-socket-activate -l /run/skaccel/helperd.sock --seqpacket %1$s\n"
	    "  %1$s --check-config /etc/skaccel/helperd.conf.new\n"
	    "  %1$s --metrics-listen 127.0.0.1:9464\n"
	    "  %1$s --metrics-textfile /var/lib/prometheus/node-exporter/skaccel.prom\n"
	    "  %1$s --unpin                       after stopping the service\n",
	    prog, SKACCEL_DEFAULT_SOCKET, HELPERD_DEFAULT_PIN_DIR, HELPERD_DEFAULT_MAX_CLIENTS,
	    HELPERD_DEFAULT_MAX_PER_USER, SKACCEL_DEFAULT_SMALL_MSG,
	    HELPERD_DEFAULT_MAX_CLIENTS_PER_USER, (unsigned int)SKACCEL_MAX_SOCKS,
	    HELPERD_DEFAULT_CONFIG, HELPERD_METRICS_MAX_CONNS,
	    (unsigned long long)(HELPERD_METRICS_TIMEOUT_NS / 1000000000ull),
	    HELPERD_MAX_METRICS_INTERVAL, HELPERD_DEFAULT_METRICS_INTERVAL,
	    SKACCEL_DEFAULT_LOCK_WAIT_NS / 1000, SKACCEL_MAX_LOCK_WAIT_NS / 1000);
}
