#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The libFuzzer targets for what untrusted clients send the helper, built into
# $SKT_BUILD/fuzz/ by `make` when clang supports -fsanitize=fuzzer: request decoding on
# the helper socket (tests/fuzz/fuzz_request.c, tests fuzz_request/*) and the metrics
# endpoint's HTTP request parser (tests/fuzz/fuzz_metrics_http.c, fuzz_metrics_http/*):
#
#   seeds                 every seed in tests/fuzz/corpus/TARGET/ runs clean
#   canary_detected       with SKT_FUZZ_CANARY=1 an input starting "CRSH" aborts, and this
#                         script sees it: a crash cannot go unnoticed
#   bounded_run           SKT_FUZZ_SECONDS (default 30) of fuzzing from the seeds, ASan and
#                         UBSan on: no crash, leak, timeout or property failure
#
# New inputs go to a scratch corpus, never into the repository; a crashing input is kept
# in $SKT_BUILD/test-logs/ and named in the FAIL line. Needs no root.
. "$(dirname "$0")/../../lib/skt.sh"

SECS=${SKT_FUZZ_SECONDS:-30}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$SKT_BUILD/test-logs"

# fuzz_target NAME SEED_DIR MAX_LEN: the three tests of $SKT_BUILD/fuzz/NAME.
fuzz_target() {
	local name=$1 seeds=$2 max_len=$3 fuzz=$SKT_BUILD/fuzz/$1 tmp=$SKT_TMP/$1 n rc runs crash t
	local artifacts=$SKT_BUILD/test-logs/$1-
	local opts=(-max_len="$max_len" -timeout=5 -rss_limit_mb=2048 -artifact_prefix="$artifacts")

	if [ ! -x "$fuzz" ]; then
		for t in seeds canary_detected bounded_run; do
			skt_skip "$name/$t" "$fuzz not built: clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev, then make)"
		done
		return
	fi
	mkdir -p "$tmp"

	# --- the seeds alone --------------------------------------------------------------
	n=$(find "$seeds" -type f | wc -l)
	if [ "$n" -lt 10 ]; then
		skt_fail "$name/seeds" "only $n seeds in $seeds"
	elif timeout -k 5 120 "$fuzz" "${opts[@]}" -runs=0 "$seeds" >"$tmp/seeds.log" 2>&1; then
		skt_pass "$name/seeds"
	else
		skt_fail "$name/seeds" "$(grep -m1 -E 'property failed|ERROR|runtime error' "$tmp/seeds.log" || skt_tail "$tmp/seeds.log")"
	fi

	# --- the harness notices a crash --------------------------------------------------
	printf 'CRSH' >"$tmp/canary"
	if SKT_FUZZ_CANARY=1 timeout -k 5 60 "$fuzz" -artifact_prefix="$tmp/canary-" \
		"$tmp/canary" >"$tmp/canary.log" 2>&1; then
		skt_fail "$name/canary_detected" "an input that aborts ran clean: crashes would go unnoticed"
	elif grep -q "deadly signal" "$tmp/canary.log"; then
		skt_pass "$name/canary_detected"
	else
		skt_fail "$name/canary_detected" "no libFuzzer crash report: $(skt_tail "$tmp/canary.log")"
	fi

	# --- a bounded run ----------------------------------------------------------------
	mkdir -p "$tmp/corpus"
	rm -f "$artifacts"*
	timeout -k 10 $((SECS + 60)) "$fuzz" "${opts[@]}" -max_total_time="$SECS" -print_final_stats=1 \
		"$tmp/corpus" "$seeds" >"$tmp/run.log" 2>&1
	rc=$?
	cp "$tmp/run.log" "$SKT_BUILD/test-logs/$name.log"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/run.log")
	crash=$(ls "$artifacts"* 2>/dev/null | head -n1)
	if [ $rc -ne 0 ] || [ -n "$crash" ]; then
		skt_fail "$name/bounded_run" "exit $rc after ${runs:-?} runs: $(grep -m1 -E 'property failed|ERROR:|runtime error' "$tmp/run.log" || skt_tail "$tmp/run.log")${crash:+ (input: $crash)}"
	elif [ "${runs:-0}" -lt 1000 ]; then
		skt_fail "$name/bounded_run" "only ${runs:-0} runs in $SECS s: $(skt_tail "$tmp/run.log")"
	else
		skt_info "$name: $runs runs in $SECS s"
		skt_pass "$name/bounded_run"
	fi
}

fuzz_target fuzz_request "$SKT_ROOT/tests/fuzz/corpus/request" 256
# Past HELPERD_METRICS_REQ_MAX (2048), which the target cuts inputs to, as the server does.
fuzz_target fuzz_metrics_http "$SKT_ROOT/tests/fuzz/corpus/metrics_http" 2100
skt_done
