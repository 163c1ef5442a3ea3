#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's fds under a flood. One client as unprivileged as nobody first hands the
# helper one TCP socket whose last close lingers (SO_LINGER {1, 3600}, unsent data its peer
# never reads; the client closes its own copy), then about 1,100 REGISTER requests, each
# with a /dev/null fd, as fast as the helper takes them. A helper whose single closer
# thread waits in that lingering close for good holds every later fd in its queue, runs
# out of its fd limit, and then fails every user's registrations. Here the helper's fd
# count must stay within a small bound of its count before (the closes one client may
# owe, helperd/closer.h, plus the connections in play) during and after the flood,
# another user's opted-in connection must be accelerated with its bytes intact meanwhile,
# the helper must live and answer, and once the attacker leaves its fds must return to
# where they were. The same with a flood of lingering sockets alone (no FUSE needed).
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(
	hostile_fdflood/null_fds_bounded hostile_fdflood/null_other_user_served
	hostile_fdflood/null_fds_return hostile_fdflood/null_helper_alive
	hostile_fdflood/lingering_fds_bounded hostile_fdflood/lingering_other_user_served
	hostile_fdflood/lingering_fds_return hostile_fdflood/lingering_helper_alive
)
hs_require "${TESTS[@]}"
skt_netns_new NS || { for t in "${TESTS[@]}"; do skt_fail "$t" "no netns"; done; skt_done; }
if ! skt_helper_start || ! skt_stage_for_others --python; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

# HELPERD_CLOSER_PER_CLIENT (16) closes owed by the attacker, plus the connections in play
# (attacker, prober, skaccel-run's) and fds in flight in one request: a generous margin
# that is still far below the 1,100 fds a stuck closer used to hold.
BOUND=48

# sample PIDFILE OUT: the helper's fd count every 10 ms, the highest in OUT, until PIDFILE
# is gone.
sample() {
	local max=0 n
	while [ -e "$1" ]; do
		n=$(hs_fd_count "$SKT_HELPER_PID")
		[ "$n" -gt "$max" ] && max=$n && echo "$max" >"$2"
		sleep 0.01
	done
}

# attack NAME ATTACKER-ARGS...: one round; four verdicts NAME_{fds_bounded,other_user_served,
# fds_return,helper_alive}.
attack() {
	local name=$1 base ready run=$SKT_TMP/$1.sampling max=0 apid spid n err _
	shift
	base=$(hs_fd_count "$SKT_HELPER_PID")
	echo "$base" >"$SKT_TMP/$name.max"
	touch "$run"
	sample "$run" "$SKT_TMP/$name.max" &
	spid=$!
	hs_py_nobody "$NS" fdflood --socket "$SKT_SOCK" "$@" >"$SKT_TMP/$name.out" 2>&1 &
	apid=$!
	# While it floods and then holds its lingering sockets: another user registers a pair
	# (accelerated, 1000 bytes checked) and runs an opted-in exchange (every byte checked).
	err=$(hs_py "$NS" probe --socket "$SKT_SOCK" --name x --pings 5 --register --max-ms 1000 2>&1 |
		grep FAIL)
	for _ in $(seq 600); do grep -q '^fdflood:' "$SKT_TMP/$name.out" && break; sleep 0.1; done
	skt_xfer_pair "$NS" "$SKT_SOCK" 1000000 "$name"
	skt_verdict "hostile_fdflood/${name}_other_user_served" "${err:+$err; }$ERR"
	wait "$apid"
	rm -f "$run"
	wait "$spid"
	# What the helper said about the attacker, for the log.
	grep -E "uid 65534" "$SKT_HLOG" | grep -v Registered | tail -4 >&2
	max=$(cat "$SKT_TMP/$name.max")
	echo "$name: $(cat "$SKT_TMP/$name.out"); helper fds $base before, $max at most" >&2
	ready=$(grep '^fdflood:' "$SKT_TMP/$name.out")
	if [ -z "$ready" ]; then
		skt_fail "hostile_fdflood/${name}_fds_bounded" "the attacker did not finish: $(skt_tail "$SKT_TMP/$name.out")"
	else
		skt_verdict "hostile_fdflood/${name}_fds_bounded" "$([ "$max" -le $((base + BOUND)) ] ||
			echo "the helper held $max fds, $base before the flood (bound $((base + BOUND))): $ready")"
	fi
	# The attacker has left: whatever it made us hold is closed within seconds.
	for _ in $(seq 100); do
		n=$(hs_fd_count "$SKT_HELPER_PID")
		[ "$n" -le "$base" ] && break
		sleep 0.1
	done
	skt_verdict "hostile_fdflood/${name}_fds_return" "$([ "$n" -le "$base" ] ||
		echo "$n fds 10 s after the attacker left, $base before")"
	err=""
	if ! kill -0 "$SKT_HELPER_PID" 2>/dev/null; then
		err="the helper died: $(skt_tail "$SKT_HLOG" 5)"
	elif grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation' "$SKT_HLOG"; then
		err="crash report in the helper log: $(grep -m1 -E 'Sanitizer|runtime error|Segmentation' "$SKT_HLOG")"
	else
		err=$(hs_py "$NS" probe --socket "$SKT_SOCK" --name x --pings 3 --register --max-ms 1000 2>&1 |
			grep FAIL)
	fi
	skt_verdict "hostile_fdflood/${name}_helper_alive" "$err"
}

# Exactly the attack of the report: one lingering close, then 1,100 /dev/null fds.
attack null --lingering 1 --count 1100 --hold 3
# Lingering sockets alone: each close waits until the watchdog cuts it short.
attack lingering --lingering 300 --count 0 --hold 2

skt_helper_stop
skt_helper_unpin
skt_done
