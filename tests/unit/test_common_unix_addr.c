// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for skaccel_unix_addr() (common/fd_pass.h), the helper socket's address for
 * the shim, skaccel-run and the helper: a file path keeps its NUL and may be 107 bytes, an
 * "@name" is abstract (a leading NUL, no terminator, the length says where it ends) and
 * may be 108; the returned length is what bind and connect need, checked against the
 * kernel with a real bind.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "tests/unit/skt_assert.h"

#define SUN_LEN_MAX sizeof(((struct sockaddr_un *)0)->sun_path) /* 108 */
#define BASE offsetof(struct sockaddr_un, sun_path)

/* A string of n bytes: first, then filler 'a's. */
static char *name_of(char *buf, size_t n, const char *first)
{
	size_t f = strlen(first);

	memset(buf, 'a', n);
	memcpy(buf, first, f < n ? f : n);
	buf[n] = '\0';
	return buf;
}

static void test_file_paths(void)
{
	struct sockaddr_un sun;
	char buf[256];
	socklen_t len;

	memset(&sun, 0x5a, sizeof(sun));
	len = 0;
	ASSERT_OK(skaccel_unix_addr("/run/skaccel/helper.sock", &sun, &len), "skaccel_unix_addr");
	ASSERT_EQ(sun.sun_family, AF_UNIX, "sun.sun_family");
	ASSERT_STREQ(sun.sun_path, "/run/skaccel/helper.sock", "sun.sun_path");
	ASSERT_EQ(len, BASE + strlen("/run/skaccel/helper.sock") + 1, "len (path and its NUL)");
	/* The rest of sun_path is cleared, not left over from the caller. */
	ASSERT_EQ(sun.sun_path[SUN_LEN_MAX - 1], 0, "sun.sun_path[107]");

	ASSERT_OK(skaccel_unix_addr("x", &sun, &len), "skaccel_unix_addr (relative, 1 byte)");
	ASSERT_EQ(len, BASE + 2, "len of a 1-byte path");

	/* 107 bytes and the NUL fill sun_path; 108 do not fit. */
	ASSERT_OK(skaccel_unix_addr(name_of(buf, SUN_LEN_MAX - 1, "/"), &sun, &len),
		  "skaccel_unix_addr (107-byte path)");
	ASSERT_EQ(len, sizeof(struct sockaddr_un), "len of a 107-byte path");
	ASSERT_EQ(sun.sun_path[SUN_LEN_MAX - 1], 0, "NUL of a 107-byte path");
	ASSERT_MEMEQ(sun.sun_path, buf, SUN_LEN_MAX - 1, "sun.sun_path");
	ASSERT_EQ(skaccel_unix_addr(name_of(buf, SUN_LEN_MAX, "/"), &sun, &len), -ENAMETOOLONG,
		  "skaccel_unix_addr (108-byte path)");
	ASSERT_EQ(skaccel_unix_addr(name_of(buf, 200, "/"), &sun, &len), -ENAMETOOLONG,
		  "skaccel_unix_addr (200-byte path)");

	ASSERT_EQ(skaccel_unix_addr("", &sun, &len), -ENAMETOOLONG, "skaccel_unix_addr (empty)");
}

static void test_abstract_names(void)
{
	struct sockaddr_un sun;
	char buf[256];
	socklen_t len;

	ASSERT_OK(skaccel_unix_addr("@skaccel", &sun, &len), "skaccel_unix_addr (@skaccel)");
	ASSERT_EQ(sun.sun_family, AF_UNIX, "sun.sun_family");
	ASSERT_EQ(sun.sun_path[0], 0, "leading NUL of an abstract name");
	ASSERT_MEMEQ(sun.sun_path + 1, "skaccel", 7, "sun.sun_path + 1");
	/* No terminator counted: "@skaccel" and "@skaccel\0" would be two names. */
	ASSERT_EQ(len, BASE + strlen("@skaccel"), "len of @skaccel");

	/* "@" alone: the abstract name of length zero. */
	ASSERT_OK(skaccel_unix_addr("@", &sun, &len), "skaccel_unix_addr (@)");
	ASSERT_EQ(len, BASE + 1, "len of @");

	/* An abstract name needs no terminator, so 108 bytes fit; 109 do not. */
	ASSERT_OK(skaccel_unix_addr(name_of(buf, SUN_LEN_MAX, "@"), &sun, &len),
		  "skaccel_unix_addr (108-byte @name)");
	ASSERT_EQ(len, sizeof(struct sockaddr_un), "len of a 108-byte @name");
	ASSERT_MEMEQ(sun.sun_path + 1, buf + 1, SUN_LEN_MAX - 1, "sun.sun_path + 1");
	ASSERT_OK(skaccel_unix_addr(name_of(buf, SUN_LEN_MAX - 1, "@"), &sun, &len),
		  "skaccel_unix_addr (107-byte @name)");
	ASSERT_EQ(len, sizeof(struct sockaddr_un) - 1, "len of a 107-byte @name");
	ASSERT_EQ(skaccel_unix_addr(name_of(buf, SUN_LEN_MAX + 1, "@"), &sun, &len), -ENAMETOOLONG,
		  "skaccel_unix_addr (109-byte @name)");

	/* '@' only counts first: elsewhere it is an ordinary byte of a file name. */
	ASSERT_OK(skaccel_unix_addr("/tmp/a@b", &sun, &len), "skaccel_unix_addr (/tmp/a@b)");
	ASSERT_STREQ(sun.sun_path, "/tmp/a@b", "sun.sun_path");
}

/* The kernel agrees: what we bind is what getsockname() reports, byte for byte. */
static void test_kernel_agrees(void)
{
	struct sockaddr_un sun, got;
	char name[64], dir[] = "/tmp/test_common_unix_addr.XXXXXX", path[128];
	socklen_t len, glen;
	int fd;

	snprintf(name, sizeof(name), "@test_common_unix_addr/%d", (int)getpid());
	ASSERT_OK(skaccel_unix_addr(name, &sun, &len), "skaccel_unix_addr");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, len), 0, "bind (abstract)");
	glen = sizeof(got);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&got, &glen), 0, "getsockname");
	ASSERT_EQ(glen, len, "getsockname length of the abstract name");
	ASSERT_MEMEQ(&got, &sun, len, "getsockname of the abstract name");
	close(fd);

	ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/h.sock", dir);
	ASSERT_OK(skaccel_unix_addr(path, &sun, &len), "skaccel_unix_addr");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, len), 0, "bind (file)");
	glen = sizeof(got);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *)&got, &glen), 0, "getsockname");
	ASSERT_EQ(glen, len, "getsockname length of the file");
	ASSERT_STREQ(got.sun_path, path, "getsockname of the file");
	close(fd);
	unlink(path);
	ASSERT_EQ(rmdir(dir), 0, "rmdir");
}

int main(void)
{
	test_file_paths();
	test_abstract_names();
	test_kernel_agrees();
	return skt_summary();
}
