/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Running the pairing check (common/skaccel_pair.h) and naming its verdicts. */
#ifndef HELPERD_PAIR_CHECK_H
#define HELPERD_PAIR_CHECK_H

#include <linux/types.h>

#include "common/skaccel_pair.h"

/*
 * Run the pairing check program prog_fd on cookie and, unless 0, peer_cookie. On a verdict
 * of SKACCEL_PAIR_OK with a peer, the two are linked in skaccel_peers. Returns the verdict
 * (>= 0, see enum skaccel_pair_verdict and SKACCEL_PAIR_PEER), or -errno when the program
 * could not be run at all (then nothing was linked).
 */
int helperd_pair_check(int prog_fd, __u64 cookie, __u64 peer_cookie);

/* The same with SKACCEL_PAIR_F_* flags: any namespace, check only (nothing linked). */
int helperd_pair_check_flags(int prog_fd, __u64 cookie, __u64 peer_cookie, __u32 flags);

/* A verdict in words, for logs: "peer not established", "sequence numbers differ", ... */
const char *helperd_pair_verdict_str(int verdict);

#endif /* HELPERD_PAIR_CHECK_H */
