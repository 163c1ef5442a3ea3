# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Shell helpers for the hostile-client, isolation, restart and systemd tests
# (tests/e2e/hostile/*.sh, systemd_*.sh, tests/hostile/pending/*.sh), sourced after
# tests/lib/skt.sh, never run. The hostile clients themselves are
# tests/hostile/skhostile.py (standard library only).

# shellcheck shell=bash

HS_PY=${SKT_PYTHON:-python3}
HS_CLIENT=$SKT_ROOT/tests/hostile/skhostile.py

# Prints why the hostile clients cannot run here (and returns 1), like skt_missing.
hs_missing() {
	command -v "$HS_PY" >/dev/null || { echo "$HS_PY not installed"; return 1; }
	"$HS_PY" -c 'import os, sys; sys.exit(0 if sys.version_info >= (3, 10) and hasattr(os, "eventfd") else 1)' ||
		{ echo "$HS_PY is older than 3.10"; return 1; }
	return 0
}

# hs_require TEST...: skt_require plus python; skips every named test and exits if missing.
hs_require() {
	local why t
	skt_require "$@"
	why=$(hs_missing) && return 0
	for t in "$@"; do skt_skip "$t" "$why"; done
	exit 0
}

# hs_py NS ARGS...: a hostile client inside network namespace NS, bounded in time.
hs_py() {
	local ns=$1
	shift
	skt_in "$ns" timeout -k 5 "${HS_TIMEOUT:-120}" "$HS_PY" "$HS_CLIENT" "$@"
}

# hs_py_bg NS ARGS...: the same in the background; HS_BG_PID is the client's own process
# (timeout(1), which passes a SIGTERM on), not a subshell that would die alone.
hs_py_bg() {
	local ns=$1
	shift
	ip netns exec "$ns" timeout -k 5 "${HS_TIMEOUT:-120}" "$HS_PY" "$HS_CLIENT" "$@" &
	# shellcheck disable=SC2034 # for the caller
	HS_BG_PID=$!
}

# hs_py_nobody NS ARGS...: a hostile client as the unprivileged user nobody: the staged
# skhostile.py under the python nobody can run (skt_stage_for_others --python first).
hs_py_nobody() {
	local ns=$1
	shift
	skt_in "$ns" setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		timeout -k 5 "${HS_TIMEOUT:-120}" "${SKT_OTHER_PY:?}" "${SKT_OTHER_HOSTILE:?}/skhostile.py" "$@"
}

# hs_verdicts GROUP CMD...: run CMD, turn its "PASS: x" / "FAIL: x: why" lines into the
# harness's verdicts (so SKT_FAILED is set), log everything else. A CMD that fails
# without saying which test failed is a FAIL of GROUP, never silence.
hs_verdicts() {
	local group=$1 log rc line nfail=0 n=0
	shift
	SKT_SEQ=$((SKT_SEQ + 1))
	log=$SKT_TMP/verdicts-$SKT_SEQ
	"$@" >"$log.out" 2>"$log.err"
	rc=$?
	while IFS= read -r line; do
		case $line in
		PASS:*) skt_pass "${line#PASS: }"; n=$((n + 1)) ;;
		FAIL:*)
			line=${line#FAIL: }
			skt_fail "${line%%: *}" "${line#*: }"
			nfail=$((nfail + 1)); n=$((n + 1))
			;;
		*) echo "$line" >&2 ;;
		esac
	done <"$log.out"
	cat "$log.err" >&2
	if [ "$rc" -ne 0 ] && [ $nfail -eq 0 ]; then
		skt_fail "$group" "exit $rc without a FAIL verdict: $(skt_tail "$log.err")"
	elif [ $n -eq 0 ]; then
		skt_fail "$group" "no verdict: $(skt_tail "$log.err")"
	fi
}

# skt_verdict NAME ERR: one verdict from a shell check; ERR empty means it passed.

hs_fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
hs_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# The sum of every refusal counter (reg_<status> for status < 0) in --stats --json.
hs_refusals() {
	skt_stats_json "${1:-$SKT_PIN}" | "$HS_PY" -c '
import json, sys
j = json.load(sys.stdin)
refusals = ("bad_request version unknown_op no_fd too_many_fds not_socket not_tcp "
            "not_established not_local already unsupported policy quota map_full disabled "
            "truncated internal too_late not_owner other_netns").split()
print(sum(j.get("reg_" + k, 0) for k in refusals))'
}

# hs_helper_alive NAME: the helper still runs and its log shows no crash or sanitizer report.
hs_helper_alive() {
	local err="" report
	if ! helper_alive "$SKT_HELPER_PID"; then
		err="the helper died: $(skt_tail "$SKT_HLOG" 5)"
	elif report=$(helper_crash_report "$SKT_HLOG"); then
		err="sanitizer or crash report in the helper log: $report"
	fi
	skt_verdict "$1" "$err"
}
