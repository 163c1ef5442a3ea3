#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Ghost-socket attackers and their victims, for tests/e2e/hostile/ghost.sh.

A ghost is a registered TCP socket that left its connection without being closed:
connect(fd, {AF_UNSPEC}) (RST to the peer, state CLOSE, fd kept), an RST received from the
peer, or a disconnect followed by a new connect() on the same fd. Every role is one process,
run under skaccel-run (opted in) or not, as root or nobody, by the calling script; the roles
meet through files in --dir (NAME.ready, NAME.go, ...). Every wait and every read is bounded,
so a case that goes wrong ends in seconds. Each role prints key=value result lines; the script
judges them. Only the standard library.

  ghost.py ghost-listener --port P --dir D [--publish]
                                                attacker: opted-in listener, accepts one
                                                connection, disconnects its end, keeps it
                                                and reports every byte that reaches it
  ghost.py ghost-client --port P --src-port X --dir D
                                                attacker: opted-in client from X, disconnects
                                                at once, keeps the fd, reports bytes
  ghost.py plain-client --port P --src-port X --dir D
                                                connects from X, waits for the RST, closes
  ghost.py pool-client --port P --src-port X --dir D
                                                a connection pool: an idle connection gets
                                                an RST, the pool keeps it, reports bytes
  ghost.py abort-server --port P --dir D        accepts one and RSTs it
  ghost.py victim-server --port P --dir D --key K --req N --reply M [--gate F] [--attempts A]
                        [--after-reset]         serves one verified exchange
  ghost.py victim-client --port P --src-port X --dir D --key K --req N --reply M
                        [--pause-ms MS]         writes of 64 KiB, MS apart
  ghost.py reconnector --port P --src-port X --port2 Q --dir D --key K --req N --reply M
                        --inject N              attacker: paired with the victim, then
                                                disconnects and reconnects the same fd to Q
  ghost.py sink --port Q --dir D --key K --bytes N
  ghost.py check-stats --stats F --attacker-uid U --cookie C...
"""
import argparse
import ctypes
import errno
import json
import os
import random
import select
import socket
import struct
import sys
import time

SO_COOKIE = 57
TCP_INFO = 11
TCP_CLOSE = 7
WAIT = 15.0  # the longest any role waits for a file or a peer
AUTH = b"AUTH password-%d\n"


def out(k, v):
    print("%s=%s" % (k, v), flush=True)


def path(args, name):
    return os.path.join(args.dir, name)


def touch(args, name, text="1\n"):
    tmp = path(args, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path(args, name))


def wait_file(args, name, timeout=WAIT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path(args, name)):
            return True
        time.sleep(0.02)
    return False


def stream(key, n):
    """The bytes one side sends: an AUTH line (a secret), then keyed pseudo-random bytes."""
    head = AUTH % key
    return (head + random.Random(key).randbytes(max(0, n - len(head))))[:n]


def cookie_of(s):
    return struct.unpack("=Q", s.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def tcp_state(s):
    return s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 8)[0]


def disconnect(s):
    """connect(fd, {AF_UNSPEC}) through libc, as an application does (the shim sees it)."""
    libc = ctypes.CDLL(None, use_errno=True)
    sa = ctypes.create_string_buffer(struct.pack("=H14x", socket.AF_UNSPEC), 16)
    if libc.connect(s.fileno(), sa, 16) < 0:
        e = ctypes.get_errno()
        raise OSError(e, "connect(AF_UNSPEC): " + os.strerror(e))


def bound_socket(src_port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if src_port:
        s.bind(("127.0.0.1", src_port))
    return s


def client(args):
    """A connection from 127.0.0.1:args.src_port (0: any) to 127.0.0.1:args.port."""
    s = bound_socket(args.src_port)
    s.connect(("127.0.0.1", args.port))
    return s


def listener(port):
    s = bound_socket(port)
    s.listen(16)
    return s


def accept(ls, timeout=WAIT):
    ls.settimeout(timeout)
    c, _ = ls.accept()
    c.settimeout(None)
    return c


def read_exact(s, n, timeout):
    """Up to n bytes within timeout; stops early at EOF or an error (returned as text)."""
    buf = bytearray()
    end = time.monotonic() + timeout
    s.setblocking(False)
    err = ""
    while len(buf) < n:
        left = end - time.monotonic()
        if left <= 0:
            err = "timeout"
            break
        select.select([s], [], [], min(left, 0.2))
        try:
            d = s.recv(min(65536, n - len(buf)))
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as e:
            err = errno.errorcode.get(e.errno, str(e.errno))
            break
        if not d:
            err = "eof"
            break
        buf += d
    s.setblocking(True)
    return bytes(buf), err


def drain(args, s, stop, limit=WAIT, publish=False):
    """Every byte that reaches s until the file stop appears (or limit seconds pass),
    polled without blocking: a CLOSE socket polls readable for ever. With publish, once
    the first byte is in, two sends (the first only collects the reset's error): the
    socket's own program runs and makes it a known, no longer blind, target."""
    got = bytearray()
    end = time.monotonic() + limit
    s.setblocking(False)
    while time.monotonic() < end:
        try:
            d = s.recv(65536)
            if d:
                got += d
                for _ in range(2 if publish else 0):
                    try:
                        s.send(b"x")
                    except OSError:
                        pass
                publish = False
                continue
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            pass
        if stop and os.path.exists(path(args, stop)):
            # One last look: bytes may have been queued just before the stop.
            try:
                got += s.recv(1 << 20)
            except OSError:
                pass
            break
        time.sleep(0.02)
    return bytes(got)


def report_got(name, got):
    out(name + "_bytes", len(got))
    out(name + "_head", repr(got[:40]))


def check(name, got, want, err=""):
    """Prints NAME_ok=1, or NAME_ok=0 and why."""
    if got == want:
        out(name + "_ok", 1)
        return True
    i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
             min(len(got), len(want)))
    out(name + "_ok", 0)
    out(name + "_why", "%d of %d bytes%s, first difference at %d%s" % (
        len(got), len(want), " (%s)" % err if err else "", i,
        ": got %r" % got[i:i + 16] if i < len(got) else ""))
    return False


# --- attackers ------------------------------------------------------------------------


def cmd_ghost_listener(args):
    ls = listener(args.port)
    touch(args, "listener.ready")
    c = accept(ls)
    out("ghost_cookie", cookie_of(c))
    out("ghost_local_remote", "%s %s" % (c.getsockname(), c.getpeername()))
    disconnect(c)
    ls.close()
    out("ghost_state", tcp_state(c))
    touch(args, "ghost.ready", str(cookie_of(c)))
    report_got("ghost", drain(args, c, "stop", publish=args.publish))
    return 0


def cmd_ghost_client(args):
    s = client(args)
    out("ghost_cookie", cookie_of(s))
    disconnect(s)
    out("ghost_state", tcp_state(s))
    touch(args, "ghost.ready", str(cookie_of(s)))
    report_got("ghost", drain(args, s, "stop"))
    return 0


def cmd_plain_client(args):
    s = client(args)
    touch(args, "plain.connected")
    got, err = read_exact(s, 1, WAIT)
    out("plain_end", err or "data")
    s.close()
    touch(args, "plain.closed")
    return 0


def cmd_pool_client(args):
    s = client(args)
    out("pool_cookie", cookie_of(s))
    touch(args, "pool.connected")  # registered: the shim does it inside connect()
    # An idle pooled connection: the upstream restarts before the pool uses it.
    got, err = read_exact(s, 1, WAIT)
    out("pool_end", err or "data")
    out("pool_state", tcp_state(s))
    # The pool keeps the socket, to find out later that it broke.
    touch(args, "pool.ready", str(cookie_of(s)))
    report_got("pool", drain(args, s, "stop"))
    return 0


def cmd_abort_server(args):
    ls = listener(args.port)
    touch(args, "abort.ready")
    c = accept(ls)
    wait_file(args, "pool.connected")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST
    ls.close()
    touch(args, "abort.done")
    return 0


def cmd_reconnector(args):
    s = client(args)
    out("ghost_cookie", cookie_of(s))
    # An honest exchange first, once the server's end is registered too: the two ends are
    # paired and this one redirects from its first byte (and so for good).
    wait_file(args, "server.accepted")
    s.sendall(stream(args.key, args.req))
    got, err = read_exact(s, args.reply, 5)
    check("first_reply", got, stream(args.key + 1, args.reply), err)
    touch(args, "paired")
    # Leave without closing, and connect the same fd elsewhere.
    disconnect(s)
    out("ghost_state", tcp_state(s))
    wait_file(args, "sink.ready")
    s.connect(("127.0.0.1", args.port2))
    touch(args, "reconnected")
    data = stream(args.key + 7, args.inject)
    try:
        s.sendall(data)
    except OSError as e:
        out("inject_err", e.errno)
    touch(args, "injected")
    # What reaches the reconnected fd from now on: the sink sends nothing.
    report_got("ghost", drain(args, s, "stop"))
    return 0


def cmd_sink(args):
    ls = listener(args.port)
    touch(args, "sink.ready")
    c = accept(ls)
    got, err = read_exact(c, args.bytes, 5)
    check("sink", got, stream(args.key + 7, args.bytes), err)
    wait_file(args, "stop")
    return 0


# --- victims --------------------------------------------------------------------------


def serve_one(args, c, i):
    """One exchange on an accepted socket; True if the request arrived whole."""
    want = stream(args.key, args.req)
    got, err = read_exact(c, args.req, 3)
    if not got and err in ("ECONNRESET", "eof"):
        out("server_conn%d" % i, "reset before a byte (%s)" % err)
        return False
    out("server_cookie", cookie_of(c))
    check("server_req", got, want, err)
    try:
        c.sendall(stream(args.key + 1, args.reply))
    except OSError as e:
        out("server_send_err", e.errno)
    return True


def cmd_victim_server(args):
    ls = listener(args.port)
    touch(args, "server.ready")
    if args.gate and not wait_file(args, args.gate):
        out("server_gate", "timeout")
    for i in range(args.attempts):
        try:
            c = accept(ls)
        except OSError as e:
            out("server_accept", "timeout" if isinstance(e, socket.timeout) else e.errno)
            return 0
        touch(args, "server.accepted")  # registered: the shim does it inside accept()
        if serve_one(args, c, i):
            break
        c.close()
    touch(args, "server.served")
    if args.after_reset:
        # The peer went away (RST); this server keeps the socket for a while, reads what
        # is left and tries to write to it again, as a pool that did not notice would.
        wait_file(args, "injected")
        time.sleep(0.3)
        report_got("server_extra", drain(args, c, None, 1.0))
        sent = 0
        for _ in range(8):
            try:
                sent += c.send(stream(args.key + 3, 16384))
            except OSError as e:
                out("server_after_reset_send", errno.errorcode.get(e.errno, e.errno))
        out("server_after_reset_sent", sent)
        touch(args, "secret.sent")
    wait_file(args, "stop")
    return 0


def cmd_victim_client(args):
    s = client(args)
    out("client_cookie", cookie_of(s))
    data = stream(args.key, args.req)
    for off in range(0, len(data), 65536):  # a stream of writes, optionally paced
        s.sendall(data[off:off + 65536])
        if off == 0:
            touch(args, "client.sent")  # the first write is out
        time.sleep(args.pause_ms / 1000)
    got, err = read_exact(s, args.reply, 3)
    check("client_reply", got, stream(args.key + 1, args.reply), err)
    touch(args, "client.done")
    wait_file(args, "stop")
    return 0


# --- the helper's view ------------------------------------------------------------------


def cmd_check_stats(args):
    """No socket of another user is paired with an attacker's socket (by cookie)."""
    j = json.load(open(args.stats))
    bad = set(args.cookie)
    errs = []
    for x in j.get("sockets", []):
        if x["peer"] in bad and x["uid"] != args.attacker_uid:
            errs.append("uid %d's socket %s->%s is %s with the ghost (cookie %d)" % (
                x["uid"], x["local"], x["remote"],
                "accelerated" if x["state"] == "paired" else x["state"], x["peer"]))
    print("stats_errs=%s" % "; ".join(errs))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ghost-listener", "ghost-client", "plain-client", "pool-client",
                 "abort-server", "victim-server", "victim-client", "reconnector", "sink"):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--src-port", type=int, default=0)
        p.add_argument("--port2", type=int, default=0)
        p.add_argument("--key", type=int, default=1)
        p.add_argument("--req", type=int, default=65536)
        p.add_argument("--reply", type=int, default=65536)
        p.add_argument("--inject", type=int, default=65536)
        p.add_argument("--bytes", type=int, default=65536)
        p.add_argument("--gate", default="")
        p.add_argument("--attempts", type=int, default=1)
        p.add_argument("--after-reset", action="store_true")
        p.add_argument("--publish", action="store_true")
        p.add_argument("--pause-ms", type=float, default=0)
    p = sub.add_parser("check-stats")
    p.add_argument("--stats", required=True)
    p.add_argument("--attacker-uid", type=int, required=True)
    p.add_argument("--cookie", type=int, action="append", default=[])
    args = ap.parse_args()
    return globals()["cmd_" + args.cmd.replace("-", "_")](args)


if __name__ == "__main__":
    sys.exit(main())
