/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The TCP sockets of the current network namespace, from sock_diag (cookies and inodes). */
#ifndef SKACCEL_CLI_SOCKDIAG_H
#define SKACCEL_CLI_SOCKDIAG_H

#include <linux/types.h>
#include <stddef.h>

struct cli_diag_sock {
	__u64 cookie;			      /* SO_COOKIE: the key of the skaccel maps */
	__u32 inode;			      /* of the socket: /proc/PID/fd/N -> socket:[inode] */
	__u8 state;			      /* TCP_ESTABLISHED, ... */
	__u8 local_addr[16], remote_addr[16]; /* v4-mapped for IPv4, as in skaccel_tuple */
	__u16 local_port, remote_port;	      /* host order */
};

/* Every TCP socket (IPv4 and IPv6, all states) into *out (malloc'd); 0 or -errno. */
int cli_diag_dump(struct cli_diag_sock **out, size_t *n);

/* The cookie of the current network namespace (SO_NETNS_COOKIE); 0 if unknown. */
__u64 cli_own_netns_cookie(void);

/* "ESTABLISHED", "LISTEN", ... */
const char *cli_tcp_state_name(unsigned int state);

#endif /* SKACCEL_CLI_SOCKDIAG_H */
