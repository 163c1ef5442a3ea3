#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Fail-open: whatever goes wrong around skaccel, opted-in programs see plain TCP
# results, and nothing hangs. No helper at all; a helper killed (SIGKILL) in the middle
# of a transfer, then restarted on its pinned maps; a frozen helper (SIGSTOP) that never
# answers; a helper that refuses (--disable); a program not opted in talking to one that
# is, both ways; a helper that answers late, after the shim gave up; and a peer in another network namespace across a veth pair (not local:
# stays on TCP).
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(failopen/no_helper failopen/helper_killed_midrun failopen/helper_restart
       failopen/helper_frozen failopen/helper_late failopen/helper_disabled failopen/opted_server_plain_client
       failopen/plain_server_opted_client failopen/remote_peer)
skt_require "${TESTS[@]}"

MB=$((1024 * 1024))

# xfer NS SERVER_MODE CLIENT_MODE SOCK BYTES [client args...]: one verified tcp_xfer
# exchange (BYTES up, a quarter back). Modes: opted or plain. Sets ERR ("" if fine).
xfer() {
	local ns=$1 smode=$2 cmode=$3 sock=$4 bytes=$5 tag ready spid
	shift 5
	SKT_SEQ=$((SKT_SEQ + 1))
	tag=$SKT_TMP/xfer-$SKT_SEQ
	ready=$tag.ready
	ERR=""
	side "$ns" "$smode" "$sock" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$ready" \
		--conns 1 >"$tag.server" 2>&1 &
	spid=$!
	skt_wait_file "$ready" || { ERR="server did not start: $(skt_tail "$tag.server")"; return; }
	side "$ns" "$cmode" "$sock" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$ready")" \
		--bytes "$bytes" --reply $((bytes / 4)) "$@" >"$tag.client" 2>&1 ||
		ERR="client: $(skt_tail "$tag.client")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$tag.server")"
}

side() {
	local ns=$1 mode=$2 sock=$3
	shift 3
	if [ "$mode" = opted ]; then skt_run_opted "$ns" "$sock" "$@"; else skt_run_plain "$ns" "$@"; fi
}

# A quick mix of the test programs, opted in with the given socket; sets ERR.
scenario_mix() {
	local ns=$1 sock=$2 log=$SKT_TMP/mix-$RANDOM.log
	ERR=""
	for cmd in "xfer_check -s accept_late,partial,sendq_full -n 3" \
		   "xfer_check -s many -c 200" "nb_check -n 3" \
		   "sem_check -s halfclose,rst,epipe,close_eof,blocked_reader -n 2"; do
		# shellcheck disable=SC2086
		if ! skt_run_opted "$ns" "$sock" $TPROGS/$cmd -S 7 >"$log" 2>&1; then
			ERR="$cmd: $(grep -m1 FAIL "$log" || skt_tail "$log")"
			return
		fi
	done
}

skt_netns_new NS || { for t in "${TESTS[@]}"; do skt_fail "$t" "no netns"; done; skt_done; }

# --- no helper: the socket path does not exist ---------------------------------------
t0=$SECONDS
scenario_mix "$NS" "$SKT_TMP/absent/helperd.sock"
[ -z "$ERR" ] && xfer "$NS" opted opted "$SKT_TMP/absent/helperd.sock" $((20 * MB))
if [ -n "$ERR" ]; then
	skt_fail failopen/no_helper "$ERR"
elif [ $((SECONDS - t0)) -gt 60 ]; then
	skt_fail failopen/no_helper "took $((SECONDS - t0)) s: the shim waits for an absent helper"
else
	skt_pass failopen/no_helper
fi

# --- helper killed in the middle of a paced transfer, then restarted --------------------
if ! skt_helper_start; then
	for t in helper_killed_midrun helper_restart helper_frozen helper_late; do
		skt_fail "failopen/$t" "$SKT_WHY"
	done
else
	SOCK=$SKT_SOCK PIN=$SKT_PIN
	ready=$SKT_TMP/killed.ready
	skt_run_opted "$NS" "$SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$ready" \
		--conns 3 --concurrent >"$SKT_TMP/killed.server" 2>&1 &
	spid=$!
	ERR=""
	if ! skt_wait_file "$ready"; then
		ERR="server did not start: $(skt_tail "$SKT_TMP/killed.server")"
	else
		port=$(cut -d' ' -f1 "$ready")
		# Client A: 4 s of paced writes; the helper dies 1.5 s in.
		skt_run_opted "$NS" "$SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$port" \
			--duration 4 --pause-us 2000 --reply $((4 * MB)) >"$SKT_TMP/killed.a" 2>&1 &
		apid=$!
		sleep 1.5
		before=$(skt_stat redir_bytes "$PIN")
		kill -KILL "$SKT_HELPER_PID"
		wait "$SKT_HELPER_PID" 2>/dev/null
		wait "$apid" || ERR="connection open across the kill: $(skt_tail "$SKT_TMP/killed.a")"
		after=$(skt_stat redir_bytes "$PIN")
		skt_info "redirected before the kill: $before, after: $after"
		[ -z "$ERR" ] && [ "$before" -eq 0 ] &&
			ERR="the connection was not accelerated before the kill (nothing to prove)"
		# Client B: a new connection while no helper runs (the socket file is stale).
		if [ -z "$ERR" ]; then
			skt_run_opted "$NS" "$SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$port" \
				--bytes $((20 * MB)) >"$SKT_TMP/killed.b" 2>&1 ||
				ERR="new connection after the kill: $(skt_tail "$SKT_TMP/killed.b")"
		fi
		[ -z "$ERR" ] && scenario_mix "$NS" "$SOCK"
	fi
	if [ -n "$ERR" ]; then skt_fail failopen/helper_killed_midrun "$ERR"; else skt_pass failopen/helper_killed_midrun; fi

	# Restart on the same pins: new connections are accelerated again.
	ERR=""
	if ! skt_helper_start_at "$SOCK" "$PIN"; then
		ERR="restart failed: $SKT_WHY"
	else
		r0=$(skt_stat redir_bytes)
		skt_run_opted "$NS" "$SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "${port:-0}" \
			--bytes $((20 * MB)) >"$SKT_TMP/killed.c" 2>&1 ||
			ERR="connection after the restart: $(skt_tail "$SKT_TMP/killed.c")"
		[ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ] &&
			ERR="a restarted helper (pinned maps reused) accelerated nothing: $(skt_tail "$SKT_HLOG")"
	fi
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(grep -m1 FAIL "$SKT_TMP/killed.server" || skt_tail "$SKT_TMP/killed.server")"
	if [ -n "$ERR" ]; then skt_fail failopen/helper_restart "$ERR"; else skt_pass failopen/helper_restart; fi

	# --- a frozen helper: connects succeed, replies never come ----------------------
	# The shim gives up after SKACCEL_TIMEOUT_MS and the connection behaves as plain TCP.
	# The fd of the request it never read still sits in its socket queue; the shim ends
	# that connection itself at close() (hostile/stall.sh tests that in detail). Here: the
	# data must be right while it is stopped, and everything must be over in bounded time.
	ERR=""
	kill -STOP "$SKT_HELPER_PID"
	t0=$SECONDS
	(xfer "$NS" opted opted "$SOCK" $((10 * MB)) -t 30 && [ -z "$ERR" ] ||
		{ echo "$ERR" >"$SKT_TMP/frozen.err"; exit 1; }) &
	xpid=$!
	sleep 3
	kill -CONT "$SKT_HELPER_PID"
	wait "$xpid" || ERR="once the helper ran again: $(cat "$SKT_TMP/frozen.err" 2>/dev/null)"
	SKT_SEQ=$((SKT_SEQ + 1)) # xfer's own increment happened in the subshell
	[ -z "$ERR" ] && SKT_CMD_TIMEOUT=60 scenario_mix "$NS" "$SOCK"
	if [ -n "$ERR" ]; then
		skt_fail failopen/helper_frozen "$ERR"
	elif [ $((SECONDS - t0)) -gt 90 ]; then
		skt_fail failopen/helper_frozen "took $((SECONDS - t0)) s with a frozen helper"
	else
		skt_pass failopen/helper_frozen
	fi

	# --- a late helper: frozen while connections start, thawed while they stream -------
	# Requests the shim gave up on are still queued; whatever the helper does with them
	# once it runs again must not disturb connections that are mid-stream by then.
	ERR=""
	skt_helper_stop
	if ! skt_helper_start_at "$SOCK" "$PIN"; then
		ERR="restart failed: $SKT_WHY"
	else
		kill -STOP "$SKT_HELPER_PID"
		( sleep 1; kill -CONT "$SKT_HELPER_PID" ) &
		xfer "$NS" opted opted "$SOCK" $((4 * MB)) --duration 3 --pause-us 300 -t 30
		if [ -z "$ERR" ]; then
			kill -STOP "$SKT_HELPER_PID"
			( sleep 0.5; kill -CONT "$SKT_HELPER_PID" ) &
			SKT_CMD_TIMEOUT=60 scenario_mix "$NS" "$SOCK"
		fi
		kill -CONT "$SKT_HELPER_PID"
	fi
	if [ -n "$ERR" ]; then skt_fail failopen/helper_late "$ERR"; else skt_pass failopen/helper_late; fi
	skt_helper_stop
	skt_helper_unpin
fi

# --- a helper that refuses everything ----------------------------------------------------
if ! skt_helper_start --disable; then
	skt_fail failopen/helper_disabled "$SKT_WHY"
else
	r0=$(skt_stat redir_bytes)
	d0=$(skt_stat reg_disabled)
	xfer "$NS" opted opted "$SKT_SOCK" $((20 * MB))
	[ -z "$ERR" ] && scenario_mix "$NS" "$SKT_SOCK"
	if [ -n "$ERR" ]; then
		skt_fail failopen/helper_disabled "$ERR"
	elif [ "$(skt_stat redir_bytes)" -ne "$r0" ]; then
		skt_fail failopen/helper_disabled "a --disable helper redirected $(($(skt_stat redir_bytes) - r0)) bytes"
	elif [ "$(skt_stat reg_disabled)" -eq "$d0" ]; then
		skt_fail failopen/helper_disabled "no registration was refused as disabled (reg_disabled unchanged)"
	else
		skt_pass failopen/helper_disabled
	fi
	skt_helper_stop
	skt_helper_unpin
fi

# --- one end opted in, the other not ---------------------------------------------------
if ! skt_helper_start; then
	skt_fail failopen/opted_server_plain_client "$SKT_WHY"
	skt_fail failopen/plain_server_opted_client "$SKT_WHY"
else
	for pair in "opted plain opted_server_plain_client" "plain opted plain_server_opted_client"; do
		read -r smode cmode tname <<<"$pair"
		set -- "$smode" "$cmode" "$tname"
		r0=$(skt_stat redir_bytes)
		# The opted-in end reaches the helper: registered and waiting, or, a reader due
		# by what it read, told no peer waits (shim/promote.h).
		w0=$(($(skt_stat reg_waiting_peer) + $(skt_stat reg_no_peer)))
		xfer "$NS" "$1" "$2" "$SKT_SOCK" $((30 * MB))
		[ -z "$ERR" ] && xfer "$NS" "$1" "$2" "$SKT_SOCK" $((8 * MB)) --pause-us 500
		if [ -n "$ERR" ]; then
			skt_fail "failopen/$3" "$ERR"
		elif [ "$(skt_stat redir_bytes)" -ne "$r0" ]; then
			skt_fail "failopen/$3" "bytes redirected although one end is not opted in"
		elif [ $(($(skt_stat reg_waiting_peer) + $(skt_stat reg_no_peer))) -eq "$w0" ]; then
			skt_fail "failopen/$3" "the opted-in end never reached the helper (reg_waiting_peer and reg_no_peer unchanged): nothing was tested"
		else
			skt_pass "failopen/$3"
		fi
	done

	# --- a peer in another namespace over a veth pair: not local ---------------------
	ERR=""
	if skt_netns_new NA && skt_netns_new NB &&
		ip -n "$NA" link add skt-a type veth peer name skt-b netns "$NB" &&
		ip -n "$NA" addr add 10.201.0.1/24 dev skt-a && ip -n "$NB" addr add 10.201.0.2/24 dev skt-b &&
		ip -n "$NA" link set skt-a up && ip -n "$NB" link set skt-b up; then
		ready=$SKT_TMP/remote.ready
		r0=$(skt_stat redir_bytes)
		skt_run_opted "$NB" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 10.201.0.2 0 --ready "$ready" \
			>"$SKT_TMP/remote.server" 2>&1 &
		spid=$!
		if skt_wait_file "$ready"; then
			o0=$(skt_outoctets "$NA")
			SKACCEL_DEBUG=1 skt_run_opted "$NA" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 10.201.0.2 \
				"$(cut -d' ' -f1 "$ready")" --bytes $((20 * MB)) >"$SKT_TMP/remote.client" 2>&1 ||
				ERR="client: $(grep -m1 FAIL "$SKT_TMP/remote.client" || skt_tail "$SKT_TMP/remote.client")"
			wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$SKT_TMP/remote.server")"
			out=$(($(skt_outoctets "$NA") - o0))
			skt_info "remote: $(grep -m2 skaccel "$SKT_TMP/remote.client")"
			if [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -ne "$r0" ]; then
				ERR="bytes to a peer in another namespace were redirected"
			elif [ -z "$ERR" ] && [ "$out" -lt $((20 * MB)) ]; then
				ERR="only $out bytes went out through IP for a 20 MB transfer"
			fi
		else
			ERR="server did not start: $(skt_tail "$SKT_TMP/remote.server")"
		fi
	else
		ERR="cannot build the veth pair between two namespaces"
	fi
	if [ -n "$ERR" ]; then skt_fail failopen/remote_peer "$ERR"; else skt_pass failopen/remote_peer; fi
	skt_helper_stop
	skt_helper_unpin
fi

skt_done
