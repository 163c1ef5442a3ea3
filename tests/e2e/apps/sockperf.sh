#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# sockperf over TCP, server and client both under skaccel-run: ping-pong with 64-byte and
# 16 KiB messages, under-load at 10,000 messages/s and a throughput run, one second each.
# sockperf numbers its messages; ping-pong and under-load must report no dropped,
# duplicated or out-of-order message, and must have gone by the fast path.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/sockperf.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/sockperf/ping_pong_64 apps/sockperf/ping_pong_16k apps/sockperf/under_load
       apps/sockperf/throughput)
apps_require sockperf -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

PORT=11111
SLOG=$SKT_TMP/sockperf-server.log
apps_run sockperf server --tcp -i 127.0.0.1 -p $PORT >"$SLOG" 2>&1 &
if ! apps_wait_port $PORT; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "sockperf server did not start: $(skt_tail "$SLOG")"; done
	skt_done
fi

# run NAME MIN CHECK_SEQ sockperf-args...
run() {
	local name=$1 min=$2 seq=$3 log err="" rc got
	shift 3
	log=$SKT_TMP/${name//\//_}.log
	apps_mark
	apps_run sockperf "$@" --tcp -i 127.0.0.1 -p $PORT -t 1 >"$log" 2>&1
	rc=$?
	got=$(sed -n 's/.*\[Valid Duration\].*ReceivedMessages=\([0-9]*\).*/\1/p' "$log")
	if [ $rc -ne 0 ]; then
		err="sockperf $1 exit $rc: $(skt_tail "$log")"
	elif [ "$seq" = 1 ] && ! grep -q "# dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0" "$log"; then
		err="sockperf $1: $(grep -m1 'dropped messages' "$log" || skt_tail "$log")"
	elif [ "$seq" = 1 ] && [ "${got:-0}" -eq 0 ]; then
		err="sockperf $1 received no message: $(skt_tail "$log")"
	fi
	apps_verdict "$name" "$err" 0 "$min" \
		"summary=\"$(sed -n 's/\x1b\[[0-9;]*m//g; s/.*Summary: \([^,]*\).*/\1/p' "$log" | head -n1)\""
}

run apps/sockperf/ping_pong_64 900 1 ping-pong -m 64
run apps/sockperf/ping_pong_16k 900 1 ping-pong -m 16384
# Small messages to a reader that is behind may go by TCP (the helper's small-message
# policy): 80-100% is redirected at this rate, depending on the helper's version.
run apps/sockperf/under_load 700 1 under-load -m 1000 --mps 10000
# A bulk stream: whatever went by TCP after a fallback may stay there (see apps_iperf3.sh
# and tests/apps/pending/bulk_sticky_tcp.sh); at least the first 3 MiB must be redirected.
APPS_FLOOR=$((3 * 1024 * 1024)) run apps/sockperf/throughput 0 0 throughput -m 65000

apps_helper_alive apps/sockperf/helper_alive
apps_kill_ns
skt_helper_stop
skt_helper_unpin
skt_done
