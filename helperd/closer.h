/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Closing fds that untrusted clients handed us without ever blocking the event loop. */
#ifndef HELPERD_CLOSER_H
#define HELPERD_CLOSER_H

/* Fds that may take long to close wait here; beyond, they are closed inline. */
#define HELPERD_CLOSER_QUEUE 4096

/* Start the closer thread. 0 or -errno. */
int helperd_closer_start(void);

/*
 * Close an fd a client sent us. If it could block (a socket with SO_LINGER and unsent
 * data, a file on FUSE or NFS, ...) the closer thread does it. Never fails.
 */
void helperd_close_untrusted(int fd);

/* The same for an fd known to be a socket: no fstat(), one syscall fewer. */
void helperd_close_untrusted_socket(int fd);

#endif /* HELPERD_CLOSER_H */
