#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A sender's program waits for its reader's socket lock instead of sleeping on it
# (bpf/skaccel_lockwait.bpf.h), with the helper's defaults and nothing pinned, and the
# helper's --lock-wait option that sets how long.
#   default_published a helper started without the option publishes 100 us to the programs
#                     (skaccel_cfg, read back by --stats --json), 0 with one CPU online
#   stream_intact     a verified 64 MiB stream of random-sized writes (skt_xfer_pair: a
#                     reader that checks every byte, then a reply checked by the writer)
#                     arrives byte for byte, mostly by the redirect
#   waits_counted     during it, with more than one CPU online, some redirects found the
#                     reader copying under its lock and waited (lock_waits, or
#                     lock_wait_gave_up when the copy outlasted the wait), in one of up to
#                     three such streams; with one CPU the wait is off and neither counter
#                     moves
#   both_directions   two streams at once in opposite directions on one connection (both
#                     ends writing, either may wait for the other's lock) arrive byte for
#                     byte, partly by the redirect
#   option_off        --lock-wait 0 publishes 0, and the same verified stream arrives byte
#                     for byte without one wait counted
# The tests with the option test the option; the default's tests come first and need none.
#   option_value      --lock-wait 250 publishes 250 us
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(lock_wait/default_published lock_wait/stream_intact lock_wait/waits_counted
	lock_wait/both_directions lock_wait/option_off lock_wait/option_value)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }
waits() { echo $(($(skt_stat lock_waits) + $(skt_stat lock_wait_gave_up))); }
cpus=$(getconf _NPROCESSORS_ONLN)

skt_netns_new NS || fail_all "cannot create a network namespace"
skt_helper_start || fail_all "$SKT_WHY"

want=100000
[ "$cpus" -eq 1 ] && want=0
v=$(skt_json_num lock_wait_ns)
if [ "$v" = "$want" ]; then
	skt_pass lock_wait/default_published
else
	skt_fail lock_wait/default_published "lock_wait_ns is '${v:-missing}', want $want ($cpus CPUs online)"
fi

# The scheduler decides whether the two ends run on two CPUs at once; on a busy machine it
# may keep them on one for a whole stream, where nothing waits. So up to three streams,
# each verified, until one of them waited.
ERR=""
w=0
for attempt in 1 2 3; do
	w0=$(waits)
	r0=$(skt_stat redir_bytes)
	t0=$(skt_stat tcp_bytes)
	skt_xfer_pair "$NS" "$SKT_SOCK" $((64 << 20))
	redir=$(($(skt_stat redir_bytes) - r0))
	tcp=$(($(skt_stat tcp_bytes) - t0))
	if [ -z "$ERR" ] && [ $((redir * 10)) -lt $(((redir + tcp) * 9)) ]; then
		ERR="only $redir of $((redir + tcp)) bytes went by the redirect"
	fi
	[ -n "$ERR" ] && break
	w=$(($(waits) - w0))
	[ "$w" -gt 0 ] || [ "$cpus" -eq 1 ] && break
done
if [ -n "$ERR" ]; then
	skt_fail lock_wait/stream_intact "stream $attempt: $ERR"
	skt_fail lock_wait/waits_counted "the stream failed"
else
	skt_pass lock_wait/stream_intact
	if [ "$cpus" -gt 1 ] && [ "$w" -eq 0 ]; then
		skt_fail lock_wait/waits_counted "no redirect of $attempt streams waited for the reader's lock ($cpus CPUs online)"
	elif [ "$cpus" -eq 1 ] && [ "$w" -ne 0 ]; then
		skt_fail lock_wait/waits_counted "$w waits with one CPU online, where the wait is off"
	else
		skt_pass lock_wait/waits_counted
	fi
fi

# Both ends write 32 MiB at once, each with a reader and a writer thread (xfer_check's
# duplex scenario checks content and order), so each writer may find its reader's lock
# held by the other end's writer, which may itself be waiting (lock_wait in skaccel_conn).
ERR=""
r0=$(skt_stat redir_bytes)
skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/xfer_check" -s duplex -n 2 -b 32M \
	>"$SKT_TMP/duplex.out" 2>&1 || ERR="xfer_check: $(skt_tail "$SKT_TMP/duplex.out")"
if [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
	ERR="nothing went by the redirect"
fi
skt_verdict lock_wait/both_directions "$ERR"
skt_helper_stop
skt_helper_unpin

skt_helper_start --lock-wait 0 || {
	skt_fail lock_wait/option_off "$SKT_WHY"
	skt_fail lock_wait/option_value "$SKT_WHY"
	skt_done
}
v=$(skt_json_num lock_wait_ns)
w0=$(waits)
skt_xfer_pair "$NS" "$SKT_SOCK" $((64 << 20))
if [ "$v" != 0 ]; then
	skt_fail lock_wait/option_off "lock_wait_ns is '${v:-missing}' with --lock-wait 0"
elif [ -n "$ERR" ]; then
	skt_fail lock_wait/option_off "$ERR"
elif [ "$(waits)" -ne "$w0" ]; then
	skt_fail lock_wait/option_off "$(($(waits) - w0)) waits counted with --lock-wait 0"
else
	skt_pass lock_wait/option_off
fi
skt_helper_stop
skt_helper_unpin

skt_helper_start --lock-wait 250 || {
	skt_fail lock_wait/option_value "$SKT_WHY"
	skt_done
}
v=$(skt_json_num lock_wait_ns)
if [ "$v" = 250000 ]; then
	skt_pass lock_wait/option_value
else
	skt_fail lock_wait/option_value "lock_wait_ns is '${v:-missing}' with --lock-wait 250, want 250000"
fi
skt_helper_stop
skt_helper_unpin
skt_done
