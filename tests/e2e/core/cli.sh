#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The operator's command, skaccel (cli/), against a private helper and its pin directory,
# with connections held open in a network namespace of the test's own:
#   cli/nothing_registered   a fresh helper: status says so, exit 0
#   cli/status_fast_pair     an opted-in IPv4 pair: two rows, the right pids, comm and
#                            mirrored addresses, state fast, redirected bytes both ways
#   cli/status_not_opted_in  an opted-in IPv6 client of a plain server: tcp, "peer not
#                            opted in"
#   cli/status_policy_rule   a pair refused by a policy rule: tcp, the rule and its line
#   cli/json_matches_table   status --json parses and has the table's rows
#   cli/filters              --pid, --port, --state
#   cli/not_running          no maps pinned: one line, exit 3, nothing on stdout
#   cli/nobody               run as nobody: one line saying root is needed, exit 4
#   cli/explain_opted        explain on an opted-in process: shim loaded, its helper
#                            socket, its connection on the fast path
#   cli/explain_plain        explain on a plain process: shim not loaded, and why its
#                            connection is not registered
#   cli/stats_json_keys      stats --json holds every counter's key, as --stats does;
#                            stats --watch --json prints rates
#   cli/helperd_stats_alias  skaccel-helperd --stats prints what skaccel stats prints
#   cli/usage                --help, help CMD, a bad command and option: exit 2
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

SKACCEL=$SKT_BUILD/skaccel
TESTS=(cli/nothing_registered cli/status_fast_pair cli/status_not_opted_in
       cli/status_policy_rule cli/json_matches_table cli/filters cli/not_running cli/nobody
       cli/explain_opted cli/explain_plain cli/stats_json_keys cli/helperd_stats_alias
       cli/usage)
skt_require "${TESTS[@]}"

# verdict NAME ERR: PASS if ERR is empty.
verdict() { if [ -z "$2" ]; then skt_pass "$1"; else skt_fail "$1" "$2"; fi; }

fail_all() {
	for t in "${TESTS[@]}"; do skt_fail "$t" "$1"; done
	skt_done
}

# A pair that stays connected: the server accepts one connection and they exchange three
# greetings (a connection is registered after a few reads and writes: lazy promotion, the
# default); the client then sends N bytes, the server answers N, and both hold the
# connection open. Each writes its pid to its ready file (the server once listening, the
# client once done).
cat >"$SKT_TMP/hold.py" <<'PY'
import os, socket, sys, time
mode, host, port, n, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
def fill(c, n):
    got = 0
    while got < n:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
if mode == "server":
    s = socket.socket(fam)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    open(ready, "w").write("%d\n" % os.getpid())
    c, _ = s.accept()
    for _ in range(3):
        fill(c, 1)
        c.sendall(b"g")
    fill(c, n)
    c.sendall(b"y" * n)
else:
    c = socket.create_connection((host, port))
    for _ in range(3):
        c.sendall(b"h")
        fill(c, 1)
    c.sendall(b"x" * n)
    fill(c, n)
    open(ready, "w").write("%d\n" % os.getpid())
time.sleep(300)
PY

CONF=$SKT_TMP/cli-policy.conf
printf '%s\n' "default allow" "deny ports=7403" >"$CONF"
chmod 0600 "$CONF"
skt_helper_start --config "$CONF" || fail_all "$SKT_WHY"
skt_netns_new NS || fail_all "cannot create a network namespace"
sk() { "$SKACCEL" --pin-dir "$SKT_PIN" "$@"; }

# --- nothing registered ------------------------------------------------------------------
out=$(sk status 2>&1)
rc=$?
err=""
[ "$rc" -eq 0 ] || err="exit $rc"
echo "$out" | grep -q "^No socket is registered" || err="${err:+$err; }output '$(echo "$out" | tr '\n' '|')'"
verdict cli/nothing_registered "$err"

# --- three connections -------------------------------------------------------------------
N=1000000
hold() { # hold NAME opted|plain server|client ADDR PORT
	local name=$1 how=$2
	shift 2
	if [ "$how" = opted ]; then
		skt_run_opted "$NS" "$SKT_SOCK" python3 "$SKT_TMP/hold.py" "$@" "$N" "$SKT_TMP/$name" \
			>"$SKT_TMP/$name.log" 2>&1 &
	else
		skt_run_plain "$NS" python3 "$SKT_TMP/hold.py" "$@" "$N" "$SKT_TMP/$name" \
			>"$SKT_TMP/$name.log" 2>&1 &
	fi
}
hold fast_srv opted server 127.0.0.1 7401
skt_wait_file "$SKT_TMP/fast_srv" || fail_all "server did not start: $(skt_tail "$SKT_TMP/fast_srv.log")"
hold fast_cli opted client 127.0.0.1 7401
hold plain_srv plain server ::1 7402
skt_wait_file "$SKT_TMP/plain_srv" || fail_all "server did not start: $(skt_tail "$SKT_TMP/plain_srv.log")"
hold plain_cli opted client ::1 7402
hold deny_srv opted server 127.0.0.1 7403
skt_wait_file "$SKT_TMP/deny_srv" || fail_all "server did not start: $(skt_tail "$SKT_TMP/deny_srv.log")"
hold deny_cli opted client 127.0.0.1 7403
for f in fast_cli plain_cli deny_cli; do
	skt_wait_file "$SKT_TMP/$f" 200 || fail_all "$f did not finish: $(skt_tail "$SKT_TMP/$f.log")"
done
FAST_SRV=$(cat "$SKT_TMP/fast_srv") FAST_CLI=$(cat "$SKT_TMP/fast_cli")
PLAIN_SRV=$(cat "$SKT_TMP/plain_srv") PLAIN_CLI=$(cat "$SKT_TMP/plain_cli")
DENY_SRV=$(cat "$SKT_TMP/deny_srv") DENY_CLI=$(cat "$SKT_TMP/deny_cli")

sk status >"$SKT_TMP/status.txt" 2>&1
sk status --json >"$SKT_TMP/status.json" 2>&1
skt_info "$(cat "$SKT_TMP/status.txt")"

# jq-like checks in python: check.py FILE EXPR... prints the first failing expression.
cat >"$SKT_TMP/check.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
S = d["sockets"]
def rows(**kw):
    return [s for s in S if all(s.get(k) == v for k, v in kw.items())]
for expr in sys.argv[2:]:
    try:
        ok = eval(expr)
    except Exception as e:
        ok = False
        expr = "%s (%r)" % (expr, e)
    if not ok:
        print("failed: %s; sockets: %s" % (expr, json.dumps(S)[:600]))
        sys.exit(1)
PY
check() { python3 "$SKT_TMP/check.py" "$SKT_TMP/status.json" "$@" 2>&1; }

# --- status: the accelerated pair ----------------------------------------------------------
err=$(check "len(rows(pid=$FAST_SRV)) == 1" "len(rows(pid=$FAST_CLI)) == 1" \
	"rows(pid=$FAST_SRV)[0]['local'] == '127.0.0.1:7401'" \
	"rows(pid=$FAST_CLI)[0]['remote'] == '127.0.0.1:7401'" \
	"rows(pid=$FAST_SRV)[0]['remote'] == rows(pid=$FAST_CLI)[0]['local']" \
	"all(r['state'] == 'fast' and r['comm'] == 'python3' for r in rows(pid=$FAST_SRV) + rows(pid=$FAST_CLI))" \
	"all(r['tx_redir_bytes'] >= $N and r['rx_redir_bytes'] >= $N for r in rows(pid=$FAST_SRV) + rows(pid=$FAST_CLI))")
line=$(grep -E "^ *$FAST_SRV +python3 +127\.0\.0\.1:7401 .* fast " "$SKT_TMP/status.txt")
[ -n "$err" ] || [ -n "$line" ] || err="no table row 'PID python3 127.0.0.1:7401 ... fast' for $FAST_SRV: $(tr '\n' '|' <"$SKT_TMP/status.txt")"
verdict cli/status_fast_pair "$err"

# --- status: an opted-in client of a plain server ------------------------------------------
err=$(check "len(rows(pid=$PLAIN_CLI)) == 1" "rows(pid=$PLAIN_CLI)[0]['state'] == 'tcp'" \
	"rows(pid=$PLAIN_CLI)[0]['reason'] == 'peer_not_opted_in'" \
	"rows(pid=$PLAIN_CLI)[0]['remote'] == '[::1]:7402'" "rows(pid=$PLAIN_SRV) == []")
[ -n "$err" ] || grep -qE "^ *$PLAIN_CLI .*\[::1\]:7402 +tcp .*peer not opted in" "$SKT_TMP/status.txt" ||
	err="no table row for $PLAIN_CLI saying 'peer not opted in': $(tr '\n' '|' <"$SKT_TMP/status.txt")"
verdict cli/status_not_opted_in "$err"

# --- status: refused by a policy rule --------------------------------------------------------
err=$(check "len(rows(pid=$DENY_SRV)) == 1" "len(rows(pid=$DENY_CLI)) == 1" \
	"all(r['state'] == 'tcp' and r['reason'] == 'policy' and not r['registered'] and r['rule_line'] == 2 and r['rule'] == 'deny ports=7403' for r in rows(pid=$DENY_SRV) + rows(pid=$DENY_CLI))")
[ -n "$err" ] || grep -qE "^ *$DENY_CLI .* tcp .*refused by policy: rule at line 2 \(deny ports=7403\)" "$SKT_TMP/status.txt" ||
	err="no table row for $DENY_CLI naming the rule: $(tr '\n' '|' <"$SKT_TMP/status.txt")"
verdict cli/status_policy_rule "$err"

# --- --json against the table -----------------------------------------------------------------
err=""
python3 -m json.tool "$SKT_TMP/status.json" >/dev/null 2>&1 || err="status --json does not parse: $(head -c 300 "$SKT_TMP/status.json")"
[ -n "$err" ] || err=$(python3 - "$SKT_TMP/status.json" "$SKT_TMP/status.txt" <<'PY' 2>&1
import json, sys
socks = json.load(open(sys.argv[1]))["sockets"]
lines = open(sys.argv[2]).read().splitlines()[2:]  # the summary and the heads
table = [l.split()[:5] for l in lines]
if len(table) != len(socks):
    sys.exit("%d table rows, %d in --json" % (len(table), len(socks)))
for s in socks:
    row = [str(s["pid"]), s["comm"] or "-", s["local"], s["remote"], s["state"]]
    if row not in table:
        sys.exit("--json row %s not in the table %s" % (row, table))
PY
)
verdict cli/json_matches_table "$err"

# --- filters -------------------------------------------------------------------------------------
err=""
pids() { sk status --json "$@" | python3 -c 'import json,sys; print(" ".join(sorted(str(s["pid"]) for s in json.load(sys.stdin)["sockets"])))'; }
sorted() { printf '%s\n' "$@" | sort | tr '\n' ' ' | sed 's/ $//'; }
got=$(pids --pid "$FAST_CLI")
[ "$got" = "$FAST_CLI" ] || err="--pid $FAST_CLI: $got"
got=$(pids --port 7403)
[ "$got" = "$(sorted "$DENY_SRV" "$DENY_CLI")" ] || err="${err:+$err; }--port 7403: '$got'"
got=$(pids --state fast)
[ "$got" = "$(sorted "$FAST_SRV" "$FAST_CLI")" ] || err="${err:+$err; }--state fast: '$got'"
got=$(pids --state waiting)
[ "$got" = "$PLAIN_CLI" ] || err="${err:+$err; }--state waiting: '$got'"
got=$(pids --state refused --port 7403)
[ "$got" = "$(sorted "$DENY_SRV" "$DENY_CLI")" ] || err="${err:+$err; }--state refused --port 7403: '$got'"
n=$(sk status --pid "$FAST_CLI" | grep -c "127.0.0.1:7401")
[ "$n" -eq 1 ] || err="${err:+$err; }table with --pid $FAST_CLI: $n rows"
sk status --state nonsense >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || err="${err:+$err; }--state nonsense: exit $rc, expected 2"
verdict cli/filters "$err"

# --- no helper ----------------------------------------------------------------------------------
"$SKACCEL" --pin-dir "$SKT_PIN-none" status >"$SKT_TMP/nr.out" 2>"$SKT_TMP/nr.err"
rc=$?
err=""
[ "$rc" -eq 3 ] || err="exit $rc, expected 3"
[ ! -s "$SKT_TMP/nr.out" ] || err="${err:+$err; }stdout: $(head -c 200 "$SKT_TMP/nr.out")"
[ "$(wc -l <"$SKT_TMP/nr.err")" -eq 1 ] && grep -q "is not running" "$SKT_TMP/nr.err" ||
	err="${err:+$err; }stderr: $(tr '\n' '|' <"$SKT_TMP/nr.err")"
verdict cli/not_running "$err"

# --- as nobody ----------------------------------------------------------------------------------
err=""
if ! id -u nobody >/dev/null 2>&1; then
	err="no user nobody"
else
	chmod 0711 "$SKT_TMP"
	install -m 0755 "$SKACCEL" "$SKT_TMP/skaccel-copy"
	setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
		"$SKT_TMP/skaccel-copy" --pin-dir "$SKT_PIN" status >"$SKT_TMP/nb.out" 2>"$SKT_TMP/nb.err"
	rc=$?
	[ "$rc" -eq 4 ] || err="exit $rc, expected 4"
	[ ! -s "$SKT_TMP/nb.out" ] || err="${err:+$err; }stdout: $(head -c 200 "$SKT_TMP/nb.out")"
	[ "$(wc -l <"$SKT_TMP/nb.err")" -eq 1 ] && grep -q "permission denied.*run it as root" "$SKT_TMP/nb.err" ||
		err="${err:+$err; }stderr: $(tr '\n' '|' <"$SKT_TMP/nb.err" | head -c 400)"
fi
verdict cli/nobody "$err"

# --- explain -------------------------------------------------------------------------------------
out=$(sk explain "$FAST_SRV" 2>&1)
rc=$?
skt_info "$out"
err=""
[ "$rc" -eq 0 ] || err="exit $rc"
echo "$out" | grep -q "^  shim: *loaded (.*libskaccel.so)" || err="${err:+$err; }no 'shim: loaded'"
echo "$out" | grep -qF "helper:  $SKT_SOCK (SKACCEL_SOCKET)" || err="${err:+$err; }not its helper socket"
echo "$out" | grep -qE "127\.0\.0\.1:7401 +127\.0\.0\.1:[0-9]+ +ESTABLISHED +fast path" || err="${err:+$err; }no connection on the fast path"
echo "$out" | grep -qE "127\.0\.0\.1:7401 .* LISTEN +listening" || err="${err:+$err; }no listening socket"
[ -z "$err" ] || err="$err: $(echo "$out" | tr '\n' '|')"
[ -n "$err" ] || err=$(sk explain --json "$FAST_SRV" | python3 -c 'import json, sys
d = json.load(sys.stdin)
fast = [c for c in d["connections"] if c["verdict"] == "fast_path" and c["local"] == "127.0.0.1:7401"]
if not (d["shim_loaded"] and d["other_netns"] and len(fast) == 1):
    sys.exit("explain --json: %s" % d)' 2>&1)
verdict cli/explain_opted "$err"

out=$(sk explain "$PLAIN_SRV" 2>&1)
rc=$?
err=""
[ "$rc" -eq 0 ] || err="exit $rc"
echo "$out" | grep -q "^  shim: *NOT loaded" || err="${err:+$err; }no 'shim: NOT loaded'"
echo "$out" | grep -qE "\[::1\]:7402 +\[::1\]:[0-9]+ +ESTABLISHED +not registered: the shim is not loaded" ||
	err="${err:+$err; }no 'not registered: the shim is not loaded'"
sk explain 4194000 >/dev/null 2>&1
rc=$?
[ "$rc" -eq 5 ] || err="${err:+$err; }explain of no process: exit $rc, expected 5"
[ -z "$err" ] || err="$err: $(echo "$out" | tr '\n' '|')"
verdict cli/explain_plain "$err"

# --- stats ---------------------------------------------------------------------------------------
err=$(python3 - "$SKT_ROOT/common/skaccel_maps.h" <(sk stats --json) <(skt_stats_json) <<'PY' 2>&1
import json, re, sys
keys = re.findall(r'X\(\w+, "(\w+)",', open(sys.argv[1]).read())
mine, theirs = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
missing = [k for k in keys[1:] if not isinstance(mine.get(k), int)]
if len(keys) < 10 or missing:
    sys.exit("missing counters in skaccel stats --json: %s (keys %d)" % (missing, len(keys)))
if sorted(mine) != sorted(theirs):
    sys.exit("keys differ from skaccel-helperd --stats --json: %s" % (set(mine) ^ set(theirs)))
if mine["redir_bytes"] < 2 * 1000000 or mine.get("reg_accelerated", 0) < 1:
    sys.exit("redir_bytes %d, reg_accelerated %s" % (mine["redir_bytes"], mine.get("reg_accelerated")))
PY
)
# --watch: one object per interval, every counter as a rate.
[ -n "$err" ] || err=$(timeout 2.5 "$SKACCEL" --pin-dir "$SKT_PIN" stats --watch 1 --json | python3 -c 'import json, sys
lines = sys.stdin.read().splitlines()
if not lines or not all("redir_bytes_per_s" in json.loads(l) for l in lines):
    sys.exit("stats --watch 1 --json: %r" % lines)' 2>&1)
verdict cli/stats_json_keys "$err"

# The counters do not move now (the connections are idle): the two must agree up to the
# socket table, whose ages tick.
a=$(sk stats 2>&1 | sed '/^Sockets:/q')
b=$("$HELPERD" --stats --pin-dir "$SKT_PIN" 2>&1 | sed '/^Sockets:/q')
err=""
[ -n "$a" ] && [ "$a" = "$b" ] || err="differ: '$(echo "$a" | head -5 | tr '\n' '|')' vs '$(echo "$b" | head -5 | tr '\n' '|')'"
"$HELPERD" --stats --pin-dir "$SKT_PIN-none" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 1 ] || err="${err:+$err; }--stats without maps: exit $rc, expected 1"
echo "$a" | grep -q "bytes redirected peer-to-peer" || err="${err:+$err; }no meanings: $(echo "$a" | head -3 | tr '\n' '|')"
verdict cli/helperd_stats_alias "$err"

# --- usage -----------------------------------------------------------------------------------------
err=""
"$SKACCEL" --help | grep -q "^Usage: skaccel" || err="--help"
for c in status stats explain; do
	"$SKACCEL" help "$c" | grep -q "^Usage: skaccel $c" || err="${err:+$err; }help $c"
	"$SKACCEL" "$c" --help | grep -q "^Usage: skaccel $c" || err="${err:+$err; }$c --help"
done
"$SKACCEL" frobnicate >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || err="${err:+$err; }unknown command: exit $rc"
"$SKACCEL" status --bogus >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] || err="${err:+$err; }unknown option: exit $rc"
"$SKACCEL" --help | grep -q "3  skaccel-helperd is not running" || err="${err:+$err; }exit codes not in --help"
verdict cli/usage "$err"

skt_done
