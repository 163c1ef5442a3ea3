// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * skaccel's data path: an sk_msg verdict that redirects a registered sender's bytes
 * straight into its registered peer's receive queue when that cannot reorder anything,
 * and an sk_skb verdict that keeps TCP-delivered bytes in the same queue.
 *
 * Rules every path here keeps (docs/ARCHITECTURE.md, docs/KERNEL-NOTES.md §2.3, §3, §5.6):
 *  - never SK_DROP: it becomes EACCES or silent loss; anything unexpected is SK_PASS,
 *    which is the unchanged TCP send;
 *  - TCP -> redirect only once the peer's stack has processed every byte this sender
 *    sent by TCP (its rcv_nxt has reached our write_seq): the peer has then moved every
 *    earlier byte into the queue we append to;
 *  - redirect only between two sockets that are still the connection they registered
 *    (skaccel_sock.bpf.h): a socket that left it stays in the sockhash until its last
 *    close, and its owner must never read bytes of whoever reuses the ports;
 *  - redirect -> TCP is always order-safe, so every doubt falls back to TCP.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "common/skaccel_maps.h"
#include "bpf/skaccel_maps.bpf.h"
#include "bpf/skaccel_sock.bpf.h"
#include "bpf/skaccel_lockwait.bpf.h"

/* From include/net/sock.h; macros are not in vmlinux.h. */
#define SEND_SHUTDOWN 2

/* A reader holding this much is behind: about one full-sized TCP segment (64 KiB). */
#define SKACCEL_READER_BEHIND (64u << 10)

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

/* sk_skb_adjust_room() shrinks by at most this much per call. */
#define SKB_TRIM_STEP 0xfffu
/*
 * A segment in the receive queue is not bounded by 64 KiB: with BIG TCP (loopback's
 * gso_max_size raised, up to 512 KiB) one skb carries hundreds of KiB, and TCP may
 * coalesce what arrives into the previous skb (tcp_try_coalesce()). A mostly read 256 KiB
 * segment needs 64 steps (semantics/overlap_large: 17 steps left 191,817 bytes to be read
 * twice). 513 steps cut up to 2 MiB; they run only while there is overlap to cut.
 */
#define SKB_TRIM_STEPS 513
/* More than any receive window (tcp_rmem's maximum is 6 MiB, SO_RCVBUF up to 2 x 4 MiB). */
#define SKB_OVERLAP_MAX (16u << 20)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void count(enum skaccel_counter counter, __u64 n)
{
	__u32 key = counter;
	__u64 *value = bpf_map_lookup_elem(&skaccel_cnt, &key);

	if (value)
		*value += n; /* per-CPU slot: no atomics needed */
}

/* Send this message through TCP and record why; re-entry to redirect re-checks in-flight. */
static __always_inline int pass_to_tcp(struct skaccel_conn *self, enum skaccel_counter why,
				       __u32 size)
{
	count(why, 1);
	count(SKACCEL_CNT_TCP_BYTES, size);
	count(SKACCEL_CNT_TCP_MSGS, 1);
	if (self) {
		self->redirecting = 0;
		self->last_fallback = why;
		self->tx_tcp_bytes += size;
		self->tx_tcp_msgs += 1;
	}
	return SK_PASS;
}

/* Runs under the sender's socket lock for every sendmsg on a registered socket. */
SEC("sk_msg")
int skaccel_msg(struct sk_msg_md *msg)
{
	struct skaccel_conn *self, *peer_conn;
	struct skaccel_config *cfg;
	enum skaccel_counter wait;
	struct tcp_sock *tp, *ptp;
	__u32 zero = 0, size = msg->size;
	__u64 cookie, *peer, rmem, rcvbuf, limit, cap;
	struct sock *psk;

	tp = bpf_skc_to_tcp_sock(msg->sk);
	if (!tp)
		return pass_to_tcp(NULL, SKACCEL_CNT_FB_NO_TCP, size);
	cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	self = bpf_map_lookup_elem(&skaccel_conns, &cookie);

	cfg = bpf_map_lookup_elem(&skaccel_cfg, &zero);
	if (!cfg || !cfg->enabled)
		return pass_to_tcp(self, SKACCEL_CNT_FB_DISABLED, size);

	/*
	 * After shutdown(SHUT_WR) the redirect path would still accept the bytes and queue
	 * them behind the peer's EOF, where nobody can read them; TCP answers EPIPE.
	 */
	if (tp->inet_conn.icsk_inet.sk.sk_shutdown & SEND_SHUTDOWN)
		return pass_to_tcp(self, SKACCEL_CNT_FB_SHUTDOWN, size);

	peer = bpf_map_lookup_elem(&skaccel_peers, &cookie);
	if (!self || !peer)
		return pass_to_tcp(self, SKACCEL_CNT_FB_UNPAIRED, size);
	/*
	 * Ghosts. Either end may have left the connection it registered (a disconnect, an
	 * RST, a new connect() on the same fd) and still sit in the sockhash; a redirect
	 * from it, or into it, would hand bytes to whoever reuses the ports, or to the
	 * ghost's owner. Both are checked on every message, and the sticky state ends.
	 */
	if (!sk_is_registered(&tp->inet_conn.icsk_inet.sk, &self->tuple, SK_STATES_SENDING))
		return pass_to_tcp(self, SKACCEL_CNT_FB_LEFT_CONN, size);
	peer_conn = bpf_map_lookup_elem(&skaccel_conns, peer);
	if (!peer_conn)
		return pass_to_tcp(self, SKACCEL_CNT_FB_REDIR_FAILED, size);
	/* Written by the pairing check, but in a map: used only if it is the peer's. */
	ptp = tcp_sock_of(peer_conn->sk_addr, *peer);
	if (!ptp)
		return pass_to_tcp(self, SKACCEL_CNT_FB_PEER_UNSEEN, size);
	psk = &ptp->inet_conn.icsk_inet.sk;
	if (!sk_is_registered(psk, &peer_conn->tuple, SK_STATES_RECEIVING))
		return pass_to_tcp(self, SKACCEL_CNT_FB_LEFT_CONN, size);

	/*
	 * Backpressure. The redirect path charges the reader but never checks its SO_RCVBUF,
	 * so a reader that stops would let us queue without bound (KERNEL-NOTES §7.1). Past
	 * what TCP would let this writer run ahead we go back to TCP, whose window throttles
	 * the sender as TCP always does, and return once the reader is back below that and
	 * has every TCP byte.
	 */
	rmem = (__u32)psk->sk_backlog.rmem_alloc.counter; /* charged by bpf_tcp_ingress() */
	/*
	 * What TCP lets a writer run ahead of its reader: the reader's receive buffer (the
	 * window) plus the writer's send buffer; programs rely on both more and not more than
	 * that. Here the reader holds it all. The helper's budget may only lower it (it is
	 * unlimited by default), and never below the reader's receive buffer: a smaller limit
	 * would keep a stream whose reader is slower than its writer on TCP for good.
	 */
	rcvbuf = (__u32)psk->sk_rcvbuf;
	limit = rcvbuf + (__u32)tp->inet_conn.icsk_inet.sk.sk_sndbuf;
	cap = self->redirecting ? cfg->rx_budget : cfg->rx_resume;
	if (cap < limit)
		limit = cap > rcvbuf ? cap : rcvbuf;
	if (rmem >= limit)
		return pass_to_tcp(self, SKACCEL_CNT_FB_BACKLOG, size);
	/*
	 * A reader with a backlog is not waiting for this one, so latency does not matter,
	 * and for small writes TCP's coalescing beats one queued message and one wake-up per
	 * write. A reader that has (nearly) caught up gets it now: a lower mark sends streams
	 * of mixed sizes to TCP for good, because every small TCP write holds the next large
	 * one back until the peer has it.
	 */
	if (size < cfg->small_msg && rmem >= SKACCEL_READER_BEHIND)
		return pass_to_tcp(self, SKACCEL_CNT_FB_SMALL_BEHIND, size);
	/*
	 * TCP -> redirect, the one dangerous switch: a byte we sent by TCP that the peer's
	 * stack has not processed yet would be overtaken. The peer advances rcv_nxt and runs
	 * tcp_data_ready() -> its sk_skb verdict -> its psock queue in one go under its socket
	 * lock, and our redirect takes that lock to enqueue; so once rcv_nxt has reached our
	 * write_seq every TCP byte is ahead of us. (Waiting for our snd_una instead is also
	 * safe but waits for the ACK, which may be delayed 40 ms, and sends whole streams by
	 * TCP meanwhile.)
	 */
	if (!self->redirecting && ptp->rcv_nxt != tp->write_seq)
		return pass_to_tcp(self, SKACCEL_CNT_FB_INFLIGHT, size);
	/*
	 * With SO_RCVLOWAT above 1, tcp_data_ready() holds bytes back from the verdict until
	 * the mark, and redirected bytes would make the reader readable below it: TCP while
	 * the mark is set, also for a mark set after we switched (redirect -> TCP is always
	 * order-safe).
	 */
	if (psk->sk_rcvlowat > 1)
		return pass_to_tcp(self, SKACCEL_CNT_FB_RCVLOWAT, size);

	/* Every check has passed. Rather than sleep on the reader's lock, wait for it here. */
	wait = wait_for_lock(cfg->lock_wait_ns, self, peer_conn, &tp->inet_conn.icsk_inet.sk, psk);
	if (wait != SKACCEL_CNT_NONE)
		count(wait, 1);

	/* Fails (without side effects) when the peer has left the sockhash: use TCP. */
	if (bpf_msg_redirect_hash(msg, &skaccel_socks, peer, BPF_F_INGRESS) != SK_PASS)
		return pass_to_tcp(self, SKACCEL_CNT_FB_REDIR_FAILED, size);

	self->redirecting = 1;
	self->tx_redir_bytes += size;
	self->tx_redir_msgs += 1;
	count(SKACCEL_CNT_REDIR_BYTES, size);
	count(SKACCEL_CNT_REDIR_MSGS, 1);
	return SK_PASS;
}

/*
 * The bytes of skb that the psock queue has already, for trim_overlap(). The sequence
 * numbers are TCP's (tcp_skb_cb), read through the kernel's own sk_buff.
 */
static __always_inline __u32 overlap_of(struct __sk_buff *skb, struct skaccel_conn *self,
					struct tcp_sock *tp, __u32 *end)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);
	struct tcp_skb_cb *tcb =
	    bpf_rdonly_cast(kskb->cb, bpf_core_type_id_kernel(struct tcp_skb_cb));
	/* Both loads first: one instruction may not load through two kinds of pointer. */
	__u32 seq = tcb->seq, copied = tp->copied_seq, mine = self->rx_next_seq, next;

	barrier_var(copied);
	barrier_var(mine);
	*end = seq + skb->len;
	/*
	 * Before the first segment reaches this program, everything up to copied_seq went
	 * to the application through plain TCP and nothing through here.
	 */
	next = self->rx_seq_valid ? mine : copied;
	if ((__s32)(next - seq) <= 0)
		return 0;
	/*
	 * A retransmission overlaps by less than what the sender may have in flight, which
	 * the receive buffer bounds. Farther back, this is not the connection the sequence
	 * was recorded on (the socket reconnected the same ports: new initial sequence
	 * numbers), and nothing is cut.
	 */
	if (next - seq > SKB_OVERLAP_MAX)
		return 0;
	return (__s32)(next - *end) >= 0 ? skb->len : next - seq;
}

/*
 * TCP queues a segment that starts below rcv_nxt but ends above it whole (a
 * retransmission that partly overlaps what arrived already), and tcp_recvmsg() skips the
 * overlap by sequence number. tcp_read_skb(), which feeds this program, hands the whole
 * segment to the psock queue instead, so those bytes would reach the application twice
 * (seen under backpressure, where the writer goes back to TCP and retransmits). Cut them
 * off the head here. Returns the bytes left to trim (0 when done).
 */
static __always_inline __u32 trim_overlap(struct __sk_buff *skb, __u32 overlap)
{
	int i;

	for (i = 0; i < SKB_TRIM_STEPS && overlap; i++) {
		__u32 step = overlap < SKB_TRIM_STEP ? overlap : SKB_TRIM_STEP;

		if (bpf_skb_adjust_room(skb, -(__s32)step, 0, 0))
			break;
		overlap -= step;
	}
	return overlap;
}

/*
 * Attached so that TCP-delivered bytes join redirected ones in one ordered queue
 * (psock->ingress_msg); without it the reader drains redirected bytes first and FIONREAD
 * reports only them. It must pass every segment, FIN included (never SK_DROP: the kernel
 * has acknowledged these bytes). It is also where bytes TCP queued twice are cut
 * (trim_overlap()). libbpf 1.1 has no "sk_skb/verdict" section; the helper
 * attaches it as BPF_SK_SKB_VERDICT.
 */
SEC("sk_skb")
int skaccel_skb(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	struct skaccel_conn *self;
	struct tcp_sock *tp;
	__u32 overlap, end;
	__u64 cookie;

	count(SKACCEL_CNT_SKB_MSGS, 1);
	count(SKACCEL_CNT_SKB_BYTES, skb->len);
	if (!bsk)
		return SK_PASS;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (!tp)
		return SK_PASS;
	cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	self = bpf_map_lookup_elem(&skaccel_conns, &cookie);
	if (!self)
		return SK_PASS;
	/* A socket that moved to another connection: its recorded sequence means nothing. */
	if (!sk_is_registered(&tp->inet_conn.icsk_inet.sk, &self->tuple, ~0u)) {
		self->rx_seq_valid = 0;
		return SK_PASS;
	}

	overlap = overlap_of(skb, self, tp, &end);
	if (overlap) {
		count(SKACCEL_CNT_SKB_OVERLAP_BYTES, overlap);
		if (trim_overlap(skb, overlap))
			count(SKACCEL_CNT_SKB_TRIM_FAILED, 1);
	}
	if (!self->rx_seq_valid || (__s32)(end - self->rx_next_seq) > 0)
		self->rx_next_seq = end;
	self->rx_seq_valid = 1;
	return SK_PASS;
}
