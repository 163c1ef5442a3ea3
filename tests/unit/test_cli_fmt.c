// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the skaccel command's pure formatting (cli/fmt.h) and sockmeta_fill. */
#include <stdlib.h>

#include "cli/fmt.h"
#include "common/skaccel_proto.h"
#include "helperd/sockmeta.h"
#include "tests/unit/skt_assert.h"

static void test_units(void)
{
	char b[32];

	cli_fmt_bytes(b, sizeof(b), 0);
	ASSERT_STREQ(b, "0", "b");
	cli_fmt_bytes(b, sizeof(b), 1023);
	ASSERT_STREQ(b, "1023", "b");
	cli_fmt_bytes(b, sizeof(b), 1024);
	ASSERT_STREQ(b, "1.0K", "b");
	cli_fmt_bytes(b, sizeof(b), 1000001);
	ASSERT_STREQ(b, "977K", "b");
	cli_fmt_bytes(b, sizeof(b), 5ull << 20);
	ASSERT_STREQ(b, "5.0M", "b");
	cli_fmt_bytes(b, sizeof(b), 123ull << 30);
	ASSERT_STREQ(b, "123G", "b");
	cli_fmt_bytes(b, sizeof(b), UINT64_MAX);
	ASSERT_STREQ(b, "16E", "b");
	cli_fmt_age(b, sizeof(b), 5);
	ASSERT_STREQ(b, "5s", "b");
	cli_fmt_age(b, sizeof(b), 600);
	ASSERT_STREQ(b, "10m", "b");
	cli_fmt_age(b, sizeof(b), 3 * 3600);
	ASSERT_STREQ(b, "3h", "b");
	cli_fmt_age(b, sizeof(b), 3 * 86400);
	ASSERT_STREQ(b, "3d", "b");
	cli_fmt_rate(b, sizeof(b), 2048, 2.0);
	ASSERT_STREQ(b, "1.0K/s", "b");
	cli_fmt_rate(b, sizeof(b), 2048, 0);
	ASSERT_STREQ(b, "-", "b");
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
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(key, "peer_not_opted_in", "key");
	/* paired, nothing sent yet: the fast path is ready */
	s.peer = 2;
	s.peer_live = true;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_FAST, "state(&s, &key, text)");
	ASSERT_STREQ(key, "", "key");
	ASSERT_STREQ(text, "-", "text");
	/* the last message fell back: on TCP now, and why */
	s.conn.last_fallback = SKACCEL_CNT_FB_BACKLOG;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(key, "fb_backlog", "key");
	ASSERT_STREQ(text, "backpressure: reader too far behind (budget)", "text");
	s.conn.last_fallback = SKACCEL_CNT_FB_LEFT_CONN;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(text, "left its connection", "text");
	s.conn.last_fallback = SKACCEL_CNT_FB_SMALL_BEHIND;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(text, "small write to a reader behind (TCP coalesces)", "text");
	/* ... and a redirect since: fast again (redirecting is cleared by every fallback) */
	s.conn.redirecting = 1;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_FAST, "state(&s, &key, text)");
	s.peer_live = false;
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(key, "peer_closed", "key");
	ASSERT_STREQ(cli_state_name(CLI_STATE_FAST), "fast", "cli_state_name(CLI_STATE_FAST)");
	ASSERT_STREQ(cli_state_name(CLI_STATE_TCP), "tcp", "cli_state_name(CLI_STATE_TCP)");
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
	ASSERT_EQ(s.meta.pid, 42, "s.meta.pid");
	ASSERT_EQ(s.meta.uid, 1000, "s.meta.uid");
	ASSERT_EQ(s.meta.time_ns, 99, "s.meta.time_ns");
	ASSERT_EQ(s.meta.tuple.local_port, 7403, "s.meta.tuple.local_port");
	ASSERT_STREQ(s.meta.comm, "a-very-long-com",
		     "s.meta.comm"); /* 15 characters, as the kernel's */
	ASSERT_EQ(s.meta.rule_line, 7, "s.meta.rule_line");
	ASSERT_EQ(state(&s, &key, text), CLI_STATE_TCP, "state(&s, &key, text)");
	ASSERT_STREQ(key, "policy", "key");
	ASSERT_STREQ(text, "refused by policy: rule at line 7 (deny ports=7403)", "text");

	/* a name a process chose itself cannot carry terminal controls */
	helperd_sockmeta_fill(&s.meta, 42, 1000,
			      "ab\x1b[2J\x9b"
			      "c",
			      &res, 3, 99);
	ASSERT_STREQ(s.meta.comm, "ab?[2J?c", "s.meta.comm");

	res.rule = NULL; /* the default verdict */
	helperd_sockmeta_fill(&s.meta, 42, 1000, "x", &res, 3, 99);
	ASSERT_EQ(s.meta.rule_line, 3, "s.meta.rule_line");
	ASSERT_STREQ(s.meta.rule, "", "s.meta.rule");
	state(&s, &key, text);
	ASSERT_STREQ(text, "refused by policy: no rule matched (default deny, line 3)", "text");

	res.status = SKACCEL_ERR_QUOTA;
	res.rule = &rule; /* not a policy refusal: no rule recorded */
	helperd_sockmeta_fill(&s.meta, 42, 1000, "x", &res, 3, 99);
	ASSERT_EQ(s.meta.rule_line, 0, "s.meta.rule_line");
	state(&s, &key, text);
	ASSERT_STREQ(key, "quota", "key");
	ASSERT_STREQ(text, "refused: per-user quota exceeded", "text");
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
	ASSERT_EQ(cli_table_add(&t, r1), 0, "cli_table_add(&t, r1)");
	ASSERT_EQ(cli_table_add(&t, r2), 0, "cli_table_add(&t, r2)");
	cli_table_print(f, &t);
	fclose(f);
	ASSERT_STREQ(buf,
		     "  PID  NAME         WHY\n"
		     "    7  longer-name  x y\n"
		     "12345  a            -\n",
		     "the table");
	cli_table_free(&t);
	free(buf);
}

int main(void)
{
	test_units();
	test_state();
	test_refused();
	test_table();
	return skt_summary();
}
