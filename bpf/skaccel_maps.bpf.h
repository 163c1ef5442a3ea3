/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The BPF map definitions. Layouts and the who-writes-what contract are in
 * common/skaccel_maps.h; here only the kernel-side declarations. Every map is pinned
 * by name so a restarted helper reuses it and live connections keep their state.
 */
#ifndef SKACCEL_MAPS_BPF_H
#define SKACCEL_MAPS_BPF_H

/*
 * The BPF object is linked from several sources (bpftool gen object): the one that
 * defines the maps includes this header as it is, the others define SKACCEL_MAPS_EXTERN
 * first and get the same maps as extern declarations, which the linker resolves.
 */
#ifdef SKACCEL_MAPS_EXTERN
#define SKACCEL_MAP extern
#else
#define SKACCEL_MAP
#endif

/* The sockets that may send or receive through the redirect, keyed by SO_COOKIE. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SKACCEL_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_socks SEC(".maps");

/* Per-socket state and counters, so the programs and status tools share one view. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKACCEL_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct skaccel_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_conns SEC(".maps");

/* cookie -> cookie of the other end of the same connection; the "may redirect" switch. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKACCEL_MAX_SOCKS);
	__type(key, __u64);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_peers SEC(".maps");

/* Data-path counters; per-CPU so the hot path never contends on a cache line. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SKACCEL_CNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_cnt SEC(".maps");

/* Registration outcomes, written by the helper only; here so they outlive the helper. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SKACCEL_REGCNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_regcnt SEC(".maps");

/* Switches set by the helper at start: kill switch and reader backlog budget. */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skaccel_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_cfg SEC(".maps");

/*
 * Status metadata, written by the helper only and read by `skaccel status`; declared here
 * so that they are pinned, reused and checked like the others. No program touches them.
 */
SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKACCEL_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct skaccel_sockmeta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_meta SEC(".maps");

SKACCEL_MAP struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SKACCEL_MAX_REFUSED);
	__type(key, __u64);
	__type(value, struct skaccel_sockmeta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} skaccel_refused SEC(".maps");

#endif /* SKACCEL_MAPS_BPF_H */
