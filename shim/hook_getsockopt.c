// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The getsockopt() hook: SO_ERROR is where event loops see a non-blocking connect
 * complete, and TCP_NOTSENT_LOWAT shows the application its own mark, not the shim's.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/real.h"
#include "shim/register.h"

SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	unsigned int st;
	int ret, err;

	if (!SHIM_REAL_READY(getsockopt))
		return shim_enosys();
	ret = real.getsockopt(fd, level, name, val, len);
	if (ret != 0)
		return ret;
	st = shim_fd_get(fd);
	if ((st & SHIM_FD_LOWAT) && level == IPPROTO_TCP && name == TCP_NOTSENT_LOWAT)
		shim_notsent_hide(fd, val, len);
	if (st & SHIM_FD_CANDIDATE) {
		err = errno;
		shim_after_getsockopt(fd, level, name, val, len);
		errno = err;
	}
	return ret;
}
