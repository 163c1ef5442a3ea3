# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Helpers for the real-program tests (tests/e2e/apps/*.sh), sourced after tests/lib/skt.sh.
#
# Each script runs unmodified programs (redis, nginx, memcached, ...) on both sides under
# skaccel-run, in a fresh network namespace, against a private helper. A test passes only
# if the program's results are right AND the bytes went by the fast path: the helper's
# redirected bytes cover the payload and the namespace's IP-layer bytes stay small.
#
# Besides its verdict, every test prints one "STAT: name: key=value ..." line. run-all.sh
# keeps it in the script's log (test-logs/e2e-apps_*.log), where tests/apps/gen-compat.sh
# reads it for docs/COMPATIBILITY.md.

# shellcheck shell=bash
APPS_DIR=$SKT_ROOT/tests/apps
APPS_NS=""

# apps_require PROGRAM... -- TEST...: skip every TEST when a program is not installed.
apps_require() {
	local missing="" t
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		command -v "$1" >/dev/null 2>&1 || missing="$missing $1"
		shift
	done
	shift
	[ -z "$missing" ] && return 0
	for t in "$@"; do
		skt_skip "$t" "not installed:$missing (scripts/install-deps.sh build test installs it)"
	done
	exit 0
}

# apps_setup TEST...: requirements, a helper and a namespace (APPS_NS), or FAIL them all.
# APPS_HELPER_ARGS: extra helper options (APPS_HELPER_ARGS=--disable must FAIL every test).
apps_setup() {
	local t why=""
	skt_require "$@"
	# shellcheck disable=SC2086
	skt_helper_start ${APPS_HELPER_ARGS:-} || why=$SKT_WHY
	[ -z "$why" ] && { skt_netns_new APPS_NS || why="cannot create a network namespace"; }
	[ -z "$why" ] && return 0
	for t in "$@"; do skt_fail "$t" "$why"; done
	skt_done
}

# apps_run cmd...: a program under skaccel-run in the test namespace, bounded.
apps_run() { skt_run_opted "$APPS_NS" "$SKT_SOCK" "$@"; }

# apps_wait_port PORT [tenths]: wait until something listens on PORT in the namespace.
apps_wait_port() {
	local i
	for i in $(seq "${2:-100}"); do
		[ -n "$(skt_in "$APPS_NS" ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# apps_kill_ns [NS]: stop every process in the namespace (they are all this test's):
# SIGTERM, up to 5 s, then SIGKILL. Killing only our `timeout` wrappers would leave the
# programs running.
apps_kill_ns() {
	local ns=${1:-$APPS_NS} pids _
	[ -n "$ns" ] || return 0
	mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
	[ ${#pids[@]} -eq 0 ] && return 0
	kill -TERM "${pids[@]}" 2>/dev/null
	for _ in $(seq 50); do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ ${#pids[@]} -eq 0 ] && return 0
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null
	return 0
}

apps_cleanup() {
	apps_kill_ns "$APPS_NS"
	skt_cleanup
}
trap apps_cleanup EXIT

# --- acceleration witnesses ---------------------------------------------------------------

# apps_mark: remember the counters before a test.
apps_mark() {
	APPS_O0=$(skt_outoctets "$APPS_NS")
	APPS_J0=$(skt_stats_json)
}

# apps_json_get JSON KEY: one top-level number of a --stats --json line (0 if absent).
apps_json_get() {
	local v
	v=$(printf '%s' "$1" | grep -o "\"$2\": *[0-9]*" | head -n1 | grep -o '[0-9]*$')
	echo "${v:-0}"
}

# apps_measure: deltas since apps_mark: OUT (IP-layer bytes in the namespace), REDIR and
# TCPB (bytes the registered sockets sent by redirect and by TCP), TCPM (messages they
# sent by TCP), ACC (connections
# accelerated), SHARE (redirected per mille of what registered sockets sent) and
# FALLBACKS (which fb_* counters moved, for a FAIL reason).
apps_measure() {
	local j1 k a b
	j1=$(skt_stats_json)
	OUT=$(($(skt_outoctets "$APPS_NS") - APPS_O0))
	REDIR=$(($(apps_json_get "$j1" redir_bytes) - $(apps_json_get "$APPS_J0" redir_bytes)))
	TCPB=$(($(apps_json_get "$j1" tcp_bytes) - $(apps_json_get "$APPS_J0" tcp_bytes)))
	TCPM=$(($(apps_json_get "$j1" tcp_msgs) - $(apps_json_get "$APPS_J0" tcp_msgs)))
	ACC=$(($(apps_json_get "$j1" reg_accelerated) - $(apps_json_get "$APPS_J0" reg_accelerated)))
	SHARE=0
	[ $((REDIR + TCPB)) -gt 0 ] && SHARE=$((REDIR * 1000 / (REDIR + TCPB)))
	FALLBACKS=""
	for k in $(printf '%s' "$j1" | grep -o '"\(fb_[a-z_]*\|reg_[a-z_]*\)": *[0-9]*' | cut -d'"' -f2); do
		a=$(apps_json_get "$APPS_J0" "$k")
		b=$(apps_json_get "$j1" "$k")
		[ "$a" != "$b" ] && FALLBACKS="$FALLBACKS${FALLBACKS:+, }$k +$((b - a))"
	done
}

# apps_pct PERMILLE: "97.3%".
apps_pct() { printf '%d.%d%%' $(($1 / 10)) $(($1 % 10)); }

# apps_stat NAME [extra key=value...]: the STAT line for the compatibility table.
apps_stat() {
	local name=$1
	shift
	echo "STAT: $name: redirected=$REDIR tcp=$TCPB share=$(apps_pct "$SHARE") ip_out=$OUT accelerated_conns=$ACC $*"
}

# apps_accel_why PAYLOAD MIN [FLOOR]: empty when the measured deltas prove that the
# payload went by the fast path, else the reason. MIN is in per mille (900: 90%).
#   - the helper accelerated at least one connection;
#   - redirected bytes >= MIN of PAYLOAD (0: payload not known in advance, skip this);
#   - redirected bytes >= MIN of all the bytes the registered sockets sent;
#   - redirected bytes >= FLOOR (default 0);
#   - the namespace's IP-layer bytes are explained by what those sockets sent by TCP:
#     at most 110% of it plus 160 bytes of headers and ACK per message, plus 5% of the
#     payload (or of everything sent when PAYLOAD is 0) and 1 KiB per accelerated
#     connection for handshakes and FINs. Bytes of connections the helper never saw, or
#     redirected bytes that went through TCP/IP after all, would show up here.
apps_accel_why() {
	local payload=$1 min=$2 floor=${3:-0} base limit
	base=$payload
	[ "$base" -eq 0 ] && base=$((REDIR + TCPB))
	limit=$((TCPB + TCPB / 10 + TCPM * 160 + base / 20 + ACC * 1024))
	if [ "$ACC" -eq 0 ]; then
		echo "NOT ACCELERATED: no connection was accelerated (redirected $REDIR, tcp $TCPB, ip_out $OUT; ${FALLBACKS:-no counters moved})"
	elif [ "$payload" -gt 0 ] && [ "$REDIR" -lt $((payload * min / 1000)) ]; then
		echo "NOT ACCELERATED: redirected $REDIR bytes, less than $(apps_pct "$min") of the $payload-byte payload (tcp $TCPB, ip_out $OUT; ${FALLBACKS:-no fallbacks})"
	elif [ "$SHARE" -lt "$min" ]; then
		echo "NOT ACCELERATED: only $(apps_pct "$SHARE") of the bytes sent were redirected (want >= $(apps_pct "$min")): redirected $REDIR, tcp $TCPB, ip_out $OUT; ${FALLBACKS:-no fallbacks}"
	elif [ "$REDIR" -lt "$floor" ]; then
		echo "NOT ACCELERATED: redirected $REDIR bytes, less than $floor (tcp $TCPB, ip_out $OUT; ${FALLBACKS:-no fallbacks})"
	elif [ "$OUT" -gt "$limit" ]; then
		echo "NOT ACCELERATED: IP-layer bytes grew by $OUT, more than the $limit that the $TCPB bytes in $TCPM messages sent by TCP explain (redirected $REDIR; ${FALLBACKS:-no fallbacks})"
	fi
}

# apps_verdict NAME ERR PAYLOAD MIN [stat extras...]: measure, print STAT and the
# verdict. ERR (non-empty) is a correctness failure found by the caller. With
# APPS_FLOOR=BYTES in the environment, redirected bytes must also reach BYTES. MIN "any":
# correctness only (connections that may or may not be promoted, shim/promote.h).
apps_verdict() {
	local name=$1 err=$2 payload=$3 min=$4 why
	shift 4
	apps_measure
	apps_stat "$name" "payload=$payload" "$@"
	if [ -n "$err" ]; then
		skt_fail "$name" "$err"
		return
	fi
	[ "$min" = any ] && { skt_pass "$name"; return; }
	why=$(apps_accel_why "$payload" "$min" "${APPS_FLOOR:-0}")
	if [ -n "$why" ]; then skt_fail "$name" "$why"; else skt_pass "$name"; fi
}

# apps_verdict_untouched NAME ERR [stat extras...]: for connections too short to be worth
# a registration (one request and its reply, then close: lazy promotion leaves them on TCP,
# shim/promote.h): correct (ERR empty), and the helper was never asked about one of them.
apps_verdict_untouched() {
	local name=$1 err=$2 regs
	shift 2
	apps_measure
	apps_stat "$name" "$@"
	regs=$(printf '%s' "$FALLBACKS" | tr ',' '\n' | grep -c "reg_")
	if [ -n "$err" ]; then
		skt_fail "$name" "$err"
	elif [ "$regs" -ne 0 ] || [ "$REDIR" -ne 0 ]; then
		skt_fail "$name" "short connections reached the helper: $FALLBACKS (redirected $REDIR)"
	else
		skt_pass "$name"
	fi
}

# apps_helper_alive NAME: a crashed helper would turn the next tests into plain-TCP runs.
apps_helper_alive() {
	helper_alive "$SKT_HELPER_PID" && return 0
	skt_fail "$1" "the helper died: $(skt_tail "$SKT_HLOG")"
	return 1
}

# apps_random_file FILE BYTES: incompressible test data.
apps_random_file() { head -c "$2" /dev/urandom >"$1"; }

apps_sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- servers and clients of tests/apps -----------------------------------------------------

# apps_serve LOG READY cmd...: start a server under skaccel-run in the background and wait
# for its READY file (the port); sets APPS_PORT. Returns 1 with APPS_WHY set.
apps_serve() {
	local log=$1 ready=$2
	shift 2
	rm -f "$ready"
	apps_run "$@" >"$log" 2>&1 &
	if ! skt_wait_file "$ready" 150; then
		APPS_WHY="server did not start: $(skt_tail "$log")"
		return 1
	fi
	APPS_PORT=$(head -n1 "$ready")
}

# apps_json_num JSONFILE KEY: a number from a client's one-line JSON summary.
apps_json_num() { grep -o "\"$2\": *[0-9]*" "$1" 2>/dev/null | head -n1 | grep -o '[0-9]*$'; }

# apps_client_check LOG OUT RC: empty if the client printed its JSON summary and exited 0,
# else the reason (its FAIL lines or its last words).
apps_client_check() {
	local log=$1 out=$2 rc=$3
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "client killed by the ${SKT_CMD_TIMEOUT:-120} s timeout: $(skt_tail "$log")"
	elif [ "$rc" -ne 0 ]; then
		echo "client exit $rc: $(grep -m2 FAIL "$log" | tr '\n' '|' || true)$(skt_tail "$log" 2)"
	elif [ -z "$(apps_json_num "$out" bytes)" ]; then
		echo "client printed no summary: $(skt_tail "$log")"
	fi
}
