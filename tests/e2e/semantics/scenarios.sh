#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Every scenario of every test program (tests/progs), on plain TCP and under skaccel,
# with several seeds, over 127.0.0.1, ::1 and a v4-mapped address in turn. Under skaccel
# a scenario must also have gone through the fast path (the helper accelerated pairs and
# redirected bytes), or a pass would prove nothing.
#
#   SKT_SEEDS="1 2 3"        seeds (default: 1, 2 and one random; printed on failure)
#   SKT_ONLY="sem_check:rst" run only these prog:scenario pairs (or whole progs)
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

PROGS=(xfer_check nb_check sem_check bp_check)
ADDRS=(127.0.0.1 ::1 ::ffff:127.0.0.1)
# Scenarios that move no payload, or test only the verifier: nothing to redirect. And
# fionread_preaccept, whose bytes all arrive before accept() and are read at once: under
# lazy promotion (the default) such a connection is never registered; it is run with
# registration at accept() by semantics/eager_registration.
NO_REDIRECT=" xfer_check:selftest sem_check:refused sem_check:fionread_preaccept "
# Sockets the helper must refuse (SO_ZEROCOPY before connect: KERNEL-NOTES §7.3).
MUST_NOT_REDIRECT=" sem_check:zerocopy "
# TCP semantics the sockmap path cannot give on this kernel, documented in README.md ("What
# is not covered"): MSG_ZEROCOPY completions once SO_ZEROCOPY is set after connect() (the
# sk_msg path copies and posts none), and urgent data. Run under skaccel all the same:
# they print UNSUPPORTED, which counts as neither a pass nor a failure, or PASS the day
# the kernel or skaccel gives them.
UNSUPPORTED=" sem_check:zerocopy_late sem_check:oob "
SEEDS=${SKT_SEEDS:-"1 2 $(( (RANDOM << 15) | RANDOM ))"}

names=()
for p in "${PROGS[@]}"; do
	[ -x "$TPROGS/$p" ] || { skt_fail "scenarios/$p" "$TPROGS/$p not built"; continue; }
	for s in $("$TPROGS/$p" -l); do names+=("$p:$s"); done
done
if [ -n "${SKT_ONLY:-}" ]; then
	sel=()
	for n in "${names[@]}"; do
		for o in $SKT_ONLY; do [ "$n" = "$o" ] || [ "${n%%:*}" = "$o" ] && sel+=("$n"); done
	done
	names=("${sel[@]}")
fi
all=()
for n in "${names[@]}"; do all+=("scenarios/${n/://}/plain" "scenarios/${n/://}/skaccel"); done
skt_require "${all[@]}"

skt_netns_new NS || { for t in "${all[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
HELPER_OK=1
skt_helper_start || HELPER_OK=0

# run_one MODE PROG SCENARIO: every seed (skt_run_seeds); sets ERR to the first failure.
run_one() {
	skt_run_seeds "$1" "$2-$3" "$TPROGS/$2" "$3"
}

for n in "${names[@]}"; do
	prog=${n%%:*}
	sc=${n#*:}
	t="scenarios/$prog/$sc"
	run_one plain "$prog" "$sc"
	if [ -n "$ERR" ]; then skt_fail "$t/plain" "$ERR"; else skt_pass "$t/plain"; fi

	if [ $HELPER_OK -eq 0 ]; then
		skt_fail "$t/skaccel" "$SKT_WHY"
		continue
	fi
	r0=$(skt_stat redir_bytes)
	a0=$(skt_stat reg_accelerated)
	run_one skaccel "$prog" "$sc"
	dr=$(($(skt_stat redir_bytes) - r0))
	da=$(($(skt_stat reg_accelerated) - a0))
	expect=fast
	[[ $NO_REDIRECT == *" $n "* ]] && expect=any
	[[ $MUST_NOT_REDIRECT == *" $n "* ]] && expect=tcp
	unsupported=0
	[[ $UNSUPPORTED == *" $n "* ]] && unsupported=1
	skt_paired_verdict "$t/skaccel" "$ERR" "$da" "$dr" $unsupported $expect
	skt_helper_still_alive "scenarios/helper_alive/$prog/$sc"
done

skt_helper_stop
skt_helper_unpin
skt_done
