// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The exec hooks (execve(), execv(), execvp(), execvpe(), fexecve(), and execl(), execle(),
 * execlp()): an exec closes the close-on-exec fds in the kernel, and a socket a silent
 * helper may hold then sends no FIN (reset.c), so such sockets are ended first. Inherited
 * fds are the new program's: left alone. An ended connection cannot be revived if the exec
 * then fails, so the shim acts only when the program is there to run (a missing or
 * non-executable program is how an exec usually fails). glibc's execl(), execle() and
 * execlp() call its execve() internally, never through the shim's, so they are hooked
 * themselves: each builds its argv as glibc does and goes the way of execve() or execvp().
 * posix_spawn() is not hooked: its child closes close-on-exec fds in its own fd table, and
 * the parent's sockets stay open.
 */
#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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

/* The exec of a program by its path (execve(), execl(), execle()): the shim's part, then libc's. */
static int exec_path(const char *path, char *const argv[], char *const envp[])
{
	if (!SHIM_REAL_READY(execve))
		return shim_enosys();
	before_exec(path, false);
	return real.execve(path, argv, envp);
}

/* The exec of a program looked up in PATH (execvp(), execlp()). */
static int exec_search(const char *file, char *const argv[])
{
	if (!SHIM_REAL_READY(execvp))
		return shim_enosys();
	before_exec(file, true);
	return real.execvp(file, argv);
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return exec_path(path, argv, envp);
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
	return exec_search(file, argv);
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

/*
 * How many arguments execl() and its kin pass, arg included, up to their NULL: -1 when an
 * int cannot count them (glibc's limit, and its E2BIG).
 */
static ptrdiff_t count_args(va_list *ap)
{
	ptrdiff_t argc;

	for (argc = 1; va_arg(*ap, const char *); argc++)
		if (argc == INT_MAX)
			return -1;
	return argc;
}

/* argv[0..argc] from arg and the list, its NULL included: what glibc passes to execve(). */
static void fill_args(char *argv[], const char *arg, ptrdiff_t argc, va_list *ap)
{
	ptrdiff_t i;

	argv[0] = (char *)arg;
	for (i = 1; i <= argc; i++)
		argv[i] = va_arg(*ap, char *);
}

static int too_many_args(void)
{
	errno = E2BIG;
	return -1;
}

/*
 * In a list hook (execl() and its kin): argv from arg and the list up to its NULL, as glibc
 * builds it, then the statement then_ with ap_ just past that NULL (execle()'s envp). The
 * argv lives on the stack (alloca, as glibc's own, which lasts until the hook returns): an
 * exec may run in a signal handler or a vfork() child, where malloc() is not safe, and a
 * failed exec must leak nothing. A macro, as va_start() must be in the variadic function.
 */
#define LIST_TO_ARGV(argv, arg, then_)                                          \
	do {                                                                    \
		ptrdiff_t argc_;                                                \
		va_list ap_;                                                    \
                                                                                \
		va_start(ap_, arg);                                             \
		argc_ = count_args(&ap_);                                       \
		va_end(ap_);                                                    \
		if (argc_ < 0)                                                  \
			return too_many_args();                                 \
		(argv) = (char **)alloca((size_t)(argc_ + 1) * sizeof(char *)); \
		va_start(ap_, arg);                                             \
		fill_args(argv, arg, argc_, &ap_);                              \
		then_;                                                          \
		va_end(ap_);                                                    \
	} while (0)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	char **argv;

	LIST_TO_ARGV(argv, arg, (void)0);
	return exec_path(path, argv, environ);
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	char **argv, **envp;

	LIST_TO_ARGV(argv, arg, envp = va_arg(ap_, char **));
	return exec_path(path, argv, envp);
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char **argv;

	LIST_TO_ARGV(argv, arg, (void)0);
	return exec_search(file, argv);
}
