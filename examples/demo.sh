#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The skaccel demo (`make demo`): the same unmodified TCP server and client, once on plain
# loopback TCP and once under skaccel-run, side by side, then the helper's counters.
# Run from the repository root as root. BUILD=dir picks another build directory.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

# Seconds per measurement: 6 measurements plus start-up keep the demo well under 40 s.
DURATION=${DEMO_DURATION:-2}

sk_init demo
trap sk_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat <<'EOF'
skaccel demo
============
Two ordinary programs, examples/tcp_echo_server and examples/tcp_bench_client, talk TCP
over loopback. They know nothing about skaccel. First they run as they are; then both are
started under skaccel-run, which preloads a small library that hands each local TCP
connection to skaccel-helperd once it has carried more than one exchange (or 256 KiB):
a connection of one request and its reply stays on plain TCP and costs nothing. The
helper puts both ends into a BPF sockhash, and from then on an sk_msg program moves every
write straight into the peer's receive queue instead of through the TCP/IP stack. The
programs still see TCP sockets. Everything runs on CPU 0
(on this kind of VM a cross-CPU wake-up costs more than the whole round trip), and the
helper uses a private socket and pin directory that are removed at the end.

EOF

sk_check_setup
sk_start_helper 0
echo "helper: $SK_HELPERD --socket $SK_SOCK --pin-dir $SK_PIN_DIR (pid $SK_HELPER_PID)"

declare -A R
# measure VARIANT: 64 B round trips, 64 KiB stream, connection rate; results into R[].
measure() {
	local v=$1 out=$SK_WORK/$1

	printf '  %-8s round trips ' "$v"
	sk_start_server "$v" 0 echo
	sk_client "$v" 0 "$out.rr" --mode rr --size 64 --duration "$DURATION"
	sk_stop_server
	R[$v.p50]=$(sk_kv "$out.rr" p50_us)
	R[$v.p99]=$(sk_kv "$out.rr" p99_us)

	printf 'stream '
	sk_start_server "$v" 0 sink
	sk_client "$v" 0 "$out.st" --mode stream --size 65536 --duration "$DURATION"
	sk_stop_server
	R[$v.mbps]=$(sk_kv "$out.st" MBps)

	printf 'connections '
	sk_start_server "$v" 0 crr
	sk_client "$v" 0 "$out.crr" --mode crr --size 64 --duration "$DURATION"
	sk_stop_server
	R[$v.cps]=$(sk_kv "$out.crr" conns_per_sec)
	echo "done"
}

echo
echo "measuring (${DURATION} s each):"
measure tcp
redir_before=$(sk_counter redir_bytes)
measure skaccel
redir_after=$(sk_counter redir_bytes)

# row LABEL UNIT TCP SKACCEL HIGHER_IS_BETTER(1/0)
row() {
	awk -v l="$1" -v u="$2" -v t="$3" -v s="$4" -v hib="$5" 'BEGIN {
		r = hib ? s / t : t / s
		printf "  %-32s %12.1f %12.1f %-5s %6.2fx %s\n", l, t, s, u, r,
			(r >= 1 ? "better" : "worse")
	}'
}

echo
printf '  %-32s %12s %12s %-5s %7s\n' "" "plain TCP" "skaccel" "" "skaccel"
row "64 B round trip, p50" us "${R[tcp.p50]}" "${R[skaccel.p50]}" 0
row "64 B round trip, p99" us "${R[tcp.p99]}" "${R[skaccel.p99]}" 0
row "stream, 64 KiB writes" MB/s "${R[tcp.mbps]}" "${R[skaccel.mbps]}" 1
row "connect + 64 B exchange + close" /s "${R[tcp.cps]}" "${R[skaccel.cps]}" 1

redirected=$((redir_after - redir_before))
echo
if [ "$redirected" -gt 0 ]; then
	echo "The skaccel runs moved $redirected bytes through the BPF redirect instead of TCP/IP."
else
	echo "WARNING: the helper counted no redirected bytes: the skaccel runs used plain TCP."
fi
echo
echo "helper counters ($SK_HELPERD --stats --pin-dir $SK_PIN_DIR):"
sk_stats | sed 's/^/  /'
