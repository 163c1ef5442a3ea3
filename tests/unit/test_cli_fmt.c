// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the skaccel command's pure formatting (cli/fmt.h) and sockmeta_fill. */
#include <stdlib.h>

#include "fmt.h"
#include "skaccel_proto.h"
#include "sockmeta.h"
#include "test_helperd_assert.h"

#define ASSERT_STR(actual, expected)                                               \
	do {                                                                       \
		const char *a_ = (actual), *e_ = (expected);                       \
		CHECK(strcmp(a_, e_) == 0, "expected \"%s\", got \"%s\"", e_, a_); \
	} while (0)

static void test_units(void)
{
	char b[32];

	cli_fmt_bytes(b, sizeof(b), 0);
	ASSERT_STR(b, "0");
	cli_fmt_bytes(b, sizeof(b), 1023);
	ASSERT_STR(b, "1023");
	cli_fmt_bytes(b, sizeof(b), 1024);
	ASSERT_STR(b, "1.0K");
	cli_fmt_bytes(b, sizeof(b), 1000001);
	ASSERT_STR(b, "977K");
	cli_fmt_bytes(b, sizeof(b), 5ull << 20);
	ASSERT_STR(b, "5.0M");
	cli_fmt_bytes(b, sizeof(b), 123ull << 30);
	ASSERT_STR(b, "123G");
	cli_fmt_bytes(b, sizeof(b), UINT64_MAX);
	ASSERT_STR(b, "16E");
	cli_fmt_age(b, sizeof(b), 5);
	ASSERT_STR(b, "5s");
	cli_fmt_age(b, sizeof(b), 600);
	ASSERT_STR(b, "10m");
	cli_fmt_age(b, sizeof(b), 3 * 3600);
	ASSERT_STR(b, "3h");
	cli_fmt_age(b, sizeof(b), 3 * 86400);
	ASSERT_STR(b, "3d");
	cli_fmt_rate(b, sizeof(b), 2048, 2.0);
	ASSERT_STR(b, "1.0K/s");
	cli_fmt_rate(b, sizeof(b), 2048, 0);
	ASSERT_STR(b, "-");
}

static enum cli_state state(const struct cli_sock *s, const char **key, char *text)
{
	return cli_sock_state(s, key, text, 160);
}

static void test_state(void)
{
	struct cli_sock s = { .cookie = 1, .registered = true };
	const char *key;
	char text[160];

	/* registered, no peer: waiting */
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(key, "peer_not_opted_in");
	/* paired, nothing sent yet: the fast path is ready */
	s.peer = 2;
	s.peer_live = true;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_FAST);
	ASSERT_STR(key, "");
	ASSERT_STR(text, "-");
	/* the last message fell back: on TCP now, and why */
	s.conn.last_fallback = SKACCEL_CNT_FB_BACKLOG;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(key, "fb_backlog");
	ASSERT_STR(text, "backpressure: reader too far behind (budget)");
	s.conn.last_fallback = SKACCEL_CNT_FB_LEFT_CONN;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(text, "left its connection");
	s.conn.last_fallback = SKACCEL_CNT_FB_SMALL_BEHIND;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(text, "small write to a reader behind (TCP coalesces)");
	/* ... and a redirect since: fast again (redirecting is cleared by every fallback) */
	s.conn.redirecting = 1;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_FAST);
	s.peer_live = false;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(key, "peer_closed");
	ASSERT_STR(cli_state_name(CLI_STATE_FAST), "fast");
	ASSERT_STR(cli_state_name(CLI_STATE_TCP), "tcp");
}

static void test_refused(void)
{
	struct helperd_policy_rule rule = { .line = 7 };
	struct helperd_reg_result res = { .status = SKACCEL_ERR_POLICY, .have_tuple = true };
	struct cli_sock s = { .refused = true, .have_meta = true };
	const char *key;
	char text[160];

	snprintf(rule.text, sizeof(rule.text), "deny ports=7403");
	res.rule = &rule;
	res.tuple.local_port = 7403;
	helperd_sockmeta_fill(&s.meta, 42, 1000, "a-very-long-command-name", &res, 3, 99);
	ASSERT_EQ(s.meta.pid, 42);
	ASSERT_EQ(s.meta.uid, 1000);
	ASSERT_EQ(s.meta.time_ns, 99);
	ASSERT_EQ(s.meta.tuple.local_port, 7403);
	ASSERT_STR(s.meta.comm, "a-very-long-com"); /* 15 characters, as the kernel's */
	ASSERT_EQ(s.meta.rule_line, 7);
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP);
	ASSERT_STR(key, "policy");
	ASSERT_STR(text, "refused by policy: rule at line 7 (deny ports=7403)");

	/* a name a process chose itself cannot carry terminal controls */
	helperd_sockmeta_fill(&s.meta, 42, 1000,
			      "ab\x1b[2J\x9b"
			      "c",
			      &res, 3, 99);
	ASSERT_STR(s.meta.comm, "ab?[2J?c");

	res.rule = NULL; /* the default verdict */
	helperd_sockmeta_fill(&s.meta, 42, 1000, "x", &res, 3, 99);
	ASSERT_EQ(s.meta.rule_line, 3);
	ASSERT_STR(s.meta.rule, "");
	state(&s, &key, text);
	ASSERT_STR(text, "refused by policy: no rule matched (default deny, line 3)");

	res.status = SKACCEL_ERR_QUOTA;
	res.rule = &rule; /* not a policy refusal: no rule recorded */
	helperd_sockmeta_fill(&s.meta, 42, 1000, "x", &res, 3, 99);
	ASSERT_EQ(s.meta.rule_line, 0);
	state(&s, &key, text);
	ASSERT_STR(key, "quota");
	ASSERT_STR(text, "refused: per-user quota exceeded");
}

static void test_table(void)
{
	static const char *const heads[] = { "PID", "NAME", "WHY" };
	static const bool right[] = { true, false, false };
	const char *r1[] = { "7", "longer-name", "x y" }, *r2[] = { "12345", "a", "-" };
	struct cli_table t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_table_init(&t, 3, heads, right);
	ASSERT_EQ(cli_table_add(&t, r1), 0);
	ASSERT_EQ(cli_table_add(&t, r2), 0);
	cli_table_print(f, &t);
	fclose(f);
	ASSERT_STR(buf, "  PID  NAME         WHY\n"
			"    7  longer-name  x y\n"
			"12345  a            -\n");
	cli_table_free(&t);
	free(buf);
}

int main(void)
{
	test_units();
	test_state();
	test_refused();
	test_table();
	return test_summary();
}
