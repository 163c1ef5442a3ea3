#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's --small-msg option, tested as an option: every other test runs the data path
# with the default (off: every write of a paired socket is redirected whatever its size).
# The stream in each case is tcp_xfer's: writes of random sizes from 1 byte to 256 KiB, a
# reader that checks every byte, and a 1 MiB reply checked by the writer.
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
json_num() { skt_stats_json | grep -o "\"$1\": *[0-9]*" | head -n1 | grep -o '[0-9]*$'; }

# stream BYTES: one verified tcp_xfer stream between two opted-in ends in NS; ERR says why
# it failed, empty when both ends succeeded.
stream() {
	local ready=$SKT_TMP/server.ready spid

	rm -f "$ready"
	ERR=""
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --conns 1 \
		--ready "$ready" >"$SKT_TMP/server.out" 2>&1 &
	spid=$!
	if ! skt_wait_file "$ready"; then
		ERR="server did not start: $(skt_tail "$SKT_TMP/server.out")"
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		return
	fi
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$ready")" \
		--bytes "$1" --reply 1M >"$SKT_TMP/client.out" 2>&1 || ERR="client: $(skt_tail "$SKT_TMP/client.out")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$SKT_TMP/server.out")"
}

skt_netns_new NS || fail_all "cannot create a network namespace"

skt_helper_start || fail_all "$SKT_WHY"
ERR=""
v=$(json_num small_msg)
[ "$v" = 0 ] || ERR="small_msg is '${v:-missing}', want 0 (off)"
if [ -z "$ERR" ]; then
	s0=$(skt_stat fb_small_behind)
	r0=$(skt_stat redir_bytes)
	stream 32M
	s1=$(skt_stat fb_small_behind)
	if [ -z "$ERR" ] && [ "$s1" -ne "$s0" ]; then
		ERR="$((s1 - s0)) writes went by TCP for being small, with the option off"
	elif [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
		ERR="nothing went by the redirect"
	fi
fi
if [ -n "$ERR" ]; then skt_fail small_msg/default_off "$ERR"; else skt_pass small_msg/default_off; fi
skt_helper_stop
skt_helper_unpin

skt_helper_start --small-msg 64K || {
	skt_fail small_msg/given_value_published "$SKT_WHY"
	skt_fail small_msg/small_writes_by_tcp "$SKT_WHY"
	skt_done
}
ERR=""
v=$(json_num small_msg)
[ "$v" = 65536 ] || ERR="small_msg is '${v:-missing}', want 65536"
if [ -z "$ERR" ] && ! "$HELPERD" --stats --pin-dir "$SKT_PIN" 2>&1 |
	grep -q "^Writes under 65536 bytes go by TCP"; then
	ERR="--stats does not say that writes under 65536 bytes go by TCP"
fi
if [ -n "$ERR" ]; then
	skt_fail small_msg/given_value_published "$ERR"
else
	skt_pass small_msg/given_value_published
fi

s0=$(skt_stat fb_small_behind)
r0=$(skt_stat redir_bytes)
stream 64M
if [ -z "$ERR" ] && [ "$(skt_stat fb_small_behind)" -le "$s0" ]; then
	ERR="no write went by TCP for being small (fb_small_behind stayed at $s0)"
elif [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
	ERR="nothing went by the redirect"
fi
if [ -n "$ERR" ]; then
	skt_fail small_msg/small_writes_by_tcp "$ERR"
else
	skt_pass small_msg/small_writes_by_tcp
fi
skt_helper_stop
skt_helper_unpin
skt_done
