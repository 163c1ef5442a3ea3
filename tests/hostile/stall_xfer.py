#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""A verified duplex transfer for tests/e2e/hostile/stall.sh, standard library only.

    stall_xfer.py server PORTFILE [options]    (one connection, then exits)
    stall_xfer.py client PORT [options]
    stall_xfer.py unread-server PORTFILE / unread-client PORT

unread-*: the client sends 1000 bytes; the server closes without reading them, which on TCP
resets the connection: the client must see ECONNRESET (or EPIPE) within --limit seconds,
never an EOF and never a hang. Prints "ok: reset" or "FAIL: ...".

Both ends send --bytes in 64 KiB writes, starting --pause seconds after the connection is
up and spread over --pace seconds, read the peer's stream to EOF and verify every byte
against a keyed pattern. The client then half-closes (shutdown(SHUT_WR)); the server only
closes, once it has sent everything and read the client's EOF: the client's EOF is the
server's close(), as with tcp_xfer and most request/reply servers. --mode thread: a
reader thread started at once blocks in recv() (the pause makes sure it is blocked when the
test changes the world) while the main thread writes; --mode epoll: one thread, non-blocking
socket, epoll for both directions. --exit-without-close: the server leaves the socket to
exit() (the kernel's close, no close() call). Prints "ok: sent N received N in S s", or
"FAIL: <why>" and exits 1; --limit seconds bounds the whole run ("timed out (hang)").

--spawn (--mode thread): once the pause is over, run true(1) by subprocess (vfork(); the
child closes its copies of the fds with close_range() and execs) before sending.

--end WAY: how the server's socket goes once the transfer is done, instead of close():
  exit          left to exit() (as --exit-without-close)
  os_exit       left to os._exit(), which calls _exit(): no atexit handlers, no destructors
  Exit          left to _Exit() (ctypes)
  dup2, dup3    /dev/null duplicated over it: os.dup2(), inheritable (dup2) or not (dup3)
  close_range   it and a dup of it closed by os.closerange() (close_range())
  closefrom     it and a dup of it closed by closefrom() (ctypes)
  kill          left open; the server kills itself (SIGKILL, exit status 137)
  exec_cloexec  left open (close-on-exec, python's default) across execve() of a program
                without the shim, which prints "ok: exec" and exits
  execle_cloexec
                the same through libc's execle() (ctypes), whose glibc version calls its
                execve() internally, not the shim's; the program prints "ok: execle"
  exec_inherit  made inheritable and passed to a new program without the shim (execve of
                this script as "server-fd FD"), which sends --trailer and closes it; the
                client (its --trailer) expects that text after the stream
"""
import argparse
import ctypes
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time

CHUNK = 64 * 1024
PERIOD = 1048573  # prime, larger than any read: a lost or repeated byte shows at its offset

_phase = "start"


def pattern(seed):
    p = random.Random(seed).randbytes(PERIOD)
    return p + p[:CHUNK * 4]


class Stream:
    """One direction: the expected bytes (the pattern, then trailer) and how far they have come."""

    def __init__(self, seed, total, trailer=b""):
        self.pat = pattern(seed)
        self.total = total
        self.trailer = trailer
        self.off = 0

    def piece(self, n):
        o = self.off % PERIOD
        return self.pat[o:o + n]

    def expected(self, n):
        head = self.piece(max(0, min(n, self.total - self.off)))
        t = max(0, self.off - self.total)
        return head + self.trailer[t:t + n - len(head)]

    def check(self, data, name):
        n = len(data)
        if self.off + n > self.total + len(self.trailer):
            raise AssertionError(f"{name}: {self.off + n - self.total - len(self.trailer)} "
                                 f"bytes beyond the {self.total} sent and the "
                                 f"{len(self.trailer)}-byte trailer")
        if data != self.expected(n):
            want = self.expected(n)
            i = next(k for k in range(n) if data[k] != want[k])
            raise AssertionError(f"{name}: byte at offset {self.off + i} is {data[i]:#04x}, "
                                 f"expected {want[i]:#04x}: bytes lost, duplicated or reordered")
        self.off += n


def delay_for(a):
    """Seconds to wait before the next write: --pace spreads the stream evenly."""
    if a.pace <= 0 or a.bytes == 0:
        return 0
    return a.pace * CHUNK / a.bytes


def run_thread(sock, a, out, inp, name_out, name_in):
    err = []

    def reader():
        try:
            while True:
                data = sock.recv(256 * 1024)
                if not data:
                    break
                inp.check(data, name_in)
        except Exception as e:  # reported by the main thread
            err.append(f"reader: {e}")

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    global _phase
    _phase = "pause (reader blocked)"
    time.sleep(a.pause)
    if a.spawn:
        _phase = "spawn"
        subprocess.run(["true"], check=True)
    _phase = "send"
    while out.off < out.total:
        n = min(CHUNK, out.total - out.off)
        sock.sendall(out.piece(n))
        out.off += n
        time.sleep(delay_for(a))
    if a.role == "client":
        sock.shutdown(socket.SHUT_WR)
    _phase = "receive to EOF"
    th.join()
    if err:
        raise AssertionError(err[0])


def run_epoll(sock, a, out, inp, name_out, name_in):
    global _phase
    sock.setblocking(False)
    ep = select.epoll()
    ep.register(sock.fileno(), select.EPOLLIN)
    start_send = time.monotonic() + a.pause
    next_send = start_send
    pending = b""
    wrote_eof = False
    got_eof = False
    _phase = "epoll loop"
    while not (wrote_eof and got_eof):
        now = time.monotonic()
        want_out = not wrote_eof and now >= next_send
        ep.modify(sock.fileno(), (0 if got_eof else select.EPOLLIN) |
                  (select.EPOLLOUT if want_out else 0))
        timeout = -1 if want_out or wrote_eof else max(0.0, next_send - now)
        for _, ev in ep.poll(timeout):
            if ev & (select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR) and not got_eof:
                while True:
                    try:
                        data = sock.recv(256 * 1024)
                    except BlockingIOError:
                        break
                    if not data:
                        got_eof = True
                        break
                    inp.check(data, name_in)
            if ev & select.EPOLLOUT and want_out:
                if not pending and out.off < out.total:
                    n = min(CHUNK, out.total - out.off)
                    pending = out.piece(n)
                    out.off += n
                try:
                    k = sock.send(pending)
                    pending = pending[k:]
                except BlockingIOError:
                    pass
                if not pending:
                    if out.off >= out.total:
                        if a.role == "client":
                            sock.shutdown(socket.SHUT_WR)
                        wrote_eof = True
                    else:
                        next_send = time.monotonic() + delay_for(a)
    ep.close()


def unread(a):
    """The close of a socket with unread bytes: a reset, as on TCP."""
    if a.role == "unread-server":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(8)
        with open(a.where + ".tmp", "w") as f:
            f.write(f"{ls.getsockname()[1]}\n")
        os.rename(a.where + ".tmp", a.where)
        sock, _ = ls.accept()
        while sock.recv(1, socket.MSG_PEEK) == b"":
            pass
        time.sleep(0.2)  # all 1000 bytes are there
        sock.close()
        print("ok: closed with unread bytes", flush=True)
        return
    sock = socket.create_connection(("127.0.0.1", int(a.where)))
    sock.sendall(b"x" * 1000)
    try:
        data = sock.recv(100)
    except (ConnectionResetError, BrokenPipeError) as e:
        print(f"ok: reset ({e.__class__.__name__})", flush=True)
        return
    raise AssertionError(f"recv returned {data!r} where TCP reports a reset")


def end(sock, a):
    """The server's socket goes the way --end says (see the top)."""
    if a.end == "close":
        sock.close()
        return
    fd = sock.detach()  # the fd stays open: whatever comes next closes it, or not
    libc = ctypes.CDLL(None, use_errno=True)  # the preloaded shim's symbols first, as for anyone
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if a.end in ("dup2", "dup3"):
        nul = os.open(os.devnull, os.O_RDWR)
        os.dup2(nul, fd, inheritable=a.end == "dup2")
        os.close(nul)
    elif a.end in ("close_range", "closefrom"):
        d = os.dup(fd)
        if a.end == "close_range":
            os.closerange(min(fd, d), max(fd, d) + 1)
        else:
            libc.closefrom(min(fd, d))
    elif a.end == "os_exit":
        os._exit(0)
    elif a.end == "Exit":
        libc._Exit(0)
    elif a.end == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif a.end == "exec_cloexec":
        os.execve(sys.executable, [sys.executable, "-c", "print('ok: exec', flush=True)"], env)
    elif a.end == "execle_cloexec":
        args = [os.fsencode(x) for x in (sys.executable, "-c", "print('ok: execle', flush=True)")]
        envp = (ctypes.c_char_p * (len(env) + 1))(
            *(os.fsencode(f"{k}={v}") for k, v in env.items()), None)
        libc.execle(args[0], *args, ctypes.c_char_p(None), envp)
        raise OSError(ctypes.get_errno(), "execle failed")
    elif a.end == "exec_inherit":
        os.set_inheritable(fd, True)
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), "server-fd",
                                   str(fd), "--trailer", a.trailer,
                                   "--limit", str(a.limit)], env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=("server", "client", "unread-server", "unread-client",
                                     "server-fd"))
    ap.add_argument("where", help="server: the file to write the port into; client: the port")
    ap.add_argument("--mode", choices=("thread", "epoll"), default="thread")
    ap.add_argument("--bytes", type=int, default=4 << 20)
    ap.add_argument("--pause", type=float, default=0.0)
    ap.add_argument("--pace", type=float, default=0.0)
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--key", type=int, default=1)
    ap.add_argument("--exit-without-close", action="store_true")
    ap.add_argument("--end", choices=("close", "exit", "os_exit", "Exit", "dup2", "dup3",
                                      "close_range", "closefrom", "kill", "exec_cloexec",
                                      "execle_cloexec", "exec_inherit"), default="close")
    ap.add_argument("--trailer", default="")
    ap.add_argument("--spawn", action="store_true")
    a = ap.parse_args()
    if a.exit_without_close:
        a.end = "exit"

    def hang(*_):
        print(f"FAIL: {a.role}: phase {_phase}: timed out (hang) after {a.limit} s", flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, a.limit)
    global _phase
    try:
        if a.role.startswith("unread-"):
            _phase = a.role
            unread(a)
            return
        if a.role == "server-fd":
            _phase = "server-fd: send the trailer"
            sock = socket.socket(fileno=int(a.where))
            sock.sendall(a.trailer.encode())
            sock.close()
            print(f"ok: server-fd sent the trailer after exec", flush=True)
            return
        if a.role == "server":
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.bind(("127.0.0.1", 0))
            ls.listen(8)
            tmp = a.where + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"{ls.getsockname()[1]}\n")
            os.rename(tmp, a.where)
            _phase = "accept"
            sock, _ = ls.accept()
            ls.close()
            out, inp = Stream(a.key * 2 + 1, a.bytes), Stream(a.key * 2, a.bytes)
            names = ("server->client", "client->server")
        else:
            _phase = "connect"
            sock = socket.create_connection(("127.0.0.1", int(a.where)))
            out = Stream(a.key * 2, a.bytes)
            inp = Stream(a.key * 2 + 1, a.bytes, a.trailer.encode())
            names = ("client->server", "server->client")
        t0 = time.monotonic()
        (run_thread if a.mode == "thread" else run_epoll)(sock, a, out, inp, *names)
        if inp.off != inp.total + len(inp.trailer):
            raise AssertionError(f"{names[1]}: EOF at offset {inp.off} of "
                                 f"{inp.total + len(inp.trailer)}: bytes lost")
        print(f"ok: {a.role} sent {out.off} received {inp.off} in "
              f"{time.monotonic() - t0:.2f} s", flush=True)
        _phase = f"end: {a.end}"
        end(sock, a)
    except Exception as e:
        print(f"FAIL: {a.role}: phase {_phase}: {e}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
