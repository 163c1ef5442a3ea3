#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Restarts and uninstall (SECURITY.md; docs/KERNEL-NOTES.md §5.7):
#
#   sigkill_midtransfer_intact    SIGKILL the helper while an accelerated, checksummed
#                                 transfer runs (tcp_xfer verifies every byte both ways):
#                                 it completes intact, and keeps being redirected while no
#                                 helper runs (redir_bytes, read from the pinned maps, grows)
#   new_connection_while_down_plain_tcp
#                                 a connection made while the helper is down works, at once,
#                                 on plain TCP (its namespace's IP OutOctets >= its payload)
#   restart_counters_continue     the helper restarted on the same pin dir: redir_bytes and
#                                 reg_accelerated did not reset
#   restart_accelerates_again     a new connection after the restart is accelerated
#   unpin_live_connection         skaccel-helperd --unpin (and then stopping the helper)
#                                 while a connection is live: it completes intact, still on
#                                 the fast path (OutOctets stays far below the bytes moved
#                                 after the unpin), and the pin directory is gone
#
# tests/e2e/core/failopen.sh covers a killed helper from the shim's side; this adds counters,
# proof of the path taken, and unpinning.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

MB=$((1024 * 1024))
TESTS=(hostile_restart/sigkill_midtransfer_intact hostile_restart/new_connection_while_down_plain_tcp
       hostile_restart/restart_counters_continue hostile_restart/restart_accelerates_again
       hostile_restart/unpin_live_connection)
hs_require "${TESTS[@]}"

skt_netns_new NS && skt_netns_new NS2 && skt_netns_new NS3 ||
	{ for t in "${TESTS[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
SOCK=$SKT_SOCK PIN=$SKT_PIN

# server NS TAG CONNS: an opted-in tcp_xfer server; sets PORT and SPID, or ERR.
server() {
	rm -f "$SKT_TMP/$2.ready"
	skt_run_opted "$1" "$SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$SKT_TMP/$2.ready" \
		--conns "$3" --concurrent >"$SKT_TMP/$2.server" 2>&1 &
	SPID=$!
	skt_wait_file "$SKT_TMP/$2.ready" || { ERR="server $2 did not start: $(skt_tail "$SKT_TMP/$2.server")"; return 1; }
	PORT=$(cut -d' ' -f1 "$SKT_TMP/$2.ready")
}
client_bg() { # NS TAG ARGS...: sets CPID
	local ns=$1 tag=$2
	shift 2
	skt_run_opted "$ns" "$SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$PORT" "$@" >"$SKT_TMP/$tag.client" 2>&1 &
	CPID=$!
}
why() { grep -m1 FAIL "$SKT_TMP/$1" || skt_tail "$SKT_TMP/$1"; }

# --- SIGKILL in the middle of an accelerated transfer ---------------------------------------
ERR="" E2="" E3="" E4=""
server "$NS" main 2
MAINSPID=$SPID MAINPORT=$PORT
client_bg "$NS" a --duration 5 --pause-us 2000 --reply $((8 * MB))
APID=$CPID
sleep 1.5
r_before=$(skt_stat redir_bytes)
a_before=$(skt_stat reg_accelerated)
[ "$r_before" -gt 0 ] || ERR="the transfer was not accelerated before the kill (nothing to prove)"
kill -KILL "$SKT_HELPER_PID"
wait "$SKT_HELPER_PID" 2>/dev/null

# --- while it is down: a new connection in its own namespace, on plain TCP -------------------
server "$NS2" down 1 || E2=$ERR
if [ -z "$E2" ]; then
	o0=$(skt_outoctets "$NS2")
	t0=$SECONDS
	skt_run_opted "$NS2" "$SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$PORT" --bytes $((16 * MB)) \
		--reply $((4 * MB)) >"$SKT_TMP/b.client" 2>&1 || E2="client: $(why b.client)"
	wait "$SPID" || E2="${E2:+$E2; }server: $(why down.server)"
	o1=$(skt_outoctets "$NS2")
	[ -z "$E2" ] && [ $((o1 - o0)) -lt $((20 * MB)) ] &&
		E2="only $((o1 - o0)) bytes went through TCP/IP for a 20 MiB exchange: not plain TCP?"
	[ -z "$E2" ] && [ $((SECONDS - t0)) -gt 10 ] && E2="took $((SECONDS - t0)) s: the shim waited for a dead helper"
fi
r_down=$(skt_stat redir_bytes)
wait "$APID" || ERR="${ERR:+$ERR; }the transfer across the kill: $(why a.client)"
r_after=$(skt_stat redir_bytes)
[ -z "$ERR" ] && [ "$r_after" -le "$r_down" ] && [ "$r_down" -le "$r_before" ] &&
	ERR="nothing was redirected while the helper was dead ($r_before -> $r_down -> $r_after)"
skt_info "redir_bytes: before the kill $r_before, while down $r_down, after the transfer $r_after"
skt_verdict hostile_restart/sigkill_midtransfer_intact "$ERR"
skt_verdict hostile_restart/new_connection_while_down_plain_tcp "$E2"

# --- restart on the same pins -----------------------------------------------------------------
if ! skt_helper_start_at "$SOCK" "$PIN"; then
	E3="restart failed: $SKT_WHY" E4=$E3
else
	r_restart=$(skt_stat redir_bytes)
	a_restart=$(skt_stat reg_accelerated)
	[ "$r_restart" -ge "$r_after" ] && [ "$a_restart" -ge "$a_before" ] ||
		E3="counters reset: redir_bytes $r_after -> $r_restart, reg_accelerated $a_before -> $a_restart"
	PORT=$MAINPORT
	# The main server's process asked the dead helper something while it was down (its
	# first connection's end asks whether it has been paired as it writes), so it backs
	# off for a second (SHIM_CLIENT_BACKOFF_MS) before it asks again, and promotes
	# nothing meanwhile: wait that out. (hostile/stall and core/failopen cover the wait.)
	sleep 1.2
	# 128 KiB writes, as in core/accel_proof.sh, with short pauses: a writer that starts before
	# the server's end is registered (a slow, sanitized helper) and never lets TCP drain
	# stays on TCP for good (fb_inflight), on a fresh helper as on a restarted one. Nothing
	# else runs now; plain TCP would redirect nothing, the fast path about all of it.
	client_bg "$NS" c --bytes $((32 * MB)) --wsize $((128 * 1024)) --pause-us 500 --reply 0
	wait "$CPID" || E4="client: $(why c.client)"
	r_c=$(skt_stat redir_bytes)
	a_c=$(skt_stat reg_accelerated)
	skt_info "after the restart: $((r_c - r_restart)) of $((32 * MB)) bytes redirected; $(skt_stats_json | tr "," "\n" | grep -E "\"(reg_[a-z_]*|fb_[a-z_]*)\"" | grep -v ": 0$" | tr -d "\n ")"
	[ -z "$E4" ] && [ $((r_c - r_restart)) -lt $((16 * MB)) ] &&
		E4="only $((r_c - r_restart)) bytes redirected for a 32 MiB stream after the restart"
	[ -z "$E4" ] && [ "$a_c" -le "$a_restart" ] && E4="reg_accelerated did not move ($a_restart)"
fi
wait "$MAINSPID" || E4="${E4:+$E4; }server: $(why main.server)"
skt_verdict hostile_restart/restart_counters_continue "$E3"
skt_verdict hostile_restart/restart_accelerates_again "$E4"

# --- --unpin while a connection is live, then the helper goes too ----------------------------
# 96 MiB in paced 128 KiB writes (about 4 s); the unpin comes 1 s in, the helper stops 0.5 s
# later. Had the fast path broken, the remaining ~60 MiB would show in IP OutOctets.
ERR=""
TOTAL=$((96 * MB))
if server "$NS3" unpin 1; then
	client_bg "$NS3" d --bytes $TOTAL --wsize $((128 * 1024)) --pause-us 5000 --reply 0
	sleep 1
	skt_info "before the unpin: $(skt_stats_json | tr ',' '\n' | grep -E '"(state|tx_redir_bytes|tx_tcp_bytes)"' | tr -d '\n')"
	"$HELPERD" --unpin --pin-dir "$PIN" >"$SKT_TMP/unpin.log" 2>&1 || ERR="--unpin failed: $(skt_tail "$SKT_TMP/unpin.log")"
	[ -e "$PIN" ] && ERR="${ERR:+$ERR; }$PIN is still there after --unpin"
	o0=$(skt_outoctets "$NS3")
	sleep 0.5
	skt_helper_stop
	kill -0 "$CPID" 2>/dev/null || ERR="${ERR:+$ERR; }the transfer ended before the helper stopped: too short to prove anything"
	wait "$CPID" || ERR="${ERR:+$ERR; }client: $(why d.client)"
	wait "$SPID" || ERR="${ERR:+$ERR; }server: $(why unpin.server)"
	o1=$(skt_outoctets "$NS3")
	[ -z "$ERR" ] && [ $((o1 - o0)) -gt $((TOTAL / 20)) ] &&
		ERR="$((o1 - o0)) bytes went through TCP/IP after the unpin (of a $TOTAL-byte stream): the fast path broke"
	skt_info "IP OutOctets after the unpin: $((o1 - o0))"
fi
skt_verdict hostile_restart/unpin_live_connection "$ERR"

skt_helper_stop
skt_helper_unpin "$PIN"
skt_done
