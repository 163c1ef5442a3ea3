#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Python standard-library servers and clients (tests/apps/xfer.py), both ends under
# skaccel-run: socketserver.ThreadingTCPServer with blocking client threads, and
# asyncio streams on both sides (non-blocking connect, completed through the event
# loop), over IPv4, IPv6 and a dual-stack listener. Every round is checked by sha256 and
# by the echoed bytes, and must have gone by the fast path.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/python.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/python/socketserver_threads apps/python/asyncio apps/python/asyncio_ipv6
       apps/python/dual_stack)
apps_require python3 -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

XFER=$APPS_DIR/xfer.py

# pair NAME SERVER_MODE LISTEN CLIENT_MODE CONNECT: one server, one client run.
pair() {
	local name=$1 smode=$2 listen=$3 cmode=$4 connect=$5 base err rc
	base=$SKT_TMP/${name//\//_}
	apps_mark
	if ! apps_serve "$base.server" "$base.ready" python3 "$XFER" "$smode" --addr "$listen" \
		--ready "$base.ready"; then
		apps_verdict "$name" "$APPS_WHY" 0 900
		return
	fi
	apps_run python3 "$XFER" "$cmode" --addr "$connect" --port "$APPS_PORT" --conns 4 \
		--rounds 24 --seed "${SKT_SEED:-$RANDOM}" >"$base.out" 2>"$base.client"
	rc=$?
	err=$(apps_client_check "$base.client" "$base.out" $rc)
	apps_kill_ns
	apps_verdict "$name" "$err" "$(apps_json_num "$base.out" bytes || echo 0)" 900
}

pair apps/python/socketserver_threads threading 127.0.0.1 client 127.0.0.1
pair apps/python/asyncio asyncio 127.0.0.1 aclient 127.0.0.1
pair apps/python/asyncio_ipv6 asyncio ::1 aclient ::1
pair apps/python/dual_stack threading :: client 127.0.0.1

apps_helper_alive apps/python/helper_alive
skt_helper_stop
skt_helper_unpin
skt_done
