// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The setsockopt() hook: a TCP_NOTSENT_LOWAT the application sets replaces the shim's. */
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/real.h"

SHIM_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int ret;

	if (!SHIM_REAL_READY(setsockopt))
		return shim_enosys();
	ret = real.setsockopt(fd, level, name, val, len);
	if (__builtin_expect(ret == 0 && level == IPPROTO_TCP && name == TCP_NOTSENT_LOWAT, 0) &&
	    (shim_fd_get(fd) & SHIM_FD_LOWAT))
		shim_notsent_after_set(fd, val, len);
	return ret;
}
