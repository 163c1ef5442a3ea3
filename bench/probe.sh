#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Where the time of one stream goes: runs the sink server and one tcp_bench_client stream,
# plain or under skaccel-run, pinned as asked, and reports per side the CPU time, the
# context switches and, with PROBE_SLEEPS=1, where each side went to sleep (kernel stacks
# of sched:sched_switch, folded by function), so that plain TCP and the redirect can be
# compared side by side. For development; `make bench` does not run it.
# Usage (root, after make): bench/probe.sh tcp|skaccel SERVER-CPUS CLIENT-CPUS SIZE [SECONDS]
#   CPUs as for taskset, or "all"; SIZE "bulk": the verified 200 MiB stream of 64 KiB
#   writes (tests' tcp_xfer) instead of tcp_bench_client. PROBE_NICE=-15 runs both ends at
#   that nice level, so that other work on a shared machine disturbs them less (the wake-up
#   pattern of an idle machine needs an otherwise idle reader CPU).
# Example: PROBE_NICE=-15 PROBE_SLEEPS=1 bench/probe.sh skaccel 1 0 16384
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

variant=${1:?tcp or skaccel}
scpu=${2:?server CPUs}
ccpu=${3:?client CPUs}
size=${4:?write size}
secs=${5:-2}

sk_init "probe-$$"
trap sk_cleanup EXIT
sk_check_setup
sk_start_helper 0
[ "$scpu" = all ] && sk_helper_cpus all

perf_ev=task-clock,context-switches,cpu-migrations
xfer=${SK_BUILD}/tests/tcp_xfer
wrap=()
[ "$variant" = skaccel ] && wrap=("$SK_RUN" --socket "$SK_SOCK")
ready=$SK_WORK/ready
if [ "$size" = bulk ]; then
	server=("$xfer" server 127.0.0.1 0 --ready "$ready" --conns 1)
else
	server=("$SK_SERVER" -p 0 --mode sink --ready-file "$ready")
fi
# perf stat around each side counts every thread it starts.
mapfile -d '' -t spin < <(sk_pin "$scpu")
[ -z "${PROBE_NICE:-}" ] || spin+=(nice -n "$PROBE_NICE")
"${spin[@]}" perf stat -x, -e "$perf_ev" -o "$SK_WORK/server.stat" -- "${wrap[@]}" "${server[@]}" \
	>"$SK_WORK/server.out" 2>&1 &
stat_pid=$!
for ((i = 0; i < 100; i++)); do
	[ -s "$ready" ] && break
	sleep 0.05
done
[ -s "$ready" ] || sk_die "Failed to start the server: $(tail -n 3 "$SK_WORK/server.out")"
SK_SERVER_PORT=$(cut -d' ' -f1 "$ready")
if [ "$size" = bulk ]; then
	client=("$xfer" client 127.0.0.1 "$SK_SERVER_PORT" --bytes $((200 << 20)) --wsize 65536)
else
	client=("$SK_CLIENT" -H 127.0.0.1 -p "$SK_SERVER_PORT" --mode stream --size "$size"
		--duration "$secs")
fi
sleeps=()
if [ "${PROBE_SLEEPS:-0}" = 1 ]; then
	perf record -q -a -g -e sched:sched_switch -o "$SK_WORK/sched.data" >/dev/null 2>&1 &
	sleeps=($!)
fi
sleep 0.2
mapfile -d '' -t pin < <(sk_pin "$ccpu")
[ -z "${PROBE_NICE:-}" ] || pin+=(nice -n "$PROBE_NICE")
sk_snapshot "$SK_WORK/before.json"
t0=$(date +%s%N)
"${pin[@]}" perf stat -x, -e "$perf_ev" -o "$SK_WORK/client.stat" -- "${wrap[@]}" "${client[@]}" \
	>"$SK_WORK/client.out" 2>&1
t1=$(date +%s%N)
[ ${#sleeps[@]} -eq 0 ] || kill -INT "${sleeps[0]}"
[ ${#sleeps[@]} -eq 0 ] || wait "${sleeps[0]}" || true
bytes=$(sed -n 's/^bytes=//p' "$SK_WORK/client.out")
if [ "$size" = bulk ]; then
	bytes=$((200 << 20))
	rate="MBps=$((bytes * 1000 / (t1 - t0)))"
else
	# The sink server runs until stopped: stop it, not perf, so that perf reports.
	pkill -TERM -P "$stat_pid" 2>/dev/null || true
	rate=$(grep -E '^(MBps)=' "$SK_WORK/client.out")
fi
wait "$stat_pid" || true
sk_snapshot "$SK_WORK/after.json"
via=""
if [ "$variant" = skaccel ]; then
	r=$(($(sk_get "$SK_WORK/after.json" redir_bytes) - $(sk_get "$SK_WORK/before.json" redir_bytes)))
	t=$(($(sk_get "$SK_WORK/after.json" tcp_bytes) - $(sk_get "$SK_WORK/before.json" tcp_bytes)))
	via=" redirected=$r tcp=$t"
fi
echo "$variant server=$scpu client=$ccpu size=$size: $rate$via"
# Per side, per 100 MB moved: CPU milliseconds, context switches, migrations. Unlike MB/s on
# a shared machine, these hardly depend on what else runs.
for side in client server; do
	awk -F, -v s="$side" -v b="$bytes" '$3 != "" { v[$3] = $1 }
		END { printf "  %-6s per 100 MB: %7.1f ms CPU %8.0f switches %6.0f migrations\n", s,
			v["task-clock"] * 1e8 / b, v["context-switches"] * 1e8 / b,
			v["cpu-migrations"] * 1e8 / b }' "$SK_WORK/$side.stat"
done
if [ ${#sleeps[@]} -gt 0 ]; then
	echo "  where tasks went to sleep (sched_switch, prev_comm: first kernel frames below schedule):"
	perf script -i "$SK_WORK/sched.data" -F comm,ip,sym 2>/dev/null |
		awk '/^[^ \t]/ { if (stack != "") n[comm " " stack]++; comm = $1; stack = ""; depth = 0; next }
		     NF >= 2 && depth < 8 { f = $2; if (f ~ /^(__schedule|schedule|__traceiter|__probestub|perf_|trace_)/) next;
		                             stack = stack (stack ? "<" : "") f; depth++ }
		     END { if (stack != "") n[comm " " stack]++; for (k in n) print n[k], k }' |
		sort -rn | grep -E "tcp_bench|tcp_echo|tcp_xfer" | head -n 12 | sed 's/^/    /'
fi
