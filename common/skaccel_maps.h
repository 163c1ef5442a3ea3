/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Layouts of the BPF maps, shared by the BPF programs (bpf/) and the helper (helperd/).
 *
 * Included from BPF code after vmlinux.h and from userspace after <linux/types.h>; only
 * fixed-width __u types, explicit padding and _Static_asserts, so both compilers agree.
 * Every map is pinned by name under the helper's pin directory (LIBBPF_PIN_BY_NAME), so
 * a new helper reuses the maps of the one before and live connections survive restarts.
 *
 * Who writes what:
 *  - skaccel_socks   (SOCKHASH, cookie -> socket): the helper inserts; the kernel removes
 *                    an entry at the socket's last close. Never deleted from userspace:
 *                    that would purge bytes queued for the reader (KERNEL-NOTES §5.2).
 *  - skaccel_conns   (HASH, cookie -> struct skaccel_conn): created by the helper before
 *                    the socket enters the sockhash; afterwards only BPF writes it (the
 *                    helper deletes it once the socket is gone).
 *  - skaccel_peers   (HASH, cookie -> peer cookie): written by the helper when both ends
 *                    of one connection are registered and flushed. Presence = "may redirect".
 *  - skaccel_cnt     (PERCPU_ARRAY, enum skaccel_counter -> __u64): data-path counters.
 *  - skaccel_regcnt  (ARRAY, registration outcome -> __u64): the helper's counters, kept in
 *                    a map so they survive helper restarts and any tool can read them.
 *  - skaccel_cfg     (ARRAY[1], struct skaccel_config): switches the programs read.
 *  - skaccel_meta    (HASH, cookie -> struct skaccel_sockmeta): who registered a socket
 *                    and what the helper answered, for `skaccel status`; written by the
 *                    helper with skaccel_conns, deleted with it. No program reads it.
 *  - skaccel_refused (LRU_HASH, cookie -> struct skaccel_sockmeta): the same for recent
 *                    refusals (policy, quota, ...), so that status can say why a
 *                    connection stayed on TCP; the oldest go first.
 */
#ifndef SKACCEL_MAPS_H
#define SKACCEL_MAPS_H

/* Default size of the per-socket maps; the helper's --max-socks overrides it. */
#define SKACCEL_MAX_SOCKS 65536

/*
 * One end of a TCP connection as the kernel reports it (getsockname/getpeername), in the
 * network namespace given by its cookie (SO_NETNS_COOKIE). IPv4 addresses are stored
 * v4-mapped (::ffff:a.b.c.d) so that an AF_INET client and the AF_INET6 dual-stack
 * server that accepted it produce mirror-image tuples. Ports in host byte order.
 */
struct skaccel_tuple {
	__u64 netns_cookie;
	__u8 local_addr[16];
	__u8 remote_addr[16];
	__u16 local_port;
	__u16 remote_port;
	__u32 pad; /* 0: the tuple is a hash key, every byte counts */
};
_Static_assert(sizeof(struct skaccel_tuple) == 48, "skaccel_tuple layout");

/* Per registered socket. The counters are the sending direction of this socket. */
struct skaccel_conn {
	struct skaccel_tuple tuple; /* as registered, for status listings */
	__u64 registered_ns;	    /* CLOCK_MONOTONIC (bpf_ktime_get_ns) at registration */
	__u32 uid;		    /* SO_PEERCRED uid of the process that registered it */
	__u32 pid;		    /* SO_PEERCRED pid of the process that registered it */
	__u64 sk_addr; /* its struct sock, written by the pairing check (bpf/skaccel_pair.bpf.c) */
	__u32 lock_wait;      /* 1 while its sk_msg program waits for the peer's socket lock */
	__u32 reserved;	      /* 0; kept so that maps pinned by earlier builds stay compatible */
	__u64 tx_redir_bytes; /* sent through the sockhash redirect */
	__u64 tx_redir_msgs;
	__u64 tx_tcp_bytes; /* sent through TCP while registered (fallbacks) */
	__u64 tx_tcp_msgs;
	__u32 redirecting;   /* sticky: 1 once this sender switched to redirect */
	__u32 last_fallback; /* enum skaccel_counter of the last fallback reason, 0 if none */
	__u32 rx_next_seq;   /* TCP sequence after the last byte the sk_skb verdict passed */
	__u32 rx_seq_valid;  /* 1 once rx_next_seq is set */
};
_Static_assert(sizeof(struct skaccel_conn) == 128, "skaccel_conn layout");

/* Entries of skaccel_refused: the most recent refusals, whatever their number. */
#define SKACCEL_MAX_REFUSED 1024

/*
 * Who registered a socket and what became of it, for status tools (skaccel_meta,
 * skaccel_refused). Written once per registration by the helper, never on the data path.
 */
struct skaccel_sockmeta {
	struct skaccel_tuple tuple;
	__u64 time_ns; /* CLOCK_MONOTONIC of the answer */
	__u32 pid;     /* SO_PEERCRED of the client that asked */
	__u32 uid;
	__s32 status;	 /* enum skaccel_status the helper answered */
	__u32 rule_line; /* ERR_POLICY: line of the rule that refused in the policy file */
	char comm[16];	 /* /proc/PID/comm of the client, NUL-terminated */
	char rule[64];	 /* ERR_POLICY: that rule's text ("" if none matched: default deny) */
};
_Static_assert(sizeof(struct skaccel_sockmeta) == 152, "skaccel_sockmeta layout");

/*
 * Data-path counters, indexes into skaccel_cnt, defined here once: X(NAME, key, phrase,
 * fallback, metric, label) gives SKACCEL_CNT_<NAME> (in this order, from 0), its stable
 * snake_case key (JSON, --stats), a phrase for people, whether it is a fallback reason
 * (what skaccel_conn.last_fallback holds), and its Prometheus sample: the metric name
 * after "skaccel_" and a label pair ("" if none; helperd/metrics.c). Counters sharing a
 * metric are one family told apart by the label. The BPF programs use only the enum.
 */
#define SKACCEL_COUNTER_LIST(X)                                                                    \
	X(NONE, "none", "(unused)", 0, NULL, NULL)                                                 \
	X(REDIR_BYTES, "redir_bytes", "bytes redirected peer-to-peer", 0, "sent_bytes_total",      \
	  "path=\"redirect\"")                                                                     \
	X(REDIR_MSGS, "redir_msgs", "messages redirected peer-to-peer", 0, "sent_messages_total",  \
	  "path=\"redirect\"")                                                                     \
	X(TCP_BYTES, "tcp_bytes", "bytes registered sockets sent through TCP", 0,                  \
	  "sent_bytes_total", "path=\"tcp\"")                                                      \
	X(TCP_MSGS, "tcp_msgs", "messages registered sockets sent through TCP", 0,                 \
	  "sent_messages_total", "path=\"tcp\"")                                                   \
	X(FB_DISABLED, "fb_disabled", "fallbacks: acceleration disabled", 1, "fallbacks_total",    \
	  "reason=\"disabled\"")                                                                   \
	X(FB_UNPAIRED, "fb_unpaired", "fallbacks: peer not registered (yet)", 1,                   \
	  "fallbacks_total", "reason=\"unpaired\"")                                                \
	/* the peer lacks TCP bytes we sent: redirecting would reorder */                          \
	X(FB_INFLIGHT, "fb_inflight", "fallbacks: unacked TCP bytes in flight (would reorder)", 1, \
	  "fallbacks_total", "reason=\"inflight\"")                                                \
	/* SHUT_WR done, TCP reports EPIPE */                                                      \
	X(FB_SHUTDOWN, "fb_shutdown", "fallbacks: after shutdown(SHUT_WR)", 1, "fallbacks_total",  \
	  "reason=\"shutdown\"")                                                                   \
	/* the TCP window throttles instead */                                                     \
	X(FB_BACKLOG, "fb_backlog", "fallbacks: reader too far behind (budget)", 1,                \
	  "fallbacks_total", "reason=\"backlog\"")                                                 \
	X(FB_REDIR_FAILED, "fb_redir_failed", "fallbacks: peer left the sockhash", 1,              \
	  "fallbacks_total", "reason=\"redir_failed\"")                                            \
	X(FB_NO_TCP, "fb_no_tcp", "fallbacks: not a full TCP socket", 1, "fallbacks_total",        \
	  "reason=\"no_tcp\"")                                                                     \
	X(FB_PEER_UNSEEN, "fb_peer_unseen",                                                        \
	  "fallbacks: peer's struct sock not verified as its own", 1, "fallbacks_total",           \
	  "reason=\"peer_unseen\"")                                                                \
	X(FB_SMALL_BEHIND, "fb_small_behind",                                                      \
	  "fallbacks: small write to a reader behind (TCP coalesces)", 1, "fallbacks_total",       \
	  "reason=\"small_behind\"")                                                               \
	X(FB_RCVLOWAT, "fb_rcvlowat", "fallbacks: reader's SO_RCVLOWAT above 1", 1,                \
	  "fallbacks_total", "reason=\"rcvlowat\"")                                                \
	X(FB_LEFT_CONN, "fb_left_conn", "fallbacks: this socket or its peer left its connection",  \
	  1, "fallbacks_total", "reason=\"left_conn\"")                                            \
	X(SKB_MSGS, "skb_msgs", "TCP segments seen by the sk_skb verdict", 0,                      \
	  "skb_segments_total", "")                                                                \
	X(SKB_BYTES, "skb_bytes", "TCP bytes seen by the sk_skb verdict", 0, "skb_bytes_total",    \
	  "")                                                                                      \
	X(SKB_OVERLAP_BYTES, "skb_overlap_bytes",                                                  \
	  "TCP bytes queued twice, cut by the sk_skb verdict", 0, "skb_overlap_bytes_total", "")   \
	X(SKB_TRIM_FAILED, "skb_trim_failed",                                                      \
	  "segments whose twice-queued bytes could not be cut", 0,                                 \
	  "skb_trim_failed_segments_total", "")                                                    \
	/* bpf/skaccel_lockwait.bpf.h */                                                           \
	X(LOCK_WAITS, "lock_waits", "redirects that waited for the reader's socket lock", 0,       \
	  "lock_waits_total", "outcome=\"free\"")                                                  \
	X(LOCK_WAIT_GAVE_UP, "lock_wait_gave_up",                                                  \
	  "redirects that stopped waiting for it (then the sender sleeps)", 0, "lock_waits_total", \
	  "outcome=\"gave_up\"")

enum skaccel_counter {
#define SKACCEL_COUNTER_ENUM_(name, ...) SKACCEL_CNT_##name,
	SKACCEL_COUNTER_LIST(SKACCEL_COUNTER_ENUM_)
#undef SKACCEL_COUNTER_ENUM_
	    SKACCEL_CNT_MAX,
};

/*
 * Slots of skaccel_cnt: more than there are counters, so that adding one does not change
 * the pinned map's size, which would keep a new helper from reusing the pins of an older
 * one (helperd/bpf_setup.c). Slots past SKACCEL_CNT_MAX stay 0 and are never read.
 */
#define SKACCEL_CNT_SLOTS 64
_Static_assert(SKACCEL_CNT_MAX <= SKACCEL_CNT_SLOTS, "skaccel_cnt slots");

/*
 * How long a sender's program waits, at most, for its reader's socket lock to be free
 * before it lets the kernel sleep on it (bpf/skaccel_lockwait.bpf.h, docs/KERNEL-NOTES.md
 * §7.5). A reader copying out one 256 KiB read holds its lock for tens of us on the test
 * machine, and a cross-CPU wake-up after sleeping on it costs 50-60 us: waiting up to
 * about twice what sleeping would cost bounds the loss when the wait runs out, as
 * competitive spinning does. Of 40, 100 and 150 us, 100 moved the most bytes across two
 * CPUs. On a machine with one CPU online the helper's default is 0 (no wait): the lock's
 * owner cannot run while we wait. --lock-wait sets it.
 */
#define SKACCEL_DEFAULT_LOCK_WAIT_NS 100000u
/* --lock-wait at most: 1 ms, far beyond any wake-up it could save. */
#define SKACCEL_MAX_LOCK_WAIT_NS 1000000u

/* Registration outcomes, indexes into skaccel_regcnt: status + SKACCEL_REGCNT_BIAS. */
#define SKACCEL_REGCNT_BIAS 32
#define SKACCEL_REGCNT_MAX 64

struct skaccel_config {
	__u32 enabled;	    /* 0: every program returns SK_PASS untouched (kill switch) */
	__u32 small_msg;    /* below this size, TCP while the reader holds 64 KiB or more */
	__u64 rx_budget;    /* at most this much reader memory, below TCP's limit (~0: none) */
	__u64 rx_resume;    /* ... and start again only below this */
	__u32 lock_wait_ns; /* how long a sender waits for its reader's socket lock (0: never) */
	__u32 reserved[5];  /* 0; room for settings to come without resizing the pinned map */
};
_Static_assert(sizeof(struct skaccel_config) == 48, "skaccel_config layout");

/*
 * No budget of our own by default: a writer may run ahead of its reader as far as TCP
 * would let it, the reader's SO_RCVBUF plus the writer's SO_SNDBUF (bpf/). --rx-budget
 * can only lower that.
 */
#define SKACCEL_DEFAULT_RX_BUDGET (~0ull)
/*
 * The redirect path has no corking (KERNEL-NOTES §7.2): every message is queued and
 * wakes the reader on its own, so a stream of small writes is slower than TCP, which
 * merges them. --small-msg sends writes below that size by TCP while the reader is
 * behind; it is off by default because in streams of mixed sizes a small TCP write held
 * back by Nagle keeps the larger writes after it off the redirect too (measured: 100 MB
 * of random-sized writes went 0-60% by redirect with it at 4 KiB, 78-85% without).
 */
#define SKACCEL_DEFAULT_SMALL_MSG 0u
/*
 * No hysteresis by default: once the sender has fallen back to TCP, the reader's memory
 * holds TCP's own in-flight window too, so a lower resume mark would keep a stream whose
 * reader was briefly slower on TCP for good. Switching back is order-safe regardless
 * (the in-flight check guards it), so flapping costs little.
 */
#define SKACCEL_DEFAULT_RX_RESUME SKACCEL_DEFAULT_RX_BUDGET

#endif /* SKACCEL_MAPS_H */
