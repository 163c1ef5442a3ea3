// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The accept() and accept4() hooks: the server side of a connection is registered here. */
#include "shim/real.h"
#include "shim/register.h"

SHIM_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	int ret, err;

	if (!SHIM_REAL_READY(accept))
		return shim_enosys();
	ret = real.accept(fd, addr, len);
	if (ret >= 0) {
		err = errno;
		shim_after_accept(ret, addr, len, 0);
		errno = err;
	}
	return ret;
}

SHIM_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	int ret, err;

	if (!SHIM_REAL_READY(accept4))
		return shim_enosys();
	ret = real.accept4(fd, addr, len, flags);
	if (ret >= 0) {
		err = errno;
		shim_after_accept(ret, addr, len, flags);
		errno = err;
	}
	return ret;
}
