#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Acceleration proof: 100 MB between two opted-in processes, over every kind of local
# address, in 128 KiB writes (and once in 64 KiB, once in random sizes), must bypass TCP/IP. Two
# independent witnesses: the namespace's IP-layer byte counter (IpExt OutOctets) stays
# under 5% of the payload, and the helper's redirected-bytes counter covers 95% of it.
# The same transfer on plain TCP (and with SKACCEL_DISABLE=1) must show OutOctets >=
# payload, which proves the witness can fail. The helper runs with the defaults users
# get: a reader that falls as far behind its writer as TCP allows (its SO_RCVBUF plus the
# writer's SO_SNDBUF) is sent a message by TCP by design, whose closed window blocks the
# writer until the reader catches up (bp_check and the scenarios test that); on a shared
# 2-core VM a reader that checks every byte does fall that far behind now and then, and
# each time costs one write by TCP, so the bound is 5%, not 0.
#
# SKACCEL_DISABLE=1 tests/e2e/core/accel_proof.sh must make every proof FAIL.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

PAYLOAD=$((100 * 1024 * 1024))
REPLY=$((1024 * 1024))
TESTS=(accel_proof/ipv4_loopback accel_proof/ipv6_loopback accel_proof/v4_mapped
       accel_proof/dual_stack_v4_client accel_proof/ipv4_local_nonloopback
       accel_proof/ipv6_local_nonloopback accel_proof/mixed_write_sizes accel_proof/writes_64k accel_proof/plain_tcp_control
       accel_proof/shim_disabled_control)
skt_require "${TESTS[@]}"

if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

# transfer NAME MODE LISTEN CONNECT WSIZE [LOCAL_ADDR/PREFIX]: MODE is opted, plain or
# disabled; WSIZE the client's write size (0: random sizes 1 B..256 KiB). Sets OUT
# (OutOctets delta), REDIR (redirected bytes delta), ERR (empty if both ends were ok).
transfer() {
	local name=$1 mode=$2 listen=$3 connect=$4 wsize=$5 ns ready port o0 o1 r0 r1 srv cli
	shift 5
	ERR=""
	skt_netns_new ns || { ERR="cannot create a network namespace"; return; }
	if [ $# -gt 0 ]; then skt_add_local_addr "$ns" "$1" || { ERR="cannot add $1"; return; }; fi
	ready=$SKT_TMP/${name//\//_}.ready
	srv=$SKT_TMP/${name//\//_}.server
	cli=$SKT_TMP/${name//\//_}.client
	run() {
		case $mode in
		opted) skt_run_opted "$ns" "$SKT_SOCK" "$@" ;;
		disabled) SKACCEL_DISABLE=1 skt_run_opted "$ns" "$SKT_SOCK" "$@" ;;
		plain) skt_run_plain "$ns" "$@" ;;
		esac
	}
	run "$TPROGS/tcp_xfer" server "$listen" 0 --ready "$ready" --conns 1 >"$srv" 2>&1 &
	local spid=$!
	skt_wait_file "$ready" || { ERR="server did not start: $(skt_tail "$srv")"; return; }
	port=$(cut -d' ' -f1 "$ready")
	o0=$(skt_outoctets "$ns")
	r0=$(skt_stat redir_bytes)
	local j0
	j0=$(skt_stats_json)
	run "$TPROGS/tcp_xfer" client "$connect" "$port" --bytes "$PAYLOAD" --reply "$REPLY" \
		--wsize "$wsize" --fast >"$cli" 2>&1 || ERR="client: $(skt_tail "$cli")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$srv")"
	o1=$(skt_outoctets "$ns")
	r1=$(skt_stat redir_bytes)
	OUT=$((o1 - o0))
	REDIR=$((r1 - r0))
	WHY="counters that moved: $(counter_deltas "$j0" "$(skt_stats_json)")"
	skt_info "$name ($mode): OutOctets +$OUT, redirected +$REDIR; $(cat "$cli")"
}

# counter_deltas JSON_BEFORE JSON_AFTER: "tcp_bytes +N, fb_x +M, ..." for the data path.
counter_deltas() {
	local k a b out=""
	for k in $(printf '%s' "$2" | grep -o '"\(tcp_bytes\|tcp_msgs\|fb_[a-z_]*\)": *[0-9]*' | cut -d'"' -f2); do
		a=$(printf '%s' "$1" | grep -o "\"$k\": *[0-9]*" | grep -o '[0-9]*$')
		b=$(printf '%s' "$2" | grep -o "\"$k\": *[0-9]*" | grep -o '[0-9]*$')
		[ "${a:-0}" != "${b:-0}" ] && out="$out${out:+, }$k +$((b - ${a:-0}))"
	done
	echo "${out:-none}"
}

prove() {
	local name=$1
	transfer "$@"
	if [ -n "$ERR" ]; then
		skt_fail "$name" "transfer failed: $ERR"
	elif [ "$OUT" -ge $((PAYLOAD / 20)) ]; then
		skt_fail "$name" "NOT ACCELERATED: IP OutOctets grew by $OUT bytes for a $PAYLOAD-byte payload (limit 5%); helper redirected $REDIR bytes; $WHY"
	elif [ "$REDIR" -lt $((PAYLOAD / 20 * 19)) ]; then
		skt_fail "$name" "helper's redir_bytes grew by $REDIR, less than 95% of the $PAYLOAD-byte payload (OutOctets +$OUT); $WHY"
	else
		skt_pass "$name"
	fi
}

control() {
	local name=$1
	transfer "$@"
	if [ -n "$ERR" ]; then
		skt_fail "$name" "transfer failed: $ERR"
	elif [ "$OUT" -lt "$PAYLOAD" ]; then
		skt_fail "$name" "plain TCP moved $PAYLOAD bytes but OutOctets grew by only $OUT: the witness is blind"
	elif [ "$REDIR" -ne 0 ]; then
		skt_fail "$name" "the helper redirected $REDIR bytes of a connection that was not opted in"
	else
		skt_pass "$name"
	fi
}


# Fixed 128 KiB writes, as iperf3 and most bulk copies do; then random sizes.
prove accel_proof/ipv4_loopback opted 127.0.0.1 127.0.0.1 128K
prove accel_proof/ipv6_loopback opted ::1 ::1 128K
prove accel_proof/v4_mapped opted :: ::ffff:127.0.0.1 128K
prove accel_proof/dual_stack_v4_client opted :: 127.0.0.1 128K
prove accel_proof/ipv4_local_nonloopback opted 10.200.0.1 10.200.0.1 128K 10.200.0.1/24
prove accel_proof/ipv6_local_nonloopback opted fd00:5ac::1 fd00:5ac::1 128K fd00:5ac::1/64
prove accel_proof/mixed_write_sizes opted 127.0.0.1 127.0.0.1 0
prove accel_proof/writes_64k opted 127.0.0.1 127.0.0.1 64K
control accel_proof/plain_tcp_control plain 127.0.0.1 127.0.0.1 128K
control accel_proof/shim_disabled_control disabled 127.0.0.1 127.0.0.1 128K

skt_helper_stop
skt_helper_unpin
skt_done
