// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's sd_notify: $NOTIFY_SOCKET parsing and one real datagram. */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helperd/notify.h"
#include "tests/unit/skt_assert.h"

static void test_parse(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];

	ASSERT_EQ(helperd_notify_addr("/run/systemd/notify", &sa, &len), 0, "helperd_notify_addr");
	ASSERT_EQ(sa.sun_family, AF_UNIX, "sa.sun_family");
	ASSERT_STREQ(sa.sun_path, "/run/systemd/notify", "sa.sun_path");
	ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/systemd/notify") + 1,
		  "len");

	ASSERT_EQ(helperd_notify_addr("@abstract/name", &sa, &len), 0, "helperd_notify_addr");
	ASSERT_EQ(sa.sun_path[0], '\0', "sa.sun_path[0]");
	ASSERT_MEMEQ(sa.sun_path + 1, "abstract/name", 13, "sa.sun_path + 1");
	/* Abstract names are as long as the address says: no trailing NUL counted. */
	ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 14, "len");

	ASSERT_EQ(helperd_notify_addr(NULL, &sa, &len), -EINVAL, "helperd_notify_addr");
	ASSERT_EQ(helperd_notify_addr("", &sa, &len), -EINVAL, "helperd_notify_addr");
	ASSERT_EQ(helperd_notify_addr("@", &sa, &len), -EINVAL, "helperd_notify_addr");
	ASSERT_EQ(helperd_notify_addr("/", &sa, &len), -EINVAL, "helperd_notify_addr");
	ASSERT_EQ(helperd_notify_addr("relative/path", &sa, &len), -EINVAL, "helperd_notify_addr");
	ASSERT_EQ(helperd_notify_addr("vsock:2:1234", &sa, &len), -EINVAL, "helperd_notify_addr");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), -ENAMETOOLONG, "helperd_notify_addr");
	/* 108 bytes: fits abstract (no NUL needed), not as a path. */
	longpath[108] = '\0';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), -ENAMETOOLONG, "helperd_notify_addr");
	longpath[0] = '@';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), 0, "helperd_notify_addr");
}

static void test_send(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char env[64], buf[64];
	ssize_t n;
	int fd;

	ASSERT_EQ(helperd_notify(NULL, "READY=1"), 0, "helperd_notify"); /* unset: nothing to do */

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "test_helperd_notify/%d", (int)getpid());
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa,
		       offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1)),
		  0, "bind");
	snprintf(env, sizeof(env), "@%s", sa.sun_path + 1);
	ASSERT_EQ(helperd_notify(env, "READY=1\nSTATUS=testing"), 0, "helperd_notify");
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ASSERT_EQ(n, 22, "n");
	buf[n > 0 ? n : 0] = '\0';
	ASSERT_STREQ(buf, "READY=1\nSTATUS=testing", "buf");
	close(fd);
	ASSERT_EQ(helperd_notify(env, "STOPPING=1"), -ECONNREFUSED,
		  "helperd_notify"); /* nobody there now */
}

int main(void)
{
	test_parse();
	test_send();
	return skt_summary();
}
