// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What the metrics show, read from the daemon between two events of its loop (so never
 * in the middle of a registration) and from skaccel_cnt: one lookup per counter, about
 * twenty syscalls per scrape. Registration counts come from the daemon's own copy, which
 * is ahead of the map by up to one tick.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helperd/daemon.h"
#include "helperd/log.h"
#include "helperd/metrics_collect.h"
#include "helperd/metrics_textfile.h"

static bool read_counters(int cnt_fd, __u64 *counters)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 key;
	int cpu;

	if (ncpus <= 0 || cnt_fd < 0)
		return false;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return false;
	for (key = 0; key < SKACCEL_CNT_MAX; key++) {
		if (bpf_map_lookup_elem(cnt_fd, &key, percpu) < 0) {
			free(percpu);
			return false;
		}
		for (cpu = 0; cpu < ncpus; cpu++)
			counters[key] += percpu[cpu];
	}
	free(percpu);
	return true;
}

void helperd_metrics_collect(const struct helperd_daemon *d, struct helperd_metrics_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->have_counters = d->reg.maps && read_counters(d->reg.maps->cnt, s->counters);
	if (!s->have_counters)
		memset(s->counters, 0, sizeof(s->counters));
	memcpy(s->regcnt, d->regcnt.count, sizeof(s->regcnt));
	s->sockets = d->reg.registry ? d->reg.registry->n : 0;
	s->sockets_max = d->reg.registry ? d->reg.registry->max : 0;
	s->clients = d->n_clients;
	s->clients_max = d->max_clients;
	s->enabled = d->reg.enabled;
	s->selftest_ok = d->selftest_ok;
	s->start_time_s = d->start_time_s;
	s->version = d->version;
}

int helperd_metrics_render_daemon(void *daemon, char **buf, size_t *len)
{
	struct helperd_metrics_snapshot s;

	helperd_metrics_collect(daemon, &s);
	return helperd_metrics_render_buf(&s, buf, len);
}

int helperd_metrics_textfile_update(struct helperd_daemon *d)
{
	unsigned int missed = 0;
	size_t len;
	char *buf;
	int r;

	r = helperd_metrics_render_daemon(d, &buf, &len);
	if (!r) {
		r = helperd_metrics_textfile_write(d->opts->metrics_textfile, buf, len);
		free(buf);
	}
	if (r && helperd_ratelimit_ok(&d->metrics_rl, helperd_now_ns(), &missed))
		log_warn("Failed to write metrics to %s, will retry: %s%s",
			 d->opts->metrics_textfile, strerror(-r),
			 missed ? " (and earlier failures)" : "");
	return r;
}
