#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The systemd deployment (SECURITY.md, "Deployment"), without a running systemd:
#
#   install_layout             `make install DESTDIR=` puts both units under
#                              $(PREFIX)/lib/systemd/system with @SBINDIR@ substituted,
#                              ExecStart= names the installed helper, and the policy file
#                              /etc/skaccel/helperd.conf passes --check-config
#   sysusers_user              the installed sysusers.d file makes systemd-sysusers
#                              --root=DESTDIR create the system user skaccel (nologin), and
#                              the service's ExecStart= --user and User= name that user
#   verify                     `systemd-analyze verify --root=DESTDIR` on the installed units
#                              (the host's *.target units copied in so dependencies resolve):
#                              exit 0 and not one warning about our units (the man pages
#                              of Documentation= included, found where make install put them)
#   verify_detects_bad_unit    the same check on a copy with an unknown key fails: the check
#                              can fail
#   security_exposure          `systemd-analyze security --offline=yes` rates the service at
#                              most 2.0
#   socket_activation          systemd-socket-activate --seqpacket starts the helper on the
#                              first connection with LISTEN_FDS; it serves it. It runs as
#                              the unit would, as far as can be without systemd as PID 1:
#                              ExecStart='s arguments (--user skaccel), the unit's
#                              CapabilityBoundingSet= and NoNewPrivileges= (setpriv), /proc
#                              mounted as ProcSubset=pid and ProtectProc=invisible mount it,
#                              / and /sys read-only but /sys/fs/bpf (ProtectSystem=strict,
#                              ProtectKernelTunables=, ReadWritePaths=) in a private mount
#                              namespace. Not covered: the seccomp filter, address family
#                              and IP restrictions, PrivateTmp/Devices and the rest
#   unit_user_and_caps         that helper, serving, runs as the user skaccel in every
#                              thread (uids, gids, groups) with no capability in any set and
#                              no_new_privs
#   socket_activation_accelerates
#                              two processes under skaccel-run --socket on that socket
#                              exchange a verified stream, and redir_bytes grows
#   notify_ready               READY=1 (with STATUS=) arrives on a NOTIFY_SOCKET we own
#   notify_stopping            SIGTERM: the helper exits 0 after STOPPING=1
#   uninstall_removes_pins     `make uninstall DESTDIR= PIN_DIR=` removes the pins the helper
#                              left behind (with the installed helper's --unpin), the pin
#                              directory and every installed file
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(systemd_units/install_layout systemd_units/sysusers_user systemd_units/verify
       systemd_units/verify_detects_bad_unit systemd_units/security_exposure
       systemd_units/socket_activation systemd_units/unit_user_and_caps
       systemd_units/socket_activation_accelerates systemd_units/notify_ready
       systemd_units/notify_stopping systemd_units/uninstall_removes_pins)
hs_require "${TESTS[@]}"
for tool in systemd-analyze systemd-socket-activate systemd-sysusers setpriv unshare; do
	command -v $tool >/dev/null ||
		{ for t in "${TESTS[@]}"; do skt_skip "$t" "$tool not installed (apt-get install systemd)"; done; exit 0; }
done

UNITS=(skaccel-helperd.socket skaccel-helperd.service)
PREFIX=/usr/local
DEST=$SKT_TMP/destdir
UDIR=$PREFIX/lib/systemd/system
SYSUSERS=$PREFIX/lib/sysusers.d/skaccel.conf
# The exposure systemd-analyze security may give the service, at most.
MAX_EXPOSURE=2.0

# --- make install into a DESTDIR ---------------------------------------------------------------
ERR=""
if ! make -s -C "$SKT_ROOT" OUTPUT="$SKT_BUILD" PREFIX=$PREFIX DESTDIR="$DEST" install \
	>"$SKT_TMP/install.log" 2>&1; then
	ERR="make install failed: $(skt_tail "$SKT_TMP/install.log")"
fi
for u in "${UNITS[@]}"; do
	[ -n "$ERR" ] && break
	f=$DEST$UDIR/$u
	if [ ! -f "$f" ]; then ERR="$UDIR/$u not installed"
	elif grep -n '@[A-Z_]*@' "$f" >/dev/null; then ERR="$u: placeholder left: $(grep -m1 '@[A-Z_]*@' "$f")"
	fi
done
if [ -z "$ERR" ]; then
	exe=$(sed -n 's/^ExecStart=!\{0,1\}\([^ ]*\).*/\1/p' "$DEST$UDIR/skaccel-helperd.service")
	[ "$exe" = "$PREFIX/sbin/skaccel-helperd" ] || ERR="ExecStart=$exe, expected $PREFIX/sbin/skaccel-helperd"
	[ -x "$DEST$exe" ] || ERR="${ERR:+$ERR; }$exe is not installed in DESTDIR"
	grep -q '^ListenSequentialPacket=' "$DEST$UDIR/skaccel-helperd.socket" ||
		ERR="${ERR:+$ERR; }the socket unit does not listen on a SOCK_SEQPACKET socket"
	grep -q '^Type=notify' "$DEST$UDIR/skaccel-helperd.service" ||
		ERR="${ERR:+$ERR; }the service is not Type=notify"
	# The policy file the helper reads by default: installed, and valid as it comes.
	conf=$DEST/etc/skaccel/helperd.conf
	if [ ! -f "$conf" ]; then ERR="${ERR:+$ERR; }/etc/skaccel/helperd.conf not installed"
	elif ! "$HELPERD" --check-config "$conf" >"$SKT_TMP/check.out" 2>&1; then
		ERR="${ERR:+$ERR; }the installed policy file does not pass --check-config: $(skt_tail "$SKT_TMP/check.out")"
	fi
fi
skt_verdict systemd_units/install_layout "$ERR"

# --- the user the helper serves as --------------------------------------------------------
ERR=""
SVC=$DEST$UDIR/skaccel-helperd.service
if [ ! -f "$DEST$SYSUSERS" ]; then ERR="$SYSUSERS not installed"
elif ! systemd-sysusers --root="$DEST" >"$SKT_TMP/sysusers.log" 2>&1; then
	ERR="systemd-sysusers --root failed: $(skt_tail "$SKT_TMP/sysusers.log")"
else
	line=$(grep '^skaccel:' "$DEST/etc/passwd" 2>/dev/null)
	uid=$(echo "$line" | cut -d: -f3)
	if [ -z "$line" ]; then ERR="systemd-sysusers created no user skaccel"
	elif [ "$uid" -eq 0 ] || [ "$uid" -ge 1000 ]; then ERR="skaccel is not a system user: $line"
	elif [ "${line##*:}" != /usr/sbin/nologin ]; then ERR="skaccel may log in: $line"
	fi
	user_arg=$(sed -n 's/^ExecStart=.* --user \([^ ]*\).*/\1/p' "$SVC")
	user_key=$(sed -n 's/^User=//p' "$SVC")
	[ "$user_arg" = skaccel ] && [ "$user_key" = skaccel ] ||
		ERR="${ERR:+$ERR; }ExecStart= --user '$user_arg' and User= '$user_key', expected skaccel"
	grep -q '^ExecStart=!' "$SVC" ||
		ERR="${ERR:+$ERR; }ExecStart= lacks '!': systemd would start the helper as skaccel, unable to load"
fi
skt_verdict systemd_units/sysusers_user "$ERR"

# --- systemd-analyze verify against the DESTDIR root ----------------------------------------
# verify_units ROOT UNIT...: exit status and every line that mentions a unit; sets ERR.
verify_units() {
	local root=$1 out rc
	shift
	# verify runs man(1) for every Documentation=man: page: MANPATH points it at the
	# pages make install put in ROOT, so a unit naming a page we do not ship fails.
	out=$(cd / && MANPATH="$root$PREFIX/share/man" SYSTEMD_LOG_COLOR=0 \
		systemd-analyze verify --root="$root" "$@" 2>&1)
	rc=$?
	ERR=""
	[ $rc -eq 0 ] || ERR="systemd-analyze verify exited $rc"
	if echo "$out" | grep -qE 'skaccel|x-bad'; then
		ERR="${ERR:+$ERR: }$(echo "$out" | grep -E 'skaccel|x-bad' | head -n 3 | tr '\n' '|')"
	fi
}
mkdir -p "$DEST/usr/lib/systemd/system"
for d in /usr/lib/systemd/system /lib/systemd/system; do
	[ -d "$d" ] && cp -an "$d"/*.target "$DEST/usr/lib/systemd/system/" 2>/dev/null
done
if [ -f "$DEST$UDIR/skaccel-helperd.service" ]; then
	verify_units "$DEST" "$UDIR/skaccel-helperd.socket" "$UDIR/skaccel-helperd.service"
	skt_verdict systemd_units/verify "$ERR"
	# Negative control: an unknown key is only a warning for systemd, and must fail here.
	sed 's/^Type=notify$/Type=notify\nBogusHardening=yes/' "$DEST$UDIR/skaccel-helperd.service" \
		>"$DEST$UDIR/x-bad.service"
	verify_units "$DEST" "$UDIR/x-bad.service"
	rm -f "$DEST$UDIR/x-bad.service"
	if [ -n "$ERR" ]; then skt_pass systemd_units/verify_detects_bad_unit
	else skt_fail systemd_units/verify_detects_bad_unit "a unit with an unknown key passed the check"; fi

	out=$(cd / && SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes --root="$DEST" \
		"$UDIR/skaccel-helperd.service" 2>&1)
	level=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' | tail -n1)
	skt_info "exposure: $(echo "$out" | grep -m1 'Overall exposure')"
	ERR=""
	if [ -z "$level" ]; then ERR="no exposure level: $(echo "$out" | tail -n 2 | tr '\n' '|')"
	elif awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l > m) }'; then
		ERR="exposure level $level, above $MAX_EXPOSURE: $(echo "$out" | grep '✗' | tr -s ' ' | cut -c1-60 | tr '\n' '|')"
	fi
	skt_verdict systemd_units/security_exposure "$ERR"
else
	for t in verify verify_detects_bad_unit security_exposure; do
		skt_fail "systemd_units/$t" "no installed units to check"
	done
fi

# --- socket activation, READY=1, acceleration through the activated helper --------------------
skt_netns_new NS || { skt_fail systemd_units/socket_activation "no netns"; skt_done; }
SKT_SEQ=$((SKT_SEQ + 1))
SOCK=$SKT_TMP/activated.sock
PIN=/sys/fs/bpf/skt-$SKT_RUN_ID-$SKT_SCRIPT-$SKT_SEQ
# The helper sends STOPPING=1 as skaccel: like /run/systemd/notify, a socket it may use.
chmod 0711 "$SKT_TMP"
mkdir -m 0755 "$SKT_TMP/notify"
NOTIFY=$SKT_TMP/notify/notify.sock
echo "pin $PIN" >>"$SKT_STATE/resources"

# Our NOTIFY_SOCKET: every datagram, one per line group, into notify.log.
"$HS_PY" - "$NOTIFY" "$SKT_TMP/notify.log" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a") as f:
    try:
        while True:
            f.write(s.recv(4096).decode(errors="replace") + "\n--\n")
            f.flush()
    except socket.timeout:
        pass
EOF
NPID=$!
for _ in $(seq 50); do [ -S "$NOTIFY" ] && break; sleep 0.1; done
chmod 0777 "$NOTIFY"

# The user, as make install creates it on a live system.
systemd-sysusers "$DEST$SYSUSERS" >"$SKT_TMP/sysusers-host.log" 2>&1 ||
	skt_info "systemd-sysusers on the host: $(skt_tail "$SKT_TMP/sysusers-host.log")"
# The unit's ExecStart= arguments and bounding set (setpriv's spelling: -all,+bpf,...).
# shellcheck disable=SC2207
UNIT_ARGS=($(sed -n 's/^ExecStart=!\{0,1\}[^ ]*//p' "$SVC"))
BSET=-all$(sed -n 's/^CapabilityBoundingSet=//p' "$SVC" | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/,+\L\1/p' | tr -d '\n')
NNP=()
grep -q '^NoNewPrivileges=yes' "$SVC" && NNP=(--no-new-privs)
skt_info "as the unit: ${UNIT_ARGS[*]}, bounding set $BSET ${NNP[*]}"
# shellcheck disable=SC2016 # expanded by the inner shell
systemd-socket-activate --seqpacket -l "$SOCK" -E NOTIFY_SOCKET="$NOTIFY" \
	unshare --mount --propagation private -- sh -c '
		mount -t proc -o hidepid=invisible,subset=pid proc /proc &&
		mount -o remount,bind,ro /sys && mount -o remount,bind,ro / &&
		exec setpriv --bounding-set "$0" "$@"' "$BSET" "${NNP[@]}" -- \
	"$HELPERD" "${UNIT_ARGS[@]}" --pin-dir "$PIN" --log-level debug \
	>"$SKT_TMP/activated.log" 2>&1 &
APID=$!
# After exec the process is the helper; record it so a killed run still sweeps it.
echo "pid $APID $HELPERD" >>"$SKT_STATE/resources"
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

ERR=""
# The first connection starts the helper (BPF load takes a moment: be patient once).
if ! "$HS_PY" -B -c '
import sys
sys.path.insert(0, sys.argv[2])
import skhostile
ok, why = skhostile.ping(sys.argv[1], timeout=15)
sys.exit(0 if ok else why)' "$SOCK" "$SKT_ROOT/tests/hostile" 2>"$SKT_TMP/first-ping.err"; then
	ERR="the first connection was not served: $(skt_tail "$SKT_TMP/first-ping.err"); helper: $(skt_tail "$SKT_TMP/activated.log")"
elif [ "$(readlink "/proc/$APID/exe")" != "$(readlink -f "$HELPERD")" ]; then
	ERR="pid $APID is not the helper after activation"
elif ! grep -q "Listening on the socket passed by systemd" "$SKT_TMP/activated.log"; then
	ERR="the helper did not use the passed socket: $(skt_tail "$SKT_TMP/activated.log")"
fi
skt_verdict systemd_units/socket_activation "$ERR"

E2=$ERR
if [ -z "$E2" ]; then
	want=$(id -u skaccel 2>/dev/null)
	wantg=$(id -g skaccel 2>/dev/null)
	[ -n "$want" ] || E2="no user skaccel on this host"
	bad=""
	for st in /proc/"$APID"/task/*/status; do
		while read -r key a b c d; do
			case $key in
			Uid: | Gid:)
				w=$want
				[ $key = Gid: ] && w=$wantg
				[ "$a $b $c $d" = "$w $w $w $w" ] || bad="$bad ${st#/proc/}:$key$a/$b/$c/$d" ;;
			Groups:) [ "$a" = "$wantg" ] && [ -z "$b" ] || bad="$bad ${st#/proc/}:Groups:$a $b" ;;
			CapInh: | CapPrm: | CapEff: | CapBnd: | CapAmb:)
				[ "$a" = 0000000000000000 ] || bad="$bad ${st#/proc/}:$key$a" ;;
			NoNewPrivs:) [ "$a" = 1 ] || bad="$bad ${st#/proc/}:NoNewPrivs:$a" ;;
			esac
		done <"$st"
	done
	[ -z "$E2" ] && [ -n "$bad" ] && E2="not the user skaccel without capabilities:$bad"
	[ -z "$E2" ] && ! grep -q "Switched to user skaccel (uid $want, gid $wantg) and dropped capabilities.*now none" \
		"$SKT_TMP/activated.log" && E2="no user switch logged: $(grep -i -m1 capabilit "$SKT_TMP/activated.log")"
fi
skt_verdict systemd_units/unit_user_and_caps "$E2"

E2=$ERR
if [ -z "$E2" ]; then
	r0=$(skt_stat redir_bytes "$PIN")
	skt_xfer_pair "$NS" "$SOCK" $((16 * 1024 * 1024)) activated
	E2=$ERR
	r1=$(skt_stat redir_bytes "$PIN")
	[ -z "$E2" ] && [ "$r1" -le "$r0" ] &&
		E2="nothing redirected through the socket-activated helper: $(skt_tail "$SKT_TMP/activated.log")"
	skt_info "redirected through the activated helper: $((r1 - r0))"
fi
skt_verdict systemd_units/socket_activation_accelerates "$E2"

ERR=""
grep -q '^READY=1$' "$SKT_TMP/notify.log" 2>/dev/null || ERR="no READY=1 on NOTIFY_SOCKET: $(skt_tail "$SKT_TMP/notify.log")"
grep -q '^STATUS=' "$SKT_TMP/notify.log" 2>/dev/null || ERR="${ERR:+$ERR; }no STATUS= on NOTIFY_SOCKET"
skt_verdict systemd_units/notify_ready "$ERR"

ERR=""
kill -TERM "$APID" 2>/dev/null
for _ in $(seq 50); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$APID" 2>/dev/null; then
	ERR="the helper did not exit within 5 s of SIGTERM"
	kill -KILL "$APID"
fi
wait "$APID"
rc=$?
[ -z "$ERR" ] && [ $rc -ne 0 ] && ERR="exit status $rc after SIGTERM"
sleep 0.2
grep -q '^STOPPING=1$' "$SKT_TMP/notify.log" 2>/dev/null || ERR="${ERR:+$ERR; }no STOPPING=1 on NOTIFY_SOCKET"
skt_verdict systemd_units/notify_stopping "$ERR"
kill "$NPID" 2>/dev/null
wait "$NPID" 2>/dev/null

# --- make uninstall: the pins the stopped helper kept, then the files -------------------------
ERR=""
[ -e "$PIN/skaccel_socks" ] || ERR="the stopped helper left no pins to remove (nothing to test)"
if [ -z "$ERR" ] && ! make -s -C "$SKT_ROOT" OUTPUT="$SKT_BUILD" PREFIX=$PREFIX DESTDIR="$DEST" \
	PIN_DIR="$PIN" uninstall >"$SKT_TMP/uninstall.log" 2>&1; then
	ERR="make uninstall failed: $(skt_tail "$SKT_TMP/uninstall.log")"
fi
[ -z "$ERR" ] && [ -e "$PIN" ] && ERR="$PIN still exists after make uninstall: $(ls "$PIN" | tr '\n' ' ')"
if [ -z "$ERR" ]; then
	left=""
	for f in "$PREFIX/bin/skaccel-run" "$PREFIX/sbin/skaccel-helperd" \
		"$PREFIX/lib/libskaccel.so" "${UNITS[@]/#/$UDIR/}" /etc/skaccel/helperd.conf "$SYSUSERS"; do
		[ -e "$DEST$f" ] && left="$left $f"
	done
	[ -n "$left" ] && ERR="files left after make uninstall: $left"
fi
skt_verdict systemd_units/uninstall_removes_pins "$ERR"
skt_remove_pin "$PIN"
skt_done
