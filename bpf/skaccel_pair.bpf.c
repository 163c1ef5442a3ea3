// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The pairing check (common/skaccel_pair.h): run by the helper with BPF_PROG_TEST_RUN,
 * never attached. It holds both sockets while it checks, from the kernel's own state, that
 * they are the two ends of one connection, and only then links them in skaccel_peers and
 * records where each socket lives for the other's sk_msg program.
 *
 * The proof, all of it read now rather than remembered from registration:
 *  - both are still in the sockhash, established, with the namespace, addresses and ports
 *    they registered (so neither left its connection: a ghost fails here);
 *  - the two registered tuples are each other's mirror in one network namespace (or, when
 *    the helper asks with SKACCEL_PAIR_F_ANY_NETNS, in any two: then the next point is the
 *    proof, since two isolated namespaces may use identical addresses and ports);
 *  - each end's receive sequence lies between the other's oldest unacknowledged sequence
 *    number and the end of what it queued: a receiver has what its sender sent, never
 *    more, and initial sequence numbers are random, so two ends of different connections
 *    pass both directions by chance with odds of (bytes in flight / 2^32) squared.
 * A socket can still leave its connection right after this check; the sk_msg program
 * repeats the first point on every message (bpf/skaccel.bpf.c), so nothing is redirected
 * to or from it once it has.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "common/skaccel_maps.h"
#include "common/skaccel_pair.h"
#define SKACCEL_MAPS_EXTERN
#include "bpf/skaccel_maps.bpf.h"
#include "bpf/skaccel_sock.bpf.h"

/* lo <= x <= hi in sequence space (wraps at 2^32). */
static __always_inline bool seq_between(__u32 x, __u32 lo, __u32 hi)
{
	return x - lo <= hi - lo;
}

/*
 * Does the receiver hold only what the sender sent: snd_una <= rcv_nxt <= write_seq? Not
 * snd_nxt as the upper bound: on loopback the receiver processes a segment inside the
 * sender's transmit, before tcp_event_new_data_sent() advances snd_nxt, so rcv_nxt runs
 * ahead of snd_nxt for a moment (measured: 0.5% of checks on a live stream failed with
 * it). write_seq moves when bytes are queued, before any of that. Bytes may be in flight
 * while we read, so the reads go in this order, each value only growing: snd_una, then
 * rcv_nxt, then write_seq.
 */
static __always_inline bool seq_in_flight(struct tcp_sock *snd, struct tcp_sock *rcv)
{
	__u32 una, queued, got;

	una = snd->snd_una;
	asm volatile("" ::: "memory");
	got = rcv->rcv_nxt;
	asm volatile("" ::: "memory");
	queued = snd->write_seq;
	return seq_between(got, una, queued);
}

/* The verdict on one end; on success its state and its struct tcp_sock. */
static __always_inline __u32 check_end(struct bpf_sock *bsk, __u64 cookie,
				       struct skaccel_conn **conn, struct tcp_sock **tp)
{
	struct sock *sk;

	*tp = bpf_skc_to_tcp_sock(bsk);
	*conn = bpf_map_lookup_elem(&skaccel_conns, &cookie);
	if (!*tp || !*conn)
		return SKACCEL_PAIR_NO_STATE;
	sk = &(*tp)->inet_conn.icsk_inet.sk;
	if (sk->__sk_common.skc_cookie.counter != cookie)
		return SKACCEL_PAIR_NO_STATE; /* the sockhash is keyed by cookie: never */
	if (sk->__sk_common.skc_state != BPF_TCP_ESTABLISHED)
		return SKACCEL_PAIR_NOT_ESTABLISHED;
	if (!sk_is_registered(sk, &(*conn)->tuple, SK_STATES_ESTABLISHED) ||
	    !sk_in_netns(sk, &(*conn)->tuple))
		return SKACCEL_PAIR_MOVED;
	return SKACCEL_PAIR_OK;
}

static __always_inline bool is_mirror(const struct skaccel_tuple *a, const struct skaccel_tuple *b,
				      bool any_netns)
{
	const __u64 *al = (const __u64 *)a->local_addr, *ar = (const __u64 *)a->remote_addr;
	const __u64 *bl = (const __u64 *)b->local_addr, *br = (const __u64 *)b->remote_addr;

	return (any_netns || a->netns_cookie == b->netns_cookie) &&
	       a->local_port == b->remote_port && a->remote_port == b->local_port &&
	       al[0] == br[0] && al[1] == br[1] && ar[0] == bl[0] && ar[1] == bl[1];
}

/* Both ends checked and held: the pair-level proof, then the link. */
static __always_inline __u32 link(__u64 a, __u64 b, __u32 flags, struct skaccel_conn *ca,
				  struct skaccel_conn *cb, struct tcp_sock *ta, struct tcp_sock *tb)
{
	if (!is_mirror(&ca->tuple, &cb->tuple, flags & SKACCEL_PAIR_F_ANY_NETNS))
		return SKACCEL_PAIR_NOT_MIRROR;
	if (!seq_in_flight(ta, tb) || !seq_in_flight(tb, ta))
		return SKACCEL_PAIR_SEQ_MISMATCH;
	if (flags & SKACCEL_PAIR_F_CHECK_ONLY)
		return SKACCEL_PAIR_OK;
	/*
	 * Where each socket lives, for the other's backpressure and liveness checks; from
	 * the sockhash, so it is that socket's. Pointers become plain numbers in a map: the
	 * helper loads this program with CAP_PERFMON, which allows it.
	 */
	ca->sk_addr = (__u64)(unsigned long)ta;
	cb->sk_addr = (__u64)(unsigned long)tb;
	if (bpf_map_update_elem(&skaccel_peers, &a, &b, BPF_ANY))
		return SKACCEL_PAIR_LINK_FAILED;
	if (bpf_map_update_elem(&skaccel_peers, &b, &a, BPF_ANY)) {
		bpf_map_delete_elem(&skaccel_peers, &a);
		return SKACCEL_PAIR_LINK_FAILED;
	}
	return SKACCEL_PAIR_OK;
}

SEC("tc")
int skaccel_pair(struct __sk_buff *skb)
{
	struct skaccel_conn *ca, *cb;
	struct skaccel_pair_req req;
	struct tcp_sock *ta, *tb;
	struct bpf_sock *a, *b;
	__u32 verdict;

	if (bpf_skb_load_bytes(skb, SKACCEL_PAIR_REQ_OFF, &req, sizeof(req)) || !req.cookie ||
	    req.cookie == req.peer_cookie || req.pad ||
	    (req.flags & ~(SKACCEL_PAIR_F_ANY_NETNS | SKACCEL_PAIR_F_CHECK_ONLY)))
		return SKACCEL_PAIR_BAD_REQUEST;
	a = bpf_map_lookup_elem(&skaccel_socks, &req.cookie);
	if (!a)
		return SKACCEL_PAIR_GONE;
	verdict = check_end(a, req.cookie, &ca, &ta);
	if (verdict || !req.peer_cookie)
		goto release_a;
	b = bpf_map_lookup_elem(&skaccel_socks, &req.peer_cookie);
	if (!b) {
		verdict = SKACCEL_PAIR_GONE | SKACCEL_PAIR_PEER;
		goto release_a;
	}
	verdict = check_end(b, req.peer_cookie, &cb, &tb);
	if (verdict)
		verdict |= SKACCEL_PAIR_PEER;
	else
		verdict = link(req.cookie, req.peer_cookie, req.flags, ca, cb, ta, tb);
	bpf_sk_release(b);
release_a:
	bpf_sk_release(a);
	return verdict;
}
