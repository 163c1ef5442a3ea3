#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# memcached (libevent, accept4 + epoll in worker threads) under skaccel-run, with real
# clients under skaccel-run too: a Python text-protocol client (tests/apps/memc.py:
# values from 0 bytes to 4 MiB compared exactly, multi-get, cas, incr, pipelining),
# libmemcached's own protocol conformance test (memccapable, ASCII and binary), memccp
# and memccat copying files byte-exact, and the memcaslap load generator (no get may
# miss). Each must have gone by the fast path.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/memcached.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/memcached/python_text_protocol apps/memcached/memccapable
       apps/memcached/memccp_memccat apps/memcached/memcaslap)
apps_require memcached python3 memccapable memccp memccat memcaslap -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

PORT=11311
SERVERS=127.0.0.1:$PORT
MLOG=$SKT_TMP/memcached.log
apps_run memcached -p $PORT -l 127.0.0.1 -U 0 -u root -m 512 -I 8m -t 2 -c 256 >"$MLOG" 2>&1 &
if ! apps_wait_port $PORT; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "memcached did not start: $(skt_tail "$MLOG")"; done
	skt_done
fi

# --- a Python client speaking the text protocol ---------------------------------------------
t=apps/memcached/python_text_protocol
apps_mark
apps_run python3 "$APPS_DIR/memc.py" --addr 127.0.0.1 --port $PORT --conns 4 \
	--seed "${SKT_SEED:-$RANDOM}" >"$SKT_TMP/memc.out" 2>"$SKT_TMP/memc.err"
err=$(apps_client_check "$SKT_TMP/memc.err" "$SKT_TMP/memc.out" $?)
# The multi-get of a whole session (about 20 MB in one reply) is more than the reader's
# receive budget: memcached falls back to TCP (fb_backlog) and stays there until the
# reply ends (fb_inflight), the limitation of tests/apps/pending/bulk_sticky_tcp.sh.
# 70-85% of the bytes are redirected, so 50% is the bar.
apps_verdict $t "$err" "$(apps_json_num "$SKT_TMP/memc.out" bytes || echo 0)" 500

# --- libmemcached's protocol conformance test ----------------------------------------------
t=apps/memcached/memccapable
apps_mark
apps_run memccapable -h 127.0.0.1 -p $PORT -t 10 >"$SKT_TMP/capable.out" 2>&1
rc=$?
err=""
if [ $rc -ne 0 ] || ! grep -q "All tests passed" "$SKT_TMP/capable.out"; then
	err="memccapable exit $rc: $(grep -m3 -v '\[pass\]' "$SKT_TMP/capable.out" | tr '\n' '|')"
fi
# Dozens of tiny request/reply exchanges, nothing known in advance. Small writes to a
# reader that is behind may go by TCP (the helper's small-message policy): 92-100%.
apps_verdict $t "$err" 0 800 "cases=$(grep -c '\[pass\]' "$SKT_TMP/capable.out")"

# --- memccp / memccat: files in and out, byte-exact ----------------------------------------
# One memccp run copies every file over one connection, smallest first, and one memccat
# run prints every value, each followed by a newline. The first request of a
# connection may leave before memcached has accepted it, and such bytes go by TCP (the
# server's end is not registered yet: fb_unpaired); under CPU load the accept can come
# after the whole request. A small first file keeps that out of the measurement.
t=apps/memcached/memccp_memccat
apps_mark
err=""
payload=0
files=()
keys=()
: >"$SKT_TMP/expected"
for size in 1000 100000 1048576 3000000; do
	apps_random_file "$SKT_TMP/file$size" $size
	files+=("$SKT_TMP/file$size")
	keys+=("file$size")
	{ cat "$SKT_TMP/file$size"; echo; } >>"$SKT_TMP/expected"
	payload=$((payload + 2 * size))
done
if ! apps_run memccp --servers=$SERVERS "${files[@]}" >"$SKT_TMP/cp.out" 2>&1; then
	err="memccp failed: $(skt_tail "$SKT_TMP/cp.out")"
else
	apps_run memccat --servers=$SERVERS "${keys[@]}" >"$SKT_TMP/got" 2>"$SKT_TMP/cat.err"
	if [ "$(apps_sha "$SKT_TMP/expected")" != "$(apps_sha "$SKT_TMP/got")" ]; then
		err="memccat returned $(stat -c %s "$SKT_TMP/got") bytes with another sha256 than the $(stat -c %s "$SKT_TMP/expected") expected ($(skt_tail "$SKT_TMP/cat.err" 1))"
	fi
fi
apps_verdict $t "$err" $payload 900

# --- memcaslap: load from 16 connections -----------------------------------------------------
t=apps/memcached/memcaslap
apps_mark
apps_run memcaslap -s $SERVERS -c 16 -x 40000 -T 2 >"$SKT_TMP/aslap.out" 2>&1
rc=$?
err=""
misses=$(sed -n 's/^get_misses: *//p' "$SKT_TMP/aslap.out" | head -n1)
gets=$(sed -n 's/^cmd_get: *//p' "$SKT_TMP/aslap.out" | head -n1)
if [ $rc -ne 0 ] || [ -z "$gets" ]; then
	err="memcaslap exit $rc: $(skt_tail "$SKT_TMP/aslap.out")"
elif [ "$misses" != 0 ]; then
	err="memcaslap: $misses of $gets gets missed a key it had set"
fi
apps_verdict $t "$err" 0 800 "ops=$(sed -n 's/.*Ops: \([0-9]*\).*/\1/p' "$SKT_TMP/aslap.out" | head -n1)"

apps_helper_alive apps/memcached/helper_alive
apps_kill_ns
skt_helper_stop
skt_helper_unpin
skt_done
