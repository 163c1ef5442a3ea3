// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `skaccel status`: one row per registered socket and per recent refusal, read from the
 * pinned maps (skaccel_conns, skaccel_peers, skaccel_meta, skaccel_refused). A socket's
 * receive side is its peer's sending side, so each row shows both directions.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/fmt.h"
#include "cli/sockdiag.h"
#include "common/number.h"
#include "common/skaccel_proto.h"
#include "helperd/ratelimit.h"
#include "helperd/text.h"
#include "helperd/tuple.h"

struct filter {
	unsigned int pid; /* 0: any */
	unsigned int port;
	bool has_port;
	const char *state; /* NULL: any; "fast", "tcp", "waiting", "refused" */
};

struct listing {
	struct cli_sock *socks;
	size_t n, cap;
	size_t registered, fast, refused;
};

static int push(struct listing *l, const struct cli_sock *s)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->socks, ncap * sizeof(*l->socks));

		if (!p)
			return -ENOMEM;
		l->socks = p;
		l->cap = ncap;
	}
	l->socks[l->n++] = *s;
	return 0;
}

static bool in_sockhash(const struct helperd_maps *maps, __u64 cookie)
{
	__u64 v;

	return bpf_map_lookup_elem(maps->socks, &cookie, &v) == 0;
}

static __u32 sock_pid(const struct cli_sock *s)
{
	return s->have_meta ? s->meta.pid : s->conn.pid;
}

static const struct skaccel_tuple *sock_tuple(const struct cli_sock *s)
{
	return s->refused ? &s->meta.tuple : &s->conn.tuple;
}

static bool wanted(const struct filter *f, const struct cli_sock *s)
{
	const struct skaccel_tuple *t = sock_tuple(s);
	const char *key;
	char text[160];
	enum cli_state st;

	if (f->pid && sock_pid(s) != f->pid)
		return false;
	if (f->has_port && t->local_port != f->port && t->remote_port != f->port)
		return false;
	if (!f->state)
		return true;
	st = cli_sock_state(s, &key, text, sizeof(text));
	if (!strcmp(f->state, "refused"))
		return s->refused;
	if (!strcmp(f->state, "waiting"))
		return !s->refused && !s->peer;
	return !strcmp(f->state, cli_state_name(st));
}

static int cmp_socks(const void *a, const void *b)
{
	const struct cli_sock *x = a, *y = b;
	__u32 px = sock_pid(x), py = sock_pid(y);

	if (x->refused != y->refused)
		return x->refused - y->refused;
	if (px != py)
		return px < py ? -1 : 1;
	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int read_registered(const struct helperd_maps *maps, struct listing *l)
{
	__u64 key, next;
	bool have_key = false;
	int r;

	while (bpf_map_get_next_key(maps->conns, have_key ? &key : NULL, &next) == 0) {
		struct cli_sock s = { .cookie = next, .registered = true };

		key = next;
		have_key = true;
		if (bpf_map_lookup_elem(maps->conns, &key, &s.conn) < 0 || !in_sockhash(maps, key))
			continue; /* closed, not swept yet */
		s.have_meta = bpf_map_lookup_elem(maps->meta, &key, &s.meta) == 0;
		if (bpf_map_lookup_elem(maps->peers, &key, &s.peer) == 0) {
			s.peer_live = in_sockhash(maps, s.peer);
			s.have_peer_conn = s.peer_live && bpf_map_lookup_elem(maps->conns, &s.peer,
									      &s.peer_conn) == 0;
		}
		r = push(l, &s);
		if (r)
			return r;
	}
	return errno == ENOENT || !have_key ? 0 : -errno;
}

static bool cookie_alive(const struct cli_diag_sock *d, size_t n, __u64 cookie)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (d[i].cookie == cookie)
			return true;
	return false;
}

/*
 * Recent refusals. Those of our own namespace whose socket is gone are left out (a dump of
 * its TCP sockets says which are alive); those of other namespaces we cannot check are kept.
 * Their s.conn stays zero: they never sent through the maps.
 */
static int read_refused(const struct helperd_maps *maps, struct listing *l)
{
	struct cli_diag_sock *live = NULL;
	struct skaccel_conn conn;
	size_t nlive = 0;
	__u64 key, next, own = cli_own_netns_cookie();
	bool have_key = false, checked;
	int r = 0;

	checked = own && cli_diag_dump(&live, &nlive) == 0;
	while (bpf_map_get_next_key(maps->refused, have_key ? &key : NULL, &next) == 0) {
		struct cli_sock s = { .cookie = next, .refused = true, .have_meta = true };

		key = next;
		have_key = true;
		if (bpf_map_lookup_elem(maps->refused, &key, &s.meta) < 0)
			continue;
		if (checked && s.meta.tuple.netns_cookie == own && !cookie_alive(live, nlive, key))
			continue;
		/* refused once, registered since (a retry): the registered row says all */
		if (bpf_map_lookup_elem(maps->conns, &key, &conn) == 0)
			continue;
		r = push(l, &s);
		if (r)
			break;
	}
	free(live);
	return r;
}

static void json_sock(FILE *out, const struct cli_sock *s, uint64_t now, bool first)
{
	const struct skaccel_tuple *t = sock_tuple(s);
	char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN], text[160];
	uint64_t since = s->refused ? s->meta.time_ns : s->conn.registered_ns;
	const char *key;
	enum cli_state st = cli_sock_state(s, &key, text, sizeof(text));

	helperd_addr_format(local, sizeof(local), t->local_addr, t->local_port);
	helperd_addr_format(remote, sizeof(remote), t->remote_addr, t->remote_port);
	fprintf(out, "%s\n    {\"cookie\": %llu, \"pid\": %u, \"comm\": ", first ? "" : ",",
		(unsigned long long)s->cookie, sock_pid(s));
	helperd_json_string(out, s->have_meta ? s->meta.comm : "");
	fprintf(out, ", \"uid\": %u, \"local\": \"%s\", \"remote\": \"%s\", \"state\": \"%s\"",
		s->have_meta ? s->meta.uid : s->conn.uid, local, remote, cli_state_name(st));
	fprintf(out, ", \"registered\": %s, \"reason\": \"%s\", \"reason_text\": ",
		s->refused ? "false" : "true", key);
	helperd_json_string(out, st == CLI_STATE_FAST ? "" : text);
	if (s->refused && s->meta.status == SKACCEL_ERR_POLICY) {
		fprintf(out, ", \"rule_line\": %u, \"rule\": ", s->meta.rule_line);
		helperd_json_string(out, s->meta.rule);
	}
	fprintf(out, ", \"peer_cookie\": %llu", (unsigned long long)s->peer);
	fprintf(out,
		", \"tx_redir_bytes\": %llu, \"tx_tcp_bytes\": %llu, \"tx_redir_msgs\": %llu, "
		"\"tx_tcp_msgs\": %llu",
		(unsigned long long)s->conn.tx_redir_bytes,
		(unsigned long long)s->conn.tx_tcp_bytes, (unsigned long long)s->conn.tx_redir_msgs,
		(unsigned long long)s->conn.tx_tcp_msgs);
	if (s->have_peer_conn)
		fprintf(out, ", \"rx_redir_bytes\": %llu, \"rx_tcp_bytes\": %llu",
			(unsigned long long)s->peer_conn.tx_redir_bytes,
			(unsigned long long)s->peer_conn.tx_tcp_bytes);
	else
		fprintf(out, ", \"rx_redir_bytes\": null, \"rx_tcp_bytes\": null");
	fprintf(out, ", \"age_s\": %llu}",
		(unsigned long long)(now > since ? (now - since) / 1000000000ull : 0));
}

static const char *const heads[] = { "PID",    "COMM",	   "LOCAL",  "REMOTE", "STATE", "TX-REDIR",
				     "TX-TCP", "RX-REDIR", "RX-TCP", "AGE",    "REASON" };
static const bool right[] = {
	true, false, false, false, false, true, true, true, true, true, false
};
#define NCOLS (sizeof(heads) / sizeof(heads[0]))

static int table_sock(struct cli_table *tab, const struct cli_sock *s, uint64_t now)
{
	const struct skaccel_tuple *t = sock_tuple(s);
	char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN], text[160], pid[16];
	char txr[16], txt[16], rxr[16], rxt[16], age[16];
	uint64_t since = s->refused ? s->meta.time_ns : s->conn.registered_ns;
	const char *key, *row[NCOLS];
	enum cli_state st = cli_sock_state(s, &key, text, sizeof(text));

	helperd_addr_format(local, sizeof(local), t->local_addr, t->local_port);
	helperd_addr_format(remote, sizeof(remote), t->remote_addr, t->remote_port);
	snprintf(pid, sizeof(pid), "%u", sock_pid(s));
	if (s->refused) {
		strcpy(txr, "-");
		strcpy(txt, "-");
	} else {
		cli_fmt_bytes(txr, sizeof(txr), s->conn.tx_redir_bytes);
		cli_fmt_bytes(txt, sizeof(txt), s->conn.tx_tcp_bytes);
	}
	if (s->have_peer_conn) {
		cli_fmt_bytes(rxr, sizeof(rxr), s->peer_conn.tx_redir_bytes);
		cli_fmt_bytes(rxt, sizeof(rxt), s->peer_conn.tx_tcp_bytes);
	} else {
		strcpy(rxr, "-");
		strcpy(rxt, "-");
	}
	cli_fmt_age(age, sizeof(age), now > since ? (now - since) / 1000000000ull : 0);
	row[0] = pid;
	row[1] = s->have_meta && s->meta.comm[0] ? s->meta.comm : "-";
	row[2] = local;
	row[3] = remote;
	row[4] = s->refused ? "tcp" : cli_state_name(st);
	row[5] = txr;
	row[6] = txt;
	row[7] = rxr;
	row[8] = rxt;
	row[9] = age;
	row[10] = text;
	return cli_table_add(tab, row);
}

static int print(const struct listing *l, const struct filter *f, bool json, const char *pin_dir,
		 const struct skaccel_config *cfg)
{
	uint64_t now = helperd_now_ns();
	struct cli_table tab;
	size_t i, shown = 0;
	int r = 0;

	if (json) {
		printf("{\"pin_dir\": ");
		helperd_json_string(stdout, pin_dir);
		printf(", \"enabled\": %s, \"registered\": %zu, \"fast\": %zu, "
		       "\"refused_recent\": %zu, \"sockets\": [",
		       cfg->enabled ? "true" : "false", l->registered, l->fast, l->refused);
		for (i = 0; i < l->n; i++)
			if (wanted(f, &l->socks[i]))
				json_sock(stdout, &l->socks[i], now, !shown++);
		printf("%s]}\n", shown ? "\n  " : "");
		return 0;
	}
	printf("%zu socket%s registered, %zu on the fast path; %zu recent refusal%s%s\n",
	       l->registered, l->registered == 1 ? "" : "s", l->fast, l->refused,
	       l->refused == 1 ? "" : "s",
	       cfg->enabled ? "" : " (acceleration DISABLED: every connection uses TCP)");
	cli_table_init(&tab, NCOLS, heads, right);
	for (i = 0; i < l->n && !r; i++)
		if (wanted(f, &l->socks[i]))
			r = table_sock(&tab, &l->socks[i], now);
	if (!r && tab.nrows)
		cli_table_print(stdout, &tab);
	else if (!r && !l->n)
		printf(
		    "No socket is registered: no opted-in process has a local TCP connection.\n");
	else if (!r)
		printf("No socket matches the filters.\n");
	cli_table_free(&tab);
	return r;
}

static int run(const char *pin_dir, const struct filter *f, bool json)
{
	struct helperd_maps maps;
	struct skaccel_config cfg = {};
	struct listing l = {};
	__u32 zero = 0;
	size_t i;
	int r;

	r = cli_open_maps(&maps, pin_dir, "skaccel");
	if (r)
		return r;
	(void)bpf_map_lookup_elem(maps.cfg, &zero, &cfg);
	r = read_registered(&maps, &l);
	if (!r)
		r = read_refused(&maps, &l);
	helperd_maps_close(&maps);
	if (!r) {
		for (i = 0; i < l.n; i++) {
			const char *key;
			char text[160];

			if (l.socks[i].refused) {
				l.refused++;
				continue;
			}
			l.registered++;
			l.fast +=
			    cli_sock_state(&l.socks[i], &key, text, sizeof(text)) == CLI_STATE_FAST;
		}
		if (l.n)
			qsort(l.socks, l.n, sizeof(*l.socks), cmp_socks);
		r = print(&l, f, json, pin_dir, &cfg);
	}
	free(l.socks);
	if (r) {
		fprintf(stderr, "skaccel: Failed to read the maps in %s: %s\n", pin_dir,
			strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cli_status_main(int argc, char **argv, const char *pin_dir)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },   { "port", required_argument, NULL, 'P' },
		{ "state", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },	   {},
	};
	struct filter f = {};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:P:s:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (skaccel_parse_uint(optarg, 1, 4194304, &f.pid) < 0) {
				fprintf(stderr,
					"skaccel status: --pid takes a process id, not '%s'\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case 'P':
			if (skaccel_parse_uint(optarg, 1, 65535, &f.port) < 0) {
				fprintf(stderr,
					"skaccel status: --port takes a port from 1 to 65535, not "
					"'%s'\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			f.has_port = true;
			break;
		case 's':
			if (strcmp(optarg, "fast") && strcmp(optarg, "tcp") &&
			    strcmp(optarg, "waiting") && strcmp(optarg, "refused")) {
				fprintf(
				    stderr,
				    "skaccel status: --state takes fast, tcp, waiting or refused, "
				    "not '%s'\n",
				    optarg);
				return CLI_EXIT_USAGE;
			}
			f.state = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			cli_help(stdout, "status");
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try 'skaccel help status' for more information.\n");
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "skaccel status: unexpected argument '%s'\n", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	return run(pin_dir, &f, json);
}
