// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the executable reader: direct lookups, through the reader, and failures. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helperd/exe_reader.h"
#include "tests/unit/skt_assert.h"

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void test_direct(void)
{
	char want[PATH_MAX], got[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	int pidfd = pidfd_of(getpid()), status;
	pid_t child;

	ASSERT_TRUE(n > 0, "n > 0");
	want[n > 0 ? n : 0] = '\0';
	ASSERT_TRUE(pidfd >= 0, "pidfd >= 0");
	ASSERT_EQ(helperd_exe_read(pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_read");
	ASSERT_STREQ(got, want, "got");
	/* Too small a buffer is an error, never a cut path. */
	ASSERT_EQ(helperd_exe_read(pidfd, getpid(), got, 4), -ENAMETOOLONG, "helperd_exe_read");
	close(pidfd);

	/* A process that has exited: refused, though its pid is still a zombie's. */
	child = fork();
	if (child == 0)
		_exit(0);
	pidfd = pidfd_of(child);
	ASSERT_TRUE(pidfd >= 0, "pidfd >= 0");
	usleep(100 * 1000);
	ASSERT_TRUE(helperd_exe_read(pidfd, child, got, sizeof(got)) < 0, "helperd_exe_read");
	waitpid(child, &status, 0);
	close(pidfd);
}

static void test_reader(void)
{
	struct helperd_exe_reader r = {};
	char want[PATH_MAX], got[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	int pidfd = pidfd_of(getpid());

	want[n > 0 ? n : 0] = '\0';
	/* None started: the lookup is done here. */
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");
	ASSERT_STREQ(got, want, "got");

	ASSERT_EQ(helperd_exe_reader_start(&r), 0, "helperd_exe_reader_start");
	ASSERT_TRUE(r.pid > 0, "r.pid > 0");
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");
	ASSERT_STREQ(got, want, "got");
	/* Its errors come back as they are. */
	ASSERT_EQ(helperd_exe_of(&r, pidfd, 0x7ffffff0, got, sizeof(got)), -ENOENT,
		  "helperd_exe_of");
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, 4), -ENAMETOOLONG, "helperd_exe_of");
	ASSERT_TRUE(r.pid > 0, "r.pid > 0");

	/* A reader whose keeper died: one failure, then the lookups are done here again. */
	kill(r.pid, SIGKILL);
	usleep(50 * 1000);
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), -EPIPE, "helperd_exe_of");
	ASSERT_EQ(r.pid, 0, "r.pid");
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");

	/* Stopping reaps it. */
	ASSERT_EQ(helperd_exe_reader_start(&r), 0, "helperd_exe_reader_start");
	helperd_exe_reader_stop(&r);
	ASSERT_EQ(r.pid, 0, "r.pid");
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1, "waitpid"); /* no child left behind */
	helperd_exe_reader_stop(&r);			      /* twice is fine */
	close(pidfd);
}

/* Running, not a zombie. */
static bool alive(pid_t pid)
{
	char path[64], state = 'Z';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 'Z';
	fclose(f);
	return state != 'Z' && state != 'X';
}

/* The worker the reader's keeper forked: its only child. */
static pid_t worker_of(pid_t keeper)
{
	char path[64];
	int worker = 0, tries;
	FILE *f;

	for (tries = 0; tries < 100 && worker <= 0; tries++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)keeper, (int)keeper);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%d", &worker) != 1)
				worker = 0;
			fclose(f);
		}
		if (worker <= 0)
			usleep(10 * 1000);
	}
	return worker;
}

/* A reader that stalls or is killed is not given up for good: lookups fail, then recover. */
static void test_reader_recovers(void)
{
	struct helperd_exe_reader r = {};
	char want[PATH_MAX], got[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", want, sizeof(want) - 1);
	int pidfd = pidfd_of(getpid());
	pid_t worker, again;

	want[n > 0 ? n : 0] = '\0';
	ASSERT_EQ(helperd_exe_reader_start(&r), 0, "helperd_exe_reader_start");
	worker = worker_of(r.pid);
	ASSERT_TRUE(worker > 0, "worker > 0");
	if (worker <= 0) { /* kill(0, ...) would signal our own process group */
		helperd_exe_reader_stop(&r);
		close(pidfd);
		return;
	}
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");

	/* Stalled: this lookup times out; the reader is kept. */
	ASSERT_EQ(kill(worker, SIGSTOP), 0, "kill");
	ASSERT_EQ(helperd_exe_of(&r, pidfd, 0x7ffffff0, got, sizeof(got)), -ETIMEDOUT,
		  "helperd_exe_of");
	ASSERT_TRUE(r.pid > 0, "r.pid > 0");
	/* Resumed: the late -ENOENT for the request above is dropped, not taken for this one. */
	ASSERT_EQ(kill(worker, SIGCONT), 0, "kill");
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");
	ASSERT_STREQ(got, want, "got");

	/* Killed: the keeper forks another worker, within the respawn pause. */
	ASSERT_EQ(kill(worker, SIGKILL), 0, "kill");
	usleep((HELPERD_EXE_READER_RESPAWN_MS + 300) * 1000);
	again = worker_of(r.pid);
	ASSERT_TRUE(again > 0 && again != worker, "again > 0 && again != worker");
	if (again <= 0)
		again = worker;
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0, "helperd_exe_of");
	ASSERT_STREQ(got, want, "got");
	ASSERT_TRUE(r.pid > 0, "r.pid > 0");

	helperd_exe_reader_stop(&r);
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1, "waitpid");
	/* The worker died with its keeper (a zombie until whoever adopted it reaps it). */
	for (n = 0; n < 100 && alive(again); n++)
		usleep(10 * 1000);
	ASSERT_FALSE(alive(again), "alive");
	close(pidfd);
}

int main(void)
{
	test_direct();
	test_reader();
	test_reader_recovers();
	return skt_summary();
}
