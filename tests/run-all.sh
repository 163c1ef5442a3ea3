#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# What `make check` runs once everything is built into build/: every unit test binary
# (build/tests/test_*, one test each: exit 0 passes, 77 skips, anything else fails), then
# every end-to-end script (tests/e2e/FOLDER/*.sh, whose PASS/FAIL/SKIP lines are the tests).
# The folders say what their scripts test: core (the helper, the data path and the tools),
# semantics (what an application sees, side by side with plain TCP), apps (real programs
# nobody here wrote, under skaccel-run on both ends) and hostile (attackers and faulty clients).
# Prints one line per test and ends with exactly one line "N passed, N failed"; exits 1
# if anything failed. A SKIP (the machine lacks root, bpffs, sockmap, ...) is printed
# loudly and, with CI=true, counted as a failure.
#
#   SKT_BUILD=DIR            test another build directory (default build/)
#   SKT_E2E="a b"            run only these e2e scripts: FOLDER/NAME (without .sh) or a
#                            whole FOLDER, e.g. SKT_E2E="core/policy hostile"
#   SKT_UNIT=0 / SKT_E2E=""  skip the unit or (empty) the e2e tier
#   SKT_SCRIPT_TIMEOUT=S     bound per e2e script (default 900 s)
#   SKT_VERBOSE=1            e2e details on stderr
#   SKT_SAN_BUILD=DIR        also run the unit tests and the scripts in SKT_SAN_E2E (default:
#                            those that drive the helper hardest) against a `make SANITIZE=1`
#                            build in DIR; every verdict is prefixed san/ (make check does)
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

SAN_E2E_DEFAULT="hostile/requests hostile/clients hostile/isolation hostile/restart core/failopen
	core/isolation core/caps core/sockhash_full core/selftest core/policy"
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

# --- the tiers ------------------------------------------------------------------------------

# sanitizer_reports TAG: a FAIL for every ASan/UBSan/LSan report written since the last call
# (SKT_SAN_LOGS holds them: log_path in ASAN_OPTIONS and UBSAN_OPTIONS), then clear them.
sanitizer_reports() {
	local f
	[ -n "${SKT_SAN_LOGS:-}" ] || return 0
	for f in "$SKT_SAN_LOGS"/*; do
		[ -f "$f" ] || continue
		mv "$f" "$LOGS/" 2>/dev/null && f=$LOGS/$(basename "$f")
		verdict "FAIL: $1: sanitizer report: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$f") (log: $f)"
	done
}

# run_units BUILD PREFIX: every unit test binary of a build directory.
run_units() {
	local build=$1 prefix=$2 found=0 t name log rc
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		found=1
		name=${prefix}unit/$(basename "$t")
		log=$LOGS/${prefix//\//-}$(basename "$t").log
		timeout -k 5 300 "$t" >"$log" 2>&1
		rc=$?
		case $rc in
		0) verdict "PASS: $name" ;;
		77) verdict "SKIP: $name: $(tail -n1 "$log")" ;;
		124) verdict "FAIL: $name: timed out after 300 s (log: $log)" ;;
		*) verdict "FAIL: $name: exit $rc: $(grep -m1 -iE 'fail|assert|ERROR' "$log" || tail -n1 "$log") (log: $log)" ;;
		esac
		sanitizer_reports "$name"
	done
	[ $found -eq 1 ] || verdict "FAIL: ${prefix}unit: no unit test binaries in $build/tests (build first)"
}

# run_e2e BUILD PREFIX LIST: end-to-end scripts (LIST "all", or FOLDER/NAME and FOLDER
# words) run against a build directory; PREFIX goes in front of every verdict's name.
run_e2e() {
	local build=$1 prefix=$2 list s name log start n rc line
	# shellcheck disable=SC2086 # one name per word, whatever the separators
	list=" $(echo $3) "
	for s in tests/e2e/*/*.sh; do
		name=${s#tests/e2e/}
		name=${name%.sh}
		if [ "$list" != " all " ] && [[ $list != *" $name "* && $list != *" ${name%%/*} "* ]]; then
			continue
		fi
		# e2e-FOLDER_NAME.log: tests/apps/gen-compat.py reads the apps_* logs by that name.
		log=$LOGS/e2e-${prefix//\//-}${name//\//_}.log
		start=$SECONDS
		n=0
		: >"$log"
		# A script's own verdicts, as they come; everything else goes to the log.
		while IFS= read -r line; do
			echo "$line" >>"$log"
			case $line in
			PASS:* | FAIL:* | SKIP:* | UNSUPPORTED:*)
				verdict "${line%%: *}: $prefix${line#*: }"
				n=$((n + 1))
				;;
			esac
		done < <(SKT_BUILD=$build timeout -k 10 "${SKT_SCRIPT_TIMEOUT:-900}" bash "$s" 2>>"$log"; echo "EXIT: $?")
		rc=$(sed -n 's/^EXIT: //p' "$log" | tail -n1)
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			verdict "FAIL: ${prefix}e2e/$name: killed after ${SKT_SCRIPT_TIMEOUT:-900} s (log: $log)"
		elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$log"; then
			verdict "FAIL: ${prefix}e2e/$name: exited $rc without a FAIL verdict (log: $log)"
		elif [ $n -eq 0 ]; then
			verdict "FAIL: ${prefix}e2e/$name: printed no verdict (log: $log)"
		fi
		echo "  ${prefix}e2e/$name: $((SECONDS - start)) s" >&2
		# Whatever the script left behind (it was killed, or its trap failed) goes now.
		skt_sweep "$SKT_STATE"
		sanitizer_reports "${prefix}e2e/$name"
	done
}

[ "${SKT_UNIT:-1}" != 0 ] && run_units "$SKT_BUILD" ""
[ -n "${SKT_E2E-all}" ] && run_e2e "$SKT_BUILD" "" "${SKT_E2E:-all}"

# The sanitized tier: the same unit tests, and the end-to-end scripts that drive the helper
# hardest, against a `make SANITIZE=1` build. Any ASan, UBSan or leak report fails.
if [ -n "${SKT_SAN_BUILD:-}" ]; then
	case $SKT_SAN_BUILD in /*) ;; *) SKT_SAN_BUILD=$ROOT/$SKT_SAN_BUILD ;; esac
	SKT_SAN_LOGS=$(mktemp -d /tmp/skaccel-san-XXXXXX)
	# verify_asan_link_order=0: sanitized test programs run with the shim preloaded, which
	# puts it ahead of the ASan runtime; the shim itself is built with UBSan only.
	export ASAN_OPTIONS="detect_leaks=1:verify_asan_link_order=0:log_path=$SKT_SAN_LOGS/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$SKT_SAN_LOGS/ubsan"
	run_units "$SKT_SAN_BUILD" "san/"
	run_e2e "$SKT_SAN_BUILD" "san/" "${SKT_SAN_E2E:-$SAN_E2E_DEFAULT}"
	unset ASAN_OPTIONS UBSAN_OPTIONS
	rm -rf "$SKT_SAN_LOGS"
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
