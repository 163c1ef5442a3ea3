#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A stalled helper never strands a connection. The helper is stopped (SIGSTOP) before
# opted-in connections are set up, resumed (SIGCONT) at various moments, or killed; every
# transfer, both ends opted in, must complete with every byte verified within the shim's
# timeout (SKACCEL_TIMEOUT_MS, default shim/helper_client.h) for each end plus a margin,
# and nothing may hang. Nothing here assumes when the shim registers a socket (at connect
# and accept, or later): only what the application sees and the helper's counters.
#
#   long_after_tcp_xfer      stopped throughout (resumed long after): tcp_xfer both ways,
#                            8 MiB each; nothing redirected while stopped (redir_bytes),
#                            and the stale requests the resumed helper finds are not
#                            accelerated (reg_accelerated unchanged)
#   long_after_threads       the same with python, a reader thread blocked in recv() on each
#                            end while the main thread writes
#   long_after_epoll         the same, non-blocking sockets and epoll
#   long_after_exit          the same, and the server exits without closing its socket
#   long_after_unread_reset  the server closes with bytes unread: its client sees the reset
#                            TCP sends then, not an EOF and not a hang
#   long_after_os_exit, long_after_Exit
#                            the same as long_after_exit, the server leaving by _exit()
#                            (os._exit) or _Exit(): no atexit handler, no destructor runs
#   long_after_dup2, long_after_dup3
#                            the server's socket is closed by dup2()/dup3() of /dev/null
#                            over its fd, which the kernel does silently
#   long_after_close_range, long_after_closefrom
#                            the socket and a dup of it closed together by close_range()
#                            (os.closerange) or closefrom() (glibc's calls close_range
#                            directly, not through the shim's hook)
#   long_after_exec_cloexec  the server execs a program without the shim, its socket
#                            close-on-exec (python's default): the exec closes it
#   long_after_execle_cloexec
#                            the same by libc's execle() (glibc's calls its execve()
#                            directly, not through the shim's hook)
#   long_after_subprocess    the server runs a program by python's subprocess mid-transfer:
#                            its vfork() child closes its copies of the fds (close_range())
#                            and execs, which must neither end the server's connection
#                            (the child's fd table is its own, the shim's is the parent's
#                            memory) nor make the shim forget the server's socket
#   long_after_sigkill_bounded, long_after_exec_inherit_bounded
#                            NOT fixed, documented: the server is killed (SIGKILL) with its
#                            socket open, or execs a program without the shim that inherits
#                            the socket (which must not be reset: the new program sends a
#                            trailer on it) and closes it. No preload library runs at a
#                            SIGKILL or in a program without it, and the helper's queued
#                            copy keeps the socket open: the peer waits for its EOF until
#                            the helper runs again (here HOLD seconds), which these cases
#                            measure but cannot forbid. They check the bound on the damage:
#                            once resumed, the helper refuses the stale request (too late)
#                            and closes its copy at once, and the peer ends with every byte
#                            within the shim's timeout and the margin of the resume.
#   resume_before_timeout    resumed 50 ms in, well before the shim gives up: tcp_xfer
#                            completes and takes the fast path (redir_bytes grows)
#   resume_after_timeout_blocked_readers
#                            resumed just after the shim's timeout, while both readers are
#                            blocked in recv() in their threads and before any byte moved
#   resume_mid_stream_threads, resume_mid_stream_epoll
#                            resumed while the streams are flowing
#   stop_during_setup        12 connections one after another while the helper is stopped
#                            and resumed in a rhythm that catches set-ups at every stage
#   sigkill_queued           the helper killed (SIGKILL) with four connections' requests
#                            queued: all four complete
#
# Without the shim's release of HELD sockets (shim/reset.c: at close(), and at exit() for
# long_after_exit; at _exit()/_Exit(), dup2()/dup3() over the fd, close_range(),
# closefrom() and exec (execve(), execle()) for the cases after it), the long_after cases
# hang until the helper is resumed: a closed socket whose fd waits in the stopped helper's
# queue sends no FIN, and the peer's read of the EOF never returns.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

T=hostile_stall
TESTS=("$T/long_after_tcp_xfer" "$T/long_after_threads" "$T/long_after_epoll" "$T/long_after_exit"
       "$T/long_after_unread_reset" "$T/long_after_os_exit" "$T/long_after_Exit" "$T/long_after_dup2"
       "$T/long_after_dup3" "$T/long_after_close_range" "$T/long_after_closefrom"
       "$T/long_after_exec_cloexec" "$T/long_after_execle_cloexec" "$T/long_after_subprocess"
       "$T/long_after_sigkill_bounded" "$T/long_after_exec_inherit_bounded"
       "$T/resume_before_timeout" "$T/resume_after_timeout_blocked_readers"
       "$T/resume_mid_stream_threads" "$T/resume_mid_stream_epoll" "$T/stop_during_setup"
       "$T/sigkill_queued" "$T/helper_alive")
hs_require "${TESTS[@]}"

skt_netns_new NS || { for t in "${TESTS[@]}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
SOCK=$SKT_SOCK PIN=$SKT_PIN
MB=$((1024 * 1024))
STALL_PY=$SKT_ROOT/tests/hostile/stall_xfer.py
# The shim's default timeout, in seconds; each end of a connection may wait it once.
TIMEOUT_MS=$(sed -n 's/^#define SHIM_CLIENT_TIMEOUT_MS \([0-9]*\).*/\1/p' "$SKT_ROOT/shim/helper_client.h")
TIMEOUT_S=$(awk -v ms="${TIMEOUT_MS:-250}" 'BEGIN { printf "%.3f", ms / 1000 }')
# What a loaded machine may add to a transfer that takes well under a second on plain TCP.
MARGIN=3
# How long a "long after" stop lasts: far beyond any bound, so a hang shows as one.
HOLD=12
# A watchdog resumes the helper after this long whatever happens (nothing may stay stopped).
STOPPED_SINCE=""

now() { echo "$EPOCHREALTIME"; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
over() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x > y) }'; } # over X BOUND
bound() { awk -v t="$TIMEOUT_S" -v m="$MARGIN" -v w="${1:-0}" 'BEGIN { printf "%.2f", 2 * t + m + w }'; }

stop_helper() { kill -STOP "$SKT_HELPER_PID"; STOPPED_SINCE=$(now); }
cont_helper() { kill -CONT "$SKT_HELPER_PID"; STOPPED_SINCE=""; RESUMED=$(now); }

# run_end TAG CMD...: one end in the background, opted in; TAG.rc gets "rc time" when it
# ends (time: $EPOCHREALTIME).
run_end() {
	local tag=$1
	shift
	( skt_run_opted "$NS" "$SOCK" "$@" >"$SKT_TMP/$tag.out" 2>&1
	  echo "$? $EPOCHREALTIME" >"$SKT_TMP/$tag.rc" ) &
}

# wait_ends HOLD_UNTIL TAG...: wait until every end has finished, resuming the helper
# once HOLD_UNTIL seconds (from T0) have passed if it is still stopped.
wait_ends() {
	local until=$1 tag all
	shift
	while :; do
		all=1
		for tag in "$@"; do [ -s "$SKT_TMP/$tag.rc" ] || all=0; done
		[ $all = 1 ] && return 0
		if [ -n "$STOPPED_SINCE" ] && over "$(secs_since "$T0")" "$until"; then
			cont_helper
		fi
		sleep 0.05
	done
}

# check_ends BOUND TAG...: every end (PAIR.s, PAIR.c) exited 0 within BOUND seconds of the
# moment its client started (PAIR.t0); sets ERR and SLOWEST.
check_ends() {
	local b=$1 tag rc end secs
	shift
	SLOWEST=0
	for tag in "$@"; do
		read -r rc end <"$SKT_TMP/$tag.rc"
		secs=$(awk -v a="$(cat "$SKT_TMP/${tag%.*}.t0")" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
		over "$secs" "$SLOWEST" && SLOWEST=$secs
		skt_info "$tag: $secs s: $(tail -n1 "$SKT_TMP/$tag.out")"
		if [ "$rc" != 0 ]; then
			ERR="${ERR:+$ERR; }$tag: exit $rc: $(grep -m1 FAIL "$SKT_TMP/$tag.out" || skt_tail "$SKT_TMP/$tag.out")"
		elif over "$secs" "$b"; then
			ERR="${ERR:+$ERR; }$tag took $secs s (bound $b s: the shim's timeout of $TIMEOUT_S s per end + $MARGIN s): stranded until the helper ran again?"
		fi
	done
}

# tcp_pair TAG ARGS...: a tcp_xfer server (one connection) and its client, both opted in.
tcp_pair() {
	local tag=$1
	shift
	rm -f "$SKT_TMP/$tag".*
	run_end "$tag.s" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$SKT_TMP/$tag.ready" --conns 1 -t 60
	skt_wait_file "$SKT_TMP/$tag.ready" 200 || { ERR="server $tag did not start"; return 1; }
	T0=$(now)
	echo "$T0" >"$SKT_TMP/$tag.t0"
	run_end "$tag.c" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$SKT_TMP/$tag.ready")" -t 60 "$@"
}

# py_pair TAG ARGS...: the same with tests/hostile/stall_xfer.py (PY_ROLE: its
# unread-server and unread-client with PY_ROLE=unread-; PY_SERVER_ARGS: more arguments
# for the server only, such as --end).
py_pair() {
	local tag=$1
	shift
	rm -f "$SKT_TMP/$tag".*
	# shellcheck disable=SC2086 # PY_SERVER_ARGS: words for the server only
	run_end "$tag.s" "$HS_PY" "$STALL_PY" "${PY_ROLE:-}server" "$SKT_TMP/$tag.port" --limit 60 "$@" \
		${PY_SERVER_ARGS:-}
	skt_wait_file "$SKT_TMP/$tag.port" 200 || { ERR="server $tag did not start: $(skt_tail "$SKT_TMP/$tag.s.out")"; return 1; }
	T0=$(now)
	echo "$T0" >"$SKT_TMP/$tag.t0"
	run_end "$tag.c" "$HS_PY" "$STALL_PY" "${PY_ROLE:-}client" "$(cat "$SKT_TMP/$tag.port")" --limit 60 "$@"
}

# long_after NAME PAIR ARGS...: stopped before the server starts and throughout the transfer.
long_after() {
	local name=$1 pair=$2 tag=$3 r0 r1 a0 a1
	shift 3
	ERR=""
	a0=$(skt_stat reg_accelerated)
	r0=$(skt_stat redir_bytes)
	stop_helper
	$pair "$tag" "$@" || { cont_helper; skt_verdict "$name" "$ERR"; return; }
	wait_ends "$HOLD" "$tag.s" "$tag.c"
	[ -n "$STOPPED_SINCE" ] && r1=$(skt_stat redir_bytes) # still stopped: read the data path
	cont_helper
	check_ends "$(bound "${WORK:-0}")" "$tag.s" "$tag.c"
	[ -z "$ERR" ] && [ "${r1:-$r0}" != "$r0" ] &&
		ERR="$((r1 - r0)) bytes redirected while the helper was stopped"
	sleep 1.5 # the resumed helper answers the stale requests and publishes its counters
	a1=$(skt_stat reg_accelerated)
	[ -z "$ERR" ] && [ "$a1" != "$a0" ] &&
		ERR="the resumed helper accelerated $((a1 - a0)) connections from requests the shim had given up on"
	skt_info "$name: slowest end $SLOWEST s"
	skt_verdict "$name" "$ERR"
}

# resume_at NAME SECS PAIR TAG ARGS...: stopped before the server starts, resumed SECS
# after the client started.
resume_at() {
	local name=$1 at=$2 pair=$3 tag=$4
	shift 4
	ERR=""
	stop_helper
	$pair "$tag" "$@" || { cont_helper; skt_verdict "$name" "$ERR"; return; }
	wait_ends "$at" "$tag.s" "$tag.c"
	[ -n "$STOPPED_SINCE" ] && cont_helper # both ended before the resume: fine
	check_ends "$(bound "${WORK:-0}")" "$tag.s" "$tag.c"
}

# --- stopped throughout ---------------------------------------------------------------------
WORK=0 long_after "$T/long_after_tcp_xfer" tcp_pair la1 --bytes $((8 * MB)) --reply $((8 * MB))
WORK=1.5 long_after "$T/long_after_threads" py_pair la2 --mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1
WORK=1.5 long_after "$T/long_after_epoll" py_pair la3 --mode epoll --bytes $((4 * MB)) --pause 0.5 --pace 1
WORK=1.5 long_after "$T/long_after_exit" py_pair la4 --mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1 \
	--exit-without-close
PY_ROLE=unread- WORK=0 long_after "$T/long_after_unread_reset" py_pair la5

# --- the other ways a HELD socket goes: each must end the connection as close() does -----
for way in os_exit Exit dup2 dup3 close_range closefrom exec_cloexec execle_cloexec; do
	PY_SERVER_ARGS="--end $way" WORK=1.5 long_after "$T/long_after_$way" py_pair "le_$way" \
		--mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1
done
# A vfork() child's closes and exec are its own: the parent's connection goes on.
PY_SERVER_ARGS="--spawn" WORK=1.5 long_after "$T/long_after_subprocess" py_pair le_spawn \
	--mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1

# long_after_stranded NAME RC PAIR TAG ARGS...: a way out the shim cannot see (SIGKILL), or
# must not act on (a socket inherited across exec by a program without the shim): the peer
# waits for its EOF as long as the helper is stopped, which no test can forbid. Once the
# helper runs again it reads the stale request, refuses it (too late) and closes the fd at
# once: the peer must end within the bound of the resume, with every byte. The server must
# exit with status RC having printed its "ok:" line.
long_after_stranded() {
	local name=$1 want=$2 pair=$3 tag=$4 rc end secs
	shift 4
	ERR=""
	stop_helper
	$pair "$tag" "$@" || { cont_helper; skt_verdict "$name" "$ERR"; return; }
	wait_ends "$HOLD" "$tag.s" "$tag.c"
	[ -n "$STOPPED_SINCE" ] && cont_helper
	read -r rc end <"$SKT_TMP/$tag.s.rc"
	skt_info "$tag.s: exit $rc: $(tail -n1 "$SKT_TMP/$tag.s.out")"
	[ "$rc" = "$want" ] && grep -q '^ok: ' "$SKT_TMP/$tag.s.out" ||
		ERR="server: exit $rc, expected $want: $(grep -m1 FAIL "$SKT_TMP/$tag.s.out" || skt_tail "$SKT_TMP/$tag.s.out")"
	read -r rc end <"$SKT_TMP/$tag.c.rc"
	secs=$(awk -v a="$RESUMED" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
	skt_info "$name: the client ended $(awk -v a="$T0" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s after it started, $secs s after the helper was resumed: $(tail -n1 "$SKT_TMP/$tag.c.out")"
	if [ "$rc" != 0 ]; then
		ERR="${ERR:+$ERR; }client: exit $rc: $(grep -m1 FAIL "$SKT_TMP/$tag.c.out" || skt_tail "$SKT_TMP/$tag.c.out")"
	elif over "$secs" "$(bound)"; then
		ERR="${ERR:+$ERR; }the client ended $secs s after the helper was resumed (bound $(bound) s): the resumed helper did not close the stale socket at once?"
	fi
	sleep 1.5
	skt_verdict "$name" "$ERR"
}
PY_SERVER_ARGS="--end kill" long_after_stranded "$T/long_after_sigkill_bounded" 137 py_pair le_kill \
	--mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1
PY_SERVER_ARGS="--end exec_inherit" long_after_stranded "$T/long_after_exec_inherit_bounded" 0 py_pair \
	le_inherit --mode thread --bytes $((4 * MB)) --pause 0.5 --pace 1 --trailer "sent after exec"

# --- resumed before the shim gives up: the fast path ------------------------------------------
r0=$(skt_stat redir_bytes)
# --fast: the client streams only once the server has accepted (and registered).
WORK=0 resume_at "$T/resume_before_timeout" 0.05 tcp_pair rb --fast --bytes $((32 * MB)) --reply $((4 * MB))
r1=$(skt_stat redir_bytes)
[ -z "$ERR" ] && [ "$r1" -le "$r0" ] &&
	ERR="nothing redirected although the helper ran again $((TIMEOUT_MS - 50)) ms before the shim's timeout"
skt_info "resume_before_timeout: $((r1 - r0)) bytes redirected, slowest end $SLOWEST s"
skt_verdict "$T/resume_before_timeout" "$ERR"

# --- resumed just after the timeout, readers blocked in recv() in their threads ----------------
at=$(awk -v t="$TIMEOUT_S" 'BEGIN { printf "%.2f", t + 0.1 }')
WORK=1.5 resume_at "$T/resume_after_timeout_blocked_readers" "$at" py_pair ra --mode thread \
	--bytes $((4 * MB)) --pause 1 --pace 0.5
skt_verdict "$T/resume_after_timeout_blocked_readers" "$ERR"

# --- resumed mid-stream -----------------------------------------------------------------------
WORK=2 resume_at "$T/resume_mid_stream_threads" 1.2 py_pair rm1 --mode thread --bytes $((8 * MB)) --pause 0.5 --pace 1.5
skt_verdict "$T/resume_mid_stream_threads" "$ERR"
WORK=2 resume_at "$T/resume_mid_stream_epoll" 1.2 py_pair rm2 --mode epoll --bytes $((8 * MB)) --pause 0.5 --pace 1.5
skt_verdict "$T/resume_mid_stream_epoll" "$ERR"

# --- stopped and resumed in a rhythm while connections are set up ------------------------------
# Stopped 0.4 s (longer than the timeout), running 0.03 s: each set-up meets a stop at a
# different stage (before the client's request, between the two ends', after both).
ERR=""
rm -f "$SKT_TMP"/sd.*
T0=$(now)
run_end sd.s "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$SKT_TMP/sd.ready" --conns 12 --concurrent -t 60
if skt_wait_file "$SKT_TMP/sd.ready" 200; then
	( while [ ! -e "$SKT_TMP/sd.stop" ]; do
		kill -STOP "$SKT_HELPER_PID"; sleep 0.4; kill -CONT "$SKT_HELPER_PID"; sleep 0.03
	  done; kill -CONT "$SKT_HELPER_PID" ) &
	RHYTHM=$!
	for i in $(seq 12); do
		T0=$(now)
		echo "$T0" >"$SKT_TMP/sd.t0"
		run_end "sd.c$i" "$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$SKT_TMP/sd.ready")" \
			-t 60 --bytes $((MB)) --reply $((MB))
		wait_ends 60 "sd.c$i"
		check_ends "$(bound)" "sd.c$i"
		sleep 0.$((RANDOM % 10))
	done
	touch "$SKT_TMP/sd.stop"
	wait "$RHYTHM"
	wait_ends 60 sd.s
	check_ends 60 sd.s
else
	ERR="server did not start: $(skt_tail "$SKT_TMP/sd.s.out")"
fi
skt_verdict "$T/stop_during_setup" "$ERR"
hs_helper_alive "$T/helper_alive"

# --- SIGKILL with requests queued ---------------------------------------------------------------
ERR=""
stop_helper
tags=()
for i in 1 2 3 4; do
	tcp_pair "k$i" --bytes $((4 * MB)) --reply $((4 * MB)) || break
	tags+=("k$i.s" "k$i.c")
done
T0=$(now)
sleep 0.1
kill -KILL "$SKT_HELPER_PID"
kill -CONT "$SKT_HELPER_PID" 2>/dev/null
wait "$SKT_HELPER_PID" 2>/dev/null
STOPPED_SINCE=""
[ -z "$ERR" ] && { wait_ends 60 "${tags[@]}"; check_ends "$(bound)" "${tags[@]}"; }
skt_verdict "$T/sigkill_queued" "$ERR"

skt_helper_unpin "$PIN"
skt_done
