#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The Debian package on this machine: built by `make deb` (or SKT_DEB=path/to.deb),
# lintian-clean, installed with apt-get, its files in place, an opted-in connection
# accelerated through the INSTALLED helper started as its socket unit says, then removed
# and purged with nothing left behind. The machine has no systemd as PID 1, so
# systemd-socket-activate plays the socket unit: it listens on the unit's
# ListenSequentialPacket= path and, on the first connection, runs the unit's ExecStart=
# (without the unit's sandbox, which only systemd applies). Needs root.
#
# The package owns the machine-wide names (/run/skaccel/helperd.sock, /sys/fs/bpf/skaccel,
# /etc/skaccel): the test refuses to start when skaccel is installed or any of them exists,
# and its EXIT trap purges the package and removes them, so a failure midway leaves the
# machine as it found it (the user skaccel too, unless it was there before).
#
#   deb/build        make deb produces build/deb/skaccel_*.deb
#   deb/lintian      lintian reports no error and no warning
#   deb/install      apt-get install ./skaccel_*.deb succeeds
#   deb/files        programs (skaccel, skaccel-run, skaccel-helperd), library, units,
#                    man pages, sysusers file, the conffile /etc/skaccel/helperd.conf,
#                    the user skaccel, the socket enabled (deb-systemd-helper) and the
#                    service not
#   deb/accelerated  32 MiB from an installed skaccel-run to another, with the defaults
#                    (no --socket, no --lib): the installed helper's redirected-bytes
#                    counter covers 95% of it, the installed library is the one mapped
#   deb/remove       dpkg --remove: the helper's pins are gone (prerm --unpin), so are the
#                    programs; the conffile stays
#   deb/purge        dpkg --purge: no file of the package left, /etc/skaccel gone, no
#                    deb-systemd-helper state; the user skaccel stays (Debian's way)
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(deb/build deb/lintian deb/install deb/files deb/accelerated deb/remove deb/purge)
skt_require "${TESTS[@]}"
PIN=/sys/fs/bpf/skaccel
RUNDIR=/run/skaccel
# 32 MiB: the first 256 KiB and the moment until both ends are paired go by TCP by
# design (lazy promotion, shim/promote.h); against 10 MiB that was 5-6% on a loaded run.
PAYLOAD=$((32 * 1024 * 1024))

# fail_rest REASON: every test not yet decided fails with REASON, and the script ends.
declare -A DECIDED
verdict() { DECIDED[$1]=1; if [ -z "$2" ]; then skt_pass "$1"; else skt_fail "$1" "$2"; fi; }
fail_rest() {
	local t
	for t in "${TESTS[@]}"; do [ -n "${DECIDED[$t]:-}" ] || skt_fail "$t" "$1"; done
	skt_done
}

for cmd in dpkg apt-get lintian systemd-socket-activate; do
	command -v "$cmd" >/dev/null || fail_rest "$cmd is not installed (scripts/install-deps.sh build test)"
done
if dpkg-query -W -f='${Status}' skaccel 2>/dev/null | grep -q 'installed\|config-files'; then
	fail_rest "the package skaccel is installed on this machine: the test would remove it"
fi
for f in "$PIN" "$RUNDIR" /etc/skaccel; do
	[ -e "$f" ] && fail_rest "$f exists: something of skaccel is installed or running here"
done
USER_BEFORE=$(getent passwd skaccel)

HPID=""
INSTALLED=""
# shellcheck disable=SC2317 # run by the EXIT trap
deb_cleanup() {
	if [ -n "$HPID" ]; then
		kill -TERM "$HPID" 2>/dev/null
		wait "$HPID" 2>/dev/null
	fi
	if [ -n "$INSTALLED" ] && dpkg-query -W skaccel >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive dpkg --purge skaccel >/dev/null 2>&1
	fi
	[ -d "$PIN" ] && rm -rf "$PIN"
	rm -rf "$RUNDIR"
	if [ -n "$INSTALLED" ] && [ -z "$USER_BEFORE" ] && getent passwd skaccel >/dev/null; then
		userdel skaccel 2>/dev/null
		getent group skaccel >/dev/null && groupdel skaccel 2>/dev/null
	fi
	skt_cleanup
}
trap deb_cleanup EXIT

# --- build and lint ------------------------------------------------------------------------
if [ -n "${SKT_DEB:-}" ]; then
	DEB=$SKT_DEB
else
	rm -f "$SKT_ROOT"/build/deb/skaccel_*.deb
	make -s -C "$SKT_ROOT" deb >"$SKT_TMP/make-deb.log" 2>&1 ||
		fail_rest "make deb failed: $(skt_tail "$SKT_TMP/make-deb.log")"
	DEB=$(ls "$SKT_ROOT"/build/deb/skaccel_*.deb 2>/dev/null | head -n1)
fi
[ -f "$DEB" ] || fail_rest "no package: ${DEB:-build/deb/skaccel_*.deb}"
verdict deb/build ""

lintian --no-tag-display-limit "$DEB" >"$SKT_TMP/lintian.log" 2>&1
bad=$(grep -E '^(E|W): ' "$SKT_TMP/lintian.log" | head -n 5 | tr '\n' '|')
verdict deb/lintian "${bad:+lintian: $bad}"

# --- install -------------------------------------------------------------------------------
INSTALLED=1
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$(realpath "$DEB")" \
	>"$SKT_TMP/install.log" 2>&1; then
	fail_rest "apt-get install failed: $(skt_tail "$SKT_TMP/install.log")"
fi
verdict deb/install ""
dpkg -L skaccel >"$SKT_TMP/files"

ERR=""
for f in /usr/bin/skaccel-run /usr/bin/skaccel /usr/sbin/skaccel-helperd /usr/lib/skaccel/libskaccel.so \
	/lib/systemd/system/skaccel-helperd.socket /lib/systemd/system/skaccel-helperd.service \
	/usr/lib/sysusers.d/skaccel.conf /etc/skaccel/helperd.conf \
	/usr/share/man/man1/skaccel-run.1.gz /usr/share/man/man8/skaccel-helperd.8.gz \
	/usr/share/man/man5/skaccel-helperd.conf.5.gz; do
	[ -e "$f" ] || ERR="${ERR:+$ERR; }$f missing"
done
for p in "$SKT_ROOT"/man/*.scd; do
	p=${p##*/}
	p=${p%.scd}
	grep -q "/usr/share/man/man${p##*.}/$p.gz$" "$SKT_TMP/files" || ERR="${ERR:+$ERR; }man page $p not packaged"
done
dpkg-query -W -f='${Conffiles}\n' skaccel | grep -q '^ /etc/skaccel/helperd.conf ' ||
	ERR="${ERR:+$ERR; }/etc/skaccel/helperd.conf is not a conffile"
getent passwd skaccel >/dev/null || ERR="${ERR:+$ERR; }no user skaccel after install"
[ -L /etc/systemd/system/sockets.target.wants/skaccel-helperd.socket ] ||
	ERR="${ERR:+$ERR; }skaccel-helperd.socket not enabled"
[ -e /etc/systemd/system/multi-user.target.wants/skaccel-helperd.service ] &&
	ERR="${ERR:+$ERR; }skaccel-helperd.service enabled: the socket should start it"
man -w skaccel-helperd.conf >/dev/null 2>&1 || ERR="${ERR:+$ERR; }man skaccel-helperd.conf finds no page"
verdict deb/files "$ERR"

# --- the installed helper, as its socket unit starts it ----------------------------------
# ExecStart=!/usr/sbin/skaccel-helperd --user skaccel: systemd's prefixes (@-:+!) dropped.
exec_start=$(sed -n 's/^ExecStart=[-@:+!]*//p' /lib/systemd/system/skaccel-helperd.service)
sock=$(sed -n 's/^ListenSequentialPacket=//p' /lib/systemd/system/skaccel-helperd.socket)
dmode=$(sed -n 's/^DirectoryMode=//p' /lib/systemd/system/skaccel-helperd.socket)
ERR=""
if [ -z "$exec_start" ] || [ -z "$sock" ]; then
	ERR="no ExecStart= or ListenSequentialPacket= in the installed units"
else
	install -d -m "${dmode:-0755}" "$(dirname "$sock")"
	# shellcheck disable=SC2086 # ExecStart= is split into words, as systemd does
	systemd-socket-activate --seqpacket -l "$sock" $exec_start >"$SKT_TMP/helperd.log" 2>&1 &
	HPID=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || ERR="systemd-socket-activate does not listen on $sock: $(skt_tail "$SKT_TMP/helperd.log")"
fi
if [ -z "$ERR" ]; then
	# The first connection starts the helper; the installed skaccel-run warns until it answers.
	for _ in $(seq 100); do
		[ -z "$(/usr/bin/skaccel-run true 2>&1)" ] && [ -e "$PIN" ] && break
		sleep 0.1
	done
	maps=$(/usr/bin/skaccel-run -q cat /proc/self/maps | awk '$6 ~ /libskaccel/ { print $6 }' | sort -u)
	[ "$maps" = /usr/lib/skaccel/libskaccel.so ] ||
		ERR="skaccel-run preloads '$maps', not /usr/lib/skaccel/libskaccel.so"
fi
if [ -z "$ERR" ]; then
	skt_netns_new ns || ERR="cannot create a network namespace"
fi
if [ -z "$ERR" ]; then
	r0=$(/usr/sbin/skaccel-helperd --stats --json 2>"$SKT_TMP/stats.err" | grep -o '"redir_bytes": *[0-9]*' | head -n1 | grep -o '[0-9]*$')
	[ -n "$r0" ] || ERR="the installed helper has no counters: $(skt_tail "$SKT_TMP/stats.err"); helper: $(skt_tail "$SKT_TMP/helperd.log")"
fi
if [ -z "$ERR" ]; then
	ready=$SKT_TMP/xfer.ready
	skt_in "$ns" timeout -k 5 60 /usr/bin/skaccel-run -q "$TPROGS/tcp_xfer" server 127.0.0.1 0 \
		--ready "$ready" --conns 1 >"$SKT_TMP/server.log" 2>&1 &
	spid=$!
	if ! skt_wait_file "$ready"; then
		ERR="server did not start: $(skt_tail "$SKT_TMP/server.log")"
	else
		skt_in "$ns" timeout -k 5 60 /usr/bin/skaccel-run -q "$TPROGS/tcp_xfer" client 127.0.0.1 \
			"$(cut -d' ' -f1 "$ready")" --bytes "$PAYLOAD" --fast >"$SKT_TMP/client.log" 2>&1 ||
			ERR="client: $(skt_tail "$SKT_TMP/client.log")"
	fi
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$SKT_TMP/server.log")"
fi
if [ -z "$ERR" ]; then
	r1=$(/usr/sbin/skaccel-helperd --stats --json 2>/dev/null | grep -o '"redir_bytes": *[0-9]*' | head -n1 | grep -o '[0-9]*$')
	redir=$((${r1:-0} - r0))
	[ "$redir" -ge $((PAYLOAD * 95 / 100)) ] ||
		ERR="the installed helper redirected $redir of $PAYLOAD bytes; helper: $(skt_tail "$SKT_TMP/helperd.log")"
	skt_info "deb/accelerated: redirected $redir of $PAYLOAD bytes"
fi
verdict deb/accelerated "$ERR"

# --- remove, then purge ------------------------------------------------------------------------
# The service stops first, as prerm has systemd do; then dpkg.
if [ -n "$HPID" ]; then
	kill -TERM "$HPID" 2>/dev/null
	wait "$HPID" 2>/dev/null
	HPID=""
fi
ERR=""
if ! DEBIAN_FRONTEND=noninteractive dpkg --remove skaccel >"$SKT_TMP/remove.log" 2>&1; then
	ERR="dpkg --remove failed: $(skt_tail "$SKT_TMP/remove.log")"
fi
[ -e "$PIN" ] && ERR="${ERR:+$ERR; }$PIN left after remove: $(ls "$PIN" | tr '\n' ' ')"
for f in /usr/bin/skaccel-run /usr/sbin/skaccel-helperd /usr/lib/skaccel/libskaccel.so; do
	[ -e "$f" ] && ERR="${ERR:+$ERR; }$f left after remove"
done
[ -e /etc/skaccel/helperd.conf ] || ERR="${ERR:+$ERR; }the conffile is gone after remove (only purge removes it)"
verdict deb/remove "$ERR"

ERR=""
if ! DEBIAN_FRONTEND=noninteractive dpkg --purge skaccel >"$SKT_TMP/purge.log" 2>&1; then
	ERR="dpkg --purge failed: $(skt_tail "$SKT_TMP/purge.log")"
fi
left=""
while read -r f; do
	[ "$f" = /. ] && continue
	[ -e "$f" ] || continue
	# Directories the package shares with others (/usr/bin, /lib/systemd/system, ...).
	[ -d "$f" ] && [ -n "$(dpkg -S "$f" 2>/dev/null)" ] && continue
	left="$left $f"
done <"$SKT_TMP/files"
[ -n "$left" ] && ERR="${ERR:+$ERR; }left after purge:$left"
[ -e "$PIN" ] && ERR="${ERR:+$ERR; }$PIN left after purge"
[ -e /etc/skaccel ] && ERR="${ERR:+$ERR; }/etc/skaccel left after purge"
[ -e /etc/systemd/system/sockets.target.wants/skaccel-helperd.socket ] &&
	ERR="${ERR:+$ERR; }the socket's enable link left after purge"
find /var/lib/systemd/deb-systemd-helper-enabled/ -name '*skaccel*' 2>/dev/null | grep -q . &&
	ERR="${ERR:+$ERR; }deb-systemd-helper state left after purge"
getent passwd skaccel >/dev/null || ERR="${ERR:+$ERR; }the user skaccel was removed (Debian keeps system users)"
dpkg-query -W skaccel >/dev/null 2>&1 && ERR="${ERR:+$ERR; }dpkg still knows skaccel"
verdict deb/purge "$ERR"
skt_done
