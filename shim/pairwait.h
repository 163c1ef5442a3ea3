/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A socket registered before its peer, under lazy promotion, waits for it without the
 * unsent-bytes mark (register.c says why). The helper pairs it when the peer comes, but
 * cannot tell its process, which learns only by asking (SKACCEL_OP_PAIRED). Only a writer
 * needs the mark (a non-blocking one while it drains what it sent by TCP, notsent.c), so
 * the socket asks as it writes, before the write that takes it past the next mark: after
 * 64 KiB, then every 256 KiB up to 4 MiB (the peer is usually being promoted just then,
 * and whatever is written meanwhile goes by TCP), then after twice as many bytes each
 * time. A peer that never opts in costs 16 + log2(bytes / 4 MiB) round trips over the
 * connection's life (about 30 for 64 GiB).
 */
#ifndef SHIM_PAIRWAIT_H
#define SHIM_PAIRWAIT_H

#include <stddef.h>
#include <sys/types.h>

#include "shim/fdtab.h"

#define SHIM_PAIRWAIT_FIRST (64u << 10)
#define SHIM_PAIRWAIT_STEP (256u << 10)
#define SHIM_PAIRWAIT_DENSE 16u

/* Map the per-fd schedules. 0 or -errno; without them no socket waits this way. */
int shim_pairwait_init(void);

/* fd, registered, was told its peer has not registered: make it UNPAIRED. */
void shim_pairwait_start(int fd);

/* A hooked write of len bytes is about to run on fd: ask first if it reaches the mark. */
void shim_pairwait_before(int fd, size_t len);

/* A hooked write on fd returned n: count it (UNPAIRED only). */
void shim_pairwait_wrote(int fd, ssize_t n);

#endif /* SHIM_PAIRWAIT_H */
