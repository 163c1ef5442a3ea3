// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The Prometheus text exposition (format 0.0.4). Every counter comes from the one list
 * that defines it (SKACCEL_COUNTER_LIST, SKACCEL_STATUS_LIST), whose metric column names
 * its family, so a counter added there is exported without a change here. Members of a
 * family are written together under one HELP and TYPE, as the format requires.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/skaccel_proto.h"
#include "helperd/metrics.h"

#define PREFIX "skaccel_"

struct counter_def {
	const char *metric; /* after PREFIX; NULL: not exported */
	const char *label;  /* counters: 'name="value"' or ""; statuses: the label's name */
	const char *phrase;
	const char *key;
	int value; /* statuses */
};

static const struct counter_def counters[SKACCEL_CNT_MAX] = {
#define COUNTER_DEF(name, key_, phrase_, fallback, metric_, label_) \
	[SKACCEL_CNT_##                                             \
	    name] = { .metric = metric_, .label = label_, .phrase = phrase_, .key = key_ },
	SKACCEL_COUNTER_LIST(COUNTER_DEF)
#undef COUNTER_DEF
};

static const struct counter_def statuses[] = {
#define STATUS_DEF(name, value_, key_, phrase_, metric_, label_) \
	{ .metric = metric_, .label = label_, .phrase = phrase_, .key = key_, .value = value_ },
	SKACCEL_STATUS_LIST(STATUS_DEF)
#undef STATUS_DEF
};

#define N_STATUSES (sizeof(statuses) / sizeof(statuses[0]))

/* Families whose members' phrases would not do as their HELP. */
static const struct {
	const char *family;
	const char *help;
} family_help[] = {
	{ "sent_bytes_total", "Bytes registered sockets sent, by path: redirect (peer to peer "
			      "through the sockhash) or tcp (through TCP while registered)" },
	{ "sent_messages_total", "Messages (sendmsg calls) registered sockets sent, by path" },
	{ "fallbacks_total", "Messages registered sockets sent through TCP instead of the "
			     "redirect, by reason" },
	{ "lock_waits_total",
	  "Redirects that found the reader's socket lock held and waited for it, by outcome: "
	  "free (it came free) or gave_up (the sender then slept on it)" },
	{ "connections_accelerated_total",
	  "Connections put on the fast path: their second end registered and was paired with "
	  "the first (each connection counted once)" },
	{ "registrations_waiting_peer_total",
	  "Sockets registered before their peer; they accelerate once it registers" },
	{ "pings_total", "PING requests answered (skaccel-run checking for a helper)" },
	{ "registrations_deferred_total",
	  "Sockets not registered because their peer was not (a reader asks only if its writer "
	  "waits); they ask again later" },
	{ "registrations_refused_total",
	  "Requests the helper refused, by reason; the connection stays on TCP" },
};

const char *helperd_metrics_family_help(const char *family)
{
	size_t i;

	for (i = 0; i < sizeof(family_help) / sizeof(family_help[0]); i++)
		if (strcmp(family_help[i].family, family) == 0)
			return family_help[i].help;
	return NULL;
}

/* HELP text escapes backslash and newline; label values double quotes too. */
static void put_escaped(FILE *out, const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"' && quotes)
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

static void header(FILE *out, const char *name, const char *help, const char *type)
{
	fprintf(out, "# HELP " PREFIX "%s ", name);
	put_escaped(out, help, false);
	fprintf(out, "\n# TYPE " PREFIX "%s %s\n", name, type);
}

static void family_header(FILE *out, const char *family, const char *phrase)
{
	const char *help = helperd_metrics_family_help(family);

	header(out, family, help ? help : phrase, "counter");
}

static void sample(FILE *out, const char *name, const char *labels, unsigned long long v)
{
	if (labels && labels[0])
		fprintf(out, PREFIX "%s{%s} %llu\n", name, labels, v);
	else
		fprintf(out, PREFIX "%s %llu\n", name, v);
}

static bool seen_before(const struct counter_def *defs, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (defs[j].metric && strcmp(defs[j].metric, defs[i].metric) == 0)
			return true;
	return false;
}

static void render_counters(FILE *out, const struct helperd_metrics_snapshot *s)
{
	size_t i, j;

	for (i = 0; i < SKACCEL_CNT_MAX; i++) {
		if (!counters[i].metric || seen_before(counters, i))
			continue;
		family_header(out, counters[i].metric, counters[i].phrase);
		for (j = i; j < SKACCEL_CNT_MAX; j++)
			if (counters[j].metric &&
			    strcmp(counters[j].metric, counters[i].metric) == 0)
				sample(out, counters[j].metric, counters[j].label,
				       (unsigned long long)s->counters[j]);
	}
}

static unsigned long long regcnt(const struct helperd_metrics_snapshot *s, int status)
{
	int slot = status + SKACCEL_REGCNT_BIAS;

	return slot >= 0 && slot < SKACCEL_REGCNT_MAX ? (unsigned long long)s->regcnt[slot] : 0;
}

static void render_statuses(FILE *out, const struct helperd_metrics_snapshot *s)
{
	char label[96];
	size_t i, j;

	for (i = 0; i < N_STATUSES; i++) {
		if (!statuses[i].metric || seen_before(statuses, i))
			continue;
		family_header(out, statuses[i].metric, statuses[i].phrase);
		for (j = i; j < N_STATUSES; j++) {
			const struct counter_def *d = &statuses[j];

			if (!d->metric || strcmp(d->metric, statuses[i].metric) != 0)
				continue;
			label[0] = '\0';
			if (d->label)
				snprintf(label, sizeof(label), "%s=\"%s\"", d->label, d->key);
			sample(out, d->metric, label, regcnt(s, d->value));
		}
	}
	/* Every successful registration is one of the two: accelerated at once, or waiting. */
	header(out, "sockets_registered_total",
	       "Sockets (connection ends) registered; a connection whose two ends opted in "
	       "counts two",
	       "counter");
	sample(out, "sockets_registered_total", NULL,
	       regcnt(s, SKACCEL_OK_ACCELERATED) + regcnt(s, SKACCEL_OK_WAITING_PEER));
}

static void gauge(FILE *out, const char *name, const char *help, unsigned long long v)
{
	header(out, name, help, "gauge");
	sample(out, name, NULL, v);
}

static void render_state(FILE *out, const struct helperd_metrics_snapshot *s)
{
	gauge(out, "sockets", "Sockets registered now", s->sockets);
	gauge(out, "sockets_max", "Sockets the sockhash holds (--max-socks when created)",
	      s->sockets_max);
	gauge(out, "clients", "Client connections to the helper now", s->clients);
	gauge(out, "clients_max", "Client connections the helper accepts (--max-clients)",
	      s->clients_max);
	gauge(out, "acceleration_enabled",
	      "1 if registrations are accepted and the programs redirect, 0 if disabled "
	      "(--disable or a failed self-test)",
	      s->enabled);
	gauge(out, "selftest_ok",
	      "1 if the kernel self-test passed at start-up, 0 if it failed or did not run "
	      "(--disable)",
	      s->selftest_ok);
	header(out, "helper_start_time_seconds",
	       "Start time of the helper since the Unix epoch, in seconds", "gauge");
	fprintf(out, PREFIX "helper_start_time_seconds %.3f\n", s->start_time_s);
	header(out, "build_info", "Version of the running helper and its protocol; always 1",
	       "gauge");
	fprintf(out, PREFIX "build_info{version=\"");
	put_escaped(out, s->version ? s->version : "", true);
	fprintf(out, "\",protocol=\"%d\"} 1\n", SKACCEL_PROTO_VERSION);
}

int helperd_metrics_render(FILE *out, const struct helperd_metrics_snapshot *s)
{
	/* No counters is better than zeros, which a scraper would take for a reset. */
	if (s->have_counters)
		render_counters(out, s);
	render_statuses(out, s);
	render_state(out, s);
	return ferror(out) ? -EIO : 0;
}

int helperd_metrics_render_buf(const struct helperd_metrics_snapshot *s, char **buf, size_t *len)
{
	FILE *f;
	int r;

	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		return -errno;
	r = helperd_metrics_render(f, s);
	if (fclose(f) != 0 && !r)
		r = -ENOMEM;
	if (r) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return r;
}
