#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# SKACCEL_PROMOTE_AFTER=0, the option that registers every connection inside connect() and
# accept(), before the application has the fd (the default waits for three reads and writes:
# semantics/lazy_promotion). The scenarios whose bytes meet the registration at its edges,
# under skaccel with the option, several seeds and addresses, each required to have gone
# through the fast path:
#
#   eager_registration/sem_check/fionread_preaccept  bytes sent before accept() are queued
#                                       when the socket is inserted: FIONREAD counts them
#   eager_registration/sem_check/blocked_before_accept  a client reader blocked since
#                                       before the server's accept() is not stranded
#   eager_registration/sem_check/epipe  a writer ahead of a reader that has not read yet
#   eager_registration/xfer_check/{accept_late,sendq_full,duplex}  transfers that start
#                                       before the peer is registered, or fill the queues
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

ADDRS=(127.0.0.1 ::1 ::ffff:127.0.0.1)
SEEDS=${SKT_SEEDS:-"1 2 $(( (RANDOM << 15) | RANDOM ))"}
NAMES=(sem_check:fionread_preaccept sem_check:blocked_before_accept sem_check:epipe
       xfer_check:accept_late xfer_check:sendq_full xfer_check:duplex)
all=()
for n in "${NAMES[@]}"; do all+=("eager_registration/${n/://}"); done
skt_require "${all[@]}"

skt_netns_new NS || { for t in "${all[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start; then
	for t in "${all[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi

for n in "${NAMES[@]}"; do
	prog=${n%%:*}
	sc=${n#*:}
	t="eager_registration/$prog/$sc"
	r0=$(skt_stat redir_bytes)
	a0=$(skt_stat reg_accelerated)
	SKACCEL_PROMOTE_AFTER=0 skt_run_seeds skaccel "eager-$prog-$sc" "$TPROGS/$prog" "$sc"
	skt_paired_verdict "$t" "$ERR" "$(($(skt_stat reg_accelerated) - a0))" \
		"$(($(skt_stat redir_bytes) - r0))" 0 fast
done
skt_helper_still_alive eager_registration/helper_alive

skt_helper_stop
skt_helper_unpin
skt_done
