# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# Starting a private skaccel-helperd and checking that it is alive: the one copy that the
# end-to-end tests (tests/lib/skt.sh), the benchmark and the demo (bench/lib.sh) share.
# Sourced, not run. The functions return 0 or 1 and print nothing; each caller turns a 1
# into its own kind of failure (a FAIL verdict, or the benchmark's exit) with the helper's
# log, which it knows.

# helper_spawn LOG cmd...: run cmd (the helper, perhaps behind taskset) in the background
# of this shell, its output into LOG; sets HELPER_PID.
helper_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	# shellcheck disable=SC2034 # for the caller
	HELPER_PID=$!
}

# helper_alive PID: the helper still runs (a crashed helper would quietly turn every later
# measurement or test into plain TCP).
helper_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# helper_crash_report LOG: prints the first sanitizer or crash report in the helper's log;
# returns 1 if there is none.
helper_crash_report() {
	grep -m1 -E 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|Segmentation' \
		"$1" 2>/dev/null
}

# helper_wait_ready PID SOCK LOG [ping cmd...]: wait at most 10 s until the helper listens
# on SOCK and has logged "Ready" in LOG or, when a ping command is given, that command
# prints nothing (skaccel-run warns when no helper answers). Returns 0 when ready, 1 when
# the helper exited (HELPER_WHY="exited at start-up"), 1 after 10 s (HELPER_WHY="not
# ready within 10 s").
helper_wait_ready() {
	local pid=$1 sock=$2 log=$3 _
	shift 3
	for _ in $(seq 100); do
		if ! helper_alive "$pid"; then
			# shellcheck disable=SC2034 # for the caller
			HELPER_WHY="exited at start-up"
			return 1
		fi
		if [ -S "$sock" ] && { grep -q "Ready" "$log" 2>/dev/null ||
			{ [ $# -gt 0 ] && [ -z "$("$@" 2>&1)" ]; }; }; then
			return 0
		fi
		sleep 0.1
	done
	# shellcheck disable=SC2034 # for the caller
	HELPER_WHY="not ready within 10 s"
	return 1
}
