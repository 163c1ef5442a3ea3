// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The executable reader (exe_reader.h): forked before the helper drops its capabilities,
 * it keeps CAP_SYS_PTRACE alone and answers one question per message. The helper passes
 * the pidfd SO_PEERPIDFD gave it, so both sides name the process that connected, not a
 * number that may have been reused.
 */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "helperd/caps.h"
#include "helperd/exe_reader.h"

/*
 * Every request carries a number its answer repeats: after a timeout the helper keeps the
 * reader, and a late answer is recognised as stale and dropped, never taken for another
 * client's.
 */
struct exe_request {
	uint32_t seq;
	int32_t pid; /* with the pidfd attached */
};

struct exe_answer {
	uint32_t seq;
	int32_t err;	     /* positive errno, 0: path is valid */
	char path[PATH_MAX]; /* NUL-terminated; only that much is sent */
};

int helperd_exe_read(int pidfd, pid_t pid, char *buf, size_t len)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == len - 1)
		return -ENAMETOOLONG;
	/*
	 * A pid is not reused while its process lives, and a pidfd turns readable when it
	 * has exited: not readable after the readlink means the link was that process's.
	 */
	if (poll(&pfd, 1, 0) != 0)
		return -ESRCH;
	buf[n] = '\0';
	/* Replaced under a running program (a package upgrade): still its path. */
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
	return 0;
}

static __attribute__((noreturn)) void serve(int sock)
{
	int fds[SKACCEL_FD_PASS_MAX], nfds, truncated, i;
	struct exe_request q;
	struct exe_answer a;
	ssize_t n;

	for (;;) {
		n = skaccel_recv_fds(sock, &q, sizeof(q), fds, &nfds, &truncated, 0);
		if (n == -EINTR)
			continue;
		if (n <= 0)
			_exit(0); /* the helper is gone */
		a.err = EINVAL;
		a.seq = n >= (ssize_t)sizeof(q.seq) ? q.seq : 0;
		if (n == (ssize_t)sizeof(q) && nfds == 1 && !truncated)
			a.err = -helperd_exe_read(fds[0], q.pid, a.path, sizeof(a.path));
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (a.err)
			a.path[0] = '\0';
		if (skaccel_send_fd(sock, &a,
				    offsetof(struct exe_answer, path) + strlen(a.path) + 1, -1,
				    0) < 0)
			_exit(0);
	}
}

/*
 * Serve through a worker, forked again (at most once per HELPERD_EXE_READER_RESPAWN_MS)
 * when it is killed: the helper has given up the capability by then and could not start
 * another reader. The socket stays open here meanwhile, so the helper sees a slow reader,
 * not a dead one. A worker that exits by itself saw the helper go: so do we.
 */
static __attribute__((noreturn)) void keep_serving(int sock)
{
	struct timespec pause = { .tv_sec = HELPERD_EXE_READER_RESPAWN_MS / 1000,
				  .tv_nsec = HELPERD_EXE_READER_RESPAWN_MS % 1000 * 1000000L };
	pid_t self = getpid(), pid;
	int status;

	for (;;) {
		pid = fork();
		if (pid < 0)
			serve(sock); /* no worker: serve here, as before */
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self)
				_exit(0);
			serve(sock);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				_exit(1);
		if (!WIFSIGNALED(status))
			_exit(0);
		nanosleep(&pause, NULL);
	}
}

static __attribute__((noreturn)) void reader_main(int sock, pid_t parent)
{
	uint64_t before, after;
	sigset_t set;

	/* Die with the helper; it may have died before the line above took effect. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "skaccel-exe");
	/* The helper blocked these for its signalfd; here they may simply end us. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGHUP, SIG_IGN); /* a reload is the helper's business */
	/* Only its socket, at 3, and stdio for nothing but crashes. */
	if (dup2(sock, 3) < 0)
		_exit(1);
	close_range(4, ~0u, 0);
	/* Without CAP_SYS_PTRACE (systemd's bounding set) it still answers: EACCES. */
	helperd_caps_restrict(HELPERD_CAP_BIT(CAP_SYS_PTRACE), &before, &after);
	keep_serving(3);
}

int helperd_exe_reader_start(struct helperd_exe_reader *r)
{
	pid_t parent = getpid(), pid;
	int sv[2], err;

	r->pid = 0;
	r->fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* Reaped by helperd_exe_reader_stop(): not by the kernel, or kill() could hit a stranger.
	 */
	signal(SIGCHLD, SIG_DFL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0)
		reader_main(sv[1], parent);
	close(sv[1]);
	r->pid = pid;
	r->fd = sv[0];
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int helperd_exe_of(struct helperd_exe_reader *r, int pidfd, pid_t pid, char *buf, size_t len)
{
	struct exe_request q = { .pid = pid };
	struct pollfd pfd = { .events = POLLIN };
	int fds[SKACCEL_FD_PASS_MAX], nfds, truncated, i;
	int64_t deadline, left;
	struct exe_answer a;
	ssize_t n;

	if (r->pid <= 0)
		return helperd_exe_read(pidfd, pid, buf, len);
	pfd.fd = r->fd;
	q.seq = ++r->seq;
	n = skaccel_send_fd(r->fd, &q, sizeof(q), pidfd, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return -ETIMEDOUT; /* a backlog of unanswered requests: it is stalled */
	if (n != (ssize_t)sizeof(q))
		goto gone;
	/* Bounded: the event loop waits here, once per client whose executable matters. */
	deadline = now_ms() + HELPERD_EXE_READER_TIMEOUT_MS;
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT; /* its answer, when it comes, is dropped as stale */
		i = poll(&pfd, 1, (int)left);
		if (i < 0 && errno != EINTR)
			goto gone;
		if (i <= 0)
			continue;
		n = skaccel_recv_fds(r->fd, &a, sizeof(a), fds, &nfds, &truncated, MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EINTR)
			continue;
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (n <= 0)
			goto gone;
		if (n <= (ssize_t)offsetof(struct exe_answer, path) || truncated || nfds ||
		    ((char *)&a)[n - 1] != '\0')
			continue; /* not an answer we can use: as good as none */
		if (a.seq == q.seq)
			break;
	}
	if (a.err)
		return -a.err;
	if (strlen(a.path) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, a.path);
	return 0;
gone:
	/* The reader and its keeper are gone: only a restart of the helper brings them back. */
	helperd_exe_reader_stop(r);
	return -EPIPE;
}

void helperd_exe_reader_stop(struct helperd_exe_reader *r)
{
	if (r->pid <= 0)
		return;
	close(r->fd);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
	r->fd = -1;
}
