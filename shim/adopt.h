/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Sockets a process got without connect() or accept(): inherited across exec, or received. */
#ifndef SHIM_ADOPT_H
#define SHIM_ADOPT_H

#include <sys/socket.h>

/*
 * Mark fd REGISTERED (with its O_NONBLOCK bit) if it is a TCP connection to this host, so
 * that readfix.c and the splice() copy treat it as the accelerated socket it may be; clear
 * its state otherwise. how names the way it came, for the debug log.
 */
void shim_adopt_fd(int fd, const char *how);

/* Adopt every descriptor this program image started with (/proc/self/fd), once, at init. */
void shim_adopt_inherited(void);

/* Adopt the descriptors an SCM_RIGHTS message recvmsg() just returned carries. */
void shim_adopt_received(const struct msghdr *msg);

#endif /* SHIM_ADOPT_H */
