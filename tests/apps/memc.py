#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""A memcached client speaking the text protocol over a plain socket (standard library
only), for tests/e2e/apps/memcached.sh.

  memc.py --addr A --port P [--conns N] [--max-size B] [--seed S]

Each of --conns concurrent connections: set/get of values from 0 bytes to --max-size
(random bytes, compared exactly), a multi-get of all its keys, append/prepend, cas,
incr/decr, delete and a pipelined batch of 500 sets sent in one write and then read back
with one multi-get. Prints one JSON line {"bytes": N, ...} (value bytes written and read)
on success; "FAIL: ..." on stderr and exit 1 on the first wrong answer.
"""
import argparse
import json
import random
import socket
import sys
import threading


class Conn:
    def __init__(self, addr, port, timeout):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.s = socket.create_connection((addr, port), timeout=timeout)
        assert self.s.family == fam
        self.buf = bytearray()

    def send(self, b):
        self.s.sendall(b)

    def fill(self):
        b = self.s.recv(256 * 1024)
        if not b:
            raise IOError("EOF from memcached")
        self.buf += b

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                ln = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return ln
            self.fill()

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        b = bytes(self.buf[:n])
        del self.buf[:n]
        return b

    def expect(self, want, what):
        got = self.line()
        if got != want:
            raise ValueError("%s: memcached answered %r, want %r" % (what, got, want))

    def store(self, cmd, key, val, extra=b""):
        self.send(b"%s %s 0 0 %d%s\r\n%s\r\n" % (cmd, key, len(val), extra, val))

    def get_many(self, keys, cmd=b"get"):
        """{key: (value, cas or None)} for the keys memcached has."""
        self.send(cmd + b" " + b" ".join(keys) + b"\r\n")
        out = {}
        while True:
            ln = self.line()
            if ln == b"END":
                return out
            parts = ln.split()
            if parts[0] != b"VALUE":
                raise ValueError("get: unexpected line %r" % ln[:80])
            n = int(parts[3])
            val = self.exact(n + 2)
            if val[-2:] != b"\r\n":
                raise ValueError("get %r: value not followed by CRLF" % parts[1])
            out[parts[1]] = (val[:-2], int(parts[4]) if len(parts) > 4 else None)


def session(a, k):
    rng = random.Random(a.seed * 7919 + k)
    c = Conn(a.addr, a.port, a.timeout)
    nbytes = 0
    vals = {}
    sizes = [0, 1, 100, 1024, 4096, 65536, 100000, 500000, 1048576, a.max_size]
    sizes += [rng.randint(1, a.max_size) for _ in range(6)]
    for i, n in enumerate(sizes):
        key = b"c%d:k%d" % (k, i)
        val = rng.randbytes(n)
        c.store(b"set", key, val)
        c.expect(b"STORED", "set %s (%d bytes)" % (key.decode(), n))
        got = c.get_many([key])
        if got.get(key, (None,))[0] != val:
            raise ValueError("get %s: %d bytes back, not the %d set" %
                             (key.decode(), len(got.get(key, (b"",))[0]), n))
        vals[key] = val
        nbytes += 2 * n
    # One multi-get of everything: the largest reply of the session.
    got = c.get_many(list(vals))
    for key, val in vals.items():
        if got.get(key, (None,))[0] != val:
            raise ValueError("multi-get: %s differs" % key.decode())
        nbytes += len(val)
    # append / prepend / cas / incr / decr / delete.
    key = b"c%d:text" % k
    c.store(b"set", key, b"middle")
    c.expect(b"STORED", "set text")
    c.store(b"append", key, b"-end")
    c.expect(b"STORED", "append")
    c.store(b"prepend", key, b"start-")
    c.expect(b"STORED", "prepend")
    v, cas = c.get_many([key], b"gets")[key]
    if v != b"start-middle-end":
        raise ValueError("append/prepend gave %r" % v)
    c.store(b"cas", key, b"swapped", b" %d" % cas)
    c.expect(b"STORED", "cas with the right unique")
    c.store(b"cas", key, b"again", b" %d" % cas)
    c.expect(b"EXISTS", "cas with a stale unique")
    cnt = b"c%d:counter" % k
    c.store(b"set", cnt, b"10")
    c.expect(b"STORED", "set counter")
    c.send(b"incr %s 32\r\n" % cnt)
    c.expect(b"42", "incr")
    c.send(b"decr %s 2\r\n" % cnt)
    c.expect(b"40", "decr")
    c.send(b"delete %s\r\n" % cnt)
    c.expect(b"DELETED", "delete")
    if c.get_many([cnt]):
        raise ValueError("a deleted key is still there")
    # Pipelined: 500 sets in one write, then their 500 answers, then one multi-get.
    batch = {b"c%d:p%d" % (k, i): rng.randbytes(rng.randint(1, 3000)) for i in range(500)}
    c.send(b"".join(b"set %s 0 0 %d\r\n%s\r\n" % (key, len(v), v) for key, v in batch.items()))
    for _ in batch:
        c.expect(b"STORED", "pipelined set")
    got = c.get_many(list(batch))
    for key, v in batch.items():
        if got.get(key, (None,))[0] != v:
            raise ValueError("pipelined: %s differs" % key.decode())
        nbytes += 2 * len(v)
    c.send(b"quit\r\n")
    c.s.close()
    return nbytes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--max-size", type=int, default=4 * 1024 * 1024)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    res = {"bytes": 0, "errors": []}
    lock = threading.Lock()

    def one(k):
        try:
            n = session(a, k)
            with lock:
                res["bytes"] += n
        except Exception as e:
            with lock:
                res["errors"].append("conn %d: %s: %s" % (k, type(e).__name__, e))

    ths = [threading.Thread(target=one, args=(k,)) for k in range(a.conns)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if res["errors"]:
        for e in res["errors"]:
            print("FAIL: %s (seed %d)" % (e, a.seed), file=sys.stderr)
        return 1
    print(json.dumps({"bytes": res["bytes"], "conns": a.conns}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
