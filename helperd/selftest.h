/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The start-up self-test: does this kernel's sockhash behave as skaccel relies on? */
#ifndef HELPERD_SELFTEST_H
#define HELPERD_SELFTEST_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "common/skaccel_maps.h"
#include "helperd/maps.h"

/* How long any one wait of the self-test may take; the whole test normally takes ~1 ms. */
#define HELPERD_SELFTEST_WAIT_MS 500

/* Step names, for the report and for tests that match on them. */
#define HELPERD_SELFTEST_STEP_CONFIG "read skaccel_cfg"
#define HELPERD_SELFTEST_STEP_SETUP "set up the test connection"
#define HELPERD_SELFTEST_STEP_REGISTER "register the test connection"
#define HELPERD_SELFTEST_STEP_ORDER "ordering across the switch"
#define HELPERD_SELFTEST_STEP_READY "readiness"
#define HELPERD_SELFTEST_STEP_EOF "EOF"
#define HELPERD_SELFTEST_STEP_CLOSE "close"
#define HELPERD_SELFTEST_STEP_CLEANUP "clean up"

struct helperd_selftest_report {
	const char *step; /* on failure: which check, one of HELPERD_SELFTEST_STEP_* */
	char detail[320]; /* on failure: what was seen and what was expected */
	uint64_t took_ns; /* how long the test ran, pass or fail */
};

/*
 * Run the self-test on a private loopback connection of the helper's own (in the
 * helper's network namespace), registered with the same code and in the same order as
 * a client's (registration.c), against the maps in use:
 *  - ordering across the switch: bytes sent by TCP before either end is in the sockhash,
 *    bytes sent by TCP while only one end is, then bytes sent once the two are paired,
 *    arrive exactly once and in order, both ways; and those last ones did go by the
 *    redirect (the per-socket counters in skaccel_conns say so);
 *  - readiness: redirected bytes wake an edge-triggered epoll registered before they
 *    came, poll() reports POLLIN, FIONREAD counts exactly them, both ways;
 *  - EOF: after shutdown(SHUT_WR) the peer reads the pending bytes, then 0; a send on
 *    the shut side fails with EPIPE; the half-closed side still receives, both ways;
 *  - close: closing the sockets takes them out of skaccel_socks.
 * Every wait is bounded (HELPERD_SELFTEST_WAIT_MS); the first failure ends the test.
 * Whatever it added to skaccel_conns and skaccel_peers is removed on every path. The
 * data-path counters in skaccel_cnt do count its few hundred bytes.
 *
 * Call it after the BPF set-up and only while acceleration is enabled: with --disable
 * (skaccel_cfg enabled = 0) the programs redirect nothing by design, so the caller skips
 * the test, and this function refuses with -ECANCELED if called anyway. It never logs.
 *
 * Returns 0 if the kernel behaves. Otherwise rep->step and rep->detail say what failed
 * and the return value says how: -EPROTO the kernel behaved otherwise, -ETIMEDOUT it did
 * not do what was expected within the wait, -ECANCELED acceleration is disabled, any
 * other -errno a system call or map operation failed (the test could not run). In every
 * failing case the helper must not accelerate.
 */
int helperd_selftest(const struct helperd_maps *maps, int pair_prog,
		     struct helperd_selftest_report *rep);

/* --- the pure part, for the wording of failures ------------------------------------ */

/*
 * Byte off of a test stream: (base + off) mod 256, so that in a stream of up to 256
 * bytes every byte's value says which offset it was sent at.
 */
static inline uint8_t helperd_selftest_byte(uint8_t base, size_t off)
{
	return (uint8_t)(base + off);
}

#define HELPERD_SELFTEST_MAX_STREAM 256

/*
 * Check received bytes got[0, got_len) against the stream of want_len bytes (at most
 * HELPERD_SELFTEST_MAX_STREAM) made with base, whose bytes from offset switch_at on went
 * by the redirect and before it by TCP (switch_at >= want_len: no switch). Returns 0
 * when they are the same, else -EPROTO with detail telling what was lost, duplicated,
 * reordered or corrupted, and where, e.g. "byte 80 is byte 120 of the stream: a
 * redirected byte overtook 40 bytes sent by TCP".
 */
int helperd_selftest_check_stream(const uint8_t *got, size_t got_len, size_t want_len,
				  size_t switch_at, uint8_t base, char *detail, size_t len);

/*
 * Did the sender's redirect take effect? conn is its skaccel_conns entry, want_redir how
 * many bytes it sent since pairing, which must all have been redirected. 0, or -EPROTO
 * with detail (naming the last fallback the programs recorded).
 */
int helperd_selftest_check_redirect(const struct skaccel_conn *conn, __u64 want_redir, char *detail,
				    size_t len);

#endif /* HELPERD_SELFTEST_H */
