#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Isolation (SECURITY.md, KERNEL-NOTES §8.3): two network namespaces run connections with
# identical 4-tuples (same addresses, same server port, same client source port) at the
# same time, all opted in, one helper. Each namespace uses its own stream key, so a byte
# delivered to the other namespace's socket fails verification; and both pairs must be
# accelerated, so the pass is not a plain-TCP one.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(isolation/same_tuple_two_netns_ipv4 isolation/same_tuple_two_netns_ipv6)
skt_require "${TESTS[@]}"

if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

# same_tuple NAME ADDR: run the two namespaces' exchanges concurrently.
same_tuple() {
	local name=$1 addr=$2 ns k pids=() a0 r0 i
	local nss=()
	ERR=""
	for k in 1 2; do
		skt_netns_new ns || { ERR="no netns"; return; }
		nss+=("$ns")
	done
	a0=$(skt_stat reg_accelerated)
	r0=$(skt_stat redir_bytes)
	for k in 1 2; do
		ns=${nss[$((k - 1))]}
		skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" server "$addr" 7000 --key "$k" \
			--ready "$SKT_TMP/$name-$k.ready" >"$SKT_TMP/$name-$k.server" 2>&1 &
		pids+=($!)
	done
	for k in 1 2; do
		skt_wait_file "$SKT_TMP/$name-$k.ready" || { ERR="server $k did not start"; return; }
	done
	for k in 1 2; do
		ns=${nss[$((k - 1))]}
		skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" client "$addr" 7000 --key "$k" \
			--src-port 7001 --duration 2 --pause-us 200 --reply 8M \
			>"$SKT_TMP/$name-$k.client" 2>&1 &
		pids+=($!)
	done
	i=0
	for p in "${pids[@]}"; do
		if ! wait "$p"; then
			f=$SKT_TMP/$name-$(( i % 2 + 1 )).$([ $i -lt 2 ] && echo server || echo client)
			ERR="${ERR:+$ERR; }$(grep -m1 FAIL "$f" || skt_tail "$f")"
		fi
		i=$((i + 1))
	done
	[ -n "$ERR" ] && return
	if [ $(($(skt_stat reg_accelerated) - a0)) -lt 2 ]; then
		ERR="only $(($(skt_stat reg_accelerated) - a0)) of the 2 pairs were accelerated"
	elif [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
		ERR="nothing was redirected"
	fi
}

same_tuple v4 127.0.0.1
if [ -n "$ERR" ]; then skt_fail isolation/same_tuple_two_netns_ipv4 "$ERR"; else skt_pass isolation/same_tuple_two_netns_ipv4; fi
same_tuple v6 ::1
if [ -n "$ERR" ]; then skt_fail isolation/same_tuple_two_netns_ipv6 "$ERR"; else skt_pass isolation/same_tuple_two_netns_ipv6; fi

skt_helper_stop
skt_helper_unpin
skt_done
