#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Containers as clients of the host's one helper (docs/CONTAINERS.md), with real container
# tooling: systemd-nspawn (Debian's systemd-container) runs a container with its own
# network namespace (--private-network) from a root directory assembled here from the
# host's /usr (read-only), no image registry. The container opts in as documented: the
# helper's socket directory bind-mounted at /run/skaccel (the library's default), the
# build directory (libskaccel.so, skaccel-run) read-only at /opt/skaccel.
#  - accelerated:     inside the container, a server under skaccel-run and a client with
#                     plain LD_PRELOAD exchange 64 MB each way over loopback: paired, bytes
#                     verified, redirected.
#  - other_netns_in:  a TCP pair made on the host, handed into the container over a Unix
#                     socket, registered by the container: refused (`other_netns`).
#  - other_netns_out: a pair made in the container, handed out, registered on the host:
#                     refused likewise.
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(container/accelerated container/other_netns_in container/other_netns_out)
skt_require "${TESTS[@]}"
if ! command -v systemd-nspawn >/dev/null; then
	for t in "${TESTS[@]}"; do skt_skip "$t" "systemd-nspawn (systemd-container) not installed"; done
	exit 0
fi

# The root directory: merged /usr from the host, read-only; the rest empty or minimal.
ROOTFS=$SKT_TMP/rootfs
mkdir -p "$ROOTFS"/{usr,etc,tmp,run,proc,sys,dev,opt/skaccel,var} "$SKT_TMP/sockdir" "$SKT_TMP/x"
for d in bin sbin lib lib64; do ln -s usr/$d "$ROOTFS/$d"; done
grep -E '^(root|nobody):' /etc/passwd >"$ROOTFS/etc/passwd"
grep -E '^(root|nogroup):' /etc/group >"$ROOTFS/etc/group"
cp /usr/lib/os-release "$ROOTFS/etc/os-release"

# in_container CMD...: run CMD in a fresh container (its own network namespace).
# --register=no --keep-unit: no machined, no D-Bus, as on a host without systemd as init.
in_container() {
	timeout -k 5 60 systemd-nspawn -q --register=no --keep-unit --private-network \
		--machine="skt-$SKT_RUN_ID-$RANDOM" -D "$ROOTFS" --bind-ro=/usr \
		--bind="$SKT_TMP/sockdir:/run/skaccel" --bind-ro="$SKT_BUILD:/opt/skaccel" \
		--bind-ro="$SKT_ROOT" --bind="$SKT_TMP/x" "$@" 2>&1 |
		grep -v 'Attempted to remove disk file system'
	return "${PIPESTATUS[0]}"
}

if ! skt_helper_start_at "$SKT_TMP/sockdir/helperd.sock" "/sys/fs/bpf/skt-$SKT_RUN_ID-$SKT_SCRIPT"; then
	for t in "${TESTS[@]}"; do skt_fail "$t" "$SKT_WHY"; done
	skt_done
fi
chmod 0755 "$SKT_TMP/sockdir"

# --- two processes in one container ---------------------------------------------------

t=container/accelerated
a0=$(skt_stat reg_accelerated)
r0=$(skt_stat redir_bytes)
# shellcheck disable=SC2016 # expanded by the container's shell
out=$(in_container /bin/sh -c '
	x=/opt/skaccel/tests/tcp_xfer
	/opt/skaccel/skaccel-run -q $x server 127.0.0.1 7200 --fast --ready /tmp/ready &
	s=$!
	for i in $(seq 100); do [ -s /tmp/ready ] && break; sleep 0.1; done
	LD_PRELOAD=/opt/skaccel/libskaccel.so $x client 127.0.0.1 7200 --fast --bytes 64M --reply 64M
	c=$?
	wait $s
	echo "rc=$c,$?"')
acc=$(($(skt_stat reg_accelerated) - a0))
red=$(($(skt_stat redir_bytes) - r0))
if ! grep -q 'rc=0,0' <<<"$out"; then
	skt_fail $t "$(grep -m1 FAIL <<<"$out" || tr '\n' '|' <<<"$out" | cut -c1-400)"
elif [ "$acc" -lt 1 ]; then
	skt_fail $t "not accelerated ($(skt_tail "$SKT_HLOG" 2))"
elif [ "$red" -lt $((2 * 60 * 1024 * 1024)) ]; then
	skt_fail $t "only $red bytes redirected of 2 x 64 MB"
else
	skt_pass $t
fi

# --- sockets across the container boundary ----------------------------------------------

# A pair made on one side, registered on the other, through a Unix socket in $SKT_TMP/x.
cat >"$SKT_TMP/x/cross.py" <<EOF
import socket, sys
sys.path.insert(0, "$SKT_ROOT/tests/hostile")
import skhostile as h
mode, path = sys.argv[1:3]
if mode == "give":
    objs = h.Objs()
    c, a = h.tcp_pair(objs)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    socket.send_fds(s, [b"x"], [c.fileno(), a.fileno()])
    s.recv(1)
else:
    l = socket.socket(socket.AF_UNIX)
    l.bind(path)
    l.listen(1)
    l.settimeout(30)
    open(path + ".ready", "w").write("1")
    conn, _ = l.accept()
    _, fds, _, _ = socket.recv_fds(conn, 1, 2)
    hs = h.hconnect(sys.argv[3])
    err = h.expect(hs, fds[0], 1, "SKACCEL_ERR_OTHER_NETNS") or \
        h.expect(hs, fds[1], 2, "SKACCEL_ERR_OTHER_NETNS")
    conn.send(b"k")
    print(err or "refused both")
    sys.exit(1 if err else 0)
EOF

# cross NAME TAKER: TAKER (host or container) registers a pair made on the other side.
cross() {
	local t=$1 u=$SKT_TMP/x/$1.sock tp n0 rc
	n0=$(skt_stat reg_other_netns)
	rm -f "$u" "$u.ready"
	if [ "$2" = container ]; then
		in_container python3 "$SKT_TMP/x/cross.py" take "$u" /run/skaccel/helperd.sock \
			>"$SKT_TMP/$t.take" 2>&1 &
	else
		python3 "$SKT_TMP/x/cross.py" take "$u" "$SKT_SOCK" >"$SKT_TMP/$t.take" 2>&1 &
	fi
	tp=$!
	skt_wait_file "$u.ready" 200 || true
	if [ "$2" = container ]; then
		python3 "$SKT_TMP/x/cross.py" give "$u" >"$SKT_TMP/$t.give" 2>&1
	else
		in_container python3 "$SKT_TMP/x/cross.py" give "$u" >"$SKT_TMP/$t.give" 2>&1
	fi
	wait "$tp"
	rc=$?
	if [ $rc -ne 0 ]; then
		skt_fail "container/$t" "$(skt_tail "$SKT_TMP/$t.take") $(skt_tail "$SKT_TMP/$t.give")"
	elif [ $(($(skt_stat reg_other_netns) - n0)) -ne 2 ]; then
		skt_fail "container/$t" "reg_other_netns grew by $(($(skt_stat reg_other_netns) - n0)), expected 2"
	else
		skt_pass "container/$t"
	fi
}
cross other_netns_in container
cross other_netns_out host

skt_helper_stop
skt_helper_unpin
skt_done
