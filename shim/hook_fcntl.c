// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The fcntl(), fcntl64() and ioctl() hooks: they only keep the cached O_NONBLOCK of
 * tracked fds current (F_SETFL, FIONBIO), with the unsent-bytes mark that depends on it
 * (notsent.h), and give F_DUPFD copies their state.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>

#include "shim/fdtab.h"
#include "shim/notsent.h"
#include "shim/real.h"

static void after_fcntl(int fd, int cmd, void *arg, int ret)
{
	unsigned int st = shim_fd_get(fd);

	if (ret < 0 || !st)
		return;
	if (cmd == F_SETFL) {
		/* A variadic int's register has an undefined upper half: test the low int. */
		if ((int)(long)arg & O_NONBLOCK)
			shim_fd_add(fd, SHIM_FD_NONBLOCK);
		else
			shim_fd_del(fd, SHIM_FD_NONBLOCK);
		if ((shim_fd_get(fd) ^ st) & SHIM_FD_NONBLOCK)
			shim_notsent_blocking_changed(fd);
	} else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		shim_fd_copy(fd, ret);
	}
}

/*
 * fcntl's third argument is an int, a long or a pointer depending on cmd; like glibc's own
 * wrapper, fetch it as a pointer (reading an argument that was not passed is harmless on
 * the ABIs Linux uses) and pass it on unchanged.
 */
/* Both entry points take the argument the same way; only the libc function differs. */
#define SHIM_FCNTL_HOOK(name)                      \
	SHIM_EXPORT int name(int fd, int cmd, ...) \
	{                                          \
		va_list ap;                        \
		void *arg;                         \
		int ret;                           \
                                                   \
		va_start(ap, cmd);                 \
		arg = va_arg(ap, void *);          \
		va_end(ap);                        \
		if (!SHIM_REAL_READY(name))        \
			return shim_enosys();      \
		ret = real.name(fd, cmd, arg);     \
		after_fcntl(fd, cmd, arg, ret);    \
		return ret;                        \
	}

SHIM_FCNTL_HOOK(fcntl)
/* What programs built with _FILE_OFFSET_BITS=64 call instead of fcntl(), 64-bit ones included. */
SHIM_FCNTL_HOOK(fcntl64)

SHIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!SHIM_REAL_READY(ioctl))
		return shim_enosys();
	ret = real.ioctl(fd, req, arg);
	if (ret == 0 && req == FIONBIO && arg && shim_fd_get(fd)) {
		unsigned int st = shim_fd_get(fd);

		if (*(const int *)arg)
			shim_fd_add(fd, SHIM_FD_NONBLOCK);
		else
			shim_fd_del(fd, SHIM_FD_NONBLOCK);
		if ((shim_fd_get(fd) ^ st) & SHIM_FD_NONBLOCK)
			shim_notsent_blocking_changed(fd);
	}
	return ret;
}
