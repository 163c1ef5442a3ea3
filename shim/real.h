/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The libc functions the shim interposes, listed once, and the table of their real versions. */
#ifndef SHIM_REAL_H
#define SHIM_REAL_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

/*
 * Every interposed call, as X(return type, name, parameter list). One list feeds the table
 * of real functions below and the export list (libskaccel.map must name the same calls,
 * and execl(), execle() and execlp() besides: their hooks call real.execve or real.execvp,
 * hook_exec.c); each hook itself lives in a shim/hook_*.c file.
 */
#define SHIM_HOOKED_CALLS(X)                                                                     \
	X(int, connect, (int fd, const struct sockaddr *addr, socklen_t len))                    \
	X(int, accept, (int fd, struct sockaddr *addr, socklen_t *len))                          \
	X(int, accept4, (int fd, struct sockaddr *addr, socklen_t *len, int flags))              \
	X(int, close, (int fd))                                                                  \
	X(int, close_range, (unsigned int first, unsigned int last, int flags))                  \
	X(int, dup, (int fd))                                                                    \
	X(int, dup2, (int oldfd, int newfd))                                                     \
	X(int, dup3, (int oldfd, int newfd, int flags))                                          \
	X(int, getsockopt, (int fd, int level, int name, void *val, socklen_t *len))             \
	X(int, setsockopt, (int fd, int level, int name, const void *val, socklen_t len))        \
	X(ssize_t, recv, (int fd, void *buf, size_t len, int flags))                             \
	X(ssize_t, recvfrom,                                                                     \
	  (int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *alen))    \
	X(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags))                             \
	X(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags))                       \
	X(ssize_t, send, (int fd, const void *buf, size_t len, int flags))                       \
	X(ssize_t, sendto,                                                                       \
	  (int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,          \
	   socklen_t alen))                                                                      \
	X(ssize_t, write, (int fd, const void *buf, size_t len))                                 \
	X(ssize_t, writev, (int fd, const struct iovec *iov, int iovcnt))                        \
	X(ssize_t, sendfile, (int out_fd, int in_fd, off_t *offset, size_t count))               \
	X(ssize_t, sendfile64, (int out_fd, int in_fd, off64_t *offset, size_t count))           \
	X(int, recvmmsg,                                                                         \
	  (int fd, struct mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout)) \
	X(FILE *, fdopen, (int fd, const char *mode))                                            \
	X(ssize_t, read, (int fd, void *buf, size_t len))                                        \
	X(ssize_t, readv, (int fd, const struct iovec *iov, int iovcnt))                         \
	X(ssize_t, __recv_chk, (int fd, void *buf, size_t len, size_t buflen, int flags))        \
	X(ssize_t, __recvfrom_chk,                                                               \
	  (int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *addr,       \
	   socklen_t *alen))                                                                     \
	X(ssize_t, __read_chk, (int fd, void *buf, size_t len, size_t buflen))                   \
	X(int, fcntl, (int fd, int cmd, ...))                                                    \
	X(int, fcntl64, (int fd, int cmd, ...))                                                  \
	X(int, ioctl, (int fd, unsigned long req, ...))                                          \
	X(ssize_t, splice,                                                                       \
	  (int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,                   \
	   unsigned int flags))                                                                  \
	X(int, sigaction, (int sig, const struct sigaction *act, struct sigaction *old))         \
	X(sighandler_t, signal, (int sig, sighandler_t handler))                                 \
	X(sighandler_t, bsd_signal, (int sig, sighandler_t handler))                             \
	X(sighandler_t, ssignal, (int sig, sighandler_t handler))                                \
	X(sighandler_t, sysv_signal, (int sig, sighandler_t handler))                            \
	X(sighandler_t, __sysv_signal, (int sig, sighandler_t handler))                          \
	X(sighandler_t, sigset, (int sig, sighandler_t handler))                                 \
	X(int, siginterrupt, (int sig, int flag))                                                \
	X(void, closefrom, (int lowfd))                                                          \
	X(void, _exit, (int status))                                                             \
	X(void, _Exit, (int status))                                                             \
	X(int, execve, (const char *path, char *const argv[], char *const envp[]))               \
	X(int, execv, (const char *path, char *const argv[]))                                    \
	X(int, execvp, (const char *file, char *const argv[]))                                   \
	X(int, execvpe, (const char *file, char *const argv[], char *const envp[]))              \
	X(int, fexecve, (int fd, char *const argv[], char *const envp[]))

/* real.connect(...) is libc's connect(), whatever the application's symbol lookup finds first. */
struct shim_real {
#define SHIM_REAL_MEMBER(ret, name, params) ret(*name) params;
	SHIM_HOOKED_CALLS(SHIM_REAL_MEMBER)
#undef SHIM_REAL_MEMBER
};

extern struct shim_real real;

/*
 * Resolve every real function with dlsym(RTLD_NEXT). Safe to call any number of times and
 * from any thread; hooks call it themselves when they run before the library constructor
 * (another preloaded library's constructor may well call close() or read()).
 */
void shim_real_init(void);

/* True once real.name can be called; resolves on first use. */
#define SHIM_REAL_READY(name) \
	(__builtin_expect(real.name != NULL, 1) || (shim_real_init(), real.name != NULL))

/*
 * Every hook's definition: the library is built with -fvisibility=hidden, and the version
 * script can only export what is visible.
 */
#define SHIM_EXPORT __attribute__((visibility("default")))

/* What a hook returns when libc lacks its real function: an error, never a crash. */
static inline int shim_enosys(void)
{
	errno = ENOSYS;
	return -1;
}

#endif /* SHIM_REAL_H */
