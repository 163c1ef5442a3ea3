/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Waiting for the reader's socket lock without sleeping on it. A redirect enqueues into
 * the reader's psock queue under the reader's lock_sock (bpf_tcp_ingress()), which a
 * reader holds while it copies bytes out. lock_sock never spins: a sender that finds it
 * owned sleeps until release_sock() wakes it, and across CPUs that wake-up costs 50-60 us
 * on the test machine, several times the copy it waited for; writer and reader then fall
 * into lockstep (docs/KERNEL-NOTES.md §7.5). So, like a kernel mutex's optimistic spinning,
 * the sender's program first polls the lock's owned flag for a while, and the
 * redirect then usually finds the lock free.
 *
 * What bounds the wait:
 *  - time: skaccel_config.lock_wait_ns (--lock-wait, SKACCEL_DEFAULT_LOCK_WAIT_NS), then
 *    the kernel sleeps as it would have; 0 turns the wait off, the helper's default on a
 *    machine with one CPU online, since the owner cannot run meanwhile;
 *  - the sender holds its own socket's lock while its program runs, so it stops as soon as
 *    anybody sleeps on that lock (a thread of its own reading, say), and two senders
 *    waiting for each other (both ends writing at once) each mark their wait in their
 *    skaccel_conn and stop as soon as they see the other's mark.
 * It changes when a redirect happens, never whether or where: every check of the message
 * has passed before it, and none can be undone by waiting (only this sender, under its
 * own lock, adds bytes that the order rule looks at).
 */
#ifndef SKACCEL_LOCKWAIT_BPF_H
#define SKACCEL_LOCKWAIT_BPF_H

/* Polls between two reads of the clock: a poll is a few ns, the clock tens. */
#define LOCKWAIT_POLLS_PER_CLOCK 32
/* More polls than SKACCEL_MAX_LOCK_WAIT_NS can hold; the clock ends the wait first. */
#define LOCKWAIT_MAX_POLLS (1u << 20)

struct lockwait {
	struct sock *sk;		/* the reader's socket (bpf_rdonly_cast) */
	struct sock *own;		/* the sender's socket, whose lock we hold meanwhile */
	struct skaccel_conn *peer_conn; /* the reader's own entry: is it waiting for us? */
	__u64 deadline_ns;
	bool free; /* the lock was seen free */
};

/* Somebody sleeps on sk's lock: its sk_lock.wq is not empty (list_empty()). */
static __always_inline bool lock_wanted(struct sock *sk)
{
	struct list_head *head = &sk->sk_lock.wq.head;

	return *(struct list_head *volatile *)&head->next != head;
}

static int lockwait_poll(__u32 i, void *ctx)
{
	struct lockwait *w = ctx;

	if (!*(volatile int *)&w->sk->sk_lock.owned) {
		w->free = true;
		return 1;
	}
	if (*(volatile __u32 *)&w->peer_conn->lock_wait || lock_wanted(w->own))
		return 1;
	if (i % LOCKWAIT_POLLS_PER_CLOCK == LOCKWAIT_POLLS_PER_CLOCK - 1 &&
	    bpf_ktime_get_ns() > w->deadline_ns)
		return 1;
	return 0;
}

/* Returns the counter to add one to, or SKACCEL_CNT_NONE when the lock was free. */
static __always_inline enum skaccel_counter wait_for_lock(__u32 wait_ns, struct skaccel_conn *self,
							  struct skaccel_conn *peer_conn,
							  struct sock *own, struct sock *psk)
{
	struct lockwait w = { .sk = psk, .own = own, .peer_conn = peer_conn };

	if (!wait_ns || !psk->sk_lock.owned)
		return SKACCEL_CNT_NONE;
	if (peer_conn->lock_wait)
		return SKACCEL_CNT_LOCK_WAIT_GAVE_UP;
	self->lock_wait = 1;
	w.deadline_ns = bpf_ktime_get_ns() + wait_ns;
	bpf_loop(LOCKWAIT_MAX_POLLS, lockwait_poll, &w, 0);
	self->lock_wait = 0;
	return w.free ? SKACCEL_CNT_LOCK_WAITS : SKACCEL_CNT_LOCK_WAIT_GAVE_UP;
}

#endif /* SKACCEL_LOCKWAIT_BPF_H */
