// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * When a candidate is handed to the helper. A thread already waiting in the kernel's TCP
 * receive path when its socket is inserted into the sockhash keeps waiting on the TCP queue,
 * which nothing fills any more, and may even return EOF ahead of queued bytes. So the
 * promotion and the hooked reads exclude each other through one atomic word per fd: a read
 * counts itself in and then may wait in the kernel; a promotion starts only from a word with
 * no reader counted and marks it PROMOTING, and a read that finds that mark waits, before
 * the kernel, until the promotion is over (a signal handler on the promoting thread itself
 * reads with MSG_DONTWAIT and poll(), which see the socket the same way before and after
 * the insert). Both are read-modify-writes of the same word, so they are totally ordered:
 * either the promotion saw the reader, or the reader saw the mark.
 *
 * Reads the shim does not see cannot be counted: candidates that may be read that way lose
 * their candidacy instead (dup'd, passed by SCM_RIGHTS, fork, fdopen, recvmmsg, splice).
 */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/promote.h"
#include "shim/real.h"
#include "shim/register.h"

/*
 * The word: hooked reads in progress, how often the helper said "no peer" (the level), the
 * PROMOTING mark, and what the connection carried: whether anything moved yet and which way
 * the last call moved it, the bytes moved in units of 2^level KiB (capped) and the turns (a
 * read after a write or a write after a read).
 */
#define READERS_MASK 0xffu
/*
 * Right above the readers: the add of a 256th reader, undone at once by
 * shim_promote_enter(), carries into it for an instant, which only holds promotions off.
 */
#define PROMOTING (1u << 8)
#define LEVEL_SHIFT 9
#define LEVEL_MASK 0xfu
#define MOVED (1u << 13)
#define LAST_WRITE (1u << 14)
#define KIB_SHIFT 15
#define KIB_MAX 0x1ffu /* 9 bits: 511 units, past SHIM_PROMOTE_KIB */
#define TURNS_SHIFT 24
#define TURN_ONE (1u << TURNS_SHIFT)

static struct shim_fd_array words;

/* This thread is promoting: a signal handler's read on it must not wait for itself. */
static __thread bool promoting_here __attribute__((tls_model("initial-exec")));

int shim_promote_init(void)
{
	return shim_fd_array_map(&words, sizeof(uint32_t));
}

static uint32_t *word(int fd)
{
	return shim_fd_array_at(&words, fd, sizeof(uint32_t));
}

void shim_promote_candidate(int fd, unsigned int nonblock)
{
	uint32_t *w = word(fd);

	if (!w) {
		shim_fd_clear(fd);
		return;
	}
	/*
	 * Only the count starts afresh. Readers stay counted: a thread still reading the fd's
	 * previous socket (closed under it) leaves later, and counting it meanwhile only
	 * delays a promotion. A PROMOTING mark left by such a socket is cleared by its
	 * promoter; until then the new socket's reads poll, which is always safe.
	 */
	__atomic_fetch_and(w, READERS_MASK | PROMOTING, __ATOMIC_RELAXED);
	shim_fd_set(fd, SHIM_FD_CANDIDATE | nonblock);
}

bool shim_promote_lazy(void)
{
	return shim_cfg.promote_after > 0;
}

static unsigned int kib(uint32_t v)
{
	return (v >> KIB_SHIFT) & KIB_MAX;
}

static unsigned int level(uint32_t v)
{
	return (v >> LEVEL_SHIFT) & LEVEL_MASK;
}

static bool turns_due(uint32_t v)
{
	return (v >> TURNS_SHIFT) >= shim_cfg.promote_after;
}

/*
 * Due once it has made promote_after turns, or carried (or is about to write) enough:
 * SHIM_PROMOTE_KIB units of 2^level KiB.
 */
static bool due(uint32_t v, size_t more)
{
	if (more < SHIM_PROMOTE_WRITE_MIN)
		more = 0;
	return turns_due(v) || kib(v) + (more >> (10 + level(v))) >= SHIM_PROMOTE_KIB;
}

/*
 * Due by what it read alone (no turns, no large write): a reader registered before its
 * writer would wait, and pay the sk_skb program on every segment, for a writer that may
 * never register; so it registers only if the writer waits already (SHIM_PROMOTE_NO_PEER).
 */
static bool due_by_reads(uint32_t v, size_t more)
{
	return !turns_due(v) && !(v & LAST_WRITE) && more < SHIM_PROMOTE_WRITE_MIN;
}

/*
 * The helper said "no peer": start counting afresh at the next level (twice the bytes),
 * and drop the PROMOTING mark, in one step with the readers counting in and out.
 */
static void no_peer(uint32_t *w)
{
	uint32_t v = __atomic_load_n(w, __ATOMIC_RELAXED), nv;

	do {
		unsigned int l = level(v) < SHIM_PROMOTE_NO_PEER_LEVELS ? level(v) + 1 : level(v);

		nv = v & ~(PROMOTING | KIB_MAX << KIB_SHIFT | LEVEL_MASK << LEVEL_SHIFT);
		nv |= l << LEVEL_SHIFT;
	} while (!__atomic_compare_exchange_n(w, &v, nv, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static void try(int fd, bool now, size_t more)
{
	unsigned int st = shim_fd_get(fd);
	uint32_t *w = word(fd), v;
	bool if_peer_waits, waited_for_nobody = false;

	if (!(st & SHIM_FD_CANDIDATE) || !w)
		return;
	v = __atomic_load_n(w, __ATOMIC_RELAXED);
	if (!now && !due(v, more))
		return;
	if (st & SHIM_FD_SHARED) {
		/* Another process may be reading it where we cannot count: stay on TCP. */
		shim_fd_del(fd, SHIM_FD_CANDIDATE);
		return;
	}
	if ((v & (READERS_MASK | PROMOTING)) ||
	    !__atomic_compare_exchange_n(w, &v, v | PROMOTING, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_RELAXED))
		return; /* a read may be waiting in the kernel, or another promotion runs: later */
	promoting_here = true;
	/*
	 * Still ours (the fd may have been closed and reused since the load above). Bytes may
	 * wait unread, and the application may have read part of the segment at their head:
	 * the sk_skb verdict gets that segment whole and cuts what the application has
	 * already (everything before copied_seq, up to 2 MiB, more than any segment: bpf/,
	 * trim_overlap; docs/KERNEL-NOTES.md §3.4). What must not happen, a read inside the
	 * kernel across the insert, the PROMOTING mark holds off.
	 */
	if_peer_waits = !now && due_by_reads(v, more);
	if (shim_fd_get(fd) & SHIM_FD_CANDIDATE)
		waited_for_nobody = shim_register_candidate(fd, if_peer_waits);
	promoting_here = false;
	if (waited_for_nobody)
		no_peer(w);
	else
		__atomic_fetch_and(w, ~PROMOTING, __ATOMIC_RELEASE);
}

bool shim_promote_write_matters(int fd, size_t len)
{
	const uint32_t *w = word(fd);
	uint32_t v;

	if (!w || len >= SHIM_PROMOTE_WRITE_MIN)
		return true;
	v = __atomic_load_n(w, __ATOMIC_RELAXED);
	return (v & (MOVED | LAST_WRITE)) != (MOVED | LAST_WRITE) || due(v, 0);
}

void shim_promote_try(int fd)
{
	try(fd, false, 0);
}

void shim_promote_try_write(int fd, size_t len)
{
	try(fd, false, len);
}

void shim_promote_before_unseen(int fd)
{
	try(fd, true, 0);
	/* Not promoted (a hooked read is in the kernel, or the helper said no): TCP for good. */
	if (shim_fd_get(fd) & SHIM_FD_CANDIDATE)
		shim_fd_del(fd, SHIM_FD_CANDIDATE);
}

/*
 * Wait until no promotion runs on fd: a helper round trip, bounded by the request's
 * deadline. Sleeping here, before the read, is what keeps the read out of the kernel
 * across the insert, and keeps it from taking part of a segment the verdict is about to
 * be handed whole.
 */
static void wait_promotion(uint32_t *w)
{
	struct timespec ts = { .tv_nsec = 20000 };
	int spins = 0;

	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) & PROMOTING) {
		if (++spins < 16)
			sched_yield();
		else
			nanosleep(&ts, NULL);
	}
}

bool shim_promote_enter(int fd)
{
	uint32_t *w = word(fd), old;

	if (!w)
		return false;
	for (;;) {
		old = __atomic_fetch_add(w, 1, __ATOMIC_SEQ_CST);
		if (!(old & PROMOTING) && (old & READERS_MASK) != READERS_MASK)
			return true;
		__atomic_fetch_sub(w, 1, __ATOMIC_RELAXED);
		/* (255 readers at once: no room to count one more, so never wait) */
		if (promoting_here || !(old & PROMOTING))
			return false;
		wait_promotion(w);
	}
}

/*
 * What a call that moved n bytes (a write, or a read) adds to the word v: a turn, and its
 * bytes in units of 2^level KiB, but none for a write under SHIM_PROMOTE_WRITE_MIN. At
 * level 0 every call counts at least one unit (a reader of small reads is due after a few
 * hundred); after a "no peer", bytes count to the nearest unit, so that what brings the
 * next question is bytes, however small the reads: a reader of 64 B reads would otherwise
 * ask every 256 reads, a helper round trip each.
 */
static uint32_t carried(uint32_t v, bool write, ssize_t n)
{
	bool turn = (v & MOVED) && !(v & LAST_WRITE) == write;
	unsigned int k, shift;

	/*
	 * A turn after a "no peer" starts a new phase (a server's reply to an upload of small
	 * writes): it counts afresh, from level 0, so that a large reply promotes its writer
	 * after 256 KiB as on any connection.
	 */
	if (turn && level(v))
		v &= ~(LEVEL_MASK << LEVEL_SHIFT | KIB_MAX << KIB_SHIFT);
	k = kib(v);
	shift = 10 + level(v);
	if (!write || (size_t)n >= SHIM_PROMOTE_WRITE_MIN)
		k += (unsigned int)(((size_t)n +
				     (level(v) ? 1ul << (shift - 1) : (1ul << shift) - 1)) >>
				    shift);

	if (turn && (v >> TURNS_SHIFT) < 0xffu)
		v += TURN_ONE;
	v = (v & ~(KIB_MAX << KIB_SHIFT)) | (k < KIB_MAX ? k : KIB_MAX) << KIB_SHIFT;
	return write ? v | MOVED | LAST_WRITE : (v | MOVED) & ~LAST_WRITE;
}

/* Leave (readers - 1: a read) and count what moved, never below zero nor past the caps. */
static void update(int fd, bool leave, ssize_t n)
{
	uint32_t *w = word(fd), v, nv;

	if (!w)
		return;
	v = __atomic_load_n(w, __ATOMIC_RELAXED);
	do {
		nv = v;
		if (leave && (nv & READERS_MASK))
			nv--;
		if (n > 0)
			nv = carried(nv, !leave, n);
		if (nv == v)
			return;
	} while (!__atomic_compare_exchange_n(w, &v, nv, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void shim_promote_leave(int fd, ssize_t n)
{
	update(fd, true, n);
}

void shim_promote_count(int fd, ssize_t n)
{
	if (n > 0 && shim_fd_is_candidate(fd))
		update(fd, false, n);
}
