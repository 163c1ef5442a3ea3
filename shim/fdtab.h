/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The per-fd state table: a few bits for each fd the shim has an interest in. */
#ifndef SHIM_FDTAB_H
#define SHIM_FDTAB_H

#include <stddef.h>
#include <stdint.h>

/* The fd's socket was handed to the helper and may be in the sockhash: reads need fixups. */
#define SHIM_FD_REGISTERED 0x01
/*
 * A TCP connection (or connect in progress) not yet handed to the helper: promote.c
 * classifies and registers it once it has carried enough, from inside a hooked read or
 * write.
 */
#define SHIM_FD_CANDIDATE 0x02
/* Cached O_NONBLOCK, valid only while REGISTERED or CANDIDATE is set. */
#define SHIM_FD_NONBLOCK 0x04
/* The shim set TCP_NOTSENT_LOWAT on this socket (notsent.c); the application never did. */
#define SHIM_FD_LOWAT 0x08
/*
 * The socket may also be open outside this fd table: it was inherited, received, passed
 * on by SCM_RIGHTS, or this process forked while it was open. Its close() here may not be
 * the last one, so close.c does not turn it into a reset.
 */
#define SHIM_FD_SHARED 0x10
/*
 * Handed to the helper, which never answered (timeout, or a hang-up after the send): the
 * message carrying the socket may still wait in a stalled helper's queue, holding it open
 * after the application's last close (reset.c, shim_release_held).
 */
#define SHIM_FD_HELD 0x20
/*
 * Registered while its peer was not (lazy promotion), without the unsent-bytes mark: its
 * writes ask the helper now and then whether it has been paired (pairwait.h).
 */
#define SHIM_FD_UNPAIRED 0x40
/*
 * LOWAT on a non-blocking socket, whose mark is set only while bytes it sent by TCP before
 * it was paired are still unacknowledged (notsent.c, shim_notsent_take): its writes check.
 */
#define SHIM_FD_DRAIN 0x80

/* Never map more than this many entries (1 MiB); fds above it are simply not tracked. */
#define SHIM_FDTAB_MAX (1u << 20)

extern uint8_t *shim_fdtab;
extern unsigned int shim_fdtab_len;

/*
 * The hot path of every read()/recv()/close() hook: one bounds check and one byte load.
 * 0 for untracked fds and before the table exists. The length is published after the
 * table pointer (release), so a reader that sees a length also sees the memory.
 */
static inline unsigned int shim_fd_get(int fd)
{
	if ((unsigned int)fd >= __atomic_load_n(&shim_fdtab_len, __ATOMIC_ACQUIRE))
		return 0;
	return __atomic_load_n(&shim_fdtab[fd], __ATOMIC_RELAXED);
}

/* Map the table, sized from RLIMIT_NOFILE. 0 or -errno; idempotent but not thread-safe. */
int shim_fdtab_init(void);

/*
 * A side table with one element of elem bytes per fd of the table (promote.c, pairwait.c),
 * zeroed, its pages appearing only where it is written. Mapped once, after
 * shim_fdtab_init(): 0 or -errno. The length is published after the base (release).
 */
struct shim_fd_array {
	void *base;
	unsigned int len;
};
int shim_fd_array_map(struct shim_fd_array *a, size_t elem);

/* Element fd of a, or NULL (not mapped, or fd past its end). */
static inline void *shim_fd_array_at(struct shim_fd_array *a, int fd, size_t elem)
{
	if ((unsigned int)fd >= __atomic_load_n(&a->len, __ATOMIC_ACQUIRE))
		return NULL;
	return (char *)a->base + (size_t)fd * elem;
}

/* Replace fd's state (no-op for untracked fds). */
void shim_fd_set(int fd, unsigned int flags);
void shim_fd_add(int fd, unsigned int flags);
void shim_fd_del(int fd, unsigned int flags);

/* Forget fd: it was closed or overwritten. Writes only if something was recorded. */
void shim_fd_clear(int fd);

/* Forget every fd in [first, last]: close_range(). */
void shim_fd_clear_range(unsigned int first, unsigned int last);

/* Add flags to every fd whose state has any of the bits in mask (fork: SHARED). */
void shim_fd_add_all(unsigned int mask, unsigned int flags);

/* The highest fd that was ever given state: fds above it are all 0. */
unsigned int shim_fd_high(void);

/* newfd now refers to oldfd's file (dup*, F_DUPFD): it inherits oldfd's state. */
void shim_fd_copy(int oldfd, int newfd);

#endif /* SHIM_FDTAB_H */
