#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The pure unit tier (`make unit`) builds and runs with a C compiler and libc alone: a
# fresh build into a temporary OUTPUT, with clang, bpftool and pkg-config (libbpf) named
# as programs that do not exist, and libbpf's headers, the skeleton and vmlinux.h shadowed
# by headers that stop the compiler (#error). Needs no privilege.
#
#   builds_without_bpf_toolchain   make unit succeeds, every test binary passes
#   covers_pure_code               the tests of text, policy, options, tuple, fdtab,
#                                  notsent and the shim client are in the tier
#   no_bpf_header_or_skeleton      no source of the tier includes a libbpf header, the
#                                  skeleton or vmlinux.h
#   no_libbpf_link                 no test binary of the tier needs libbpf.so
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

cd "$SKT_ROOT" || exit 1
out=$SKT_TMP/unit-build
log=$SKT_TMP/make-unit.log
poison=$SKT_TMP/poison
mkdir -p "$poison/bpf"
for h in bpf/bpf.h bpf/libbpf.h bpf/btf.h bpf/bpf_helpers.h skaccel.skel.h vmlinux.h; do
	echo "#error $h included by the pure unit tier" >"$poison/$h"
done
make --no-print-directory -j2 OUTPUT="$out" BPFTOOL=/nonexistent CLANG=/nonexistent \
	PKG_CONFIG=/nonexistent CFLAGS="-O2 -g -I$poison" unit >"$log" 2>&1
rc=$?
npass=$(grep -c '^PASS: unit/' "$log")
if [ $rc -ne 0 ]; then
	skt_fail unit_tier/builds_without_bpf_toolchain \
		"make unit exited $rc: $(grep -m3 -e '^FAIL' -e 'rror' "$log" | tr '\n' '|' | cut -c1-400)"
elif [ "$npass" -lt 5 ] || grep -q -e '^FAIL' -e '^SKIP' "$log"; then
	skt_fail unit_tier/builds_without_bpf_toolchain "$npass passed: $(skt_tail "$log")"
else
	skt_pass unit_tier/builds_without_bpf_toolchain
fi

missing=
for t in test_helperd_text test_helperd_policy test_helperd_options test_helperd_tuple \
	test_shim_fdtab test_shim_notsent test_shim_client; do
	grep -q "^PASS: unit/$t\$" "$log" || missing="$missing $t"
done
if [ -n "$missing" ]; then
	skt_fail unit_tier/covers_pure_code "not run by make unit:$missing"
else
	skt_pass unit_tier/covers_pure_code
fi

bad=$(grep -o '#error [^ ]* included by the pure unit tier' "$log" | sort -u | head -3)
if [ -n "$bad" ] || [ -e "$out/skaccel.skel.h" ] || [ -e "$out/vmlinux.h" ]; then
	skt_fail unit_tier/no_bpf_header_or_skeleton "$(echo $bad) $(ls "$out"/*.skel.h "$out"/vmlinux.h 2>/dev/null)"
else
	skt_pass unit_tier/no_bpf_header_or_skeleton
fi

linked=
nbin=0
for t in "$out"/tests/test_*; do
	[ -x "$t" ] || continue
	nbin=$((nbin + 1))
	readelf -d "$t" 2>/dev/null | grep -q 'NEEDED.*libbpf' && linked="$linked $(basename "$t")"
done
if [ $nbin -eq 0 ]; then
	skt_fail unit_tier/no_libbpf_link "no test binary in $out/tests"
elif [ -n "$linked" ]; then
	skt_fail unit_tier/no_libbpf_link "linked against libbpf:$linked"
else
	skt_pass unit_tier/no_libbpf_link
fi
skt_done
