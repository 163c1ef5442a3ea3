#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Lazy promotion (shim/promote.h; the default: after two turns or 256 KiB carried):
# a connection is handed to the helper from inside a read or write once it has carried a
# few, so the switch from TCP to the redirect happens under the application's traffic.
# tests/progs/lazy_check puts it at every moment:
#
#   lazy_promotion/before_first_byte/*  both ends write three times, then are promoted by
#                                       their first read with the peer's bytes unread
#   lazy_promotion/mid_stream/*         a stream in random sizes across both promotions
#   lazy_promotion/partly_read/*        a large segment partly read when promotion is due
#   lazy_promotion/blocked_reader/*     a thread blocked in recv() while another thread's
#                                       writes on the same socket are due to promote it
#   lazy_promotion/at_eof/*             the peer's last bytes and FIN queued at the promotion
#   lazy_promotion/short/*              connections of one to five exchanges, then close
#   lazy_promotion/xfer_duplex/skaccel  xfer_check's duplex scenario (each end has a reader
#                                       thread and a writer thread: the writer promotes while
#                                       the reader is about to read) under lazy promotion; it
#                                       lost the stream (EOF ahead of data) or hung when the
#                                       shim's own SCM_RIGHTS request marked the candidate
#                                       shared and a concurrent read went to the kernel
#
# Each must deliver every byte once and in order, never strand a reader (every read is
# bounded), never give EOF ahead of data, on TCP and under skaccel; under skaccel the
# streaming ones must also have been accelerated and redirected, or they proved nothing.
#   SKT_SEEDS="1 2 3"   seeds (default: 1, 2 and one random; printed on failure)
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

PROG=$TPROGS/lazy_check
ADDRS=(127.0.0.1 ::1 ::ffff:127.0.0.1)
# Too short or ending too early to be sure of a promotion of both ends.
ANY=" at_eof short "
SEEDS=${SKT_SEEDS:-"1 2 $(((RANDOM << 15) | RANDOM))"}

names=()
if [ -x "$PROG" ]; then
	for s in $("$PROG" -l); do names+=("$s"); done
fi
all=()
for n in "${names[@]}"; do all+=("lazy_promotion/$n/plain" "lazy_promotion/$n/skaccel"); done
all+=(lazy_promotion/xfer_duplex/skaccel)
[ -x "$PROG" ] || { skt_fail lazy_promotion "$PROG not built"; skt_done; }
skt_require "${all[@]}"

skt_netns_new NS || { for t in "${all[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
HELPER_OK=1
skt_helper_start || HELPER_OK=0

# run_one MODE SCENARIO [PROG]: every seed (skt_run_seeds), with the defaults; sets ERR to
# the first failure.
run_one() {
	skt_run_seeds "$1" "lazy-$2" "${3:-$PROG}" "$2"
}

for sc in "${names[@]}"; do
	t=lazy_promotion/$sc
	run_one plain "$sc"
	if [ -n "$ERR" ]; then skt_fail "$t/plain" "$ERR"; else skt_pass "$t/plain"; fi
	if [ $HELPER_OK -eq 0 ]; then
		skt_fail "$t/skaccel" "$SKT_WHY"
		continue
	fi
	r0=$(skt_stat redir_bytes)
	a0=$(skt_stat reg_accelerated)
	run_one skaccel "$sc"
	dr=$(($(skt_stat redir_bytes) - r0))
	da=$(($(skt_stat reg_accelerated) - a0))
	expect=fast
	[[ $ANY == *" $sc "* ]] && expect=any
	skt_paired_verdict "$t/skaccel" "$ERR" "$da" "$dr" 0 $expect
	skt_helper_still_alive "lazy_promotion/helper_alive/$sc"
done

# Threaded duplex streams, more seeds than the rest: the race it caught was timing-bound.
t=lazy_promotion/xfer_duplex/skaccel
if [ $HELPER_OK -eq 0 ]; then
	skt_fail "$t" "$SKT_WHY"
else
	r0=$(skt_stat redir_bytes)
	a0=$(skt_stat reg_accelerated)
	SEEDS="$SEEDS $(((RANDOM << 15) | RANDOM)) $(((RANDOM << 15) | RANDOM)) 767922390" \
		run_one skaccel duplex "$TPROGS/xfer_check"
	dr=$(($(skt_stat redir_bytes) - r0))
	da=$(($(skt_stat reg_accelerated) - a0))
	skt_paired_verdict "$t" "$ERR" "$da" "$dr" 0 fast
	skt_helper_still_alive "lazy_promotion/helper_alive/xfer_duplex"
fi

skt_helper_stop
skt_helper_unpin
skt_done
