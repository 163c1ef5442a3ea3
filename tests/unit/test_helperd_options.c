// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the helper's command-line parser: defaults, strictness, sizes,
 * combinations. No test here starts a helper: each test_parse_* hands an argv to
 * helperd_options_parse() and reads back the options it filled in. The data-path values
 * below (--rx-budget, --rx-resume, --small-msg, --lock-wait, --disable) are inputs to the parser,
 * not settings anything runs with; where there is a default to write them from, they are written
 * from it (SKACCEL_DEFAULT_*, common/skaccel_maps.h).
 *
 * End to end, each option has tests of its own: --disable in tests/e2e/core/failopen.sh
 * (failopen/helper_disabled) and tests/e2e/core/selftest.sh (selftest/disabled_not_run),
 * --rx-budget and --rx-resume in tests/e2e/core/rx_budget.sh, --small-msg in
 * tests/e2e/core/small_msg.sh, --lock-wait in tests/e2e/core/lock_wait.sh. Every other test runs
 * the data path with the defaults users get.
 */
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>

#include "common/number.h"
#include "common/skaccel_maps.h"
#include "common/skaccel_proto.h"
#include "helperd/options.h"
#include "tests/unit/skt_assert.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static int parse(struct helperd_options *o, char **argv, int argc)
{
	char err[256];
	int r = helperd_options_parse(o, argc, argv, err, sizeof(err));

	if (r)
		ASSERT_TRUE(err[0] != '\0', "err"); /* every refusal says why */
	return r;
}

static void test_parse_size(void)
{
	uint64_t v = 0;

	ASSERT_OK(skaccel_parse_size("0", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 0, "v");
	ASSERT_OK(skaccel_parse_size("4096", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 4096, "v");
	ASSERT_OK(skaccel_parse_size("64K", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 65536, "v");
	ASSERT_OK(skaccel_parse_size("64k", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 65536, "v");
	ASSERT_OK(skaccel_parse_size("4M", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 4u << 20, "v");
	ASSERT_OK(skaccel_parse_size("2G", &v), "skaccel_parse_size");
	ASSERT_EQ(v, 2ull << 30, "v");
	ASSERT_EQ(skaccel_parse_size("", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("M", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("4MB", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("4T", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("-4", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size(" 4", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("4 ", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("1.5M", &v), -EINVAL, "skaccel_parse_size");
	ASSERT_OK(skaccel_parse_size("18446744073709551615", &v), "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("18446744073709551616", &v), -ERANGE, "skaccel_parse_size");
	ASSERT_EQ(skaccel_parse_size("17179869184G", &v), -ERANGE, "skaccel_parse_size");
}

static void test_parse_uint(void)
{
	unsigned int v = 0;

	ASSERT_OK(skaccel_parse_uint("1", 1, 10, &v), "skaccel_parse_uint");
	ASSERT_EQ(v, 1, "v");
	ASSERT_EQ(skaccel_parse_uint("0", 1, 10, &v), -ERANGE, "skaccel_parse_uint");
	ASSERT_EQ(skaccel_parse_uint("11", 1, 10, &v), -ERANGE, "skaccel_parse_uint");
	ASSERT_EQ(skaccel_parse_uint("+1", 1, 10, &v), -EINVAL, "skaccel_parse_uint");
	ASSERT_EQ(skaccel_parse_uint("1x", 1, 10, &v), -EINVAL, "skaccel_parse_uint");
	ASSERT_EQ(skaccel_parse_uint("99999999999999999999999", 1, 10, &v), -ERANGE,
		  "skaccel_parse_uint");
}

static void test_parse_defaults(void)
{
	struct helperd_options o;
	char *argv[] = { "skaccel-helperd", NULL };
	char budget[32], resume[32];
	char *given[] = { "skaccel-helperd", "--rx-budget", budget, "--rx-resume", resume, NULL };

	ASSERT_EQ(parse(&o, argv, ARGC(argv)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_RUN, "o.mode");
	ASSERT_STREQ(o.socket_path, SKACCEL_DEFAULT_SOCKET, "o.socket_path");
	ASSERT_STREQ(o.pin_dir, "/sys/fs/bpf/skaccel", "o.pin_dir");
	ASSERT_EQ(o.log_level, HELPERD_LOG_INFO, "o.log_level");
	ASSERT_EQ(o.max_clients, 1024, "o.max_clients");
	ASSERT_EQ(o.max_per_user, 4096, "o.max_per_user");
	ASSERT_EQ(o.max_socks, SKACCEL_MAX_SOCKS, "o.max_socks");
	ASSERT_EQ(o.rx_budget, SKACCEL_DEFAULT_RX_BUDGET, "o.rx_budget");
	ASSERT_EQ(o.rx_resume, SKACCEL_DEFAULT_RX_RESUME, "o.rx_resume");
	ASSERT_EQ(o.small_msg, 0, "o.small_msg: off");
	ASSERT_FALSE(o.lock_wait_given, "o.lock_wait_given: the CPUs decide");
	ASSERT_FALSE(o.disable, "o.disable");
	ASSERT_FALSE(o.json, "o.json");
	ASSERT_STREQ(o.config_path, "/etc/skaccel/helperd.conf", "o.config_path");
	ASSERT_FALSE(o.config_explicit, "o.config_explicit");
	ASSERT_FALSE(o.max_per_user_given, "o.max_per_user_given");

	/* The data-path defaults, written out: the same options as without them. */
	snprintf(budget, sizeof(budget), "%llu", (unsigned long long)SKACCEL_DEFAULT_RX_BUDGET);
	snprintf(resume, sizeof(resume), "%llu", (unsigned long long)SKACCEL_DEFAULT_RX_RESUME);
	ASSERT_EQ(parse(&o, given, ARGC(given)), 0, "parse: defaults given");
	ASSERT_EQ(o.rx_budget, SKACCEL_DEFAULT_RX_BUDGET, "o.rx_budget: default given");
	ASSERT_EQ(o.rx_resume, SKACCEL_DEFAULT_RX_RESUME, "o.rx_resume: default given");
	ASSERT_FALSE(o.disable, "o.disable: default given");
}

static void test_parse_config(void)
{
	struct helperd_options o;
	char *config[] = { "h", "--config", "/x/p.conf", "--max-per-user", "7", NULL };
	char *check[] = { "h", "--check-config", NULL };
	char *check_eq[] = { "h", "--check-config=/a.conf", NULL };
	char *check_arg[] = { "h", "--check-config", "/b.conf", NULL };
	char *check_config[] = { "h", "--config", "/c.conf", "--check-config", NULL };
	char *check_both[] = { "h", "--config=/c.conf", "--check-config", "/d.conf", NULL };

	ASSERT_EQ(parse(&o, config, ARGC(config)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_RUN, "o.mode");
	ASSERT_STREQ(o.config_path, "/x/p.conf", "o.config_path");
	ASSERT_TRUE(o.config_explicit, "o.config_explicit");
	ASSERT_TRUE(o.max_per_user_given, "o.max_per_user_given");
	ASSERT_EQ(o.max_per_user, 7, "o.max_per_user");

	/* Without a file: the default, which may be missing. */
	ASSERT_EQ(parse(&o, check, ARGC(check)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_CHECK_CONFIG, "o.mode");
	ASSERT_STREQ(o.config_path, "/etc/skaccel/helperd.conf", "o.config_path");
	ASSERT_FALSE(o.config_explicit, "o.config_explicit");
	/* Both spellings of the optional argument; it beats --config. */
	ASSERT_EQ(parse(&o, check_eq, ARGC(check_eq)), 0, "parse");
	ASSERT_STREQ(o.config_path, "/a.conf", "o.config_path");
	ASSERT_TRUE(o.config_explicit, "o.config_explicit");
	ASSERT_EQ(parse(&o, check_arg, ARGC(check_arg)), 0, "parse");
	ASSERT_STREQ(o.config_path, "/b.conf", "o.config_path");
	ASSERT_EQ(parse(&o, check_config, ARGC(check_config)), 0, "parse");
	ASSERT_STREQ(o.config_path, "/c.conf", "o.config_path");
	ASSERT_TRUE(o.config_explicit, "o.config_explicit");
	ASSERT_EQ(parse(&o, check_both, ARGC(check_both)), 0, "parse");
	ASSERT_STREQ(o.config_path, "/d.conf", "o.config_path");
}

/*
 * Every option given, each to a value the parser must read back. The budget's default is
 * none (SKACCEL_DEFAULT_RX_BUDGET is the largest size), so there is nothing to write 8M
 * and 2M from: any budget lowers it, and these are simply sizes to parse.
 */
static void test_parse_all_options(void)
{
	struct helperd_options o;
	char *argv[] = { "skaccel-helperd",
			 "--socket",
			 "/tmp/s",
			 "--pin-dir=/sys/fs/bpf/x",
			 "--log-level",
			 "debug",
			 "--max-clients",
			 "7",
			 "--max-per-user=9",
			 "--max-socks",
			 "64",
			 "--rx-budget",
			 "8M",
			 "--rx-resume",
			 "2M",
			 "--small-msg",
			 "4K",
			 "--lock-wait",
			 "250",
			 "--disable",
			 NULL };

	ASSERT_EQ(parse(&o, argv, ARGC(argv)), 0, "parse");
	ASSERT_STREQ(o.socket_path, "/tmp/s", "o.socket_path");
	ASSERT_STREQ(o.pin_dir, "/sys/fs/bpf/x", "o.pin_dir");
	ASSERT_EQ(o.log_level, HELPERD_LOG_DEBUG, "o.log_level");
	ASSERT_EQ(o.max_clients, 7, "o.max_clients");
	ASSERT_EQ(o.max_per_user, 9, "o.max_per_user");
	ASSERT_EQ(o.max_socks, 64, "o.max_socks");
	ASSERT_EQ(o.rx_budget, 8u << 20, "o.rx_budget");
	ASSERT_EQ(o.rx_resume, 2u << 20, "o.rx_resume");
	ASSERT_EQ(o.small_msg, 4096, "o.small_msg");
	ASSERT_EQ(o.lock_wait_us, 250, "o.lock_wait_us");
	ASSERT_TRUE(o.lock_wait_given, "o.lock_wait_given");
	ASSERT_TRUE(o.disable, "o.disable");
}

/* --lock-wait: microseconds, 0 (never wait) up to SKACCEL_MAX_LOCK_WAIT_NS. */
static void test_parse_lock_wait(void)
{
	struct helperd_options o;
	char *off[] = { "h", "--lock-wait", "0", NULL };
	char *top[] = { "h", "--lock-wait=1000", NULL };

	ASSERT_EQ(parse(&o, off, ARGC(off)), 0, "parse: 0");
	ASSERT_EQ(o.lock_wait_us, 0, "o.lock_wait_us: 0");
	ASSERT_TRUE(o.lock_wait_given, "o.lock_wait_given: 0 given");
	ASSERT_EQ(parse(&o, top, ARGC(top)), 0, "parse: 1000");
	ASSERT_EQ(o.lock_wait_us * 1000u, SKACCEL_MAX_LOCK_WAIT_NS, "o.lock_wait_us: max");
}

/* --small-msg: a size in bytes, 0 (off) up to 4 GiB - 1, the width of skaccel_config's field. */
static void test_parse_small_msg(void)
{
	struct helperd_options o;
	char *off[] = { "h", "--small-msg", "0", NULL };
	char *bytes[] = { "h", "--small-msg=1500", NULL };
	char *top[] = { "h", "--small-msg", "4294967295", NULL };

	ASSERT_EQ(parse(&o, off, ARGC(off)), 0, "parse: 0");
	ASSERT_EQ(o.small_msg, 0, "o.small_msg: 0");
	ASSERT_EQ(parse(&o, bytes, ARGC(bytes)), 0, "parse: 1500");
	ASSERT_EQ(o.small_msg, 1500, "o.small_msg: 1500");
	ASSERT_EQ(parse(&o, top, ARGC(top)), 0, "parse: UINT32_MAX");
	ASSERT_EQ(o.small_msg, UINT32_MAX, "o.small_msg: UINT32_MAX");
}

static void test_parse_modes(void)
{
	struct helperd_options o;
	char *stats[] = { "h", "--stats", "--json", NULL };
	char *unpin[] = { "h", "--unpin", NULL };
	char *help[] = { "h", "-h", NULL };
	char *version[] = { "h", "--version", NULL };
	char *twice[] = { "h", "--stats", "--stats", NULL };

	ASSERT_EQ(parse(&o, stats, ARGC(stats)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_STATS, "o.mode");
	ASSERT_TRUE(o.json, "o.json");
	ASSERT_EQ(parse(&o, unpin, ARGC(unpin)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_UNPIN, "o.mode");
	ASSERT_EQ(parse(&o, help, ARGC(help)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_HELP, "o.mode");
	ASSERT_EQ(parse(&o, version, ARGC(version)), 0, "parse");
	ASSERT_EQ(o.mode, HELPERD_VERSION, "o.mode");
	ASSERT_EQ(parse(&o, twice, ARGC(twice)), 0, "parse");
}

static void test_parse_budget_only(void)
{
	struct helperd_options o;
	char *small[] = { "h", "--rx-budget", "512K", NULL };
	char *big[] = { "h", "--rx-budget", "64M", NULL };

	/*
	 * Only the budget given: resume follows it (no hysteresis), whatever its size, as
	 * SKACCEL_DEFAULT_RX_RESUME follows the default budget.
	 */
	ASSERT_EQ(parse(&o, small, ARGC(small)), 0, "parse");
	ASSERT_EQ(o.rx_resume, 512u << 10, "o.rx_resume");
	ASSERT_EQ(parse(&o, big, ARGC(big)), 0, "parse");
	ASSERT_EQ(o.rx_resume, 64u << 20, "o.rx_resume");
}

static void test_parse_refusals(void)
{
	struct helperd_options o;
	char *cases[][6] = {
		{ "h", "--bogus", NULL },
		{ "h", "-x", NULL },
		{ "h", "positional", NULL },
		{ "h", "--socket", NULL },
		{ "h", "--socket", "", NULL },
		{ "h", "--pin-dir", "relative", NULL },
		{ "h", "--log-level", "verbose", NULL },
		{ "h", "--max-clients", "0", NULL },
		{ "h", "--max-clients", "-1", NULL },
		{ "h", "--max-clients", "10x", NULL },
		{ "h", "--max-per-user", "0", NULL },
		{ "h", "--max-socks", "15", NULL },
		{ "h", "--max-socks", "4194304", NULL },
		{ "h", "--rx-budget", "0", NULL },
		{ "h", "--rx-budget", "4X", NULL },
		{ "h", "--rx-resume", "0", NULL },
		{ "h", "--small-msg", "4G", NULL }, /* wider than skaccel_config.small_msg */
		{ "h", "--small-msg", "-1", NULL },
		{ "h", "--small-msg", "1KB", NULL },
		{ "h", "--small-msg", NULL },
		{ "h", "--lock-wait", "1001", NULL }, /* above SKACCEL_MAX_LOCK_WAIT_NS */
		{ "h", "--lock-wait", "-1", NULL },
		{ "h", "--lock-wait", "100us", NULL },
		{ "h", "--lock-wait", "", NULL },
		{ "h", "--rx-budget", "4M", "--rx-resume", "8M", NULL }, /* above the budget */
		{ "h", "--json", NULL },
		{ "h", "--stats", "--unpin", NULL },
		{ "h", "--unpin", "--help", NULL },
		{ "h", "--disable=1", NULL },
		{ "h", "--config", NULL },
		{ "h", "--config", "", NULL },
		{ "h", "--check-config=", NULL },
		{ "h", "--check-config", "/a", "/b", NULL },
		{ "h", "--check-config", "--stats", NULL },
		{ "h", "--unpin", "--check-config", NULL },
		{ "h", "/a.conf", NULL }, /* a file name only with --check-config */
		{ "h", "--check-config", "--json", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int argc = 0;

		while (cases[i][argc])
			argc++;
		ASSERT_TRUE(parse(&o, cases[i], argc) == -EINVAL ||
				parse(&o, cases[i], argc) == -ERANGE,
			    skt_fmt("case %zu (%s %s) was accepted", i, cases[i][1],
				    cases[i][2] ? cases[i][2] : ""));
	}
}

/* --user: none by default (tests run the helper by hand as root), a name for the daemon only. */
static void test_parse_user(void)
{
	struct helperd_options o;
	char *plain[] = { "skaccel-helperd", NULL };
	char *user[] = { "skaccel-helperd", "--user", "skaccel", NULL };
	char *user_eq[] = { "skaccel-helperd", "--user=995", NULL };
	char *empty[] = { "skaccel-helperd", "--user", "", NULL };
	char *missing[] = { "skaccel-helperd", "--user", NULL };
	char *stats[] = { "skaccel-helperd", "--stats", "--user", "skaccel", NULL };
	char *unpin[] = { "skaccel-helperd", "--user", "skaccel", "--unpin", NULL };
	char *check[] = { "skaccel-helperd", "--user", "skaccel", "--check-config", NULL };

	ASSERT_EQ(parse(&o, plain, ARGC(plain)), 0, "parse");
	ASSERT_TRUE(o.user == NULL, "o.user == NULL");
	ASSERT_EQ(parse(&o, user, ARGC(user)), 0, "parse");
	ASSERT_STREQ(o.user, "skaccel", "o.user");
	ASSERT_EQ(o.mode, HELPERD_RUN, "o.mode");
	ASSERT_EQ(parse(&o, user_eq, ARGC(user_eq)), 0, "parse");
	ASSERT_STREQ(o.user, "995", "o.user");
	ASSERT_EQ(parse(&o, empty, ARGC(empty)), -EINVAL, "parse");
	ASSERT_EQ(parse(&o, missing, ARGC(missing)), -EINVAL, "parse");
	ASSERT_EQ(parse(&o, stats, ARGC(stats)), -EINVAL, "parse");
	ASSERT_EQ(parse(&o, unpin, ARGC(unpin)), -EINVAL, "parse");
	ASSERT_EQ(parse(&o, check, ARGC(check)), -EINVAL, "parse");
}

/* --cross-netns: off by default (a policy decision, SECURITY.md), on or off only. */
static void test_parse_cross_netns(void)
{
	struct helperd_options o;
	char *plain[] = { "skaccel-helperd", NULL };
	char *on[] = { "skaccel-helperd", "--cross-netns=on", NULL };
	char *off[] = { "skaccel-helperd", "--cross-netns", "off", NULL };
	char *yes[] = { "skaccel-helperd", "--cross-netns=yes", NULL };
	char *bare[] = { "skaccel-helperd", "--cross-netns", NULL };

	ASSERT_OK(parse(&o, plain, ARGC(plain)), "no --cross-netns");
	ASSERT_FALSE(o.cross_netns, "off by default");
	ASSERT_OK(parse(&o, on, ARGC(on)), "--cross-netns=on");
	ASSERT_TRUE(o.cross_netns, "--cross-netns=on sets it");
	ASSERT_OK(parse(&o, off, ARGC(off)), "--cross-netns off");
	ASSERT_FALSE(o.cross_netns, "--cross-netns off clears it");
	ASSERT_EQ(parse(&o, yes, ARGC(yes)), -EINVAL, "--cross-netns=yes");
	ASSERT_EQ(parse(&o, bare, ARGC(bare)), -EINVAL, "--cross-netns without a value");
}

int main(void)
{
	test_parse_cross_netns();
	test_parse_size();
	test_parse_uint();
	test_parse_defaults();
	test_parse_user();
	test_parse_all_options();
	test_parse_config();
	test_parse_modes();
	test_parse_budget_only();
	test_parse_small_msg();
	test_parse_lock_wait();
	test_parse_refusals();
	return skt_summary();
}
