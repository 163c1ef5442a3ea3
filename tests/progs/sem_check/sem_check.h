/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * sem_check: TCP semantics an application relies on, each checked against what plain TCP
 * does. Every wait is bounded, so a stranded reader is a failure with a reason, never a
 * hang. One file per topic:
 *   eof.c            EOF, EPIPE after SHUT_WR, reading after a half-close, RST after data,
 *                    a refused connect, close() delivering EOF
 *   readiness.c      poll/epoll readiness, MSG_WAITALL, readers blocked before data (or
 *                    before accept) being woken
 *   ioctls.c         FIONREAD, MSG_PEEK
 *   kernel_copies.c  splice() and sendfile(), MSG_ZEROCOPY completions and MSG_OOB
 *   helpers.c        what they share; main.c lists the scenarios in the order they run.
 */
#ifndef SEM_CHECK_H
#define SEM_CHECK_H

#include <fcntl.h>
#include <linux/errqueue.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/wait.h>

#include "tests/progs/xfer_common.h"

/* helpers.c */
#define WAIT_MS 5000 /* longest any single wait may take before it counts as a hang */

ssize_t recv_timed(int fd, void *buf, size_t len, int flags, const char *what);
void recv_stream_timed(int fd, struct vstream *vs, const char *what);
void expect_eof(int fd, const char *what);
void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r);
void wait_acked(int fd, const char *what);

/* A thread that sleeps, then sends len stream bytes on fd, then optionally acts. */
struct later {
	int fd;
	uint64_t delay_us;
	struct vstream vs;
	uint64_t len;
	enum { LATER_NONE, LATER_CLOSE, LATER_RST, LATER_SHUT_WR } then;
	struct rng r;
};

void *later_run(void *arg);
void later_start(pthread_t *th, struct later *l, struct rng *r);

/* eof.c */
void run_eof(struct rng *r);
void run_epipe(struct rng *r);
void run_halfclose(struct rng *r);
void run_halfclose_thread(struct rng *r);
void run_rst(struct rng *r);
void run_refused(struct rng *r);
void run_close_eof(struct rng *r);

/* readiness.c */
void run_poll(struct rng *r);
void run_epoll(struct rng *r);
void run_waitall(struct rng *r);
void run_blocked_reader(struct rng *r);
void run_blocked_before_accept(struct rng *r);

/* ioctls.c */
void run_fionread(struct rng *r);
void run_fionread_preaccept(struct rng *r);
void run_peek(struct rng *r);

/* kernel_copies.c */
void run_splice(struct rng *r);
void run_sendfile(struct rng *r);
void run_zerocopy(struct rng *r);
void run_zerocopy_late(struct rng *r);
void run_oob(struct rng *r);

#endif /* SEM_CHECK_H */
