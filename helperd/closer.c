// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Closing fds that untrusted clients handed us. When the client has closed its own copy,
 * ours is the last reference and close() does the real work: for a TCP socket with
 * SO_LINGER set and unsent data that the peer never reads, inet_release() waits up to the
 * linger time (an hour, if the client says so), and a file on FUSE waits for its daemon's
 * FLUSH. On the single-threaded event loop that would freeze the helper for every client,
 * SIGTERM included. So such fds go to a closer thread; the common case (a socket without
 * linger, a pipe) is closed inline at no cost.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "closer.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int fds[HELPERD_CLOSER_QUEUE];
	unsigned int head, len;
	int started;
} closer = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static void *closer_main(void *arg)
{
	for (;;) {
		int fd;

		pthread_mutex_lock(&closer.lock);
		while (!closer.len)
			pthread_cond_wait(&closer.wake, &closer.lock);
		fd = closer.fds[closer.head];
		closer.head = (closer.head + 1) % HELPERD_CLOSER_QUEUE;
		closer.len--;
		pthread_mutex_unlock(&closer.lock);
		close(fd);
	}
	return NULL;
}

int helperd_closer_start(void)
{
	sigset_t all, old;
	pthread_t th;
	int r;

	/* The thread must never take a signal meant for the event loop's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&th, NULL, closer_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	closer.started = 1;
	return 0;
}

/* A socket's close() blocks only with SO_LINGER set (the wait for unsent data). */
static int socket_may_block(int fd)
{
	struct linger lg;
	socklen_t len = sizeof(lg);

	if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) < 0)
		return 1;
	return lg.l_onoff && lg.l_linger > 0;
}

/* Can this close() block? Only sockets without linger and pipes are known not to. */
static int may_block(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0; /* not an fd we can inspect (EBADF): close() fails at once too */
	if (S_ISFIFO(st.st_mode))
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return 1;
	return socket_may_block(fd);
}

static void close_or_defer(int fd, int defer)
{
	if (defer) {
		pthread_mutex_lock(&closer.lock);
		if (closer.len < HELPERD_CLOSER_QUEUE) {
			closer.fds[(closer.head + closer.len) % HELPERD_CLOSER_QUEUE] = fd;
			closer.len++;
			pthread_cond_signal(&closer.wake);
			pthread_mutex_unlock(&closer.lock);
			return;
		}
		pthread_mutex_unlock(&closer.lock);
		/* Thousands already waiting: the client pinned GBs of kernel memory for this. */
	}
	close(fd);
}

void helperd_close_untrusted(int fd)
{
	if (fd >= 0)
		close_or_defer(fd, closer.started && may_block(fd));
}

void helperd_close_untrusted_socket(int fd)
{
	if (fd >= 0)
		close_or_defer(fd, closer.started && socket_may_block(fd));
}
