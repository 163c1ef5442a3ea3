// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * When an UNPAIRED socket asks whether its peer has come (pairwait.h). One word per fd:
 * the bytes still to write before the next question, and how many questions were answered
 * "not yet". Threads writing one socket at once may lose each other's
 * counts or ask twice: the schedule is a cost bound, not a promise, and both are harmless.
 */
#include <stddef.h>
#include <stdint.h>

#include "shim/pairwait.h"
#include "shim/register.h"

#define LEFT_MASK ((1ull << 56) - 1)
#define ASKED_SHIFT 56
/* 256 KiB << 32 is past anything a connection carries: it has stopped asking by then. */
#define ASKED_MAX (SHIM_PAIRWAIT_DENSE + 32u)

static struct shim_fd_array words;

int shim_pairwait_init(void)
{
	return shim_fd_array_map(&words, sizeof(uint64_t));
}

static uint64_t *word(int fd)
{
	return shim_fd_array_at(&words, fd, sizeof(uint64_t));
}

/*
 * The bytes to write before question k + 1, after k answered "not yet": 64 KiB, then
 * 256 KiB at a time up to 4 MiB (the peer is usually promoting at that moment, and every
 * byte written meanwhile goes by TCP), then twice as many each time.
 */
static uint64_t gap(unsigned int asked)
{
	if (asked == 0)
		return SHIM_PAIRWAIT_FIRST;
	if (asked <= SHIM_PAIRWAIT_DENSE)
		return SHIM_PAIRWAIT_STEP;
	return (uint64_t)SHIM_PAIRWAIT_STEP << (asked - SHIM_PAIRWAIT_DENSE);
}

static uint64_t schedule(unsigned int asked)
{
	return (uint64_t)asked << ASKED_SHIFT | gap(asked);
}

void shim_pairwait_start(int fd)
{
	uint64_t *w = word(fd);

	if (!w)
		return;
	__atomic_store_n(w, schedule(0), __ATOMIC_RELAXED);
	shim_fd_add(fd, SHIM_FD_UNPAIRED);
}

void shim_pairwait_before(int fd, size_t len)
{
	uint64_t *w = word(fd), v;
	unsigned int asked;

	if (!w || !(shim_fd_get(fd) & SHIM_FD_UNPAIRED))
		return;
	v = __atomic_load_n(w, __ATOMIC_RELAXED);
	/* Ask before the write that reaches the mark: paired, it is redirected already. */
	if ((v & LEFT_MASK) > len)
		return;
	asked = (unsigned int)(v >> ASKED_SHIFT);
	if (shim_register_ask_paired(fd) == 0 && asked < ASKED_MAX)
		__atomic_store_n(w, schedule(asked + 1), __ATOMIC_RELAXED);
	else if (shim_fd_get(fd) & SHIM_FD_UNPAIRED)
		shim_fd_del(fd, SHIM_FD_UNPAIRED); /* asked enough: this peer is not coming */
}

void shim_pairwait_wrote(int fd, ssize_t n)
{
	uint64_t *w = word(fd), v;

	if (n <= 0 || !w || !(shim_fd_get(fd) & SHIM_FD_UNPAIRED))
		return;
	v = __atomic_load_n(w, __ATOMIC_RELAXED);
	if ((v & LEFT_MASK) == 0)
		return;
	__atomic_store_n(w, (v & LEFT_MASK) > (uint64_t)n ? v - (uint64_t)n : v & ~LEFT_MASK,
			 __ATOMIC_RELAXED);
}
