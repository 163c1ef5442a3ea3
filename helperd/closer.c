// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Closing fds that untrusted clients handed us. When the client has closed its own copy,
 * ours is the last reference and close() does the real work: for a TCP socket with
 * SO_LINGER set and unsent data that the peer never reads, inet_release() waits up to the
 * linger time (an hour, if the client says so; O_NONBLOCK changes nothing), and a file on
 * FUSE waits for its daemon's FLUSH. On the single-threaded event loop that would freeze
 * the helper for every client, SIGTERM included. So such fds go to closer threads; the
 * common case (a socket without linger, a pipe, /dev/null) is closed inline at no cost.
 *
 * One stuck close must not stall anybody else's, and a client must not make us hold fds
 * without bound (1,100 of them exhausted the fd limit once, in 0.03 s, behind one lingering
 * socket). Hence:
 * - a watchdog: sk_stream_wait_close() waits interruptibly, so a signal (a no-op handler
 *   without SA_RESTART) to a thread whose close has taken longer than
 *   HELPERD_CLOSER_WATCHDOG_MS ends the wait; the socket then closes in the background as
 *   without linger. The same covers the event loop's own syscalls that may close a client's
 *   file (helperd_closer_guard_begin()). A FUSE FLUSH waits killably after its interrupt,
 *   so its thread stays stuck: while every closer thread is, the watchdog starts another,
 *   up to HELPERD_CLOSER_MAX_THREADS;
 * - a budget: the closes owed (queued or under way) are bounded overall by a share of the
 *   fd limit and, by the caller, per client and per user (clients.c): a client over its
 *   share is not read until its closes are done.
 */
#include <errno.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "helperd/closer.h"

/* Any signal the helper does not use otherwise; its handler does nothing. */
#define CLOSER_SIGNAL SIGURG
/* Fds the helper needs beside the clients' connections and the closes owed. */
#define CLOSER_OWN_FDS 128

struct closer_entry {
	int fd;
	bool budgeted;	     /* counted in closer.pending */
	atomic_uint *charge; /* the client's count, or NULL */
};

struct closer_ctx {
	pthread_t th;
	_Atomic uint64_t since_ns; /* a close under way since then; 0: none */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct closer_entry *q;
	unsigned int cap, head, len, idle;
	unsigned int budget;
	atomic_uint pending;
	unsigned int n_threads; /* written by the watchdog only, under lock */
	struct closer_ctx ctx[HELPERD_CLOSER_MAX_THREADS + 1]; /* [0]: the event loop */
	int event_fd;
	bool started;
} closer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.event_fd = -1,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void noop_handler(int sig)
{
	(void)sig;
}

/* close() with the watchdog looking: a wait longer than its period is interrupted. */
static void close_watched(struct closer_ctx *ctx, int fd)
{
	atomic_store(&ctx->since_ns, now_ns());
	close(fd);
	atomic_store(&ctx->since_ns, 0);
}

static void *closer_main(void *arg)
{
	struct closer_ctx *self = arg;
	struct closer_entry e;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&closer.lock);
		closer.idle++;
		while (!closer.len)
			pthread_cond_wait(&closer.wake, &closer.lock);
		closer.idle--;
		e = closer.q[closer.head];
		closer.head = (closer.head + 1) % closer.cap;
		closer.len--;
		pthread_mutex_unlock(&closer.lock);
		close_watched(self, e.fd);
		if (e.budgeted)
			atomic_fetch_sub(&closer.pending, 1);
		if (e.charge) {
			atomic_fetch_sub(e.charge, 1);
			/* The event loop reads on: a client paused for its closes may go on. */
			if (write(closer.event_fd, &one, sizeof(one)) < 0) {
				/* EAGAIN: the counter is saturated, the loop wakes anyway */
			}
		}
	}
	return NULL;
}

/* Start closer thread i (its signals all blocked but the watchdog's). Under lock. */
static int thread_start(unsigned int i)
{
	sigset_t all, old;
	int r;

	sigfillset(&all);
	sigdelset(&all, CLOSER_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&closer.ctx[i].th, NULL, closer_main, &closer.ctx[i]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(closer.ctx[i].th);
	closer.n_threads = i;
	return 0;
}

static void *watchdog_main(void *arg)
{
	const uint64_t limit = HELPERD_CLOSER_WATCHDOG_MS * 1000000ull;
	struct timespec period = { .tv_nsec = HELPERD_CLOSER_WATCHDOG_MS * 1000000l };
	unsigned int i, stuck;
	uint64_t since, now;

	(void)arg;
	for (;;) {
		nanosleep(&period, NULL);
		now = now_ns();
		stuck = 0;
		for (i = 0; i <= closer.n_threads; i++) {
			since = atomic_load(&closer.ctx[i].since_ns);
			if (!since || now - since < limit)
				continue;
			pthread_kill(closer.ctx[i].th, CLOSER_SIGNAL);
			stuck += i > 0;
		}
		/* Interrupted and still stuck (a killable wait): one more thread for the rest. */
		pthread_mutex_lock(&closer.lock);
		if (closer.len && !closer.idle && stuck == closer.n_threads &&
		    closer.n_threads < HELPERD_CLOSER_MAX_THREADS)
			thread_start(closer.n_threads + 1);
		pthread_mutex_unlock(&closer.lock);
	}
	return NULL;
}

/* Raise the soft fd limit to the hard one; what is now allowed. */
static rlim_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = old;
	}
	return rl.rlim_cur;
}

int helperd_closer_start(unsigned int max_clients)
{
	struct sigaction sa = { .sa_handler = noop_handler }; /* no SA_RESTART */
	rlim_t nofile = raise_nofile(), reserved = 2 * (rlim_t)max_clients + CLOSER_OWN_FDS;
	sigset_t all, old;
	pthread_t th;
	unsigned int i;
	int r;

	/* Half of what is left: the other half absorbs what we did not foresee. */
	closer.budget = nofile > reserved ? (unsigned int)((nofile - reserved) / 2) : 0;
	if (closer.budget > HELPERD_CLOSER_MAX_QUEUE)
		closer.budget = HELPERD_CLOSER_MAX_QUEUE;
	if (closer.budget < HELPERD_CLOSER_PER_CLIENT)
		closer.budget = HELPERD_CLOSER_PER_CLIENT;
	/* Every client's connection may wait too: at most one each (clients.c). */
	closer.cap = closer.budget + max_clients;
	closer.q = calloc(closer.cap, sizeof(*closer.q));
	if (!closer.q)
		return -ENOMEM;
	closer.event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (closer.event_fd < 0)
		return -errno;
	if (sigaction(CLOSER_SIGNAL, &sa, NULL) < 0)
		return -errno;
	closer.ctx[0].th = pthread_self();

	pthread_mutex_lock(&closer.lock);
	for (i = 1, r = 0; i <= HELPERD_CLOSER_THREADS && !r; i++)
		r = thread_start(i);
	pthread_mutex_unlock(&closer.lock);
	if (r)
		return r;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&th, NULL, watchdog_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	closer.started = true;
	return 0;
}

int helperd_closer_event_fd(void)
{
	return closer.event_fd;
}

void helperd_closer_event_clear(void)
{
	uint64_t n;

	if (read(closer.event_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: already read */
	}
}

unsigned int helperd_closer_pending(void)
{
	return atomic_load(&closer.pending);
}

unsigned int helperd_closer_budget(void)
{
	return closer.budget;
}

void helperd_closer_guard_begin(void)
{
	if (closer.started)
		atomic_store(&closer.ctx[0].since_ns, now_ns());
}

void helperd_closer_guard_end(void)
{
	if (closer.started)
		atomic_store(&closer.ctx[0].since_ns, 0);
}

/* A socket's close() blocks only with SO_LINGER set (the wait for unsent data). */
static bool socket_may_block(int fd)
{
	struct linger lg;
	socklen_t len = sizeof(lg);

	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) < 0)
		return true;
	return lg.l_onoff && lg.l_linger > 0;
}

/* Filesystems whose files close at once: in memory, no daemon or server to ask. */
static bool fs_closes_at_once(int fd)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return false;
	switch ((unsigned long)sfs.f_type) {
	case ANON_INODE_FS_MAGIC: /* eventfd, epoll, timerfd, signalfd, pidfd, ... */
	case TMPFS_MAGIC:	  /* and memfd */
	case PROC_SUPER_MAGIC:
	case SYSFS_MAGIC:
	case DEVPTS_SUPER_MAGIC:
	case PIPEFS_MAGIC:
	case SOCKFS_MAGIC:
	case CGROUP2_SUPER_MAGIC:
	case BPF_FS_MAGIC:
	case NSFS_MAGIC:
		return true;
	}
	return false;
}

/*
 * Can this close() block for long? Pipes and character devices (/dev/null, a tty) do not,
 * or only interruptibly (a tty's drain), which the watchdog cuts short; sockets only with
 * linger; other files unless their filesystem is known to close at once (FUSE, NFS and
 * disk filesystems may wait for a daemon, a server or the disk).
 */
static bool may_block(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false; /* not an fd we can inspect (EBADF): close() fails at once too */
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return false;
	if (S_ISSOCK(st.st_mode))
		return socket_may_block(fd);
	return !fs_closes_at_once(fd);
}

static void defer(int fd, bool budgeted, atomic_uint *charge)
{
	pthread_mutex_lock(&closer.lock);
	if (closer.len == closer.cap) {
		/* The callers keep within the budget: never; closed here, watched, if so. */
		pthread_mutex_unlock(&closer.lock);
		close_watched(&closer.ctx[0], fd);
		return;
	}
	closer.q[(closer.head + closer.len) % closer.cap] =
	    (struct closer_entry){ .fd = fd, .budgeted = budgeted, .charge = charge };
	closer.len++;
	if (budgeted)
		atomic_fetch_add(&closer.pending, 1);
	if (charge)
		atomic_fetch_add(charge, 1);
	pthread_cond_signal(&closer.wake);
	pthread_mutex_unlock(&closer.lock);
}

void helperd_close_untrusted(int fd, atomic_uint *charge)
{
	if (fd < 0)
		return;
	if (!closer.started)
		close(fd);
	else if (may_block(fd))
		defer(fd, true, charge);
	else
		close_watched(&closer.ctx[0], fd);
}

void helperd_close_untrusted_socket(int fd, atomic_uint *charge)
{
	if (fd < 0)
		return;
	if (!closer.started)
		close(fd);
	else if (socket_may_block(fd))
		defer(fd, true, charge);
	else
		close_watched(&closer.ctx[0], fd);
}

void helperd_close_client_conn(int fd, atomic_uint *charge)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (fd < 0)
		return;
	/* Nothing queued, no fd in flight: the close only frees the connection. */
	if (!closer.started || poll(&pfd, 1, 0) == 0)
		close_watched(&closer.ctx[0], fd);
	else
		defer(fd, false, charge);
}
