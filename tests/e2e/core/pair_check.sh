#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The pairing check itself (bpf/skaccel_pair.bpf.c), run by tests/progs/pair_probe against a
# private helper's pinned program, on loopback pairs it inserts as the helper would: a true
# pair streaming both ways is never refused (50 000 checks read sequence numbers in
# flight), and a peer of another connection, a peer that left its connection, a socket that
# reconnected elsewhere and a closed peer each get their own verdict. One verdict per case.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(pair_check/live_pair_under_stream pair_check/self_only pair_check/other_connection
       pair_check/ghost_peer pair_check/moved pair_check/closed_peer)
skt_require "${TESTS[@]}"

if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
out=$(timeout -k 5 120 "$TPROGS/pair_probe" "$SKT_PIN" 2>&1)
for t in "${TESTS[@]}"; do
	c=${t#pair_check/}
	if grep -qx "ok $c" <<<"$out"; then
		skt_pass "$t"
	else
		skt_fail "$t" "$(grep -m1 "FAIL $c:" <<<"$out" || echo "no verdict from pair_probe: $(tail -n3 <<<"$out" | tr '\n' '|')")"
	fi
done
skt_done
