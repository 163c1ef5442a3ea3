// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Pure formatting for the skaccel command: human units, the state and reason of a socket
 * (one place decides what "fast path" means), and tables with aligned columns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/fmt.h"
#include "common/skaccel_proto.h"
#include "helperd/names.h"

void cli_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
	static const char units[] = "KMGTPE";
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	/* 3 significant digits; 1023.9 rounds to "1024", which is still four characters */
	if (v < 10)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}

void cli_fmt_age(char *buf, size_t len, uint64_t s)
{
	if (s < 120)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
}

void cli_fmt_rate(char *buf, size_t len, uint64_t delta, double seconds)
{
	char n[32];

	if (seconds <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	cli_fmt_bytes(n, sizeof(n), (uint64_t)((double)delta / seconds + 0.5));
	snprintf(buf, len, "%s/s", n);
}

const char *cli_state_name(enum cli_state st)
{
	return st == CLI_STATE_FAST ? "fast" : "tcp";
}

/* "fallbacks: reader too far behind (budget)" -> "reader too far behind (budget)" */
static const char *fallback_text(unsigned int counter)
{
	const char *p = helperd_counter_phrase(counter);
	static const char prefix[] = "fallbacks: ";

	if (!p)
		return "unknown fallback";
	return strncmp(p, prefix, sizeof(prefix) - 1) ? p : p + sizeof(prefix) - 1;
}

static enum cli_state refused_state(const struct cli_sock *s, const char **key, char *text,
				    size_t len)
{
	const struct skaccel_sockmeta *m = &s->meta;

	*key = helperd_status_key(m->status);
	if (!*key)
		*key = "refused";
	if (m->status == SKACCEL_ERR_POLICY && m->rule[0])
		snprintf(text, len, "refused by policy: rule at line %u (%s)", m->rule_line,
			 m->rule);
	else if (m->status == SKACCEL_ERR_POLICY && m->rule_line)
		snprintf(text, len, "refused by policy: no rule matched (default deny, line %u)",
			 m->rule_line);
	else if (m->status == SKACCEL_ERR_POLICY)
		snprintf(text, len, "refused by policy: no rule matched (default deny)");
	else
		snprintf(text, len, "refused: %s", skaccel_status_str(m->status));
	return CLI_STATE_TCP;
}

enum cli_state cli_sock_state(const struct cli_sock *s, const char **key, char *text, size_t len)
{
	unsigned int fb = s->conn.last_fallback;

	if (s->refused)
		return refused_state(s, key, text, len);
	if (!s->peer) {
		*key = "peer_not_opted_in";
		snprintf(text, len, "waiting: peer not opted in (or not registered yet)");
		return CLI_STATE_TCP;
	}
	if (!s->peer_live) {
		*key = "peer_closed";
		snprintf(text, len, "peer closed");
		return CLI_STATE_TCP;
	}
	/* redirecting is cleared by every fallback and set by every redirect: it is now. */
	if (s->conn.redirecting || !helperd_counter_is_fallback(fb)) {
		*key = "";
		snprintf(text, len, "-");
		return CLI_STATE_FAST;
	}
	*key = helperd_counter_key(fb);
	if (fb == SKACCEL_CNT_FB_BACKLOG)
		snprintf(text, len, "backpressure: %s", fallback_text(fb));
	else if (fb == SKACCEL_CNT_FB_LEFT_CONN)
		snprintf(text, len, "left its connection");
	else
		snprintf(text, len, "%s", fallback_text(fb));
	return CLI_STATE_TCP;
}

void cli_table_init(struct cli_table *t, size_t ncols, const char *const *heads, const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->heads = heads;
	t->right = right;
}

int cli_table_add(struct cli_table *t, const char *const *row)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, ncap * t->ncols * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->cells = p;
		t->cap = ncap;
	}
	for (i = 0; i < t->ncols; i++) {
		char *c = strdup(row[i] ? row[i] : "");

		if (!c) {
			while (i--)
				free(t->cells[t->nrows * t->ncols + i]);
			return -ENOMEM;
		}
		t->cells[t->nrows * t->ncols + i] = c;
	}
	t->nrows++;
	return 0;
}

static void print_row(FILE *out, const struct cli_table *t, const size_t *w, const char *const *row)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		const char *sep = i + 1 < t->ncols ? "  " : "\n";

		if (t->right[i])
			fprintf(out, "%*s%s", (int)w[i], row[i], sep);
		else if (i + 1 < t->ncols)
			fprintf(out, "%-*s%s", (int)w[i], row[i], sep);
		else
			fprintf(out, "%s%s", row[i], sep);
	}
}

void cli_table_print(FILE *out, const struct cli_table *t)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	size_t r, i;

	if (!w)
		return;
	for (i = 0; i < t->ncols; i++)
		w[i] = strlen(t->heads[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t n = strlen(t->cells[r * t->ncols + i]);

			if (n > w[i])
				w[i] = n;
		}
	print_row(out, t, w, t->heads);
	for (r = 0; r < t->nrows; r++)
		print_row(out, t, w, (const char *const *)&t->cells[r * t->ncols]);
	free(w);
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
