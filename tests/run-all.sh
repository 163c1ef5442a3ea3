#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# What `make check` runs once everything is built into build/: every unit test binary
# (build/tests/test_*, one test each: exit 0 passes, 77 skips, anything else fails), then
# every end-to-end script (tests/e2e/*.sh, whose PASS/FAIL/SKIP lines are the tests).
# Prints one line per test and ends with exactly one line "N passed, N failed"; exits 1
# if anything failed. A SKIP (the machine lacks root, bpffs, sockmap, ...) is printed
# loudly and, with CI=true, counted as a failure.
#
#   SKT_BUILD=DIR            test another build directory (default build/)
#   SKT_E2E="a b"            run only these e2e scripts (names without .sh)
#   SKT_UNIT=0 / SKT_E2E=""  skip the unit or (empty) the e2e tier
#   SKT_SCRIPT_TIMEOUT=S     bound per e2e script (default 900 s)
#   SKT_VERBOSE=1            e2e details on stderr
# Full output of every binary and script is kept in $SKT_BUILD/test-logs/ (or, if that
# is not writable, a directory in /tmp named on each FAIL line).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
export SKT_BUILD=${SKT_BUILD:-$ROOT/build}
case $SKT_BUILD in /*) ;; *) SKT_BUILD=$ROOT/$SKT_BUILD ;; esac
HELPERD=$SKT_BUILD/skaccel-helperd
LOGS=$SKT_BUILD/test-logs
# Logs beside the build when we may write there, else in a fresh temporary directory.
if ! mkdir -p "$LOGS" 2>/dev/null || [ ! -w "$LOGS" ]; then
	LOGS=$(mktemp -d /tmp/skaccel-test-logs-XXXXXX)
fi
. "$ROOT/tests/lib/sweep.sh"

# One id and one record of created resources for the whole run, swept at the end even
# when a script was killed by its timeout; leftovers of earlier killed runs go first.
export SKT_RUN_ID=$$
SKT_STATE=$(mktemp -d "/tmp/skt-$SKT_RUN_ID-state-XXXXXX")
export SKT_STATE
[ "$(id -u)" -eq 0 ] && skt_sweep_stale

passed=0
failed=0
skipped=0
unsupported=0
ci=0
case ${CI:-} in true | 1) ci=1 ;; esac

cleanup() {
	skt_sweep "$SKT_STATE"
	rm -rf "$SKT_STATE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

verdict() { # LINE: count and print one PASS/FAIL/SKIP line
	case $1 in
	PASS:*) passed=$((passed + 1)) ;;
	FAIL:*) failed=$((failed + 1)) ;;
	SKIP:*)
		skipped=$((skipped + 1))
		[ $ci -eq 1 ] && failed=$((failed + 1))
		;;
	UNSUPPORTED:*) unsupported=$((unsupported + 1)) ;; # printed, never counted as a pass
	*) return ;;
	esac
	echo "$1"
}

# --- unit tests -------------------------------------------------------------------------
if [ "${SKT_UNIT:-1}" != 0 ]; then
	found=0
	for t in "$SKT_BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		found=1
		name=unit/$(basename "$t")
		log=$LOGS/$(basename "$t").log
		timeout -k 5 300 "$t" >"$log" 2>&1
		rc=$?
		case $rc in
		0) verdict "PASS: $name" ;;
		77) verdict "SKIP: $name: $(tail -n1 "$log")" ;;
		124) verdict "FAIL: $name: timed out after 300 s (log: $log)" ;;
		*) verdict "FAIL: $name: exit $rc: $(grep -m1 -iE 'fail|assert' "$log" || tail -n1 "$log") (log: $log)" ;;
		esac
	done
	[ $found -eq 1 ] || verdict "FAIL: unit: no unit test binaries in $SKT_BUILD/tests (build first)"
fi

# --- end-to-end tests ---------------------------------------------------------------------
if [ -n "${SKT_E2E-all}" ]; then
	for s in tests/e2e/*.sh; do
		name=$(basename "$s" .sh)
		if [ "${SKT_E2E:-all}" != all ] && [[ " $SKT_E2E " != *" $name "* ]]; then
			continue
		fi
		log=$LOGS/e2e-$name.log
		start=$SECONDS
		n=0
		: >"$log"
		# A script's own verdicts, as they come; everything else goes to the log.
		while IFS= read -r line; do
			echo "$line" >>"$log"
			case $line in PASS:* | FAIL:* | SKIP:* | UNSUPPORTED:*) verdict "$line"; n=$((n + 1)) ;; esac
		done < <(timeout -k 10 "${SKT_SCRIPT_TIMEOUT:-900}" bash "$s" 2>>"$log"; echo "EXIT: $?")
		rc=$(sed -n 's/^EXIT: //p' "$log" | tail -n1)
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			verdict "FAIL: e2e/$name: killed after ${SKT_SCRIPT_TIMEOUT:-900} s (log: $log)"
		elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$log"; then
			verdict "FAIL: e2e/$name: exited $rc without a FAIL verdict (log: $log)"
		elif [ $n -eq 0 ]; then
			verdict "FAIL: e2e/$name: printed no verdict (log: $log)"
		fi
		echo "  e2e/$name: $((SECONDS - start)) s" >&2
		# Whatever the script left behind (it was killed, or its trap failed) goes now.
		skt_sweep "$SKT_STATE"
	done
fi

if [ $skipped -gt 0 ]; then
	if [ $ci -eq 1 ]; then
		echo "!!! $skipped test(s) SKIPPED, counted as failures because CI=true"
	else
		echo "!!! $skipped test(s) SKIPPED: not run on this machine (see the SKIP lines)"
	fi
fi
[ $unsupported -gt 0 ] &&
	echo "!!! $unsupported documented limitation(s) UNSUPPORTED under skaccel (not counted; README.md)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
