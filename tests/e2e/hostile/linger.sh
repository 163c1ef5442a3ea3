#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A client as unprivileged as nobody hands the helper a TCP socket
# with SO_LINGER {on, 3600 s} and megabytes of unsent data its peer never reads, on a PING
# (refused: an op that takes no fd), and closes its own copy. The helper's close() is then
# the last one, and a lingering close waits in sk_stream_wait_close() until the data is
# acknowledged or the linger time passes. The helper closes received fds on its event loop,
# so it stops serving everyone: a PING from another client must still be answered within
# 1 s. The helper hands such fds to a closer thread (helperd/closer.c).
. "$(dirname "$0")/../../lib/skt.sh"
. "$(dirname "$0")/../../lib/hostile.sh"

TESTS=(hostile/linger_close_does_not_block_helper)
hs_require "${TESTS[@]}"
skt_netns_new NS || { skt_fail "${TESTS[0]}" "no netns"; skt_done; }
if ! skt_helper_start || ! skt_stage_for_others --python; then skt_fail "${TESTS[0]}" "$SKT_WHY"; skt_done; fi

hs_verdicts "${TESTS[0]}" hs_py_nobody "$NS" linger --socket "$SKT_SOCK" --name "${TESTS[0]}" --max-ms 1000
skt_helper_stop
skt_helper_unpin
skt_done
