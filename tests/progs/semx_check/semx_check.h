/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * semx_check: more TCP semantics an application relies on, each checked against what plain
 * TCP does (sem_check has the first set). Besides asserting what plain TCP gives, each
 * scenario prints what the application saw as "obs:" lines, deterministic for a seed:
 * tests/e2e/semantics/observed.sh runs the same seed on plain TCP and under skaccel and
 * compares them line by line. One file per topic:
 *   queues.c     SIOCOUTQ/SIOCINQ, SO_RCVLOWAT
 *   timeouts.c   SO_RCVTIMEO/SO_SNDTIMEO
 *   signals.c    EINTR
 *   flags.c      MSG_DONTWAIT/MSG_TRUNC, TCP_CORK/MSG_MORE/TCP_NODELAY, writev with many
 *                iovecs and zero-length I/O, one write larger than every buffer
 *   resets.c     SO_LINGER, close with unread data, sendfile to a peer that resets
 *   processes.c  fork, exec, SCM_RIGHTS, threads
 *   fd_ops.c     dup/dup2/dup3/close_range
 *   many.c       select() and epoll ET over many connections in one loop
 *   observe.c    the "obs:" lines; helpers.c what the scenarios share; main.c lists the
 *                scenarios in the order they run.
 */
#ifndef SEMX_CHECK_H
#define SEMX_CHECK_H

#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/select.h>
#include <sys/wait.h>

#include "tests/progs/xfer_common.h"

/* observe.c */
__attribute__((format(printf, 1, 2))) void obs(const char *fmt, ...);
const char *res_str(char *buf, size_t len, ssize_t n, int err);

#define RES(n, err) res_str((char[48]){ 0 }, 48, (n), (err))

const char *revents_str(char *buf, size_t len, short ev);

#define REVENTS(ev) revents_str((char[64]){ 0 }, 64, (ev))

/* helpers.c */
#define WAIT_MS 5000 /* longest any single wait may take before it counts as a hang */

void send_stream(int fd, struct vstream *vs, uint64_t len, struct rng *r);
void recv_exact(int fd, struct vstream *vs, const char *what);
void expect_eof(int fd, const char *what);
void expect_quiet(int fd, int ms, const char *what);
void wait_outq_zero(int fd, const char *what);
void expect_inq(int fd, int want, const char *when);
int sockopt_int(int fd, int level, int name);
void set_sockopt_int(int fd, int level, int name, int v, const char *what);
uint64_t ms_since(uint64_t t0);
void wait_child(pid_t pid, const char *what);

/*
 * A thread that sleeps, then sends len stream bytes on fd (and len2 more after sleeping
 * again), then optionally half-closes.
 */
struct later {
	int fd;
	uint64_t delay_us;
	struct vstream vs;
	uint64_t len;
	uint64_t len2; /* then, after the same delay again, this many more */
	bool shut_wr;
	struct rng r;
};

void later_start(pthread_t *th, struct later *l, struct rng *r);

/* queues.c */
void run_outq(struct rng *r);
void run_rcvlowat(struct rng *r);
void run_rcvlowat_greeted(struct rng *r);
void run_rcvlowat_late(struct rng *r);
void run_rcvlowat_fionread(struct rng *r);

/* timeouts.c */
void run_rcvtimeo(struct rng *r);
void run_sndtimeo(struct rng *r);

/* signals.c */
void run_eintr_recv(struct rng *r);
void run_eintr_send(struct rng *r);

/* flags.c */
void run_dontwait_trunc(struct rng *r);

struct reader {
	int fd;
	struct vstream vs;
	_Atomic uint64_t expect; /* bytes that must have come at EOF, known by then */
	bool readv_many;	 /* read with IOV_MAX tiny iovecs now and then */
	struct rng r;
};

void *reader_run(void *arg);
void run_cork(struct rng *r);
void run_iov(struct rng *r);
void run_zero_read(struct rng *r);
void run_big_write(struct rng *r);

/* resets.c */
void run_linger(struct rng *r);
void run_close_unread(struct rng *r);
void run_sendfile_reset(struct rng *r);

/* processes.c */
void peer_protocol_client(int fd);
void peer_protocol_server(int fd, struct rng *r);
void run_fork(struct rng *r);
extern char g_self[PATH_MAX];
void run_exec_cat(struct rng *r);
void run_exec_child(struct rng *r);
int exec_child_main(int argc, char **argv);
void run_scm_rights(struct rng *r);
void run_threads(struct rng *r);

/* fd_ops.c */
void run_dup(struct rng *r);
void run_close_range(struct rng *r);

/* many.c */
void run_many(struct rng *r);

#endif /* SEMX_CHECK_H */
