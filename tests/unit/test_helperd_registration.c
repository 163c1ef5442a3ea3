// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for who may register: namespace, ownership, policy and per-user limit. Every
 * case is refused before the maps are touched, so no privilege and no BPF are needed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "helperd/registration.h"
#include "helperd/sockcheck.h"
#include "tests/unit/skt_assert.h"

static int fake_user(const char *name, uid_t *uid)
{
	return -ENOENT;
}

static int fake_group(const char *name, gid_t *gid)
{
	return -ENOENT;
}

static int fake_exe(const char *path, char *buf, size_t len)
{
	return -ENOENT;
}

static const struct helperd_policy_resolver fake = { fake_user, fake_group, fake_exe, NULL };

/* A loopback pair: *c connected to *a, the server's port in *port. 0 or -1. */
static int tcp_pair(int *c, int *a, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sin, sizeof(sin)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sin, &len))
		return -1;
	*c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	*a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	close(l);
	*port = ntohs(sin.sin_port);
	return *a < 0 ? -1 : 0;
}

static void test_checks(void)
{
	char text[128];
	struct helperd_policy_diags d = {};
	struct helperd_localaddrs la = {};
	struct helperd_registry registry = {};
	struct helperd_policy policy;
	struct helperd_reg_result res;
	struct helperd_policy_subject subject = { .uid = getuid() };
	struct helperd_reg_client who = {
		.uid = getuid(), .pid = getpid(), .untrusted = true, .subject = &subject
	};
	struct helperd_reg_ctx ctx = {
		.registry = &registry, .localaddrs = &la, .enabled = true, .max_per_user = 100
	};
	struct skaccel_tuple t = {};
	__u64 netns = 0;
	uint16_t port = 0;
	int c = -1, a = -1, p[2];

	ASSERT_EQ(helperd_own_netns_cookie(&netns), 0, "helperd_own_netns_cookie");
	ASSERT_EQ(tcp_pair(&c, &a, &port), 0, "tcp_pair");
	ASSERT_EQ(helperd_registry_init(&registry, 64), 0, "helperd_registry_init");
	ctx.own_netns = netns;
	who.netns_cookie = netns;

	/* Another network namespace: whoever asks, root included. */
	who.netns_cookie = netns + 1;
	helperd_register_client(&ctx, c, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_OTHER_NETNS, "res.status");
	ASSERT_TRUE(res.have_tuple, "res.have_tuple");
	who.netns_cookie = netns;

	/* Another user's socket (ours, asked for by someone else). */
	who.uid = getuid() + 1;
	helperd_register_client(&ctx, c, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_NOT_OWNER, "res.status");
	ASSERT_EQ(res.owner, getuid(), "res.owner");
	who.uid = getuid();

	/* The policy: ports, either end, and the rule that refused. */
	snprintf(text, sizeof(text), "default allow\ndeny ports=%u\n", port);
	helperd_policy_init(&policy);
	ASSERT_OK(helperd_policy_parse(&policy, text, strlen(text), &fake, &d),
		  "helperd_policy_parse");
	ctx.policy = &policy;
	helperd_register_client(&ctx, c, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_POLICY, "res.status");
	ASSERT_TRUE(res.rule != NULL, "res.rule != NULL");
	ASSERT_EQ(res.rule ? res.rule->line : 0, 2, "res.rule ? res.rule->line : 0");
	helperd_register_client(&ctx, a, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_POLICY, "res.status");
	helperd_policy_free(&policy);

	/* The default verdict refuses with no rule. */
	snprintf(text, sizeof(text), "default deny\ndeny ports=1\n");
	ASSERT_OK(helperd_policy_parse(&policy, text, strlen(text), &fake, &d),
		  "helperd_policy_parse");
	helperd_register_client(&ctx, c, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_POLICY, "res.status");
	ASSERT_TRUE(res.rule == NULL, "res.rule == NULL");
	helperd_policy_free(&policy);

	/* A per-user line of the policy beats the global limit. */
	snprintf(text, sizeof(text), "max-per-user %u 1\n", (unsigned int)getuid());
	ASSERT_OK(helperd_policy_parse(&policy, text, strlen(text), &fake, &d),
		  "helperd_policy_parse");
	t.local_port = 1; /* any end: it only counts against the user */
	ASSERT_EQ(helperd_registry_add(&registry, 12345, &t, getuid(), NULL), 0,
		  "helperd_registry_add");
	helperd_register_client(&ctx, c, &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_QUOTA, "res.status");
	ASSERT_EQ(res.limit, 1, "res.limit");
	helperd_policy_free(&policy);
	ctx.policy = NULL;

	/* Not a socket at all: that refusal comes first, whoever asks. */
	ASSERT_EQ(pipe(p), 0, "pipe");
	who.netns_cookie = netns + 1;
	helperd_register_client(&ctx, p[0], &who, 0, 0, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_NOT_SOCKET, "res.status");
	close(p[0]);
	close(p[1]);

	close(c);
	close(a);
	helperd_registry_free(&registry);
	helperd_localaddrs_free(&la);
}

/*
 * REGISTER_IF_PEER_WAITS: without a waiting end under the mirror tuple nothing is done
 * (OK_NO_PEER, the registry untouched); with one, the registration goes on (here to the
 * per-user limit, which stops it before the maps).
 */
static void test_if_peer_waits(void)
{
	struct helperd_localaddrs la = {};
	struct helperd_registry registry = {};
	struct helperd_reg_result res;
	struct helperd_reg_client who = { .uid = getuid(), .pid = getpid(), .untrusted = true };
	struct helperd_reg_ctx ctx = {
		.registry = &registry, .localaddrs = &la, .enabled = true, .max_per_user = 1
	};
	struct helperd_reg_end *e = NULL;
	struct skaccel_tuple t = {};
	__u64 netns = 0, cookie = 0;
	uint16_t port = 0;
	int c = -1, a = -1, err = 0;

	ASSERT_EQ(helperd_own_netns_cookie(&netns), 0, "helperd_own_netns_cookie");
	ASSERT_EQ(tcp_pair(&c, &a, &port), 0, "tcp_pair");
	ASSERT_EQ(helperd_registry_init(&registry, 64), 0, "helperd_registry_init");
	ctx.own_netns = netns;
	who.netns_cookie = netns;

	helperd_register_client(&ctx, c, &who, 0, SKACCEL_REQ_IF_PEER_WAITS, &res);
	ASSERT_EQ(res.status, SKACCEL_OK_NO_PEER, "res.status");
	ASSERT_FALSE(res.inserted, "res.inserted");
	ASSERT_EQ(registry.n, 0, "registry.n");

	/* c itself waits (registered already): that is not c's peer, so still nothing. */
	ASSERT_EQ(helperd_sock_key(c, &cookie, &t, &err), 0, "helperd_sock_key");
	ASSERT_EQ(helperd_registry_add(&registry, cookie, &t, getuid(), &e), 0,
		  "helperd_registry_add");
	if (e)
		helperd_registry_wait(&registry, e);
	helperd_register_client(&ctx, c, &who, 0, SKACCEL_REQ_IF_PEER_WAITS, &res);
	ASSERT_EQ(res.status, SKACCEL_OK_NO_PEER, "res.status");

	/* Our other end waits (its tuple is our mirror): on to the checks that follow. */
	helperd_register_client(&ctx, a, &who, 0, SKACCEL_REQ_IF_PEER_WAITS, &res);
	ASSERT_EQ(res.status, SKACCEL_ERR_QUOTA, "res.status");

	close(c);
	close(a);
	helperd_registry_free(&registry);
	helperd_localaddrs_free(&la);
}

int main(void)
{
	test_checks();
	test_if_peer_waits();
	return skt_summary();
}
