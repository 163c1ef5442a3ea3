#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's reader-memory options, --rx-budget and --rx-resume, tested as options: every
# other test runs the data path with the default (no budget of skaccel's own: a reader may
# hold what TCP would let it, its SO_RCVBUF plus the writer's SO_SNDBUF).
#   default_no_budget       a helper started without them publishes no budget (~0) to the
#                           programs (skaccel_cfg, read back by --stats --json)
#   given_values_published  --rx-budget 1M --rx-resume 512K reach the programs as given
#   transfer_intact         with that budget, a verified 32 MiB stream (whose reader checks
#                           every byte) and its reply arrive byte for byte, and part of it
#                           still goes by the redirect
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(rx_budget/default_no_budget rx_budget/given_values_published rx_budget/transfer_intact)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }
json_num() { skt_stats_json | grep -o "\"$1\": *[0-9]*" | head -n1 | grep -o '[0-9]*$'; }

skt_netns_new NS || fail_all "cannot create a network namespace"

skt_helper_start || fail_all "$SKT_WHY"
b=$(json_num rx_budget)
if [ "$b" = 18446744073709551615 ]; then
	skt_pass rx_budget/default_no_budget
else
	skt_fail rx_budget/default_no_budget "rx_budget is '${b:-missing}', want 18446744073709551615 (none)"
fi
skt_helper_stop
skt_helper_unpin

skt_helper_start --rx-budget 1M --rx-resume 512K || {
	skt_fail rx_budget/given_values_published "$SKT_WHY"
	skt_fail rx_budget/transfer_intact "$SKT_WHY"
	skt_done
}
b=$(json_num rx_budget)
r=$(json_num rx_resume)
if [ "$b" = 1048576 ] && [ "$r" = 524288 ]; then
	skt_pass rx_budget/given_values_published
else
	skt_fail rx_budget/given_values_published "rx_budget '${b:-missing}', rx_resume '${r:-missing}'; want 1048576 and 524288"
fi

ready=$SKT_TMP/server.ready
r0=$(skt_stat redir_bytes)
skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --conns 1 \
	--ready "$ready" >"$SKT_TMP/server.out" 2>&1 &
spid=$!
ERR=""
if ! skt_wait_file "$ready"; then
	ERR="server did not start: $(skt_tail "$SKT_TMP/server.out")"
	kill "$spid" 2>/dev/null
else
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$ready")" \
		--bytes 32M --reply 1M >"$SKT_TMP/client.out" 2>&1 || ERR="client: $(skt_tail "$SKT_TMP/client.out")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$SKT_TMP/server.out")"
fi
if [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
	ERR="nothing went by the redirect"
fi
if [ -n "$ERR" ]; then skt_fail rx_budget/transfer_intact "$ERR"; else skt_pass rx_budget/transfer_intact; fi
skt_helper_stop
skt_helper_unpin
skt_done
