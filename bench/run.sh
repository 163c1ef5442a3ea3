#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The skaccel benchmark (`make bench`): plain loopback TCP against skaccel in one run, in
# interleaved rounds, medians in a table on stdout and in docs/BENCHMARKS.md. Every point
# runs the same unmodified programs twice per round, once as they are and once with both
# ends under skaccel-run: the example programs (latency, streams, connection rate), a bulk
# stream whose reader verifies every byte, and real applications (redis, nginx + wrk,
# memcached + memcaslap).
# Run from anywhere as root, after `make`. Knobs (environment):
#   BENCH_ROUNDS=5      rounds of the short points; each round runs every point on tcp and
#                       on skaccel, and the order of the two alternates from round to round
#   BENCH_LONG_ROUNDS=3 rounds of the application points (the first ones)
#   BENCH_DURATION=2    seconds per example-program measurement
#   BENCH_APP_DURATION=3  seconds per wrk and memcaslap run
#   BENCH_ONLY=REGEX    run only the points whose id matches (for development)
#   BENCH_OUT=docs/BENCHMARKS.md   where the report goes ('-' for stdout only)
#   BUILD=build         build directory holding the binaries
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
# shellcheck source=bench/points.sh
. bench/points.sh

ROUNDS=${BENCH_ROUNDS:-5}
LONG_ROUNDS=${BENCH_LONG_ROUNDS:-3}
DURATION=${BENCH_DURATION:-2}
APP_DURATION=${BENCH_APP_DURATION:-3}
ONLY=${BENCH_ONLY:-}
OUT=${BENCH_OUT:-docs/BENCHMARKS.md}
RR_SIZES=(1 64 1024 16384)
STREAM_SIZES=(64 1024 16384 65536)
BULK_BYTES=$((200 * 1024 * 1024))
BULK_WSIZE=65536
RR_WARMUP=1000
STREAM_WARMUP=1000
CRR_WARMUP=100
NCPU=$(nproc)
((LONG_ROUNDS > ROUNDS)) && LONG_ROUNDS=$ROUNDS

# Per run: two benchmarks at once (a shared machine) must not share a helper or its maps.
sk_init "bench-$$"
cleanup() {
	bp_cleanup
	sk_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

sk_check_setup
[ -x "$SK_XFER" ] || sk_die "Failed to find $SK_XFER: run 'make' first"
# Pairing across network namespaces, for the pod points; loopback points pair in their own
# namespace as before (docs/CONTAINERS.md).
SK_HELPER_OPTS=--cross-netns=on
sk_start_helper 0
bp_setup

# Every point: id|kind|server CPUs|client CPUs|arguments|metrics|rounds|label|note.
# CPUs "all": not pinned (the helper is then not pinned either), as users run programs.
# kind: echo, sink, crr (examples/tcp_echo_server mode, tcp_bench_client arguments), or a
# bp_KIND runner of bench/points.sh (its arguments after the client CPUs). note: why
# skaccel can be slower on this point, shown when its ratio is below 1.0.
NOTE_SMALL="a one-way stream of small writes stays on TCP at both ends (its writer is never promoted, its reader registers only if its writer waits); what is left is the shim's hooks on each read and write"
NOTE_CONN="a connection of one exchange never reaches the helper (lazy promotion); what is left is the shim's hooks on connect, accept, each read and write, and close"
NOTE_XCPU="across CPUs each redirected message takes the reader's socket lock, which the reader holds while it copies: the writer waits up to 100 us for it, then sleeps until a cross-CPU wake-up, where TCP leaves the segment on the reader's backlog (docs/KERNEL-NOTES.md §7.5)"
POINTS=()
add() { POINTS+=("$1"); }
# Points whose connections stay on TCP by design (lazy promotion, shim/promote.h): one
# exchange per connection, and one-way streams of writes under 8 KiB. Their skaccel
# column measures the shim's overhead on plain TCP; they need not redirect anything.
ON_TCP=" crr64 crr64u nginxCL "
for s in "${STREAM_SIZES[@]}"; do
	((s < 8192)) && ON_TCP="$ON_TCP st1c$s st2c$s "
done
for s in "${RR_SIZES[@]}"; do
	add "rr$s|echo|0|0|--mode rr --size $s --warmup $RR_WARMUP|p50_us p99_us|$ROUNDS|request/response $s B, 1 CPU|"
done
add "rr64u|echo|all|all|--mode rr --size 64 --warmup $RR_WARMUP|p50_us p99_us|$ROUNDS|request/response 64 B, unpinned|"
for s in "${STREAM_SIZES[@]}"; do
	n=""
	((s < 16384)) && n=$NOTE_SMALL
	add "st1c$s|sink|0|0|--mode stream --size $s --warmup $STREAM_WARMUP|MBps|$ROUNDS|stream, $s B writes, 1 CPU|$n"
done
if [ "$NCPU" -ge 2 ]; then
	for s in "${STREAM_SIZES[@]}"; do
		n=$NOTE_XCPU
		((s < 16384)) && n=$NOTE_SMALL
		add "st2c$s|sink|1|0|--mode stream --size $s --warmup $STREAM_WARMUP|MBps|$ROUNDS|stream, $s B writes, 2 CPUs|$n"
	done
fi
# Large writes where the scheduler puts both ends, as users run them.
for s in 16384 65536; do
	add "stu$s|sink|all|all|--mode stream --size $s --warmup $STREAM_WARMUP|MBps|$ROUNDS|stream, $s B writes, unpinned|$NOTE_XCPU"
done
add "crr64|crr|0|0|--mode crr --size 64 --warmup $CRR_WARMUP|conns_per_sec|$ROUNDS|connect + 64 B exchange + close, 1 CPU|$NOTE_CONN"
add "crr64u|crr|all|all|--mode crr --size 64 --warmup $CRR_WARMUP|conns_per_sec|$ROUNDS|connect + 64 B exchange + close, unpinned|$NOTE_CONN"
add "bulk|xfer|all|all|all $BULK_BYTES $BULK_WSIZE|MBps|$ROUNDS|200 MiB verified stream, 64 KiB writes, unpinned|$NOTE_XCPU"
add "bulk1c|xfer|0|0|0 $BULK_BYTES $BULK_WSIZE|MBps|$ROUNDS|200 MiB verified stream, 64 KiB writes, 1 CPU|"
if [ "$NCPU" -ge 2 ]; then
	add "bulk2c|xfer|1|0|1 $BULK_BYTES $BULK_WSIZE|MBps|$ROUNDS|200 MiB verified stream, 64 KiB writes, 2 CPUs|$NOTE_XCPU"
fi
add "podrr64|pod|all|all|rr 64 $DURATION|p50_us p99_us|$ROUNDS|pod to pod (veth + bridge): request/response 64 B, unpinned|"
add "podst64k|pod|all|all|stream 65536 $DURATION|MBps|$ROUNDS|pod to pod (veth + bridge): stream, 64 KiB writes, unpinned|$NOTE_XCPU"
add "redisP1|redis|all|all|1 50000|set_rps get_rps|$LONG_ROUNDS|redis-benchmark -P 1 (50 conns, 100 B values)|"
add "redisP16|redis|all|all|16 500000|set_rps get_rps|$LONG_ROUNDS|redis-benchmark -P 16 (50 conns, 100 B values)|"
add "nginxKA|nginx|all|all|keepalive $APP_DURATION|rps|$LONG_ROUNDS|nginx + wrk, keepalive (16 conns, 4 KiB file)|"
add "nginxCL|nginx|all|all|close $APP_DURATION|rps|$LONG_ROUNDS|nginx + wrk, no keepalive (16 conns, 4 KiB file)|$NOTE_CONN"
add "memcached|memcached|all|all|$APP_DURATION|tps|$LONG_ROUNDS|memcached + memcaslap (16 conns, 1 KiB values)|"
# Points whose programs are missing are left out, and the report says so.
SKIPPED=()
kept=()
for p in "${POINTS[@]}"; do
	IFS='|' read -r id kind _ _ _ _ _ label _ <<<"$p"
	case $kind in
	redis) progs="redis-server redis-benchmark" ;;
	nginx) progs="nginx wrk" ;;
	memcached) progs="memcached memcaslap" ;;
	*) progs="" ;;
	esac
	missing=""
	for prog in $progs; do
		command -v "$prog" >/dev/null 2>&1 || missing="$missing $prog"
	done
	if [ -n "$missing" ]; then
		SKIPPED+=("$label: not installed:$missing (scripts/install-deps.sh test installs it)")
	else
		kept+=("$p")
	fi
done
POINTS=("${kept[@]}")
if [ -n "$ONLY" ]; then
	kept=()
	for p in "${POINTS[@]}"; do
		[[ ${p%%|*} =~ $ONLY ]] && kept+=("$p")
	done
	POINTS=("${kept[@]}")
fi

# metric NAME: "shown-as|higher-is-better".
metric_info() {
	case $1 in
	p50_us) echo "p50 µs|0" ;;
	p99_us) echo "p99 µs|0" ;;
	MBps) echo "MB/s|1" ;;
	conns_per_sec) echo "conn/s|1" ;;
	set_rps) echo "SET req/s|1" ;;
	get_rps) echo "GET req/s|1" ;;
	rps) echo "req/s|1" ;;
	tps) echo "ops/s|1" ;;
	esac
}

RESULTS=$SK_WORK/results # lines: id variant round key value
: >"$RESULTS"

# deltas BEFORE AFTER: "key delta" for the helper's data-path and registration counters.
deltas() {
	local k a b

	for k in $(tr ',' '\n' <"$2" | grep -o '"\(redir\|tcp\|fb\|reg\)_[a-z_]*": *[0-9]*' |
		cut -d'"' -f2); do
		a=$(sk_get "$1" "$k")
		b=$(sk_get "$2" "$k")
		echo "$k $((b - a))"
	done
}

# run_one ROUND VARIANT POINT: one run against a fresh server.
run_one() {
	local round=$1 v=$2 id kind scpu ccpu args metrics out m k d first
	local -a argv

	IFS='|' read -r id kind scpu ccpu args metrics _ <<<"$3"
	read -r -a argv <<<"$args"
	out=$SK_WORK/$id.$v.$round
	sk_helper_cpus "$([ "$ccpu" = all ] && echo all || echo 0)"
	if [ "$v" = skaccel ]; then
		sk_settle
		sk_snapshot "$out.before"
	fi
	case $kind in
	echo | sink | crr)
		sk_start_server "$v" "$scpu" "$kind"
		sk_client "$v" "$ccpu" "$out" "${argv[@]}" --duration "$DURATION"
		sk_stop_server
		;;
	*)
		if ! "bp_$kind" "$v" "$ccpu" "$out" "${argv[@]}"; then
			echo "$id $v $round failed 1" >>"$RESULTS"
			printf ' %s' "$v=FAILED"
			echo "  ($v round $round) $id: $(cat "$out.err")" >>"$SK_WORK/failures"
			return 0
		fi
		;;
	esac
	for m in $metrics; do
		echo "$id $v $round $m $(sk_kv "$out" "$m")" >>"$RESULTS"
	done
	if [ "$v" = skaccel ]; then
		sk_snapshot "$out.after"
		deltas "$out.before" "$out.after" | while read -r k d; do
			echo "$id $v $round $k $d" >>"$RESULTS"
		done
	fi
	sk_kv "$out" eagain_retries >/dev/null 2>&1 &&
		echo "$id $v $round eagain $(sk_kv "$out" eagain_retries)" >>"$RESULTS"
	first=${metrics%% *}
	printf ' %s' "$v=$(sk_kv "$out" "$first")"
}

# Seconds one run of a point takes, start-up and settling included (for the estimate).
point_secs() {
	case $1 in
	echo | sink | crr) echo "$DURATION + 0.8" ;;
	xfer) echo 2 ;;
	pod) echo "$DURATION + 1" ;;
	redis) echo 4 ;;
	*) echo "$APP_DURATION + 1.5" ;;
	esac
}
EST=0
for p in "${POINTS[@]}"; do
	IFS='|' read -r _ kind _ _ _ _ rounds _ <<<"$p"
	EST=$(awk -v e="$EST" -v s="$(point_secs "$kind")" -v r="$rounds" \
		'BEGIN { split(s, a, "+"); print e + 2 * r * (a[1] + a[2]) }')
done
: >"$SK_WORK/failures"
echo "skaccel benchmark: ${#POINTS[@]} points x {tcp, skaccel}, $ROUNDS rounds" \
	"($LONG_ROUNDS for the applications): about" \
	"$(awk -v e="$EST" 'BEGIN { printf "%.0f", e / 60 + 0.5 }') min"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START_TS=$(date +%s)
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order=(tcp skaccel); else order=(skaccel tcp); fi
	echo "round $r/$ROUNDS (${order[0]} first)"
	for p in "${POINTS[@]}"; do
		IFS='|' read -r id _ _ _ _ _ rounds _ <<<"$p"
		((r <= rounds)) || continue
		printf '  %-9s' "$id"
		for v in "${order[@]}"; do
			run_one "$r" "$v" "$p"
		done
		echo
	done
done
ELAPSED=$(($(date +%s) - START_TS))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# median ID VARIANT KEY: median over the rounds (mean of the middle two if even).
median() {
	awk -v id="$1" -v v="$2" -v m="$3" '$1 == id && $2 == v && $4 == m { print $5 }' \
		"$RESULTS" | sort -g |
		awk '{ a[NR] = $1 } END {
			if (NR == 0) { print "nan"; exit }
			print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# sum ID VARIANT KEY: total over the rounds.
sum() {
	awk -v id="$1" -v v="$2" -v m="$3" '$1 == id && $2 == v && $4 == m { s += $5 }
		END { printf "%.0f\n", s }' "$RESULTS"
}

# count ID VARIANT KEY: how many rounds recorded KEY.
count() {
	awk -v id="$1" -v v="$2" -v m="$3" '$1 == id && $2 == v && $4 == m { n++ }
		END { print n + 0 }' "$RESULTS"
}

# ratio TCP SKACCEL HIGHER_IS_BETTER: > 1 means skaccel is better.
ratio() {
	awk -v t="$1" -v s="$2" -v hib="$3" 'BEGIN {
		if (t == "nan" || s == "nan" || t <= 0 || s <= 0) { print "n/a"; exit }
		printf "%.2f\n", hib ? s / t : t / s }'
}

fmt() {
	awk -v x="$1" 'BEGIN { if (x == "nan") { print "n/a"; exit }
		printf (x >= 100 ? "%.0f" : "%.1f"), x }'
}

# top_fallbacks ID: the fallback counters that moved during the point's skaccel runs.
top_fallbacks() {
	awk -v id="$1" '$1 == id && $2 == "skaccel" && $4 ~ /^fb_/ { s[$4] += $5 }
		END { for (k in s) if (s[k] > 0) printf "%s %d\n", k, s[k] }' "$RESULTS" |
		sort -k2,2nr | head -n 3 | awk '{ printf "%s%s +%s", (NR > 1 ? ", " : ""), $1, $2 }'
}

TABLE=$SK_WORK/table.md
VERDICTS=$SK_WORK/verdicts
BELOW=$SK_WORK/below
: >"$VERDICTS"
: >"$BELOW"
{
	echo "| point | metric | rounds | plain TCP | skaccel | ratio | via redirect |"
	echo "|---|---|---:|---:|---:|---:|---:|"
} >"$TABLE"

# emit POINT METRIC: one table row, and the reason when skaccel is slower.
emit() {
	local id label note metric=$2 shown hib t s rt redir tcpb share n fb why

	IFS='|' read -r id _ _ _ _ _ _ label note <<<"$1"
	IFS='|' read -r shown hib <<<"$(metric_info "$metric")"
	t=$(median "$id" tcp "$metric")
	s=$(median "$id" skaccel "$metric")
	n="$(count "$id" tcp "$metric")/$(count "$id" skaccel "$metric")"
	rt=$(ratio "$t" "$s" "$hib")
	redir=$(sum "$id" skaccel redir_bytes)
	tcpb=$(sum "$id" skaccel tcp_bytes)
	share=$(awk -v r="$redir" -v t="$tcpb" \
		'BEGIN { printf (r + t > 0 ? "%.1f%%" : "n/a"), 100 * r / (r + t) }')
	[ "$n" = "${n#*/}/${n#*/}" ] && n=${n#*/}
	echo "| $label | $shown | $n | $(fmt "$t") | $(fmt "$s") | ${rt%x}x | $share |" |
		sed 's/n\/ax/n\/a/' >>"$TABLE"
	echo "$id|$metric|$rt|$redir|$label" >>"$VERDICTS"
	if [ "$rt" != n/a ] && awk -v r="$rt" 'BEGIN { exit !(r < 1.0) }'; then
		fb=$(top_fallbacks "$id")
		why=$note
		if awk -v r="$redir" -v t="$tcpb" 'BEGIN { exit !(r + t > 0 && r < 0.9 * (r + t)) }'; then
			why="${why:+$why; }only $share of the bytes went the fast way (${fb:-no fallback counted})"
		fi
		if [ -z "$why" ]; then
			why="not explained by the counters: $share of the bytes were redirected (${fb:-no fallback counted})"
		fi
		why="$why; $(overlap "$id" "$metric")"
		echo "- $label, $shown: ${rt}x: $why." >>"$BELOW"
	fi
}

# overlap ID METRIC: whether the plain and the skaccel runs' ranges overlap, i.e. whether
# this run can tell the two apart at all on a busy machine.
overlap() {
	awk -v id="$1" -v m="$2" '
		$1 == id && $4 == m { v = $2
			if (!n[v]++ || $5 < lo[v]) lo[v] = $5
			if (!(v in hi) || $5 > hi[v]) hi[v] = $5 }
		function f(x) { return sprintf(x >= 100 ? "%.0f" : "%.1f", x) }
		END {
			r = sprintf("plain runs %s-%s, skaccel runs %s-%s", f(lo["tcp"]), f(hi["tcp"]),
				f(lo["skaccel"]), f(hi["skaccel"]))
			if (lo["tcp"] <= hi["skaccel"] && lo["skaccel"] <= hi["tcp"])
				print r ": the ranges overlap, within this run'"'"'s noise"
			else
				print r ": slower in every round"
		}' "$RESULTS"
}

for p in "${POINTS[@]}"; do
	IFS='|' read -r _ _ _ _ _ metrics _ <<<"$p"
	for m in $metrics; do
		emit "$p" "$m"
	done
done

# The skaccel numbers count only if the redirect carried them: every point must show
# redirected bytes in the helper's counters, and no run may have failed.
CHECKS=$SK_WORK/checks
: >"$CHECKS"
invalid=0
while IFS='|' read -r id metric rt redir label; do
	if [[ $ON_TCP == *" $id "* ]]; then
		echo "- on TCP by design (lazy promotion): $label: $redir bytes redirected" >>"$CHECKS"
	elif [ "$redir" -le 0 ]; then
		invalid=1
		echo "- INVALID: $label: the helper counted no redirected bytes" >>"$CHECKS"
	fi
done < <(sort -u -t'|' -k1,1 "$VERDICTS")
total_redir=$(awk '$2 == "skaccel" && $4 == "redir_bytes" { s += $5 } END { printf "%.0f", s }' \
	"$RESULTS")
total_tcp=$(awk '$2 == "skaccel" && $4 == "tcp_bytes" { s += $5 } END { printf "%.0f", s }' \
	"$RESULTS")
eagains=$(awk '$4 == "eagain" { s += $5 } END { printf "%.0f", s }' "$RESULTS")
nfailed=$(awk '$4 == "failed" { n++ } END { print n + 0 }' "$RESULTS")

# target LABEL CONDITION-ON-r RATIO
target() {
	local label=$1 cond=$2 r=$3 ok

	[ -n "$r" ] || return 0
	ok=$(awk -v r="$r" "BEGIN { print (r != \"n/a\" && $cond) ? \"met\" : \"NOT met\" }")
	echo "- $label: ${r}x, $ok" >>"$CHECKS"
}
target "64 B round trip p50 at least 1.75x faster (1 CPU)" "r >= 1.75" \
	"$(awk -F'|' '$1 == "rr64" && $2 == "p50_us" { print $3 }' "$VERDICTS")"
while IFS='|' read -r id metric rt redir label; do
	[[ $id == st* || $id == bulk* ]] || continue
	target "$label, not below plain TCP" "r >= 1.0" "$rt"
done <"$VERDICTS"
target "connection rate not below plain TCP (1 CPU)" "r >= 1.0" \
	"$(awk -F'|' '$1 == "crr64" { print $3 }' "$VERDICTS")"
target "connection rate not below plain TCP (unpinned)" "r >= 1.0" \
	"$(awk -F'|' '$1 == "crr64u" { print $3 }' "$VERDICTS")"

if [ "$invalid" -eq 0 ]; then
	VALIDITY="Valid: during the skaccel runs the registered sockets sent $total_redir bytes \
by redirect and $total_tcp by TCP (the helper's counters), and every point redirected bytes \
but those on TCP by design (below)."
else
	VALIDITY="**INVALID**: at least one point's skaccel runs did not go through the redirect \
(counters: $total_redir bytes redirected, $total_tcp by TCP); its skaccel column then \
measures plain TCP plus the shim's overhead."
fi
if [ "$nfailed" -gt 0 ]; then
	VALIDITY="$VALIDITY **$nfailed run(s) failed** and are left out of the medians (the rounds \
column counts the runs that succeeded, plain/skaccel):
$(sed 's/^/    /' "$SK_WORK/failures")"
fi

# raw_row ID VARIANT KEY: one line, the values of KEY in round order.
raw_row() {
	awk -v id="$1" -v v="$2" -v k="$3" '$1 == id && $2 == v && $4 == k {
		a[$3] = $5; if ($3 > n) n = $3 }
		END { if (!n) exit; printf "%-10s %-8s %-20s", id, v, k
		for (i = 1; i <= n; i++) printf " %s", (i in a) ? a[i] : "-"; print "" }' "$RESULTS"
}

# raw_results: per point, every metric and (skaccel) counter that moved, round by round.
raw_results() {
	local p id metrics m v c

	for p in "${POINTS[@]}"; do
		IFS='|' read -r id _ _ _ _ metrics _ <<<"$p"
		for m in $metrics; do
			for v in tcp skaccel; do
				raw_row "$id" "$v" "$m"
			done
		done
		for c in redir_bytes tcp_bytes $(awk -v id="$id" '$1 == id && $2 == "skaccel" &&
			$4 ~ /^(fb|reg)_/ && $5 != 0 { print $4 }' "$RESULTS" | sort -u); do
			raw_row "$id" skaccel "$c"
		done
		raw_row "$id" skaccel get_misses
		if [ "$(sum "$id" tcp eagain)" != 0 ] || [ "$(sum "$id" skaccel eagain)" != 0 ]; then
			for v in tcp skaccel; do
				raw_row "$id" "$v" eagain
			done
		fi
	done
}

version_of() {
	local v

	v=$("$@" 2>&1 | head -n 1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1) || true
	echo "${v:-?}"
}

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . ':!docs/BENCHMARKS.md' 2>/dev/null; then
	COMMIT="$COMMIT (with uncommitted changes)"
fi
MACHINE=$(
	echo "- kernel: $(uname -r)"
	echo "- CPU: $CPU_MODEL, $NCPU CPUs online; $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- virtualization: $(systemd-detect-virt --vm 2>/dev/null || echo none) (VM), $(systemd-detect-virt --container 2>/dev/null || echo none) (container)"
	echo "- programs: redis $(version_of redis-server --version), nginx $(version_of nginx -v), wrk $(version_of wrk -v), memcached $(version_of memcached -V), memcaslap (libmemcached)"
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT"
	echo "- load average at start: $LOAD_START; at end: $LOAD_END; run took ${ELAPSED} s"
)
# Other work on the machine (a load average at the start of 1 or more, with the benchmark
# not yet running) makes every number noisy: say so next to the table.
BUSY=$(awk -v l="${LOAD_START%% *}" -v n="$NCPU" 'BEGIN { if (l >= 1)
	printf "Other work shared the %d CPUs during this run (load average %s at the start, before the benchmark ran): the numbers are noisy, and the plain and skaccel runs alternate so that both see the same load. Where skaccel is slower, the note below says whether its runs and the plain ones overlap (noise) or not.\n", n, l }')
REPORT=$SK_WORK/BENCHMARKS.md
{
	cat <<EOF
# skaccel benchmarks

Generated by \`make bench\` (bench/run.sh); do not edit by hand.

Plain loopback TCP against skaccel, in one run: the same unmodified programs, once as
they are and once with both ends under \`skaccel-run\`. Interleaved rounds (round by
round, tcp and skaccel take turns going first), medians over the rounds: $ROUNDS rounds
for the example-program points and the bulk stream, $LONG_ROUNDS for the applications
(the "rounds" column).

**Ratio: > 1 means skaccel is better** (tcp/skaccel for latency, skaccel/tcp for
throughput, request and connection rates). "via redirect" is the share of the bytes the
registered sockets sent during the skaccel runs that went through the sockhash redirect
(the helper's counters, \`skaccel-helperd --stats --json\`: redir_bytes / (redir_bytes +
tcp_bytes)); the rest went through TCP/IP. "1 CPU" and "2 CPUs" points are pinned with
taskset, "unpinned" ones are not (as users run programs; the helper is then unpinned too).

$(cat "$TABLE")

$VALIDITY

$BUSY

Points where skaccel is slower than plain TCP, and why:
$(if [ -s "$BELOW" ]; then cat "$BELOW"; else echo "- none"; fi)
$(for x in "${SKIPPED[@]}"; do echo "- SKIPPED: $x"; done)

Targets:
$(cat "$CHECKS")
EOF
	if [ "$eagains" -gt 0 ]; then
		echo
		echo "Note: a blocking recv() returned EAGAIN $eagains times during the run (retried"
		echo "by the client; plain TCP never does this)."
	fi
	cat <<EOF

## What was measured

- request/response (\`examples/tcp_echo_server\` + \`examples/tcp_bench_client\`): one
  connection, N-byte request, N-byte reply, latency of each round trip with
  CLOCK_MONOTONIC, ${DURATION} s; "1 CPU": client, server and helper on CPU 0.
- stream (examples): N-byte writes for ${DURATION} s, then a half-close; the clock stops when
  the server confirms the byte count, and the run fails if any byte is missing. "1 CPU":
  client and server on CPU 0; "2 CPUs": client on CPU 0, server on CPU 1. MB/s = 10^6
  bytes/s.
- connection rate (examples): connect, 64-byte request, 64-byte reply, close, one
  connection at a time, ${DURATION} s.
- 200 MiB verified stream (\`tests/progs/tcp_xfer\`): 209,715,200 bytes in 65,536-byte
  writes; the server checks every byte against a keyed per-byte pattern as it reads, then
  answers with 64 KiB that the client checks. Timed from the client's start to its exit
  (connect and registration included). "2 CPUs": server on CPU 1, client on CPU 0.
- redis-benchmark: \`-n 50000 -P 1\` and \`-n 500000 -P 16\`, \`-c 50 -d 100 -t set,get\`
  against redis-server (no persistence); any error line fails the run.
- nginx (two workers, sendfile on) serving a 4096-byte file to \`wrk -t 2 -c 16
  -d ${APP_DURATION}s\`; "no keepalive" adds \`-H 'Connection: close'\`, so every request is a
  new connection. A non-2xx response or a socket error fails the run.
- memcached (\`-t 2\`) under \`memcaslap -c 16 -T 2 -t ${APP_DURATION}s\` (its default workload:
  64-byte keys, 1024-byte values, nine gets to one set); ops/s is its TPS.
- The bulk stream and the applications run in a private network namespace. Before each
  skaccel run the benchmark waits until the helper has swept the sockets the previous run
  closed (its per-user quota counts them until then).
- The helper (a private one, on its own socket and pin directory) is on CPU 0 for the
  pinned points and unpinned for the unpinned ones.

## Machine

$MACHINE

## Reproduce

\`\`\`
sudo make bench                                  # builds, then runs bench/run.sh
sudo BENCH_ROUNDS=7 BENCH_LONG_ROUNDS=5 bench/run.sh   # more rounds
sudo BENCH_ONLY='^(bulk|nginx)' BENCH_OUT=- bench/run.sh   # some points, report on stdout
\`\`\`

## Raw results

Per point and variant, the value of each round in round order ("-": the run failed).
For the skaccel runs, the change in the helper's counters during each run
(\`skaccel-helperd --stats --json\` names: redir_bytes went through the redirect,
tcp_bytes through TCP from registered sockets, fb_* are fallbacks to TCP by reason, reg_*
registration outcomes; counters that did not move are left out).

\`\`\`
$(raw_results)
\`\`\`
EOF
} >"$REPORT"

echo
cat "$TABLE"
echo
echo "$VALIDITY"
echo "Points where skaccel is slower than plain TCP, and why:"
if [ -s "$BELOW" ]; then cat "$BELOW"; else echo "- none"; fi
for x in "${SKIPPED[@]}"; do echo "- SKIPPED: $x"; done
echo "Targets:"
cat "$CHECKS"
echo
echo "Machine:"
echo "$MACHINE"
if [ "$OUT" != - ]; then
	cp "$REPORT" "$OUT.tmp"
	mv "$OUT.tmp" "$OUT"
	echo
	echo "Report written to $OUT"
fi
