# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# shellcheck shell=bash
#
# The benchmark points beyond the example programs, for bench/run.sh: a verified bulk
# stream (tests' tcp_xfer) and real applications (redis, nginx + wrk, memcached +
# memcaslap), each run plain or both ends under skaccel-run. They run in a private network
# namespace, so fixed ports collide with nothing and every process in it is this run's.
# Sourced after bench/lib.sh, not run.
#
# Every runner: bp_KIND VARIANT CPULIST OUTFILE [ARGS...]. It starts the server, runs one
# client, stops the server, writes key=value lines (its metrics) to OUTFILE and returns 0;
# or returns 1 with the reason in OUTFILE.err. The caller wraps skaccel runs in counter
# snapshots.

SK_XFER=${SK_BUILD:-build}/tests/tcp_xfer
SK_NS=
SK_CLIENT_TIMEOUT=120

# bp_setup: the namespace (loopback up). Called once when any point needs it.
bp_setup() {
	SK_NS=skaccel-bench-$$
	ip netns add "$SK_NS" || sk_die "Failed to create the network namespace $SK_NS"
	ip -n "$SK_NS" link set lo up || sk_die "Failed to bring lo up in $SK_NS"
}

# bp_kill_ns: stop every process in the namespace (all of them this run's, by pid):
# SIGTERM, up to 5 s, then SIGKILL.
bp_kill_ns() {
	local pids i

	[ -n "$SK_NS" ] || return 0
	for ((i = 0; i < 50; i++)); do
		mapfile -t pids < <(ip netns pids "$SK_NS" 2>/dev/null)
		[ ${#pids[@]} -eq 0 ] && return 0
		[ "$i" -eq 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null
	sleep 0.2
	return 0
}

bp_cleanup() {
	bp_pods_cleanup
	[ -n "$SK_NS" ] || return 0
	bp_kill_ns
	ip netns del "$SK_NS" 2>/dev/null || true
	SK_NS=
}

# bp_prefix VARIANT CPULIST: into BP_PRE, the command prefix of a program in the namespace,
# pinned or not, under skaccel-run or not.
bp_prefix() {
	local -a pin

	mapfile -d '' -t pin < <(sk_pin "$2")
	BP_PRE=(ip netns exec "$SK_NS" "${pin[@]}")
	if [ "$1" = skaccel ]; then
		BP_PRE+=("$SK_RUN" -q --socket "$SK_SOCK")
	fi
}

# bp_wait_port PORT: until something listens on PORT in the namespace (10 s).
bp_wait_port() {
	local i

	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip netns exec "$SK_NS" ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.1
	done
	return 1
}

# bp_serve LOG PORT cmd...: a server in the background, waited for on PORT.
bp_serve() {
	local log=$1 port=$2

	shift 2
	"$@" >"$log" 2>&1 &
	bp_wait_port "$port" && return 0
	echo "server did not start: $(tail -n 3 "$log" | tr '\n' ' ')"
	return 1
}

bp_now_ns() { date +%s%N; }

# --- the verified bulk stream ------------------------------------------------------------

# bp_xfer VARIANT CPUS OUT SCPU BYTES WSIZE: tcp_xfer moves BYTES in WSIZE writes; its server
# checks every byte against the keyed per-byte pattern (no --fast), then answers with
# 64 KiB the client checks. Timed from the client's start to its exit (connect and
# registration included), MB/s = 10^6 bytes/s.
bp_xfer() {
	local v=$1 ccpu=$2 out=$3 scpu=$4 bytes=$5 wsize=$6 ready port t0 t1 spid i rc=0
	local -a spre

	ready=$out.ready
	rm -f "$ready"
	bp_prefix "$v" "$scpu"
	spre=("${BP_PRE[@]}")
	"${spre[@]}" "$SK_XFER" server 127.0.0.1 0 --ready "$ready" --conns 1 >"$out.srv" 2>&1 &
	spid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$ready" ] && break
		sleep 0.05
	done
	if ! [ -s "$ready" ]; then
		echo "tcp_xfer server did not start: $(tail -n 2 "$out.srv")" >"$out.err"
		bp_kill_ns
		return 1
	fi
	port=$(cut -d' ' -f1 "$ready")
	bp_prefix "$v" "$ccpu"
	t0=$(bp_now_ns)
	timeout "$SK_CLIENT_TIMEOUT" "${BP_PRE[@]}" "$SK_XFER" client 127.0.0.1 "$port" \
		--bytes "$bytes" --wsize "$wsize" >"$out.cli" 2>&1 || rc=1
	t1=$(bp_now_ns)
	wait "$spid" || rc=1
	if [ "$rc" -ne 0 ] || ! grep -q "client ok" "$out.cli" || ! grep -q "server ok" "$out.srv"; then
		echo "tcp_xfer failed: $(tail -n 1 "$out.cli") $(tail -n 1 "$out.srv")" >"$out.err"
		bp_kill_ns
		return 1
	fi
	awk -v b="$bytes" -v t=$((t1 - t0)) 'BEGIN { printf "MBps=%.1f\nbytes=%d\n", b * 1000 / t, b }' \
		>"$out"
}

# --- redis-server + redis-benchmark --------------------------------------------------------

BP_REDIS_PORT=16379

# bp_redis VARIANT CPUS OUT PIPELINE REQUESTS: SET and GET of 100-byte values from 50
# connections, PIPELINE requests in flight per connection.
bp_redis() {
	local v=$1 cpus=$2 out=$3 pipe=$4 n=$5 log=$3.log err=""

	bp_prefix "$v" "$cpus"
	if ! err=$(bp_serve "$out.srv" "$BP_REDIS_PORT" "${BP_PRE[@]}" redis-server \
		--port "$BP_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$SK_WORK" --daemonize no --protected-mode no --logfile ''); then
		echo "$err" >"$out.err"
		bp_kill_ns
		return 1
	fi
	if ! timeout "$SK_CLIENT_TIMEOUT" "${BP_PRE[@]}" redis-benchmark -p "$BP_REDIS_PORT" \
		-n "$n" -c 50 -P "$pipe" -d 100 -q -t set,get >"$log.raw" 2>&1; then
		err="redis-benchmark failed: $(tail -c 200 "$log.raw")"
	fi
	# -q still prints progress lines ended by \r; keep the final ones.
	tr '\r' '\n' <"$log.raw" | grep "requests per second" >"$log" || true
	bp_kill_ns
	if [ -z "$err" ] && grep -qiE "error|refused|reset" "$log.raw"; then
		err="redis-benchmark reported: $(tr '\r' '\n' <"$log.raw" | grep -m1 -iE "error|refused|reset")"
	fi
	if [ -z "$err" ] && [ "$(grep -c "requests per second" "$log")" -ne 2 ]; then
		err="redis-benchmark printed no result: $(tail -c 200 "$log.raw")"
	fi
	if [ -n "$err" ]; then
		echo "$err" >"$out.err"
		return 1
	fi
	awk '$1 == "SET:" { print "set_rps=" $2 } $1 == "GET:" { print "get_rps=" $2 }' "$log" >"$out"
}

# --- nginx + wrk --------------------------------------------------------------------------

BP_NGINX_PORT=18080
BP_NGINX_FILE=4096

# bp_nginx_conf: a private configuration, static files, two workers (as `auto` gives here).
bp_nginx_conf() {
	local ng=$SK_WORK/nginx p

	[ -f "$ng/nginx.conf" ] && return 0
	mkdir -p "$ng/tmp" "$ng/www"
	head -c "$BP_NGINX_FILE" /dev/urandom >"$ng/www/file.bin"
	{
		echo "worker_processes 2; daemon off; master_process on; user root;"
		echo "pid $ng/nginx.pid; error_log $ng/error.log warn;"
		echo "events { worker_connections 1024; }"
		echo "http {"
		echo "  access_log off; default_type application/octet-stream;"
		for p in client_body proxy fastcgi uwsgi scgi; do echo "  ${p}_temp_path $ng/tmp/$p;"; done
		echo "  server { listen 127.0.0.1:$BP_NGINX_PORT; root $ng/www;"
		echo "           sendfile on; keepalive_timeout 65; keepalive_requests 1000000; }"
		echo "}"
	} >"$ng/nginx.conf"
}

# bp_nginx VARIANT CPUS OUT keepalive|close SECONDS: wrk, 2 threads, 16 connections, GET of
# a 4 KiB file; "close" sends "Connection: close", so every request is a new connection.
bp_nginx() {
	local v=$1 cpus=$2 out=$3 ka=$4 secs=$5 ng=$SK_WORK/nginx log=$3.log err=""
	local -a hdr=()

	bp_nginx_conf
	[ "$ka" = close ] && hdr=(-H "Connection: close")
	bp_prefix "$v" "$cpus"
	if ! err=$(bp_serve "$out.srv" "$BP_NGINX_PORT" "${BP_PRE[@]}" nginx -p "$ng" \
		-e "$ng/error.log" -c "$ng/nginx.conf"); then
		echo "$err" >"$out.err"
		bp_kill_ns
		return 1
	fi
	if ! timeout "$SK_CLIENT_TIMEOUT" "${BP_PRE[@]}" wrk -t 2 -c 16 -d "${secs}s" \
		--timeout 5s "${hdr[@]}" "http://127.0.0.1:$BP_NGINX_PORT/file.bin" >"$log" 2>&1; then
		err="wrk failed: $(tail -n 3 "$log" | tr '\n' ' ')"
	fi
	bp_kill_ns
	if [ -z "$err" ] && grep -qE "Non-2xx|Socket errors" "$log"; then
		err="wrk saw $(grep -E "Non-2xx|Socket errors" "$log" | tr '\n' ' ')"
	fi
	if [ -z "$err" ] && ! grep -q "^Requests/sec:" "$log"; then
		err="wrk printed no rate: $(tail -n 3 "$log" | tr '\n' ' ')"
	fi
	if [ -n "$err" ]; then
		echo "$err" >"$out.err"
		return 1
	fi
	awk '$1 == "Requests/sec:" { print "rps=" $2 }
		/requests in/ { print "requests=" $1 }' "$log" >"$out"
}

# --- memcached + memcaslap -----------------------------------------------------------------

BP_MEMC_PORT=11311

# bp_memcached VARIANT CPUS OUT SECONDS: memcaslap's default workload (64-byte keys,
# 1024-byte values, nine gets to one set), 2 threads, 16 connections.
bp_memcached() {
	local v=$1 cpus=$2 out=$3 secs=$4 log=$3.log err="" misses

	bp_prefix "$v" "$cpus"
	if ! err=$(bp_serve "$out.srv" "$BP_MEMC_PORT" "${BP_PRE[@]}" memcached \
		-p "$BP_MEMC_PORT" -l 127.0.0.1 -U 0 -u root -m 256 -t 2 -c 256); then
		echo "$err" >"$out.err"
		bp_kill_ns
		return 1
	fi
	if ! timeout "$SK_CLIENT_TIMEOUT" "${BP_PRE[@]}" memcaslap -s "127.0.0.1:$BP_MEMC_PORT" \
		-c 16 -T 2 -t "${secs}s" >"$log" 2>&1; then
		err="memcaslap failed: $(tail -n 3 "$log" | tr '\n' ' ')"
	fi
	bp_kill_ns
	if [ -z "$err" ] && ! grep -q "TPS:" "$log"; then
		err="memcaslap printed no rate: $(tail -n 3 "$log" | tr '\n' ' ')"
	fi
	if [ -n "$err" ]; then
		echo "$err" >"$out.err"
		return 1
	fi
	misses=$(sed -n 's/^get_misses: *//p' "$log" | tail -n 1)
	sed -n 's/.*TPS: \([0-9]*\).*/tps=\1/p' "$log" | tail -n 1 >"$out"
	echo "get_misses=${misses:-0}" >>"$out"
}

# --- pod to pod: two network namespaces on a bridge ---------------------------------------

# Two "pods" (network namespaces) whose eth0 is a veth on a bridge of the host's namespace,
# where the helper runs, as a CNI bridge plugin sets them up: traffic between them crosses
# two veths and the bridge. The helper runs with --cross-netns=on (bench/run.sh), the
# skaccel variant with SKACCEL_CROSS_NETNS=1 (docs/CONTAINERS.md). Built at the first pod
# point, removed by bp_cleanup.
BP_POD_NET=10.213.77
SK_PODBR=
SK_PODA=
SK_PODB=

bp_pods_setup() {
	local p ns

	SK_PODBR=skbr$$
	ip link add "$SK_PODBR" type bridge &&
		ip addr add $BP_POD_NET.1/24 dev "$SK_PODBR" &&
		ip link set "$SK_PODBR" up || return 1
	for p in 2 3; do
		ns=skaccel-bench-$$-pod$p
		ip netns add "$ns" || return 1
		if [ $p = 2 ]; then SK_PODA=$ns; else SK_PODB=$ns; fi
		ip -n "$ns" link set lo up &&
			ip link add "skv$$-$p" type veth peer name eth0 netns "$ns" &&
			ip link set "skv$$-$p" master "$SK_PODBR" up &&
			ip -n "$ns" addr add "$BP_POD_NET.$p/24" dev eth0 &&
			ip -n "$ns" link set eth0 up || return 1
	done
}

bp_pods_cleanup() {
	local ns pids

	for ns in $SK_PODA $SK_PODB; do
		mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null)
		[ ${#pids[@]} -gt 0 ] && kill -KILL "${pids[@]}" 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$SK_PODBR" ] && ip link del "$SK_PODBR" 2>/dev/null
	SK_PODA='' SK_PODB='' SK_PODBR=''
	return 0
}

# bp_pod VARIANT CPUS OUT MODE SIZE SECONDS: tcp_echo_server in pod B (echo for rr, sink
# for stream), tcp_bench_client in pod A, MODE with SIZE-byte messages for SECONDS.
bp_pod() {
	local v=$1 ccpu=$2 out=$3 mode=$4 size=$5 secs=$6 smode=echo ready spid i rc=0
	local -a pin pre

	[ "$mode" = stream ] && smode=sink
	if [ -z "$SK_PODA" ] && ! bp_pods_setup; then
		echo "cannot build the pod network (bridge and veths)" >"$out.err"
		bp_pods_cleanup
		return 1
	fi
	pre=()
	[ "$v" = skaccel ] && pre=(env SKACCEL_CROSS_NETNS=1 "$SK_RUN" -q --socket "$SK_SOCK")
	ready=$out.ready
	rm -f "$ready"
	mapfile -d '' -t pin < <(sk_pin all)
	ip netns exec "$SK_PODB" "${pin[@]}" "${pre[@]}" "$SK_SERVER" -b $BP_POD_NET.3 -p 0 \
		--mode "$smode" --ready-file "$ready" >/dev/null 2>"$out.srv" &
	spid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$ready" ] && break
		sleep 0.05
	done
	if ! [ -s "$ready" ]; then
		echo "tcp_echo_server did not start in the pod: $(tail -n 2 "$out.srv")" >"$out.err"
		kill -TERM "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		return 1
	fi
	mapfile -d '' -t pin < <(sk_pin "$ccpu")
	timeout "$SK_CLIENT_TIMEOUT" ip netns exec "$SK_PODA" "${pin[@]}" "${pre[@]}" "$SK_CLIENT" \
		-H $BP_POD_NET.3 -p "$(<"$ready")" --mode "$mode" --size "$size" --duration "$secs" \
		>"$out" 2>"$out.err" || rc=1
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	if [ "$rc" -ne 0 ]; then
		echo "tcp_bench_client failed: $(tail -n 1 "$out.err")" >"$out.err.tmp"
		mv "$out.err.tmp" "$out.err"
		return 1
	fi
	return 0
}
