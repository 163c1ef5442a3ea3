#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A pre-forking server (tests/apps/xfer.py prefork): the parent listens under
# skaccel-run, forks workers, and each worker accept()s and serves, so every
# registration happens in a forked child that inherited the shim's state. Sixteen
# concurrent client connections with checksummed, echoed rounds; several workers must
# have served, and the bytes must have gone by the fast path.
#
# SKACCEL_DISABLE=1 tests/e2e/apps/prefork.sh must FAIL every test.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/prefork/python_fork_after_listen)
apps_require python3 -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

t=apps/prefork/python_fork_after_listen
base=$SKT_TMP/prefork
apps_mark
if ! apps_serve "$base.server" "$base.ready" python3 "$APPS_DIR/xfer.py" prefork \
	--addr 127.0.0.1 --port 18001 --workers 4 --ready "$base.ready"; then
	apps_verdict $t "$APPS_WHY" 0 900
	skt_done
fi
# 20 rounds: the first round of a connection goes by TCP (lazy promotion, shim/promote.h:
# a connection is registered within its second exchange), up to 2 x 2 MiB of each 16.
apps_run python3 "$APPS_DIR/xfer.py" client --addr 127.0.0.1 --port "$APPS_PORT" --conns 16 \
	--rounds 20 --max-size $((2 * 1024 * 1024)) --seed "${SKT_SEED:-$RANDOM}" \
	>"$base.out" 2>"$base.client"
rc=$?
err=$(apps_client_check "$base.client" "$base.out" $rc)
workers=$(grep -o '"pids": *\[[^]]*\]' "$base.out" | tr -cd ',' | wc -c)
workers=$((workers + 1))
if [ -z "$err" ] && [ "$workers" -lt 2 ]; then
	err="only $workers worker served the 16 connections: $(cat "$base.out")"
fi
[ -z "$err" ] && [ -s "$base.server" ] && err="server complained: $(skt_tail "$base.server")"
apps_kill_ns
apps_verdict $t "$err" "$(apps_json_num "$base.out" bytes || echo 0)" 900 "workers_serving=$workers"

apps_helper_alive apps/prefork/helper_alive
skt_helper_stop
skt_helper_unpin
skt_done
