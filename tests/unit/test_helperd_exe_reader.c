// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the executable reader: direct lookups, through the reader, and failures. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exe_reader.h"
#include "test_helperd_assert.h"

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

	ASSERT_TRUE(n > 0);
	want[n > 0 ? n : 0] = '\0';
	ASSERT_TRUE(pidfd >= 0);
	ASSERT_EQ(helperd_exe_read(pidfd, getpid(), got, sizeof(got)), 0);
	ASSERT_STREQ(got, want);
	/* Too small a buffer is an error, never a cut path. */
	ASSERT_EQ(helperd_exe_read(pidfd, getpid(), got, 4), -ENAMETOOLONG);
	close(pidfd);

	/* A process that has exited: refused, though its pid is still a zombie's. */
	child = fork();
	if (child == 0)
		_exit(0);
	pidfd = pidfd_of(child);
	ASSERT_TRUE(pidfd >= 0);
	usleep(100 * 1000);
	ASSERT_TRUE(helperd_exe_read(pidfd, child, got, sizeof(got)) < 0);
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
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0);
	ASSERT_STREQ(got, want);

	ASSERT_EQ(helperd_exe_reader_start(&r), 0);
	ASSERT_TRUE(r.pid > 0);
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0);
	ASSERT_STREQ(got, want);
	/* Its errors come back as they are. */
	ASSERT_EQ(helperd_exe_of(&r, pidfd, 0x7ffffff0, got, sizeof(got)), -ENOENT);
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, 4), -ENAMETOOLONG);
	ASSERT_TRUE(r.pid > 0);

	/* A reader that died: one failure, then the lookups are done here again. */
	kill(r.pid, SIGKILL);
	usleep(50 * 1000);
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), -EPIPE);
	ASSERT_EQ(r.pid, 0);
	ASSERT_EQ(helperd_exe_of(&r, pidfd, getpid(), got, sizeof(got)), 0);

	/* Stopping reaps it. */
	ASSERT_EQ(helperd_exe_reader_start(&r), 0);
	helperd_exe_reader_stop(&r);
	ASSERT_EQ(r.pid, 0);
	ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1); /* no child left behind */
	helperd_exe_reader_stop(&r);		   /* twice is fine */
	close(pidfd);
}

int main(void)
{
	test_direct();
	test_reader();
	return test_summary();
}
