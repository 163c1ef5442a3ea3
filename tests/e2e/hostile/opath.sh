#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The request cases of tests/hostile/skhostile.py marked pending:
# an O_PATH fd (SCM_RIGHTS passes it; getsockopt() on it answers EBADF, not ENOTSOCK). It
# is refused, but as "helper internal error" with a warning that blames the helper, where
# "not a socket" is due.
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile/requests)
hs_require "${TESTS[@]}"
skt_netns_new NS || { skt_fail "${TESTS[0]}" "no netns"; skt_done; }
if ! skt_helper_start; then skt_fail "${TESTS[0]}" "$SKT_WHY"; skt_done; fi

hs_verdicts "${TESTS[0]}" hs_py "$NS" requests --pending --prefix hostile \
	--socket "$SKT_SOCK" --helper-pid "$SKT_HELPER_PID" --helper-log "$SKT_HLOG"
skt_helper_stop
skt_helper_unpin
skt_done
