#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# redis-server with redis-cli and redis-benchmark, all under skaccel-run in a fresh
# network namespace: values from 1 byte to 8 MiB (8,388,608 bytes) written with `redis-cli -x SET` and read
# back byte-exact (sha256), then redis-benchmark without and with pipelining (-P 16),
# checked by the exact counter and list length it leaves behind. Each test must also
# have gone by the fast path (tests/lib/apps.sh), but for the one-command connections
# of redis-cli (below).
#
# SKACCEL_DISABLE=1 tests/e2e/apps/redis.sh must FAIL the benchmark tests (nothing redirected).
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/apps.sh"

TESTS=(apps/redis/set_get_sizes apps/redis/set_get_large apps/redis/benchmark apps/redis/benchmark_pipelined)
apps_require redis-server redis-cli redis-benchmark -- "${TESTS[@]}"
apps_setup "${TESTS[@]}"

PORT=16379
N=20000
RLOG=$SKT_TMP/redis-server.log
cli() { apps_run redis-cli -p $PORT "$@"; }

apps_run redis-server --port $PORT --bind 127.0.0.1 ::1 --save '' --appendonly no \
	--dir "$SKT_TMP" --daemonize no --protected-mode no --logfile '' >"$RLOG" 2>&1 &
if ! apps_wait_port $PORT; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "redis-server did not start: $(skt_tail "$RLOG")"; done
	skt_done
fi

# --- values of many sizes, byte-exact ---------------------------------------------------
# redis-cli -x sends stdin verbatim as the last argument; GET prints the value raw (not
# a tty) followed by one newline, which is cut before comparing. Each redis-cli run is one
# connection with one command: lazy promotion (shim/promote.h) leaves most of it on TCP
# (a value of 256 KiB or more promotes both ends part-way), so these check correctness
# only; the benchmark runs below must be accelerated.
set_get() { # NAME MIN SIZE...
	local name=$1 min=$2 size val out n err="" payload=0
	shift 2
	apps_mark
	for size in "$@"; do
		val=$SKT_TMP/val-$size
		apps_random_file "$val" "$size"
		out=$(cli -x SET "k:$size" <"$val" 2>&1)
		if [ "$out" != OK ]; then err="SET of $size bytes answered '$out'"; break; fi
		cli GET "k:$size" >"$val.got" 2>"$val.err"
		head -c -1 "$val.got" >"$val.cut"
		if [ "$(apps_sha "$val")" != "$(apps_sha "$val.cut")" ]; then
			err="GET of $size bytes returned $(($(stat -c %s "$val.got") - 1)) bytes with another sha256 ($(skt_tail "$val.err" 1))"
			break
		fi
		n=$(cli STRLEN "k:$size")
		[ "$n" = "$size" ] || { err="STRLEN k:$size = '$n', want $size"; break; }
		payload=$((payload + 2 * size))
		rm -f "$val" "$val.got" "$val.cut"
	done
	apps_verdict "$name" "$err" $payload "$min"
}
set_get apps/redis/set_get_sizes any 1 100 1460 4095 4096 65535 65536 131073 1048576 3000001
set_get apps/redis/set_get_large any 4194304 6000000 8388608

# --- redis-benchmark ----------------------------------------------------------------------
# Without -r every INCR hits the one key counter:__rand_int__ and every LPUSH the list
# mylist, so after a run of N requests each the counter must have grown by exactly N and
# the list by 2N (lrange_100 first pushes N more elements of its own).
bench() { # NAME PIPELINE ROUND
	local name=$1 pipe=$2 round=$3 log err="" c l
	log=$SKT_TMP/bench-$pipe.log
	apps_mark
	if ! apps_run redis-benchmark -p $PORT -n $N -c 20 -P "$pipe" -d 100 -q \
		-t set,get,incr,lpush,lrange_100,mset >"$log" 2>&1; then
		err="redis-benchmark failed: $(skt_tail "$log")"
	elif grep -qiE "error|refused|reset" "$log"; then
		err="redis-benchmark reported: $(grep -m1 -iE "error|refused|reset" "$log")"
	elif [ "$(grep -c "requests per second" "$log")" -lt 6 ]; then
		err="redis-benchmark printed no result for every test: $(skt_tail "$log")"
	else
		c=$(cli GET counter:__rand_int__)
		l=$(cli LLEN mylist)
		v=$(cli STRLEN key:__rand_int__)
		if [ "$c" != $((N * round)) ] || [ "$l" != $((2 * N * round)) ]; then
			err="after $round run(s) of $N requests: counter=$c, LLEN mylist=$l, want $((N * round)) and $((2 * N * round))"
		elif [ "$v" != 100 ]; then
			err="STRLEN key:__rand_int__ = '$v', want 100 (-d 100)"
		fi
	fi
	# Small requests and replies: no payload known in advance; most of what the
	# registered sockets sent must have been redirected.
	apps_verdict "$name" "$err" 0 800 "rps=\"$(grep -m1 -o 'GET: [0-9.]* requests' "$log")\""
	skt_info "$name: $(tr '\n' ' ' <"$log" | tr -s ' ')"
}
bench apps/redis/benchmark 1 1
bench apps/redis/benchmark_pipelined 16 2

apps_helper_alive apps/redis/helper_alive
apps_kill_ns
skt_helper_stop
skt_helper_unpin
skt_done
