#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The skaccel-run wrapper and the shim's diagnostics: --help, a missing helper (a
# warning, and the command still runs with its own exit status), a set-user-ID target (a
# warning), an existing LD_PRELOAD (kept, the shim appended once, and still effective),
# SKACCEL_DEBUG=1 (one registration outcome line per connection end) and silence
# without it.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(skaccel_run/help skaccel_run/missing_helper skaccel_run/exit_status
       skaccel_run/setuid_target skaccel_run/ld_preload_appended skaccel_run/debug_outcome_line
       skaccel_run/silent_without_debug)
# The wrapper alone needs no privilege: only the tests with a helper require root.
for b in "$SKRUN" "$SKLIB"; do
	[ -e "$b" ] || { for t in "${TESTS[@]}"; do skt_skip "$t" "$b not built (make)"; done; exit 0; }
done

OUT=$SKT_TMP/out
ERRF=$SKT_TMP/err

# --- --help ------------------------------------------------------------------------------
if ! timeout 10 "$SKRUN" --help >"$OUT" 2>"$ERRF"; then
	skt_fail skaccel_run/help "--help exited $?: $(skt_tail "$ERRF")"
elif ! grep -q "Usage: skaccel-run" "$OUT"; then
	skt_fail skaccel_run/help "--help printed no usage on stdout: $(skt_tail "$OUT")"
else
	timeout 10 "$SKRUN" >/dev/null 2>"$ERRF"
	rc=$?
	if [ $rc -ne 125 ]; then
		skt_fail skaccel_run/help "no COMMAND: exit $rc, expected 125 (documented)"
	else
		skt_pass skaccel_run/help
	fi
fi

# --- no helper: warn, run anyway ----------------------------------------------------------
timeout 10 "$SKRUN" -s "$SKT_TMP/no-such/helperd.sock" -l "$SKLIB" sh -c 'echo ran; exit 7' \
	>"$OUT" 2>"$ERRF"
rc=$?
if [ $rc -ne 7 ] || [ "$(cat "$OUT")" != ran ]; then
	skt_fail skaccel_run/missing_helper "the command did not run as asked: exit $rc, stdout '$(cat "$OUT")'"
elif ! grep -qi "warn" "$ERRF" || ! grep -q "no-such/helperd.sock" "$ERRF"; then
	skt_fail skaccel_run/missing_helper "no warning naming the missing helper socket: '$(skt_tail "$ERRF")'"
else
	skt_pass skaccel_run/missing_helper
fi

# --- exit status: the command's, and 127 for a missing command ----------------------------
timeout 10 "$SKRUN" -q -l "$SKLIB" sh -c 'exit 42' >/dev/null 2>&1
rc1=$?
timeout 10 "$SKRUN" -q -l "$SKLIB" "$SKT_TMP/no-such-command" >/dev/null 2>&1
rc2=$?
if [ $rc1 -ne 42 ] || [ $rc2 -ne 127 ]; then
	skt_fail skaccel_run/exit_status "got $rc1 for 'exit 42' and $rc2 for a missing command (want 42, 127)"
else
	skt_pass skaccel_run/exit_status
fi

skt_require skaccel_run/setuid_target skaccel_run/ld_preload_appended \
	skaccel_run/debug_outcome_line skaccel_run/silent_without_debug
if ! skt_helper_start; then
	for t in setuid_target ld_preload_appended debug_outcome_line silent_without_debug; do
		skt_fail "skaccel_run/$t" "$SKT_WHY"
	done
	skt_done
fi

# --- set-user-ID target: a warning (with a live helper, the only one), and it runs ---------
# Owned by another user: root running its own set-user-ID file gains nothing and the
# loader honours LD_PRELOAD then, so only a foreign owner makes it secure-execution.
cp /bin/true "$SKT_TMP/true-plain"
cp /bin/true "$SKT_TMP/true-suid"
chmod 0755 "$SKT_TMP" # the target user must be able to reach the file
chown 65534 "$SKT_TMP/true-suid"
chmod u+s "$SKT_TMP/true-suid"
timeout 10 "$SKRUN" -s "$SKT_SOCK" -l "$SKLIB" "$SKT_TMP/true-plain" >/dev/null 2>"$SKT_TMP/err-plain"
rc1=$?
timeout 10 "$SKRUN" -s "$SKT_SOCK" -l "$SKLIB" "$SKT_TMP/true-suid" >/dev/null 2>"$ERRF"
rc2=$?
if [ $rc1 -ne 0 ] || [ $rc2 -ne 0 ]; then
	skt_fail skaccel_run/setuid_target "exit $rc1 (plain copy) / $rc2 (set-user-ID copy), want 0 for both"
elif [ -s "$SKT_TMP/err-plain" ]; then
	skt_fail skaccel_run/setuid_target "a warning for a plain target with a live helper: '$(skt_tail "$SKT_TMP/err-plain")'"
elif ! grep -Eqi "set-user-id|setuid|suid" "$ERRF"; then
	skt_fail skaccel_run/setuid_target "no set-user-ID warning: '$(skt_tail "$ERRF")'"
else
	skt_pass skaccel_run/setuid_target
fi

skt_netns_new NS || { skt_fail skaccel_run/debug_outcome_line "no netns"; skt_done; }

# pair SERVER_ENV... -- CLIENT_ENV...: a tcp_xfer exchange, both ends under skaccel-run
# with the given environment assignments; stderr of each end in $SKT_TMP/{s,c}.err.
pair() {
	local senv=() cenv=() ready=$SKT_TMP/pair.ready spid
	while [ $# -gt 0 ] && [ "$1" != -- ]; do senv+=("$1"); shift; done
	shift
	cenv=("$@")
	rm -f "$ready"
	ERR=""
	skt_in "$NS" env "${senv[@]}" timeout 60 "$SKRUN" -s "$SKT_SOCK" -l "$SKLIB" \
		"$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$ready" >"$SKT_TMP/s.out" 2>"$SKT_TMP/s.err" &
	spid=$!
	skt_wait_file "$ready" || { ERR="server did not start: $(skt_tail "$SKT_TMP/s.err")"; return; }
	skt_in "$NS" env "${cenv[@]}" timeout 60 "$SKRUN" -s "$SKT_SOCK" -l "$SKLIB" \
		"$TPROGS/tcp_xfer" client 127.0.0.1 "$(cut -d' ' -f1 "$ready")" --bytes 8M \
		>"$SKT_TMP/c.out" 2>"$SKT_TMP/c.err" || ERR="client: $(skt_tail "$SKT_TMP/c.err")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$SKT_TMP/s.err")"
}

# --- an existing LD_PRELOAD is kept, the shim is appended once, and it works ---------------
other=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p) | awk '/libm\.so\.6 .*x86-64|libm\.so\.6 / { print $NF; exit }')
if [ -z "$other" ] || [ ! -e "$other" ]; then
	skt_fail skaccel_run/ld_preload_appended "no other shared library to preload (libm)"
else
	# shellcheck disable=SC2016 # expanded by the inner shell, after both wrappers ran
	got=$(LD_PRELOAD=$other timeout 10 "$SKRUN" -q -s "$SKT_SOCK" -l "$SKLIB" \
		"$SKRUN" -q -s "$SKT_SOCK" -l "$SKLIB" sh -c 'printf %s "$LD_PRELOAD"')
	n=$(printf '%s' "$got" | sed 's/[: ]/\n/g' | grep -c "libskaccel")
	first=$(printf '%s' "$got" | sed 's/[: ]/\n/g' | head -n1)
	pair LD_PRELOAD="$other" SKACCEL_DEBUG=1 -- LD_PRELOAD="$other" SKACCEL_DEBUG=1
	if [ "$first" != "$other" ]; then
		skt_fail skaccel_run/ld_preload_appended "LD_PRELOAD is '$got': the existing '$other' is not kept first"
	elif [ "$n" -ne 1 ]; then
		skt_fail skaccel_run/ld_preload_appended "LD_PRELOAD is '$got': libskaccel appears $n times after two nested skaccel-run"
	elif [ -n "$ERR" ]; then
		skt_fail skaccel_run/ld_preload_appended "transfer with an existing LD_PRELOAD failed: $ERR"
	elif ! grep -q "accelerated" "$SKT_TMP/s.err" "$SKT_TMP/c.err"; then
		skt_fail skaccel_run/ld_preload_appended "with an existing LD_PRELOAD nothing was accelerated: $(skt_tail "$SKT_TMP/s.err") $(skt_tail "$SKT_TMP/c.err")"
	else
		skt_pass skaccel_run/ld_preload_appended
	fi
fi

# --- SKACCEL_DEBUG=1 (the variable, not -d): one outcome line per registered end ------------
pair SKACCEL_DEBUG=1 -- SKACCEL_DEBUG=1
line_re='skaccel\[[0-9]+\]: .*(accelerated|registered|not local|refused|unreachable|disabled)'
if [ -n "$ERR" ]; then
	skt_fail skaccel_run/debug_outcome_line "transfer failed: $ERR"
elif ! grep -Eq "$line_re" "$SKT_TMP/s.err" || ! grep -Eq "$line_re" "$SKT_TMP/c.err"; then
	skt_fail skaccel_run/debug_outcome_line "no registration outcome line on both ends: server '$(skt_tail "$SKT_TMP/s.err")' client '$(skt_tail "$SKT_TMP/c.err")'"
elif ! grep -q "accelerated" "$SKT_TMP/s.err" "$SKT_TMP/c.err"; then
	skt_fail skaccel_run/debug_outcome_line "neither end reports 'accelerated': '$(skt_tail "$SKT_TMP/s.err")' '$(skt_tail "$SKT_TMP/c.err")'"
else
	skt_pass skaccel_run/debug_outcome_line
fi

# --- without SKACCEL_DEBUG the shim says nothing --------------------------------------------
pair SKACCEL_DEBUG= -- SKACCEL_DEBUG=
if [ -n "$ERR" ]; then
	skt_fail skaccel_run/silent_without_debug "transfer failed: $ERR"
elif [ -s "$SKT_TMP/s.err" ] || [ -s "$SKT_TMP/c.err" ]; then
	skt_fail skaccel_run/silent_without_debug "stderr not empty: '$(skt_tail "$SKT_TMP/s.err")' '$(skt_tail "$SKT_TMP/c.err")'"
else
	skt_pass skaccel_run/silent_without_debug
fi

skt_helper_stop
skt_helper_unpin
skt_done
