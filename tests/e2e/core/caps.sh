#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper gives up its privileges once its BPF objects are loaded (SECURITY.md): started
# as root with every capability, a serving helper holds none in any of its threads
# (permitted, effective, inheritable, ambient and bounding sets all empty, no_new_privs
# set), and it still registers sockets: a connection between two opted-in processes is
# accelerated and every byte arrives.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(caps/no_capabilities_when_serving caps/no_new_privs caps/still_accelerates)
skt_require "${TESTS[@]}"

fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"
skt_helper_start || fail_all "$SKT_WHY"

# Every thread: the closer thread must not have kept what the main thread dropped.
held=""
nnp=""
for st in /proc/"$SKT_HELPER_PID"/task/*/status; do
	while read -r key val; do
		case $key in
		CapInh: | CapPrm: | CapEff: | CapBnd: | CapAmb:)
			[ "$val" = 0000000000000000 ] || held="$held ${st#/proc/}:$key$val" ;;
		NoNewPrivs:) [ "$val" = 1 ] || nnp="$nnp ${st#/proc/}:$val" ;;
		esac
	done <"$st"
done
threads=$(find /proc/"$SKT_HELPER_PID"/task -mindepth 1 -maxdepth 1 | wc -l)
if [ -z "$held" ] && [ "$threads" -ge 2 ] && grep -q "Dropped capabilities after set-up: .*now none" "$SKT_HLOG"; then
	skt_pass "${TESTS[0]}"
else
	skt_fail "${TESTS[0]}" "threads=$threads, still held:${held:- none}; log: $(grep -i capabilit "$SKT_HLOG" | head -n1)"
fi
if [ -z "$nnp" ]; then
	skt_pass "${TESTS[1]}"
else
	skt_fail "${TESTS[1]}" "NoNewPrivs not set in:$nnp"
fi

ready=$SKT_TMP/server.ready
skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --conns 1 \
	--ready "$ready" >"$SKT_TMP/server.out" 2>&1 &
spid=$!
if ! skt_wait_file "$ready"; then
	skt_fail "${TESTS[2]}" "server did not start: $(skt_tail "$SKT_TMP/server.out")"
else
	redir0=$(skt_stat redir_bytes)
	skt_run_opted "$NS" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 \
		"$(cut -d' ' -f1 "$ready")" --bytes $((8 * 1024 * 1024)) --reply 4096 --fast \
		>"$SKT_TMP/client.out" 2>&1
	rc=$?
	wait "$spid"
	src=$?
	redir=$(($(skt_stat redir_bytes) - redir0))
	if [ $rc -eq 0 ] && [ $src -eq 0 ] && [ "$redir" -gt $((4 * 1024 * 1024)) ]; then
		skt_pass "${TESTS[2]}"
	else
		skt_fail "${TESTS[2]}" "client rc=$rc server rc=$src redirected=$redir: $(skt_tail "$SKT_TMP/client.out") $(skt_tail "$SKT_HLOG")"
	fi
fi

skt_helper_stop
skt_helper_unpin
skt_done
