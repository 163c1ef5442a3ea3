// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's pairing tuples: v4, v6, v4-mapped, mirrors, printing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include "helperd/tuple.h"
#include "tests/unit/skt_assert.h"

static struct sockaddr_in v4(const char *ip, unsigned short port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &sin.sin_addr);
	return sin;
}

static struct sockaddr_in6 v6(const char *ip, unsigned short port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	return sin6;
}

#define SA(x) ((const struct sockaddr *)&(x)), sizeof(x)

static void test_v4_is_mapped_and_host_order(void)
{
	struct sockaddr_in l = v4("127.0.0.1", 5000), r = v4("127.0.0.2", 40000);
	static const __u8 mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	struct skaccel_tuple t;

	ASSERT_EQ(helperd_tuple_build(&t, 42, SA(l), SA(r)), 0, "helperd_tuple_build");
	ASSERT_EQ(t.netns_cookie, 42, "t.netns_cookie");
	ASSERT_MEMEQ(t.local_addr, mapped, 16, "t.local_addr");
	ASSERT_EQ(t.remote_addr[15], 2, "t.remote_addr[15]");
	ASSERT_EQ(t.local_port, 5000, "t.local_port");
	ASSERT_EQ(t.remote_port, 40000, "t.remote_port");
	ASSERT_EQ(t.pad, 0, "t.pad");
	ASSERT_TRUE(helperd_addr_is_v4mapped(t.local_addr), "helperd_addr_is_v4mapped");
}

static void test_v6(void)
{
	struct sockaddr_in6 l = v6("fd00::1", 1), r = v6("fd00::2", 2);
	struct skaccel_tuple t;

	ASSERT_EQ(helperd_tuple_build(&t, 1, SA(l), SA(r)), 0, "helperd_tuple_build");
	ASSERT_MEMEQ(t.local_addr, &l.sin6_addr, 16, "t.local_addr");
	ASSERT_MEMEQ(t.remote_addr, &r.sin6_addr, 16, "t.remote_addr");
	ASSERT_FALSE(helperd_addr_is_v4mapped(t.local_addr), "helperd_addr_is_v4mapped");
}

/* An AF_INET client and the dual-stack AF_INET6 server that accepted it must pair. */
static void test_dual_stack_mirror(void)
{
	struct sockaddr_in cl = v4("127.0.0.1", 40000), cr = v4("127.0.0.1", 8080);
	struct sockaddr_in6 sl = v6("::ffff:127.0.0.1", 8080), sr = v6("::ffff:127.0.0.1", 40000);
	struct skaccel_tuple client, server, mirror;

	ASSERT_EQ(helperd_tuple_build(&client, 7, SA(cl), SA(cr)), 0, "helperd_tuple_build");
	ASSERT_EQ(helperd_tuple_build(&server, 7, SA(sl), SA(sr)), 0, "helperd_tuple_build");
	helperd_tuple_mirror(&mirror, &client);
	ASSERT_MEMEQ(&mirror, &server, sizeof(mirror), "&mirror");
	helperd_tuple_mirror(&mirror, &server);
	ASSERT_MEMEQ(&mirror, &client, sizeof(mirror), "&mirror");
}

/* The same addresses in another network namespace must never pair. */
static void test_netns_separates(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 1), b = v4("127.0.0.1", 2);
	struct skaccel_tuple t1, t2, m;

	helperd_tuple_build(&t1, 1, SA(a), SA(b));
	helperd_tuple_build(&t2, 2, SA(b), SA(a));
	helperd_tuple_mirror(&m, &t1);
	ASSERT_TRUE(memcmp(&m, &t2, sizeof(m)) != 0, "tuples of two netns compare equal");
}

static void test_rejects(void)
{
	struct sockaddr_in a = v4("127.0.0.1", 1);
	struct sockaddr_in6 b = v6("::1", 1);
	struct sockaddr un = { .sa_family = AF_UNIX };
	struct skaccel_tuple t;

	ASSERT_EQ(helperd_tuple_build(&t, 1, SA(a), SA(b)), -EAFNOSUPPORT, "helperd_tuple_build");
	ASSERT_EQ(helperd_tuple_build(&t, 1, SA(un), SA(un)), -EAFNOSUPPORT, "helperd_tuple_build");
	ASSERT_EQ(helperd_tuple_build(&t, 1, (const struct sockaddr *)&a, 4, SA(a)), -EINVAL,
		  "helperd_tuple_build");
	ASSERT_EQ(helperd_tuple_build(&t, 1, SA(b), (const struct sockaddr *)&b, 20), -EINVAL,
		  "helperd_tuple_build");
}

static void test_loopback_and_format(void)
{
	struct sockaddr_in l = v4("127.1.2.3", 80), r = v4("10.0.0.1", 443);
	struct sockaddr_in6 l6 = v6("::1", 80), r6 = v6("::2", 443);
	struct skaccel_tuple t;
	char buf[HELPERD_ADDR_STRLEN];

	helperd_tuple_build(&t, 1, SA(l), SA(r));
	ASSERT_TRUE(helperd_addr_is_loopback(t.local_addr), "helperd_addr_is_loopback");
	ASSERT_FALSE(helperd_addr_is_loopback(t.remote_addr), "helperd_addr_is_loopback");
	helperd_addr_format(buf, sizeof(buf), t.local_addr, t.local_port);
	ASSERT_STREQ(buf, "127.1.2.3:80", "buf");
	helperd_tuple_build(&t, 1, SA(l6), SA(r6));
	ASSERT_TRUE(helperd_addr_is_loopback(t.local_addr), "helperd_addr_is_loopback");
	ASSERT_FALSE(helperd_addr_is_loopback(t.remote_addr), "helperd_addr_is_loopback");
	helperd_addr_format(buf, sizeof(buf), t.remote_addr, t.remote_port);
	ASSERT_STREQ(buf, "[::2]:443", "buf");
}

int main(void)
{
	test_v4_is_mapped_and_host_order();
	test_v6();
	test_dual_stack_mirror();
	test_netns_separates();
	test_rejects();
	test_loopback_and_format();
	return skt_summary();
}
