// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests of the shim's per-fd state table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "shim/fdtab.h"
#include "tests/unit/skt_assert.h"

int main(void)
{
	const unsigned int R = SHIM_FD_REGISTERED, P = SHIM_FD_CANDIDATE, N = SHIM_FD_NONBLOCK;
	struct rlimit rl;
	unsigned int want;

	/* Before the table exists everything reads 0 and every write is a no-op. */
	ASSERT_EQ(shim_fd_get(5), 0, "shim_fd_get");
	shim_fd_set(5, R);
	shim_fd_clear(5);
	shim_fd_clear_range(0, ~0u);
	ASSERT_EQ(shim_fd_get(5), 0, "shim_fd_get");

	ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0, "getrlimit");
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > SHIM_FDTAB_MAX
		   ? SHIM_FDTAB_MAX
		   : (unsigned int)rl.rlim_max;
	if (want < 1024)
		want = 1024;
	ASSERT_EQ(shim_fdtab_init(), 0, "shim_fdtab_init");
	ASSERT_EQ(shim_fdtab_len, want, "shim_fdtab_len");
	ASSERT_EQ(shim_fdtab_init(), 0, "shim_fdtab_init"); /* idempotent */

	shim_fd_set(5, R | N);
	ASSERT_EQ(shim_fd_get(5), R | N, "shim_fd_get");
	shim_fd_del(5, N);
	ASSERT_EQ(shim_fd_get(5), R, "shim_fd_get");
	shim_fd_add(5, N);
	ASSERT_EQ(shim_fd_get(5), R | N, "shim_fd_get");

	/* dup: the copy inherits the state; dup2 of an untracked fd wipes a stale one. */
	shim_fd_copy(5, 9);
	ASSERT_EQ(shim_fd_get(9), R | N, "shim_fd_get");
	shim_fd_copy(9, 9);
	ASSERT_EQ(shim_fd_get(9), R | N, "shim_fd_get");
	shim_fd_copy(3, 9);
	ASSERT_EQ(shim_fd_get(9), 0, "shim_fd_get");

	shim_fd_clear(5);
	ASSERT_EQ(shim_fd_get(5), 0, "shim_fd_get");

	/* Out of range: negative, at and beyond the end, never tracked, never a crash. */
	shim_fd_set(-1, R);
	ASSERT_EQ(shim_fd_get(-1), 0, "shim_fd_get");
	shim_fd_set((int)shim_fdtab_len, R);
	ASSERT_EQ(shim_fd_get((int)shim_fdtab_len), 0, "shim_fd_get");
	shim_fd_set((int)shim_fdtab_len - 1, P);
	ASSERT_EQ(shim_fd_get((int)shim_fdtab_len - 1), P, "shim_fd_get");
	shim_fd_add(0x7fffffff, R);
	shim_fd_del(0x7fffffff, R);
	shim_fd_copy((int)shim_fdtab_len - 1, 0x7fffffff);
	ASSERT_EQ(shim_fd_get(0x7fffffff), 0, "shim_fd_get");

	/* A dup'd candidate: neither number may be promoted (promote.c counts readers per fd). */
	shim_fd_set(30, P | N);
	shim_fd_copy(30, 31);
	ASSERT_EQ(shim_fd_get(30), N, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(31), N, "shim_fd_get");
	shim_fd_clear(30);
	shim_fd_clear(31);

	/* close_range(): only the range goes, whatever its bounds. */
	shim_fd_set(10, R);
	shim_fd_set(11, P);
	shim_fd_set(20, R);
	shim_fd_clear_range(11, 19);
	ASSERT_EQ(shim_fd_get(10), R, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(11), 0, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(20), R, "shim_fd_get");
	shim_fd_clear_range(3, ~0u);
	ASSERT_EQ(shim_fd_get(10), 0, "shim_fd_get");
	ASSERT_EQ(shim_fd_get(20), 0, "shim_fd_get");
	ASSERT_EQ(shim_fd_get((int)shim_fdtab_len - 1), 0, "shim_fd_get");
	shim_fd_set(2, R);
	shim_fd_clear_range(5, 1); /* empty range */
	ASSERT_EQ(shim_fd_get(2), R, "shim_fd_get");

	return skt_summary();
}
