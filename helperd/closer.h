/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Closing fds that untrusted clients handed us without ever blocking the event loop. */
#ifndef HELPERD_CLOSER_H
#define HELPERD_CLOSER_H

#include <stdatomic.h>
#include <stdbool.h>

/* Fds waiting for the closer at most, whatever the fd limit allows. */
#define HELPERD_CLOSER_MAX_QUEUE 4096
/* Closer threads: a few at start, more (up to the maximum) while closes stay stuck. */
#define HELPERD_CLOSER_THREADS 2
#define HELPERD_CLOSER_MAX_THREADS 16
/* A close that takes longer than this is interrupted (its linger wait cut short). */
#define HELPERD_CLOSER_WATCHDOG_MS 100
/*
 * Fds one client may have waiting for the closer. Beyond, it is not read until they are
 * closed: its requests, and the fds in them, wait in its own socket queue, charged to it.
 */
#define HELPERD_CLOSER_PER_CLIENT 16
/*
 * And all clients of one user: the closes of others queue behind at most this many of
 * each user's, however many connections it opens.
 */
#define HELPERD_CLOSER_PER_USER 64

/*
 * Raise the soft fd limit to the hard one, size the queue from what remains after
 * the clients' connections (max_clients, and as many waiting to be closed) and our own, start the
 * closer threads and their watchdog. 0 or -errno.
 */
int helperd_closer_start(unsigned int max_clients);

/* Readable when a charged close has finished: read it with helperd_closer_event_clear(). */
int helperd_closer_event_fd(void);
void helperd_closer_event_clear(void);

/* Closes owed now (waiting or under way), and the most there may be. */
unsigned int helperd_closer_pending(void);
unsigned int helperd_closer_budget(void);

/*
 * Close an fd a client sent us. If it could block (a socket with SO_LINGER and unsent
 * data, a file on FUSE or NFS, ...) a closer thread does it and *charge counts it until it
 * is closed; the caller must have checked there is room (helperd_closer_pending()).
 * Otherwise it is closed at once, under the watchdog. Never fails.
 */
void helperd_close_untrusted(int fd, atomic_uint *charge);

/* The same for an fd known to be a socket: no fstat(), one syscall fewer. */
void helperd_close_untrusted_socket(int fd, atomic_uint *charge);

/*
 * Close a client's connection. Fds still queued in it are closed with it, by whoever
 * closes it (the last fput runs in the closing thread): a connection with anything
 * queued goes to a closer thread, outside the budget, charged to the client's slot (which
 * the caller keeps until it is closed: one per client at most).
 */
void helperd_close_client_conn(int fd, atomic_uint *charge);

/*
 * Around a syscall of the event loop that may close a client's file as a side effect
 * (a recvmsg() whose surplus fds the kernel drops): a wait in it longer than the
 * watchdog's period is interrupted, as in a closer thread.
 */
void helperd_closer_guard_begin(void);
void helperd_closer_guard_end(void);

#endif /* HELPERD_CLOSER_H */
