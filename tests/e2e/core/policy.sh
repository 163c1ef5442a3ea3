#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Who may register what (SECURITY.md): the policy file, socket ownership and namespaces.
#
#   check_config/*        --check-config on a good file (also as nobody: no privileges
#                         needed), on the shipped example, and on bad ones: the exact
#                         messages, FILE:LINE:COLUMN
#   start/*               a helper with a bad or missing --config file does not start
#   allowed_accelerated   root's pair, allowed by a rule, is accelerated
#   denied_port, denied_exe, denied_user
#                         pairs refused by a ports=, an exe= (written as a symlink) and the
#                         default deny: each stays on plain TCP with every byte intact,
#                         counted as reg_policy, logged with the rule that refused
#   group_allowed, group_missing
#                         a supplementary group (SO_PEERGROUPS) opens what nobody without
#                         it is refused
#   refusal_logged_once   one client refused 10 times: one log line, and one at its exit
#                         counting the other 9
#   reload, reload_bad_file_keeps_policy
#                         SIGHUP loads a changed file; a broken one is logged and the
#                         policy before stays
#   ownership/*           nobody hands over root's socket: NOT_OWNER; its own sockets
#                         register up to its max-per-user line (then QUOTA); root may
#                         register nobody's socket
#   netns/*               a socket created in another network namespace: OTHER_NETNS
#   refusals_logged       those refusals are logged with their reasons and counted
#   helper_survived, clean_exit
#                         both helpers serve to the end and exit 0 on SIGTERM, the
#                         executable reader with them (LeakSanitizer speaks then)
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(policy/check_config/good policy/check_config/unprivileged policy/check_config/example
       policy/check_config/example_uncommented policy/check_config/errors
       policy/check_config/unsafe_mode policy/check_config/missing_file
       policy/check_config/missing_default policy/start/bad_file policy/start/missing_file
       policy/allowed_accelerated policy/denied_port policy/denied_exe policy/denied_user
       policy/group_allowed policy/group_missing policy/refusal_logged_once
       policy/reload policy/reload_bad_file_keeps_policy
       policy/ownership/others_socket_refused policy/ownership/own_socket_accepted
       policy/ownership/per_user_limit policy/ownership/root_may_register_any
       policy/netns/other_netns_refused policy/netns/own_netns_accepted
       policy/refusals_logged policy/helper_survived policy/clean_exit)
hs_require "${TESTS[@]}"
NOBODY=$(id -u nobody 2>/dev/null) || { for t in "${TESTS[@]}"; do skt_skip "$t" "no user nobody"; done; exit 0; }
NOGROUP=$(id -g nobody)
# nobody must reach skaccel-run, the library and tcp_xfer, the helper sockets (0666), and
# read the policy files.
if ! skt_stage_for_others; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
mkdir -p "$SKT_TMP/u"
chown "$NOBODY:$NOGROUP" "$SKT_TMP/u"

# policy FILE LINES...: write a policy file as the helper wants it (root's, 0644).
policy() {
	local f=$1
	shift
	printf '%s\n' "$@" >"$f"
	chmod 0644 "$f"
}

# check NAME WANT_RC WANT_STDOUT WANT_STDERR ARGS...: --check-config's exact output.
check() {
	local name=$1 want_rc=$2 want_out=$3 want_err=$4 rc err=""
	shift 4
	"$@" >"$SKT_TMP/cc.out" 2>"$SKT_TMP/cc.err"
	rc=$?
	[ "$rc" -eq "$want_rc" ] || err="exit $rc, expected $want_rc"
	[ "$(cat "$SKT_TMP/cc.out")" = "$want_out" ] ||
		err="${err:+$err; }stdout '$(tr '\n' '|' <"$SKT_TMP/cc.out")', expected '$want_out'"
	[ "$(cat "$SKT_TMP/cc.err")" = "$want_err" ] ||
		err="${err:+$err; }stderr '$(tr '\n' '|' <"$SKT_TMP/cc.err")', expected '$(echo "$want_err" | tr '\n' '|')'"
	skt_verdict "$name" "$err"
}

# --- --check-config ----------------------------------------------------------------------
cp "$TPROGS/tcp_xfer" "$SKT_TMP/xfer-copy"
chmod 0755 "$SKT_TMP/xfer-copy"
ln -sf xfer-copy "$SKT_TMP/xfer-link"
CONF=$SKT_TMP/policy.conf
policy "$CONF" "default deny" \
	"deny ports=7403            # for everyone" \
	"deny exe=$SKT_TMP/xfer-link  # a symlink: the copy it names is what runs" \
	"allow user=root" \
	"allow user=nobody group=4242 ports=7404" \
	"max-per-user 1000"
check policy/check_config/good 0 "$CONF: OK (4 rules, default deny)" "" \
	"$HELPERD" --check-config "$CONF"
check policy/check_config/unprivileged 0 "$CONF: OK (4 rules, default deny)" "" \
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups "$HELPERD" --check-config="$CONF"

# The shipped example: harmless as installed (comments only), valid once uncommented
# (with users this machine has).
cp "$SKT_ROOT/systemd/helperd.conf.example" "$SKT_TMP/example.conf"
chmod 0644 "$SKT_TMP/example.conf"
check policy/check_config/example 0 "$SKT_TMP/example.conf: OK (0 rules, default allow)" "" \
	"$HELPERD" --check-config "$SKT_TMP/example.conf"
sed -e 's/^#\(default\|deny\|allow\|max-per-user\) /\1 /' -e 's/www-data/root/g' \
	-e 's/user=redis/user=nobody/' -e 's/group=skaccel/group=root/' \
	"$SKT_ROOT/systemd/helperd.conf.example" >"$SKT_TMP/example-on.conf"
chmod 0644 "$SKT_TMP/example-on.conf"
check policy/check_config/example_uncommented 0 "$SKT_TMP/example-on.conf: OK (4 rules, default deny)" \
	"" "$HELPERD" --check-config "$SKT_TMP/example-on.conf"

BAD=$SKT_TMP/bad.conf
long=$(printf '#%01100d' 0)
policy "$BAD" "default allow" \
	"deny user=no-such-user-skt" \
	"allow port=80" \
	"allow ports=80,90-80" \
	"default deny" \
	"$long" \
	"max-per-user nobody 0"
check policy/check_config/errors 1 "" "$BAD:2:11: unknown user 'no-such-user-skt'
$BAD:3:7: unknown key 'port' (expected user, group, exe or ports)
$BAD:4:16: port range 90-80 is reversed
$BAD:5:1: 'default' given twice (first on line 1)
$BAD:6: line longer than 1024 bytes
$BAD:7:21: max-per-user 0 out of range 1-2097152
$BAD: 6 errors" "$HELPERD" --config "$BAD" --check-config

UNSAFE=$SKT_TMP/unsafe.conf
policy "$UNSAFE" "default allow"
chmod 0666 "$UNSAFE"
check policy/check_config/unsafe_mode 1 "" "$UNSAFE: writable by everyone (mode 0666): anyone who can write it decides who may opt in
$UNSAFE: 1 error" "$HELPERD" --check-config "$UNSAFE"
check policy/check_config/missing_file 1 "" "$SKT_TMP/none.conf: cannot open: No such file or directory
$SKT_TMP/none.conf: 1 error" "$HELPERD" --check-config "$SKT_TMP/none.conf"
if [ -e /etc/skaccel/helperd.conf ]; then
	# Installed here: whatever it says, --check-config judges the default file.
	"$HELPERD" --check-config >"$SKT_TMP/cc.out" 2>&1
	rc=$?
	ERR=""
	grep -q "^/etc/skaccel/helperd.conf" "$SKT_TMP/cc.out" || ERR="exit $rc: $(skt_tail "$SKT_TMP/cc.out")"
	skt_verdict policy/check_config/missing_default "$ERR"
else
	check policy/check_config/missing_default 0 \
		"/etc/skaccel/helperd.conf: no such file: every user may opt in (default allow, no rules)" \
		"" "$HELPERD" --check-config
fi

# --- a helper refuses to start with a bad file -------------------------------------------
# start NAME FILE WANT_LINE...: the helper exits 1 at once, logging each WANT_LINE.
start() {
	local name=$1 file=$2 log=$SKT_TMP/start-$RANDOM.log rc want err=""
	shift 2
	timeout 20 "$HELPERD" --socket "$SKT_TMP/never.sock" --pin-dir "/sys/fs/bpf/skt-$SKT_RUN_ID-never" \
		--config "$file" >"$log" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] || err="exit $rc, expected 1"
	for want in "$@"; do
		grep -qF -- "$want" "$log" || err="${err:+$err; }no '$want' in the log: $(skt_tail "$log")"
	done
	[ -e "/sys/fs/bpf/skt-$SKT_RUN_ID-never" ] && err="${err:+$err; }it pinned something first"
	[ -e "$SKT_TMP/never.sock" ] && err="${err:+$err; }it listened first"
	skt_verdict "$name" "$err"
}
start policy/start/bad_file "$BAD" "Policy error $BAD:2:11: unknown user 'no-such-user-skt'" \
	"Policy error $BAD:7:21: max-per-user 0 out of range 1-2097152" \
	"Failed to load policy $BAD: errors above"
start policy/start/missing_file "$SKT_TMP/none.conf" \
	"Failed to load policy $SKT_TMP/none.conf: No such file or directory"

# --- helper A: the policy file ---------------------------------------------------------------
skt_netns_new NS || { for t in "${TESTS[@]:10}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
if ! skt_helper_start --config "$CONF"; then
	for t in "${TESTS[@]:10}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
SOCK_A=$SKT_SOCK PIN_A=$SKT_PIN LOG_A=$SKT_HLOG PID_A=$SKT_HELPER_PID

# opted USER cmd...: under skaccel-run in $NS as root, nobody, or nobody with group 4242.
opted() {
	local user=$1
	shift
	case $user in
	root) skt_run_opted "$NS" "$SOCK_A" "$@" ;;
	nobody) skt_in "$NS" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups \
		timeout -k 5 120 "$SKT_OTHER_RUN" -q -s "$SOCK_A" -l "$SKT_OTHER_LIB" "$@" ;;
	nobody+4242) skt_in "$NS" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --groups=4242 \
		timeout -k 5 120 "$SKT_OTHER_RUN" -q -s "$SOCK_A" -l "$SKT_OTHER_LIB" "$@" ;;
	esac
}

# pair USER PORT PROG: a tcp_xfer server and client as USER on 127.0.0.1:PORT, every byte
# checked both ways; sets ERR.
pair() {
	local user=$1 port=$2 prog=$3 tag=$SKT_TMP/u/pair-$2-$RANDOM spid
	ERR=""
	opted "$user" "$prog" server 127.0.0.1 "$port" --conns 1 --ready "$tag.ready" \
		>"$tag.server" 2>&1 &
	spid=$!
	if ! skt_wait_file "$tag.ready"; then
		ERR="server did not start: $(skt_tail "$tag.server")"
		kill "$spid" 2>/dev/null
		return
	fi
	opted "$user" "$prog" client 127.0.0.1 "$port" --bytes 2000000 --reply 500000 \
		>"$tag.client" 2>&1 || ERR="client: $(grep -m1 FAIL "$tag.client" || skt_tail "$tag.client")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(grep -m1 FAIL "$tag.server" || skt_tail "$tag.server")"
}

# outcome NAME USER PORT PROG ACCEL POLICY [LOG_TEXT]: run a pair; reg_accelerated must
# rise by exactly ACCEL and reg_policy by POLICY (written when the clients leave), and the
# helper's log must hold LOG_TEXT. Each end is refused when it is promoted (lazy
# promotion, shim/promote.h), and on a loaded machine one end may finish its traffic
# before its promotion comes due: with POLICY 2, 1 is enough (clean-clone runs saw 1 of
# 2 for group_missing twice); ACCEL 0 and the logged rule still prove the refusal. A
# request the helper reached after the shim had given up (too_late) is refused before the
# policy is asked: it counts towards POLICY, and the failure message says so.
outcome() {
	local name=$1 user=$2 port=$3 prog=$4 want_a=$5 want_p=$6 text=${7:-} a0 p0 l0 da dp dl _
	a0=$(skt_stat reg_accelerated "$PIN_A")
	p0=$(skt_stat reg_policy "$PIN_A")
	l0=$(skt_stat reg_too_late "$PIN_A")
	pair "$user" "$port" "$prog"
	for _ in $(seq 50); do
		da=$(($(skt_stat reg_accelerated "$PIN_A") - a0))
		dl=$(($(skt_stat reg_too_late "$PIN_A") - l0))
		dp=$(($(skt_stat reg_policy "$PIN_A") - p0 + (want_p > 0 ? dl : 0)))
		[ "$da" -eq "$want_a" ] && [ "$dp" -eq "$want_p" ] && break
		sleep 0.1
	done
	[ -z "$ERR" ] && [ "$da" -ne "$want_a" ] && ERR="reg_accelerated rose by $da, expected $want_a"
	[ -z "$ERR" ] && [ "$dp" -ne "$want_p" ] && ! { [ "$want_p" -eq 2 ] && [ "$dp" -eq 1 ]; } &&
		ERR="reg_policy (+ reg_too_late: $dl) rose by $dp, expected $want_p"
	[ -z "$ERR" ] && [ -n "$text" ] && ! grep -qF -- "$text" "$LOG_A" &&
		ERR="no '$text' in the helper log: $(grep -m2 Refused "$LOG_A" | tr '\n' '|')"
	skt_verdict "$name" "$ERR"
}

outcome policy/allowed_accelerated root 7400 "$TPROGS/tcp_xfer" 1 0
outcome policy/denied_port root 7403 "$TPROGS/tcp_xfer" 0 2 \
	"policy rule $CONF:2 (deny ports=7403)"
outcome policy/denied_exe root 7406 "$SKT_TMP/xfer-link" 0 2 \
	"policy rule $CONF:3 (deny exe=$SKT_TMP/xfer-link)"
outcome policy/denied_user nobody 7401 "$SKT_OTHER_PROGS/tcp_xfer" 0 2 \
	"no policy rule matched, $CONF:1 (default deny)"
outcome policy/group_allowed nobody+4242 7404 "$SKT_OTHER_PROGS/tcp_xfer" 1 0
outcome policy/group_missing nobody 7404 "$SKT_OTHER_PROGS/tcp_xfer" 0 2

# One client, ten refusals: one line naming it, and one when it leaves.
hs_py "$NS" register-many --socket "$SOCK_A" --port 7403 --count 5 --expect SKACCEL_ERR_POLICY \
	>"$SKT_TMP/many.out" 2>&1
rc=$?
pid=$(sed -n 's/^pid=//p' "$SKT_TMP/many.out")
ERR=""
[ $rc -eq 0 ] && [ -n "$pid" ] || ERR="client: exit $rc: $(skt_tail "$SKT_TMP/many.out")"
for _ in $(seq 20); do grep -q "pid $pid (uid 0.*left after" "$LOG_A" && break; sleep 0.1; done
if [ -z "$ERR" ]; then
	n=$(grep -c "Refused to register .* for pid $pid (uid 0.*policy rule $CONF:2 (deny ports=7403)" "$LOG_A")
	[ "$n" -eq 1 ] || ERR="$n refusal lines for pid $pid, expected 1"
	grep -q "Client pid $pid (uid 0.*left after 9 more refusals, not logged" "$LOG_A" ||
		ERR="${ERR:+$ERR; }no line counting the 9 refusals not logged: $(grep "pid $pid " "$LOG_A" | tail -n2 | tr '\n' '|')"
fi
skt_verdict policy/refusal_logged_once "$ERR"

# --- reload --------------------------------------------------------------------------------
policy "$CONF" "default deny" "allow user=nobody ports=7409-7410" "deny ports=7403" "allow user=root"
kill -HUP "$PID_A"
ERR=""
for _ in $(seq 30); do grep -q "Reloaded policy $CONF: 3 rules, default deny" "$LOG_A" && break; sleep 0.1; done
grep -q "Reloaded policy $CONF: 3 rules, default deny" "$LOG_A" || ERR="no reload in the log: $(skt_tail "$LOG_A")"
if [ -z "$ERR" ]; then
	outcome policy/reload nobody 7409 "$SKT_OTHER_PROGS/tcp_xfer" 1 0
else
	skt_verdict policy/reload "$ERR"
fi
policy "$CONF" "default deny" "allow user=nobody ports=7409-7410" "bogus line"
kill -HUP "$PID_A"
ERR=""
for _ in $(seq 30); do grep -q "Failed to reload policy $CONF" "$LOG_A" && break; sleep 0.1; done
grep -q "Policy error $CONF:3:1: unknown directive 'bogus'" "$LOG_A" &&
	grep -q "Failed to reload policy $CONF: errors above; the policy loaded before stays in force" "$LOG_A" ||
	ERR="the broken file was not reported: $(skt_tail "$LOG_A")"
if [ -z "$ERR" ]; then
	# Had the broken file replaced the policy, root (no longer allowed by it) would be
	# refused; the policy before allows it.
	outcome policy/reload_bad_file_keeps_policy root 7411 "$TPROGS/tcp_xfer" 1 0
else
	skt_verdict policy/reload_bad_file_keeps_policy "$ERR"
fi

# --- helper B: everyone allowed, but only with their own sockets -----------------------------
CONF_B=$SKT_TMP/allow.conf
policy "$CONF_B" "default allow" "max-per-user nobody 4"
if ! skt_helper_start --config "$CONF_B"; then
	for t in "${TESTS[@]:19}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
skt_netns_new NS2 || { for t in "${TESTS[@]:19}"; do skt_fail "$t" "cannot create a netns"; done; skt_done; }
hs_verdicts policy/ownership hs_py "$NS" ownership --socket "$SKT_SOCK" --name policy/ownership \
	--uid "$NOBODY" --gid "$NOGROUP" --limit 4
hs_verdicts policy/netns hs_py "$NS" netns --socket "$SKT_SOCK" --name policy/netns --other-netns "$NS2"
sleep 0.3
ERR=""
grep -q "Refused to register .* for pid [0-9]* (uid $NOBODY): socket of another user (owned by uid 0)" "$SKT_HLOG" ||
	ERR="no NOT_OWNER line"
grep -q "Refused to register .* for pid [0-9]* (uid 0): socket in another network namespace (netns cookie [0-9]*, the client's [0-9]*)" "$SKT_HLOG" ||
	ERR="${ERR:+$ERR; }no OTHER_NETNS line"
grep -q "Refused to register .* for pid [0-9]* (uid $NOBODY): per-user quota exceeded (4 sockets)" "$SKT_HLOG" ||
	ERR="${ERR:+$ERR; }no QUOTA line"
for _ in $(seq 20); do [ "$(skt_stat reg_other_netns)" -ge 2 ] && break; sleep 0.1; done
[ "$(skt_stat reg_not_owner)" -eq 1 ] || ERR="${ERR:+$ERR; }reg_not_owner is $(skt_stat reg_not_owner), expected 1"
[ "$(skt_stat reg_other_netns)" -eq 2 ] || ERR="${ERR:+$ERR; }reg_other_netns is $(skt_stat reg_other_netns), expected 2"
skt_verdict policy/refusals_logged "$ERR"

ERR=""
for pid_log in "$PID_A $LOG_A" "$SKT_HELPER_PID $SKT_HLOG"; do
	read -r pid log <<<"$pid_log"
	kill -0 "$pid" 2>/dev/null || ERR="${ERR:+$ERR; }helper $pid died: $(skt_tail "$log" 5)"
	grep -qE 'Sanitizer|runtime error:|Segmentation' "$log" &&
		ERR="${ERR:+$ERR; }$(grep -m1 -E 'Sanitizer|runtime error|Segmentation' "$log")"
done
skt_verdict policy/helper_survived "$ERR"

# Both exit cleanly on SIGTERM (helper A with its executable reader), leaving no process
# behind; a sanitized build's LeakSanitizer reports at this exit.
ERR=""
readers=$(pgrep -P "$PID_A" | tr '\n' ' ')
[ -n "$readers" ] || ERR="helper A has no executable reader process"
for pid_log in "$PID_A $LOG_A" "$SKT_HELPER_PID $SKT_HLOG"; do
	read -r pid log <<<"$pid_log"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || ERR="${ERR:+$ERR; }helper $pid: exit status $rc after SIGTERM"
	grep -qE 'Sanitizer|runtime error:' "$log" &&
		ERR="${ERR:+$ERR; }$(grep -m1 -E 'Sanitizer|runtime error' "$log")"
done
for pid in $readers; do
	kill -0 "$pid" 2>/dev/null && ERR="${ERR:+$ERR; }the executable reader $pid outlived its helper"
done
skt_verdict policy/clean_exit "$ERR"
skt_helper_stop
skt_helper_stop "$PID_A"
skt_helper_unpin
skt_helper_unpin "$PIN_A"
skt_done
