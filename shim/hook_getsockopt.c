// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The getsockopt() hook: SO_ERROR is where event loops see a non-blocking connect complete. */
#include "fdtab.h"
#include "real.h"
#include "register.h"

SHIM_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int ret, err;

	if (!SHIM_REAL_READY(getsockopt))
		return shim_enosys();
	ret = real.getsockopt(fd, level, name, val, len);
	if (ret == 0 && (shim_fd_get(fd) & SHIM_FD_PENDING)) {
		err = errno;
		shim_after_getsockopt(fd, level, name, val, len);
		errno = err;
	}
	return ret;
}
