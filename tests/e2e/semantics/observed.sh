#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Socket semantics side by side (tests/progs/semx_check/): every scenario runs with the
# same seed and address on plain TCP and under skaccel (both ends preloaded, a private
# helper). Each run asserts what plain TCP gives and prints what the application saw as
# "obs:" lines; the skaccel run must pass, print the same observations as the plain run,
# and have gone through the fast path (the helper accelerated connections and redirected
# bytes during it), or a pass would prove nothing.
#
# Verdicts, two per scenario: "PASS: semantics/NAME/plain" (the scenario's expectations
# hold on TCP) and "PASS: semantics/NAME/skaccel" (and under skaccel); tests/apps/
# gen-compat.py puts them side by side. A difference README.md ("What is not covered")
# documents prints UNSUPPORTED instead of FAIL, never PASS.
#
#   SKT_SEEDS="1 2"          seeds (default: 1 and one random; printed on failure)
#   SKT_ONLY="rcvtimeo eintr" run only these scenarios
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

PROG=semx_check
ADDRS=(127.0.0.1 ::1 ::ffff:127.0.0.1)
# Documented in README.md ("What is not covered"), behaviours of the redirect path: SIOCINQ
# does not count bytes held below SO_RCVLOWAT; after a reset, a send that failed with
# ECONNRESET leaves the error pending for the next call (linger, and close_unread, whose
# peer sees the reset but its error twice).
UNSUPPORTED=" close_unread rcvlowat_fionread linger "
SEEDS=${SKT_SEEDS:-"1 $(( (RANDOM << 15) | RANDOM ))"}

names=()
if [ -x "$TPROGS/$PROG" ]; then
	for s in $("$TPROGS/$PROG" -l); do
		if [ -z "${SKT_ONLY:-}" ] || [[ " $SKT_ONLY " == *" $s "* ]]; then names+=("$s"); fi
	done
else
	skt_fail "semantics/$PROG" "$TPROGS/$PROG not built"
	skt_done
fi
all=()
for n in "${names[@]}"; do all+=("semantics/$n/plain" "semantics/$n/skaccel"); done
skt_require "${all[@]}"

skt_netns_new NS || { for t in "${all[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
HELPER_OK=1
skt_helper_start || HELPER_OK=0

# The observations of one log, one per line, without the program name.
obs_of() { sed -n 's/^[^ ]*: obs: //p' "$1"; }

# run_mode MODE SC: every seed (skt_run_seeds); sets ERR to the first failure.
run_mode() {
	skt_run_seeds "$1" "$2" "$TPROGS/$PROG" "$2"
}

# diff_obs SC: sets ERR to the first observation where skaccel differs from plain TCP.
diff_obs() {
	local sc=$1 k=0 seed addr p s pl sk
	ERR=""
	for seed in $SEEDS; do
		addr=${ADDRS[$((k % ${#ADDRS[@]}))]}
		k=$((k + 1))
		p=$SKT_TMP/$sc-plain-$seed.obs
		s=$SKT_TMP/$sc-skaccel-$seed.obs
		obs_of "$SKT_TMP/$sc-plain-$seed.log" >"$p"
		obs_of "$SKT_TMP/$sc-skaccel-$seed.log" >"$s"
		if ! cmp -s "$p" "$s"; then
			# The first hunk: what plain TCP showed there, and what skaccel showed instead.
			pl=$(diff "$p" "$s" | sed -n 's/^< //p' | head -n1)
			sk=$(diff "$p" "$s" | sed -n 's/^> //p' | head -n1)
			ERR="seed $seed addr $addr: the application saw something else:"
			ERR="$ERR plain TCP '${pl:-nothing}', skaccel '${sk:-nothing}'"
			return
		fi
	done
}

for sc in "${names[@]}"; do
	t="semantics/$sc"
	run_mode plain "$sc"
	plain_err=$ERR
	if [ -n "$plain_err" ]; then skt_fail "$t/plain" "$plain_err"; else skt_pass "$t/plain"; fi

	if [ $HELPER_OK -eq 0 ]; then
		skt_fail "$t/skaccel" "$SKT_WHY"
		continue
	fi
	r0=$(skt_stat redir_bytes)
	a0=$(skt_stat reg_accelerated)
	run_mode skaccel "$sc"
	dr=$(($(skt_stat redir_bytes) - r0))
	da=$(($(skt_stat reg_accelerated) - a0))
	# Observations are only comparable when both runs completed.
	[ -z "$ERR" ] && [ -z "$plain_err" ] && diff_obs "$sc"
	unsupported=0
	[[ $UNSUPPORTED == *" $sc "* ]] && unsupported=1
	skt_paired_verdict "$t/skaccel" "$ERR" "$da" "$dr" $unsupported fast
	skt_helper_still_alive "semantics/helper_alive/$sc"
done

skt_helper_stop
skt_helper_unpin
skt_done
