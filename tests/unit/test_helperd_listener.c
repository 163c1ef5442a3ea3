// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's listening socket: LISTEN_FDS parsing, fd checks, binding. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "helperd/listener.h"
#include "tests/unit/skt_assert.h"

static void test_activation_parse(void)
{
	const char *why;

	ASSERT_EQ(helperd_activation_parse(NULL, NULL, 42, &why), 0,
		  "helperd_activation_parse"); /* not activated */
	ASSERT_EQ(helperd_activation_parse("42", NULL, 42, &why), 0, "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", "1", 42, &why), 1, "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", "1", 42, NULL), 1, "helperd_activation_parse");

	ASSERT_EQ(helperd_activation_parse("43", "1", 42, &why), -EINVAL,
		  "helperd_activation_parse"); /* wrong pid */
	ASSERT_STREQ(why, "LISTEN_PID names another process", "why");
	ASSERT_EQ(helperd_activation_parse(NULL, "1", 42, &why), -EINVAL,
		  "helperd_activation_parse"); /* pid missing */
	ASSERT_EQ(helperd_activation_parse("", "1", 42, &why), -EINVAL, "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42x", "1", 42, &why), -EINVAL,
		  "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("-42", "1", 42, &why), -EINVAL,
		  "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", "0", 42, &why), -EINVAL,
		  "helperd_activation_parse"); /* count 0 */
	ASSERT_STREQ(why, "LISTEN_FDS passes no socket", "why");
	ASSERT_EQ(helperd_activation_parse("42", "2", 42, &why), -EINVAL,
		  "helperd_activation_parse"); /* count 2 */
	ASSERT_STREQ(why, "LISTEN_FDS passes more than one socket (expected exactly one)", "why");
	ASSERT_EQ(helperd_activation_parse("42", "", 42, &why), -EINVAL,
		  "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", " 1", 42, &why), -EINVAL,
		  "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", "1 ", 42, &why), -EINVAL,
		  "helperd_activation_parse");
	ASSERT_EQ(helperd_activation_parse("42", "99999999999999999999", 42, &why), -EINVAL,
		  "helperd_activation_parse");
}

static int listening(int type, int domain)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, 0);

	if (fd >= 0 && domain == AF_UNIX) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		/* Autobind to an abstract address. */
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) < 0 ||
		    (type != SOCK_DGRAM && listen(fd, 1) < 0)) {
			close(fd);
			return -1;
		}
	} else if (fd >= 0 && listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_check_fd(void)
{
	int fd, pipefd[2];

	fd = listening(SOCK_SEQPACKET, AF_UNIX);
	ASSERT_EQ(helperd_listener_check(fd), 0, "helperd_listener_check");
	close(fd);
	fd = listening(SOCK_STREAM, AF_UNIX);
	ASSERT_EQ(helperd_listener_check(fd), -EPROTOTYPE, "helperd_listener_check");
	close(fd);
	fd = listening(SOCK_STREAM, AF_INET);
	ASSERT_EQ(helperd_listener_check(fd), -EAFNOSUPPORT, "helperd_listener_check");
	close(fd);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0); /* not listening */
	ASSERT_EQ(helperd_listener_check(fd), -EINVAL, "helperd_listener_check");
	close(fd);
	ASSERT_EQ(pipe(pipefd), 0, "pipe");
	ASSERT_EQ(helperd_listener_check(pipefd[0]), -ENOTSOCK, "helperd_listener_check");
	close(pipefd[0]);
	close(pipefd[1]);
	ASSERT_EQ(helperd_listener_check(-1), -EBADF, "helperd_listener_check");
}

static void test_adopt_sets_flags(void)
{
	struct helperd_listener l;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0); /* no CLOEXEC, blocking, as systemd hands */
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)), 0, "bind");
	ASSERT_EQ(listen(fd, 1), 0, "listen");
	ASSERT_EQ(helperd_listener_adopt(&l, fd), 0, "helperd_listener_adopt");
	ASSERT_TRUE(l.activated, "l.activated");
	ASSERT_FALSE(l.created_path, "l.created_path");
	ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC, "fcntl");
	ASSERT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK, "fcntl");
	helperd_listener_close(&l);
}

static void test_bind(void)
{
	char dir[] = "/tmp/test_helperd_listener.XXXXXX", path[128], file[128];
	struct helperd_listener a, b;
	struct stat st;
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/sub/dir/h.sock", dir);
	ASSERT_EQ(helperd_listener_bind(&a, path), 0,
		  "helperd_listener_bind"); /* creates the parents */
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 0777, 0666, "st.st_mode & 0777");
	ASSERT_TRUE(S_ISSOCK(st.st_mode), "S_ISSOCK");
	ASSERT_EQ(helperd_listener_check(a.fd), 0, "helperd_listener_check");
	ASSERT_TRUE(fcntl(a.fd, F_GETFL) & O_NONBLOCK, "fcntl");

	/* A live helper on the path: refuse, and leave its socket alone. */
	ASSERT_EQ(helperd_listener_bind(&b, path), -EADDRINUSE, "helperd_listener_bind");
	ASSERT_EQ(stat(path, &st), 0, "stat");

	/* A dead one: its socket file is stale and gets replaced. */
	fd = a.fd;
	a.fd = -1;
	a.created_path = false;
	close(fd);
	ASSERT_EQ(helperd_listener_bind(&b, path), 0, "helperd_listener_bind");
	helperd_listener_close(&b);
	ASSERT_EQ(stat(path, &st), -1, "stat"); /* we created it, so we removed it */

	/* Not a socket: never removed. */
	snprintf(file, sizeof(file), "%s/file", dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	ASSERT_EQ(helperd_listener_bind(&b, file), -EEXIST, "helperd_listener_bind");
	ASSERT_EQ(stat(file, &st), 0, "stat");
	unlink(file);

	/* Too long for sun_path. */
	memset(file, 'a', sizeof(file) - 1);
	file[0] = '/';
	file[sizeof(file) - 1] = '\0';
	file[108] = '\0'; /* one more than sun_path holds with its NUL */
	ASSERT_EQ(helperd_listener_bind(&b, file), -ENAMETOOLONG, "helperd_listener_bind");

	snprintf(path, sizeof(path), "%s/sub/dir", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/*
 * Another user's move in the window after bind: the socket path replaced by a symlink to
 * a file of theirs choosing (the victim). A chmod(path) by the helper would follow it. This
 * chmod replaces libc's for the code under test, doing the swap first, then the chmod.
 */
static const char *race_victim;

int chmod(const char *path, mode_t mode)
{
	if (race_victim) {
		unlink(path);
		if (symlink(race_victim, path) < 0)
			return -1;
	}
	return (int)syscall(SYS_fchmodat, AT_FDCWD, path, mode);
}

static void test_bind_mode_without_chmod(void)
{
	char dir[] = "/tmp/test_helperd_listener.XXXXXX", path[128], victim[128];
	struct helperd_listener l;
	mode_t old = umask(077); /* a strict umask must not make the socket private */
	struct stat st;
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/h.sock", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0, "fd >= 0");
	close(fd);
	race_victim = victim;
	ASSERT_EQ(helperd_listener_bind(&l, path), 0, "helperd_listener_bind");
	race_victim = NULL;
	umask(old);
	ASSERT_EQ(stat(victim, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 07777, 0600,
		  "st.st_mode & 07777"); /* never made world-writable through the link */
	ASSERT_EQ(lstat(path, &st), 0, "lstat");
	ASSERT_TRUE(S_ISSOCK(st.st_mode), "S_ISSOCK");
	ASSERT_EQ(st.st_mode & 07777, 0666, "st.st_mode & 07777");
	helperd_listener_close(&l);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

int main(void)
{
	test_activation_parse();
	test_check_fd();
	test_adopt_sets_flags();
	test_bind();
	test_bind_mode_without_chmod();
	return skt_summary();
}
