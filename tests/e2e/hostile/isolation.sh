#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Isolation through ONE helper (SECURITY.md; docs/KERNEL-NOTES.md §8.3):
#
#   two_netns_same_tuple         two network namespaces, each with a server on the same
#                                address and port and a client bound to the same source
#                                port, all four ends opted in; run as two different users
#                                (root in one namespace, nobody in the other)
#   two_users_one_netns          root's pair and nobody's pair side by side in one namespace
#
# Each exchange is a tcp_xfer stream checked byte for byte both ways under its own key, so
# a byte delivered to the other pair's socket fails verification. While the transfers run,
# the helper's socket table (--stats --json, "sockets") must show each socket paired with
# the mirror-tuple socket of the same namespace and the same user, symmetrically, and every
# pair redirecting (a pass on plain TCP would prove nothing). tests/e2e/core/isolation.sh covers
# the same tuple in two namespaces by data alone; this adds who-is-paired-with-whom and
# users.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile_isolation/two_netns_same_tuple/data hostile_isolation/two_netns_same_tuple/pairing
       hostile_isolation/two_users_one_netns/data hostile_isolation/two_users_one_netns/pairing)
hs_require "${TESTS[@]}"
NOBODY=$(id -u nobody 2>/dev/null) || { for t in "${TESTS[@]}"; do skt_skip "$t" "no user nobody"; done; exit 0; }
NOGROUP=$(id -g nobody)

# nobody must reach skaccel-run, the library and tcp_xfer, the helper socket (0666), and
# write its ready files.
if ! skt_helper_start || ! skt_stage_for_others; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
mkdir -p "$SKT_TMP/u"
chown "$NOBODY:$NOGROUP" "$SKT_TMP/u"

# as USER NS cmd...: opted in, in NS, as USER (root or nobody).
as() {
	local user=$1 ns=$2
	shift 2
	if [ "$user" = root ]; then
		skt_run_opted "$ns" "$SKT_SOCK" "$@"
	else
		skt_in "$ns" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups \
			timeout -k 5 120 "$SKT_OTHER_RUN" -q -s "$SKT_SOCK" -l "$SKT_OTHER_LIB" "$@"
	fi
}

# run_pairs NAME ADDR "CHECK ARGS" "user ns sport cport key"...: all exchanges at once;
# halfway, while every process still runs (the check reads their namespaces), a --stats
# snapshot judged by skhostile.py check-pairing CHECK ARGS into $SKT_TMP/NAME.check.
# Sets ERR for the data.
run_pairs() {
	local name=$1 addr=$2 check=$3 spec user ns sp cp key pids=() tags=() i=0 tag
	shift 3
	ERR=""
	for spec in "$@"; do
		read -r user ns sp cp key <<<"$spec"
		tag=$SKT_TMP/u/$name-$i
		as "$user" "$ns" "$SKT_OTHER_PROGS/tcp_xfer" server "$addr" "$sp" --key "$key" --ready "$tag.ready" \
			>"$tag.server" 2>&1 &
		pids+=($!)
		tags+=("$tag.server")
		i=$((i + 1))
	done
	i=0
	for spec in "$@"; do
		skt_wait_file "$SKT_TMP/u/$name-$i.ready" || { ERR="server $i did not start: $(skt_tail "$SKT_TMP/u/$name-$i.server")"; return; }
		i=$((i + 1))
	done
	i=0
	for spec in "$@"; do
		read -r user ns sp cp key <<<"$spec"
		tag=$SKT_TMP/u/$name-$i
		as "$user" "$ns" "$SKT_OTHER_PROGS/tcp_xfer" client "$addr" "$sp" --key "$key" --src-port "$cp" \
			--duration 3 --pause-us 200 --reply 8M >"$tag.client" 2>&1 &
		pids+=($!)
		tags+=("$tag.client")
		i=$((i + 1))
	done
	sleep 1.5
	skt_stats_json >"$SKT_TMP/$name.json"
	# shellcheck disable=SC2086
	"$HS_PY" "$HS_CLIENT" check-pairing --stats "$SKT_TMP/$name.json" $check \
		>"$SKT_TMP/$name.check" 2>&1
	i=0
	for p in "${pids[@]}"; do
		wait "$p" || ERR="${ERR:+$ERR; }$(grep -m1 FAIL "${tags[$i]}" || skt_tail "${tags[$i]}")"
		i=$((i + 1))
	done
}

# --- two namespaces, identical tuples, two users ------------------------------------------
skt_netns_new NS1 && skt_netns_new NS2 || { for t in "${TESTS[@]}"; do skt_fail "$t" "no netns"; done; skt_done; }
a0=$(skt_stat reg_accelerated)
run_pairs same 127.0.0.1 "--name hostile_isolation/two_netns_same_tuple/pairing --port 7000 \
	--port 7001 --expect 4 --uid 0 --uid $NOBODY --distinct-netns" \
	"root $NS1 7000 7001 1" "nobody $NS2 7000 7001 2"
[ -z "$ERR" ] && [ $(($(skt_stat reg_accelerated) - a0)) -lt 2 ] &&
	ERR="only $(($(skt_stat reg_accelerated) - a0)) of the 2 pairs were accelerated"
skt_verdict hostile_isolation/two_netns_same_tuple/data "$ERR"
hs_verdicts hostile_isolation/two_netns_same_tuple/pairing cat "$SKT_TMP/same.check"

# --- one namespace, two users side by side (IPv6 this time) ----------------------------------
skt_netns_new NS3 || { skt_fail hostile_isolation/two_users_one_netns/data "no netns"; skt_done; }
a0=$(skt_stat reg_accelerated)
run_pairs users ::1 "--name hostile_isolation/two_users_one_netns/pairing --port 7100 --port 7101 \
	--port 7200 --port 7201 --expect 4 --uid 0 --uid $NOBODY" \
	"root $NS3 7100 7101 3" "nobody $NS3 7200 7201 4"
[ -z "$ERR" ] && [ $(($(skt_stat reg_accelerated) - a0)) -lt 2 ] &&
	ERR="only $(($(skt_stat reg_accelerated) - a0)) of the 2 pairs were accelerated"
skt_verdict hostile_isolation/two_users_one_netns/data "$ERR"
hs_verdicts hostile_isolation/two_users_one_netns/pairing cat "$SKT_TMP/users.check"

skt_helper_stop
skt_helper_unpin
skt_done
