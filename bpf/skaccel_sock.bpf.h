/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Is a socket still the connection it registered? A TCP socket can leave its connection
 * without being closed (connect(AF_UNSPEC), an RST, a new connect() on the same fd), and it
 * stays in the sockhash until its last close (docs/KERNEL-NOTES.md §5.6). So whatever the
 * programs pair or redirect, they first compare the socket's live state, addresses and
 * ports (and, when pairing, its network namespace) with the tuple the helper read from the kernel
 * at registration (struct skaccel_tuple: IPv4 v4-mapped, ports in host order).
 */
#ifndef SKACCEL_SOCK_BPF_H
#define SKACCEL_SOCK_BPF_H

#include <bpf/bpf_endian.h>

/* From include/linux/socket.h; macros are not in vmlinux.h. */
#define SKACCEL_AF_INET 2
#define SKACCEL_AF_INET6 10

/* Sets of TCP states (enum from include/net/tcp_states.h, mirrored as BPF_TCP_*). */
#define SK_STATE(s) (1u << (s))
/* A socket may still send to its peer: established, or its peer half-closed. */
#define SK_STATES_SENDING (SK_STATE(BPF_TCP_ESTABLISHED) | SK_STATE(BPF_TCP_CLOSE_WAIT))
/* A socket may still receive from its peer: established, or it half-closed itself. */
#define SK_STATES_RECEIVING \
	(SK_STATE(BPF_TCP_ESTABLISHED) | SK_STATE(BPF_TCP_FIN_WAIT1) | SK_STATE(BPF_TCP_FIN_WAIT2))
#define SK_STATES_ESTABLISHED SK_STATE(BPF_TCP_ESTABLISHED)

static __always_inline bool v4_is(const __u8 *want, __be32 addr)
{
	const __u32 *w = (const __u32 *)want;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff) && w[3] == addr;
}

static __always_inline bool v6_is(const __u8 *want, const struct in6_addr *addr)
{
	const __u32 *w = (const __u32 *)want;

	return w[0] == addr->in6_u.u6_addr32[0] && w[1] == addr->in6_u.u6_addr32[1] &&
	       w[2] == addr->in6_u.u6_addr32[2] && w[3] == addr->in6_u.u6_addr32[3];
}

/*
 * sk is in one of the states of the set and still has the addresses and ports of t. Not
 * the namespace: a socket never changes it, and the helper read it from the kernel at
 * registration (sk_in_netns() checks it where that is the proof). sk may come from
 * bpf_rdonly_cast(): every load through it is a checked one.
 */
static __always_inline bool sk_is_registered(const struct sock *sk, const struct skaccel_tuple *t,
					     __u32 states)
{
	const struct sock_common *c = &sk->__sk_common;
	__u32 state = c->skc_state;
	__u16 family = c->skc_family;

	if (state >= 32 || !(SK_STATE(state) & states))
		return false;
	if (c->skc_num != t->local_port || bpf_ntohs(c->skc_dport) != t->remote_port)
		return false;
	if (family == SKACCEL_AF_INET)
		return v4_is(t->local_addr, c->skc_rcv_saddr) &&
		       v4_is(t->remote_addr, c->skc_daddr);
	if (family == SKACCEL_AF_INET6)
		return v6_is(t->local_addr, &c->skc_v6_rcv_saddr) &&
		       v6_is(t->remote_addr, &c->skc_v6_daddr);
	return false;
}

/* sk lives in the network namespace t was registered in. */
static __always_inline bool sk_in_netns(const struct sock *sk, const struct skaccel_tuple *t)
{
	return sk->__sk_common.skc_net.net->net_cookie == t->netns_cookie;
}

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The struct tcp_sock at addr, but only if it is provably the socket with this cookie: the
 * address comes from a map, which whoever may write the pinned maps could change, and a
 * cookie is unique for the life of the system. NULL otherwise.
 */
static __always_inline struct tcp_sock *tcp_sock_of(__u64 addr, __u64 cookie)
{
	struct tcp_sock *tp;

	if (!addr)
		return NULL;
	tp = bpf_rdonly_cast((void *)(unsigned long)addr, bpf_core_type_id_kernel(struct tcp_sock));
	if (tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter != cookie)
		return NULL;
	return tp;
}

#endif /* SKACCEL_SOCK_BPF_H */
