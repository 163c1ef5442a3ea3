#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The sk_skb overlap trim (bpf/skaccel.bpf.c, trim_overlap) on a segment far larger than
# 64 KiB. With BIG TCP on loopback (gso_max_size raised, as an administrator may) one skb in
# the receive queue carries 256 KiB; a socket registered after the application read most
# of one (a connection promoted mid-stream, or a writer back on TCP retransmitting) has its
# verdict handed that segment whole. Cut in steps of 4095 bytes, the old 17 steps stopped
# at 69,615 and the rest reached the reader twice (191,817 bytes here).
#
#   partial_read_of_large_segment   768 KiB queued in 256 KiB segments while nobody reads,
#                                   all but the last 1000 bytes read by plain TCP, then both
#                                   ends registered: the reader gets those 1000 bytes once,
#                                   then the 64 KiB sent after pairing, and nothing else
#   large_overlap_cut               the helper cut more than 69,615 bytes off one segment
#                                   (skb_overlap_bytes) and no trim failed (skb_trim_failed)
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(overlap_large/partial_read_of_large_segment overlap_large/large_overlap_cut)
hs_require "${TESTS[@]}"
fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"
# BIG TCP for IPv6 on loopback (an administrator's choice, Linux 5.19+): 256 KiB segments,
# each one skb in the receive queue.
ip -n "$NS" link set dev lo gso_max_size 262144 gro_max_size 262144 ||
	fail_all "cannot raise loopback's gso_max_size"
skt_helper_start || fail_all "$SKT_WHY"
o0=$(skt_stat skb_overlap_bytes)
f0=$(skt_stat skb_trim_failed)

out=$(skt_in "$NS" timeout -k 5 60 "$HS_PY" -B - "$SKT_SOCK" "$SKT_ROOT/tests/hostile" <<'EOF' 2>&1
import fcntl, socket, struct, sys, termios, time
sys.path.insert(0, sys.argv[2])
import skhostile as h

def pat(off, n):
    return bytes(((off + i) * 7 + 3) & 0xff for i in range(n))

def inq(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0" * 4))[0]

objs = h.Objs()
c, a = h.tcp_pair(objs, socket.AF_INET6, "::1")
# Room for all of it (the default window takes 128 KiB), then queue it with nobody
# reading: TCP coalesces it into few skbs.
a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
c.setblocking(False)
sent = 0
chunk = 262144
try:
    while sent < 600 * 1024:
        n = c.send(pat(sent, chunk))
        sent += n
except BlockingIOError:
    pass
c.setblocking(True)
deadline = time.time() + 5
while inq(a) < sent:
    if time.time() > deadline:
        sys.exit("FAIL: only %d of %d bytes arrived" % (inq(a), sent))
    time.sleep(0.01)
# Read all but the last 1000 bytes by plain TCP: the last skb is left mostly read.
want = sent - 1000
got = 0
while got < want:
    b = a.recv(min(65536, want - got))
    if b != pat(got, len(b)):
        sys.exit("FAIL: plain TCP read wrong bytes at %d" % got)
    got += len(b)
s = objs.add(h.hconnect(sys.argv[1]))
for fd, want_st, seq in ((a.fileno(), "SKACCEL_OK_WAITING_PEER", 1),
                         (c.fileno(), "SKACCEL_OK_ACCELERATED", 2)):
    h.hsend(s, h.req(h.OP_REG, seq), [fd])
    r = h.hrecv(s)
    if not isinstance(r, h.Reply) or r.status != h.E[want_st]:
        sys.exit("FAIL: registration: %r, expected %s" % (r, want_st))
more = 65536
c.sendall(pat(sent, more))
a.settimeout(5)
rest = b""
while len(rest) < 1000 + more:
    b = a.recv(65536)
    if not b:
        break
    rest += b
a.setblocking(False)
try:
    rest += a.recv(1 << 20)
except BlockingIOError:
    pass
exp = pat(got, 1000 + more)
if rest != exp:
    at = next((i for i in range(min(len(rest), len(exp))) if rest[i] != exp[i]), min(len(rest), len(exp)))
    sys.exit("FAIL: after reading %d of %d bytes by TCP and registering, read %d bytes, want "
             "%d; first difference at stream offset %d" % (got, sent, len(rest), len(exp), got + at))
print("ok %d" % sent)
objs.close()
EOF
)
if [[ $out == ok* ]]; then
	skt_pass "${TESTS[0]}"
else
	skt_fail "${TESTS[0]}" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
ov=$(($(skt_stat skb_overlap_bytes) - o0))
tf=$(($(skt_stat skb_trim_failed) - f0))
if [ "$ov" -gt 69615 ] && [ "$tf" -eq 0 ]; then
	skt_pass "${TESTS[1]}"
else
	skt_fail "${TESTS[1]}" "skb_overlap_bytes grew by $ov (want more than 69615: one segment larger than 17 x 4095 bytes, mostly read), skb_trim_failed by $tf (want 0)"
fi
skt_helper_stop
skt_helper_unpin
skt_done
