#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The helper's Prometheus metrics (--metrics-listen, --metrics-textfile), scraped for real:
#   off_by_default     without the options the helper listens on nothing but its socket
#                      and writes no file
#   remote_refused     a non-loopback --metrics-listen is refused without
#                      --metrics-allow-remote (exit 2, nothing started)
#   scrape_moves       after one accelerated pair, GET /metrics shows the registrations
#                      (sockets_registered_total +2, connections_accelerated_total +1)
#                      and redirected bytes, with the exposition's content type
#   promtool           `promtool check metrics` accepts the scrape (format and naming)
#   textfile           the textfile catches up within its interval, passes promtool, and
#                      no temporary file is left next to it
#   http_errors        404 for another path, 405 for POST, 400 for garbage, each closed
#   slowloris          12 connections that never finish their request, and a garbage
#                      flood, delay neither a registration (the pair is accelerated at
#                      once) nor a scrape, and are closed by the helper within seconds
#   unix_socket        the same over a Unix socket path, created mode 0600
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

TESTS=(metrics/off_by_default metrics/remote_refused metrics/scrape_moves metrics/promtool
       metrics/textfile metrics/http_errors metrics/slowloris metrics/unix_socket)
skt_require "${TESTS[@]}"

KB=1024
verdict() { if [ -n "$2" ]; then skt_fail "$1" "$2"; else skt_pass "$1"; fi; }

# xfer NS CLIENT_ARGS...: one verified opted-in tcp_xfer exchange in NS; sets ERR.
xfer() {
	local ns=$1 tag ready spid
	shift
	tag=$(mktemp -u "$SKT_TMP/xfer-XXXXXX")
	ready=$tag.ready
	ERR=""
	skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" server 127.0.0.1 0 --ready "$ready" \
		--conns 1 >"$tag.server" 2>&1 &
	spid=$!
	skt_wait_file "$ready" || { ERR="server did not start: $(skt_tail "$tag.server")"; return 1; }
	skt_run_opted "$ns" "$SKT_SOCK" "$TPROGS/tcp_xfer" client 127.0.0.1 \
		"$(cut -d' ' -f1 "$ready")" "$@" >"$tag.client" 2>&1 ||
		ERR="client: $(skt_tail "$tag.client")"
	wait "$spid" || ERR="${ERR:+$ERR; }server: $(skt_tail "$tag.server")"
	[ -z "$ERR" ]
}

# metric FILE NAME[{LABELS}]: the value of one sample in an exposition ("" if absent).
metric() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }

# scrape URL FILE [curl args]: GET into FILE with a hard deadline; its status.
scrape() { curl -sS --max-time 5 -o "$2" "${@:3}" "$1"; }

# Listening sockets of a process, one "TYPE LOCAL" per line (ss: tcp, u_str, u_seq, ...).
listening() { ss -Hlpn 2>/dev/null | awk -v p="pid=$1," 'index($0, p) { print $1, $5 }'; }

PROMTOOL=$(command -v promtool || true)

# --- without the options -----------------------------------------------------------------
ERR=""
if ! skt_helper_start; then
	ERR="$SKT_WHY"
else
	l=$(listening "$SKT_HELPER_PID")
	if [ -z "$l" ]; then
		ERR="ss lists no listening socket of the helper at all (its own socket missing?)"
	elif printf '%s\n' "$l" | grep -qv '^u_seq '; then
		ERR="the helper listens on more than its SOCK_SEQPACKET socket: $(printf '%s' "$l" | tr '\n' ' ')"
	elif grep -q "Serving metrics\|Writing metrics" "$SKT_HLOG"; then
		ERR="the helper serves metrics: $(grep -m1 "Serving metrics\|Writing metrics" "$SKT_HLOG")"
	fi
	skt_helper_stop
	skt_helper_unpin
fi
verdict metrics/off_by_default "$ERR"

ERR=""
REFUSED_PIN=/sys/fs/bpf/skt-$SKT_RUN_ID-refused
echo "pin $REFUSED_PIN" >>"$SKT_STATE/resources" # swept if it started after all
out=$(timeout 10 "$HELPERD" --socket "$SKT_TMP/refused.sock" --pin-dir "$REFUSED_PIN" \
	--metrics-listen 0.0.0.0:0 2>&1)
rc=$?
if [ $rc -ne 2 ]; then
	ERR="exit $rc, expected 2 (usage): $(echo "$out" | head -n2 | tr '\n' '|')"
elif ! echo "$out" | grep -q -- "--metrics-allow-remote"; then
	ERR="the refusal does not name --metrics-allow-remote: $out"
elif [ -e "$SKT_TMP/refused.sock" ] || [ -e "$REFUSED_PIN" ]; then
	ERR="something was set up before the refusal"
fi
verdict metrics/remote_refused "$ERR"

# --- one helper with both outputs -----------------------------------------------------------
TEXTDIR=$SKT_TMP/textfile
mkdir -p "$TEXTDIR"
TEXTFILE=$TEXTDIR/skaccel.prom
if ! skt_helper_start --metrics-listen 127.0.0.1:0 --metrics-textfile "$TEXTFILE" \
	--metrics-interval 1; then
	for t in metrics/scrape_moves metrics/promtool metrics/textfile metrics/http_errors \
		metrics/slowloris; do
		skt_fail "$t" "$SKT_WHY"
	done
	HELPER_OK=0
else
	HELPER_OK=1
	PORT=$(grep -o 'Serving metrics on http://127\.0\.0\.1:[0-9]*' "$SKT_HLOG" | grep -o '[0-9]*$')
	URL=http://127.0.0.1:${PORT:-0}/metrics
fi

if [ "$HELPER_OK" = 1 ]; then
	ERR=""
	skt_netns_new NS || ERR="cannot create a network namespace"
	[ -n "${PORT:-}" ] || ERR="no 'Serving metrics on http://127.0.0.1:PORT' in the log: $(skt_tail "$SKT_HLOG")"
	if [ -z "$ERR" ] && ! scrape "$URL" "$SKT_TMP/before" -D "$SKT_TMP/before.hdr"; then
		ERR="first scrape failed"
	fi
	if [ -z "$ERR" ]; then
		xfer "$NS" --bytes $((4096 * KB)) --reply $((1024 * KB))
		scrape "$URL" "$SKT_TMP/after" || ERR="${ERR:+$ERR; }second scrape failed"
	fi
	if [ -z "$ERR" ]; then
		reg0=$(metric "$SKT_TMP/before" skaccel_sockets_registered_total)
		reg1=$(metric "$SKT_TMP/after" skaccel_sockets_registered_total)
		acc0=$(metric "$SKT_TMP/before" skaccel_connections_accelerated_total)
		acc1=$(metric "$SKT_TMP/after" skaccel_connections_accelerated_total)
		red0=$(metric "$SKT_TMP/before" 'skaccel_sent_bytes_total{path="redirect"}')
		red1=$(metric "$SKT_TMP/after" 'skaccel_sent_bytes_total{path="redirect"}')
		skt_info "registered $reg0 -> $reg1, accelerated $acc0 -> $acc1, redirected $red0 -> $red1"
		if [ -z "$reg1" ] || [ -z "$acc1" ] || [ -z "$red1" ]; then
			ERR="missing samples: registered '${reg1}', accelerated '${acc1}', redirect bytes '${red1}'"
		elif [ $((reg1 - reg0)) -lt 2 ]; then
			ERR="skaccel_sockets_registered_total went $reg0 -> $reg1 for one opted-in pair (expected +2)"
		elif [ $((acc1 - acc0)) -lt 1 ]; then
			ERR="skaccel_connections_accelerated_total went $acc0 -> $acc1 (expected +1)"
		elif [ "${red1%.*}" -le "${red0%.*}" ]; then
			ERR="skaccel_sent_bytes_total{path=\"redirect\"} did not move ($red0 -> $red1)"
		elif ! grep -qi '^content-type: text/plain; version=0.0.4' "$SKT_TMP/before.hdr"; then
			ERR="content type: $(grep -i '^content-type' "$SKT_TMP/before.hdr" | tr -d '\r')"
		fi
	fi
	verdict metrics/scrape_moves "$ERR"

	# promtool checks the format and, as a linter, the naming conventions.
	ERR=""
	if [ -z "$PROMTOOL" ]; then
		ERR="promtool not installed (scripts/install-deps.sh test: package prometheus)"
	elif [ ! -s "$SKT_TMP/after" ]; then
		ERR="no scrape to check"
	elif ! out=$("$PROMTOOL" check metrics <"$SKT_TMP/after" 2>&1) || [ -n "$out" ]; then
		ERR="promtool check metrics: $(echo "$out" | head -n5 | tr '\n' '|')"
	fi
	verdict metrics/promtool "$ERR"

	# The textfile: written every second here, so it has caught up within a few.
	ERR=""
	want=$(metric "$SKT_TMP/after" skaccel_sockets_registered_total)
	got=""
	for _ in $(seq 50); do
		got=$(metric "$TEXTFILE" skaccel_sockets_registered_total 2>/dev/null)
		[ -n "$got" ] && [ -n "$want" ] && [ "$got" -ge "$want" ] && break
		sleep 0.1
	done
	if [ ! -s "$TEXTFILE" ]; then
		ERR="$TEXTFILE not written"
	elif [ -z "$got" ] || [ -z "$want" ] || [ "$got" -lt "$want" ]; then
		ERR="skaccel_sockets_registered_total in the textfile is '$got' 5 s after the scrape said '$want'"
	elif [ -n "$PROMTOOL" ] && { ! out=$("$PROMTOOL" check metrics <"$TEXTFILE" 2>&1) || [ -n "$out" ]; }; then
		ERR="promtool check metrics on the textfile: $(echo "$out" | head -n3 | tr '\n' '|')"
	elif [ "$(stat -c %a "$TEXTFILE")" != 644 ]; then
		ERR="textfile mode $(stat -c %a "$TEXTFILE"), expected 644 (node_exporter runs as its own user)"
	elif [ "$(find "$TEXTDIR" -mindepth 1 | wc -l)" -ne 1 ]; then
		ERR="files besides the textfile: $(find "$TEXTDIR" -mindepth 1 -printf '%f ')"
	fi
	verdict metrics/textfile "$ERR"

	# Other paths, methods and garbage: answered with an error, not served, and closed.
	ERR=""
	code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
	[ "$code" = 404 ] || ERR="GET / answered $code, expected 404"
	code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics/x")
	[ "$code" = 404 ] || ERR="${ERR:+$ERR; }GET /metrics/x answered $code, expected 404"
	code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST -d x "$URL")
	[ "$code" = 405 ] || ERR="${ERR:+$ERR; }POST /metrics answered $code, expected 405"
	# shellcheck disable=SC2016 # $1 is the inner shell's
	reply=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1; printf "\x01\x02garbage\r\n\r\n" >&3; head -c 200 <&3' _ "$PORT" 2>&1)
	case "$reply" in
	"HTTP/1.1 400 "*) ;;
	*) ERR="${ERR:+$ERR; }garbage answered '$(printf '%s' "$reply" | head -n1 | tr -d '\r')', expected 400 and a close" ;;
	esac
	verdict metrics/http_errors "$ERR"

	# Slow and garbage clients must not hold up the helper: its one thread also serves
	# registrations. 12 connections (more than the 8 slots) each send half a request
	# and wait; a flood of binary garbage on 4 more; then a pair must be accelerated and
	# a scrape answered at once, and the half requests closed by the helper's deadline.
	ERR=""
	fds=()
	for _ in $(seq 12); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || { ERR="cannot connect"; break; }
		printf 'GET /metr' >&"$fd"
		fds+=("$fd")
	done
	floods=()
	for _ in $(seq 4); do
		# shellcheck disable=SC2016 # $1 is the inner shell's
		head -c 65536 /dev/urandom | timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1; cat >&3; cat <&3 >/dev/null' _ "$PORT" >/dev/null 2>&1 &
		floods+=($!)
	done
	acc0=$(metric "$SKT_TMP/after" skaccel_connections_accelerated_total)
	t0=$(date +%s%N)
	xfer "$NS" --bytes $((4096 * KB)) --reply $((1024 * KB)) || ERR="transfer: $ERR"
	t1=$(date +%s%N)
	scrape "$URL" "$SKT_TMP/during" || ERR="${ERR:+$ERR; }scrape during the slow clients failed"
	t2=$(date +%s%N)
	acc1=$(metric "$SKT_TMP/during" skaccel_connections_accelerated_total)
	skt_info "slowloris: transfer $(((t1 - t0) / 1000000)) ms, scrape $(((t2 - t1) / 1000000)) ms"
	if [ -z "$ERR" ] && [ $((${acc1:-0} - ${acc0:-0})) -lt 1 ]; then
		ERR="the pair was not accelerated during the slow clients ($acc0 -> $acc1; $(grep -E '^skaccel_(registrations|sockets_registered)' "$SKT_TMP/during" | grep -v ' 0$' | tr '\n' ' '))"
	elif [ -z "$ERR" ] && [ $(((t1 - t0) / 1000000)) -gt 3000 ]; then
		ERR="the transfer took $(((t1 - t0) / 1000000)) ms with slow metrics clients"
	elif [ -z "$ERR" ] && [ $(((t2 - t1) / 1000000)) -gt 2000 ]; then
		ERR="the scrape took $(((t2 - t1) / 1000000)) ms with slow metrics clients"
	fi
	# The helper's deadline (3 s, checked every second) closes what is left.
	if [ -z "$ERR" ]; then
		left=-1
		for _ in $(seq 60); do
			left=$(ss -Htn state established "( sport = :$PORT )" 2>/dev/null | wc -l)
			[ "$left" -eq 0 ] && break
			sleep 0.1
		done
		[ "$left" -eq 0 ] || ERR="$left connections to the metrics port still open 6 s later"
	fi
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	wait "${floods[@]}"
	kill -0 "$SKT_HELPER_PID" 2>/dev/null || ERR="the helper died: $(skt_tail "$SKT_HLOG")"
	verdict metrics/slowloris "$ERR"
	skt_helper_stop
	skt_helper_unpin
fi

# --- a Unix socket ---------------------------------------------------------------------
ERR=""
MSOCK=$SKT_TMP/metrics.sock
if ! skt_helper_start --metrics-listen "$MSOCK"; then
	ERR="$SKT_WHY"
elif [ ! -S "$MSOCK" ]; then
	ERR="$MSOCK is not a socket"
elif [ "$(stat -c %a "$MSOCK")" != 600 ]; then
	ERR="$MSOCK has mode $(stat -c %a "$MSOCK"), expected 600"
elif ! scrape http://localhost/metrics "$SKT_TMP/unix" --unix-socket "$MSOCK"; then
	ERR="scrape over $MSOCK failed"
elif [ -z "$(metric "$SKT_TMP/unix" skaccel_selftest_ok)" ]; then
	ERR="no skaccel_selftest_ok in: $(head -c 200 "$SKT_TMP/unix")"
elif [ -n "$PROMTOOL" ] && { ! out=$("$PROMTOOL" check metrics <"$SKT_TMP/unix" 2>&1) || [ -n "$out" ]; }; then
	ERR="promtool check metrics: $(echo "$out" | head -n3 | tr '\n' '|')"
fi
skt_helper_stop
skt_helper_unpin
verdict metrics/unix_socket "$ERR"
skt_done
