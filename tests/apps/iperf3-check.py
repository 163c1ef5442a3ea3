#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Check an `iperf3 -J` result for tests/e2e/apps/iperf3.sh.

    iperf3-check.py RESULT.json SLACK_BYTES

Prints the number of bytes sent (both directions with --bidir) on stdout. Exits 1 with
the reason on stderr when iperf3 reported an error, moved nothing, or its receiver got
less than its sender sent minus SLACK_BYTES (or 1%, whichever is more). iperf3's
receiver stops counting when the test ends, and what is still queued then is missing
from its count: up to the reader's receive budget, which the caller passes as SLACK.
"""
import json
import sys

slack = int(sys.argv[2]) if len(sys.argv) > 2 else 0
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON result: %s" % e, file=sys.stderr)
    sys.exit(1)
if j.get("error"):
    print("iperf3: %s" % j["error"], file=sys.stderr)
    sys.exit(1)
end = j.get("end", {})
total = 0
for s, r in (("sum_sent", "sum_received"),
             ("sum_sent_bidir_reverse", "sum_received_bidir_reverse")):
    if s not in end:
        continue
    sent, got = end[s]["bytes"], end[r]["bytes"]
    if sent == 0 or got < sent - max(sent // 100, slack):
        print("%s: %d bytes sent, %d received (%d may be missing)" %
              (s, sent, got, max(sent // 100, slack)), file=sys.stderr)
        sys.exit(1)
    total += sent
if total == 0:
    print("no sum_sent in the result", file=sys.stderr)
    sys.exit(1)
print(total)
