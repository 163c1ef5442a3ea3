#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Bytes TCP queued once must reach the application once (bpf/skaccel.bpf.c, trim_overlap).
# The sk_skb verdict gets whole segments from tcp_read_skb(), which, unlike tcp_recvmsg(),
# does not skip the part of a segment the application has already read. Two ways that
# happens: a retransmission that partly overlaps what arrived (under backpressure, rare
# and timing-bound), and a socket registered after the application read part of a
# segment, which a test can make happen every time, with the helper's protocol directly:
#
#   partial_read_before_insert   1000 bytes arrive in one segment, the reader reads 100 by
#                                plain TCP, then both ends are registered: it must read
#                                bytes 100..999 exactly once, then redirected bytes; and
#                                FIONREAD counts 900, not 1000
#   overlap_counted              the helper's skb_overlap_bytes counter shows the 100 bytes cut
#   redirect_after_trim          the bytes sent after pairing went by the redirect
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(overlap_trim/partial_read_before_insert overlap_trim/overlap_counted
       overlap_trim/redirect_after_trim)
hs_require "${TESTS[@]}"
fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"
skt_helper_start || fail_all "$SKT_WHY"
o0=$(skt_stat skb_overlap_bytes)
r0=$(skt_stat redir_bytes)

out=$(skt_in "$NS" timeout -k 5 60 "$HS_PY" -B - "$SKT_SOCK" "$SKT_ROOT/tests/hostile" <<'EOF' 2>&1
import fcntl, socket, struct, sys, termios, time
sys.path.insert(0, sys.argv[2])
import skhostile as h

data = bytes((i * 7 + 3) & 0xff for i in range(1500))
objs = h.Objs()
c, a = h.tcp_pair(objs)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.sendall(data[:1000])
deadline = time.time() + 5
while len(a.recv(2000, socket.MSG_PEEK)) < 1000:
    if time.time() > deadline:
        sys.exit("FAIL: the 1000 bytes did not arrive")
got = a.recv(100)
assert got == data[:100], "plain read"
s = objs.add(h.hconnect(sys.argv[1]))
for fd, want, seq in ((a.fileno(), "SKACCEL_OK_WAITING_PEER", 1),
                      (c.fileno(), "SKACCEL_OK_ACCELERATED", 2)):
    h.hsend(s, h.req(h.OP_REG, seq), [fd])
    r = h.hrecv(s)
    if not isinstance(r, h.Reply) or r.status != h.E[want]:
        sys.exit("FAIL: registration: %r, expected %s" % (r, want))
inq = struct.unpack("i", fcntl.ioctl(a.fileno(), termios.FIONREAD, b"\0" * 4))[0]
c.sendall(data[1000:])
a.settimeout(5)
rest = b""
while len(rest) < 1400:
    chunk = a.recv(4096)
    if not chunk:
        break
    rest += chunk
a.setblocking(False)
try:
    extra = a.recv(4096)
except BlockingIOError:
    extra = b""
rest += extra
if rest != data[100:]:
    at = next((i for i in range(min(len(rest), 1400)) if rest[i] != data[100 + i]), min(len(rest), 1400))
    sys.exit("FAIL: read %d bytes after the first 100, want 1400 (bytes 100..1499); first "
             "difference at offset %d" % (len(rest), 100 + at))
if inq != 900:
    sys.exit("FAIL: FIONREAD after registration was %d, want 900" % inq)
print("ok")
objs.close()
EOF
)
if [ "$out" = ok ]; then
	skt_pass "${TESTS[0]}"
else
	skt_fail "${TESTS[0]}" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
ov=$(($(skt_stat skb_overlap_bytes) - o0))
if [ "$ov" -eq 100 ]; then
	skt_pass "${TESTS[1]}"
else
	skt_fail "${TESTS[1]}" "skb_overlap_bytes grew by $ov, want 100"
fi
rd=$(($(skt_stat redir_bytes) - r0))
if [ "$rd" -ge 500 ]; then
	skt_pass "${TESTS[2]}"
else
	skt_fail "${TESTS[2]}" "redirected $rd bytes, want the 500 sent after pairing"
fi
skt_helper_stop
skt_helper_unpin
skt_done
