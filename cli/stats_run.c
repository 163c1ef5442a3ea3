// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * `skaccel stats` and `skaccel-helperd --stats`, one implementation (both link this file): the
 * counters with their meanings (helperd/stats.c prints them), and --watch, which prints the rate of
 * every counter that moved, once per interval, until interrupted.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/fmt.h"
#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/names.h"
#include "helperd/ratelimit.h"
#include "helperd/stats.h"
#include "helperd/text.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/* The data-path counters summed over CPUs; 0 or -errno. */
static int read_counters(const struct helperd_maps *maps, __u64 *out, int ncpus, __u64 *percpu)
{
	__u32 key;
	int cpu;

	for (key = 0; key < SKACCEL_CNT_MAX; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(maps->cnt, &key, percpu) < 0)
			return -errno;
		for (cpu = 0; cpu < ncpus; cpu++)
			out[key] += percpu[cpu];
	}
	return 0;
}

/* One line per interval: the rate of each counter that moved, by its key. */
static int watch(const struct helperd_maps *maps, bool json, unsigned int interval)
{
	int ncpus = libbpf_num_possible_cpus();
	__u64 prev[SKACCEL_CNT_MAX], cur[SKACCEL_CNT_MAX], *percpu;
	uint64_t t0, t1;
	unsigned int c;
	int r;

	if (ncpus <= 0)
		return -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r = read_counters(maps, prev, ncpus, percpu);
	t0 = helperd_now_ns();
	while (!r && !stop) {
		double dt;
		bool any = false;

		sleep(interval);
		if (stop)
			break;
		r = read_counters(maps, cur, ncpus, percpu);
		if (r)
			break;
		t1 = helperd_now_ns();
		dt = (double)(t1 - t0) / 1e9;
		if (json) {
			printf("{\"interval_s\": %.3f", dt);
			for (c = 1; c < SKACCEL_CNT_MAX; c++)
				printf(", \"%s_per_s\": %.1f", helperd_counter_key(c),
				       (double)(cur[c] - prev[c]) / dt);
			printf("}\n");
		} else {
			time_t now = time(NULL);
			char ts[16], rate[32];

			strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&now));
			printf("%s", ts);
			for (c = 1; c < SKACCEL_CNT_MAX; c++) {
				__u64 d = cur[c] - prev[c];

				if (!d)
					continue;
				any = true;
				if (strstr(helperd_counter_key(c), "bytes"))
					cli_fmt_rate(rate, sizeof(rate), d, dt);
				else
					snprintf(rate, sizeof(rate), "%.0f/s", (double)d / dt);
				printf("  %s %s", helperd_counter_key(c), rate);
			}
			printf("%s\n", any ? "" : "  (no traffic)");
		}
		fflush(stdout);
		memcpy(prev, cur, sizeof(prev));
		t0 = t1;
	}
	free(percpu);
	return r;
}

int cli_stats_run(const char *prog, const char *pin_dir, bool json, unsigned int watch_s)
{
	struct helperd_maps maps;
	int r;

	r = cli_open_maps(&maps, pin_dir, prog);
	if (r)
		return r;
	if (watch_s)
		r = watch(&maps, json, watch_s);
	else
		r = helperd_stats_maps_print(stdout, pin_dir, &maps, json);
	helperd_maps_close(&maps);
	if (r) {
		fprintf(stderr, "%s: Failed to read the counters in %s: %s\n", prog, pin_dir,
			strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
