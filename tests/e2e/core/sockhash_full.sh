#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The sockhash full (SECURITY.md): a helper whose maps hold 16 sockets serves 12 concurrent
# connections, i.e. 24 sockets. The first 16 registrations fit; the others must be refused
# as map_full (or, for a reader whose writer was, deferred as no_peer), counted and logged,
# and their connections must carry every byte on plain TCP, exactly like the accelerated
# ones. Once those connections are gone, the room comes
# back: a new connection is accelerated again. The per-user quota is set above the map
# size, so that the map, not the quota, is what fills.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

CONNS=12
MAX_SOCKS=16
TESTS=(sockhash_full/every_byte_arrives sockhash_full/refusals_counted
       sockhash_full/refusals_logged sockhash_full/never_above_the_bound
       sockhash_full/room_comes_back)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"
skt_helper_start --max-socks $MAX_SOCKS --max-per-user 1000 || fail_all "$SKT_WHY"
grep -q "room for $MAX_SOCKS sockets" "$SKT_HLOG" ||
	fail_all "helper did not size its maps to $MAX_SOCKS: $(skt_tail "$SKT_HLOG")"

ready=$SKT_TMP/server.ready
skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --conns $CONNS \
	--concurrent --ready "$ready" >"$SKT_TMP/server.out" 2>&1 &
SPID=$!
skt_wait_file "$ready" || fail_all "server did not start: $(skt_tail "$SKT_TMP/server.out")"
port=$(cut -d' ' -f1 "$ready")

# Every connection streams for 3 s, so all of them hold their sockets at once.
pids=()
for i in $(seq $CONNS); do
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$port" --id "$i" \
		--duration 3 --reply 65536 >"$SKT_TMP/client-$i.out" 2>&1 &
	pids+=($!)
done
# While they stream: the registered sockets, as the helper sees them.
sleep 1.5
peak=$(skt_stats_json | grep -o '"sockets_registered": *[0-9]*' | grep -o '[0-9]*$')

bad=""
for i in $(seq $CONNS); do
	wait "${pids[$((i - 1))]}" || bad="$bad client $i: $(skt_tail "$SKT_TMP/client-$i.out" 2)"
done
wait "$SPID" || bad="$bad server: $(skt_tail "$SKT_TMP/server.out" 2)"
if [ -z "$bad" ]; then
	skt_pass "${TESTS[0]}"
else
	skt_fail "${TESTS[0]}" "$bad"
fi

# A reader promoted by what it read asks to be registered only if its writer waits
# (shim/promote.h): the reader of a writer refused as map_full is told no_peer instead.
full=$(skt_stat reg_map_full)
deferred=$(skt_stat reg_no_peer)
registered=$(($(skt_stat reg_accelerated) + $(skt_stat reg_waiting_peer)))
if [ "$full" -ge 1 ] && [ $((full + deferred)) -ge $((2 * CONNS - MAX_SOCKS)) ] &&
	[ "$registered" -le $MAX_SOCKS ]; then
	skt_pass "${TESTS[1]}"
else
	skt_fail "${TESTS[1]}" "reg_map_full=$full + reg_no_peer=$deferred (want >= $((2 * CONNS - MAX_SOCKS)), map_full >= 1), registered=$registered (want <= $MAX_SOCKS)"
fi

if grep -q "Failed to register .*: the maps are full ($MAX_SOCKS sockets.*it stays on TCP" "$SKT_HLOG"; then
	skt_pass "${TESTS[2]}"
else
	skt_fail "${TESTS[2]}" "no map-full line in the helper's log: $(skt_tail "$SKT_HLOG" 5)"
fi

if [ -n "$peak" ] && [ "$peak" -le $MAX_SOCKS ] && [ "$peak" -gt 0 ]; then
	skt_pass "${TESTS[3]}"
else
	skt_fail "${TESTS[3]}" "sockets_registered while streaming: '${peak:-?}' (want 1..$MAX_SOCKS)"
fi

# The closed sockets leave the sockhash at their last close and the registry at the next
# sweep (1 s); then a new connection must find room and be accelerated.
sleep 2
acc0=$(skt_stat reg_accelerated)
redir0=$(skt_stat redir_bytes)
ready2=$SKT_TMP/server2.ready
skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --conns 1 \
	--ready "$ready2" >"$SKT_TMP/server2.out" 2>&1 &
S2=$!
if ! skt_wait_file "$ready2"; then
	skt_fail "${TESTS[4]}" "server did not start: $(skt_tail "$SKT_TMP/server2.out")"
else
	port=$(cut -d' ' -f1 "$ready2")
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$port" \
		--bytes $((4 * 1024 * 1024)) --reply 65536 --fast >"$SKT_TMP/client2.out" 2>&1
	rc=$?
	wait "$S2"
	acc=$(($(skt_stat reg_accelerated) - acc0))
	redir=$(($(skt_stat redir_bytes) - redir0))
	if [ $rc -eq 0 ] && [ "$acc" -ge 1 ] && [ "$redir" -gt 0 ]; then
		skt_pass "${TESTS[4]}"
	else
		skt_fail "${TESTS[4]}" "client rc=$rc, accelerated +$acc, redirected +$redir bytes: $(skt_tail "$SKT_TMP/client2.out")"
	fi
fi

skt_helper_stop
skt_helper_unpin
skt_done
