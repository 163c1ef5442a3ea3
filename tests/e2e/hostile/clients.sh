#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper never blocks on a client (SECURITY.md), against a private helper started with
# --max-clients 1024 explicitly. What happens at each bound:
#
#   silent clients below the bound   kept (there is no idle timeout); others are served
#                                    as usual: PING and a real registration stay fast
#   clients beyond --max-clients     accepted and closed at once: the client reads EOF
#                                    (the shim stays on TCP without waiting); none hangs;
#                                    the helper holds at most max-clients client fds; the
#                                    "too many clients" log line is rate-limited
#   a client that never reads        cut off once its unread replies fill the helper's
#                                    send buffer for it (HELPERD_CLIENT_SNDBUF: 16 KiB,
#                                    about 22 replies); the helper never waits for it
#   a client flooding requests       served one message per wake-up, round-robin with
#                                    everyone else: another client's PING and registration
#                                    stay fast
#
# That silent clients AT the bound lock every other user out is a known gap, in
# tests/e2e/hostile/user_lockout.sh.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

MAXC=1024
TESTS=(hostile_clients/silent_clients_below_bound hostile_clients/over_max_clients_closed_at_once
       hostile_clients/fds_bounded_at_max_clients hostile_clients/opted_connection_failopen_when_full
       hostile_clients/served_again_after_the_crowd_leaves hostile_clients/noread_client_dropped
       hostile_clients/noread_does_not_block_others hostile_clients/ping_flood_does_not_starve_others
       hostile_clients/register_flood_does_not_starve_others hostile_clients/accept_log_rate_limited
       hostile_clients/helper_survived)
hs_require "${TESTS[@]}"

skt_netns_new NS || { for t in "${TESTS[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start --max-clients $MAXC; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
FD0=$(hs_fd_count "$SKT_HELPER_PID")
T0=$SECONDS

# hold N READY SECONDS [--ping]: N clients in the background; waits until they are in.
hold() {
	local n=$1 ready=$2 secs=$3
	shift 3
	rm -f "$ready"
	hs_py_bg "$NS" hold --socket "$SKT_SOCK" --count "$n" --ready "$ready" --hold "$secs" "$@" \
		>/dev/null 2>"$ready.err"
	HOLD_PID=$HS_BG_PID
	skt_wait_file "$ready" 300 || { ERR="hold: $(skt_tail "$ready.err")"; return 1; }
	HOLD_LINE=$(cat "$ready")
	skt_info "$HOLD_LINE"
}
field() { echo "$HOLD_LINE" | grep -o "$1=[0-9]*" | cut -d= -f2; }

# --- 1000 silent clients, below the bound ---------------------------------------------------
ERR=""
if hold 1000 "$SKT_TMP/silent.ready" 30; then
	[ "$(field open)" = 1000 ] || ERR="silent clients below the bound were closed: $HOLD_LINE"
	if [ -z "$ERR" ]; then
		hs_verdicts hostile_clients/silent_clients_below_bound \
			hs_py "$NS" probe --socket "$SKT_SOCK" --name hostile_clients/silent_clients_below_bound \
			--pings 50 --register --max-ms 200
	fi
fi
[ -n "$ERR" ] && skt_fail hostile_clients/silent_clients_below_bound "$ERR"
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null

# --- 2000 clients at once, each sends a PING: 1024 answered, the rest closed, none hangs ----
sleep 0.5
ERR=""
ERR1=""
if hold 2000 "$SKT_TMP/crowd-ping.ready" 0 --ping; then
	if [ "$(field no_answer)" != 0 ]; then
		ERR1="$(field no_answer) clients got neither an answer nor EOF within 5 s: $HOLD_LINE"
	elif [ "$(field pong)" -gt $MAXC ] || [ "$(field pong)" -lt $((MAXC - 8)) ]; then
		ERR1="expected about $MAXC answered clients: $HOLD_LINE"
	elif [ $(($(field pong) + $(field closed_by_helper))) -ne 2000 ]; then
		ERR1="answered + closed is not 2000: $HOLD_LINE"
	fi
else
	ERR1=$ERR
fi
wait "$HOLD_PID" 2>/dev/null

# --- 2000 silent clients: the helper is full for a few seconds -----------------------------
sleep 0.5
ERR="" ERR2="" ERR3=""
if hold 2000 "$SKT_TMP/crowd.ready" 8; then
	[ "$(field open)" -eq $MAXC ] && [ "$(field closed_by_helper)" -eq $((2000 - MAXC)) ] ||
		ERR1="${ERR1:+$ERR1; }silent crowd: expected $MAXC kept and $((2000 - MAXC)) closed: $HOLD_LINE"
	fds=$(hs_fd_count "$SKT_HELPER_PID")
	[ "$fds" -le $((FD0 + MAXC)) ] ||
		ERR2="the helper holds $fds fds with $MAXC clients (baseline $FD0)"
	# A program opted in now: the shim reads EOF at once and stays on plain TCP.
	skt_xfer_pair "$NS" "$SKT_SOCK" $((4 * 1024 * 1024)) full
	ERR3=$ERR
	[ -z "$ERR3" ] && awk -v s="$XFER_SECS" 'BEGIN { exit !(s > 5) }' &&
		ERR3="an opted-in 4 MiB exchange took $XFER_SECS s while the helper was full"
	skt_info "opted-in exchange while full: $XFER_SECS s"
else
	ERR1="${ERR1:+$ERR1; }$ERR" ERR2="$ERR" ERR3="$ERR"
fi
skt_verdict hostile_clients/over_max_clients_closed_at_once "$ERR1"
skt_verdict hostile_clients/fds_bounded_at_max_clients "$ERR2"
skt_verdict hostile_clients/opted_connection_failopen_when_full "$ERR3"
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null

# The crowd is gone: slots are free again within a second.
sleep 1
hs_verdicts hostile_clients/served_again_after_the_crowd_leaves \
	hs_py "$NS" probe --socket "$SKT_SOCK" --name hostile_clients/served_again_after_the_crowd_leaves \
	--pings 20 --register --max-ms 200

# --- clients that never read their replies ------------------------------------------------
# At most 32 replies pinned for it: the small send buffer, not net.core.wmem_default.
hs_verdicts hostile_clients/noread_client_dropped \
	hs_py "$NS" noread --socket "$SKT_SOCK" --name hostile_clients/noread_client_dropped \
	--max-replies 32
(
	for _ in $(seq 30); do
		hs_py "$NS" noread --socket "$SKT_SOCK" --name x --max-replies 100000 >/dev/null 2>&1
	done
) &
bg=$!
hs_verdicts hostile_clients/noread_does_not_block_others \
	hs_py "$NS" probe --socket "$SKT_SOCK" --name hostile_clients/noread_does_not_block_others \
	--pings 200 --interval-ms 5 --register --max-ms 100
wait $bg

# --- floods: one client pipelining PINGs, another pipelining refused REGISTERs -----------
hs_py_bg "$NS" flood --socket "$SKT_SOCK" --seconds 3 --window 8 --kind ping \
	>"$SKT_TMP/flood-ping.out" 2>&1
flood_ping=$HS_BG_PID
hs_py_bg "$NS" flood --socket "$SKT_SOCK" --seconds 3 --window 8 --kind register-pipe \
	>"$SKT_TMP/flood-register-pipe.out" 2>&1
flood_register_pipe=$HS_BG_PID
sleep 0.5
hs_verdicts hostile_clients/ping_flood_does_not_starve_others \
	hs_py "$NS" probe --socket "$SKT_SOCK" --name hostile_clients/ping_flood_does_not_starve_others \
	--pings 300 --interval-ms 5 --max-ms 100
hs_verdicts hostile_clients/register_flood_does_not_starve_others \
	hs_py "$NS" probe --socket "$SKT_SOCK" --name hostile_clients/register_flood_does_not_starve_others \
	--pings 5 --register --max-ms 100
wait "$flood_ping" || skt_fail hostile_clients/ping_flood_does_not_starve_others \
	"the flooding client itself was not served: $(skt_tail "$SKT_TMP/flood-ping.out")"
wait "$flood_register_pipe" || skt_fail hostile_clients/register_flood_does_not_starve_others \
	"the flooding client itself was not served: $(skt_tail "$SKT_TMP/flood-register-pipe.out")"
skt_info "$(cat "$SKT_TMP"/flood-*.out)"

# --- the helper's log stays bounded: "too many clients" at most 3 lines per 10 s ---------
n=$(grep -c "too many clients" "$SKT_HLOG")
limit=$((3 * ((SECONDS - T0) / 10 + 1)))
ERR=""
[ "$n" -le "$limit" ] || ERR="$n 'too many clients' lines in $((SECONDS - T0)) s (limit $limit)"
[ "$n" -ge 1 ] || ERR="no 'too many clients' line at all: the bound was never logged"
skt_verdict hostile_clients/accept_log_rate_limited "$ERR"

hs_helper_alive hostile_clients/helper_survived

skt_helper_stop
skt_helper_unpin
skt_done
