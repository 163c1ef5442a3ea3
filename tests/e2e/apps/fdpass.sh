#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A server that accepts connections in one process and passes each accepted socket to
# another process over a Unix socket (SCM_RIGHTS, Python's socket.send_fds), then closes
# its own copy (tests/apps/xfer.py fdpass / fdworker). The socket was registered by the
# acceptor's accept(); the worker, a separate program, serves it. Once straight away, and
# once after the acceptor has itself exchanged a greeting on the accelerated socket, so
# bytes written by two processes must arrive in order.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/fdpass.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/fdpass/scm_rights apps/fdpass/scm_rights_after_greeting)
apps_require python3 -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

XFER=$APPS_DIR/xfer.py

fdpass() { # NAME [--greeting]
	local name=$1 base err rc
	shift
	base=$SKT_TMP/${name//\//_}
	apps_mark
	if ! apps_serve "$base.worker" "$base.wready" python3 "$XFER" fdworker --unix "$base.sock" \
		--ready "$base.wready" ||
		! apps_serve "$base.acceptor" "$base.ready" python3 "$XFER" fdpass --addr 127.0.0.1 \
			--unix "$base.sock" --ready "$base.ready" "$@"; then
		apps_kill_ns
		apps_verdict "$name" "$APPS_WHY" 0 900
		return
	fi
	# 20 rounds: a connection's first round may go by TCP (lazy promotion, shim/promote.h).
	apps_run python3 "$XFER" client --addr 127.0.0.1 --port "$APPS_PORT" --conns 8 --rounds 20 \
		--max-size $((2 * 1024 * 1024)) --seed "${SKT_SEED:-$RANDOM}" "$@" \
		>"$base.out" 2>"$base.client"
	rc=$?
	err=$(apps_client_check "$base.client" "$base.out" $rc)
	[ -z "$err" ] && [ -s "$base.worker" ] && err="worker complained: $(skt_tail "$base.worker")"
	[ -z "$err" ] && [ -s "$base.acceptor" ] && err="acceptor complained: $(skt_tail "$base.acceptor")"
	apps_kill_ns
	apps_verdict "$name" "$err" "$(apps_json_num "$base.out" bytes || echo 0)" 900
}

fdpass apps/fdpass/scm_rights
fdpass apps/fdpass/scm_rights_after_greeting --greeting

apps_helper_alive apps/fdpass/helper_alive
skt_helper_stop
skt_helper_unpin
skt_done
