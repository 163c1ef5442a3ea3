#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The libFuzzer target for request decoding (tests/fuzz/fuzz_request.c, built into
# $SKT_BUILD/fuzz/ by `make` when clang supports -fsanitize=fuzzer):
#
#   seeds                 every seed in tests/fuzz/corpus/request/ runs clean
#   canary_detected       with SKT_FUZZ_CANARY=1 an input starting "CRSH" aborts, and this
#                         script sees it: a crash cannot go unnoticed
#   bounded_run           SKT_FUZZ_SECONDS (default 30) of fuzzing from the seeds, ASan and
#                         UBSan on: no crash, leak, timeout or property failure
#
# New inputs go to a scratch corpus, never into the repository; a crashing input is kept
# in $SKT_BUILD/test-logs/ and named in the FAIL line. Needs no root.
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(fuzz_request/seeds fuzz_request/canary_detected fuzz_request/bounded_run)
FUZZ=$SKT_BUILD/fuzz/fuzz_request
SEEDS=$SKT_ROOT/tests/fuzz/corpus/request
SECS=${SKT_FUZZ_SECONDS:-30}

if [ ! -x "$FUZZ" ]; then
	for t in "${TESTS[@]}"; do
		skt_skip "$t" "$FUZZ not built: clang cannot link -fsanitize=fuzzer (apt-get install libclang-rt-14-dev, then make)"
	done
	exit 0
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ARTIFACTS=$SKT_BUILD/test-logs/fuzz_request-
mkdir -p "$SKT_BUILD/test-logs"
OPTS=(-max_len=256 -timeout=5 -rss_limit_mb=2048 -artifact_prefix="$ARTIFACTS")

# --- the seeds alone ----------------------------------------------------------------------
n=$(find "$SEEDS" -type f | wc -l)
if [ "$n" -lt 10 ]; then
	skt_fail fuzz_request/seeds "only $n seeds in $SEEDS"
elif timeout -k 5 120 "$FUZZ" "${OPTS[@]}" -runs=0 "$SEEDS" >"$SKT_TMP/seeds.log" 2>&1; then
	skt_pass fuzz_request/seeds
else
	skt_fail fuzz_request/seeds "$(grep -m1 -E 'property failed|ERROR|runtime error' "$SKT_TMP/seeds.log" || skt_tail "$SKT_TMP/seeds.log")"
fi

# --- the harness notices a crash ----------------------------------------------------------
printf 'CRSH' >"$SKT_TMP/canary"
if SKT_FUZZ_CANARY=1 timeout -k 5 60 "$FUZZ" -artifact_prefix="$SKT_TMP/canary-" \
	"$SKT_TMP/canary" >"$SKT_TMP/canary.log" 2>&1; then
	skt_fail fuzz_request/canary_detected "an input that aborts ran clean: crashes would go unnoticed"
elif grep -q "deadly signal" "$SKT_TMP/canary.log"; then
	skt_pass fuzz_request/canary_detected
else
	skt_fail fuzz_request/canary_detected "no libFuzzer crash report: $(skt_tail "$SKT_TMP/canary.log")"
fi

# --- a bounded run --------------------------------------------------------------------------
mkdir -p "$SKT_TMP/corpus"
rm -f "$ARTIFACTS"*
timeout -k 10 $((SECS + 60)) "$FUZZ" "${OPTS[@]}" -max_total_time="$SECS" -print_final_stats=1 \
	"$SKT_TMP/corpus" "$SEEDS" >"$SKT_TMP/run.log" 2>&1
rc=$?
cp "$SKT_TMP/run.log" "$SKT_BUILD/test-logs/fuzz_request.log"
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$SKT_TMP/run.log")
crash=$(ls "$ARTIFACTS"* 2>/dev/null | head -n1)
if [ $rc -ne 0 ] || [ -n "$crash" ]; then
	skt_fail fuzz_request/bounded_run "exit $rc after ${runs:-?} runs: $(grep -m1 -E 'property failed|ERROR:|runtime error' "$SKT_TMP/run.log" || skt_tail "$SKT_TMP/run.log")${crash:+ (input: $crash)}"
elif [ "${runs:-0}" -lt 1000 ]; then
	skt_fail fuzz_request/bounded_run "only ${runs:-0} runs in $SECS s: $(skt_tail "$SKT_TMP/run.log")"
else
	skt_info "fuzz_request: $runs runs in $SECS s"
	skt_pass fuzz_request/bounded_run
fi
skt_done
