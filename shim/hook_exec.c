// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The execve(), execv(), execvp(), execvpe() and fexecve() hooks: an exec closes the
 * close-on-exec fds in the kernel, and a socket a silent helper may hold then sends no FIN
 * (reset.c), so such sockets are ended first. Inherited fds are the new program's: left
 * alone. An ended connection cannot be revived if the exec then fails, so the shim acts
 * only when the program is there to run (a missing or non-executable program is how an
 * exec usually fails). glibc's execl(), execle() and execlp() call its execve() directly:
 * not seen.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/real.h"
#include "shim/reset.h"

static bool any_held(void)
{
	unsigned int high = shim_fd_high(), i;

	for (i = 0; i <= high; i++)
		if (shim_fd_get((int)i) & SHIM_FD_HELD)
			return true;
	return false;
}

static bool runnable(const char *path)
{
	return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

/* Whether the exec of file can start a program: execvp() looks it up in PATH as glibc does. */
static bool can_run(const char *file, bool search)
{
	const char *dirs, *p, *end;
	char buf[PATH_MAX];
	size_t dl, fl;

	if (!file || !*file)
		return false;
	if (!search || strchr(file, '/'))
		return runnable(file);
	dirs = getenv("PATH") ?: "/bin:/usr/bin"; /* glibc's default */
	fl = strlen(file);
	for (p = dirs;; p = end + 1) {
		end = strchrnul(p, ':');
		dl = (size_t)(end - p);
		if (dl + fl + 2 <= sizeof(buf)) {
			memcpy(buf, p, dl);
			if (dl == 0) /* an empty entry is the current directory */
				buf[dl++] = '.';
			buf[dl] = '/';
			memcpy(buf + dl + 1, file, fl + 1);
			if (runnable(buf))
				return true;
		}
		if (!*end)
			return false;
	}
}

static void before_exec(const char *file, bool search)
{
	if (any_held() && can_run(file, search))
		shim_release_held_cloexec();
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (!SHIM_REAL_READY(execve))
		return shim_enosys();
	before_exec(path, false);
	return real.execve(path, argv, envp);
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	if (!SHIM_REAL_READY(execv))
		return shim_enosys();
	before_exec(path, false);
	return real.execv(path, argv);
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	if (!SHIM_REAL_READY(execvp))
		return shim_enosys();
	before_exec(file, true);
	return real.execvp(file, argv);
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!SHIM_REAL_READY(execvpe))
		return shim_enosys();
	before_exec(file, true);
	return real.execvpe(file, argv, envp);
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!SHIM_REAL_READY(fexecve))
		return shim_enosys();
	if (any_held() && real.fcntl(fd, F_GETFD) >= 0)
		shim_release_held_cloexec();
	return real.fexecve(fd, argv, envp);
}
