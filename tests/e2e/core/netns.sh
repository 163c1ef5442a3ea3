#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Pod to pod (docs/CONTAINERS.md, SECURITY.md): two network namespaces ("pods") joined by
# veth devices to a bridge in a third one ("the host", where the helper runs), no NAT.
#  - cross_on:  with --cross-netns=on, a 100 MB stream each way between the pods is
#               accelerated: the pods' TCP segment counters stay near zero, bytes verified.
#  - cross_off: with the default (off), the same connection stays on TCP, counted as
#               `not_local`, bytes verified.
#  - twins:     two isolated host+pods sets with IDENTICAL addressing, and identical
#               client ports, at the same time: both clients wait with the same mirror
#               tuple before either server registers, so each server has two candidates.
#               Each pair must be accelerated with its own end: per-pair stream keys (a
#               byte of the other pair fails verification) and the helper's live socket
#               table (every socket's peer is a socket of its own pair's processes).
#  - dnat:      a connection to a service address DNAT'ed in the client's namespace to the
#               server pod (a ClusterIP): the client's and server's tuples are not mirrors,
#               so it stays on TCP and never crosses, counted with its reason; once with
#               the service address unroutable (`not_local`), once with it a local
#               address of the host (kube-proxy's IPVS mode: the client registers and
#               waits, the server is told no peer waits for it, none is paired).
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(netns/cross_on netns/cross_off netns/twins netns/dnat_unroutable netns/dnat_local_vip)
skt_require "${TESTS[@]}"
if ! command -v nft >/dev/null && ! command -v iptables >/dev/null; then
	for t in "${TESTS[@]}"; do skt_skip "$t" "nft or iptables not installed"; done
	exit 0
fi

# Pods hand over connections to addresses that look remote from inside (shim/init.h).
export SKACCEL_CROSS_NETNS=1
SUBNET=10.77.0
SERVER=$SUBNET.3
PORT=7100
MB=100

# cluster H A B: a host namespace with a bridge (SUBNET.1/24), two pods A (.2), B (.3).
cluster() {
	local h a b
	skt_netns_new h && skt_netns_new a && skt_netns_new b || return 1
	ip -n "$h" link add br0 type bridge && ip -n "$h" addr add $SUBNET.1/24 dev br0 &&
		ip -n "$h" link set br0 up || return 1
	pod "$h" "$a" vA $SUBNET.2 && pod "$h" "$b" vB $SUBNET.3 || return 1
	printf -v "$1" '%s' "$h"
	printf -v "$2" '%s' "$a"
	printf -v "$3" '%s' "$b"
}

# pod H P VETH ADDR: P's eth0 (ADDR/24) is a veth whose other end VETH is on H's bridge.
pod() {
	ip -n "$1" link add "$3" type veth peer name eth0 netns "$2" &&
		ip -n "$1" link set "$3" master br0 up &&
		ip -n "$2" addr add "$4/24" dev eth0 && ip -n "$2" link set eth0 up &&
		ip -n "$2" route add default via $SUBNET.1
}

# The helper in namespace H: it sees the host's routes there, as a DaemonSet with
# hostNetwork does. skt_helper_start runs $HELPERD; a wrapper enters H first, with
# nsenter: `ip netns exec` would also give it a mount namespace with a fresh /sys, where
# its pinned maps would be out of the tests' sight.
helper_in() {
	local h=$1 w=$SKT_TMP/helperd-in-$1 real=$HELPERD r
	shift
	printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$h" "$real" >"$w"
	chmod 0755 "$w"
	HELPERD=$w
	skt_helper_start "$@"
	r=$?
	HELPERD=$real
	return $r
}

# TCP segments in and out of a namespace (/proc/net/snmp Tcp InSegs + OutSegs).
tcp_segs() {
	skt_in "$1" cat /proc/net/snmp | awk '
		$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Tcp:" && h  { print $col["InSegs"] + $col["OutSegs"] }'
}

# transfer NAME A B DST [client args]: server in B on SERVER:PORT, client in A to DST.
# Sets ERR on a failed or unverified transfer.
transfer() {
	local name=$1 a=$2 b=$3 dst=$4 sp cp
	shift 4
	ERR=""
	rm -f "$SKT_TMP/$name.ready"
	skt_run_opted "$b" "$SKT_SOCK" "$TPROGS/tcp_xfer" server $SERVER $PORT --fast \
		--ready "$SKT_TMP/$name.ready" >"$SKT_TMP/$name.server" 2>&1 &
	sp=$!
	skt_wait_file "$SKT_TMP/$name.ready" || { ERR="server did not start"; return; }
	skt_run_opted "$a" "$SKT_SOCK" "$TPROGS/tcp_xfer" client "$dst" $PORT --fast "$@" \
		>"$SKT_TMP/$name.client" 2>&1 &
	cp=$!
	wait "$cp" || ERR="client: $(grep -m1 FAIL "$SKT_TMP/$name.client" || skt_tail "$SKT_TMP/$name.client")"
	wait "$sp" || ERR="${ERR:+$ERR; }server: $(grep -m1 FAIL "$SKT_TMP/$name.server" || skt_tail "$SKT_TMP/$name.server")"
}

# --- cross-netns on ---------------------------------------------------------------------

cluster H A B || { for t in "${TESTS[@]}"; do skt_fail "$t" "cannot build the pod network"; done; skt_done; }
if ! helper_in "$H" --cross-netns=on; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

t=netns/cross_on
# The reference: the same transfer on plain TCP (not opted in), same pods, same helper.
rp=$SKT_TMP/plain.ready
skt_run_plain "$B" "$TPROGS/tcp_xfer" server $SERVER $PORT --fast --ready "$rp" >/dev/null 2>&1 &
sp=$!
skt_wait_file "$rp"
p0=$(tcp_segs "$A")
skt_run_plain "$A" "$TPROGS/tcp_xfer" client $SERVER $PORT --fast --bytes ${MB}M --reply ${MB}M >/dev/null 2>&1
wait $sp
plain=$(($(tcp_segs "$A") - p0))
a0=$(skt_stat reg_accelerated)
sa0=$(tcp_segs "$A")
sb0=$(tcp_segs "$B")
transfer on "$A" "$B" $SERVER --bytes ${MB}M --reply ${MB}M
sa=$(($(tcp_segs "$A") - sa0))
sb=$(($(tcp_segs "$B") - sb0))
acc=$(($(skt_stat reg_accelerated) - a0))
# Accelerated, TCP carries the handshake, the "go" byte, the close, and the writes the
# default backpressure sends by TCP while the reader is behind (about 1%): under 5% of
# the plain transfer's segments.
if [ -n "$ERR" ]; then
	skt_fail $t "$ERR"
elif [ "$acc" -lt 1 ]; then
	# The end that registers second pairs both (reg_accelerated counts it once).
	skt_fail $t "not accelerated ($(skt_tail "$SKT_HLOG" 2))"
elif [ "$plain" -lt 20000 ]; then
	skt_fail $t "the plain reference took only $plain TCP segments"
elif [ $((sa * 20)) -gt "$plain" ] || [ $((sb * 20)) -gt "$plain" ]; then
	skt_fail $t "TCP segments in the pods: $sa (client), $sb (server); plain TCP: $plain"
else
	echo "  netns/cross_on: TCP segments in the client pod for ${MB} MB each way: $sa accelerated, $plain plain; server pod $sb" >&2
	skt_pass $t
fi

# --- twins: identical addressing in two isolated sets -----------------------------------

# leaf_of PID: the test program under PID (ip netns exec, timeout(1), skaccel-run).
leaf_of() {
	local p=$1 c
	while c=$(cat "/proc/$p/task/$p/children" 2>/dev/null) && [ -n "$c" ]; do
		p=${c%% *}
	done
	echo "$p"
}

t=netns/twins
twins() {
	# shellcheck disable=SC2034 # h2: the second host namespace, built and left alone
	local h2 a2 b2 k pids=() spid=() cpid=() nss_a nss_b json i f w w0 _
	cluster h2 a2 b2 || { ERR="cannot build the second pod network"; return; }
	nss_a=("$A" "$a2")
	nss_b=("$B" "$b2")
	ERR=""
	a0=$(skt_stat reg_accelerated)
	w0=$(skt_stat reg_waiting_peer)
	for k in 1 2; do
		rm -f "$SKT_TMP/twin-$k.ready"
		skt_run_opted "${nss_b[$((k - 1))]}" "$SKT_SOCK" "$TPROGS/tcp_xfer" server $SERVER $PORT \
			--key "$k" --ready "$SKT_TMP/twin-$k.ready" >"$SKT_TMP/twin-$k.server" 2>&1 &
		pids+=($!)
	done
	for k in 1 2; do
		skt_wait_file "$SKT_TMP/twin-$k.ready" || { ERR="server $k did not start"; return; }
		spid+=("$(leaf_of "${pids[$((k - 1))]}")")
	done
	# Servers stopped: both clients connect (the kernel completes the handshakes), both
	# register and wait under the same mirror tuple; then both servers accept.
	kill -STOP "${spid[@]}"
	for k in 1 2; do
		skt_run_opted "${nss_a[$((k - 1))]}" "$SKT_SOCK" "$TPROGS/tcp_xfer" client $SERVER $PORT \
			--key "$k" --src-port 7101 --duration 3 --pause-us 200 --reply 8M \
			>"$SKT_TMP/twin-$k.client" 2>&1 &
		pids+=($!)
	done
	# Both clients wait under one mirror tuple: each server will have two candidates.
	for _ in $(seq 50); do
		w=$(($(skt_stat reg_waiting_peer) - w0))
		[ "$w" -ge 2 ] && break
		sleep 0.1
	done
	cpid=("$(leaf_of "${pids[2]}")" "$(leaf_of "${pids[3]}")")
	kill -CONT "${spid[@]}"
	sleep 1.5
	# Mid-stream: whom does each registered socket pair with?
	json=$(skt_stats_json)
	i=0
	for p in "${pids[@]}"; do
		if ! wait "$p"; then
			f=$SKT_TMP/twin-$((i % 2 + 1)).$([ $i -lt 2 ] && echo server || echo client)
			ERR="${ERR:+$ERR; }$(grep -m1 FAIL "$f" || skt_tail "$f")"
		fi
		i=$((i + 1))
	done
	[ -n "$ERR" ] && return
	[ "$w" -ge 2 ] || { ERR="only $w client(s) waited before the servers registered"; return; }
	ERR=$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])["sockets"]
pair = {int(sys.argv[2]): 1, int(sys.argv[3]): 1, int(sys.argv[4]): 2, int(sys.argv[5]): 2}
by = {x["cookie"]: x for x in s}
seen = 0
for x in s:
    if x["pid"] not in pair:
        continue
    seen += 1
    p = by.get(x["peer"])
    if not p:
        print("socket of pid %d (pair %d) not paired" % (x["pid"], pair[x["pid"]])); sys.exit()
    if pair.get(p["pid"]) != pair[x["pid"]] or p["pid"] == x["pid"]:
        print("CROSSED: pid %d (pair %d) paired with pid %d" % (x["pid"], pair[x["pid"]], p["pid"])); sys.exit()
if seen != 4:
    print("%d of the 4 sockets registered mid-stream (pids %s, table %s)" % (seen, sorted(pair), [(x["pid"], x["cookie"], x["peer"]) for x in s]))
' "$json" "${spid[0]}" "${cpid[0]}" "${spid[1]}" "${cpid[1]}")
	[ -n "$ERR" ] && return
	if [ $(($(skt_stat reg_accelerated) - a0)) -lt 2 ]; then
		ERR="$(($(skt_stat reg_accelerated) - a0)) pairs accelerated, want 2"
	fi
}
twins
if [ -n "$ERR" ]; then skt_fail $t "$ERR"; else skt_pass $t; fi

# --- DNAT to a service address ----------------------------------------------------------

VIP=10.96.0.10
# The client pod rewrites VIP:80 to the server pod, as kube-proxy does for a ClusterIP.
dnat() {
	if command -v nft >/dev/null; then
		skt_in "$A" nft -f - <<-EOF
			table ip sktnat {
				chain out { type nat hook output priority -100; ip daddr $VIP tcp dport 80 dnat to $SERVER:$PORT; }
			}
		EOF
	else
		skt_in "$A" iptables -t nat -A OUTPUT -d $VIP -p tcp --dport 80 \
			-j DNAT --to-destination $SERVER:$PORT
	fi
}
# A port-80 twin of transfer(): the client dials VIP:80.
transfer_vip() {
	local name=$1 sp cp
	ERR=""
	rm -f "$SKT_TMP/$name.ready"
	skt_run_opted "$B" "$SKT_SOCK" "$TPROGS/tcp_xfer" server $SERVER $PORT \
		--ready "$SKT_TMP/$name.ready" >"$SKT_TMP/$name.server" 2>&1 &
	sp=$!
	skt_wait_file "$SKT_TMP/$name.ready" || { ERR="server did not start"; return; }
	skt_run_opted "$A" "$SKT_SOCK" "$TPROGS/tcp_xfer" client $VIP 80 --bytes 8M --reply 8M \
		>"$SKT_TMP/$name.client" 2>&1 &
	cp=$!
	wait "$cp" || ERR="client: $(grep -m1 FAIL "$SKT_TMP/$name.client" || skt_tail "$SKT_TMP/$name.client")"
	wait "$sp" || ERR="${ERR:+$ERR; }server: $(grep -m1 FAIL "$SKT_TMP/$name.server" || skt_tail "$SKT_TMP/$name.server")"
}

if ! dnat; then
	skt_fail netns/dnat_unroutable "cannot install the DNAT rule"
	skt_fail netns/dnat_local_vip "cannot install the DNAT rule"
else
	t=netns/dnat_unroutable
	# The host has no route to VIP (no default route in H): the client's peer is not local.
	a0=$(skt_stat reg_accelerated)
	n0=$(skt_stat reg_not_local)
	transfer_vip vip1
	if [ -n "$ERR" ]; then
		skt_fail $t "$ERR"
	elif [ $(($(skt_stat reg_accelerated) - a0)) -ne 0 ]; then
		skt_fail $t "a DNAT'ed connection was paired"
	elif [ $(($(skt_stat reg_not_local) - n0)) -lt 1 ]; then
		skt_fail $t "the client's socket was not counted as not_local"
	else
		skt_pass $t
	fi

	t=netns/dnat_local_vip
	# kube-proxy's IPVS mode puts every ClusterIP on a dummy device of the host: then the
	# client's peer is local, both ends reach the helper, and neither has a mirror to pair
	# with. The client registers by its writes and waits; the server, due by what it read,
	# asks to be registered only if its peer waits, and none does under its mirror tuple.
	a0=$(skt_stat reg_accelerated)
	w0=$(skt_stat reg_waiting_peer)
	d0=$(skt_stat reg_no_peer)
	sleep 2.1 # the helper's locality verdict on VIP from the test above expires
	if ! { ip -n "$H" link add vips type dummy 2>/dev/null || ip -n "$H" link add vips type bridge; } ||
		! ip -n "$H" addr add $VIP/32 dev vips || ! ip -n "$H" link set vips up; then
		skt_fail $t "cannot add the service address to the host"
	else
		transfer_vip vip2
		if [ -n "$ERR" ]; then
			skt_fail $t "$ERR"
		elif [ $(($(skt_stat reg_accelerated) - a0)) -ne 0 ]; then
			skt_fail $t "a DNAT'ed connection was paired"
		elif [ $(($(skt_stat reg_waiting_peer) - w0)) -lt 1 ] ||
			[ $(($(skt_stat reg_waiting_peer) - w0 + $(skt_stat reg_no_peer) - d0)) -lt 2 ]; then
			skt_fail $t "both ends should reach the helper, the client waiting: reg_waiting_peer +$(($(skt_stat reg_waiting_peer) - w0)), reg_no_peer +$(($(skt_stat reg_no_peer) - d0))"
		else
			skt_pass $t
		fi
	fi
fi
skt_helper_stop
skt_helper_unpin

# --- cross-netns off (the default) ------------------------------------------------------

t=netns/cross_off
if ! helper_in "$H"; then
	skt_fail $t "$SKT_WHY"
	skt_done
fi
a0=$(skt_stat reg_accelerated)
n0=$(skt_stat reg_not_local)
sa0=$(tcp_segs "$A")
transfer off "$A" "$B" $SERVER --bytes 20M --reply 20M
sa=$(($(tcp_segs "$A") - sa0))
if [ -n "$ERR" ]; then
	skt_fail $t "$ERR"
elif [ $(($(skt_stat reg_accelerated) - a0)) -ne 0 ]; then
	skt_fail $t "accelerated across namespaces with --cross-netns off"
elif [ $(($(skt_stat reg_not_local) - n0)) -lt 2 ]; then
	skt_fail $t "$(($(skt_stat reg_not_local) - n0)) of the 2 ends counted as not_local"
elif [ "$sa" -lt 1000 ]; then
	skt_fail $t "only $sa TCP segments for 20 MB each way: not on TCP?"
else
	skt_pass $t
fi
skt_helper_stop
skt_helper_unpin
skt_done
