#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Hostile and faulty clients of skaccel-helperd, for tests/e2e/hostile/*.sh.

The helper is the project's security boundary: any local process may connect to its
socket and send it anything. Each subcommand plays one kind of bad client and prints
harness verdict lines ("PASS: name" / "FAIL: name: reason") or one result line the
calling script judges. Only the standard library: it must run on a fresh Debian 12.

Protocol values (magic, ops, statuses) and status phrases are read from
common/skaccel_proto.h (SKACCEL_STATUS_LIST), so the tests follow the contract instead
of a copy of it.

  skhostile.py requests --socket S --helper-pid P --helper-log F [--pending]
  skhostile.py leak     --socket S --helper-pid P [--count N] [--rss-tolerance-kb K]
  skhostile.py hold     --socket S --count N [--ping] --ready F [--hold SECONDS]
  skhostile.py probe    --socket S --name NAME [--pings N] [--register] [--max-ms MS]
  skhostile.py noread   --socket S --name NAME [--max-ms MS]
  skhostile.py flood    --socket S [--seconds T] [--window W] [--kind ping|register-pipe]
  skhostile.py linger   --socket S --name NAME [--max-ms MS]
  skhostile.py fdflood  --socket S [--lingering K] [--count N] [--window W] [--hold SECONDS]
  skhostile.py check-pairing --stats FILE --name NAME --port P... --expect N [--uid U...]
  skhostile.py register-many --socket S --port P --count N --expect STATUS
  skhostile.py ownership --socket S --name NAME --uid U --gid G [--limit N]
  skhostile.py netns     --socket S --name NAME --other-netns NS
"""
import argparse
import array
import errno
import os
import re
import select
import socket
import struct
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

SCM_MAX_FD = 253  # the kernel's limit on fds in one SCM_RIGHTS message
SO_COOKIE = 57
SO_ZEROCOPY = 60
TCP_INFO = 11
TCP_STATE = {1: "ESTABLISHED", 2: "SYN_SENT", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 7: "CLOSE",
             8: "CLOSE_WAIT", 10: "LISTEN"}
CTYPES = {"uint8_t": "B", "int8_t": "b", "uint16_t": "H", "int16_t": "h", "uint32_t": "I",
          "int32_t": "i", "uint64_t": "Q", "int64_t": "q"}


def parse_struct(hdr, name):
    """A wire struct's field names and struct.Struct, read from its definition in the
    header; the size is checked against the header's own _Static_assert."""
    body = re.search(r"struct %s \{(.*?)\n\};" % name, hdr, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    fields = re.findall(r"\b((?:u?int)(?:8|16|32|64)_t)\s+(\w+);", body)
    layout = struct.Struct("=" + "".join(CTYPES[t] for t, _ in fields))
    size = int(re.search(r"sizeof\(struct %s\) == (\d+)" % name, hdr).group(1))
    if layout.size != size:
        raise SystemExit("skhostile: cannot read struct %s from the header (%d != %d bytes)"
                         % (name, layout.size, size))
    return [n for _, n in fields], layout


def load_proto():
    """Magic, version, enum values, status phrases and the request and reply layouts
    from the header."""
    hdr = open(os.path.join(ROOT, "common", "skaccel_proto.h")).read()
    p = {m.group(1): int(m.group(2)) for m in
         re.finditer(r"\b(SKACCEL_OP_[A-Z_]+)\s*=\s*(-?\d+)", hdr)}
    p["MAGIC"] = int(re.search(r"#define SKACCEL_MAGIC (0x[0-9a-fA-F]+)", hdr).group(1), 16)
    p["VERSION"] = int(re.search(r"#define SKACCEL_PROTO_VERSION (\d+)", hdr).group(1))
    p["IF_PEER_WAITS"] = int(re.search(r"#define SKACCEL_REQ_IF_PEER_WAITS (0x[0-9a-fA-F]+)u",
                                       hdr).group(1), 16)
    # The statuses: X(NAME, value, "key", "phrase", more columns...) in SKACCEL_STATUS_LIST.
    phrases = {}
    for m in re.finditer(r"\bX\(((?:OK|ERR)_[A-Z_]+),\s*(-?\d+),\s*\"[^\"]*\",\s*\"([^\"]*)\"[,)]",
                         hdr):
        p["SKACCEL_" + m.group(1)] = int(m.group(2))
        phrases[int(m.group(2))] = m.group(3)
    # A change of the list's shape must fail here, not as a KeyError in some test.
    listed = len(re.findall(r"\bX\((?:OK|ERR)_", hdr))
    if not phrases or len(phrases) != listed:
        raise SystemExit("skhostile: parsed %d of the %d statuses in skaccel_proto.h"
                         % (len(phrases), listed))
    return p, phrases, parse_struct(hdr, "skaccel_req"), parse_struct(hdr, "skaccel_reply")


P, PHRASE, (REQ_FIELDS, REQ), (REP_FIELDS, REP) = load_proto()


def st(status):
    return "%d (%s)" % (status, PHRASE.get(status, "?"))


def req(op, seq=1, magic=None, version=None, flags=0):
    """A request; the fields the tests do not set (a deadline, say) are 0."""
    v = dict.fromkeys(REQ_FIELDS, 0)
    v.update(magic=P["MAGIC"] if magic is None else magic,
             version=P["VERSION"] if version is None else version, op=op, flags=flags, seq=seq)
    return REQ.pack(*(v[f] for f in REQ_FIELDS))


def req_op(data):
    return dict(zip(REQ_FIELDS, REQ.unpack(data[:REQ.size])))["op"]


def out(line):
    print(line, flush=True)


# --- talking to the helper ----------------------------------------------------------


def hconnect(path, timeout=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    s.connect(path)
    return s


def hsend(s, data, fds=()):
    anc = []
    if fds:
        anc.append((socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds).tobytes()))
    return s.sendmsg([data], anc)


class Reply:
    def __init__(self, raw):
        self.raw = raw
        self.len = len(raw)
        if self.len == REP.size:
            self.__dict__.update(zip(REP_FIELDS, REP.unpack(raw)))
        else:
            self.status = None

    def __repr__(self):
        if self.status is None:
            return "<%d-byte reply>" % self.len
        return "status %s op %d seq %d err %d cookie %d" % (
            st(self.status), self.op, self.seq, self.err, self.cookie)


def hrecv(s, timeout=2.0):
    """A Reply, "eof" when the helper closed the connection, or "timeout"."""
    s.settimeout(timeout)
    try:
        data, anc, flags, _ = s.recvmsg(256, socket.CMSG_SPACE(4 * 16))
    except socket.timeout:
        return "timeout"
    except (ConnectionResetError, BrokenPipeError):
        return "eof"
    for level, typ, cdata in anc:  # the helper never sends fds; never leak one if it did
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            for fd in array.array("i", cdata[: len(cdata) - len(cdata) % 4]):
                os.close(fd)
    if not data and not anc:
        return "eof"
    return Reply(data)


def status_err(r, want, what="", seq=None):
    """None if r is a reply with status want (and sequence number seq, if given), else the
    reason, prefixed with what."""
    if isinstance(r, Reply) and r.status == E[want] and (seq is None or r.seq == seq):
        return None
    return "%s%r, expected %s" % (what, r, st(E[want]))


def ping(path_or_sock, seq=4242, timeout=2.0):
    """PING on a new (path) or an existing connection; returns (ok, detail)."""
    own = isinstance(path_or_sock, str)
    try:
        s = hconnect(path_or_sock, timeout) if own else path_or_sock
        hsend(s, req(P["SKACCEL_OP_PING"], seq))
        r = hrecv(s, timeout)
    except OSError as e:
        return False, "PING: %s" % e
    finally:
        if own and "s" in locals():
            s.close()
    if not isinstance(r, Reply):
        return False, "PING: %s" % r
    if r.status != P["SKACCEL_OK_PONG"] or r.seq != seq or r.op != P["SKACCEL_OP_PING"]:
        return False, "PING: %r" % r
    return True, ""


def cookie_of(sock):
    return struct.unpack("=Q", sock.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]


def tcp_state(sock):
    return sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 8)[0]


# --- the objects a hostile client hands over -----------------------------------------


class Objs:
    """Every fd built for one case; closed together."""

    def __init__(self):
        self.keep = []

    def add(self, o):
        self.keep.append(o)
        return o

    def close(self):
        for o in self.keep:
            try:
                o.close() if hasattr(o, "close") else os.close(o)
            except OSError:
                pass
        self.keep = []


def tcp_pair(objs, family=socket.AF_INET, addr="127.0.0.1"):
    lst = objs.add(socket.socket(family, socket.SOCK_STREAM))
    lst.bind((addr, 0))
    lst.listen(8)
    c = objs.add(socket.socket(family, socket.SOCK_STREAM))
    c.connect(lst.getsockname()[:2])
    a, _ = lst.accept()
    objs.add(a)
    return c, a


def syn_sent(objs):
    """A socket stuck in SYN_SENT: the listener's accept queue is full, SYNs are dropped."""
    lst = objs.add(socket.socket())
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    first = objs.add(socket.socket())
    first.connect(lst.getsockname())  # fills the queue (backlog 0 holds one)
    c = objs.add(socket.socket())
    c.setblocking(False)
    try:
        c.connect(lst.getsockname())
    except BlockingIOError:
        pass
    time.sleep(0.05)
    return c


def make_case_fd(kind, objs, tmpdir):
    """Build the fd a case hands over; returns (fd, tcp state it must be in or None)."""
    if kind == "file":
        f = objs.add(open(os.path.join(tmpdir, "regular-file"), "w+"))
        return f.fileno(), None
    if kind == "dir":
        return objs.add(os.open(tmpdir, os.O_RDONLY | os.O_DIRECTORY)), None
    if kind == "devnull":
        return objs.add(os.open("/dev/null", os.O_RDWR)), None
    if kind == "opath":
        open(os.path.join(tmpdir, "opath-file"), "w").close()
        return objs.add(os.open(os.path.join(tmpdir, "opath-file"), os.O_PATH)), None
    if kind == "pipe":
        r, w = os.pipe()
        objs.add(w)
        return objs.add(r), None
    if kind == "fifo":
        path = os.path.join(tmpdir, "fifo")
        if not os.path.exists(path):
            os.mkfifo(path)
        return objs.add(os.open(path, os.O_RDONLY | os.O_NONBLOCK)), None
    if kind == "eventfd":
        return objs.add(os.eventfd(0)), None
    if kind == "memfd":
        return objs.add(os.memfd_create("skt-hostile")), None
    if kind == "epoll":
        e = objs.add(select.epoll())
        return e.fileno(), None
    if kind == "udp":
        u = objs.add(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        u.connect(("127.0.0.1", 9))
        return u.fileno(), None
    if kind == "udp6":
        u = objs.add(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
        return u.fileno(), None
    if kind in ("unix_stream", "unix_seqpacket", "unix_dgram"):
        typ = {"unix_stream": socket.SOCK_STREAM, "unix_seqpacket": socket.SOCK_SEQPACKET,
               "unix_dgram": socket.SOCK_DGRAM}[kind]
        a, b = socket.socketpair(socket.AF_UNIX, typ)
        objs.add(b)
        return objs.add(a).fileno(), None
    if kind == "netlink":
        n = objs.add(socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
        return n.fileno(), None
    if kind == "raw_tcp":
        r = objs.add(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP))
        return r.fileno(), None
    if kind == "mptcp":
        m = objs.add(socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262))
        return m.fileno(), None
    if kind == "tcp_unconnected":
        return objs.add(socket.socket()).fileno(), 7
    if kind == "tcp_listening":
        lst = objs.add(socket.socket())
        lst.bind(("127.0.0.1", 0))
        lst.listen(4)
        return lst.fileno(), 10
    if kind == "tcp_syn_sent":
        return syn_sent(objs).fileno(), 2
    if kind == "tcp_reset":
        c, a = tcp_pair(objs)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        a.close()  # RST
        time.sleep(0.02)
        return c.fileno(), 7
    if kind == "tcp_close_wait":
        c, a = tcp_pair(objs)
        a.close()  # FIN
        time.sleep(0.02)
        return c.fileno(), 8
    if kind == "tcp_fin_wait":
        c, a = tcp_pair(objs)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.02)
        return c.fileno(), 5
    if kind == "tcp_zerocopy":
        c, a = tcp_pair(objs)
        c.setsockopt(socket.SOL_SOCKET, SO_ZEROCOPY, 1)
        return c.fileno(), 1
    raise ValueError(kind)


def helper_fd_idents(pid):
    """What the helper holds: (dev, ino) of real files, link text of anonymous inodes."""
    ids = []
    d = "/proc/%d/fd" % pid
    for n in os.listdir(d):
        try:
            link = os.readlink(os.path.join(d, n))
            if link.startswith("anon_inode:"):
                ids.append(link)
            else:
                s = os.stat(os.path.join(d, n))
                ids.append((s.st_dev, s.st_ino))
        except OSError:
            pass
    return ids


def ident(fd):
    link = os.readlink("/proc/self/fd/%d" % fd)
    if link.startswith("anon_inode:"):
        return link
    s = os.fstat(fd)
    return (s.st_dev, s.st_ino)


# --- requests: one verdict per kind of bad request ----------------------------------

# name, how to build the message, expected status (None: no reply, just EOF), whether the
# helper must drop the connection, whether op/seq are echoed (the request parsed), and
# "pending": the helper does not do this yet (tests/hostile/pending/, reported as a bug).
OP_PING, OP_REG, OP_PAIRED = P["SKACCEL_OP_PING"], P["SKACCEL_OP_REGISTER"], P["SKACCEL_OP_PAIRED"]
E = P  # shorter below


def fd_case(kind, status, pending=False):
    return dict(name="register_" + kind, fdkind=kind, data=lambda s: req(OP_REG, s),
                status=E[status], drop=False, echo=True, pending=pending)


CASES = [
    # A zero-length record reads like EOF (recvmsg returns 0): the helper hangs up.
    dict(name="empty_message", data=lambda s: b"", status=None, drop=True, echo=False),
    dict(name="empty_message_with_fd", data=lambda s: b"", fdkind="pipe",
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    dict(name="short_1_byte", data=lambda s: b"\x43", status=E["SKACCEL_ERR_BAD_REQUEST"],
         drop=False, echo=False),
    dict(name="short_by_1_byte", data=lambda s: req(OP_PING, s)[:-1],
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    dict(name="long_by_1_byte", data=lambda s: req(OP_PING, s) + b"\0",
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    dict(name="long_64_bytes", data=lambda s: (req(OP_PING, s) + b"\0" * 64)[:64],
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    # Longer than the helper's buffer: MSG_TRUNC, answered as truncated, then cut off.
    dict(name="long_65_bytes", data=lambda s: (req(OP_PING, s) + b"\0" * 65)[:65],
         status=E["SKACCEL_ERR_TRUNCATED"], drop=True, echo=False),
    dict(name="long_65536_bytes", data=lambda s: (req(OP_REG, s) + b"\xff" * 65536)[:65536],
         fdkind="pipe", status=E["SKACCEL_ERR_TRUNCATED"], drop=True, echo=False),
    dict(name="wrong_magic", data=lambda s: req(OP_PING, s, magic=0x43414b53),
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    dict(name="wrong_magic_with_fd", data=lambda s: req(OP_REG, s, magic=0), fdkind="tcp_pair",
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=False),
    dict(name="reserved_flags_set", data=lambda s: req(OP_PING, s, flags=1),
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=True),
    # IF_PEER_WAITS is REGISTER's only flag: on another op, or beside an unknown bit, refused.
    dict(name="paired_if_peer_waits", data=lambda s: req(OP_PAIRED, s, flags=P["IF_PEER_WAITS"]),
         fdkind="tcp_pair", status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=True),
    dict(name="register_unknown_flag",
         data=lambda s: req(OP_REG, s, flags=P["IF_PEER_WAITS"] << 1), fdkind="tcp_pair",
         status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=True),
    dict(name="register_all_flags", data=lambda s: req(OP_REG, s, flags=0xFFFFFFFF),
         fdkind="tcp_pair", status=E["SKACCEL_ERR_BAD_REQUEST"], drop=False, echo=True),
    dict(name="version_0", data=lambda s: req(OP_PING, s, version=0),
         status=E["SKACCEL_ERR_VERSION"], drop=False, echo=True),
    dict(name="version_next", data=lambda s: req(OP_PING, s, version=P["VERSION"] + 1),
         status=E["SKACCEL_ERR_VERSION"], drop=False, echo=True),
    dict(name="version_65535_register", data=lambda s: req(OP_REG, s, version=0xFFFF),
         fdkind="tcp_pair", status=E["SKACCEL_ERR_VERSION"], drop=False, echo=True),
    dict(name="unknown_op_0", data=lambda s: req(0, s), status=E["SKACCEL_ERR_UNKNOWN_OP"],
         drop=False, echo=True),
    dict(name="unknown_op_4", data=lambda s: req(4, s), status=E["SKACCEL_ERR_UNKNOWN_OP"],
         drop=False, echo=True),
    # PAIRED asks about a socket the client registered; the same fd rules as REGISTER.
    dict(name="paired_no_fd", data=lambda s: req(OP_PAIRED, s), status=E["SKACCEL_ERR_NO_FD"],
         drop=False, echo=True),
    dict(name="paired_2_fds", data=lambda s: req(OP_PAIRED, s), fdkind="tcp_pair", nfds=2,
         status=E["SKACCEL_ERR_TOO_MANY_FDS"], drop=False, echo=True),
    dict(name="paired_pipe", data=lambda s: req(OP_PAIRED, s), fdkind="pipe",
         status=E["SKACCEL_ERR_NOT_SOCKET"], drop=False, echo=True),
    # Never registered: the helper holds no such registration.
    dict(name="paired_unregistered_tcp", data=lambda s: req(OP_PAIRED, s), fdkind="tcp_pair",
         status=E["SKACCEL_ERR_NOT_ESTABLISHED"], drop=False, echo=True),
    dict(name="unknown_op_65535_with_fd", data=lambda s: req(0xFFFF, s), fdkind="pipe",
         status=E["SKACCEL_ERR_UNKNOWN_OP"], drop=False, echo=True),
    dict(name="register_no_fd", data=lambda s: req(OP_REG, s), status=E["SKACCEL_ERR_NO_FD"],
         drop=False, echo=True),
    dict(name="register_2_fds", data=lambda s: req(OP_REG, s), fdkind="tcp_pair", nfds=2,
         status=E["SKACCEL_ERR_TOO_MANY_FDS"], drop=False, echo=True),
    dict(name="register_same_socket_twice_in_one_message", data=lambda s: req(OP_REG, s),
         fdkind="tcp_pair", nfds=2, same=True, status=E["SKACCEL_ERR_TOO_MANY_FDS"],
         drop=False, echo=True),
    dict(name="register_4_fds", data=lambda s: req(OP_REG, s), fdkind="pipe", nfds=4,
         status=E["SKACCEL_ERR_TOO_MANY_FDS"], drop=False, echo=True),
    # More fds than the helper's control buffer: MSG_CTRUNC, truncated, cut off.
    dict(name="register_5_fds", data=lambda s: req(OP_REG, s), fdkind="tcp_pair", nfds=5,
         status=E["SKACCEL_ERR_TRUNCATED"], drop=True, echo=True),
    dict(name="register_253_fds_truncated_control", data=lambda s: req(OP_REG, s),
         fdkind="pipe", nfds=SCM_MAX_FD, status=E["SKACCEL_ERR_TRUNCATED"], drop=True,
         echo=True),
    dict(name="ping_with_fd", data=lambda s: req(OP_PING, s), fdkind="tcp_pair",
         status=E["SKACCEL_ERR_TOO_MANY_FDS"], drop=False, echo=True),
    dict(name="ping_with_5_fds", data=lambda s: req(OP_PING, s), fdkind="eventfd", nfds=5,
         status=E["SKACCEL_ERR_TRUNCATED"], drop=True, echo=True),
    fd_case("file", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("dir", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("devnull", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("pipe", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("fifo", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("eventfd", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("memfd", "SKACCEL_ERR_NOT_SOCKET"),
    fd_case("epoll", "SKACCEL_ERR_NOT_SOCKET"),
    # An O_PATH fd can be passed, but getsockopt() on it fails with EBADF, not ENOTSOCK.
    fd_case("opath", "SKACCEL_ERR_NOT_SOCKET", pending=True),
    fd_case("udp", "SKACCEL_ERR_NOT_TCP"),
    fd_case("udp6", "SKACCEL_ERR_NOT_TCP"),
    fd_case("unix_stream", "SKACCEL_ERR_NOT_TCP"),
    fd_case("unix_seqpacket", "SKACCEL_ERR_NOT_TCP"),
    fd_case("unix_dgram", "SKACCEL_ERR_NOT_TCP"),
    fd_case("netlink", "SKACCEL_ERR_NOT_TCP"),
    # SOCK_RAW with IPPROTO_TCP (CAP_NET_RAW, which a user namespace gives anyone): SO_PROTOCOL
    # says TCP, TCP_INFO fails (EOPNOTSUPP for IPv4 on 6.x).
    fd_case("raw_tcp", "SKACCEL_ERR_NOT_TCP"),
    fd_case("mptcp", "SKACCEL_ERR_NOT_TCP"),
    fd_case("tcp_unconnected", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_listening", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_syn_sent", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_reset", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_close_wait", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_fin_wait", "SKACCEL_ERR_NOT_ESTABLISHED"),
    fd_case("tcp_zerocopy", "SKACCEL_ERR_UNSUPPORTED"),
]
OPTIONAL = {"register_raw_tcp", "register_mptcp"}  # no verdict where the kernel lacks them


class CaseError(Exception):
    pass


def run_case(c, args, tmpdir, seq):
    """One case on a fresh connection; raises CaseError with the reason."""
    objs = Objs()
    try:
        fds, idents = [], []
        if c.get("fdkind"):
            if c["fdkind"] == "tcp_pair":
                fd = tcp_pair(objs)[0].fileno()
                want_state = None
            else:
                try:
                    fd, want_state = make_case_fd(c["fdkind"], objs, tmpdir)
                except OSError as e:
                    if c["name"] in OPTIONAL:
                        return "unavailable: %s" % e
                    raise CaseError("cannot build the fd: %s" % e)
            if want_state is not None:
                with socket.socket(fileno=os.dup(fd)) as probe:
                    state = tcp_state(probe)
                if state != want_state:  # the case would prove nothing
                    raise CaseError("test bug: the socket is in TCP state %d, not %s" % (
                        state, TCP_STATE[want_state]))
            n = c.get("nfds", 1)
            fds = [fd] * n if (c.get("same") or n > 2) else [fd] + [
                tcp_pair(objs)[0].fileno() for _ in range(n - 1)]
            idents = list({ident(f) for f in fds})
        before = helper_fd_idents(args.helper_pid)
        log_off = os.path.getsize(args.helper_log)
        s = objs.add(hconnect(args.socket))
        data = c["data"](seq)
        hsend(s, data, fds)
        r = hrecv(s, 3.0)
        if c["status"] is None:
            if r != "eof":
                raise CaseError("expected the helper to close the connection, got %r" % r)
        else:
            if not isinstance(r, Reply):
                raise CaseError("no reply: %s" % r)
            if r.len != REP.size:
                raise CaseError("reply of %d bytes, not %d" % (r.len, REP.size))
            if (r.magic, r.version, r.reserved) != (P["MAGIC"], P["VERSION"], 0):
                raise CaseError("malformed reply header: %r" % (r.raw,))
            if r.status != c["status"]:
                raise CaseError("got %r, expected status %s" % (r, st(c["status"])))
            if c["echo"] and (r.op, r.seq) != (req_op(data), seq):
                raise CaseError("op/seq not echoed: %r (sent op %d seq %d)" % (
                    r, req_op(data), seq))
            if not c["echo"] and (r.op, r.seq) != (0, 0):
                raise CaseError("op/seq of an unparsed request must be 0: %r" % r)
            if r.cookie != 0:
                raise CaseError("a refusal carries a cookie: %r" % r)
        # The helper closes every fd that came with the message: sockets and pipes before
        # it answers, anything whose close() might block (a lingering socket, a file on
        # FUSE: helperd/closer.c) on its closer thread right after. So: within a second.
        deadline = time.monotonic() + 1.0
        while True:
            held = helper_fd_idents(args.helper_pid)
            kept = [i for i in idents if held.count(i) > before.count(i)]
            if not kept:
                break
            if time.monotonic() > deadline:
                raise CaseError("the helper still holds the fd it was sent, 1 s after "
                                "answering (%s)" % (kept[0],))
            time.sleep(0.01)
        # The connection: cut off, or still served.
        if c["drop"]:
            if c["status"] is not None:
                r2 = hrecv(s, 2.0)
                if r2 != "eof":
                    raise CaseError("expected the helper to cut the client off, got %r" % r2)
        else:
            ok, why = ping(s, seq + 1)
            if not ok:
                raise CaseError("the same connection is no longer served: %s" % why)
        ok, why = ping(args.socket, seq + 2)
        if not ok:
            raise CaseError("the helper no longer serves a new client: %s" % why)
        # One log line naming the client and the refusal.
        if c["status"] is not None:
            phrase, pidtag = PHRASE[c["status"]], "pid %d " % os.getpid()
            deadline = time.time() + 1.0
            while True:
                with open(args.helper_log, errors="replace") as f:
                    f.seek(log_off)
                    new = f.read()
                if any(phrase in ln and pidtag in ln for ln in new.splitlines()):
                    break
                if time.time() > deadline:
                    raise CaseError("no log line with '%s' and '%s'" % (pidtag.strip(), phrase))
                time.sleep(0.02)
        return None
    finally:
        objs.close()


def register_cases(args):
    """Valid and repeated registrations of real sockets; yields (name, error or None)."""
    objs = Objs()
    try:
        c, a = tcp_pair(objs)
        s = objs.add(hconnect(args.socket))

        def reg(fd, seq, flags=0):
            hsend(s, req(OP_REG, seq, flags=flags), [fd])
            return hrecv(s, 3.0)

        # Only if its peer waits, and none does: nothing done (the next one is no ALREADY).
        r = reg(c.fileno(), 9, P["IF_PEER_WAITS"])
        err = status_err(r, "SKACCEL_OK_NO_PEER")
        if not err and r.cookie != 0:
            err = "a socket not registered is named in the reply (cookie %d)" % r.cookie
        yield "register_if_peer_waits_nobody_waits", err
        r = reg(c.fileno(), 10)
        err = status_err(r, "SKACCEL_OK_WAITING_PEER", "first end: ")
        if not err and r.cookie != cookie_of(c):
            err = "reply cookie %d is not the socket's SO_COOKIE %d" % (r.cookie, cookie_of(c))
        yield "register_first_end_waits_for_peer", err
        r = reg(c.fileno(), 11)
        yield "register_same_socket_twice", status_err(r, "SKACCEL_ERR_ALREADY")
        d = objs.add(os.dup(c.fileno()))
        r = reg(d, 12)
        yield "register_dup_of_registered_socket", status_err(r, "SKACCEL_ERR_ALREADY")
        # The second end asks only if its peer waits, as a reader promoted by bytes does.
        r = reg(a.fileno(), 13, P["IF_PEER_WAITS"])
        err = status_err(r, "SKACCEL_OK_ACCELERATED", "second end: ")
        if not err and r.cookie != cookie_of(a):
            err = "reply cookie %d is not the socket's SO_COOKIE %d" % (r.cookie, cookie_of(a))
        elif not err:
            # The pair still carries bytes both ways, in order.
            c.sendall(b"hello through the helper")
            a.settimeout(2)
            got = a.recv(100)
            a.sendall(b"and back")
            c.settimeout(2)
            got2 = c.recv(100)
            if got != b"hello through the helper" or got2 != b"and back":
                err = "data after registration: %r / %r" % (got, got2)
        yield "register_both_ends_accelerated", err
        r = reg(a.fileno(), 14)
        yield "register_paired_socket_again", status_err(r, "SKACCEL_ERR_ALREADY")
        ok, why = ping(s, 15)
        yield "registration_connection_still_served", None if ok else why
    finally:
        objs.close()


def cmd_requests(args):
    failed = 0
    with tempfile.TemporaryDirectory(prefix="skt-hostile-") as tmpdir:
        seq = 1000
        for c in CASES:
            if bool(c.get("pending")) != args.pending:
                continue
            name = "%s/%s" % (args.prefix, c["name"])
            seq += 10
            try:
                note = run_case(c, args, tmpdir, seq)
            except CaseError as e:
                out("FAIL: %s: %s" % (name, e))
                failed += 1
            except OSError as e:
                out("FAIL: %s: %s" % (name, e))
                failed += 1
            else:
                if note:
                    print("note: %s: %s, no verdict" % (name, note), file=sys.stderr)
                else:
                    out("PASS: " + name)
            time.sleep(0.03)  # stay under the helper's global log rate (50 lines/s)
        if not args.pending:
            for n, err in register_cases(args):
                name = "%s/%s" % (args.prefix, n)
                if err:
                    out("FAIL: %s: %s" % (name, err))
                    failed += 1
                else:
                    out("PASS: " + name)
    return 1 if failed else 0


# --- leak: thousands of bad requests, for the caller to compare fd count and RSS -----


def cmd_leak(args):
    objs = Objs()
    tmpdir = tempfile.mkdtemp(prefix="skt-hostile-")
    pool = {}
    for kind in ("file", "pipe", "fifo", "eventfd", "udp", "unix_stream", "tcp_listening",
                 "tcp_syn_sent", "tcp_reset", "tcp_unconnected", "memfd", "epoll"):
        pool[kind] = make_case_fd(kind, objs, tmpdir)[0]
    c, a = tcp_pair(objs)
    # One accelerated pair: re-registering it is refused (already registered) forever.
    s = hconnect(args.socket)
    for fd in (c.fileno(), a.fileno()):
        hsend(s, req(OP_REG, 1), [fd])
        hrecv(s)
    s.close()
    pool["registered"] = c.fileno()
    kinds = sorted(pool)
    msgs = [  # (data, fds, expected status)
        (req(OP_PING, 1)[:8], [], "SKACCEL_ERR_BAD_REQUEST"),
        ((req(OP_PING, 1) + b"x" * 64)[:REQ.size + 8], [pool["pipe"]], "SKACCEL_ERR_BAD_REQUEST"),
        (req(OP_PING, 1, magic=1), [pool["eventfd"]], "SKACCEL_ERR_BAD_REQUEST"),
        (req(OP_PING, 1, version=9), [], "SKACCEL_ERR_VERSION"),
        (req(77, 1), [pool["file"]], "SKACCEL_ERR_UNKNOWN_OP"),
        (req(OP_REG, 1), [], "SKACCEL_ERR_NO_FD"),
        (req(OP_REG, 1), [pool["pipe"], pool["udp"]], "SKACCEL_ERR_TOO_MANY_FDS"),
        (req(OP_REG, 1), [pool["fifo"]] * 4, "SKACCEL_ERR_TOO_MANY_FDS"),
        (req(OP_PING, 1), [pool["registered"]], "SKACCEL_ERR_TOO_MANY_FDS"),
        (req(OP_REG, 1), [pool["registered"]], "SKACCEL_ERR_ALREADY"),
    ]
    trunc = [(req(OP_REG, 1), [pool["pipe"]] * SCM_MAX_FD, "SKACCEL_ERR_TRUNCATED"),
             (req(OP_PING, 1) + b"z" * 200, [pool["tcp_listening"]], "SKACCEL_ERR_TRUNCATED")]
    expect_kind = {"file": "NOT_SOCKET", "pipe": "NOT_SOCKET", "fifo": "NOT_SOCKET",
                   "eventfd": "NOT_SOCKET", "memfd": "NOT_SOCKET", "epoll": "NOT_SOCKET",
                   "udp": "NOT_TCP", "unix_stream": "NOT_TCP", "tcp_listening": "NOT_ESTABLISHED",
                   "tcp_syn_sent": "NOT_ESTABLISHED", "tcp_reset": "NOT_ESTABLISHED",
                   "tcp_unconnected": "NOT_ESTABLISHED"}
    for k in kinds:
        if k != "registered":
            msgs.append((req(OP_REG, 1), [pool[k]], "SKACCEL_ERR_" + expect_kind[k]))
    msgs = [(d, f, E[x]) for d, f, x in msgs]
    trunc = [(d, f, E[x]) for d, f, x in trunc]
    st_ = {"sent": 0, "bad": 0, "silent": 0, "i": 0, "counts": {}}

    def run_loop(n):
        s = None
        try:
            for _ in range(n):
                i = st_["i"]
                if s is None or i % 50 == 0:
                    if s:
                        s.close()
                    s = hconnect(args.socket)
                if i % 97 == 0:  # a client that connects and leaves without a word
                    hconnect(args.socket).close()
                    st_["silent"] += 1
                if i % 61 == 0:
                    d, f, want = trunc[(i // 61) % len(trunc)]
                else:
                    d, f, want = msgs[i % len(msgs)]
                st_["i"] += 1
                hsend(s, d, f)
                st_["sent"] += 1
                r = hrecv(s, 3.0)
                got = r.status if isinstance(r, Reply) else r
                st_["counts"][got] = st_["counts"].get(got, 0) + 1
                if got != want:
                    st_["bad"] += 1
                    if st_["bad"] <= 5:
                        print("leak: request %d: got %s, expected %s" % (
                            st_["sent"], got, st(want)), file=sys.stderr)
                if want == E["SKACCEL_ERR_TRUNCATED"]:
                    s.close()
                    s = None
        finally:
            if s:
                s.close()

    def fdcount():
        return len(os.listdir("/proc/%d/fd" % args.helper_pid))

    def rss_kb():
        with open("/proc/%d/status" % args.helper_pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
        return -1

    def settle(want_fds):
        deadline = time.time() + 3
        while fdcount() > want_fds and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        return fdcount(), rss_kb()

    pre = args.prefix
    failed = 0
    try:
        run_loop(args.warmup)  # every path once: lazily mapped pages, malloc arenas, logs
        fd0, rss0 = settle(fdcount())
        # The witness can see a change: one open client is one more helper fd.
        w = hconnect(args.socket)
        ok, _ = ping(w)
        fdw = fdcount()
        w.close()
        fd0, rss0 = settle(fd0)
        if not ok or fdw != fd0 + 1:
            out("FAIL: %s/fd_witness: one client should add one helper fd: %d -> %d" % (
                pre, fd0, fdw))
            failed += 1
        t0 = time.time()
        st_["sent"] = st_["bad"] = st_["silent"] = 0
        st_["counts"] = {}
        run_loop(args.count)
        secs = time.time() - t0
        fd1, rss1 = settle(fd0)
    finally:
        objs.close()
        for n in os.listdir(tmpdir):
            os.unlink(os.path.join(tmpdir, n))
        os.rmdir(tmpdir)
    counts = st_["counts"]
    summary = ", ".join("%s x%d" % (st(k) if isinstance(k, int) else k, v)
                        for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print("leak: %d requests (%d silent clients) in %.1fs: %s" % (
        st_["sent"], st_["silent"], secs, summary), file=sys.stderr, flush=True)
    print("leak: helper fds %d -> %d, VmRSS %d -> %d kB" % (fd0, fd1, rss0, rss1),
          file=sys.stderr, flush=True)
    n = st_["sent"]
    if st_["bad"]:
        out("FAIL: %s/bad_requests_all_answered: %d of %d unexpected replies" % (pre, st_["bad"], n))
        failed += 1
    else:
        out("PASS: %s/bad_requests_all_answered" % pre)
    if fd1 != fd0:
        out("FAIL: %s/no_fd_leak: helper fds %d before, %d after %d bad requests" % (
            pre, fd0, fd1, n))
        failed += 1
    else:
        out("PASS: %s/no_fd_leak" % pre)
    if rss1 - rss0 > args.rss_tolerance_kb:
        out("FAIL: %s/no_memory_growth: VmRSS %d kB before, %d kB after %d bad requests "
            "(tolerance %d kB)" % (pre, rss0, rss1, n, args.rss_tolerance_kb))
        failed += 1
    else:
        out("PASS: %s/no_memory_growth" % pre)
    return 1 if failed else 0


# --- hold: many simultaneous clients --------------------------------------------------


def raise_nofile(want):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def cmd_hold(args):
    raise_nofile(args.count + 64)
    conns, refused = [], 0
    for _ in range(args.count):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        try:
            s.connect(args.socket)
        except OSError:
            refused += 1
            s.close()
            continue
        s.setblocking(False)
        conns.append(s)
    pong = eof = timeout = 0
    if args.ping:
        for k, s in enumerate(conns):
            try:
                hsend(s, req(OP_PING, k))
            except OSError:
                pass
        deadline = time.time() + 5
        pending = set(range(len(conns)))
        while pending and time.time() < deadline:
            p = select.poll()
            for k in pending:
                p.register(conns[k], select.POLLIN)
            fdmap = {conns[k].fileno(): k for k in pending}
            for fd, ev in p.poll(200):
                k = fdmap[fd]
                try:
                    data = conns[k].recv(64)
                except OSError:
                    data = b""
                if Reply(data).status == E["SKACCEL_OK_PONG"]:
                    pong += 1
                else:
                    eof += 1
                pending.discard(k)
        timeout = len(pending)
    else:
        time.sleep(args.settle)
        p = select.poll()
        for s in conns:
            p.register(s, select.POLLIN | select.POLLHUP)
        for fd, ev in p.poll(0):
            eof += 1  # a silent client only ever reads EOF: the helper closed it
    line = "hold: connected=%d refused=%d open=%d closed_by_helper=%d pong=%d no_answer=%d" % (
        len(conns), refused, len(conns) - eof, eof, pong, timeout)
    print(line, flush=True)
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(line + "\n")
        os.rename(args.ready + ".tmp", args.ready)
    end = time.time() + args.hold
    while time.time() < end:
        time.sleep(0.1)
    return 0


# --- probe: is a well-behaved client served promptly? --------------------------------


def register_pair(path, timeout):
    """Register both ends of a fresh loopback connection; returns (ms, error or None)."""
    objs = Objs()
    try:
        c, a = tcp_pair(objs)
        t0 = time.time()
        s = objs.add(hconnect(path, timeout))
        for fd, want, seq in ((c.fileno(), "SKACCEL_OK_WAITING_PEER", 1),
                              (a.fileno(), "SKACCEL_OK_ACCELERATED", 2)):
            hsend(s, req(OP_REG, seq), [fd])
            r = hrecv(s, timeout)
            err = status_err(r, want, "registration: ", seq)
            if err:
                return (time.time() - t0) * 1000, err
        ms = (time.time() - t0) * 1000
        c.sendall(b"x" * 1000)
        a.settimeout(timeout)
        n = 0
        while n < 1000:
            n += len(a.recv(1000 - n))
        return ms, None
    except OSError as e:
        return 0, "registration: %s" % e
    finally:
        objs.close()


def cmd_probe(args):
    lat, err = [], None
    try:
        s = hconnect(args.socket, args.max_ms / 1000.0 * 4)
        for k in range(args.pings):
            t0 = time.time()
            ok, why = ping(s, k, timeout=args.max_ms / 1000.0 * 4)
            lat.append((time.time() - t0) * 1000)
            if not ok:
                err = why
                break
            if args.interval_ms:
                time.sleep(args.interval_ms / 1000.0)
        s.close()
    except OSError as e:
        err = "connect: %s" % e
    reg_ms = 0
    if not err and args.register:
        reg_ms, err = register_pair(args.socket, args.max_ms / 1000.0 * 4)
    lat.sort()
    worst = lat[-1] if lat else 0
    p50 = lat[len(lat) // 2] if lat else 0
    detail = "%d pings, median %.2f ms, worst %.2f ms%s" % (
        len(lat), p50, worst, ", registration %.2f ms" % reg_ms if args.register else "")
    print("probe: " + detail, file=sys.stderr, flush=True)
    if err:
        out("FAIL: %s: %s (%s)" % (args.name, err, detail))
        return 1
    if worst > args.max_ms or reg_ms > args.max_ms:
        out("FAIL: %s: slower than %d ms: %s" % (args.name, args.max_ms, detail))
        return 1
    out("PASS: %s" % args.name)
    return 0


# --- noread: a client that sends requests and never reads the replies -----------------


def cmd_noread(args):
    s = hconnect(args.socket)
    s.setblocking(False)
    sent, t0, dropped = 0, time.time(), None
    while time.time() - t0 < args.max_ms / 1000.0 and sent < 100000:
        try:
            hsend(s, req(OP_PING, sent))
            sent += 1
        except BlockingIOError:
            time.sleep(0.001)  # the helper has not read our earlier requests yet
        except (BrokenPipeError, ConnectionResetError):
            dropped = time.time() - t0
            break
    replies, eof = 0, False
    s.setblocking(True)
    s.settimeout(1)
    while True:
        try:
            d = s.recv(64)
        except socket.timeout:
            break
        except ConnectionResetError:
            # Closed by the helper with requests of ours unread: reported once, ahead of
            # the replies still queued for us.
            eof = True
            continue
        if not d:
            eof = True
            break
        replies += 1
    if dropped is None and eof:
        dropped = time.time() - t0
    detail = "sent %d requests, %d replies were queued for it, %s" % (
        sent, replies, "cut off after %.0f ms" % (dropped * 1000) if dropped is not None
        else "never cut off")
    print("noread: " + detail, file=sys.stderr, flush=True)
    if dropped is None or not eof:
        out("FAIL: %s: the helper kept a client that never reads: %s" % (args.name, detail))
        return 1
    if replies > args.max_replies:
        out("FAIL: %s: more than %d replies queued: %s" % (args.name, args.max_replies, detail))
        return 1
    out("PASS: %s" % args.name)
    print("noread-result: sent=%d replies=%d dropped_ms=%.0f" % (sent, replies, dropped * 1000),
          flush=True)
    return 0


# --- flood: one client sends as fast as the helper answers ----------------------------


def cmd_flood(args):
    objs = Objs()
    s = hconnect(args.socket)
    fds = []
    if args.kind == "register-pipe":
        fds = [make_case_fd("pipe", objs, "/")[0]]
        data, want = req(OP_REG, 1), E["SKACCEL_ERR_NOT_SOCKET"]
    else:
        data, want = req(OP_PING, 1), E["SKACCEL_OK_PONG"]
    done = inflight = bad = 0
    t0 = time.time()
    s.settimeout(5)
    while time.time() - t0 < args.seconds:
        while inflight < args.window:
            hsend(s, data, fds)
            inflight += 1
        r = hrecv(s, 5)
        if not isinstance(r, Reply):
            print("flood: %s after %d replies" % (r, done), flush=True)
            return 1
        inflight -= 1
        done += 1
        bad += r.status != want
    secs = time.time() - t0
    print("flood: %d replies in %.1fs (%.0f/s), %d unexpected" % (done, secs, done / secs, bad),
          flush=True)
    objs.close()
    return 1 if bad else 0


# --- linger: a socket whose last close blocks ------------------------------------------


def cmd_linger(args):
    """
    Hand the helper a TCP socket with SO_LINGER set and unsent data its peer will never
    take, and close our copy: the helper's close() is then the last one, and a lingering
    close waits for the data to be acknowledged. A helper that closes received fds on its
    event loop is stuck there; meanwhile a well-behaved client's PING must still answer.
    """
    objs = Objs()
    c, queued = lingering_socket(objs)
    s = objs.add(hconnect(args.socket))
    # Should the helper close its copy first (it may: it refuses the request at once),
    # nothing waits here; most often the helper's close is the last, and lingers (as in
    # cmd_fdflood).
    send_last_copy(s, req(OP_PING, 1), c)  # refused (an fd on PING): the helper closes it
    time.sleep(0.2)
    t0 = time.time()
    ok, why = ping(args.socket, 2, timeout=args.max_ms / 1000.0)
    ms = (time.time() - t0) * 1000
    detail = "%d bytes unsent behind a lingering close; the next PING %s after %.0f ms" % (
        queued, "answered" if ok else "got no answer (%s)" % why, ms)
    print("linger: " + detail, file=sys.stderr, flush=True)
    objs.close()  # the peer goes away: a stuck close returns
    if not ok:
        out("FAIL: %s: the helper blocked in close() of a client's socket: %s" % (args.name, detail))
        return 1
    out("PASS: %s" % args.name)
    return 0


# --- fdflood: lingering closes, then fds as fast as the helper takes them --------------


def send_last_copy(s, data, c):
    """Send data with socket c to the helper from a child that exits right after the send,
    once our own copy of c is closed: an exiting task's close never lingers (inet_release()),
    so the helper's close of c is the one that can. Closes our copy of c."""
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(go_w)
            os.read(go_r, 1)  # our parent's copy is closed: never the last
            hsend(s, data, [c.fileno()])
        finally:
            os._exit(0)
    c.close()
    os.close(go_r)
    os.close(go_w)
    os.waitpid(pid, 0)


def lingering_socket(objs):
    """A TCP socket whose last close lingers: SO_LINGER {1, 3600} and unsent data its peer
    (kept open in objs, never read) has no room for. Small buffers: many fit in memory."""
    lst = objs.add(socket.socket())
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    c.connect(lst.getsockname())
    a, _ = lst.accept()
    objs.add(a)
    lst.close()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # the peer never reads
    c.setblocking(False)
    queued = 0
    try:
        while True:
            queued += c.send(b"L" * 65536)
    except BlockingIOError:
        pass
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 3600))
    return c, queued


def cmd_fdflood(args):
    """
    One connection: first --lingering REGISTER requests each with a lingering TCP socket
    whose only other copy is then closed, so the helper's close is the last and waits;
    then --count REGISTER requests each with /dev/null, as fast as the helper takes them,
    reading the replies as they come (at most --window unanswered: a client that does not
    read is dropped, which is not the attack). Then hold everything --hold seconds; the
    calling script watches the helper's fds meanwhile. Prints one "fdflood:" line.
    """
    raise_nofile(2 * args.lingering + 256)
    objs = Objs()
    s = objs.add(hconnect(args.socket))
    s.setblocking(False)
    null = objs.add(os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC))
    sent = replies = 0
    statuses = {}
    eof = None
    t0 = time.time()
    deadline = t0 + args.max_seconds

    def read_replies(wait=0.0):
        nonlocal replies, eof
        select.select([s], [], [], wait)
        while True:
            try:
                data = s.recv(64)
            except BlockingIOError:
                return
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                eof = eof or "eof after %d replies" % replies
                return
            r = Reply(data)
            replies += 1
            statuses[r.status] = statuses.get(r.status, 0) + 1

    # Each lingering socket goes by send_last_copy(), most often before the helper has
    # received it, so only the helper's close can wait, and does. We keep the peers, never
    # reading them.
    while sent < args.lingering + args.count and eof is None and time.time() < deadline:
        if sent - replies >= args.window:
            read_replies(0.05)
            continue
        try:
            if sent < args.lingering:
                send_last_copy(s, req(OP_REG, sent), lingering_socket(objs)[0])
            else:
                hsend(s, req(OP_REG, sent), [null])
            sent += 1
        except BlockingIOError:
            read_replies(0.05)
        except (BrokenPipeError, ConnectionResetError) as e:
            eof = "send: %s after %d requests" % (e, sent)
        read_replies()
    send_secs = time.time() - t0
    while replies < sent and eof is None and time.time() < deadline:
        read_replies(0.05)
    line = "fdflood: sent=%d replies=%d send_secs=%.3f all_secs=%.3f statuses=%s%s" % (
        sent, replies, send_secs, time.time() - t0,
        ",".join("%s:%d" % (k, v) for k, v in sorted(statuses.items(), key=str)),
        " " + eof if eof else "")
    print(line, flush=True)
    end = time.time() + args.hold
    while time.time() < end:
        time.sleep(0.05)
    objs.close()
    return 0


# --- check-pairing: who is paired with whom, from --stats --json ----------------------


def cmd_check_pairing(args):
    """
    The helper's socket table, taken while the test's connections are live: every socket
    whose two ports are the test's is paired, with the socket that has the mirror tuple,
    symmetrically, in the same network namespace and owned by the same user (by the pid and
    uid the helper recorded), and each pair carried redirected bytes.
    """
    import json
    j = json.load(open(args.stats))
    ports = set(args.ports)

    def port(a):
        return int(a.rsplit(":", 1)[1])

    def netns(pid):
        try:
            return os.readlink("/proc/%d/ns/net" % pid)
        except OSError:
            return None

    socks = [x for x in j["sockets"] if port(x["local"]) in ports and port(x["remote"]) in ports]
    by = {x["cookie"]: x for x in socks}
    errs = []
    if len(socks) != args.expect:
        errs.append("%d registered sockets on ports %s, expected %d" % (
            len(socks), sorted(ports), args.expect))
    pairs = set()
    for x in socks:
        p = by.get(x["peer"])
        tag = "%s->%s (cookie %d, pid %d, uid %d)" % (x["local"], x["remote"], x["cookie"],
                                                      x["pid"], x["uid"])
        if x["state"] != "paired" or not p:
            errs.append("%s is %s, peer %d" % (tag, x["state"], x["peer"]))
            continue
        if p["peer"] != x["cookie"]:
            errs.append("%s: its peer %d is paired with %d" % (tag, p["cookie"], p["peer"]))
        if (p["local"], p["remote"]) != (x["remote"], x["local"]):
            errs.append("%s: paired with %s->%s, not its mirror" % (tag, p["local"], p["remote"]))
        nx, np_ = netns(x["pid"]), netns(p["pid"])
        if nx is None or np_ is None:
            errs.append("%s: pid %d or %d gone before the check" % (tag, x["pid"], p["pid"]))
        elif nx != np_:
            errs.append("%s: paired ACROSS network namespaces (%s / %s)" % (tag, nx, np_))
        if p["uid"] != x["uid"]:
            errs.append("%s: paired ACROSS users (%d / %d)" % (tag, x["uid"], p["uid"]))
        pairs.add(tuple(sorted((x["cookie"], p["cookie"]))))
    for a, b in pairs:
        if by[a]["tx_redir_bytes"] + by[b]["tx_redir_bytes"] == 0:
            errs.append("pair %s<->%s redirected nothing" % (by[a]["local"], by[a]["remote"]))
    if args.distinct_netns and len({netns(by[a]["pid"]) for a, b in pairs}) != len(pairs):
        errs.append("the pairs are not in distinct network namespaces: the test proves nothing")
    if args.uids and sorted({by[a]["uid"] for a, b in pairs}) != sorted(args.uids):
        errs.append("pair owners %s, expected %s" % (
            sorted({by[a]["uid"] for a, b in pairs}), sorted(args.uids)))
    if errs:
        out("FAIL: %s: %s" % (args.name, "; ".join(errs[:4])))
        return 1
    out("PASS: %s" % args.name)
    return 0


# --- register-many: one client, many refused registrations (logged once) ---------------


def cmd_register_many(args):
    """
    Register both ends of COUNT connections to PORT over ONE helper connection and check
    every reply. Prints "pid=PID" (whose log lines the caller counts) and the tally.
    """
    want = E[args.expect]
    objs = Objs()
    lst = objs.add(socket.socket())
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", args.port))
    lst.listen(args.count)
    s = objs.add(hconnect(args.socket))
    tally, seq = {}, 0
    for _ in range(args.count):
        c = objs.add(socket.socket())
        c.connect(("127.0.0.1", args.port))
        a = objs.add(lst.accept()[0])
        for sock in (c, a):
            seq += 1
            hsend(s, req(OP_REG, seq), [sock.fileno()])
            r = hrecv(s, 3.0)
            got = r.status if isinstance(r, Reply) else r
            tally[got] = tally.get(got, 0) + 1
        c.sendall(b"still plain TCP")  # a refusal leaves the connection as it was
        a.settimeout(2)
        if a.recv(100) != b"still plain TCP":
            print("register-many: data lost after a refusal", flush=True)
            tally["data"] = 1
    objs.close()
    print("pid=%d" % os.getpid(), flush=True)
    print("register-many: %s" % ", ".join("%s x%d" % (st(k) if isinstance(k, int) else k, v)
                                         for k, v in tally.items()), flush=True)
    return 0 if tally == {want: 2 * args.count} else 1


# --- ownership: another user's socket, and the per-user limit -------------------------


def expect(s, fd, seq, want):
    """Register fd on helper connection s; None if the status is want, else the reason."""
    hsend(s, req(OP_REG, seq), [fd])
    return status_err(hrecv(s, 3.0), want)


def verdict(name, err):
    out("FAIL: %s: %s" % (name, err) if err else "PASS: %s" % name)
    return 1 if err else 0


def cmd_ownership(args):
    """
    As root: a TCP pair root created goes to a child that becomes USER (SO_PEERCRED
    is read at connect, so it connects as USER), which must be refused registering it
    (NOT_OWNER) while its own sockets register; with --limit N the user's N+1st socket is
    over its limit (QUOTA). One of the user's sockets comes back to root over a Unix
    socket: root may register any user's socket.
    """
    objs = Objs()
    rc, ra = tcp_pair(objs)
    back_parent, back_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        fails = 0
        try:
            back_parent.close()
            os.setgroups([])
            os.setgid(args.gid)
            os.setuid(args.uid)
            s = hconnect(args.socket)
            fails += verdict(args.name + "/others_socket_refused",
                             expect(s, rc.fileno(), 1, "SKACCEL_ERR_NOT_OWNER"))
            mine = Objs()
            c, a = tcp_pair(mine)
            err = expect(s, c.fileno(), 2, "SKACCEL_OK_WAITING_PEER") or \
                expect(s, a.fileno(), 3, "SKACCEL_OK_ACCELERATED")
            fails += verdict(args.name + "/own_socket_accepted", err)
            if args.limit:
                # c and a count already; fill up to the limit, then one more.
                extra, seq, err = [], 10, None
                for _ in range(args.limit - 2):
                    seq += 1
                    x = tcp_pair(mine)[0]
                    extra.append(x)
                    err = err or expect(s, x.fileno(), seq, "SKACCEL_OK_WAITING_PEER")
                x = tcp_pair(mine)[0]
                err = err or expect(s, x.fileno(), 99, "SKACCEL_ERR_QUOTA")
                fails += verdict(args.name + "/per_user_limit", err)
            x = tcp_pair(mine)[0]
            socket.send_fds(back_child, [b"x"], [x.fileno()])
            back_child.recv(1)  # until root has registered it
            mine.close()
        except Exception as e:  # noqa: BLE001 - any failure is this test's FAIL
            fails += verdict(args.name + "/child", "%s: %s" % (type(e).__name__, e))
        os._exit(1 if fails else 0)
    back_child.close()
    fails = 0
    try:
        back_parent.settimeout(10)
        _, fds, _, _ = socket.recv_fds(back_parent, 1, 1)
        if len(fds) != 1:
            raise OSError("the child sent no socket")
        theirs = objs.add(socket.socket(fileno=fds[0]))
        s = objs.add(hconnect(args.socket))
        fails += verdict(args.name + "/root_may_register_any",
                         expect(s, theirs.fileno(), 1, "SKACCEL_OK_WAITING_PEER"))
        back_parent.send(b"k")
    except OSError as e:
        fails += verdict(args.name + "/root_may_register_any", str(e))
    _, status = os.waitpid(pid, 0)
    objs.close()
    return 1 if fails or status else 0


# --- netns: a socket of another network namespace -----------------------------------


def cmd_give_pair(args):
    """Inside another namespace: a connected TCP pair, both ends sent over fd args.fd."""
    objs = Objs()
    c, a = tcp_pair(objs)
    back = socket.socket(fileno=args.fd)
    socket.send_fds(back, [b"x"], [c.fileno(), a.fileno()])
    back.recv(1)  # until the caller is done with them
    return 0


def cmd_netns(args):
    """
    A TCP pair created in OTHER_NETNS (by a child under ip netns exec) and handed to us,
    in our own namespace: both ends must be refused (OTHER_NETNS); a pair of our own
    namespace registers as usual on the same helper connection.
    """
    import subprocess
    objs = Objs()
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child = subprocess.Popen(["ip", "netns", "exec", args.other_netns, sys.executable,
                              os.path.abspath(__file__), "give-pair", "--fd",
                              str(theirs.fileno())], pass_fds=[theirs.fileno()])
    theirs.close()
    fails = 0
    try:
        mine.settimeout(10)
        _, fds, _, _ = socket.recv_fds(mine, 1, 2)
        if len(fds) != 2:
            raise OSError("the child in %s sent %d sockets" % (args.other_netns, len(fds)))
        for fd in fds:
            objs.add(socket.socket(fileno=fd))
        s = objs.add(hconnect(args.socket))
        err = expect(s, fds[0], 1, "SKACCEL_ERR_OTHER_NETNS") or \
            expect(s, fds[1], 2, "SKACCEL_ERR_OTHER_NETNS")
        fails += verdict(args.name + "/other_netns_refused", err)
        c, a = tcp_pair(objs)
        err = expect(s, c.fileno(), 3, "SKACCEL_OK_WAITING_PEER") or \
            expect(s, a.fileno(), 4, "SKACCEL_OK_ACCELERATED")
        fails += verdict(args.name + "/own_netns_accepted", err)
    except OSError as e:
        fails += verdict(args.name + "/other_netns_refused", str(e))
    mine.send(b"k")
    child.wait(10)
    objs.close()
    return 1 if fails else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("requests")
    p.add_argument("--socket", required=True)
    p.add_argument("--helper-pid", type=int, required=True)
    p.add_argument("--helper-log", required=True)
    p.add_argument("--prefix", default="hostile_requests")
    p.add_argument("--pending", action="store_true", help="only the cases the helper fails")
    p = sub.add_parser("leak")
    p.add_argument("--socket", required=True)
    p.add_argument("--helper-pid", type=int, required=True)
    p.add_argument("--prefix", default="hostile_requests")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--rss-tolerance-kb", type=int, default=32)
    p = sub.add_parser("hold")
    p.add_argument("--socket", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--ping", action="store_true")
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument("--ready")
    p.add_argument("--hold", type=float, default=0)
    p = sub.add_parser("probe")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--pings", type=int, default=20)
    p.add_argument("--interval-ms", type=float, default=0)
    p.add_argument("--register", action="store_true")
    p.add_argument("--max-ms", type=float, default=200)
    p = sub.add_parser("noread")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--max-ms", type=float, default=3000)
    p.add_argument("--max-replies", type=int, default=64)
    p = sub.add_parser("flood")
    p.add_argument("--socket", required=True)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--kind", choices=("ping", "register-pipe"), default="ping")
    p = sub.add_parser("linger")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--max-ms", type=float, default=1000)
    p = sub.add_parser("fdflood")
    p.add_argument("--socket", required=True)
    p.add_argument("--lingering", type=int, default=1)
    p.add_argument("--count", type=int, default=1100)
    p.add_argument("--max-seconds", type=float, default=60)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--hold", type=float, default=0)
    p = sub.add_parser("check-pairing")
    p.add_argument("--stats", required=True, help="a file with skaccel-helperd --stats --json")
    p.add_argument("--name", required=True)
    p.add_argument("--port", dest="ports", type=int, action="append", required=True)
    p.add_argument("--expect", type=int, required=True, help="registered sockets expected")
    p.add_argument("--uid", dest="uids", type=int, action="append")
    p.add_argument("--distinct-netns", action="store_true")
    p = sub.add_parser("register-many")
    p.add_argument("--socket", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--expect", required=True, help="e.g. SKACCEL_ERR_POLICY")
    p = sub.add_parser("ownership")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--uid", type=int, required=True)
    p.add_argument("--gid", type=int, required=True)
    p.add_argument("--limit", type=int, default=0, help="the user's max-per-user (>= 2)")
    p = sub.add_parser("netns")
    p.add_argument("--socket", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--other-netns", required=True)
    p = sub.add_parser("give-pair")
    p.add_argument("--fd", type=int, required=True)
    args = ap.parse_args()
    return {"requests": cmd_requests, "leak": cmd_leak, "hold": cmd_hold, "probe": cmd_probe,
            "noread": cmd_noread, "flood": cmd_flood, "linger": cmd_linger,
            "fdflood": cmd_fdflood,
            "check-pairing": cmd_check_pairing, "register-many": cmd_register_many,
            "ownership": cmd_ownership, "netns": cmd_netns,
            "give-pair": cmd_give_pair}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
