#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A fresh machine without the build dependencies: every target that builds stops at once
# with ONE line naming what is missing and the command that installs it, and builds
# nothing; the targets that install their dependencies first say, when they cannot (not
# root), which command does. The machine is faked, nothing is removed: make runs with a
# PATH of links to every program of this one except the build tools (and with BPFTOOL,
# CLANG, SCDOC pointing at programs that do not exist), and into an OUTPUT of its own.
# Needs no privilege.
#
#   fresh_machine/GOAL  make GOAL (all, install, man) with none of the tools: exit status
#                       2, stderr one line "skaccel: missing gcc clang bpftool pkg-config
#                       libbpf-dev scdoc (run `make deps` as root, ...)", nothing built
#   one_tool/VAR        make with only VAR (BPFTOOL, CLANG, SCDOC) naming a missing
#                       program: the line names that one tool alone
#   no_check/GOAL       clean and format need no build tool: they do not stop
#   not_root/GOAL       demo and deb as a user other than root with packages missing
#                       (dpkg-query and id faked): the last line of install-deps.sh says
#                       which packages and the command, make stops there
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

MAKE_BIN=$(command -v make) || { skt_fail nodeps/make "make is not installed"; skt_done; }
FAKE=$SKT_TMP/bin
mkdir -p "$FAKE"
# Every program of this machine but the build tools.
for d in /usr/local/bin /usr/bin /bin /usr/sbin /sbin; do
	for f in "$d"/*; do
		n=${f##*/}
		case $n in
		clang* | bpftool | scdoc | pkg-config | pkgconf | *-pkg-config | cc | c89 | c99 | gcc* | \
			*-linux-gnu-gcc* | llvm*) continue ;;
		esac
		[ -e "$FAKE/$n" ] || ln -s "$f" "$FAKE/$n"
	done
done

# run_make NAME [make args...]: sets OUT, ERR (files) and RC.
run_make() {
	local name=$1
	shift
	OUT=$SKT_TMP/$name.out
	ERR=$SKT_TMP/$name.err
	env PATH="$FAKE" "$MAKE_BIN" --no-print-directory -C "$SKT_ROOT" OUTPUT="$SKT_TMP/out-$name" \
		"$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# expect_one_line TEST WORDS OUTPUT: the one line on stderr names exactly WORDS and
# `make deps`, and OUTPUT was not created.
expect_one_line() {
	local t=$1 want=$2 dir=$3 lines line
	lines=$(wc -l <"$ERR")
	line=$(head -n1 "$ERR")
	if [ "$RC" -eq 0 ]; then
		skt_fail "$t" "make succeeded without the build tools"
	elif [ "$lines" -ne 1 ] || [ -s "$OUT" ]; then
		skt_fail "$t" "$lines lines on stderr, $(wc -l <"$OUT") on stdout, not one: $(skt_tail "$ERR" 4)"
	elif [[ $line != *"skaccel: missing $want (run \`make deps\` as root, or scripts/install-deps.sh build)"* ]]; then
		skt_fail "$t" "not the expected line (missing $want): $line"
	elif [ -e "$dir" ]; then
		skt_fail "$t" "it built something: $dir exists"
	else
		skt_pass "$t"
	fi
}

ALL_MISSING="gcc clang bpftool pkg-config libbpf-dev scdoc"
# BPFTOOL=bpftool: the Makefile's fallback /usr/sbin/bpftool exists on this machine.
for goal in all install man; do
	run_make "fresh_machine_$goal" BPFTOOL=bpftool "$goal"
	expect_one_line "nodeps/fresh_machine/$goal" "$ALL_MISSING" "$SKT_TMP/out-fresh_machine_$goal"
done

# One tool missing on an otherwise complete machine (the real PATH).
for v in BPFTOOL:bpftool CLANG:clang SCDOC:scdoc; do
	var=${v%%:*}
	tool=${v#*:}
	OUT=$SKT_TMP/one_$tool.out
	ERR=$SKT_TMP/one_$tool.err
	"$MAKE_BIN" --no-print-directory -C "$SKT_ROOT" OUTPUT="$SKT_TMP/out-one-$tool" \
		"$var=/nonexistent/$tool" all >"$OUT" 2>"$ERR"
	RC=$?
	expect_one_line "nodeps/one_tool/$var" "$tool" "$SKT_TMP/out-one-$tool"
done

for goal in clean format; do
	t=nodeps/no_check/$goal
	run_make "no_check_$goal" "$goal"
	if grep -q "skaccel: missing" "$ERR"; then
		skt_fail "$t" "make $goal asks for build tools: $(skt_tail "$ERR")"
	else
		skt_pass "$t"
	fi
done

# Not root, with packages missing: dpkg-query says nothing is installed, id says uid 1000.
STUBS=$SKT_TMP/stubs
mkdir -p "$STUBS"
printf '#!/bin/sh\nexit 1\n' >"$STUBS/dpkg-query"
printf '#!/bin/sh\necho 1000\n' >"$STUBS/id"
chmod 0755 "$STUBS"/*
for v in demo:build deb:"build deb"; do
	goal=${v%%:*}
	sets=${v#*:}
	t=nodeps/not_root/$goal
	OUT=$SKT_TMP/nr_$goal.out
	ERR=$SKT_TMP/nr_$goal.err
	env PATH="$STUBS:$FAKE" "$MAKE_BIN" --no-print-directory -C "$SKT_ROOT" \
		OUTPUT="$SKT_TMP/out-nr-$goal" "$goal" >"$OUT" 2>"$ERR"
	RC=$?
	# make adds its own "make: *** [Makefile:N: GOAL] Error 1" after the script's line.
	line=$(grep -v '^make: \*\*\*' "$ERR")
	if [ "$RC" -eq 0 ]; then
		skt_fail "$t" "make $goal succeeded with its packages missing"
	elif [ "$(echo "$line" | wc -l)" -ne 1 ] ||
		[[ $line != "skaccel: missing "*"bpftool"*"(run as root: scripts/install-deps.sh $sets)" ]]; then
		skt_fail "$t" "not one line naming the packages and the command: $(skt_tail "$ERR" 4)"
	elif [ -e "$SKT_TMP/out-nr-$goal" ]; then
		skt_fail "$t" "it built something"
	else
		skt_pass "$t"
	fi
done
skt_done
