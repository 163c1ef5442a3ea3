// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The connect() hook: the client side of a connection is registered here. */
#include "shim/real.h"
#include "shim/register.h"

SHIM_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int ret, err;

	if (!SHIM_REAL_READY(connect))
		return shim_enosys();
	ret = real.connect(fd, addr, len);
	err = errno;
	shim_after_connect(fd, addr, len, ret, err);
	errno = err;
	return ret;
}
