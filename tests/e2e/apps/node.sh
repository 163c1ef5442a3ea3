#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A Node.js server and client (net module; libuv's non-blocking connect and epoll),
# tests/apps/xfer.js, both under skaccel-run, over IPv4 and IPv6: checksummed, echoed
# rounds of 0 bytes to 4 MiB on several concurrent connections, which must have gone by
# the fast path.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/node.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/node/net_ipv4 apps/node/net_ipv6)
apps_require node -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

XFER=$APPS_DIR/xfer.js

pair() { # NAME ADDR
	local name=$1 addr=$2 base err rc
	base=$SKT_TMP/${name//\//_}
	apps_mark
	if ! apps_serve "$base.server" "$base.ready" node "$XFER" server --addr "$addr" \
		--ready "$base.ready"; then
		apps_verdict "$name" "$APPS_WHY" 0 900
		return
	fi
	apps_run node "$XFER" client --addr "$addr" --port "$APPS_PORT" --conns 4 --rounds 24 \
		--seed "${SKT_SEED:-$RANDOM}" >"$base.out" 2>"$base.client"
	rc=$?
	err=$(apps_client_check "$base.client" "$base.out" $rc)
	[ -z "$err" ] && [ -s "$base.server" ] && err="server complained: $(skt_tail "$base.server")"
	apps_kill_ns
	# Node writes the 8-byte header and the body separately, the pattern the helper's
	# small-message policy must not send to TCP (fb_small_behind, then fb_inflight for
	# the body behind it): 99.8-100% is redirected with the current helper.
	apps_verdict "$name" "$err" "$(apps_json_num "$base.out" bytes || echo 0)" 900 \
		"node=$(node --version)"
}

pair apps/node/net_ipv4 127.0.0.1
pair apps/node/net_ipv6 ::1

apps_helper_alive apps/node/helper_alive
skt_helper_stop
skt_helper_unpin
skt_done
