#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A writer never sleeps on its reader's socket lock (bpf/skaccel_stream.bpf.h). A redirect
# queues into the peer under the peer's socket lock (bpf_tcp_ingress() -> lock_sock()),
# which a reader holds for its whole copy out of the queue; lock_sock() on an owned lock
# sleeps, so across two CPUs every message cost a sleep and a cross-CPU wake-up. Plain TCP
# leaves the segment in the peer's backlog instead, and so must we. The test holds a reader
# inside its copy for as long as it likes: its buffer is a userfaultfd page whose fault it
# answers only later, so the reader sits in sk_msg_recvmsg() owning its lock.
#
#   send_while_reader_copies   with the reader held inside its copy of the first 4 KiB, a
#                              send of the next 4 KiB returns at once (it slept until the
#                              fault was answered before the rule)
#   order_kept                 the reader gets all 8 KiB, in order, once
#   counted                    that send is counted as fb_peer_busy, the first as redirected
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(busy_reader/send_while_reader_copies busy_reader/order_kept busy_reader/counted)
hs_require "${TESTS[@]}"
fail_all() { for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done; skt_done; }

skt_netns_new NS || fail_all "cannot create a network namespace"
skt_helper_start || fail_all "$SKT_WHY"
b0=$(skt_stat fb_peer_busy)
r0=$(skt_stat redir_bytes)

out=$(skt_in "$NS" timeout -k 5 60 "$HS_PY" -B - "$SKT_SOCK" "$SKT_ROOT/tests/hostile" <<'EOF' 2>&1
import ctypes, mmap, select, socket, struct, sys, threading, time
sys.path.insert(0, sys.argv[2])
import skhostile as h

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.recv.restype = ctypes.c_ssize_t
libc.recv.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
SYS_userfaultfd = 323                       # x86_64
UFFDIO_API, UFFDIO_REGISTER, UFFDIO_ZEROPAGE = 0xc018aa3f, 0xc020aa00, 0xc020aa04
PAGE, HALF = 4096, 4096
data = bytes((i * 13 + 5) & 0xff for i in range(2 * HALF))

def ioctl(fd, req, fmt, *vals):
    buf = ctypes.create_string_buffer(struct.pack(fmt, *vals))
    if libc.ioctl(fd, req, buf) != 0:
        sys.exit("FAIL: ioctl %#x: errno %d" % (req, ctypes.get_errno()))

objs = h.Objs()
c, a = h.tcp_pair(objs)
s = objs.add(h.hconnect(sys.argv[1]))
for fd, want, seq in ((a.fileno(), "SKACCEL_OK_WAITING_PEER", 1),
                      (c.fileno(), "SKACCEL_OK_ACCELERATED", 2)):
    h.hsend(s, h.req(h.OP_REG, seq), [fd])
    r = h.hrecv(s)
    if not isinstance(r, h.Reply) or r.status != h.E[want]:
        sys.exit("FAIL: registration: %r, expected %s" % (r, want))

# The reader's buffer: one page nobody has touched, its faults ours to answer.
uffd = libc.syscall(SYS_userfaultfd, 0o2000000 | 0o4000)   # O_CLOEXEC | O_NONBLOCK
if uffd < 0:
    sys.exit("SKIP: userfaultfd: errno %d" % ctypes.get_errno())
ioctl(uffd, UFFDIO_API, "QQQ", 0xAA, 0, 0)
buf = mmap.mmap(-1, PAGE)
addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
ioctl(uffd, UFFDIO_REGISTER, "QQQQ", addr, PAGE, 1, 0)     # MODE_MISSING

c.sendall(data[:HALF])
deadline = time.time() + 5
while len(a.recv(HALF, socket.MSG_PEEK | socket.MSG_DONTWAIT)) < HALF:
    if time.time() > deadline:
        sys.exit("FAIL: the first 4 KiB did not arrive")
    time.sleep(0.01)

got = {}
reader = threading.Thread(target=lambda: got.update(n=libc.recv(a.fileno(), addr, HALF, 0)))
reader.start()
if not select.select([uffd], [], [], 5)[0]:
    sys.exit("FAIL: the reader did not fault in its copy")
# The reader now owns its socket lock, inside sk_msg_recvmsg(). Send the rest.
sent = threading.Event()
writer = threading.Thread(target=lambda: (c.sendall(data[HALF:]), sent.set()))
t0 = time.time()
writer.start()
returned = sent.wait(2)
took = time.time() - t0
ioctl(uffd, UFFDIO_ZEROPAGE, "QQQq", addr, PAGE, 0, 0)    # let the copy finish
reader.join(5)
writer.join(5)
first = bytes(buf[:max(got.get("n", 0), 0)])
a.settimeout(5)
rest = b""
while len(first) + len(rest) < 2 * HALF:
    chunk = a.recv(2 * HALF)
    if not chunk:
        break
    rest += chunk
a.setblocking(False)
try:
    rest += a.recv(2 * HALF)
except BlockingIOError:
    pass
print("send_returned %d %.3f" % (returned, took))
print("order %s %d %d" % ("ok" if first + rest == data else "bad", len(first), len(rest)))
objs.close()
EOF
)
skt_info "$out"
if echo "$out" | grep -q "^SKIP: "; then
	for t in "${TESTS[@]}"; do skt_skip "$t" "$(echo "$out" | sed -n 's/^SKIP: //p')"; done
	skt_done
fi
line=$(echo "$out" | grep "^send_returned ")
if [ "$(echo "$line" | cut -d' ' -f2)" = 1 ]; then
	skt_pass "${TESTS[0]}"
elif [ -n "$line" ]; then
	skt_fail "${TESTS[0]}" "the send waited for the reader's copy (not back within 2 s)"
else
	skt_fail "${TESTS[0]}" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
line=$(echo "$out" | grep "^order ")
if [ "$(echo "$line" | cut -d' ' -f2)" = ok ]; then
	skt_pass "${TESTS[1]}"
else
	skt_fail "${TESTS[1]}" "${line:-$(echo "$out" | tail -n 3 | tr '\n' ' ')} (want ok, first read + rest = 8192 bytes in order)"
fi
busy=$(($(skt_stat fb_peer_busy) - b0))
rd=$(($(skt_stat redir_bytes) - r0))
if [ "$busy" -ge 1 ] && [ "$rd" -ge 4096 ]; then
	skt_pass "${TESTS[2]}"
else
	skt_fail "${TESTS[2]}" "fb_peer_busy grew by $busy (want >= 1), redir_bytes by $rd (want >= 4096)"
fi
skt_helper_stop
skt_helper_unpin
skt_done
