#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The tree stays in its own .clang-format style (`make format` fixes it): every tracked C
# file and header, checked with clang-format --dry-run --Werror. Needs no privilege; a
# missing clang-format is a failure, never a skip (make check installs it).
#
#   clang_format   every file formatted; otherwise the first files that are not
# shellcheck source=tests/lib/skt.sh
. "$(dirname "$0")/../../lib/skt.sh"

cd "$SKT_ROOT" || exit 1
if ! command -v clang-format >/dev/null; then
	skt_fail format/clang_format "clang-format is not installed (scripts/install-deps.sh build test)"
	skt_done
fi
off=$(git ls-files '*.c' '*.h' 2>/dev/null | while read -r f; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -z "$(git ls-files '*.c' 2>/dev/null | head -n1)" ]; then
	skt_fail format/clang_format "no C file listed by git: not a checkout?"
elif [ -n "$off" ]; then
	skt_fail format/clang_format "not in the .clang-format style (make format): $(echo $off | cut -c1-300)"
else
	skt_pass format/clang_format
fi
skt_done
