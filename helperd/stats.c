// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * --stats. Everything comes from the pinned maps, so it works whether or not a helper is
 * running, and the numbers survive helper restarts. JSON is one object whose top-level
 * keys are stable names (names.c), with the socket table as an array under "sockets".
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/maps.h"
#include "helperd/names.h"
#include "helperd/ratelimit.h"
#include "helperd/stats.h"
#include "helperd/text.h"
#include "helperd/tuple.h"

struct sock_row {
	__u64 cookie;
	__u64 peer; /* 0: none */
	bool peer_live;
	struct skaccel_conn conn;
};

struct snapshot {
	__u64 counters[SKACCEL_CNT_MAX];
	__u64 regcnt[SKACCEL_REGCNT_MAX];
	struct skaccel_config cfg;
	struct sock_row *rows;
	size_t nrows;
	size_t closed; /* conns entries whose socket is gone, not swept yet */
};

static bool in_sockhash(const struct helperd_maps *maps, __u64 cookie)
{
	__u64 value;

	return bpf_map_lookup_elem(maps->socks, &cookie, &value) == 0;
}

static int read_counters(const struct helperd_maps *maps, struct snapshot *s)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 key;
	int cpu;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (key = 0; key < SKACCEL_CNT_MAX; key++) {
		if (bpf_map_lookup_elem(maps->cnt, &key, percpu) < 0)
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			s->counters[key] += percpu[cpu];
	}
	free(percpu);
	for (key = 0; key < SKACCEL_REGCNT_MAX; key++)
		bpf_map_lookup_elem(maps->regcnt, &key, &s->regcnt[key]);
	key = 0;
	bpf_map_lookup_elem(maps->cfg, &key, &s->cfg);
	return 0;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct sock_row *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int read_sockets(const struct helperd_maps *maps, struct snapshot *s)
{
	size_t cap = 0;
	__u64 key, next;
	bool have_key = false;

	while (bpf_map_get_next_key(maps->conns, have_key ? &key : NULL, &next) == 0) {
		struct sock_row row = { .cookie = next };

		key = next;
		have_key = true;
		if (bpf_map_lookup_elem(maps->conns, &key, &row.conn) < 0)
			continue;
		if (!in_sockhash(maps, key)) {
			s->closed++;
			continue;
		}
		if (bpf_map_lookup_elem(maps->peers, &key, &row.peer) == 0)
			row.peer_live = in_sockhash(maps, row.peer);
		if (s->nrows == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p = realloc(s->rows, ncap * sizeof(*s->rows));

			if (!p)
				return -ENOMEM;
			s->rows = p;
			cap = ncap;
		}
		s->rows[s->nrows++] = row;
	}
	if (s->nrows)
		qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_rows);
	return 0;
}

static const char *peer_state(const struct sock_row *r)
{
	if (!r->peer)
		return "waiting";
	return r->peer_live ? "paired" : "peer_closed";
}

static double age_s(const struct sock_row *r, uint64_t now)
{
	return now > r->conn.registered_ns ? (double)(now - r->conn.registered_ns) / 1e9 : 0.0;
}

static void print_text(FILE *out, const char *pin_dir, const struct snapshot *s)
{
	char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN], peer[32];
	uint64_t now = helperd_now_ns();
	size_t i, paired = 0;
	unsigned int c;
	int k;

	fprintf(out, "skaccel (maps in %s): acceleration %s", pin_dir,
		s->cfg.enabled ? "enabled" : "DISABLED");
	/* ~0, the default: a writer runs ahead as far as TCP would let it, nothing less. */
	if (s->cfg.rx_budget == ~0ull)
		fprintf(out, ", reader limit as on TCP (its SO_RCVBUF + the writer's SO_SNDBUF)\n");
	else
		fprintf(out, ", reader budget %" PRIu64 " bytes, resume below %" PRIu64 "\n",
			(uint64_t)s->cfg.rx_budget, (uint64_t)s->cfg.rx_resume);
	if (s->cfg.small_msg)
		fprintf(out, "Writes under %u bytes go by TCP to a reader holding 64 KiB or more\n",
			s->cfg.small_msg);
	if (s->cfg.lock_wait_ns)
		fprintf(out, "Senders wait up to %u us for their reader's socket lock\n",
			s->cfg.lock_wait_ns / 1000);
	else
		fprintf(out, "Senders do not wait for their reader's socket lock\n");

	fprintf(out, "\nData path:\n");
	for (c = 1; c < SKACCEL_CNT_MAX; c++)
		fprintf(out, "  %-64s %15" PRIu64 "\n", helperd_counter_phrase(c),
			(uint64_t)s->counters[c]);

	fprintf(out, "\nRegistrations:\n");
	for (k = SKACCEL_REGCNT_MAX - 1; k >= 0; k--) { /* successes first */
		int32_t status = k - SKACCEL_REGCNT_BIAS;

		if (s->regcnt[k])
			fprintf(out, "  %-64s %15" PRIu64 "\n", skaccel_status_str(status),
				(uint64_t)s->regcnt[k]);
	}

	for (i = 0; i < s->nrows; i++)
		paired += s->rows[i].peer && s->rows[i].peer_live;
	fprintf(out, "\nSockets: %zu registered, %zu paired", s->nrows, paired);
	if (s->closed)
		fprintf(out, ", %zu closed (not swept yet)", s->closed);
	fprintf(out, "\n");
	if (!s->nrows)
		return;
	fprintf(out, "  %-8s %-23s %-23s %-17s %12s %12s %-16s %6s %8s %8s\n", "COOKIE", "LOCAL",
		"REMOTE", "PEER", "REDIR-BYTES", "TCP-BYTES", "LAST-FALLBACK", "UID", "PID", "AGE");
	for (i = 0; i < s->nrows; i++) {
		const struct sock_row *r = &s->rows[i];
		const char *fb = helperd_counter_is_fallback(r->conn.last_fallback)
				     ? helperd_counter_key(r->conn.last_fallback)
				     : "-";

		helperd_addr_format(local, sizeof(local), r->conn.tuple.local_addr,
				    r->conn.tuple.local_port);
		helperd_addr_format(remote, sizeof(remote), r->conn.tuple.remote_addr,
				    r->conn.tuple.remote_port);
		if (!r->peer)
			snprintf(peer, sizeof(peer), "waiting for peer");
		else if (r->peer_live)
			snprintf(peer, sizeof(peer), "%llu", (unsigned long long)r->peer);
		else
			snprintf(peer, sizeof(peer), "closed");
		fprintf(out,
			"  %-8llu %-23s %-23s %-17s %12" PRIu64 " %12" PRIu64
			" %-16s %6u %8u %7.0fs\n",
			(unsigned long long)r->cookie, local, remote, peer,
			(uint64_t)r->conn.tx_redir_bytes, (uint64_t)r->conn.tx_tcp_bytes, fb,
			r->conn.uid, r->conn.pid, age_s(r, now));
	}
}

static void print_json(FILE *out, const char *pin_dir, const struct snapshot *s)
{
	char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN];
	uint64_t now = helperd_now_ns();
	size_t i, paired = 0;
	unsigned int c;
	int k;

	fprintf(out, "{\"pin_dir\": ");
	helperd_json_string(out, pin_dir);
	fprintf(out,
		", \"enabled\": %u, \"rx_budget\": %" PRIu64 ", \"rx_resume\": %" PRIu64
		", \"small_msg\": %u, \"lock_wait_ns\": %u",
		s->cfg.enabled, (uint64_t)s->cfg.rx_budget, (uint64_t)s->cfg.rx_resume,
		s->cfg.small_msg, s->cfg.lock_wait_ns);
	for (c = 1; c < SKACCEL_CNT_MAX; c++)
		fprintf(out, ", \"%s\": %" PRIu64, helperd_counter_key(c),
			(uint64_t)s->counters[c]);
	for (k = 0; k < SKACCEL_REGCNT_MAX; k++) {
		const char *key = helperd_status_key(k - SKACCEL_REGCNT_BIAS);

		if (key)
			fprintf(out, ", \"reg_%s\": %" PRIu64, key, (uint64_t)s->regcnt[k]);
	}
	for (i = 0; i < s->nrows; i++)
		paired += s->rows[i].peer && s->rows[i].peer_live;
	fprintf(out,
		", \"sockets_registered\": %zu, \"sockets_paired\": %zu"
		", \"sockets_closed_unswept\": %zu, \"sockets\": [",
		s->nrows, paired, s->closed);
	for (i = 0; i < s->nrows; i++) {
		const struct sock_row *r = &s->rows[i];

		helperd_addr_format(local, sizeof(local), r->conn.tuple.local_addr,
				    r->conn.tuple.local_port);
		helperd_addr_format(remote, sizeof(remote), r->conn.tuple.remote_addr,
				    r->conn.tuple.remote_port);
		fprintf(out,
			"%s{\"cookie\": %llu, \"local\": \"%s\", \"remote\": \"%s\", "
			"\"peer\": %llu, \"state\": \"%s\", \"tx_redir_bytes\": %" PRIu64
			", \"tx_redir_msgs\": %" PRIu64 ", \"tx_tcp_bytes\": %" PRIu64
			", \"tx_tcp_msgs\": %" PRIu64 ", \"redirecting\": %u"
			", \"last_fallback\": \"%s\", \"uid\": %u, \"pid\": %u, \"age_s\": %.3f}",
			i ? ", " : "", (unsigned long long)r->cookie, local, remote,
			(unsigned long long)r->peer, peer_state(r),
			(uint64_t)r->conn.tx_redir_bytes, (uint64_t)r->conn.tx_redir_msgs,
			(uint64_t)r->conn.tx_tcp_bytes, (uint64_t)r->conn.tx_tcp_msgs,
			r->conn.redirecting,
			helperd_counter_is_fallback(r->conn.last_fallback)
			    ? helperd_counter_key(r->conn.last_fallback)
			    : "",
			r->conn.uid, r->conn.pid, age_s(r, now));
	}
	fprintf(out, "]}\n");
}

int helperd_stats_maps_print(FILE *out, const char *pin_dir, const struct helperd_maps *maps,
			     bool json)
{
	struct snapshot s;
	int r;

	memset(&s, 0, sizeof(s));
	r = read_counters(maps, &s);
	if (!r)
		r = read_sockets(maps, &s);
	if (!r) {
		if (json)
			print_json(out, pin_dir, &s);
		else
			print_text(out, pin_dir, &s);
	}
	free(s.rows);
	return r;
}
