#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's --small-msg option, tested as an option: every other test runs the data path
# with the default (off: every write of a paired socket is redirected whatever its size).
# The stream in each case is skt_xfer_pair's: writes of random sizes from 1 byte to 256 KiB,
# a reader that checks every byte, and a reply checked by the writer. Nothing here needs the
# option to pass: the stream that runs with it runs at the default first.
#   default_off             a helper started without it publishes 0 (skaccel_cfg, read back
#                           by --stats --json), and a verified 32 MiB stream sends no write
#                           by TCP for being small (fb_small_behind unchanged)
#   given_value_published   --small-msg 64K reaches the programs as given, and --stats says
#                           so in words
#   small_writes_by_tcp     with it, a verified 64 MiB stream arrives byte for byte, some of
#                           its writes under 64 KiB go by TCP to a reader holding 64 KiB or
#                           more (fb_small_behind), and the rest still by the redirect
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(small_msg/default_off small_msg/given_value_published small_msg/small_writes_by_tcp)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }
skt_netns_new NS || fail_all "cannot create a network namespace"

skt_helper_start || fail_all "$SKT_WHY"
ERR=""
v=$(skt_json_num small_msg)
[ "$v" = 0 ] || ERR="small_msg is '${v:-missing}', want 0 (off)"
if [ -z "$ERR" ]; then
	s0=$(skt_stat fb_small_behind)
	r0=$(skt_stat redir_bytes)
	skt_xfer_pair "$NS" "$SKT_SOCK" $((32 << 20))
	s1=$(skt_stat fb_small_behind)
	if [ -z "$ERR" ] && [ "$s1" -ne "$s0" ]; then
		ERR="$((s1 - s0)) writes went by TCP for being small, with the option off"
	elif [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
		ERR="nothing went by the redirect"
	fi
fi
skt_verdict small_msg/default_off "$ERR"
skt_helper_stop
skt_helper_unpin

skt_helper_start --small-msg 64K || {
	skt_fail small_msg/given_value_published "$SKT_WHY"
	skt_fail small_msg/small_writes_by_tcp "$SKT_WHY"
	skt_done
}
ERR=""
v=$(skt_json_num small_msg)
[ "$v" = 65536 ] || ERR="small_msg is '${v:-missing}', want 65536"
if [ -z "$ERR" ] && ! "$HELPERD" --stats --pin-dir "$SKT_PIN" 2>&1 |
	grep -q "^Writes under 65536 bytes go by TCP"; then
	ERR="--stats does not say that writes under 65536 bytes go by TCP"
fi
skt_verdict small_msg/given_value_published "$ERR"

s0=$(skt_stat fb_small_behind)
r0=$(skt_stat redir_bytes)
skt_xfer_pair "$NS" "$SKT_SOCK" $((64 << 20))
if [ -z "$ERR" ] && [ "$(skt_stat fb_small_behind)" -le "$s0" ]; then
	ERR="no write went by TCP for being small (fb_small_behind stayed at $s0)"
elif [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
	ERR="nothing went by the redirect"
fi
skt_verdict small_msg/small_writes_by_tcp "$ERR"
skt_helper_stop
skt_helper_unpin
skt_done
