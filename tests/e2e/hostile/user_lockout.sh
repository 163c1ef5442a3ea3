#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The unprivileged user nobody opens 2000 connections to a helper
# with --max-clients 1024 and never sends a byte. Meanwhile another user's well-behaved
# client must still get a PING answered and a connection registered within 200 ms. Today
# every slot is taken by nobody's silent connections and the helper closes every new
# client at once: acceleration is denied to all users for as long as nobody likes (no
# per-user client limit, no idle timeout; SECURITY.md, "Known gaps").
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile/silent_clients_at_bound_do_not_lock_out_others)
hs_require "${TESTS[@]}"
skt_netns_new NS || { skt_fail "${TESTS[0]}" "no netns"; skt_done; }
if ! skt_helper_start --max-clients 1024 || ! skt_stage_for_others --python; then
	skt_fail "${TESTS[0]}" "$SKT_WHY"
	skt_done
fi
mkdir -p "$SKT_TMP/u"
chown nobody "$SKT_TMP/u"

# Not hs_py_nobody: $! must be the client's own process (timeout(1)), not a subshell.
ip netns exec "$NS" setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
	timeout -k 5 60 "$SKT_OTHER_PY" "$SKT_OTHER_HOSTILE/skhostile.py" hold --socket "$SKT_SOCK" --count 2000 \
	--ready "$SKT_TMP/u/hold.ready" --hold 30 >/dev/null 2>"$SKT_TMP/hold.err" &
HOLD=$!
if ! skt_wait_file "$SKT_TMP/u/hold.ready" 300; then
	skt_fail "${TESTS[0]}" "the silent clients did not connect: $(skt_tail "$SKT_TMP/hold.err")"
else
	skt_info "$(cat "$SKT_TMP/u/hold.ready")"
	hs_verdicts "${TESTS[0]}" hs_py "$NS" probe --socket "$SKT_SOCK" --name "${TESTS[0]}" \
		--pings 20 --register --max-ms 200
fi
kill "$HOLD" 2>/dev/null
wait "$HOLD" 2>/dev/null
skt_helper_stop
skt_helper_unpin
skt_done
