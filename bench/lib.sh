# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# Shell helpers shared by bench/run.sh and examples/demo.sh: a private skaccel-helperd,
# example servers started plain or under skaccel-run, one client measurement, cleanup.
# Sourced, not run. Callers set -euo pipefail, call sk_init, and trap sk_cleanup on EXIT.

# shellcheck source=scripts/lib/helper.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/helper.sh"

# sk_init NAME: paths for one run. The helper gets its own socket and pin directory, so
# the demo and the benchmark never touch a system-wide helper or each other's maps.
sk_init() {
	local name=$1

	SK_BUILD=${BUILD:-build}
	SK_HELPERD=$SK_BUILD/skaccel-helperd
	SK_RUN=$SK_BUILD/skaccel-run
	SK_SERVER=$SK_BUILD/examples/tcp_echo_server
	SK_CLIENT=$SK_BUILD/examples/tcp_bench_client
	SK_SOCK_DIR=/run/skaccel-$name
	SK_SOCK=$SK_SOCK_DIR/helperd.sock
	SK_PIN_DIR=/sys/fs/bpf/skaccel-$name
	SK_WORK=$(mktemp -d "/tmp/skaccel-$name.XXXXXX")
	SK_HELPER_PID=
	SK_SERVER_PID=
	SK_SERVER_PORT=
	SK_HELPER_LOG=$SK_WORK/helperd.log
	SK_SERVER_LOG=$SK_WORK/servers.log
}

sk_die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# sk_check_setup: root, binaries, bpffs. Fails with what to do about it.
sk_check_setup() {
	local f

	[ "$(id -u)" -eq 0 ] || sk_die "Failed to start: needs root (BPF maps, the helper)"
	for f in "$SK_HELPERD" "$SK_RUN" "$SK_BUILD/libskaccel.so" "$SK_SERVER" "$SK_CLIENT"; do
		[ -x "$f" ] || [ -f "$f" ] || sk_die "Failed to find $f: run 'make' first"
	done
	command -v taskset >/dev/null || sk_die "Failed to find taskset (util-linux)"
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || sk_die "Failed to mount bpffs at /sys/fs/bpf"
	fi
}

# sk_start_helper CPU: a private helper, waited for until its socket accepts connections.
sk_start_helper() {
	local cpu=$1

	# A previous run killed with SIGKILL leaves its pins behind: start from a clean slate.
	"$SK_HELPERD" --unpin --pin-dir "$SK_PIN_DIR" >/dev/null 2>&1 || true
	rm -rf "$SK_SOCK_DIR"
	mkdir -p "$SK_SOCK_DIR"
	chmod 0755 "$SK_SOCK_DIR"
	# SK_HELPER_OPTS: more options, split at spaces (bench/run.sh: --cross-netns=on).
	# shellcheck disable=SC2086
	helper_spawn "$SK_HELPER_LOG" taskset -c "$cpu" "$SK_HELPERD" --socket "$SK_SOCK" \
		--pin-dir "$SK_PIN_DIR" ${SK_HELPER_OPTS:-}
	SK_HELPER_PID=$HELPER_PID
	helper_wait_ready "$SK_HELPER_PID" "$SK_SOCK" "$SK_HELPER_LOG" && return 0
	helper_alive "$SK_HELPER_PID" || SK_HELPER_PID=
	tail -n 20 "$SK_HELPER_LOG" >&2
	sk_die "Failed to start skaccel-helperd: $HELPER_WHY (log above)"
}

# sk_pin CPULIST: the command prefix that runs a program on CPULIST; "all" runs it where the
# scheduler likes, as users do.
sk_pin() {
	[ "$1" = all ] || printf '%s\0' taskset -c "$1"
}

# sk_helper_cpus CPULIST: move the running helper (every thread) to CPULIST ("all": every
# online CPU), so that unpinned measurements see a helper the scheduler places.
sk_helper_cpus() {
	local cpus=$1

	[ "$cpus" = all ] && cpus=0-$(($(nproc) - 1))
	taskset -a -p -c "$cpus" "$SK_HELPER_PID" >/dev/null
}

# sk_kill PID: SIGTERM, wait up to 3 s, then SIGKILL. Only ever our own children.
sk_kill() {
	local pid=$1 i

	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# sk_start_server tcp|skaccel CPULIST MODE: sets SK_SERVER_PID and SK_SERVER_PORT.
sk_start_server() {
	local variant=$1 cpus=$2 mode=$3 ready i
	local -a wrap=() pin

	mapfile -d '' -t pin < <(sk_pin "$cpus")
	ready=$SK_WORK/server.port
	rm -f "$ready"
	if [ "$variant" = skaccel ]; then
		wrap=("$SK_RUN" --socket "$SK_SOCK")
	fi
	"${pin[@]}" "${wrap[@]}" "$SK_SERVER" -p 0 --mode "$mode" --ready-file "$ready" \
		>/dev/null 2>>"$SK_SERVER_LOG" &
	SK_SERVER_PID=$!
	for ((i = 0; i < 100; i++)); do
		if [ -s "$ready" ]; then
			SK_SERVER_PORT=$(<"$ready")
			return 0
		fi
		kill -0 "$SK_SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	tail -n 20 "$SK_SERVER_LOG" >&2
	sk_die "Failed to start tcp_echo_server ($variant, $mode)"
}

sk_stop_server() {
	sk_kill "$SK_SERVER_PID"
	SK_SERVER_PID=
}

# sk_client tcp|skaccel CPULIST OUTFILE CLIENT-ARGS...: one measurement, key=value to OUTFILE.
sk_client() {
	local variant=$1 cpus=$2 out=$3
	local -a wrap=() pin

	shift 3
	mapfile -d '' -t pin < <(sk_pin "$cpus")
	if [ "$variant" = skaccel ]; then
		wrap=("$SK_RUN" --socket "$SK_SOCK")
	fi
	if ! "${pin[@]}" "${wrap[@]}" "$SK_CLIENT" -H 127.0.0.1 -p "$SK_SERVER_PORT" "$@" \
		>"$out" 2>"$out.err"; then
		cat "$out.err" >&2
		sk_die "Failed to measure: tcp_bench_client $* ($variant)"
	fi
	if [ -s "$out.err" ]; then
		sed "s/^/  ($variant) /" "$out.err" >&2
	fi
}

# sk_kv FILE KEY: the value of KEY in a key=value file.
sk_kv() {
	awk -F= -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}

# sk_snapshot FILE: the helper's counters (skaccel-helperd --stats --json) into FILE. If
# --stats is not available, the data-path counters are read from the pinned map instead.
sk_snapshot() {
	local f=$1 name

	if "$SK_HELPERD" --stats --json --pin-dir "$SK_PIN_DIR" >"$f" 2>/dev/null; then
		return 0
	fi
	{
		echo "{"
		for name in "${!SK_CNT_INDEX[@]}"; do
			echo "\"$name\": $(sk_counter_bpftool "$name"),"
		done
		echo "}"
	} >"$f"
}

# sk_get FILE KEY: one number from a sk_snapshot file (0 if absent). The leading quote in the
# pattern keeps "redir_bytes" from matching a per-socket "tx_redir_bytes".
sk_get() {
	local v

	v=$(tr -d ' \n' <"$1" | grep -o "\"$2\":[0-9]*" | head -n1 | cut -d: -f2) || true
	echo "${v:-0}"
}

# sk_counter NAME: one of the helper's counters now.
sk_counter() {
	local f=$SK_WORK/snapshot.now

	sk_snapshot "$f"
	sk_get "$f" "$1"
}

# sk_settle: wait (at most 10 s) until the helper has swept every closed socket. Its
# per-user quota counts registered sockets until its periodic sweep notices they closed,
# so without this a connection-rate run would get the next measurement's sockets refused.
sk_settle() {
	local f=$SK_WORK/snapshot.settle i

	for ((i = 0; i < 100; i++)); do
		sk_snapshot "$f"
		[ "$(sk_get "$f" sockets_closed_unswept)" -eq 0 ] && return 0
		sleep 0.1
	done
	echo "${0##*/}: warning: the helper still has closed sockets to sweep after 10 s" >&2
}

# Index of each data-path counter in the skaccel_cnt per-CPU array (enum skaccel_counter).
declare -A SK_CNT_INDEX=([redir_bytes]=1 [redir_msgs]=2 [tcp_bytes]=3 [tcp_msgs]=4
	[fb_backlog]=9)

sk_counter_bpftool() {
	local idx=${SK_CNT_INDEX[$1]:-}

	[ -n "$idx" ] || return 1
	command -v bpftool >/dev/null || return 1
	# Formatted (BTF) output: "values": [{"cpu": 0, "value": N}, ...]; sum the values.
	bpftool -j map lookup pinned "$SK_PIN_DIR/skaccel_cnt" key "$idx" 0 0 0 2>/dev/null |
		grep -o '"value":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'
}

# sk_stats: the helper's counters for people, bpftool's dump if --stats is not there.
sk_stats() {
	if ! "$SK_HELPERD" --stats --pin-dir "$SK_PIN_DIR" 2>/dev/null; then
		echo "(skaccel-helperd --stats not available; pinned counters via bpftool)"
		bpftool map dump pinned "$SK_PIN_DIR/skaccel_cnt" 2>&1 | head -n 60 || true
	fi
}

# sk_cleanup: everything this run started or created, safe to call twice.
sk_cleanup() {
	sk_stop_server
	if [ -n "${SK_HELPER_PID:-}" ]; then
		sk_kill "$SK_HELPER_PID"
		SK_HELPER_PID=
	fi
	if [ -n "${SK_PIN_DIR:-}" ] && [ -e "$SK_PIN_DIR" ]; then
		"$SK_HELPERD" --unpin --pin-dir "$SK_PIN_DIR" >/dev/null 2>&1 || true
		# Our private pin dir only: a helper without --unpin must not leave maps behind.
		rm -rf "$SK_PIN_DIR"
	fi
	[ -n "${SK_SOCK_DIR:-}" ] && rm -rf "$SK_SOCK_DIR"
	[ -n "${SK_WORK:-}" ] && rm -rf "$SK_WORK"
	return 0
}
