/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* close() with unread data resets the connection, as TCP's does. */
#ifndef SHIM_RESET_H
#define SHIM_RESET_H

#include <sys/socket.h>

/* Called by close(fd) before the real close, for a REGISTERED fd that is not SHARED. */
void shim_reset_if_unread(int fd);

/*
 * Called by close(fd) before the real close, for a HELD fd that is not SHARED: if this is
 * the last close the application makes, end the connection now, as TCP's close would,
 * whoever else still holds the socket.
 */
void shim_release_held(int fd);

/*
 * fd is about to be closed by close(), or by dup2() or dup3() over it, with state st: both
 * of the above as its state asks (nothing for a SHARED or unregistered fd).
 */
void shim_reset_closing(int fd, unsigned int st);

/*
 * The same for every fd in [first, last] that close_range() or closefrom() is about to
 * close; a socket is left alone while an fd outside the range still refers to it.
 */
void shim_reset_closing_range(unsigned int first, unsigned int last);

/*
 * At exit() and _exit(), when the kernel closes every fd without our close(): the same as
 * shim_release_held() for every HELD fd that is not SHARED. (A process killed by a
 * signal is not seen.)
 */
void shim_release_held_all(void);

/*
 * Before an exec: the same for every HELD close-on-exec fd that is not SHARED, unless an
 * fd that stays open across the exec refers to its socket. Inherited sockets are left to
 * the new program.
 */
void shim_release_held_cloexec(void);

/* sendmsg() passes descriptors (SCM_RIGHTS): their sockets are SHARED from now on. */
void shim_reset_note_passed(const struct msghdr *msg);

#endif /* SHIM_RESET_H */
