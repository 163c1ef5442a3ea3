#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Checksummed request/echo traffic between Python standard-library programs.

Used by tests/e2e/apps/python.sh, apps/prefork.sh and apps/fdpass.sh, where both ends
run unmodified under skaccel-run. Only the standard library, so the code paths are the
ones every Python program takes through libc.

Protocol, per round: the client sends an 8-byte big-endian length L and L random bytes;
the server reads them all, answers with the 32-byte sha256 of what it read, its 4-byte
pid, and then the same L bytes. The client checks both. After its rounds the client
shuts down its write side; the server sees EOF and closes; the client must then read EOF.

Servers (each writes "PORT\n" to --ready once it accepts connections):
  threading   socketserver.ThreadingTCPServer
  asyncio     asyncio.start_server
  prefork     listen, fork --workers workers that each accept() and serve
  fdpass      accept, optionally greet (--greeting), hand the socket to the worker
              process listening on --unix with socket.send_fds, close it
  fdworker    receive sockets on --unix (socket.recv_fds) and serve each in a thread
Clients (print one JSON summary line on success, exit 1 on the first mismatch):
  client          threads, blocking sockets
  aclient         asyncio streams
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import socketserver
import struct
import sys
import threading

HDR = struct.Struct("!Q")
ANSWER = struct.Struct("!32sI")
GREETING = b"hello from the acceptor\n"
CHUNK = 256 * 1024


def recv_exact(sock, n):
    """n bytes, or fewer only at EOF."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, CHUNK))
        if k == 0:
            break
        got += k
    return bytes(buf[:got])


def serve_conn(sock):
    """Serve rounds on one connection until the client's EOF."""
    pid = os.getpid()
    while True:
        hdr = recv_exact(sock, HDR.size)
        if not hdr:
            break
        if len(hdr) != HDR.size:
            raise IOError("short header: %d bytes" % len(hdr))
        (n,) = HDR.unpack(hdr)
        data = recv_exact(sock, n)
        if len(data) != n:
            raise IOError("EOF after %d of %d payload bytes" % (len(data), n))
        sock.sendall(ANSWER.pack(hashlib.sha256(data).digest(), pid))
        sock.sendall(data)
    sock.close()


def listen_sock(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6 and addr == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(128)
    return s


def write_ready(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def log(msg):
    print("xfer[%d]: %s" % (os.getpid(), msg), file=sys.stderr, flush=True)


# --- servers ------------------------------------------------------------------------------


def srv_threading(a):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                serve_conn(self.request)
            except Exception as e:  # reported, and the client sees the failure
                log("handler: %r" % e)

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in a.addr else socket.AF_INET

    with Server((a.addr, a.port), Handler) as srv:
        write_ready(a.ready, srv.server_address[1])
        srv.serve_forever()


def srv_asyncio(a):
    async def handle(reader, writer):
        pid = os.getpid()
        try:
            while True:
                try:
                    hdr = await reader.readexactly(HDR.size)
                except asyncio.IncompleteReadError as e:
                    if e.partial:
                        raise
                    break
                (n,) = HDR.unpack(hdr)
                data = await reader.readexactly(n)
                writer.write(ANSWER.pack(hashlib.sha256(data).digest(), pid))
                writer.write(data)
                await writer.drain()
        except Exception as e:
            log("asyncio handler: %r" % e)
        writer.close()

    async def main():
        srv = await asyncio.start_server(handle, a.addr, a.port)
        write_ready(a.ready, srv.sockets[0].getsockname()[1])
        async with srv:
            await srv.serve_forever()

    asyncio.run(main())


def srv_prefork(a):
    ls = listen_sock(a.addr, a.port)
    children = []
    for _ in range(a.workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            while True:
                c, _ = ls.accept()
                try:
                    serve_conn(c)
                except Exception as e:
                    log("worker: %r" % e)
                    c.close()
        children.append(pid)
    ls.close()  # only the workers accept

    def stop(*_):
        for p in children:
            try:
                os.kill(p, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    write_ready(a.ready, a.port)
    for _ in children:
        os.wait()


def srv_fdpass(a):
    ls = listen_sock(a.addr, a.port)
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.connect(a.unix)
    write_ready(a.ready, ls.getsockname()[1])
    while True:
        c, _ = ls.accept()
        try:
            if a.greeting:
                c.sendall(GREETING)
                ack = recv_exact(c, 4)
                if ack != b"ack\n":
                    raise IOError("bad ack %r" % ack)
            socket.send_fds(u, [b"x"], [c.fileno()])
        except Exception as e:
            log("acceptor: %r" % e)
        c.close()  # the worker's copy lives on


def srv_fdworker(a):
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.bind(a.unix)
    u.listen(1)
    write_ready(a.ready, 0)
    conn, _ = u.accept()
    while True:
        msg, fds, _, _ = socket.recv_fds(conn, 1, 1)
        if not msg:
            break
        for fd in fds:
            s = socket.socket(fileno=fd)

            def run(s=s):
                try:
                    serve_conn(s)
                except Exception as e:
                    log("fdworker: %r" % e)

            threading.Thread(target=run, daemon=True).start()


# --- clients ------------------------------------------------------------------------------


def plan(a, k):
    """The sizes one connection sends: a seeded mix of empty, small, medium and large."""
    rng = random.Random(a.seed * 1000003 + k)
    sizes = []
    for _ in range(a.rounds):
        r = rng.random()
        if r < 0.05:
            sizes.append(0)
        elif r < 0.4:
            sizes.append(rng.randint(1, 1500))
        elif r < 0.8:
            sizes.append(rng.randint(1500, 128 * 1024))
        else:
            sizes.append(rng.randint(128 * 1024, a.max_size))
    return sizes, rng


def check_answer(ans, data, echo, what):
    digest, pid = ANSWER.unpack(ans)
    if digest != hashlib.sha256(data).digest():
        raise ValueError("%s: server's sha256 of the %d bytes sent differs" % (what, len(data)))
    if echo != data:
        first = next((i for i in range(min(len(echo), len(data))) if echo[i] != data[i]), None)
        raise ValueError("%s: echo of %d bytes came back as %d bytes, first difference at %s"
                         % (what, len(data), len(echo), first))
    return pid


def cli_conn(a, k, res):
    sizes, rng = plan(a, k)
    fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    s.connect((a.addr, a.port))
    if a.greeting:
        g = recv_exact(s, len(GREETING))
        if g != GREETING:
            raise ValueError("conn %d: greeting %r" % (k, g))
        s.sendall(b"ack\n")
    nbytes = 0
    for i, n in enumerate(sizes):
        data = rng.randbytes(n)
        s.sendall(HDR.pack(n) + data)
        ans = recv_exact(s, ANSWER.size)
        if len(ans) != ANSWER.size:
            raise ValueError("conn %d round %d: EOF instead of an answer" % (k, i))
        echo = recv_exact(s, n)
        res["pids"].add(check_answer(ans, data, echo, "conn %d round %d" % (k, i)))
        nbytes += 2 * n
    s.shutdown(socket.SHUT_WR)
    if s.recv(1) != b"":
        raise ValueError("conn %d: data after the last round instead of EOF" % k)
    s.close()
    res["bytes"] += nbytes


def run_client(a):
    res = {"bytes": 0, "pids": set(), "errors": []}
    lock = threading.Lock()

    def one(k):
        r = {"bytes": 0, "pids": set()}
        try:
            cli_conn(a, k, r)
        except Exception as e:
            r["error"] = "%s: %s" % (type(e).__name__, e)
        with lock:
            res["bytes"] += r["bytes"]
            res["pids"] |= r["pids"]
            if "error" in r:
                res["errors"].append(r["error"])

    ths = [threading.Thread(target=one, args=(k,)) for k in range(a.conns)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return res


def run_aclient(a):
    async def one(k, res):
        sizes, rng = plan(a, k)
        reader, writer = await asyncio.open_connection(a.addr, a.port)
        if a.greeting:
            g = await reader.readexactly(len(GREETING))
            if g != GREETING:
                raise ValueError("conn %d: greeting %r" % (k, g))
            writer.write(b"ack\n")
        for i, n in enumerate(sizes):
            data = rng.randbytes(n)
            writer.write(HDR.pack(n) + data)
            await writer.drain()
            ans = await reader.readexactly(ANSWER.size)
            echo = await reader.readexactly(n)
            res["pids"].add(check_answer(ans, data, echo, "conn %d round %d" % (k, i)))
            res["bytes"] += 2 * n
        writer.write_eof()
        if await reader.read(1) != b"":
            raise ValueError("conn %d: data after the last round instead of EOF" % k)
        writer.close()
        await writer.wait_closed()

    async def main():
        res = {"bytes": 0, "pids": set(), "errors": []}
        rs = await asyncio.wait_for(
            asyncio.gather(*(one(k, res) for k in range(a.conns)), return_exceptions=True),
            a.timeout)
        res["errors"] = ["%s: %s" % (type(e).__name__, e) for e in rs if e is not None]
        return res

    return asyncio.run(main())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["threading", "asyncio", "prefork", "fdpass", "fdworker",
                                    "client", "aclient"])
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--ready")
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--unix")
    p.add_argument("--greeting", action="store_true")
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--max-size", type=int, default=4 * 1024 * 1024)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()

    servers = {"threading": srv_threading, "asyncio": srv_asyncio, "prefork": srv_prefork,
               "fdpass": srv_fdpass, "fdworker": srv_fdworker}
    if a.mode in servers:
        servers[a.mode](a)
        return 0
    res = run_client(a) if a.mode == "client" else run_aclient(a)
    if res["errors"]:
        for e in res["errors"]:
            print("FAIL: %s (seed %d)" % (e, a.seed), file=sys.stderr)
        return 1
    print(json.dumps({"bytes": res["bytes"], "conns": a.conns, "pids": sorted(res["pids"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
