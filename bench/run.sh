#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The skaccel benchmark (`make bench`): plain loopback TCP against skaccel in one run, in
# interleaved rounds, medians in a table on stdout and in docs/BENCHMARKS.md.
# Run from anywhere as root, after `make`. Knobs (environment):
#   BENCH_ROUNDS=5      rounds; each round runs every measurement on tcp and on skaccel,
#                       and the order of the two alternates from round to round
#   BENCH_DURATION=2    seconds per measurement
#   BENCH_OUT=docs/BENCHMARKS.md   where the report goes ('-' for stdout only)
#   BUILD=build         build directory holding the binaries
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-2}
OUT=${BENCH_OUT:-docs/BENCHMARKS.md}
RR_SIZES=(1 64 1024 16384)
STREAM_SIZES=(64 1024 16384 65536)
# Explicit warm-ups, so the payload each run carried is known (the redirect share).
RR_WARMUP=1000
STREAM_WARMUP=1000
CRR_WARMUP=100

sk_init bench
trap sk_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sk_check_setup
# Latency and connection rate run on CPU 0 only: across CPUs a wake-up costs 50-60 us on
# this kind of VM and would be most of what is measured. The helper sits there too, since
# it is on the connection-setup path.
sk_start_helper 0

# Every measurement: id, server mode, server CPUs, client CPUs, client arguments, metrics.
MEASUREMENTS=()
for s in "${RR_SIZES[@]}"; do
	MEASUREMENTS+=("rr$s|echo|0|0|--mode rr --size $s --warmup $RR_WARMUP|p50_us p99_us")
done
for s in "${STREAM_SIZES[@]}"; do
	MEASUREMENTS+=("st1c$s|sink|0|0|--mode stream --size $s --warmup $STREAM_WARMUP|MBps")
done
if [ "$(nproc)" -ge 2 ]; then
	for s in "${STREAM_SIZES[@]}"; do
		MEASUREMENTS+=("st2c$s|sink|1|0|--mode stream --size $s --warmup $STREAM_WARMUP|MBps")
	done
fi
MEASUREMENTS+=("crr64|crr|0|0|--mode crr --size 64 --warmup $CRR_WARMUP|conns_per_sec")

# The helper's counters recorded around every skaccel run (deltas): what went through the
# redirect, what fell back to TCP and why, and how registrations went.
COUNTERS=(redir_bytes tcp_bytes fb_backlog fb_inflight fb_unpaired reg_accelerated
	reg_waiting_peer reg_quota)

RESULTS=$SK_WORK/results # lines: id variant round metric value
: >"$RESULTS"

# payload ID OUTFILE: bytes the two programs exchanged in one run, warm-up included.
payload() {
	local id=$1 f=$2 size

	case $id in
	rr*)
		size=${id#rr}
		echo $((2 * size * ($(sk_kv "$f" count) + RR_WARMUP)))
		;;
	st*)
		size=${id#st?c}
		# Plus the server's 8-byte count at the end.
		echo $(($(sk_kv "$f" bytes) + size * STREAM_WARMUP + 8))
		;;
	crr*)
		echo $((2 * 64 * ($(sk_kv "$f" count) + CRR_WARMUP)))
		;;
	esac
}

# run_one ROUND VARIANT MEASUREMENT: one client run against a fresh server.
run_one() {
	local round=$1 v=$2 id mode scpu ccpu args metrics out m c
	local -a argv

	IFS='|' read -r id mode scpu ccpu args metrics <<<"$3"
	read -r -a argv <<<"$args"
	out=$SK_WORK/$id.$v.$round
	if [ "$v" = skaccel ]; then
		sk_settle
		sk_snapshot "$out.before"
	fi
	sk_start_server "$v" "$scpu" "$mode"
	sk_client "$v" "$ccpu" "$out" "${argv[@]}" --duration "$DURATION"
	sk_stop_server
	for m in $metrics; do
		echo "$id $v $round $m $(sk_kv "$out" "$m")" >>"$RESULTS"
	done
	if [ "$v" = skaccel ]; then
		sk_snapshot "$out.after"
		for c in "${COUNTERS[@]}"; do
			echo "$id $v $round $c $(($(sk_get "$out.after" "$c") - \
				$(sk_get "$out.before" "$c")))" >>"$RESULTS"
		done
		echo "$id $v $round payload $(payload "$id" "$out")" >>"$RESULTS"
	fi
	echo "$id $v $round eagain $(sk_kv "$out" eagain_retries)" >>"$RESULTS"
	printf ' %s' "$v=$(sk_kv "$out" "${metrics%% *}")"
}

# About 0.6 s per run on top of the measurement: warm-up, start-up, stopping the server.
echo "skaccel benchmark: ${#MEASUREMENTS[@]} measurements x {tcp, skaccel} x $ROUNDS rounds," \
	"${DURATION} s each: about $(awk -v d="$DURATION" -v n="${#MEASUREMENTS[@]}" \
	-v r="$ROUNDS" 'BEGIN { printf "%.0f", (d + 0.6) * 2 * n * r / 60 + 0.5 }') min"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order=(tcp skaccel); else order=(skaccel tcp); fi
	echo "round $r/$ROUNDS (${order[0]} first)"
	for meas in "${MEASUREMENTS[@]}"; do
		printf '  %-9s' "${meas%%|*}"
		for v in "${order[@]}"; do
			run_one "$r" "$v" "$meas"
		done
		echo
	done
done
ELAPSED=$(($(date +%s) - START_TS))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# median ID VARIANT METRIC: median over the rounds (mean of the middle two if even).
median() {
	awk -v id="$1" -v v="$2" -v m="$3" '$1 == id && $2 == v && $4 == m { print $5 }' \
		"$RESULTS" | sort -g |
		awk '{ a[NR] = $1 } END {
			if (NR == 0) { print "nan"; exit }
			print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# sum ID VARIANT METRIC: total over the rounds.
sum() {
	awk -v id="$1" -v v="$2" -v m="$3" '$1 == id && $2 == v && $4 == m { s += $5 }
		END { printf "%.0f\n", s }' "$RESULTS"
}

# ratio TCP SKACCEL HIGHER_IS_BETTER: > 1 means skaccel is better.
ratio() {
	awk -v t="$1" -v s="$2" -v hib="$3" 'BEGIN {
		if (t <= 0 || s <= 0) { print "n/a"; exit }
		printf "%.2f\n", hib ? s / t : t / s }'
}

fmt() {
	awk -v x="$1" 'BEGIN { printf (x >= 100 ? "%.0f" : "%.1f"), x }'
}

TABLE=$SK_WORK/table.md
VERDICTS=$SK_WORK/verdicts
: >"$VERDICTS"
invalid=0
{
	echo "| benchmark | metric | plain TCP | skaccel | ratio | via redirect |"
	echo "|---|---|---:|---:|---:|---:|"
} >"$TABLE"

# emit ID LABEL METRIC SHOWN-AS HIGHER_IS_BETTER
emit() {
	local id=$1 label=$2 metric=$3 shown=$4 hib=$5 t s rt redir pay share

	t=$(median "$id" tcp "$metric")
	s=$(median "$id" skaccel "$metric")
	rt=$(ratio "$t" "$s" "$hib")
	redir=$(sum "$id" skaccel redir_bytes)
	pay=$(sum "$id" skaccel payload)
	share=$(awk -v r="$redir" -v p="$pay" 'BEGIN { printf (p > 0 ? "%.0f%%" : "n/a"), 100 * r / p }')
	echo "| $label | $shown | $(fmt "$t") | $(fmt "$s") | ${rt}x | $share |" >>"$TABLE"
	echo "$id|$metric|$rt|$redir|$label" >>"$VERDICTS"
}

for s in "${RR_SIZES[@]}"; do
	emit "rr$s" "request/response $s B, 1 CPU" p50_us "p50 µs" 0
	emit "rr$s" "request/response $s B, 1 CPU" p99_us "p99 µs" 0
done
for s in "${STREAM_SIZES[@]}"; do
	emit "st1c$s" "stream, $s B writes, 1 CPU" MBps "MB/s" 1
done
if [ "$(nproc)" -ge 2 ]; then
	for s in "${STREAM_SIZES[@]}"; do
		emit "st2c$s" "stream, $s B writes, 2 CPUs" MBps "MB/s" 1
	done
fi
emit crr64 "connect + 64 B exchange + close, 1 CPU" conns_per_sec "conn/s" 1

# The skaccel numbers count only if the redirect carried them: every stream measurement
# must show redirected bytes in the helper's counters.
CHECKS=$SK_WORK/checks
: >"$CHECKS"
while IFS='|' read -r id metric rt redir label; do
	if [[ $id == st* ]] && [ "$redir" -le 0 ]; then
		invalid=1
		echo "- INVALID: $label: the helper counted no redirected bytes" >>"$CHECKS"
	fi
done <"$VERDICTS"
total_redir=$(awk '$2 == "skaccel" && $4 == "redir_bytes" { s += $5 } END { printf "%.0f", s }' \
	"$RESULTS")
total_pay=$(awk '$2 == "skaccel" && $4 == "payload" { s += $5 } END { printf "%.0f", s }' \
	"$RESULTS")
eagains=$(awk '$4 == "eagain" { s += $5 } END { printf "%.0f", s }' "$RESULTS")

# target LABEL CONDITION-ON-r RATIO
target() {
	local label=$1 cond=$2 r=$3 ok

	ok=$(awk -v r="$r" "BEGIN { print (r != \"n/a\" && $cond) ? \"met\" : \"NOT met\" }")
	echo "- $label: ${r}x, $ok" >>"$CHECKS"
}
target "64 B round trip p50 at least 1.5x faster" "r >= 1.5" \
	"$(awk -F'|' '$1 == "rr64" && $2 == "p50_us" { print $3 }' "$VERDICTS")"
while IFS='|' read -r id metric rt redir label; do
	[[ $id == st* ]] || continue
	target "$label, not below plain TCP" "r >= 1.0" "$rt"
done <"$VERDICTS"
target "connection rate at least 0.8x plain TCP" "r >= 0.8" \
	"$(awk -F'|' '$1 == "crr64" { print $3 }' "$VERDICTS")"

if [ "$invalid" -eq 0 ]; then
	VALIDITY="Valid: the helper's counters show $total_redir bytes redirected peer-to-peer during \
the skaccel runs, of $total_pay bytes of payload they exchanged (warm-ups included), and every \
skaccel stream measurement redirected bytes."
else
	VALIDITY="**INVALID**: at least one skaccel stream measurement did not go through the \
redirect (counters: $total_redir bytes redirected of $total_pay); the skaccel column then \
measures plain TCP plus the shim's overhead."
fi

# raw_row ID VARIANT KEY: one line, the values of KEY in round order.
raw_row() {
	awk -v id="$1" -v v="$2" -v k="$3" '$1 == id && $2 == v && $4 == k {
		a[$3] = $5; if ($3 > n) n = $3 }
		END { if (!n) exit; printf "%-10s %-8s %-16s", id, v, k
		for (i = 1; i <= n; i++) printf " %s", a[i]; print "" }' "$RESULTS"
}

# raw_results: per measurement, every metric and (skaccel) counter delta, round by round.
raw_results() {
	local meas id metrics m v c

	for meas in "${MEASUREMENTS[@]}"; do
		IFS='|' read -r id _ _ _ _ metrics <<<"$meas"
		for m in $metrics; do
			for v in tcp skaccel; do
				raw_row "$id" "$v" "$m"
			done
		done
		awk -v id="$id" '$1 == id && $2 == "skaccel" && $4 == "redir_bytes" { r[$3] = $5 }
			$1 == id && $2 == "skaccel" && $4 == "payload" { p[$3] = $5; if ($3 > n) n = $3 }
			END { printf "%-10s %-8s %-16s", id, "skaccel", "redirect share"
			for (i = 1; i <= n; i++) printf " %.0f%%", p[i] ? 100 * r[i] / p[i] : 0
			print "" }' "$RESULTS"
		for c in payload "${COUNTERS[@]}"; do
			raw_row "$id" skaccel "$c"
		done
	done
}

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD 2>/dev/null; then
	COMMIT="$COMMIT (with uncommitted changes)"
fi
REPORT=$SK_WORK/BENCHMARKS.md
{
	cat <<EOF
# skaccel benchmarks

Generated by \`make bench\` (bench/run.sh); do not edit by hand.

Plain loopback TCP against skaccel, in one run: the same unmodified programs
(\`examples/tcp_echo_server\`, \`examples/tcp_bench_client\`), once as they are and once
both under \`skaccel-run\`. $ROUNDS interleaved rounds (round by round, tcp and skaccel
take turns going first), ${DURATION} s per measurement, medians over the rounds.

**Ratio: > 1 means skaccel is better** (tcp/skaccel for latency, skaccel/tcp for
throughput and connection rate). "via redirect" is the share of the skaccel runs' payload
bytes (both directions, warm-ups included) that the helper's counters show as redirected
through the sockhash rather than sent through TCP.

$(cat "$TABLE")

$VALIDITY

Targets:
$(cat "$CHECKS")
EOF
	if [ "$eagains" -gt 0 ]; then
		echo
		echo "Note: a blocking recv() returned EAGAIN $eagains times during the run (retried"
		echo "by the client; plain TCP never does this, see docs/KERNEL-NOTES.md §6.4)."
	fi
	cat <<EOF

## What was measured

- request/response: one connection, N-byte request, N-byte reply (server in echo mode),
  latency of each round trip with CLOCK_MONOTONIC; client and server on CPU 0.
- stream: N-byte writes for ${DURATION} s, then a half-close; the clock stops when the server
  confirms the byte count, and the run fails if any byte is missing. "1 CPU": client and
  server on CPU 0; "2 CPUs": client on CPU 0, server on CPU 1. MB/s = 10^6 bytes/s.
- connection rate: connect, 64-byte request, 64-byte reply, close, one connection at a
  time; client and server on CPU 0.
- Before each skaccel run the benchmark waits until the helper has swept the sockets the
  previous run closed: its per-user quota counts them until then, and a connection-rate
  run would otherwise get the next run's connections refused.
- The helper (on a private socket and pin directory) runs on CPU 0. Latency and connection
  rate are measured on one CPU because a cross-CPU wake-up costs 50-60 us on this VM.

## Machine

- kernel: $(uname -r)
- CPU: $CPU_MODEL, $(nproc) CPUs online
- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT
- load average at start: $LOAD_START; at end: $LOAD_END; run took ${ELAPSED} s

## Reproduce

\`\`\`
sudo make bench                                  # builds, then runs bench/run.sh
sudo BENCH_ROUNDS=7 BENCH_DURATION=3 bench/run.sh  # more rounds, longer runs
\`\`\`

## Raw results

Per measurement and variant, the value of each round in round order. For the skaccel
runs: "payload", the bytes the run exchanged (both directions, warm-ups included), and
the change in the helper's counters during the run (\`skaccel-helperd --stats --json\`
names: redir_bytes went through the redirect, tcp_bytes through TCP from registered
sockets, fb_* are fallbacks to TCP by reason, reg_* registration outcomes).

\`\`\`
$(raw_results)
\`\`\`

Helper counters at the end (\`skaccel-helperd --stats\`):

\`\`\`
$(sk_stats 2>&1)
\`\`\`
EOF
} >"$REPORT"

echo
cat "$TABLE"
echo
echo "$VALIDITY"
echo "Targets:"
cat "$CHECKS"
if [ "$OUT" != - ]; then
	cp "$REPORT" "$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	echo
	echo "Report written to $OUT"
fi
