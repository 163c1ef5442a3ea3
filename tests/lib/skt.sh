# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Shell helpers for skaccel's end-to-end tests (tests/e2e/*/*.sh), sourced, never run.
#
# Every test prints exactly one verdict line: "PASS: name", "FAIL: name: reason" or
# "SKIP: name: reason". Resources live under names carrying the run id (helper sockets in
# /tmp/skt-ID-*, pin directories /sys/fs/bpf/skt-ID-*, network namespaces skt-ID-*) and
# are recorded in $SKT_STATE, so that the EXIT trap here, and tests/run-all.sh after a
# killed script, remove exactly what this run created and nothing else.

# shellcheck shell=bash
set -u

SKT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SKT_BUILD=${SKT_BUILD:-$SKT_ROOT/build}
HELPERD=$SKT_BUILD/skaccel-helperd
SKRUN=$SKT_BUILD/skaccel-run
SKLIB=$SKT_BUILD/libskaccel.so
TPROGS=$SKT_BUILD/tests
SKT_RUN_ID=${SKT_RUN_ID:-$$}
. "$SKT_ROOT/tests/lib/sweep.sh"
# shellcheck source=scripts/lib/helper.sh
. "$SKT_ROOT/scripts/lib/helper.sh"
# FOLDER_NAME of the running script (tests/e2e/FOLDER/NAME.sh): unique across folders.
SKT_SCRIPT=$(basename "$(dirname "$0")")_$(basename "${0%.sh}")
# The suite's record of what it created; run-all.sh passes its own so it can sweep.
if [ -z "${SKT_STATE:-}" ]; then
	SKT_STATE=$(mktemp -d "/tmp/skt-$SKT_RUN_ID-state-XXXXXX")
	SKT_OWN_STATE=1
fi
export SKT_STATE SKT_RUN_ID SKT_BUILD

SKT_FAILED=0
SKT_SEQ=0
SKT_TMP=$(mktemp -d "/tmp/skt-$SKT_RUN_ID-$SKT_SCRIPT-XXXXXX")
echo "dir $SKT_TMP" >>"$SKT_STATE/resources"

# --- verdicts ---------------------------------------------------------------------------

skt_pass() { echo "PASS: $1"; }
skt_fail() { echo "FAIL: $1: $2"; SKT_FAILED=1; }
skt_skip() { echo "SKIP: $1: $2"; }
skt_info() { [ -n "${SKT_VERBOSE:-}" ] && echo "  $*" >&2; return 0; }
# skt_verdict TEST ERR: PASS when ERR is empty, else FAIL with ERR as the reason.
skt_verdict() { if [ -n "$2" ]; then skt_fail "$1" "$2"; else skt_pass "$1"; fi; }

# Last lines of a file, on one line, for a FAIL reason.
skt_tail() { tail -n "${2:-3}" "$1" 2>/dev/null | tr '\n' '|' | cut -c1-600; }

# --- requirements: a missing capability of the machine is a SKIP, not a FAIL ------------

# Prints the reason and returns 1 when the machine cannot run the e2e tests.
skt_missing() {
	local b
	if [ "$(id -u)" -ne 0 ]; then echo "not root"; return 1; fi
	for b in "$HELPERD" "$SKRUN" "$SKLIB" "$TPROGS/tcp_xfer"; do
		[ -e "$b" ] || { echo "$b not built (make)"; return 1; }
	done
	command -v ip >/dev/null || { echo "ip (iproute2) not installed"; return 1; }
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null || { echo "no bpffs at /sys/fs/bpf"; return 1; }
	fi
	if ! ip netns add "skt-$SKT_RUN_ID-probe" 2>/dev/null; then
		echo "cannot create network namespaces"; return 1
	fi
	ip netns del "skt-$SKT_RUN_ID-probe"
	return 0
}

# Skip every named test of a script whose requirements are missing, and exit.
skt_require() {
	local why t
	why=$(skt_missing) && return 0
	for t in "$@"; do skt_skip "$t" "$why"; done
	exit 0
}

# Does the kernel have what the helper needs? Names the cause when a helper dies at start-up.
skt_kernel_lacks_sockmap() {
	command -v bpftool >/dev/null || return 1
	local probe
	probe=$(bpftool feature probe kernel 2>/dev/null) || return 1
	# bpftool 7 says "eBPF map_type sockhash is available", older ones sock_hash.
	echo "$probe" | grep -Eq "map_type sock_?hash is available" || return 0
	echo "$probe" | grep -Eq "prog(ram)?_type sk_msg is available" || return 0
	return 1
}

# skt_paired_verdict TEST ERR ACCEL REDIR UNSUPPORTED EXPECT: the skaccel half of a scenario
# run on plain TCP and under skaccel (semantics/scenarios.sh, semantics/observed.sh). ERR is the run's failure
# (empty: it passed), ACCEL and REDIR what the helper's counters grew by during it,
# UNSUPPORTED 1 when README.md documents the difference (printed, never a pass), EXPECT
# "fast" (a pass must have gone through the fast path, or it proves nothing), "tcp" (the
# helper must have refused it) or "any".
skt_paired_verdict() {
	local t=$1 err=$2 da=$3 dr=$4 unsupported=$5 expect=$6
	if [ -n "$err" ] && [ "$unsupported" = 1 ]; then
		echo "UNSUPPORTED: $t: documented limitation (README.md): $err"
	elif [ -n "$err" ]; then
		skt_fail "$t" "$err"
	elif [ "$expect" = tcp ] && { [ "$da" -ne 0 ] || [ "$dr" -ne 0 ]; }; then
		skt_fail "$t" "must stay on TCP, but $da connections were accelerated and $dr bytes redirected"
	elif [ "$expect" = fast ] && { [ "$da" -eq 0 ] || [ "$dr" -eq 0 ]; }; then
		skt_fail "$t" "passed but never used the fast path: $da connections accelerated, $dr bytes redirected"
	else
		skt_pass "$t"
	fi
}

# skt_helper_still_alive TEST: after a scenario; a crashed helper would turn every later
# scenario into a plain-TCP pass, so it fails TEST and sets HELPER_OK=0 and SKT_WHY.
skt_helper_still_alive() {
	helper_alive "$SKT_HELPER_PID" && return 0
	skt_fail "$1" "the helper died during this scenario: $(skt_tail "$SKT_HLOG")"
	HELPER_OK=0
	SKT_WHY="helper died earlier"
	return 1
}

# --- the helper -------------------------------------------------------------------------

# skt_helper_start [helper args...]: a fresh helper on a private socket and pin dir.
# Sets SKT_SOCK, SKT_PIN, SKT_HLOG, SKT_HELPER_PID. Returns 1 with SKT_WHY set on failure.
# shellcheck disable=SC2120 # arguments are optional
skt_helper_start() {
	SKT_SEQ=$((SKT_SEQ + 1))
	SKT_SOCK=$SKT_TMP/helperd-$SKT_SEQ.sock
	SKT_PIN=/sys/fs/bpf/skt-$SKT_RUN_ID-$SKT_SCRIPT-$SKT_SEQ
	skt_helper_start_at "$SKT_SOCK" "$SKT_PIN" "$@"
}

# skt_helper_start_at SOCK PIN [args...]: (re)start a helper on a given socket and pin dir.
skt_helper_start_at() {
	local sock=$1 pin=$2
	shift 2
	SKT_SOCK=$sock
	SKT_PIN=$pin
	SKT_HLOG=$SKT_TMP/helperd-$SKT_SEQ-$RANDOM.log
	echo "pin $pin" >>"$SKT_STATE/resources"
	rm -f "$sock"
	# A policy of our own (empty: everyone may opt in), so that rules in the machine's
	# /etc/skaccel/helperd.conf cannot change what a test sees; a --config among the
	# caller's arguments comes later and wins.
	[ -f "$SKT_TMP/allow-all.conf" ] ||
		install -m 0600 /dev/null "$SKT_TMP/allow-all.conf"
	helper_spawn "$SKT_HLOG" "$HELPERD" --socket "$sock" --pin-dir "$pin" --log-level debug \
		--config "$SKT_TMP/allow-all.conf" "$@"
	SKT_HELPER_PID=$HELPER_PID
	echo "pid $SKT_HELPER_PID $HELPERD" >>"$SKT_STATE/resources"
	# Ready: it says so, or it answers a ping.
	helper_wait_ready "$SKT_HELPER_PID" "$sock" "$SKT_HLOG" "$SKRUN" -s "$sock" -l "$SKLIB" true &&
		return 0
	SKT_WHY="helper $HELPER_WHY: $(skt_tail "$SKT_HLOG")"
	if ! helper_alive "$SKT_HELPER_PID" && skt_kernel_lacks_sockmap; then
		SKT_WHY="kernel lacks sockmap/sk_msg: $SKT_WHY"
	fi
	return 1
}

# Stop the current helper (SIGTERM, then SIGKILL), keeping its pinned maps.
# shellcheck disable=SC2120 # arguments are optional
skt_helper_stop() {
	local pid=${1:-${SKT_HELPER_PID:-}} _
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# shellcheck disable=SC2120 # arguments are optional
skt_helper_unpin() {
	local pin=${1:-$SKT_PIN}
	[ -d "$pin" ] || return 0
	"$HELPERD" --unpin --pin-dir "$pin" >/dev/null 2>&1
	rm -rf "$pin" 2>/dev/null
	return 0
}

# The helper's counters as one JSON line.
skt_stats_json() { "$HELPERD" --stats --json --pin-dir "${1:-$SKT_PIN}" 2>/dev/null; }

# skt_json_num KEY [PIN]: one top-level number of --stats --json, empty if absent (for
# checking that a setting is published at all).
skt_json_num() {
	skt_stats_json "${2:-$SKT_PIN}" | grep -o "\"$1\": *[0-9]*" | head -n1 | grep -o '[0-9]*$'
}

# skt_stat KEY [PIN]: one top-level numeric counter (0 if absent, with a warning).
skt_stat() {
	local v
	v=$(skt_json_num "$1" "${2:-$SKT_PIN}")
	if [ -z "$v" ]; then
		echo "skt: counter '$1' not found in --stats --json output" >&2
		v=0
	fi
	echo "$v"
}

# --- network namespaces -----------------------------------------------------------------

# skt_netns_new VAR: a fresh network namespace with lo up; its name goes into VAR.
skt_netns_new() {
	SKT_SEQ=$((SKT_SEQ + 1))
	local _skt_ns=skt-$SKT_RUN_ID-$SKT_SEQ
	ip netns add "$_skt_ns" || return 1
	echo "netns $_skt_ns" >>"$SKT_STATE/resources"
	ip -n "$_skt_ns" link set lo up || return 1
	printf -v "$1" '%s' "$_skt_ns"
}

skt_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# IP-layer bytes sent in a namespace: IPv4 (/proc/net/netstat IpExt OutOctets, which
# also carries v4-mapped traffic) plus IPv6 (/proc/net/snmp6 Ip6OutOctets, which IpExt
# does not count). Whatever went through TCP/IP at all; redirected bytes never reach IP.
# Printed with %.0f: mawk's %d stops at 2^31-1, and 2 GB carried would look silent.
skt_outoctets() {
	skt_in "$1" sh -c 'cat /proc/net/netstat; cat /proc/net/snmp6 2>/dev/null' | awk '
		$1 == "IpExt:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "IpExt:" && h  { v4 = $col["OutOctets"] }
		$1 == "Ip6OutOctets" { v6 = $2 }
		END { printf "%.0f\n", v4 + v6 }'
}

# A local, non-loopback address in a namespace: one end of a veth pair (the dummy
# driver may be missing), addresses on it are local like any other.
skt_add_local_addr() {
	local ns=$1 addr=$2 opts=()
	case $addr in *:*) opts=(nodad) ;; esac # no duplicate detection delay for IPv6
	ip -n "$ns" link show skt0 >/dev/null 2>&1 ||
		ip -n "$ns" link add skt0 type veth peer name skt1 || return 1
	ip -n "$ns" link set skt0 up && ip -n "$ns" link set skt1 up &&
		ip -n "$ns" addr add "$addr" dev skt0 "${opts[@]}"
}

# --- running the test programs ----------------------------------------------------------

# skt_run_opted NS SOCK cmd...: run under skaccel-run (quiet) inside NS, bounded.
skt_run_opted() {
	local ns=$1 sock=$2
	shift 2
	skt_in "$ns" timeout -k 5 "${SKT_CMD_TIMEOUT:-120}" "$SKRUN" -q -s "$sock" -l "$SKLIB" "$@"
}

skt_run_plain() {
	local ns=$1
	shift
	skt_in "$ns" timeout -k 5 "${SKT_CMD_TIMEOUT:-120}" "$@"
}

# skt_run_seeds MODE TAG PROG SC: a seeded scenario of a test program (PROG -s SC -S SEED -a
# ADDR) for every seed in $SEEDS, the addresses taken in turn from ADDRS, on plain TCP
# (MODE plain) or with both ends opted in (MODE skaccel), each in $SKT_TMP/TAG-MODE-SEED.log.
# The run passes when PROG exits 0 having printed "ok: SC"; sets ERR to the first failure.
skt_run_seeds() {
	local mode=$1 tag=$2 prog=$3 sc=$4 k=0 seed addr out log
	ERR=""
	for seed in $SEEDS; do
		addr=${ADDRS[$((k % ${#ADDRS[@]}))]}
		k=$((k + 1))
		log=$SKT_TMP/$tag-$mode-$seed.log
		if [ "$mode" = plain ]; then
			skt_run_plain "$NS" "$prog" -s "$sc" -S "$seed" -a "$addr" >"$log" 2>&1
		else
			skt_run_opted "$NS" "$SKT_SOCK" "$prog" -s "$sc" -S "$seed" -a "$addr" >"$log" 2>&1
		fi
		out=$?
		if [ $out -ne 0 ] || ! grep -q "ok: $sc " "$log"; then
			ERR="seed $seed addr $addr exit $out: $(grep -m1 FAIL "$log" || skt_tail "$log")"
			[ $out -eq 124 ] && ERR="$ERR (killed by the ${SKT_CMD_TIMEOUT:-120} s timeout)"
			return
		fi
		skt_info "$tag $mode seed $seed $addr: $(grep -v ' obs: ' "$log")"
	done
}

# --- running things as another user -----------------------------------------------------

# skt_stage_for_others [--python]: copies of what another user (nobody, a test uid) runs,
# where it can reach them. The checkout may sit where only its owner can go (a `mktemp -d`
# clone is 0700), and then nobody cannot exec build/skaccel-run, nor can its dynamic
# loader open build/libskaccel.so, nor python open tests/hostile/*.py. $SKT_TMP becomes
# 0711 (others reach the names they are given in it, such as the helper socket, but cannot
# list it) and $SKT_TMP/stage, root's and 0755, holds skaccel-run with libskaccel.so beside
# it, the test programs of $TPROGS, and tests/hostile/*.py with the protocol sources
# skhostile.py reads (common/skaccel_proto.[ch], in the checkout's layout). Sets, for root's processes as
# much as for the other user's (the same files on both sides):
#   SKT_STAGE          the directory
#   SKT_OTHER_RUN      skaccel-run; pass it -l "$SKT_OTHER_LIB"
#   SKT_OTHER_LIB      libskaccel.so
#   SKT_OTHER_PROGS    the test programs (tcp_xfer, ...), as in $TPROGS
#   SKT_OTHER_HOSTILE  the python scripts, as tests/hostile
#   SKT_OTHER_PY       a python3 every user can run: the system one, for a pyenv under
#                      /root is root's alone
# Then, as nobody, it checks that the staged skaccel-run starts and preloads the staged
# library (with --python also that the python runs the staged scripts); if not, it returns
# 1 with SKT_WHY saying what is wrong, for the caller to fail its tests with.
skt_stage_for_others() {
	local py=${SKT_PYTHON:-python3} uid gid f out maps lib as
	SKT_STAGE=$SKT_TMP/stage
	SKT_OTHER_RUN=$SKT_STAGE/$(basename "$SKRUN")
	SKT_OTHER_LIB=$SKT_STAGE/$(basename "$SKLIB")
	SKT_OTHER_PROGS=$SKT_STAGE/progs
	SKT_OTHER_HOSTILE=$SKT_STAGE/tests/hostile
	[ -x /usr/bin/python3 ] && py=/usr/bin/python3
	SKT_OTHER_PY=$(command -v "$py") || SKT_OTHER_PY=$py
	if ! uid=$(id -u nobody 2>/dev/null) || ! gid=$(id -g nobody); then
		SKT_WHY="no user nobody to stage files for"
		return 1
	fi
	if [ ! -d "$SKT_STAGE" ]; then
		if ! { chmod 0711 "$SKT_TMP" &&
			mkdir -m 0755 "$SKT_STAGE" "$SKT_OTHER_PROGS" "$SKT_STAGE/tests" \
				"$SKT_OTHER_HOSTILE" "$SKT_STAGE/common" &&
			install -m 0755 "$SKRUN" "$SKLIB" "$SKT_STAGE/" &&
			install -m 0644 "$SKT_ROOT"/tests/hostile/*.py "$SKT_OTHER_HOSTILE/" &&
			install -m 0644 "$SKT_ROOT"/common/skaccel_proto.[ch] "$SKT_STAGE/common/"; }; then
			SKT_WHY="cannot stage skaccel-run, libskaccel.so, tests/hostile/*.py and common/skaccel_proto.[ch] in $SKT_STAGE"
			return 1
		fi
		# The test programs, not the unit tests beside them.
		for f in "$TPROGS"/*; do
			case ${f##*/} in test_*) continue ;; esac
			if [ -f "$f" ] && [ -x "$f" ] && ! install -m 0755 "$f" "$SKT_OTHER_PROGS/"; then
				SKT_WHY="cannot stage $f in $SKT_OTHER_PROGS"
				return 1
			fi
		done
	fi
	# Through timeout(1), as the tests run it: setpriv execs its command while it still
	# holds root's capabilities, so a checkout nobody cannot reach would pass unseen.
	as=(setpriv --reuid="$uid" --regid="$gid" --clear-groups timeout -k 2 20)
	lib=$(realpath "$SKT_OTHER_LIB")
	out=$("${as[@]}" "$SKT_OTHER_RUN" -q -s "$SKT_TMP/no-helper.sock" -l "$SKT_OTHER_LIB" \
		cat /proc/self/maps 2>&1)
	maps=$(echo "$out" | awk '{ print $6 }' | grep 'libskaccel' | sort -u | tr '\n' ' ')
	if [ "$maps" != "$lib " ]; then
		SKT_WHY="nobody (uid $uid) cannot run the staged $SKT_OTHER_RUN with $lib preloaded"
		SKT_WHY="$SKT_WHY (libraries mapped: '${maps% }'): $(echo "$out" | grep -v '^[0-9a-f]*-' | tail -n 3 | tr '\n' '|')"
		return 1
	fi
	[ "${1:-}" = --python ] || return 0
	if ! out=$("${as[@]}" "$SKT_OTHER_PY" -c 'import os, sys
if sys.version_info < (3, 10) or not hasattr(os, "eventfd"):
    sys.exit("it is older than 3.10")' 2>&1); then
		SKT_WHY="nobody (uid $uid) cannot use $SKT_OTHER_PY: $(echo "$out" | tail -n 3 | tr '\n' '|')"
		return 1
	fi
	for f in "$SKT_OTHER_HOSTILE"/*.py; do
		out=$("${as[@]}" "$SKT_OTHER_PY" "$f" --help 2>&1 >/dev/null) && continue
		SKT_WHY="nobody (uid $uid) cannot run the staged $f with $SKT_OTHER_PY: $(echo "$out" | tail -n 3 | tr '\n' '|')"
		return 1
	done
	return 0
}

# skt_wait_file FILE [tenths]: wait for a file to appear (a server's --ready file).
skt_wait_file() {
	local _
	for _ in $(seq "${2:-100}"); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}

# skt_xfer_pair NS SOCK BYTES [tag]: one verified tcp_xfer exchange in NS between two ends
# opted in on SOCK: BYTES of random-sized writes (1 byte to 256 KiB) whose reader checks
# every byte, then a reply of BYTES/4 the writer checks. Sets ERR ("" if both ends verified
# every byte) and XFER_SECS.
skt_xfer_pair() {
	local ns=$1 sock=$2 bytes=$3 tag=$SKT_TMP/pair-${4:-$RANDOM} spid t0
	ERR=""
	rm -f "$tag.ready"
	skt_run_opted "$ns" "$sock" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$tag.ready" \
		--conns 1 >"$tag.server" 2>&1 &
	spid=$!
	skt_wait_file "$tag.ready" || { ERR="server did not start: $(skt_tail "$tag.server")"; return; }
	t0=$(date +%s.%N)
	skt_run_opted "$ns" "$sock" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$tag.ready")" \
		--bytes "$bytes" --reply $((bytes / 4)) >"$tag.client" 2>&1 ||
		ERR="client: $(grep -m1 FAIL "$tag.client" || skt_tail "$tag.client")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(grep -m1 FAIL "$tag.server" || skt_tail "$tag.server")"
	# shellcheck disable=SC2034 # for the caller
	XFER_SECS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

# --- cleanup ----------------------------------------------------------------------------

skt_cleanup() {
	local pids
	# Our own background jobs (servers, clients) first, then the recorded resources.
	# SIGTERM first: timeout(1), which wraps every test program, passes it on to its
	# child, where a SIGKILL would orphan the child.
	pids=$(jobs -p)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086 # one pid per word
		kill -TERM $pids 2>/dev/null
		sleep 0.3
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
	fi
	wait 2>/dev/null
	skt_sweep "$SKT_STATE"
	[ -n "${SKT_OWN_STATE:-}" ] && rm -rf "$SKT_STATE"
	return 0
}
trap skt_cleanup EXIT
trap 'exit 130' INT TERM

# The script's exit status: 1 if any test failed.
skt_done() { exit "$SKT_FAILED"; }
