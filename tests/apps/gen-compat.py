#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Write docs/COMPATIBILITY.md, and its summary in README.md, from the logs of a test run.

    tests/apps/gen-compat.py [--logs DIR] [--out FILE] [--readme FILE]

The summary replaces what README.md holds between the lines "<!-- compat:begin -->" and
"<!-- compat:end -->": one row per real program and one per socket semantic.

DIR defaults to $SKT_BUILD/test-logs, else build/test-logs: where tests/run-all.sh keeps
one log per end-to-end script (e2e-NAME.log). Every "PASS:/FAIL:/SKIP:/UNSUPPORTED: name"
line there is a test result (UNSUPPORTED: a limitation README.md documents, never a pass);
tests/e2e/apps/*.sh also print "STAT: name: key=value ..." lines with the helper's
counters, from which the redirected share is taken. Nothing in the tables
is written by hand except the descriptions below and the "not covered" rows.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# What each real program test runs; the key is the second part of "apps/PROGRAM/test".
PROGRAMS = {
    "redis": "redis-server with redis-cli (`-x SET`/`GET`, sha256) and redis-benchmark (`-P 1`, `-P 16`)",
    "nginx": "nginx (master + 2 workers) serving static files, sendfile on/off, keepalive on/off, to curl (sha256) and wrk",
    "memcached": "memcached with a Python text-protocol client, memccapable, memccp/memccat (sha256) and memcaslap",
    "iperf3": "iperf3 server (dual-stack) and client: forward, reverse, parallel IPv6, sendfile, bidirectional",
    "sockperf": "sockperf server and client: ping-pong, under-load (sequence-checked), throughput",
    "python": "Python standard library: socketserver threads, asyncio streams (sha256 + echo)",
    "node": "Node.js `net` module server and client (sha256 + echo)",
    "prefork": "pre-forking server: listen, fork workers, accept in the workers",
    "fdpass": "accepting process passes each socket over a Unix socket (SCM_RIGHTS) to a worker process",
}

# Programs and cases skaccel does not accelerate, and why (not generated: no test can
# show a connection that is never offered to skaccel).
NOT_COVERED = [
    ("Statically linked programs", "`LD_PRELOAD` has no effect. `skaccel-run` says "
     "`skaccel-run: warning: PATH is statically linked: libskaccel.so cannot be preloaded into it, "
     "so it runs without acceleration` and runs it on plain TCP."),
    ("Go programs", "Go's `net` package makes its socket system calls itself, not through libc, even "
     "when built with cgo, so the shim never sees its connections. Pure-Go binaries are statically "
     "linked and get the warning above; cgo-built ones get no warning and simply stay on TCP. Go's "
     "`TCPConn.ReadFrom` also uses `splice()` (next rows)."),
    ("io_uring sockets", "`IORING_OP_CONNECT`/`IORING_OP_ACCEPT` bypass libc: those connections are never "
     "registered and stay on TCP. No warning (skaccel-run cannot know)."),
    ("Programs that `splice()` from a socket (HAProxy, nginx stream proxy with splice, Go)",
     "On this kernel `splice()` reading from a socket in the sockmap does not see redirected bytes "
     "(KERNEL-NOTES.md §6.5). Do not opt such programs in. `sendfile()`/`splice()` *into* a socket works (nginx "
     "`sendfile on`, iperf3 `-Z` above)."),
    ("setuid/setgid programs or programs with file capabilities", "The loader ignores `LD_PRELOAD`. "
     "`skaccel-run` says `skaccel-run: warning: PATH is set-user-ID: the dynamic loader ignores LD_PRELOAD for "
     "it, so it runs without acceleration` (or `is set-group-ID`, `has file capabilities`)."),
    ("A 32-bit program with the 64-bit library", "`skaccel-run: warning: PATH is a 32-bit program and "
     "libskaccel.so is 64-bit: it runs without acceleration`."),
    ("Cross-host connections", "Never touched: only connections whose peer is local are registered."),
]


def parse_logs(logdir):
    """{script: [(verdict, name, reason)]}, {name: {stat}}, [log paths]."""
    results, stats, paths = {}, {}, []
    for f in sorted(os.listdir(logdir)):
        if not (f.startswith("e2e-") and f.endswith(".log")):
            continue
        if f.startswith("e2e-san-"):
            continue  # the sanitized tier repeats tests already in the table
        path = os.path.join(logdir, f)
        paths.append(path)
        script = f[4:-4]
        results.setdefault(script, [])
        for line in open(path, errors="replace"):
            line = line.rstrip("\n")
            m = re.match(r"^EXIT: (\d+)$", line)
            if m and m.group(1) != "0" and not any(v == "FAIL" for v, _, _ in results[script]):
                # What run-all.sh reports for a killed or crashed script.
                results[script].append(("FAIL", "e2e/" + script, "script exited %s" % m.group(1)))
                continue
            m = re.match(r"^(PASS|FAIL|SKIP|UNSUPPORTED): ([^: ]+)(?:: (.*))?$", line)
            if m:
                results.setdefault(script, []).append((m.group(1), m.group(2), m.group(3) or ""))
                continue
            m = re.match(r"^STAT: ([^: ]+): (.*)$", line)
            if m:
                stats[m.group(1)] = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', m.group(2)))
    return results, stats, paths


def mark(verdict):
    return {"PASS": "pass", "FAIL": "**FAIL**", "SKIP": "skipped",
            "UNSUPPORTED": "unsupported (documented)"}[verdict]


def short_reason(reason, limit=220):
    """The part of a FAIL reason that says what differed, for a table cell."""
    m = re.search(r"phase=[^:]*: (.*)$", reason)
    if m:
        reason = m.group(1)
    reason = re.sub(r"^documented limitation \(README\.md\): ", "", reason)
    if len(reason) > limit:
        reason = reason[:limit - 3] + "..."
    return reason.replace("|", "\\|")


def fmt_bytes(n):
    n = int(n)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return "%d %s" % (n, unit) if unit == "B" else "%.1f %s" % (n, unit)
        n /= 1000.0


def apps_table(results, stats):
    out = []
    rows = [(v, n, r) for s, lst in results.items() if s.startswith("apps_") for v, n, r in lst
            if n.startswith("apps/")]
    rows += [(v, "apps/%s/(script)" % n.split("_", 1)[1], r) for s, lst in results.items()
             if s.startswith("apps_") for v, n, r in lst if n.startswith("e2e/")]
    if not rows:
        return ["No results of tests/e2e/apps/*.sh in these logs.", ""]
    order = list(PROGRAMS)
    rows.sort(key=lambda x: (order.index(x[1].split("/")[1]) if x[1].split("/")[1] in order else 99,))
    out.append("| program | test | result | redirected | by TCP | share redirected | notes |")
    out.append("|---|---|---|---:|---:|---:|---|")
    last = None
    for verdict, name, reason in rows:
        parts = name.split("/")
        prog, test = parts[1], "/".join(parts[2:])
        st = stats.get(name, {})
        red = fmt_bytes(st["redirected"]) if "redirected" in st else ""
        tcp = fmt_bytes(st["tcp"]) if "tcp" in st else ""
        share = st.get("share", "")
        notes = reason if verdict != "PASS" else ""
        for k in ("summary", "rps", "requests", "connections", "workers_serving", "cases", "ops"):
            if k in st and verdict == "PASS":
                notes = (notes + "; " if notes else "") + "%s %s" % (k, st[k].strip('"'))
        notes = notes.replace("|", "\\|")
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            prog if prog != last else "", test, mark(verdict), red, tcp, share, notes))
        last = prog
    out.append("")
    out.append("Programs:")
    out.append("")
    for p, d in PROGRAMS.items():
        out.append("- **%s**: %s." % (p, d))
    out.append("")
    return out


def semantics_table(results):
    """Tests run on plain TCP and under skaccel side by side (NAME/plain, NAME/skaccel)."""
    pairs, why = {}, {}
    for script, lst in results.items():
        if script.startswith("apps_"):
            continue
        for verdict, name, reason in lst:
            m = re.match(r"^(.*)/(plain|skaccel)$", name)
            if m:
                pairs.setdefault(m.group(1), {})[m.group(2)] = verdict
                if verdict != "PASS" and reason:
                    why.setdefault(m.group(1), []).append(
                        ("" if m.group(2) == "skaccel" else "plain TCP: ") + short_reason(reason))
    if not pairs:
        return []
    out = ["| scenario | plain TCP | skaccel | what differed |", "|---|---|---|---|"]
    for k in sorted(pairs):
        p = pairs[k]
        out.append("| %s | %s | %s | %s |" % (k, mark(p["plain"]) if "plain" in p else "",
                                              mark(p["skaccel"]) if "skaccel" in p else "",
                                              "; ".join(why.get(k, []))))
    out.append("")
    return out


def readme_summary(results):
    """One row per program (all its tests) and per semantic (its skaccel runs)."""
    rows = []
    for script in sorted(results):
        if not script.startswith("apps_"):
            continue
        verdicts = [v for v, _, _ in results[script]]
        if not verdicts:
            continue
        prog = script[len("apps_"):]
        worst = next((v for v in ("FAIL", "SKIP", "UNSUPPORTED") if v in verdicts), "PASS")
        rows.append(("program", "%s: %s" % (prog, PROGRAMS.get(prog, prog).split(":")[0]),
                     "%s (%d of %d tests)" % (mark(worst), verdicts.count("PASS"), len(verdicts))))
    sem = {}
    for script, lst in results.items():
        if script.startswith("apps_"):
            continue
        for verdict, name, _ in lst:
            m = re.match(r"^(.*)/skaccel$", name)
            if m:
                sem[m.group(1).split("/")[-1]] = verdict
    for k in sorted(sem):
        rows.append(("semantic", k, mark(sem[k])))
    if not rows:
        return []
    out = ["| kind | what | status under skaccel-run |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % r for r in rows]
    return out


def write_readme(path, summary, header):
    """Replace the marked section of README.md; False if the markers are missing."""
    text = open(path).read()
    begin, end = "<!-- compat:begin -->", "<!-- compat:end -->"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return False
    body = "\n".join([begin, header, ""] + summary + [""] + [end])
    with open(path, "w") as f:
        f.write(text[:i] + body + text[j + len(end):])
    return True


def other_table(results):
    out = []
    rows = []
    for script in sorted(results):
        if script.startswith("apps_"):
            continue
        for verdict, name, reason in results[script]:
            if re.search(r"/(plain|skaccel)$", name):
                continue
            rows.append((script, name, verdict, reason))
    if not rows:
        return out
    out += ["| script | test | result | reason |", "|---|---|---|---|"]
    for script, name, verdict, reason in rows:
        out.append("| %s | %s | %s | %s |" % (script, name, mark(verdict),
                                              reason.replace("|", "\\|") if verdict != "PASS" else ""))
    out.append("")
    return out


def main():
    ap = argparse.ArgumentParser()
    build = os.environ.get("SKT_BUILD", os.path.join(ROOT, "build"))
    ap.add_argument("--logs", default=os.path.join(build, "test-logs"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "COMPATIBILITY.md"))
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    a = ap.parse_args()
    if not os.path.isdir(a.logs):
        print("gen-compat: no logs in %s (run tests/run-all.sh first)" % a.logs, file=sys.stderr)
        return 1
    results, stats, paths = parse_logs(a.logs)
    if not paths:
        print("gen-compat: no e2e-*.log in %s" % a.logs, file=sys.stderr)
        return 1
    newest = max(os.path.getmtime(p) for p in paths)
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "?"
    n = {v: sum(1 for lst in results.values() for x in lst if x[0] == v)
         for v in ("PASS", "FAIL", "SKIP", "UNSUPPORTED")}

    out = ["# Compatibility", "",
           "<!-- Generated by tests/apps/gen-compat.py from the logs of a test run; do not edit. -->",
           "",
           "Generated by `tests/apps/gen-compat.py` from the logs of the last `make check` "
           "(`tests/run-all.sh`, logs in `build/test-logs/`), not written by hand. To refresh it: "
           "`make check && tests/apps/gen-compat.py` (or `SKT_E2E=\"apps/redis ...\" tests/run-all.sh` "
           "for a subset, then the generator).",
           "",
           "Run: logs of %s, commit %s (at generation), kernel %s, %d CPUs; %d passed, %d failed, "
           "%d skipped, %d unsupported (documented limitations)." % (
               datetime.datetime.fromtimestamp(newest).strftime("%Y-%m-%d %H:%M"),
               commit or "?", platform.release(), os.cpu_count() or 0,
               n["PASS"], n["FAIL"], n["SKIP"], n["UNSUPPORTED"]),
           "",
           "## Real programs", "",
           "Each program runs unmodified on both sides under `skaccel-run`, in a fresh network "
           "namespace, against a private helper (`tests/e2e/apps/*.sh`). A test passes when the "
           "program's results are right (checksums, counts, its own checks) *and* its bytes went by "
           "the fast path. *Redirected* and *by TCP* are what the opted-in sockets sent, from "
           "`skaccel-helperd --stats`; every byte the namespace's IP layer sent must be accounted for "
           "by the *by TCP* column. Where a test accepts a share below 90%, its script says why next "
           "to the threshold, for one of the reasons below the table.",
           ""]
    out += apps_table(results, stats)
    out += ["### Why some bytes go by TCP", "",
            "Data is always correct; these only cost speed. Each is by design of the current data "
            "path, and the scripts' thresholds say which applies where.", "",
            "- **A reader as far behind as TCP allows.** When a reader holds as much as TCP would "
            "let its writer run ahead (its `SO_RCVBUF` plus the writer's `SO_SNDBUF`), the next "
            "write goes by TCP (`fb_backlog`), whose closed window blocks the writer; the writer "
            "returns to the redirect once the reader's stack has every byte it sent by TCP "
            "(`fb_inflight`). The shim keeps a registered writer's unsent TCP bytes at one byte "
            "(`TCP_NOTSENT_LOWAT`), so that return comes as soon as the reader catches up. "
            "`tests/apps/pending/bulk_sticky_tcp.sh` measures single-write bulk transfers.",
            "- **Bytes sent before the server has accepted** go by TCP (`fb_unpaired`): the server's "
            "end is registered only when `accept()` returns. A client that writes a large request "
            "right after `connect()` to a server that accepts late may send all of it by TCP.",
            "- **Small writes to a reader that is behind** go by TCP when the helper's small-message "
            "option is set (`fb_small_behind`), and a large write right behind them follows by TCP while they are in "
            "flight (memccapable and sockperf under-load above).", ""]
    sem = semantics_table(results)
    if sem:
        out += ["## Socket semantics", "",
                "Scenarios run on plain TCP and under skaccel, comparing what the application sees "
                "(`tests/e2e/semantics/scenarios.sh`: `tests/progs/*_check`; `tests/e2e/semantics/observed.sh`: "
                "`tests/progs/semx_check/`, which also compares the two runs' observations line by "
                "line). *unsupported* is a difference README.md documents (\"What is not "
                "covered\"); it is never counted as a pass.", ""] + sem
    oth = other_table(results)
    if oth:
        out += ["## Other end-to-end tests", ""] + oth
    out += ["## Not covered", "",
            "These are not accelerated; their connections stay on plain TCP and work as before. "
            "(Static text in the generator: no test can show a connection skaccel never sees.)", "",
            "| what | why |", "|---|---|"]
    out += ["| %s | %s |" % (w, y) for w, y in NOT_COVERED]
    out.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(out))
    header = ("<!-- Generated by tests/apps/gen-compat.py; do not edit. -->\n"
              "From the end-to-end tests of the run of %s (commit %s): %d passed, %d failed, %d "
              "unsupported. The "
              "details, with bytes redirected per program and what differed per semantic, are in "
              "[docs/COMPATIBILITY.md](docs/COMPATIBILITY.md)." % (
                  datetime.datetime.fromtimestamp(newest).strftime("%Y-%m-%d"), commit or "?",
                  n["PASS"], n["FAIL"], n["UNSUPPORTED"]))
    if not write_readme(a.readme, readme_summary(results), header):
        print("gen-compat: no compat markers in %s, left it alone" % a.readme, file=sys.stderr)
    print("gen-compat: wrote %s from %d logs (%d passed, %d failed, %d skipped, %d unsupported)" % (
        a.out, len(paths), n["PASS"], n["FAIL"], n["SKIP"], n["UNSUPPORTED"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
