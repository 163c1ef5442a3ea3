// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Unit tests for the policy file: every parse error with its place, and every rule kind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helperd/policy.h"
#include "helperd/text.h"
#include "tests/unit/skt_assert.h"

/* --- a resolver with a fixed world: no /etc/passwd involved ------------------------------ */

static int fake_user(const char *name, uid_t *uid)
{
	static const struct {
		const char *name;
		uid_t uid;
	} users[] = { { "root", 0 }, { "alice", 1000 }, { "bob", 1001 }, { "nobody", 65534 } };
	size_t i;

	if (!strcmp(name, "broken"))
		return -EIO;
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		if (!strcmp(users[i].name, name)) {
			*uid = users[i].uid;
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_group(const char *name, gid_t *gid)
{
	if (!strcmp(name, "web"))
		*gid = 33;
	else if (!strcmp(name, "staff"))
		*gid = 50;
	else
		return -ENOENT;
	return 0;
}

static int fake_exe(const char *path, char *buf, size_t len)
{
	if (!strcmp(path, "/usr/bin/python3"))
		path = "/usr/bin/python3.11"; /* a symlink */
	else if (!strncmp(path, "/missing", 8))
		return -ENOENT;
	snprintf(buf, len, "%s", path);
	return 0;
}

static int fake_user_gid(const char *name, gid_t *gid)
{
	uid_t uid;
	int r = fake_user(name, &uid);

	*gid = uid; /* user private groups: alice 1000 is in group 1000 */
	return r;
}

static const struct helperd_policy_resolver fake = { fake_user, fake_group, fake_exe,
						     fake_user_gid };

static int parse(struct helperd_policy *p, const char *text, struct helperd_policy_diags *d)
{
	memset(d, 0, sizeof(*d));
	helperd_policy_init(p);
	return helperd_policy_parse(p, text, strlen(text), &fake, d);
}

/* text must parse; returns with *p filled in (free it). */
#define PARSE_OK(p, text)                                                                    \
	do {                                                                                 \
		struct helperd_policy_diags d_;                                              \
		int r_ = parse((p), (text), &d_);                                            \
		ASSERT_TRUE(r_ == 0 && d_.errors == 0,                                       \
			    skt_fmt("'%s' refused: %s (line %u col %u)", (text),             \
				    d_.n ? d_.diag[0].msg : "?", d_.n ? d_.diag[0].line : 0, \
				    d_.n ? d_.diag[0].col : 0));                             \
	} while (0)

/* text must be refused with this first error, at this line and column. */
static void expect_error(const char *text, unsigned int line, unsigned int col, const char *msg)
{
	struct helperd_policy_diags d;
	struct helperd_policy p;
	int r = parse(&p, text, &d);

	ASSERT_TRUE(r == -EINVAL, skt_fmt("'%s' was accepted (r %d)", text, r));
	if (r == 0)
		helperd_policy_free(&p);
	ASSERT_TRUE(d.n >= 1 && !d.diag[0].warning, skt_fmt("'%s': no error reported", text));
	if (d.n < 1)
		return;
	ASSERT_TRUE(d.diag[0].line == line && d.diag[0].col == col,
		    skt_fmt("'%s': error at %u:%u, expected %u:%u (%s)", text, d.diag[0].line,
			    d.diag[0].col, line, col, d.diag[0].msg));
	ASSERT_TRUE(!strcmp(d.diag[0].msg, msg),
		    skt_fmt("'%s': message \"%s\", expected \"%s\"", text, d.diag[0].msg, msg));
}

/* --- the parser ------------------------------------------------------------------------ */

static void test_good_files(void)
{
	struct helperd_policy p;

	PARSE_OK(&p, "");
	ASSERT_TRUE(p.from_file, "p.from_file");
	ASSERT_TRUE(p.default_allow, "p.default_allow");
	ASSERT_EQ(p.n_rules, 0, "p.n_rules");
	helperd_policy_free(&p);

	PARSE_OK(&p, "# only a comment\n\n   \t\n");
	ASSERT_EQ(p.n_rules, 0, "p.n_rules");
	helperd_policy_free(&p);

	PARSE_OK(&p, "# first matching rule decides\n"
		     "default deny\n"
		     "allow user=alice,1001 group=web exe=/usr/sbin/nginx ports=80,443,8000-8999\n"
		     "deny  user=nobody   # trailing comment\n"
		     "\tallow\tgroup=staff,50\n"
		     "max-per-user 100\n"
		     "max-per-user alice 10\n"
		     "max-per-user 1001 20");
	ASSERT_FALSE(p.default_allow, "p.default_allow");
	ASSERT_EQ(p.default_line, 2, "p.default_line");
	ASSERT_EQ(p.n_rules, 3, "p.n_rules");
	ASSERT_EQ(p.rules[0].line, 3, "p.rules[0].line");
	ASSERT_TRUE(p.rules[0].allow, "p.rules[0].allow");
	ASSERT_EQ(p.rules[0].n_users, 2, "p.rules[0].n_users");
	ASSERT_EQ(p.rules[0].users[0], 1000, "p.rules[0].users[0]");
	ASSERT_EQ(p.rules[0].users[1], 1001, "p.rules[0].users[1]");
	ASSERT_EQ(p.rules[0].n_groups, 1, "p.rules[0].n_groups");
	ASSERT_EQ(p.rules[0].groups[0], 33, "p.rules[0].groups[0]");
	ASSERT_EQ(p.rules[0].n_exes, 1, "p.rules[0].n_exes");
	ASSERT_STREQ(p.rules[0].exes[0].path, "/usr/sbin/nginx", "p.rules[0].exes[0].path");
	ASSERT_TRUE(p.rules[0].exes[0].resolved == NULL, "p.rules[0].exes[0].resolved == NULL");
	ASSERT_EQ(p.rules[0].n_ports, 3, "p.rules[0].n_ports");
	ASSERT_EQ(p.rules[0].ports[2].lo, 8000, "p.rules[0].ports[2].lo");
	ASSERT_EQ(p.rules[0].ports[2].hi, 8999, "p.rules[0].ports[2].hi");
	ASSERT_EQ(p.rules[0].ports[0].lo, 80, "p.rules[0].ports[0].lo");
	ASSERT_EQ(p.rules[0].ports[0].hi, 80, "p.rules[0].ports[0].hi");
	/* The rule as written, with its commas, for the log. */
	ASSERT_STREQ(p.rules[0].text,
		     "allow user=alice,1001 group=web exe=/usr/sbin/nginx "
		     "ports=80,443,8000-8999",
		     "p.rules[0].text");
	ASSERT_FALSE(p.rules[1].allow, "p.rules[1].allow");
	ASSERT_STREQ(p.rules[1].text, "deny user=nobody", "p.rules[1].text");
	ASSERT_EQ(p.rules[1].line, 4, "p.rules[1].line");
	ASSERT_EQ(p.rules[2].n_groups, 2, "p.rules[2].n_groups");
	ASSERT_EQ(p.max_per_user, 100, "p.max_per_user");
	ASSERT_EQ(p.n_limits, 2, "p.n_limits");
	ASSERT_EQ(p.limits[0].uid, 1000, "p.limits[0].uid");
	ASSERT_EQ(p.limits[0].limit, 10, "p.limits[0].limit");
	ASSERT_EQ(p.limits[1].uid, 1001, "p.limits[1].uid");
	ASSERT_EQ(p.limits[1].line, 8, "p.limits[1].line");
	ASSERT_TRUE(p.needs_exe, "p.needs_exe");
	/* 33 and 50, each once although named three times. */
	ASSERT_EQ(p.n_group_refs, 2, "p.n_group_refs");
	ASSERT_EQ(p.group_refs[0], 33, "p.group_refs[0]");
	ASSERT_EQ(p.group_refs[1], 50, "p.group_refs[1]");
	helperd_policy_free(&p);

	/* A rule without keys matches everything; limits alone need no default. */
	PARSE_OK(&p, "default allow\ndeny\n");
	ASSERT_EQ(p.n_rules, 1, "p.n_rules");
	ASSERT_STREQ(p.rules[0].text, "deny", "p.rules[0].text");
	ASSERT_FALSE(p.needs_exe, "p.needs_exe");
	helperd_policy_free(&p);
	PARSE_OK(&p, "max-per-user bob 7\n");
	ASSERT_TRUE(p.default_allow, "p.default_allow");
	helperd_policy_free(&p);

	/* Bounds themselves are fine. */
	PARSE_OK(&p, "default deny\nallow ports=1,65535,1-65535 user=0,4294967294\n"
		     "max-per-user 2097152\n");
	ASSERT_EQ(p.rules[0].users[1], 4294967294u, "p.rules[0].users[1]");
	helperd_policy_free(&p);
}

static void test_exe_resolution(void)
{
	struct helperd_policy_diags d;
	struct helperd_policy p;

	/* A symlink is matched as itself and as its target (/proc/PID/exe names the target). */
	ASSERT_EQ(parse(&p, "default deny\nallow exe=/usr/bin/python3,/missing/x\n", &d), 0,
		  "parse");
	ASSERT_STREQ(p.rules[0].exes[0].resolved, "/usr/bin/python3.11",
		     "p.rules[0].exes[0].resolved");
	/* A missing file is a warning, not an error: it may be installed later. */
	ASSERT_EQ(d.errors, 0, "d.errors");
	ASSERT_EQ(d.warnings, 1, "d.warnings");
	ASSERT_EQ(d.diag[0].line, 2, "d.diag[0].line");
	ASSERT_EQ(d.diag[0].col, 28, "d.diag[0].col");
	ASSERT_TRUE(d.diag[0].warning, "d.diag[0].warning");
	ASSERT_STREQ(d.diag[0].msg,
		     "exe '/missing/x' does not exist (yet); it matches once it does",
		     "d.diag[0].msg");
	helperd_policy_free(&p);
}

static void test_errors(void)
{
	char big[HELPERD_POLICY_MAX_LINE + 40];

	/* Directives. */
	expect_error("permit user=alice\n", 1, 1,
		     "unknown directive 'permit' (expected allow, deny, default or max-per-user)");
	expect_error("default\n", 1, 1, "'default' needs 'allow' or 'deny'");
	expect_error("default maybe\n", 1, 9,
		     "expected 'allow' or 'deny' after 'default', got 'maybe'");
	expect_error("default allow now\n", 1, 15, "unexpected 'now' after 'default allow'");
	expect_error("default allow\n# x\ndefault deny\n", 3, 1,
		     "'default' given twice (first on line 1)");
	expect_error("\n\nallow user=alice\n", 3, 0,
		     "rules but no 'default' line: say 'default allow' or 'default deny'");

	/* Keys. */
	expect_error("default deny\nallow uid=1\n", 2, 7,
		     "unknown key 'uid' (expected user, group, exe or ports)");
	expect_error("default deny\nallow alice\n", 2, 7, "expected KEY=VALUE, got 'alice'");
	expect_error("default deny\nallow user=alice user=bob\n", 2, 18,
		     "user= given twice in one rule (list the values: user=a,b)");
	expect_error("default deny\nallow user=\n", 2, 7, "empty value for user=");
	expect_error("default deny\nallow user=alice,,bob\n", 2, 18,
		     "empty item in the list of user=");
	expect_error("default deny\nallow ports=80,\n", 2, 16, "empty item in the list of ports=");

	/* Users and groups. */
	expect_error("default deny\nallow user=alice,mallory\n", 2, 18, "unknown user 'mallory'");
	expect_error("default deny\ndeny group=wheel\n", 2, 12, "unknown group 'wheel'");
	expect_error("default deny\nallow user=broken\n", 2, 12,
		     "cannot look up user 'broken': Input/output error");
	expect_error("default deny\nallow user=4294967295\n", 2, 12, "uid 4294967295 out of range");
	expect_error("default deny\nallow group=99999999999\n", 2, 13,
		     "gid 99999999999 out of range");

	/* Ports. */
	expect_error("default deny\nallow ports=0\n", 2, 13, "port 0 out of range 1-65535");
	expect_error("default deny\nallow ports=65536\n", 2, 13, "port 65536 out of range 1-65535");
	expect_error("default deny\nallow ports=80,90-80\n", 2, 16, "port range 90-80 is reversed");
	expect_error("default deny\nallow ports=10-70000\n", 2, 16,
		     "port 70000 out of range 1-65535");
	expect_error("default deny\nallow ports=http\n", 2, 13,
		     "'http' is not a port or a port range (like 80 or 8000-8999)");
	expect_error("default deny\nallow ports=1-2-3\n", 2, 13,
		     "'1-2-3' is not a port or a port range (like 80 or 8000-8999)");
	expect_error("default deny\nallow ports=-5\n", 2, 13,
		     "'-5' is not a port or a port range (like 80 or 8000-8999)");

	/* Executables. */
	expect_error("default deny\nallow exe=nginx\n", 2, 11,
		     "exe 'nginx' is not an absolute path");

	/* Limits. */
	expect_error("max-per-user\n", 1, 1, "expected 'max-per-user N' or 'max-per-user USER N'");
	expect_error("max-per-user alice 1 2\n", 1, 22,
		     "expected 'max-per-user N' or 'max-per-user USER N'");
	expect_error("max-per-user 0\n", 1, 14, "max-per-user 0 out of range 1-2097152");
	expect_error("max-per-user 2097153\n", 1, 14,
		     "max-per-user 2097153 out of range 1-2097152");
	expect_error("max-per-user lots\n", 1, 14, "'lots' is not a number of sockets");
	expect_error("max-per-user 5\nmax-per-user 6\n", 2, 1,
		     "global max-per-user given twice (first on line 1)");
	expect_error("max-per-user alice 5\nmax-per-user 1000 6\n", 2, 14,
		     "max-per-user for '1000' given twice (first on line 1)");
	expect_error("max-per-user carol 5\n", 1, 14, "unknown user 'carol'");

	/* Characters and sizes. */
	expect_error("default allow\r\n", 1, 14,
		     "carriage return at the end of the line (DOS line endings?)");
	expect_error("default\vallow\n", 1, 8, "control character 0x0b");
	expect_error("default allow\nallow user=al\x1b[2Jice\n", 2, 14, "control character 0x1b");
	expect_error("a b c d e f g h i j k l m n o p q\n", 1, 33, "too many words");
	memset(big, 'x', sizeof(big));
	memcpy(big, "default allow\n#", 15);
	big[sizeof(big) - 1] = '\0';
	expect_error(big, 2, 0, "line longer than 1024 bytes");
	{
		/* A NUL byte inside the text: parse takes a length, not a string. */
		static const char nul[] = "default allow\nallow user=a\0lice\n";
		struct helperd_policy_diags d = {};
		struct helperd_policy p;

		helperd_policy_init(&p);
		ASSERT_EQ(helperd_policy_parse(&p, nul, sizeof(nul) - 1, &fake, &d), -EINVAL,
			  "helperd_policy_parse");
		ASSERT_EQ(d.diag[0].line, 2, "d.diag[0].line");
		ASSERT_EQ(d.diag[0].col, 13, "d.diag[0].col");
		ASSERT_STREQ(d.diag[0].msg, "control character 0x00", "d.diag[0].msg");
	}
}

static void test_every_error_reported(void)
{
	struct helperd_policy_diags d;
	struct helperd_policy p;
	char *text;
	size_t i, off = 0;

	/* Three errors on three lines: all three, in order. */
	ASSERT_EQ(parse(&p, "default allow\nallow user=x\ndeny ports=0\nbogus\n", &d), -EINVAL,
		  "parse");
	ASSERT_EQ(d.errors, 3, "d.errors");
	ASSERT_EQ(d.n, 3, "d.n");
	ASSERT_EQ(d.diag[0].line, 2, "d.diag[0].line");
	ASSERT_EQ(d.diag[1].line, 3, "d.diag[1].line");
	ASSERT_EQ(d.diag[2].line, 4, "d.diag[2].line");

	/* Two errors in one list. */
	ASSERT_EQ(parse(&p, "default allow\nallow user=x,alice,y\n", &d), -EINVAL, "parse");
	ASSERT_EQ(d.errors, 2, "d.errors");
	ASSERT_EQ(d.diag[1].col, 20, "d.diag[1].col");

	/* More errors than are kept: all counted. */
	text = malloc(64 * 40);
	for (i = 0; i < 40; i++)
		off += (size_t)sprintf(text + off, "oops%zu\n", i);
	ASSERT_EQ(parse(&p, text, &d), -EINVAL, "parse");
	ASSERT_EQ(d.errors, 40, "d.errors");
	ASSERT_EQ(d.n, HELPERD_POLICY_MAX_DIAGS, "d.n");
	free(text);

	/* Too many rules: one error, at the first rule too many. */
	text = malloc(32 * (HELPERD_POLICY_MAX_RULES + 2) + 32);
	off = (size_t)sprintf(text, "default deny\n");
	for (i = 0; i < HELPERD_POLICY_MAX_RULES + 2; i++)
		off += (size_t)sprintf(text + off, "allow ports=%zu\n", i + 1);
	ASSERT_EQ(parse(&p, text, &d), -EINVAL, "parse");
	ASSERT_EQ(d.errors, 1, "d.errors");
	ASSERT_EQ(d.diag[0].line, HELPERD_POLICY_MAX_RULES + 2, "d.diag[0].line");
	ASSERT_STREQ(d.diag[0].msg, "more than 256 rules", "d.diag[0].msg");
	/* Exactly the bound is fine. */
	text[off - 2 * strlen("allow ports=257\n") - 1] = '\0';
	PARSE_OK(&p, text);
	ASSERT_EQ(p.n_rules, HELPERD_POLICY_MAX_RULES, "p.n_rules");
	helperd_policy_free(&p);
	free(text);

	/* Too many items in one list. */
	text = malloc(8 * 70 + 64);
	off = (size_t)sprintf(text, "default deny\nallow ports=");
	for (i = 0; i < HELPERD_POLICY_MAX_ITEMS + 1; i++)
		off += (size_t)sprintf(text + off, "%s%zu", i ? "," : "", i + 1);
	ASSERT_EQ(parse(&p, text, &d), -EINVAL, "parse");
	ASSERT_STREQ(d.diag[0].msg, "more than 64 items in ports=", "d.diag[0].msg");
	free(text);
}

/* --- evaluation ------------------------------------------------------------------------ */

static bool allows(const struct helperd_policy *p, uid_t uid, const gid_t *groups,
		   unsigned int n_groups, const char *exe, uint16_t lport, uint16_t rport,
		   unsigned int *line)
{
	struct helperd_policy_subject s = { uid, groups, n_groups, exe };
	const struct helperd_policy_rule *rule = (void *)1;
	bool ok = helperd_policy_allows(p, &s, lport, rport, &rule);

	*line = rule ? rule->line : 0;
	return ok;
}

static void test_evaluation(void)
{
	static const gid_t web[] = { 1000, 33 }, none[] = { 1000 };
	struct helperd_policy p;
	unsigned int line;

	/* The built-in policy (no file): everyone. */
	helperd_policy_init(&p);
	ASSERT_TRUE(allows(&p, 1000, NULL, 0, NULL, 1, 2, &line), "allows");
	ASSERT_EQ(line, 0, "line");

	PARSE_OK(&p, "default deny\n"
		     "deny user=nobody\n"		       /* 2 */
		     "allow user=alice exe=/usr/bin/python3\n" /* 3 */
		     "allow group=web ports=80,8000-8999\n"    /* 4 */
		     "deny ports=22\n"			       /* 5 */
		     "allow user=bob\n"			       /* 6 */
		     "allow user=1002 group=staff\n");	       /* 7 */

	/* user: first match decides, so nobody is refused even on port 80 with group web. */
	ASSERT_FALSE(allows(&p, 65534, web, 2, NULL, 80, 5555, &line), "allows");
	ASSERT_EQ(line, 2, "line");
	/* exe: the resolved target matches, the link name too, anything else not. */
	ASSERT_TRUE(allows(&p, 1000, none, 1, "/usr/bin/python3.11", 1, 2, &line), "allows");
	ASSERT_EQ(line, 3, "line");
	ASSERT_TRUE(allows(&p, 1000, none, 1, "/usr/bin/python3", 1, 2, &line), "allows");
	ASSERT_FALSE(allows(&p, 1000, none, 1, "/usr/bin/perl", 1, 2, &line), "allows");
	ASSERT_EQ(line, 0, "line"); /* default */
	/* Unknown exe matches no allow exe= rule. */
	ASSERT_FALSE(allows(&p, 1000, none, 1, NULL, 1, 2, &line), "allows");
	ASSERT_EQ(line, 0, "line");
	/* group and ports, ANDed; either end's port counts; ranges are inclusive. */
	ASSERT_TRUE(allows(&p, 2000, web, 2, NULL, 80, 40000, &line), "allows");
	ASSERT_EQ(line, 4, "line");
	ASSERT_TRUE(allows(&p, 2000, web, 2, NULL, 40000, 80, &line), "allows");
	ASSERT_TRUE(allows(&p, 2000, web, 2, NULL, 8000, 1, &line), "allows");
	ASSERT_TRUE(allows(&p, 2000, web, 2, NULL, 1, 8999, &line), "allows");
	ASSERT_FALSE(allows(&p, 2000, web, 2, NULL, 9000, 7999, &line), "allows");
	ASSERT_EQ(line, 0, "line");
	ASSERT_FALSE(allows(&p, 2000, none, 1, NULL, 80, 1, &line), "allows"); /* not in web */
	/* A deny before an allow: bob on port 22 is refused by line 5. */
	ASSERT_FALSE(allows(&p, 1001, none, 1, NULL, 22, 4000, &line), "allows");
	ASSERT_EQ(line, 5, "line");
	ASSERT_TRUE(allows(&p, 1001, none, 1, NULL, 23, 4000, &line), "allows");
	ASSERT_EQ(line, 6, "line");
	/* user AND group. */
	ASSERT_FALSE(allows(&p, 1002, web, 2, NULL, 1, 2, &line), "allows");
	{
		static const gid_t staff[] = { 50 };

		ASSERT_TRUE(allows(&p, 1002, staff, 1, NULL, 1, 2, &line), "allows");
		ASSERT_EQ(line, 7, "line");
	}
	helperd_policy_free(&p);

	/* default allow, with a deny. */
	PARSE_OK(&p, "default allow\ndeny exe=/usr/bin/nc\n");
	ASSERT_TRUE(allows(&p, 1, NULL, 0, "/usr/bin/cat", 1, 2, &line), "allows");
	ASSERT_FALSE(allows(&p, 1, NULL, 0, "/usr/bin/nc", 1, 2, &line), "allows");
	ASSERT_EQ(line, 2, "line");
	/* Fail closed: an unknown executable may be nc, so the deny rule refuses it. */
	ASSERT_FALSE(allows(&p, 1, NULL, 0, NULL, 1, 2, &line), "allows");
	ASSERT_EQ(line, 2, "line");
	helperd_policy_free(&p);

	/* A deny exe= rule that other keys rule out does not refuse an unknown executable. */
	PARSE_OK(&p, "default allow\ndeny user=bob exe=/usr/bin/nc\nallow user=alice exe=/x\n");
	ASSERT_TRUE(allows(&p, 1000, NULL, 0, NULL, 1, 2, &line), "allows");
	ASSERT_EQ(line, 0, "line"); /* alice, unknown: line 3 does not decide, the default does */
	ASSERT_FALSE(allows(&p, 1001, NULL, 0, NULL, 1, 2, &line), "allows");
	ASSERT_EQ(line, 2, "line");
	helperd_policy_free(&p);
}

/* Subordinate ids: one person, however many uids; limits and rules count the person. */
static void test_subids(void)
{
	static const char subuid[] = "alice:100000:65536\n"
				     "1001:165536:65536\n"
				     "# comment\n"
				     "ghost:300000:10\n" /* unknown: skipped */
				     "bob:100005:3\n"	 /* overlaps alice's: skipped */
				     "alice:abc:1\n";	 /* malformed: skipped */
	static const char subgid[] = "alice:100000:65536\n";
	static const gid_t sub_groups[] = { 100007 };
	struct helperd_policy_diags d = {};
	struct helperd_policy p;
	unsigned int line;
	gid_t out[4];

	PARSE_OK(&p, "default allow\n"
		     "deny user=alice ports=22\n" /* 2 */
		     "deny group=1000 ports=23\n" /* 3 */
		     "max-per-user 50\n"
		     "max-per-user alice 7\n");
	ASSERT_OK(helperd_policy_parse_subids(&p, subuid, sizeof(subuid) - 1, false, &fake, &d),
		  "helperd_policy_parse_subids");
	ASSERT_OK(helperd_policy_parse_subids(&p, subgid, sizeof(subgid) - 1, true, &fake, &d),
		  "helperd_policy_parse_subids");
	ASSERT_EQ(p.n_subuids, 2, "p.n_subuids");
	ASSERT_EQ(p.n_subgids, 1, "p.n_subgids");
	ASSERT_EQ(d.errors, 0, "d.errors");
	ASSERT_EQ(d.warnings, 3, "d.warnings");

	/* Accounting: alice's container uids are alice; others stay themselves. */
	ASSERT_EQ(helperd_policy_account_uid(&p, 100000), 1000, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 165535), 1000, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 165536), 1001, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 231071), 1001, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 231072), 231072, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 99999), 99999, "helperd_policy_account_uid");
	ASSERT_EQ(helperd_policy_account_uid(&p, 1000), 1000, "helperd_policy_account_uid");

	/* Limits: alice's own line applies to her subordinate uids. */
	ASSERT_EQ(helperd_policy_user_limit(&p, 100042, 50), 7, "helperd_policy_user_limit");
	ASSERT_EQ(helperd_policy_user_limit(&p, 231072, 50), 50, "helperd_policy_user_limit");

	/* deny user=alice holds for her container uids too. */
	ASSERT_FALSE(allows(&p, 100042, NULL, 0, NULL, 22, 1, &line), "allows");
	ASSERT_EQ(line, 2, "line");
	ASSERT_TRUE(allows(&p, 231072, NULL, 0, NULL, 22, 1, &line), "allows");
	/* A subordinate gid counts as alice's group 1000: kept, and deny group=1000 holds. */
	ASSERT_EQ(helperd_policy_keep_groups(&p, sub_groups, 1, out, 4), 1,
		  "helperd_policy_keep_groups");
	ASSERT_EQ(out[0], 1000, "out[0]");
	ASSERT_FALSE(allows(&p, 100042, out, 1, NULL, 23, 1, &line), "allows");
	ASSERT_EQ(line, 3, "line");
	helperd_policy_free(&p);
}

static void test_groups_kept(void)
{
	static const gid_t mine[] = { 7, 50, 1000, 33, 50 };
	struct helperd_policy p;
	gid_t out[8];

	PARSE_OK(&p, "default deny\nallow group=web\nallow group=staff,9\n");
	ASSERT_EQ(p.n_group_refs, 3, "p.n_group_refs");
	ASSERT_EQ(helperd_policy_keep_groups(&p, mine, 5, out, 8), 3, "helperd_policy_keep_groups");
	ASSERT_EQ(out[0], 50, "out[0]");
	ASSERT_EQ(out[1], 33, "out[1]");
	ASSERT_EQ(helperd_policy_keep_groups(&p, mine, 5, out, 1), 1, "helperd_policy_keep_groups");
	helperd_policy_free(&p);
	PARSE_OK(&p, "default deny\nallow user=alice\n");
	ASSERT_EQ(helperd_policy_keep_groups(&p, mine, 5, out, 8), 0, "helperd_policy_keep_groups");
	helperd_policy_free(&p);
}

static void test_limits(void)
{
	struct helperd_policy p;

	/* No file: the command line (or its default) for everyone. */
	helperd_policy_init(&p);
	ASSERT_EQ(helperd_policy_global_limit(&p, 4096, false), 4096,
		  "helperd_policy_global_limit");
	ASSERT_EQ(helperd_policy_global_limit(&p, 9, true), 9, "helperd_policy_global_limit");
	ASSERT_EQ(helperd_policy_user_limit(&p, 1000, 4096), 4096, "helperd_policy_user_limit");

	PARSE_OK(&p, "max-per-user 100\nmax-per-user alice 10\n");
	/* The file's global value beats the built-in default, --max-per-user beats the file. */
	ASSERT_EQ(helperd_policy_global_limit(&p, 4096, false), 100, "helperd_policy_global_limit");
	ASSERT_EQ(helperd_policy_global_limit(&p, 50, true), 50, "helperd_policy_global_limit");
	/* A user's own line beats both. */
	ASSERT_EQ(helperd_policy_user_limit(&p, 1000, 50), 10, "helperd_policy_user_limit");
	ASSERT_EQ(helperd_policy_user_limit(&p, 1001, 50), 50, "helperd_policy_user_limit");
	helperd_policy_free(&p);
}

/* --- files ----------------------------------------------------------------------------- */

static void test_files(void)
{
	char dir[] = "/tmp/skt-policy-XXXXXX", path[64], why[128];
	struct helperd_policy_diags d = {};
	struct helperd_policy p;
	struct stat st = {};
	FILE *f;
	char *big;
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/helperd.conf", dir);

	helperd_policy_init(&p);
	ASSERT_EQ(helperd_policy_load(&p, path, &fake, &d), -ENOENT, "helperd_policy_load");
	ASSERT_EQ(d.n, 0, "d.n"); /* the caller decides whether a missing file is an error */

	f = fopen(path, "w");
	fputs("default deny\nallow user=alice\n", f);
	fclose(f);
	chmod(path, 0644);
	ASSERT_OK(helperd_policy_load(&p, path, &fake, &d), "helperd_policy_load");
	ASSERT_EQ(p.n_rules, 1, "p.n_rules");
	helperd_policy_free(&p);

	chmod(path, 0664);
	ASSERT_EQ(helperd_policy_load(&p, path, &fake, &d), -EINVAL, "helperd_policy_load");
	ASSERT_EQ(d.diag[0].line, 0, "d.diag[0].line");
	ASSERT_STREQ(d.diag[0].msg,
		     "writable by its group (mode 0664): anyone who can write it "
		     "decides who may opt in",
		     "d.diag[0].msg");
	chmod(path, 0644);

	/* The size bound, and a file that is not a regular one. */
	big = calloc(1, HELPERD_POLICY_MAX_BYTES + 2);
	memset(big, '\n', HELPERD_POLICY_MAX_BYTES + 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(write(fd, big, HELPERD_POLICY_MAX_BYTES + 1), HELPERD_POLICY_MAX_BYTES + 1,
		  "write");
	close(fd);
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(helperd_policy_load(&p, path, &fake, &d), -EINVAL, "helperd_policy_load");
	ASSERT_STREQ(d.diag[0].msg, "larger than 65536 bytes", "d.diag[0].msg");
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(write(fd, big, HELPERD_POLICY_MAX_BYTES), HELPERD_POLICY_MAX_BYTES, "write");
	close(fd);
	ASSERT_OK(helperd_policy_load(&p, path, &fake, &d), "helperd_policy_load");
	helperd_policy_free(&p);
	free(big);
	memset(&d, 0, sizeof(d));
	ASSERT_EQ(helperd_policy_load(&p, dir, &fake, &d), -EINVAL, "helperd_policy_load");
	ASSERT_STREQ(d.diag[0].msg, "not a regular file", "d.diag[0].msg");
	unlink(path);
	rmdir(dir);

	/* Ownership: root's or the reader's own file, nobody else's. */
	st.st_mode = S_IFREG | 0644;
	st.st_uid = 0;
	ASSERT_TRUE(helperd_policy_file_safe(&st, 1000, why, sizeof(why)),
		    "helperd_policy_file_safe");
	st.st_uid = 1000;
	ASSERT_TRUE(helperd_policy_file_safe(&st, 1000, why, sizeof(why)),
		    "helperd_policy_file_safe");
	ASSERT_FALSE(helperd_policy_file_safe(&st, 0, why, sizeof(why)),
		     "helperd_policy_file_safe");
	ASSERT_STREQ(why, "owned by uid 1000, not by root", "why");
	st.st_uid = 0;
	st.st_mode = S_IFREG | 0646;
	ASSERT_FALSE(helperd_policy_file_safe(&st, 0, why, sizeof(why)),
		     "helperd_policy_file_safe");
}

static void test_diag_format(void)
{
	struct helperd_policy_diag dg = { .line = 4, .col = 12, .msg = "unknown user 'x'" };
	char buf[128];

	helperd_policy_diag_format(buf, sizeof(buf), "/etc/h.conf", &dg);
	ASSERT_STREQ(buf, "/etc/h.conf:4:12: unknown user 'x'", "buf");
	dg.col = 0;
	dg.warning = true;
	helperd_policy_diag_format(buf, sizeof(buf), "/etc/h.conf", &dg);
	ASSERT_STREQ(buf, "/etc/h.conf:4: warning: unknown user 'x'", "buf");
	dg.line = 0;
	dg.warning = false;
	helperd_policy_diag_format(buf, sizeof(buf), "/etc/h.conf", &dg);
	ASSERT_STREQ(buf, "/etc/h.conf: unknown user 'x'", "buf");
}

static void test_escape(void)
{
	char buf[16];

	helperd_escape(buf, sizeof(buf), "/usr/bin/x");
	ASSERT_STREQ(buf, "/usr/bin/x", "buf");
	helperd_escape(buf, sizeof(buf), "/a\nb\\c\x7f");
	ASSERT_STREQ(buf, "/a\\x0ab\\x5cc...", "buf");
	helperd_escape(buf, sizeof(buf), "/a\nb");
	ASSERT_STREQ(buf, "/a\\x0ab", "buf");
	helperd_escape(buf, sizeof(buf), "/very/long/path/name");
	ASSERT_STREQ(buf, "/very/long/p...", "buf");
	helperd_escape(buf, sizeof(buf), "/exactly15chars");
	ASSERT_STREQ(buf, "/exactly15chars", "buf");
	helperd_escape(buf, 3, "abcdef");
	ASSERT_STREQ(buf, "", "buf");
}

int main(void)
{
	test_good_files();
	test_exe_resolution();
	test_subids();
	test_errors();
	test_every_error_reported();
	test_evaluation();
	test_groups_kept();
	test_limits();
	test_files();
	test_diag_format();
	test_escape();
	return skt_summary();
}
