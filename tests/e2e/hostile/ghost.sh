#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Ghost sockets: a registered TCP socket that left its connection without being closed
# (connect(fd, {AF_UNSPEC}), an RST received, or a disconnect and a new connect() on the
# same fd) stays in the sockhash until its last close. Two users, the real helper and
# skaccel-run on every opted-in side (tests/hostile/ghost.py plays each role):
#
#   server_side_ghost      nobody opts in a listener on P, accepts a plain client from port X,
#                          disconnects that end and keeps it; then root's opted-in server
#                          listens on P and root's opted-in client connects from X
#   published_ghost_past_budget
#                          server_side_ghost where the victim streams more than twice the
#                          blind budget and the ghost, once paired, sends (on its CLOSE
#                          socket) so that its program runs and publishes it
#   client_side_race       root's opted-in server on P is slow to accept; nobody's opted-in
#                          client from X registers and disconnects before the server's end
#                          registers; then root's plain client connects from X
#   reconnect_inject       nobody's opted-in client is paired with root's opted-in server,
#                          disconnects and connects the same fd to a listener of its own,
#                          and sends; root's server keeps its reset socket, reads it and
#                          writes to it again
#   ghost_survives_restart server_side_ghost with the helper SIGKILLed and restarted on the
#                          same pin directory between the ghost and the victim
#   pool_after_rst         no attacker: nobody's opted-in connection pool keeps a socket
#                          its (plain) upstream reset; then root's opted-in server listens
#                          on the same port and root's plain client connects from X
#
# Each verdict asserts: no byte of the victim's stream reaches the ghost (or, for
# reconnect_inject, no byte crosses between the attacker's new connection and the victim's
# old socket); the victim's true peer gets every byte exactly, in order, within a bounded
# time (accelerated or on TCP, either way); and, where the victim's connection never had
# the ghost as its peer, the helper's socket table (--stats --json) does not show a
# socket of the victim paired with the ghost.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile_ghost/server_side_ghost hostile_ghost/published_ghost_past_budget
       hostile_ghost/client_side_race hostile_ghost/reconnect_inject
       hostile_ghost/pool_after_rst hostile_ghost/ghost_survives_restart
       hostile_ghost/refusal_logged)
hs_require "${TESTS[@]}"
NOBODY=$(id -u nobody 2>/dev/null) || { for t in "${TESTS[@]}"; do skt_skip "$t" "no user nobody"; done; exit 0; }
NOGROUP=$(id -g nobody)

# What nobody runs (ghost.py, skaccel-run, the library), staged where it can read it; root
# runs the same copies.
if ! skt_helper_start || ! skt_stage_for_others --python; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
SOCK=$SKT_SOCK PIN=$SKT_PIN
PY=$SKT_OTHER_PY GHOST=$SKT_OTHER_HOSTILE/ghost.py RUN=$SKT_OTHER_RUN LIB=$SKT_OTHER_LIB

# role WHO opt|plain NAME ARGS...: ghost.py ARGS in $NS as root or nobody, under
# skaccel-run or not, in the background, bounded; its output goes to $D/NAME.out. root,
# the victim, runs with the defaults users get. nobody, who makes the ghost, registers
# every connection at once (SKACCEL_PROMOTE_AFTER=0): an attacker chooses its own
# settings, and a ghost that never carried data is registered only that way.
role() {
	local who=$1 how=$2 name=$3 cmd
	shift 3
	cmd=("$PY" "$GHOST" "$@" --dir "$D")
	[ "$how" = opt ] && cmd=("$RUN" -q -s "$SOCK" -l "$LIB" "${cmd[@]}")
	[ "$how" = opt ] && [ "$who" = nobody ] && cmd=(env SKACCEL_PROMOTE_AFTER=0 "${cmd[@]}")
	cmd=(timeout -k 2 40 "${cmd[@]}")
	[ "$who" = nobody ] && cmd=(setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "${cmd[@]}")
	ip netns exec "$NS" "${cmd[@]}" >"$D/$name.out" 2>"$D/$name.err" &
	PIDS+=($!)
}

# val NAME KEY: the last KEY=value line ghost.py printed in role NAME.
val() { sed -n "s/^$2=//p" "$D/$1.out" 2>/dev/null | tail -n 1; }

# wait_for FILE [seconds]: a role's progress file in $D; a missing one is a setup error.
wait_for() {
	skt_wait_file "$D/$1" $((${2:-15} * 10)) && return 0
	ERR="${ERR:+$ERR; }no $1 within ${2:-15} s"
	return 1
}

# begin NAME: a fresh namespace and directory for one case.
begin() {
	ERR="" PIDS=()
	D=$SKT_TMP/u/$1
	mkdir -p "$D" && chown "$NOBODY:$NOGROUP" "$SKT_TMP/u" "$D"
	skt_netns_new NS || ERR="cannot create a netns"
}

# finish: let every role go, wait for them, and add what their stderr says to the log.
finish() {
	local p f
	touch "$D/stop"
	for p in "${PIDS[@]}"; do wait "$p"; done
	for f in "$D"/*.err; do
		[ -s "$f" ] && skt_info "$(basename "$f"): $(skt_tail "$f" 5)"
		skt_info "$(basename "${f%.err}.out"): $(skt_tail "${f%.err}.out" 20)"
	done
	return 0
}

# stats_check COOKIE: the helper's socket table now; no socket of another user than nobody
# may have the attacker's socket COOKIE as its peer.
stats_check() {
	local e
	[ -n "$1" ] || return 0
	skt_stats_json "$PIN" >"$D/stats.json"
	e=$("$PY" "$GHOST" check-stats --stats "$D/stats.json" --attacker-uid "$NOBODY" \
		--cookie "$1" | sed -n 's/^stats_errs=//p')
	[ -n "$e" ] && ERR="${ERR:+$ERR; }helper table: $e"
	return 0
}

# judge_leak ROLE WHAT: ROLE's socket (the ghost) must have received nothing.
judge_leak() {
	local n
	n=$(val "$1" "${1}_bytes")
	if [ -z "$n" ]; then
		ERR="${ERR:+$ERR; }$1 reported nothing: $(skt_tail "$D/$1.err")"
	elif [ "$n" -ne 0 ]; then
		ERR="${ERR:+$ERR; }$2 received $n bytes of the victim's stream: $(val "$1" "${1}_head")"
	fi
}

# judge_ok ROLE KEY WHAT: ROLE's check KEY passed (every byte, in order).
judge_ok() {
	local ok why
	ok=$(val "$1" "${2}_ok")
	[ "$ok" = 1 ] && return 0
	why=$(val "$1" "${2}_why")
	[ -z "$ok" ] && why="no result: $(skt_tail "$D/$1.err")"
	ERR="${ERR:+$ERR; }$3 $why"
}

# judge_ghost ROLE: the setup worked (the attacker's socket is in CLOSE, its fd kept).
judge_ghost() {
	local s
	s=$(val "$1" ghost_state)
	[ "$s" = 7 ] || ERR="${ERR:+$ERR; }setup: the ghost is in TCP state '${s:-?}', not CLOSE: $(skt_tail "$D/$1.err")"
}

# --- server-side ghost (and the same across a helper restart) -------------------------------

# server_side TEST PORT X KEY RESTART REQUEST_BYTES PAUSE_MS [GHOST_ARGS...]
server_side() {
	local t=$1 p=$2 x=$3 key=$4 restart=$5 req=$6 pause=$7 cookie
	shift 7
	begin "${t##*/}"
	if [ -z "$ERR" ]; then
		role nobody opt ghost ghost-listener --port "$p" "$@"
		wait_for listener.ready
		role nobody plain plain plain-client --port "$p" --src-port "$x"
		wait_for ghost.ready && wait_for plain.closed
		judge_ghost ghost
		cookie=$(val ghost ghost_cookie)
		if [ "$restart" = 1 ]; then
			kill -KILL "$SKT_HELPER_PID"
			wait "$SKT_HELPER_PID" 2>/dev/null
			skt_helper_start_at "$SOCK" "$PIN" || ERR="${ERR:+$ERR; }restart: $SKT_WHY"
		fi
		# A busy server: its end registers after the client's (the other order is a race
		# the attacker need not win: it can retry).
		role root opt server victim-server --port "$p" --key "$key" --gate client.sent \
			--req "$req"
		wait_for server.ready
		role root opt client victim-client --port "$p" --src-port "$x" --key "$key" --req "$req" \
			--pause-ms "$pause"
		wait_for client.done
		stats_check "$cookie"
		finish
		judge_leak ghost "nobody's ghost"
		judge_ok server server_req "root's server (the true peer) got"
		judge_ok client client_reply "root's client got"
	fi
	skt_verdict "$t" "$ERR"
}

# 320 KiB: more than the 256 KiB after which the victim's ends are registered (lazy
# promotion, shim/promote.h), so that the victim's client meets the ghost at the helper.
server_side hostile_ghost/server_side_ghost 7601 7602 11 0 327680 0

# The helper says that it found a waiting end that is not the victim's other end: when the
# victim registers, or before, when its sweep re-checks the waiting ends (every second).
if grep -q "Did not pair cookie [0-9]* with waiting cookie [0-9]*: peer \(left its connection\|not established\)\|waiting sockets left their connection without closing" "$SKT_HLOG"; then
	skt_pass hostile_ghost/refusal_logged
else
	skt_fail hostile_ghost/refusal_logged "no 'Did not pair' line in the helper's log: $(skt_tail "$SKT_HLOG")"
fi

# The same, but the victim streams 9 MiB (64 KiB writes, 3 ms apart: more than twice the
# 4 MiB that early builds redirected "blind" before a peer's programs had run) and the
# ghost makes itself known (it sends, so its own program runs) once the first byte reached
# it.
server_side hostile_ghost/published_ghost_past_budget 7651 7652 61 0 $((9 * 1048576)) 3 \
	--publish

# --- client-side race against a running server ------------------------------------------------
begin client_side_race
if [ -z "$ERR" ]; then
	role root opt server victim-server --port 7611 --key 21 --gate go --attempts 3
	wait_for server.ready
	role nobody opt ghost ghost-client --port 7611 --src-port 7612
	wait_for ghost.ready
	judge_ghost ghost
	role root plain client victim-client --port 7611 --src-port 7612 --key 21
	wait_for client.sent
	touch "$D/go"
	wait_for client.done
	stats_check "$(val ghost ghost_cookie)"
	finish
	judge_leak ghost "nobody's ghost"
	judge_ok server server_req "root's server got"
	judge_ok client client_reply "root's client (the true peer) got"
fi
skt_verdict hostile_ghost/client_side_race "$ERR"

# --- reconnect and inject -----------------------------------------------------------------------
begin reconnect_inject
if [ -z "$ERR" ]; then
	role root opt server victim-server --port 7621 --key 31 --after-reset
	wait_for server.ready
	role nobody plain sink sink --port 7623 --key 31 --bytes 65536
	role nobody opt ghost reconnector --port 7621 --src-port 7622 --port2 7623 --key 31 \
		--inject 65536
	wait_for secret.sent 20
	sleep 0.5
	finish
	judge_ghost ghost
	judge_ok ghost first_reply "setup: the honest exchange before the disconnect"
	judge_ok server server_req "setup: the honest exchange before the disconnect"
	n=$(val server server_extra_bytes)
	[ "${n:-0}" -ne 0 ] &&
		ERR="${ERR:+$ERR; }root's reset socket received $n bytes nobody sent on its new connection: $(val server server_extra_head)"
	judge_ok sink sink "nobody's new peer (its true peer after the reconnect) got"
	judge_leak ghost "nobody's reconnected fd"
fi
skt_verdict hostile_ghost/reconnect_inject "$ERR"

# --- a connection pool keeps a socket its upstream reset ---------------------------------------
begin pool_after_rst
if [ -z "$ERR" ]; then
	role nobody plain abort abort-server --port 7641
	wait_for abort.ready
	role nobody opt pool pool-client --port 7641 --src-port 7642
	wait_for pool.ready && wait_for abort.done
	s=$(val pool pool_state)
	[ "$s" = 7 ] || ERR="setup: the pooled socket is in TCP state '${s:-?}' ($(val pool pool_end)), not CLOSE"
	role root opt server victim-server --port 7641 --key 51
	wait_for server.ready
	role root plain client victim-client --port 7641 --src-port 7642 --key 51
	wait_for client.done
	stats_check "$(val pool pool_cookie)"
	finish
	judge_leak pool "nobody's pooled socket"
	judge_ok server server_req "root's server got"
	judge_ok client client_reply "root's client (the true peer) got"
fi
skt_verdict hostile_ghost/pool_after_rst "$ERR"

# Last: it restarts the helper.
server_side hostile_ghost/ghost_survives_restart 7631 7632 41 1 327680 0

skt_helper_stop
skt_helper_unpin "$PIN"
skt_done
