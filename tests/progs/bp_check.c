// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Backpressure: a fast writer, a reader that stops for a few seconds. The memory the
 * kernel holds for the connection must stay bounded and the writer must block, as on
 * plain TCP; then the reader resumes and every byte arrives in order.
 *
 * Why this can fail: the sockmap redirect path charges the reader's memory but never
 * checks its SO_RCVBUF, so without skaccel's own limit a writer pushes hundreds of MB into
 * a reader that does not read (KERNEL-NOTES §7.1: 256 MB without one EAGAIN). It runs with
 * the helper's defaults, as users do.
 *
 * The bound. Plain TCP holds at most the reader's receive buffer (tcp_rmem[2] when
 * autotuned) plus the writer's send buffer (tcp_wmem[2]) for one connection. skaccel lets
 * its reader hold what TCP would (its SO_RCVBUF plus the writer's SO_SNDBUF:
 * ARCHITECTURE.md) before falling back to TCP, whose window is then closed by that very
 * memory. So the bound is tcp_rmem[2] + tcp_wmem[2] + 8 MiB (a
 * generous slack for messages in flight and the buffers' own accounting), and the writer
 * offers four times that, so an unbounded path overshoots it by far.
 *
 * What is measured: the connection's own memory (SO_MEMINFO of both sockets: receive
 * memory of the reader, queued send memory of the writer), and the kernel's TCP memory
 * from /proc/net/sockstat ("TCP: ... mem N", in pages). The latter is global even inside a
 * fresh network namespace (proto_memory_allocated is not per netns), so other activity on
 * the host shows up in it; it is bounded with twice the margin and reported.
 */
#include <linux/sock_diag.h>

#include "tests/progs/xfer_common.h"

/* Read one "a b c" sysctl and return its third field. */
static uint64_t sysctl_third(const char *path)
{
	unsigned long long a, b, c;
	FILE *f = fopen(path, "r");
	int n;

	CHECK(f, "cannot open %s: %s", path, strerror(errno));
	n = fscanf(f, "%llu %llu %llu", &a, &b, &c);
	fclose(f);
	CHECK(n == 3, "cannot parse %s", path);
	return c;
}

/* Kernel TCP memory in bytes (sockstat "TCP: ... mem N", N in pages). */
static uint64_t sockstat_tcp_mem(void)
{
	char line[256];
	FILE *f = fopen("/proc/net/sockstat", "r");
	uint64_t pages = 0;

	CHECK(f, "cannot open /proc/net/sockstat: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *m = strstr(line, " mem ");

		if (!strncmp(line, "TCP:", 4) && m)
			pages = strtoull(m + 5, NULL, 10);
	}
	fclose(f);
	return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The connection's memory: what the reader holds plus what the writer has queued. */
static uint64_t conn_mem(int rfd, int wfd, uint64_t *rmem, uint64_t *wmem)
{
	uint32_t mr[SK_MEMINFO_VARS] = { 0 }, mw[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mr);

	CHECK_SYS(!getsockopt(rfd, SOL_SOCKET, SO_MEMINFO, mr, &len), "getsockopt(SO_MEMINFO)");
	len = sizeof(mw);
	CHECK_SYS(!getsockopt(wfd, SOL_SOCKET, SO_MEMINFO, mw, &len), "getsockopt(SO_MEMINFO)");
	*rmem = mr[SK_MEMINFO_RMEM_ALLOC];
	*wmem = (uint64_t)mw[SK_MEMINFO_WMEM_QUEUED] + mw[SK_MEMINFO_WMEM_ALLOC];
	return *rmem + *wmem;
}

struct bp_writer {
	int fd;
	struct vstream vs;
	uint64_t total;
	struct rng r;
	_Atomic uint64_t progress;
};

static void *bp_writer_run(void *arg)
{
	struct bp_writer *w = arg;

	/* Big writes, no pauses: as fast as the path lets it. ENOMEM would be a failure. */
	stream_send(w->fd, &w->vs, w->total, &w->r, 1 * MIB, 0, 0, &w->progress);
	CHECK_SYS(!shutdown(w->fd, SHUT_WR), "shutdown(SHUT_WR)");
	return NULL;
}

static void run_backpressure(struct rng *r)
{
	uint64_t bound = g_opt.mem_bound, pre, total, base_mem, peak_conn = 0, peak_sys = 0;
	uint64_t half_w = 0, end_w, rmem = 0, wmem = 0, peak_r = 0, peak_w = 0;
	uint64_t t0, stall_ns = (uint64_t)g_opt.stall_ms * 1000000ull;
	struct bp_writer w = { 0 };
	struct vstream vs;
	pthread_t th;
	int c, s, rfd;
	bool c2s = rng_chance(r, 50);

	if (!bound)
		bound = sysctl_third("/proc/sys/net/ipv4/tcp_rmem") +
			sysctl_third("/proc/sys/net/ipv4/tcp_wmem") + 8 * MIB;
	pre = rng_range(r, 1 * MIB, 8 * MIB);
	total = g_opt.bytes ? g_opt.bytes : pre + 4 * bound;
	test_pair(&c, &s);
	w.fd = c2s ? c : s;
	rfd = c2s ? s : c;
	w.total = total;
	vs_init(&w.vs, g_opt.key, stream_id(1), total, c2s ? "client->server" : "server->client");
	vs_init(&vs, g_opt.key, stream_id(1), total, w.vs.name);
	rng_init(&w.r, g_seed, rng_next(r));
	base_mem = sockstat_tcp_mem();

	set_phase("reading at full speed");
	CHECK(!pthread_create(&th, NULL, bp_writer_run, &w), "pthread_create failed");
	/* Read a while first: the path is in steady state (redirecting) when the reader stops. */
	vs.total = pre;
	stream_recv(rfd, &vs, r, 256 * KIB, 0, 0, false, NULL);
	vs.total = total;

	set_phase("reader stalled");
	t0 = now_ns();
	while (now_ns() - t0 < stall_ns) {
		uint64_t cm = conn_mem(rfd, w.fd, &rmem, &wmem), sm = sockstat_tcp_mem();

		if (cm > peak_conn)
			peak_conn = cm, peak_r = rmem, peak_w = wmem;
		if (sm > base_mem && sm - base_mem > peak_sys)
			peak_sys = sm - base_mem;
		if (!half_w && now_ns() - t0 >= stall_ns / 2)
			half_w = atomic_load(&w.progress);
		sleep_us(20000);
	}
	end_w = atomic_load(&w.progress);
	info("pre %" PRIu64 " total %" PRIu64 " bound %" PRIu64 " MiB: writer %" PRIu64
	     " MiB ahead at stall end, +%" PRIu64 " KiB in the stall's 2nd half; peak conn %" PRIu64
	     " MiB (reader %" PRIu64 ", writer %" PRIu64 "), sockstat +%" PRIu64 " MiB",
	     pre, total, bound / MIB, (end_w - vs.off) / MIB, (end_w - half_w) / KIB,
	     peak_conn / MIB, peak_r / MIB, peak_w / MIB, peak_sys / MIB);

	/* The writer is stopped by the path, not by having nothing left to send. */
	CHECK(end_w < total,
	      "the writer sent all %" PRIu64 " bytes to a reader that had read %" PRIu64
	      " and stopped: NO BACKPRESSURE",
	      total, vs.off);
	CHECK(end_w - vs.off <= bound,
	      "writer ran %" PRIu64 " MiB ahead of a stalled reader, "
	      "bound %" PRIu64 " MiB (tcp_rmem[2] + tcp_wmem[2] + 8 MiB)",
	      (end_w - vs.off) / MIB, bound / MIB);
	CHECK(peak_conn <= bound,
	      "connection memory peaked at %" PRIu64 " MiB (reader rmem %" PRIu64
	      " MiB, writer wmem %" PRIu64 " MiB), bound %" PRIu64 " MiB",
	      peak_conn / MIB, peak_r / MIB, peak_w / MIB, bound / MIB);
	CHECK(peak_sys <= 2 * bound,
	      "kernel TCP memory (sockstat) grew by %" PRIu64 " MiB, bound %" PRIu64
	      " MiB (twice the connection bound: the figure is host-wide)",
	      peak_sys / MIB, 2 * bound / MIB);
	/* Blocked: at most a trickle once the queues are full (plain TCP: zero). */
	CHECK(end_w - half_w <= 1 * MIB,
	      "the writer still advanced %" PRIu64 " KiB in the second "
	      "half of a %u ms stall: not blocked",
	      (end_w - half_w) / KIB, g_opt.stall_ms);

	set_phase("reader resumed, draining");
	stream_recv(rfd, &vs, r, 256 * KIB, 0, 0, true, NULL);
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	close(c);
	close(s);
}

static const struct scenario scenarios[] = {
	{ "backpressure", run_backpressure, 2,
	  "reader stalls (--stall-ms): memory bounded, writer blocks, all bytes in order" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
