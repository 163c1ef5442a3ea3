#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The kernel self-test (helperd/selftest.c) for real: a helper runs it at start and says
# "Kernel self-test passed" once; it leaves no skaccel_conns or skaccel_peers entries
# behind; it passes again and again against a running helper's maps (the unit test
# binary's --live mode), also while an accelerated transfer runs; connections are still
# accelerated afterwards; and with --disable it is not run, and refuses when asked.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(selftest/helper_log_passed selftest/no_entries_left_at_start selftest/live_repeat
       selftest/live_while_busy selftest/accelerated_after selftest/disabled_not_run)
skt_require "${TESTS[@]}"

LIVE=$TPROGS/test_helperd_selftest
MB=$((1024 * 1024))

# Entries in a pinned hash map, by bpftool (JSON), or "?" without bpftool.
map_entries() {
	command -v bpftool >/dev/null || { echo "?"; return; }
	bpftool -j map dump pinned "$1" 2>/dev/null | grep -o '"key"' | wc -l
}

# What the maps hold now, empty when nothing is registered: the sockets --stats lists
# (live and closed but not swept) and the skaccel_peers entries.
leftovers() {
	local j reg closed peers out=""
	j=$(skt_stats_json)
	reg=$(printf '%s' "$j" | grep -o '"sockets_registered": *[0-9]*' | grep -o '[0-9]*$')
	closed=$(printf '%s' "$j" | grep -o '"sockets_closed_unswept": *[0-9]*' | grep -o '[0-9]*$')
	peers=$(map_entries "$SKT_PIN/skaccel_peers")
	[ "${reg:-x}" = 0 ] || out="sockets_registered ${reg:-missing}"
	[ "${closed:-x}" = 0 ] || out="${out:+$out, }sockets_closed_unswept ${closed:-missing}"
	[ "$peers" = 0 ] || [ "$peers" = "?" ] || out="${out:+$out, }$peers skaccel_peers entries"
	echo "$out"
}

verdict() { if [ -n "$2" ]; then skt_fail "$1" "$2"; else skt_pass "$1"; fi; }

# xfer NS CLIENT_ARGS...: one verified opted-in tcp_xfer exchange in NS. Sets ERR ("" if
# both ends were fine) and returns 1 if not.
xfer() {
	local ns=$1 tag ready spid
	shift
	tag=$(mktemp -u "$SKT_TMP/xfer-XXXXXX") # not SKT_SEQ: it may run in a subshell
	ready=$tag.ready
	ERR=""
	skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$ready" \
		--conns 1 >"$tag.server" 2>&1 &
	spid=$!
	skt_wait_file "$ready" || { ERR="server did not start: $(skt_tail "$tag.server")"; return; }
	skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 \
		"$(cut -d' ' -f1 "$ready")" "$@" >"$tag.client" 2>&1 ||
		ERR="client: $(skt_tail "$tag.client")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$tag.server")"
	[ -z "$ERR" ]
}

if [ ! -x "$LIVE" ]; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$LIVE not built (make)"; done
	skt_done
fi
if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

# --- the helper's own run at start ------------------------------------------------------
# Right after start: the self-test ran before "Ready", so whatever it left would show.
LEFT=$(leftovers)
passed=$(grep -c "Kernel self-test passed" "$SKT_HLOG")
ERR=""
if grep -q "Kernel self-test failed" "$SKT_HLOG"; then
	ERR=$(grep -m1 "Kernel self-test failed" "$SKT_HLOG")
elif [ "$passed" -ne 1 ]; then
	ERR="the helper logged 'Kernel self-test passed' $passed times, expected once"
	ERR="$ERR (is the self-test wired into main.c?)"
elif ! grep "Kernel self-test passed" "$SKT_HLOG" | grep -qv "debug:"; then
	ERR="'Kernel self-test passed' is logged at debug level, expected info"
fi
verdict selftest/helper_log_passed "$ERR"
verdict selftest/no_entries_left_at_start "${LEFT:+right after start the maps hold $LEFT}"

# --- the same test against the running helper's maps, many times -----------------------
out=$("$LIVE" --live "$SKT_PIN" 200 2>&1)
rc=$?
LEFT=$(leftovers)
skt_info "live: $out"
ERR=""
if [ $rc -ne 0 ]; then
	ERR="exit $rc: $(printf '%s' "$out" | head -n3 | tr '\n' '|')"
elif [ -n "$LEFT" ]; then
	ERR="200 passing runs left $LEFT in the maps"
fi
verdict selftest/live_repeat "$ERR"

# --- ... while an accelerated transfer keeps both CPUs busy -----------------------------
# A false failure would switch acceleration off for good, so it must not flake under load.
ERR=""
skt_netns_new NS || ERR="cannot create a network namespace"
if [ -z "$ERR" ]; then
	xfer "$NS" --duration 4 --reply $MB >/dev/null 2>&1 &
	bpid=$!
	sleep 0.5
	out=$("$LIVE" --live "$SKT_PIN" 500 2>&1)
	rc=$?
	wait "$bpid"
	brc=$?
	skt_info "live while busy: $out"
	if [ $rc -ne 0 ]; then
		ERR="exit $rc: $(printf '%s' "$out" | head -n3 | tr '\n' '|')"
	elif [ $brc -ne 0 ]; then
		ERR="the background transfer failed (see $SKT_TMP/xfer-*)"
	fi
fi
verdict selftest/live_while_busy "$ERR"

# --- a real connection is accelerated after all those runs -------------------------------
ERR=""
if [ -z "${NS:-}" ]; then
	ERR="no network namespace"
else
	r0=$(skt_stat redir_bytes)
	xfer "$NS" --bytes $((8 * MB)) --reply $((2 * MB)) --fast
	r1=$(skt_stat redir_bytes)
	LEFT=$(leftovers)
	if [ -z "$ERR" ] && [ $((r1 - r0)) -lt $((4 * MB)) ]; then
		ERR="only $((r1 - r0)) bytes redirected for a $((10 * MB))-byte exchange"
	elif [ -z "$ERR" ] && [ -n "$LEFT" ]; then
		sleep 1.5 # the helper's sweep runs every second
		LEFT=$(leftovers)
		[ -n "$LEFT" ] && ERR="after the connection closed the maps still hold $LEFT"
	fi
fi
verdict selftest/accelerated_after "$ERR"
skt_helper_stop
skt_helper_unpin

# --- --disable: nothing to test, the helper skips it and the function refuses ----------
ERR=""
if ! skt_helper_start --disable; then
	ERR=$SKT_WHY
else
	out=$("$LIVE" --live "$SKT_PIN" 1 2>&1)
	rc=$?
	if grep -q "Kernel self-test \(passed\|failed\)" "$SKT_HLOG"; then
		ERR="a --disable helper ran it: $(grep -m1 "Kernel self-test" "$SKT_HLOG")"
	elif [ $rc -eq 0 ] || ! printf '%s' "$out" | grep -q "acceleration is disabled"; then
		ERR="with acceleration disabled the self-test did not refuse: exit $rc: $out"
	elif [ -n "$(leftovers)" ]; then
		ERR="the refused self-test left $(leftovers)"
	fi
	skt_helper_stop
	skt_helper_unpin
fi
verdict selftest/disabled_not_run "$ERR"

skt_done
