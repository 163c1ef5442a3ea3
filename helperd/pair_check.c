// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The helper's side of the pairing check: one BPF_PROG_TEST_RUN of skaccel_pair with the
 * request in a dummy frame. It needs no capability once the program is loaded, so it keeps
 * working after the helper has dropped them all (docs/KERNEL-NOTES.md §8.2).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "helperd/pair_check.h"

int helperd_pair_check(int prog_fd, __u64 cookie, __u64 peer_cookie)
{
	return helperd_pair_check_flags(prog_fd, cookie, peer_cookie, 0);
}

int helperd_pair_check_flags(int prog_fd, __u64 cookie, __u64 peer_cookie, __u32 flags)
{
	struct skaccel_pair_req req = { .cookie = cookie,
					.peer_cookie = peer_cookie,
					.flags = flags };
	unsigned char frame[SKACCEL_PAIR_REQ_OFF + sizeof(req)] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1);

	if (prog_fd < 0)
		return -EBADF;
	memcpy(frame + SKACCEL_PAIR_REQ_OFF, &req, sizeof(req));
	if (bpf_prog_test_run_opts(prog_fd, &opts) < 0)
		return -errno;
	return (int)opts.retval;
}

const char *helperd_pair_verdict_str(int verdict)
{
	static const char *const mine[SKACCEL_PAIR_VERDICT_MAX] = {
		[SKACCEL_PAIR_OK] = "paired",
		[SKACCEL_PAIR_BAD_REQUEST] = "malformed pairing request",
		[SKACCEL_PAIR_GONE] = "socket closed",
		[SKACCEL_PAIR_NO_STATE] = "socket not registered",
		[SKACCEL_PAIR_NOT_ESTABLISHED] = "socket not established",
		[SKACCEL_PAIR_MOVED] = "socket left its connection",
		[SKACCEL_PAIR_NOT_MIRROR] = "tuples are not each other's mirror",
		[SKACCEL_PAIR_SEQ_MISMATCH] = "sequence numbers are not one connection's",
		[SKACCEL_PAIR_LINK_FAILED] = "skaccel_peers is full",
		[SKACCEL_PAIR_AMBIGUOUS] =
		    "several candidates in other namespaces passed the check",
	};
	static const char *const peer[SKACCEL_PAIR_VERDICT_MAX] = {
		[SKACCEL_PAIR_GONE] = "peer closed",
		[SKACCEL_PAIR_NO_STATE] = "peer not registered",
		[SKACCEL_PAIR_NOT_ESTABLISHED] = "peer not established",
		[SKACCEL_PAIR_MOVED] = "peer left its connection",
	};
	unsigned int v = (unsigned int)verdict & ~SKACCEL_PAIR_PEER;
	const char *s;

	if (verdict < 0 || v >= SKACCEL_PAIR_VERDICT_MAX)
		return "unknown pairing verdict";
	s = (verdict & SKACCEL_PAIR_PEER) ? peer[v] : mine[v];
	return s ? s : "unknown pairing verdict";
}
