// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * One inet_diag dump per address family over NETLINK_SOCK_DIAG: what `ss -t` reads. It
 * gives each socket's cookie (idiag_cookie, the key of the skaccel maps) and inode (what
 * /proc/PID/fd links name), so a process's descriptors can be matched to the maps.
 */
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/sockdiag.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static void addr16(__u8 out[16], int family, const __be32 *src)
{
	memset(out, 0, 16);
	if (family == AF_INET) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, src, 4);
	} else {
		memcpy(out, src, 16);
	}
}

static int append(struct cli_diag_sock **out, size_t *n, size_t *cap, const struct inet_diag_msg *m)
{
	struct cli_diag_sock *s;

	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		void *p = realloc(*out, ncap * sizeof(**out));

		if (!p)
			return -ENOMEM;
		*out = p;
		*cap = ncap;
	}
	s = &(*out)[(*n)++];
	s->cookie = (__u64)m->id.idiag_cookie[0] | (__u64)m->id.idiag_cookie[1] << 32;
	s->inode = m->idiag_inode;
	s->state = m->idiag_state;
	addr16(s->local_addr, m->idiag_family, m->id.idiag_src);
	addr16(s->remote_addr, m->idiag_family, m->id.idiag_dst);
	s->local_port = ntohs(m->id.idiag_sport);
	s->remote_port = ntohs(m->id.idiag_dport);
	return 0;
}

static int dump_family(int fd, int family, struct cli_diag_sock **out, size_t *n, size_t *cap)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} rq = {
		.nlh = { .nlmsg_len = sizeof(rq),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.req = { .sdiag_family = (__u8)family,
			 .sdiag_protocol = IPPROTO_TCP,
			 .idiag_states = ~0u },
	};
	static char buf[32768];
	int r;

	if (send(fd, &rq, sizeof(rq), 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len < 0)
			return -errno;
		if (len == 0)
			return -EIO;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error ? e->error : -EIO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			r = append(out, n, cap, NLMSG_DATA(h));
			if (r)
				return r;
		}
	}
}

int cli_diag_dump(struct cli_diag_sock **out, size_t *n)
{
	size_t cap = 0;
	int fd, r;

	*out = NULL;
	*n = 0;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	r = dump_family(fd, AF_INET, out, n, &cap);
	if (!r)
		r = dump_family(fd, AF_INET6, out, n, &cap);
	close(fd);
	if (r) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

__u64 cli_own_netns_cookie(void)
{
	socklen_t len = sizeof(__u64);
	__u64 cookie = 0;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
		cookie = 0;
	close(fd);
	return cookie;
}

const char *cli_tcp_state_name(unsigned int state)
{
	static const char *const names[] = {
		[1] = "ESTABLISHED", [2] = "SYN-SENT",	[3] = "SYN-RECV", [4] = "FIN-WAIT-1",
		[5] = "FIN-WAIT-2",  [6] = "TIME-WAIT", [7] = "CLOSE",	  [8] = "CLOSE-WAIT",
		[9] = "LAST-ACK",    [10] = "LISTEN",	[11] = "CLOSING",
	};

	return state < sizeof(names) / sizeof(names[0]) && names[state] ? names[state] : "?";
}
