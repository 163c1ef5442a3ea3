#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's reader-memory options, --rx-budget and --rx-resume, tested as options: every
# other test runs the data path with the default (no budget of skaccel's own: a reader may
# hold what TCP would let it, its SO_RCVBUF plus the writer's SO_SNDBUF). Nothing here needs
# an option to pass: the stream that runs under the budget runs at the defaults first.
#   default_no_budget       a helper started without them publishes no budget (~0) to the
#                           programs (skaccel_cfg, read back by --stats --json), and a
#                           verified 32 MiB stream (skt_xfer_pair) arrives byte for byte,
#                           at least 95% of it by the redirect
#   given_values_published  --rx-budget 1M --rx-resume 512K reach the programs as given
#   transfer_intact         with that budget, the same stream still arrives byte for byte,
#                           and part of it still goes by the redirect
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(rx_budget/default_no_budget rx_budget/given_values_published rx_budget/transfer_intact)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"

skt_helper_start || fail_all "$SKT_WHY"
ERR=""
b=$(skt_json_num rx_budget)
[ "$b" = 18446744073709551615 ] || ERR="rx_budget is '${b:-missing}', want 18446744073709551615 (none)"
if [ -z "$ERR" ]; then
	r0=$(skt_stat redir_bytes)
	t0=$(skt_stat tcp_bytes)
	skt_xfer_pair "$NS" "$SKT_SOCK" $((32 << 20))
	redir=$(($(skt_stat redir_bytes) - r0))
	tcp=$(($(skt_stat tcp_bytes) - t0))
	if [ -z "$ERR" ] && [ $((redir * 100)) -lt $(((redir + tcp) * 95)) ]; then
		ERR="only $redir of $((redir + tcp)) bytes went by the redirect"
	fi
fi
skt_verdict rx_budget/default_no_budget "$ERR"
skt_helper_stop
skt_helper_unpin

skt_helper_start --rx-budget 1M --rx-resume 512K || {
	skt_fail rx_budget/given_values_published "$SKT_WHY"
	skt_fail rx_budget/transfer_intact "$SKT_WHY"
	skt_done
}
b=$(skt_json_num rx_budget)
r=$(skt_json_num rx_resume)
ERR=""
if [ "$b" != 1048576 ] || [ "$r" != 524288 ]; then
	ERR="rx_budget '${b:-missing}', rx_resume '${r:-missing}'; want 1048576 and 524288"
fi
skt_verdict rx_budget/given_values_published "$ERR"

r0=$(skt_stat redir_bytes)
skt_xfer_pair "$NS" "$SKT_SOCK" $((32 << 20))
if [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
	ERR="nothing went by the redirect"
fi
skt_verdict rx_budget/transfer_intact "$ERR"
skt_helper_stop
skt_helper_unpin
skt_done
