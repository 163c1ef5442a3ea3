// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the helper's locality rule (which peers count as on this host). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "helperd/local_peer.h"
#include "helperd/ratelimit.h"
#include "helperd/tuple.h"
#include "tests/unit/skt_assert.h"

#define OWN_NS 100

static struct skaccel_tuple tuple(__u64 ns, const char *local, const char *remote)
{
	struct sockaddr_in6 l = { .sin6_family = AF_INET6 }, r = { .sin6_family = AF_INET6 };
	struct skaccel_tuple t;

	inet_pton(AF_INET6, local, &l.sin6_addr);
	inet_pton(AF_INET6, remote, &r.sin6_addr);
	helperd_tuple_build(&t, ns, (struct sockaddr *)&l, sizeof(l), (struct sockaddr *)&r,
			    sizeof(r));
	return t;
}

static void addr(__u8 out[16], const char *text)
{
	inet_pton(AF_INET6, text, out);
}

static void test_rule(void)
{
	__u8 addrs[2][16];
	struct skaccel_tuple t;

	addr(addrs[0], "::ffff:192.168.1.10");
	addr(addrs[1], "fd00::10");

	t = tuple(OWN_NS, "::ffff:10.0.0.1", "::ffff:127.0.0.1");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, addrs, 2), "helperd_is_local"); /* loopback peer */
	t = tuple(OWN_NS, "::ffff:10.0.0.1", "::ffff:127.255.0.9");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, NULL, 0), "helperd_is_local"); /* all of 127/8 */
	t = tuple(5, "::1", "::1");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, NULL, 0),
		    "helperd_is_local"); /* v6 loopback, other netns */
	t = tuple(5, "::ffff:172.17.0.2", "::ffff:172.17.0.2");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, NULL, 0),
		    "helperd_is_local"); /* peer == local, any netns */
	t = tuple(OWN_NS, "::ffff:192.168.1.20", "::ffff:192.168.1.10");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, addrs, 2),
		    "helperd_is_local"); /* one of our addresses */
	t = tuple(OWN_NS, "fd00::20", "fd00::10");
	ASSERT_TRUE(helperd_is_local(&t, OWN_NS, addrs, 2), "helperd_is_local");
	/* ... but only where our interfaces are the socket's: not in another netns. */
	t = tuple(OWN_NS + 1, "::ffff:192.168.1.20", "::ffff:192.168.1.10");
	ASSERT_FALSE(helperd_is_local(&t, OWN_NS, addrs, 2), "helperd_is_local");
	t = tuple(OWN_NS, "::ffff:192.168.1.10", "::ffff:192.168.1.11");
	ASSERT_FALSE(helperd_is_local(&t, OWN_NS, addrs, 2),
		     "helperd_is_local"); /* a remote host */
	t = tuple(OWN_NS, "::ffff:192.168.1.10", "::ffff:8.8.8.8");
	ASSERT_FALSE(helperd_is_local(&t, OWN_NS, addrs, 2), "helperd_is_local");
	/* ::ffff:127.0.0.1 is loopback, 127.0.0.1 as an IPv4-compatible v6 address is not. */
	t = tuple(OWN_NS, "fd00::1", "::127.0.0.1");
	ASSERT_FALSE(helperd_is_local(&t, OWN_NS, addrs, 2), "helperd_is_local");
}

static void test_cache(void)
{
	struct helperd_localaddrs la = {};
	uint64_t now = helperd_now_ns();
	__u8 lo[16];
	size_t i;
	int found = 0;

	ASSERT_EQ(helperd_localaddrs_refresh(&la, now), 0, "helperd_localaddrs_refresh");
	addr(lo, "::ffff:127.0.0.1");
	for (i = 0; i < la.n; i++)
		found |= memcmp(la.addrs[i], lo, 16) == 0;
	ASSERT_TRUE(found, "found"); /* lo's 127.0.0.1, as v4-mapped */
	/* Within the TTL nothing is re-read. */
	la.n = 0;
	ASSERT_EQ(helperd_localaddrs_refresh(&la, now + 1), 0, "helperd_localaddrs_refresh");
	ASSERT_EQ(la.n, 0, "la.n");
	ASSERT_EQ(helperd_localaddrs_refresh(&la, now + HELPERD_LOCALADDRS_TTL_NS), 0,
		  "helperd_localaddrs_refresh");
	ASSERT_NEQ(la.n, 0, "la.n");
	helperd_localaddrs_free(&la);
}

int main(void)
{
	test_rule();
	test_cache();
	return skt_summary();
}
