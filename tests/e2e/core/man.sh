#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The man pages (man/*.scd): every page builds with scdoc and passes two linters, and the
# options of each command's --help and of its page are the same set, so that neither can
# change without the other. Needs no privilege; a missing scdoc or mandoc is a failure,
# never a skip (make check installs them).
#
#   build/PAGE     scdoc turns man/PAGE.scd into roff
#   lint/PAGE      mandoc -T lint -W warning and groff -ww -z -man say nothing; scdoc puts
#                  .PP before every paragraph, also right after .SH/.SS and before .RS,
#                  which mandoc reports as "skipping paragraph macro: PP after SH" (SS) /
#                  "PP empty": those (harmless: the macro is skipped) are the only ones
#                  ignored
#   options/PAGE   for a page NAME.SECTION whose command $SKT_BUILD/NAME is built: every
#                  long option `NAME --help` lists (a line starting with it), and, for a
#                  command with a "Commands:" list, `NAME help COMMAND` of each, is
#                  documented in the page (a line of the page starting with *-), and every
#                  option the page documents is in one of those helps
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

MAN_DIR=${SKT_MAN_DIR:-$SKT_ROOT/man}
pages=$(cd "$MAN_DIR" && ls -- *.scd 2>/dev/null)
if [ -z "$pages" ]; then
	skt_fail man/pages "no man/*.scd in $MAN_DIR"
	skt_done
fi
missing=""
for t in scdoc mandoc groff; do command -v "$t" >/dev/null || missing="$missing $t"; done
if [ -n "$missing" ]; then
	for p in $pages; do skt_fail "man/build/${p%.scd}" "not installed:$missing (scripts/install-deps.sh build test)"; done
	skt_done
fi

# The long options of a --help text: lines that start with (-x, )--name.
help_options() {
	grep -E '^[[:space:]]+(-[[:alnum:]], )?--[[:alnum:]]' | grep -oE -- '--[[:alnum:]][[:alnum:]-]*' | sort -u
}
# The options a page documents: its lines that start with *- (scdoc's bold option terms).
page_options() {
	grep -E '^\*-' "$1" | grep -oE -- '--[[:alnum:]][[:alnum:]-]*' | sort -u
}

for p in $pages; do
	page=${p%.scd}
	roff=$SKT_TMP/$page
	if ! scdoc <"$MAN_DIR/$p" >"$roff" 2>"$roff.err"; then
		skt_fail "man/build/$page" "scdoc: $(skt_tail "$roff.err")"
		continue
	fi
	skt_pass "man/build/$page"

	lint=$( { mandoc -T lint -W warning "$roff" 2>&1 |
		grep -v 'skipping paragraph macro: PP \(empty\|after S[HS]\)'
		groff -ww -z -man "$roff" 2>&1; } | head -n 5 | tr '\n' '|')
	if [ -n "$lint" ]; then
		skt_fail "man/lint/$page" "${lint//$roff/$page}"
	else
		skt_pass "man/lint/$page"
	fi

	cmd=$SKT_BUILD/${page%.*}
	[ -x "$cmd" ] || continue
	if ! help=$("$cmd" --help 2>&1); then
		skt_fail "man/options/$page" "$cmd --help failed: $(echo "$help" | tail -n 2 | tr '\n' '|')"
		continue
	fi
	# Subcommands (skaccel status, ...): their own help lists their options.
	for sub in $(echo "$help" | awk '/^Commands:/ { f = 1; next } /^[^ ]/ { f = 0 }
			f && /^  [a-z]/ { print $1 }'); do
		help=$help$'\n'$("$cmd" help "$sub" 2>&1)
	done
	in_help=$(echo "$help" | help_options)
	in_page=$(page_options "$MAN_DIR/$p")
	undocumented=$(comm -23 <(echo "$in_help") <(echo "$in_page") | tr '\n' ' ')
	unknown=$(comm -13 <(echo "$in_help") <(echo "$in_page") | tr '\n' ' ')
	if [ -z "$in_help" ]; then
		skt_fail "man/options/$page" "no option found in ${cmd##*/} --help"
	elif [ -n "$undocumented$unknown" ]; then
		skt_fail "man/options/$page" "${undocumented:+in --help, not in man/$p: $undocumented}${unknown:+${undocumented:+; }in man/$p, not in --help: $unknown}"
	else
		skt_pass "man/options/$page"
	fi
done
skt_done
