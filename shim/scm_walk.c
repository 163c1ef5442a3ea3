// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Walking the descriptors of SCM_RIGHTS messages, for the sendmsg and recvmsg hooks. */
#include <string.h>

#include "shim/scm_walk.h"

void shim_scm_for_each_fd(const struct msghdr *msg, void (*fn)(int fd, void *ctx), void *ctx)
{
	struct cmsghdr *cm;

	/* CMSG_NXTHDR takes a non-const msghdr but only reads it. */
	for (cm = CMSG_FIRSTHDR((struct msghdr *)msg); cm;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		const unsigned char *p = CMSG_DATA(cm);
		size_t i, nfds;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			int fd;

			/* The payload is not aligned for int loads on every ABI. */
			memcpy(&fd, p + i * sizeof(int), sizeof(fd));
			fn(fd, ctx);
		}
	}
}
