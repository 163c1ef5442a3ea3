#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Hostile requests (SECURITY.md, "What the helper trusts"): against a private helper, one
# fresh connection per kind of bad request (wrong size, magic, version, op, reserved bits;
# no fd, 2, 4, 5 and 253 fds; truncated data and control data; a file, directory, pipe,
# FIFO, eventfd, memfd, epoll fd; UDP, Unix, netlink and MPTCP sockets; TCP sockets that
# are unconnected, listening, in SYN_SENT, reset, CLOSE_WAIT, FIN_WAIT2, or have
# SO_ZEROCOPY; the same socket twice). For each (tests/hostile/skhostile.py requests):
# the exact status, op/seq echoed only when the request parsed, no cookie on a refusal,
# the helper holds none of the fds it was sent once it has answered, the connection is
# cut off exactly when the protocol says so (truncation) and served otherwise, a new
# client is still served, and the helper logged one line naming the client and the reason.
#
# Then 20000 bad requests (plus silent clients) in a loop: every one answered, the
# helper's open fd count back to its baseline exactly, VmRSS within 32 kB of it; the
# refusals are counted in --stats; the helper is still alive with a clean log.
#
# Cases the helper gets wrong today are in tests/hostile/pending/requests_pending.sh.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile_requests/cases hostile_requests/leak hostile_requests/refusals_counted
       hostile_requests/helper_survived)
hs_require "${TESTS[@]}"

# A sanitized helper (make SANITIZE=1) grows by its allocator's own bookkeeping (shadow
# pages, size-class regions, about 0.5 MiB here): RSS then only bounds gross growth, and
# LeakSanitizer, at a clean exit, is the leak check.
RSS_TOL=32
if grep -q __asan_init "$HELPERD" 2>/dev/null; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:detect_leaks=1"
	TESTS+=(hostile_requests/sanitizer_clean_exit)
	RSS_TOL=2048
fi

skt_netns_new NS || { for t in "${TESTS[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

ref0=$(hs_refusals)
hs_verdicts hostile_requests/cases \
	hs_py "$NS" requests --socket "$SKT_SOCK" --helper-pid "$SKT_HELPER_PID" --helper-log "$SKT_HLOG"
hs_verdicts hostile_requests/leak \
	hs_py "$NS" leak --socket "$SKT_SOCK" --helper-pid "$SKT_HELPER_PID" --count 20000 \
	--rss-tolerance-kb $RSS_TOL

# Every refusal is counted (the counters are written once the helper is idle for 1 ms).
sleep 0.2
ref1=$(hs_refusals)
ERR=""
[ $((ref1 - ref0)) -ge 21000 ] ||
	ERR="refusal counters rose by $((ref1 - ref0)), expected at least 21000 (the leak loop alone sends 21000)"
skt_verdict hostile_requests/refusals_counted "$ERR"

hs_helper_alive hostile_requests/helper_survived

if [[ " ${TESTS[*]} " == *" hostile_requests/sanitizer_clean_exit "* ]]; then
	kill -TERM "$SKT_HELPER_PID"
	wait "$SKT_HELPER_PID"
	rc=$?
	ERR=""
	[ $rc -eq 0 ] || ERR="exit status $rc after SIGTERM"
	grep -qE 'Sanitizer|runtime error' "$SKT_HLOG" &&
		ERR="${ERR:+$ERR; }$(grep -m1 -E 'Sanitizer|runtime error' "$SKT_HLOG")"
	skt_verdict hostile_requests/sanitizer_clean_exit "$ERR"
fi
skt_helper_stop
skt_helper_unpin
skt_done
