// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The per-fd state table: one byte per fd in an anonymous mapping, so untouched pages cost
 * nothing and the lookup in every hook is a bounds check and a load.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "shim/fdtab.h"

uint8_t *shim_fdtab;
unsigned int shim_fdtab_len;
/* Highest fd ever given state: bounds the scan of close_range(3, ~0U). */
static unsigned int fdtab_high;

int shim_fdtab_init(void)
{
	struct rlimit rl;
	rlim_t want = 1024;
	void *p;

	if (shim_fdtab)
		return 0;
	/*
	 * The hard limit, not the soft one: a program may raise its soft limit after start-up
	 * (systemd services, servers that call setrlimit). Capped at fs.nr_open's default.
	 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		want = rl.rlim_max > rl.rlim_cur ? rl.rlim_max : rl.rlim_cur;
		if (want == RLIM_INFINITY || want > SHIM_FDTAB_MAX)
			want = SHIM_FDTAB_MAX;
		if (want < 1024)
			want = 1024;
	}
	/* MAP_NORESERVE: pages appear only where an fd of interest lives. */
	p = mmap(NULL, (size_t)want, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	shim_fdtab = p;
	__atomic_store_n(&shim_fdtab_len, (unsigned int)want, __ATOMIC_RELEASE);
	return 0;
}

int shim_fd_array_map(struct shim_fd_array *a, size_t elem)
{
	size_t len = __atomic_load_n(&shim_fdtab_len, __ATOMIC_ACQUIRE);
	void *p;

	if (a->base)
		return 0;
	if (!len)
		return -EINVAL;
	/* MAP_NORESERVE: as the fd table, pages appear only where an fd of interest lives. */
	p = mmap(NULL, len * elem, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	a->base = p;
	__atomic_store_n(&a->len, (unsigned int)len, __ATOMIC_RELEASE);
	return 0;
}

static void note_high(unsigned int fd)
{
	unsigned int high = __atomic_load_n(&fdtab_high, __ATOMIC_RELAXED);

	while (fd > high && !__atomic_compare_exchange_n(&fdtab_high, &high, fd, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static bool tracked(int fd)
{
	return (unsigned int)fd < __atomic_load_n(&shim_fdtab_len, __ATOMIC_ACQUIRE);
}

void shim_fd_set(int fd, unsigned int flags)
{
	if (!tracked(fd))
		return;
	if (flags)
		note_high((unsigned int)fd);
	__atomic_store_n(&shim_fdtab[fd], (uint8_t)flags, __ATOMIC_RELAXED);
}

void shim_fd_add(int fd, unsigned int flags)
{
	if (!tracked(fd))
		return;
	note_high((unsigned int)fd);
	__atomic_fetch_or(&shim_fdtab[fd], (uint8_t)flags, __ATOMIC_RELAXED);
}

void shim_fd_del(int fd, unsigned int flags)
{
	if (!tracked(fd))
		return;
	__atomic_fetch_and(&shim_fdtab[fd], (uint8_t)~flags, __ATOMIC_RELAXED);
}

void shim_fd_clear(int fd)
{
	/* Load first: a store would fault in a page for every fd a program ever closes. */
	if (shim_fd_get(fd))
		__atomic_store_n(&shim_fdtab[fd], 0, __ATOMIC_RELAXED);
}

void shim_fd_clear_range(unsigned int first, unsigned int last)
{
	unsigned int high = __atomic_load_n(&fdtab_high, __ATOMIC_RELAXED);
	unsigned int fd;

	if (!tracked(0))
		return;
	if (last > high)
		last = high;
	for (fd = first; fd <= last; fd++)
		shim_fd_clear((int)fd);
}

void shim_fd_add_all(unsigned int mask, unsigned int flags)
{
	unsigned int fd, high = shim_fd_high();

	if (!tracked(0))
		return;
	for (fd = 0; fd <= high && tracked((int)fd); fd++)
		if (shim_fd_get((int)fd) & mask)
			__atomic_fetch_or(&shim_fdtab[fd], (uint8_t)flags, __ATOMIC_RELAXED);
}

unsigned int shim_fd_high(void)
{
	return __atomic_load_n(&fdtab_high, __ATOMIC_RELAXED);
}

void shim_fd_copy(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	/*
	 * A candidate's readers are counted per fd number (promote.c): with two numbers for
	 * one socket, a reader blocked on one could not stop a promotion through the other.
	 * Such a socket stays on TCP.
	 */
	if (shim_fd_get(oldfd) & SHIM_FD_CANDIDATE)
		shim_fd_del(oldfd, SHIM_FD_CANDIDATE);
	shim_fd_set(newfd, shim_fd_get(oldfd));
}
