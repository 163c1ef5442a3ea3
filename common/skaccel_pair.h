/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The pairing check, shared by its BPF program (bpf/skaccel_pair.bpf.c) and the helper
 * that runs it (helperd/pair_check.c).
 *
 * Two sockets may be paired only if the kernel says, at that moment, that they are the
 * two ends of one connection. The helper cannot ask that about a socket it no longer holds
 * (the end that waited for its peer), and an sk_msg program may look a socket up in the
 * sockhash but not release it. So the helper runs skaccel_pair, a tc program never
 * attached anywhere, with BPF_PROG_TEST_RUN: the request rides in a dummy packet, the
 * program looks both cookies up in the sockhash, holds both sockets while it checks them
 * and links them, and its return value is the verdict (docs/KERNEL-NOTES.md §8.2).
 *
 * Included from BPF code after vmlinux.h and from userspace after <linux/types.h>.
 */
#ifndef SKACCEL_PAIR_H
#define SKACCEL_PAIR_H

/* The request sits after an Ethernet header: test runs of tc programs need one. */
#define SKACCEL_PAIR_REQ_OFF 14

struct skaccel_pair_req {
	__u64 cookie;	   /* a registered socket */
	__u64 peer_cookie; /* its would-be peer; 0: only check that cookie is still itself */
	__u32 flags;	   /* SKACCEL_PAIR_F_* */
	__u32 pad;	   /* 0 */
};
_Static_assert(sizeof(struct skaccel_pair_req) == 24, "skaccel_pair_req layout");

/*
 * The two ends may live in different network namespaces (--cross-netns=on): their tuples
 * must still be each other's mirror, and the sequence numbers are then the whole proof
 * that they are one connection, since identical addresses may exist in two namespaces.
 */
#define SKACCEL_PAIR_F_ANY_NETNS 0x1u
/* Check both ends and the pair, but do not link them: one candidate among several. */
#define SKACCEL_PAIR_F_CHECK_ONLY 0x2u

/* The program's return value: a verdict, with SKACCEL_PAIR_PEER set when it is the peer's. */
enum skaccel_pair_verdict {
	SKACCEL_PAIR_OK = 0,	      /* both checked; with a peer, skaccel_peers now links them */
	SKACCEL_PAIR_BAD_REQUEST,     /* malformed request: a bug in the helper */
	SKACCEL_PAIR_GONE,	      /* not in the sockhash: closed */
	SKACCEL_PAIR_NO_STATE,	      /* no skaccel_conns entry, or not a TCP socket */
	SKACCEL_PAIR_NOT_ESTABLISHED, /* it left its connection (disconnect, RST) or is closing */
	SKACCEL_PAIR_MOVED,	      /* its live addresses or ports are not those it registered */
	SKACCEL_PAIR_NOT_MIRROR,      /* the two registered tuples are not each other's mirror */
	SKACCEL_PAIR_SEQ_MISMATCH,    /* their sequence numbers say: not one connection */
	SKACCEL_PAIR_LINK_FAILED,     /* writing skaccel_peers failed (full) */
	/*
	 * The helper's own verdict, never the program's: two candidates in other namespaces
	 * passed the check, so it proves nothing for either; none is paired.
	 */
	SKACCEL_PAIR_AMBIGUOUS,
	SKACCEL_PAIR_VERDICT_MAX,
};
#define SKACCEL_PAIR_PEER 0x100u

#endif /* SKACCEL_PAIR_H */
