// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's sd_notify: $NOTIFY_SOCKET parsing and one real datagram. */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "helperd/notify.h"
#include "test_helperd_assert.h"

static void test_parse(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	char longpath[200];

	ASSERT_EQ(helperd_notify_addr("/run/systemd/notify", &sa, &len), 0);
	ASSERT_EQ(sa.sun_family, AF_UNIX);
	ASSERT_STREQ(sa.sun_path, "/run/systemd/notify");
	ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/systemd/notify") + 1);

	ASSERT_EQ(helperd_notify_addr("@abstract/name", &sa, &len), 0);
	ASSERT_EQ(sa.sun_path[0], '\0');
	ASSERT_MEMEQ(sa.sun_path + 1, "abstract/name", 13);
	/* Abstract names are as long as the address says: no trailing NUL counted. */
	ASSERT_EQ(len, offsetof(struct sockaddr_un, sun_path) + 14);

	ASSERT_EQ(helperd_notify_addr(NULL, &sa, &len), -EINVAL);
	ASSERT_EQ(helperd_notify_addr("", &sa, &len), -EINVAL);
	ASSERT_EQ(helperd_notify_addr("@", &sa, &len), -EINVAL);
	ASSERT_EQ(helperd_notify_addr("/", &sa, &len), -EINVAL);
	ASSERT_EQ(helperd_notify_addr("relative/path", &sa, &len), -EINVAL);
	ASSERT_EQ(helperd_notify_addr("vsock:2:1234", &sa, &len), -EINVAL);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), -ENAMETOOLONG);
	/* 108 bytes: fits abstract (no NUL needed), not as a path. */
	longpath[108] = '\0';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), -ENAMETOOLONG);
	longpath[0] = '@';
	ASSERT_EQ(helperd_notify_addr(longpath, &sa, &len), 0);
}

static void test_send(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char env[64], buf[64];
	ssize_t n;
	int fd;

	ASSERT_EQ(helperd_notify(NULL, "READY=1"), 0); /* unset: nothing to do */

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "test_helperd_notify/%d", (int)getpid());
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sa,
		       offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1)),
		  0);
	snprintf(env, sizeof(env), "@%s", sa.sun_path + 1);
	ASSERT_EQ(helperd_notify(env, "READY=1\nSTATUS=testing"), 0);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ASSERT_EQ(n, 22);
	buf[n > 0 ? n : 0] = '\0';
	ASSERT_STREQ(buf, "READY=1\nSTATUS=testing");
	close(fd);
	ASSERT_EQ(helperd_notify(env, "STOPPING=1"), -ECONNREFUSED); /* nobody there now */
}

int main(void)
{
	test_parse();
	test_send();
	return test_summary();
}
