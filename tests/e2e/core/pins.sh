#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A helper started on pins an earlier build left (an upgrade): maps that hold no
# connection's state are replaced when their layout changed, the others are refused with
# the way out. The earlier layouts are made with bpftool, as that build pinned them.
#   earlier_stats_replaced   skaccel_cnt with 21 slots and a 24-byte skaccel_cfg (the build
#                            before --lock-wait): the helper starts, says once that it
#                            replaced both, publishes this build's settings, and a verified
#                            stream between two opted-in ends is redirected and counted
#   connection_map_refused   skaccel_peers with another value size: the helper does not
#                            start, and its error names the map and --unpin
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(pins/earlier_stats_replaced pins/connection_map_refused)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

command -v bpftool >/dev/null || fail_all "bpftool is missing (scripts/install-deps.sh installs it)"
skt_netns_new NS || fail_all "cannot create a network namespace"

# old_pins NAME MAP ARGS...: a pin directory holding MAP as bpftool creates it with ARGS.
old_pins() {
	local dir=/sys/fs/bpf/skt-$SKT_RUN_ID-$SKT_SCRIPT-$1

	shift
	echo "pin $dir" >>"$SKT_STATE/resources"
	mkdir -p "$dir" || return 1
	while [ $# -gt 0 ]; do
		# shellcheck disable=SC2086 # $2: bpftool's arguments, one per word
		bpftool map create "$dir/$1" $2 name "$1" || return 1
		shift 2
	done
	PINS=$dir
}

# --- earlier_stats_replaced --------------------------------------------------------------
ERR=""
old_pins stats \
	skaccel_cnt "type percpu_array key 4 value 8 entries 21" \
	skaccel_cfg "type array key 4 value 24 entries 1" || ERR="bpftool could not create the old maps"
if [ -z "$ERR" ] && ! skt_helper_start_at "$SKT_TMP/stats.sock" "$PINS"; then
	ERR="$SKT_WHY"
fi
if [ -z "$ERR" ]; then
	n=$(grep -c "Replaced \[.*skaccel_cfg.*\], pinned by an earlier build" "$SKT_HLOG")
	if [ "$n" != 1 ] || ! grep -q "Replaced \[.*skaccel_cnt" "$SKT_HLOG"; then
		ERR="no single 'Replaced' line naming skaccel_cfg and skaccel_cnt: $(skt_tail "$SKT_HLOG")"
	fi
fi
if [ -z "$ERR" ] && [ -z "$(skt_json_num lock_wait_ns)" ]; then
	ERR="--stats --json has no lock_wait_ns: the settings map is not this build's"
fi
if [ -z "$ERR" ]; then
	r0=$(skt_stat redir_bytes)
	skt_xfer_pair "$NS" "$SKT_SOCK" $((8 << 20))
	if [ -z "$ERR" ] && [ "$(skt_stat redir_bytes)" -le "$r0" ]; then
		ERR="no redirected byte was counted"
	fi
fi
skt_verdict pins/earlier_stats_replaced "$ERR"
skt_helper_stop
skt_helper_unpin

# --- connection_map_refused --------------------------------------------------------------
ERR=""
old_pins peers skaccel_peers "type hash key 8 value 16 entries 64" ||
	ERR="bpftool could not create the old map"
if [ -z "$ERR" ] && skt_helper_start_at "$SKT_TMP/peers.sock" "$PINS"; then
	ERR="the helper started on an skaccel_peers of another layout"
elif [ -z "$ERR" ] && ! grep -q "skaccel_peers has type .*--unpin" "$SKT_HLOG"; then
	ERR="the error does not name skaccel_peers and --unpin: $(skt_tail "$SKT_HLOG")"
fi
skt_verdict pins/connection_map_refused "$ERR"
skt_helper_stop
skt_helper_unpin
skt_done
