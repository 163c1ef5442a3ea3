// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Adopting sockets this process did not connect or accept. The helper may have put such a
 * socket into the sockhash for another process (the one that connected, then exec'd a
 * handler or passed the socket to a worker by SCM_RIGHTS), but a new program image starts
 * with an empty fd table and a received descriptor is a number the table knows nothing
 * about: its reads would get none of readfix.c's fixups (MSG_WAITALL, the spurious EAGAIN
 * of a blocking read) and splice() none of its copy. Whether the socket really is in the
 * sockhash cannot be asked, so every TCP connection to this host is treated as if it were:
 * the fixups are harmless on plain TCP (register.c marks unanswered registrations alike).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/number.h"
#include "shim/adopt.h"
#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/locality.h"
#include "shim/notsent.h"
#include "shim/real.h"
#include "shim/scm_walk.h"

void shim_adopt_fd(int fd, const char *how)
{
	struct shim_endpoints ep;
	char self[SHIM_ADDRSTRLEN], peer[SHIM_ADDRSTRLEN];
	int fl;

	if (shim_classify_fd(fd, &ep, NULL, 0) != SHIM_SOCK_LOCAL) {
		shim_fd_clear(fd); /* a stale entry must not apply to whatever this fd is now */
		return;
	}
	fl = real.fcntl(fd, F_GETFL);
	/* Another process holds or held it: its close() here may not be the last. */
	shim_fd_set(fd, SHIM_FD_REGISTERED | SHIM_FD_SHARED |
			    (fl >= 0 && (fl & O_NONBLOCK) ? SHIM_FD_NONBLOCK : 0));
	shim_notsent_adopt(fd);
	if (shim_cfg.debug)
		shim_log("fd %d %s -> %s: %s, read fixups on", fd,
			 shim_addr_format((const struct sockaddr *)&ep.self, self, sizeof(self)),
			 shim_addr_format((const struct sockaddr *)&ep.peer, peer, sizeof(peer)),
			 how);
}

void shim_adopt_inherited(void)
{
	/* getdents64, not opendir(): no malloc in the library's init, which may run early. */
	char buf[4096] __attribute__((aligned(8)));
	int saved_errno = errno, dfd;
	ssize_t n;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto out; /* no /proc (a chroot): inherited sockets get no fixups */
	while ((n = getdents64(dfd, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;

		while (off < n) {
			const struct dirent64 *d = (const void *)(buf + off);
			uint64_t fd;

			off += d->d_reclen;
			if (skaccel_parse_u64(d->d_name, 0, INT_MAX, &fd) || fd == (uint64_t)dfd)
				continue; /* "." and "..", and our own directory */
			shim_adopt_fd((int)fd, "inherited across exec");
		}
	}
	real.close(dfd);
out:
	errno = saved_errno;
}

static void adopt_received_fd(int fd, void *ctx)
{
	shim_adopt_fd(fd, "received by SCM_RIGHTS");
}

void shim_adopt_received(const struct msghdr *msg)
{
	int saved_errno = errno;

	shim_scm_for_each_fd(msg, adopt_received_fd, NULL);
	errno = saved_errno;
}
