/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* A small process that keeps CAP_SYS_PTRACE to read clients' executables for exe= rules. */
#ifndef HELPERD_EXE_READER_H
#define HELPERD_EXE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reading /proc/PID/exe is a ptrace-read check: another user's process, or any process
 * with capabilities the reader lacks, needs CAP_SYS_PTRACE. The helper gives up every
 * capability once it is set up, so, when its policy has exe= rules, it forks this reader
 * first: a process that keeps CAP_SYS_PTRACE and nothing else, holds no other fd, and
 * answers only "which executable is the process behind this pidfd?". A helper taken over
 * through a client could ask it for any process's executable path, nothing more.
 */
struct helperd_exe_reader {
	pid_t pid;    /* 0: none (so a zeroed struct is none) */
	int fd;	      /* SOCK_SEQPACKET to it, when pid is set */
	uint32_t seq; /* of the last request */
};

/*
 * Give up waiting for an answer after this long: that lookup fails (-ETIMEDOUT), the
 * reader is kept, and its late answer dropped. The reader serves through a worker that it
 * forks again, at most once per HELPERD_EXE_READER_RESPAWN_MS, when the worker is killed.
 */
#define HELPERD_EXE_READER_TIMEOUT_MS 200
#define HELPERD_EXE_READER_RESPAWN_MS 1000

/*
 * Fork the reader; the caller must hold CAP_SYS_PTRACE then (the reader keeps only it).
 * 0 or -errno. The reader exits when r->fd closes or the helper dies.
 */
int helperd_exe_reader_start(struct helperd_exe_reader *r);

/*
 * The executable of the process pidfd refers to, whose pid (in our namespace) is pid, into
 * buf: through the reader when there is one, else directly. 0, or -errno: -ESRCH if it
 * has exited (its pid may be another process's by now), -EACCES without the privilege,
 * -ETIMEDOUT when the reader did not answer in time, -EPIPE when it is gone for good (the
 * reader is then stopped and later lookups are done directly).
 */
int helperd_exe_of(struct helperd_exe_reader *r, int pidfd, pid_t pid, char *buf, size_t len);

/* The lookup itself, in whichever process runs it; what the reader does per request. */
int helperd_exe_read(int pidfd, pid_t pid, char *buf, size_t len);

void helperd_exe_reader_stop(struct helperd_exe_reader *r);

#endif /* HELPERD_EXE_READER_H */
