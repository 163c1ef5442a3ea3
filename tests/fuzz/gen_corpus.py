#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Write the seed corpus of tests/fuzz/fuzz_request.c into tests/fuzz/corpus/request/.

An input is one byte of fd count (signed) followed by the message. The layout comes from
common/skaccel_proto.h (through tests/hostile/skhostile.py), so after a protocol change
run this again and commit the result; seeds of an older layout are kept as wrong sizes.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
import skhostile as h  # noqa: E402

P, req = h.P, h.req
PING, REG, PAIRED = P["SKACCEL_OP_PING"], P["SKACCEL_OP_REGISTER"], P["SKACCEL_OP_PAIRED"]


def reply(op, seq, status):
    v = dict.fromkeys(h.REP_FIELDS, 0)
    v.update(magic=P["MAGIC"], version=P["VERSION"], op=op, seq=seq, status=status)
    return h.REP.pack(*(v[f] for f in h.REP_FIELDS))


SEEDS = {
    "ping_valid": b"\x00" + req(PING),
    "register_valid_header": b"\x01" + req(REG, 7),
    "paired_valid_header": b"\x01" + req(PAIRED, 9),
    "paired_no_fd": b"\x00" + req(PAIRED),
    "register_no_fd": b"\x00" + req(REG),
    "register_2_fds": b"\x02" + req(REG),
    "register_5_fds": b"\x05" + req(REG),
    "ping_with_fd": b"\x01" + req(PING),
    "negative_nfds": b"\xff" + req(REG),
    "wrong_magic": b"\x00" + req(PING, magic=0x43414B53),
    "wrong_version": b"\x00" + req(PING, version=P["VERSION"] + 1),
    "unknown_op": b"\x00" + req(3),
    "flags_set": b"\x00" + req(PING, flags=1),
    "register_if_peer_waits": b"\x01" + req(REG, 11, flags=P["IF_PEER_WAITS"]),
    "register_unknown_flag": b"\x01" + req(REG, 12, flags=P["IF_PEER_WAITS"] << 1),
    "paired_if_peer_waits": b"\x01" + req(PAIRED, 13, flags=P["IF_PEER_WAITS"]),
    "trunc_0": b"\x00",
    "trunc_1": b"\x00" + req(PING)[:1],
    "trunc_half": b"\x00" + req(PING)[: h.REQ.size // 2],
    "trunc_minus_1": b"\x01" + req(REG)[:-1],
    "long_plus_1": b"\x00" + req(PING) + b"\x00",
    "long_64": b"\x00" + (req(PING) + b"\x00" * 64)[:64],
    "long_65": b"\x01" + (req(REG) + b"\x00" * 65)[:65],
    # check_reply() reads a reply followed by the request it answers.
    "reply_and_request": b"\x00" + reply(PING, 9, P["SKACCEL_OK_PONG"]) + req(PING, 9),
    # Version 1 at today's size (its requests grew deadline_ns without a bump): a refusal.
    "version_1_ping": b"\x00" + req(PING, version=1),
    "version_1_register": b"\x01" + req(REG, 8, version=1),
    # The version-1 layout before deadline_ns: 16 bytes, now a wrong size.
    "legacy_16_byte_ping": b"\x00" + struct.pack("=IHHII", P["MAGIC"], 1, PING, 0, 1),
}

if __name__ == "__main__":
    out = os.path.join(HERE, "corpus", "request")
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.unlink(os.path.join(out, name))
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s (request %d bytes)" % (len(SEEDS), out, h.REQ.size))
