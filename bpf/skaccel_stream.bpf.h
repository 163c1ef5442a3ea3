/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Streams across CPUs: never make the writer sleep on its reader's socket lock.
 *
 * A redirect queues the message into the peer's psock under the peer's socket lock
 * (bpf_tcp_ingress() -> lock_sock()), and a reader holds that lock for the whole of its
 * copy out of that queue (tcp_bpf_recvmsg_parser() -> sk_msg_recvmsg()). lock_sock() on
 * an owned lock does not spin: the writer sleeps in __lock_sock() until release_sock()
 * wakes it, a cross-CPU wake-up each time (tens of microseconds on a VM), and the two
 * ends fall into lockstep: one message, one writer sleep, one reader sleep. Plain TCP
 * never waits there: the writer's softirq takes only the peer's spinlock and leaves a
 * segment in the peer's backlog when the reader owns the lock, which the reader
 * processes in release_sock(). So while the reader owns its lock and has (nearly)
 * caught up, this message goes by TCP (redirect -> TCP is always order-safe; the order
 * rule brings the stream back once the reader has processed it).
 *
 * Only then: a reader that is behind is the bottleneck, so the writer's sleep costs
 * nothing (it is the flow control TCP's window would apply), and sending by TCP would
 * only move TCP's receive processing onto that busy reader and hold the stream off the
 * fast path until the reader reaches the TCP bytes (a verifying 200 MiB stream went 20%
 * by TCP when every owned lock chose TCP).
 */
#ifndef SKACCEL_STREAM_BPF_H
#define SKACCEL_STREAM_BPF_H

/*
 * psk (from bpf_rdonly_cast()) is inside a lock_sock() section: a redirect into it now
 * would sleep until it ends. A racy read, as it must be: a wrong answer costs one
 * message's path, never order (the caller has applied the order rule).
 */
static __always_inline bool peer_lock_owned(const struct sock *psk)
{
	return psk->sk_lock.owned != 0;
}

/*
 * Send this message by TCP instead of sleeping on the reader's lock: the reader (psk,
 * holding rmem bytes of redirected and TCP-delivered data) is copying out of its queue
 * and is less than behind bytes from having caught up.
 */
static __always_inline bool stream_avoid_lock_wait(const struct sock *psk, __u64 rmem, __u64 behind)
{
	return rmem < behind && peer_lock_owned(psk);
}

#endif /* SKACCEL_STREAM_BPF_H */
