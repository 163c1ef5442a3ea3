// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests for the metrics: the exposition of a snapshot (every counter of both lists
 * present with its value, one HELP and TYPE per family, members together, names by the
 * conventions), the request parser and address parser of the endpoint, the textfile's
 * atomic replacement, and the options.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/skaccel_proto.h"
#include "helperd/metrics.h"
#include "helperd/metrics_http.h"
#include "helperd/metrics_textfile.h"
#include "helperd/options.h"
#include "tests/unit/skt_assert.h"

static char *render(const struct helperd_metrics_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;

	ASSERT_EQ(helperd_metrics_render_buf(s, &buf, &len), 0, "helperd_metrics_render_buf");
	ASSERT_TRUE(buf != NULL && strlen(buf) == len, "buf != NULL && strlen(buf) == len");
	return buf;
}

/* Does text hold this whole line? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static void fill(struct helperd_metrics_snapshot *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->have_counters = true;
	for (i = 0; i < SKACCEL_CNT_MAX; i++)
		s->counters[i] = 1000 + i; /* each its own value: a mix-up shows */
	for (i = 0; i < SKACCEL_REGCNT_MAX; i++)
		s->regcnt[i] = 5000 + i;
	s->sockets = 7;
	s->sockets_max = 65536;
	s->clients = 3;
	s->clients_max = 1024;
	s->enabled = true;
	s->selftest_ok = true;
	s->start_time_s = 1700000000.25;
	s->version = "1.2.3";
}

/* Every counter of both lists, with its value, under its family: none can be forgotten. */
static void test_every_counter(void)
{
	struct helperd_metrics_snapshot s;
	char line[256];
	char *out;

	fill(&s);
	out = render(&s);
	if (!out)
		return;
#define CHECK_COUNTER(name, key, phrase, fallback, metric, label)                               \
	if (metric) {                                                                           \
		if (((const char *)label)[0])                                                   \
			snprintf(line, sizeof(line), "skaccel_%s{%s} %u", (const char *)metric, \
				 (const char *)label, 1000u + SKACCEL_CNT_##name);              \
		else                                                                            \
			snprintf(line, sizeof(line), "skaccel_%s %u", (const char *)metric,     \
				 1000u + SKACCEL_CNT_##name);                                   \
		ASSERT_TRUE(has_line(out, line), skt_fmt("missing \"%s\"", line));              \
	}
	SKACCEL_COUNTER_LIST(CHECK_COUNTER)
#undef CHECK_COUNTER
#define CHECK_STATUS(name, value, key, phrase, metric, label)                             \
	if (label)                                                                        \
		snprintf(line, sizeof(line), "skaccel_%s{%s=\"%s\"} %d", metric,          \
			 (const char *)label, key, 5000 + (value) + SKACCEL_REGCNT_BIAS); \
	else                                                                              \
		snprintf(line, sizeof(line), "skaccel_%s %d", metric,                     \
			 5000 + (value) + SKACCEL_REGCNT_BIAS);                           \
	ASSERT_TRUE(has_line(out, line), skt_fmt("missing \"%s\"", line));
	SKACCEL_STATUS_LIST(CHECK_STATUS)
#undef CHECK_STATUS
	/* Registered = accelerated at once + waiting for the peer. */
	snprintf(line, sizeof(line), "skaccel_sockets_registered_total %d",
		 5000 + SKACCEL_REGCNT_BIAS + 5000 + 1 + SKACCEL_REGCNT_BIAS);
	ASSERT_TRUE(has_line(out, line), skt_fmt("missing \"%s\"", line));
	ASSERT_TRUE(has_line(out, "skaccel_sockets 7"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_sockets_max 65536"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_clients 3"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_clients_max 1024"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_acceleration_enabled 1"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_selftest_ok 1"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_helper_start_time_seconds 1700000000.250"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_build_info{version=\"1.2.3\",protocol=\"2\"} 1"),
		    "has_line");
	free(out);
}

static bool valid_name(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(isalpha((unsigned char)s[i]) || s[i] == '_' ||
		      (i && isdigit((unsigned char)s[i]))))
			return false;
	return n > 0;
}

/*
 * The format's rules, as promtool applies them: one HELP and one TYPE per family, before
 * its samples, which follow each other; counters end in _total; every sample "NAME[{...}]
 * VALUE" with a valid name.
 */
static void test_structure(void)
{
	struct helperd_metrics_snapshot s;
	char families[64][96], type_family[96] = "", help_family[96] = "";
	unsigned int nfam = 0, i, samples = 0;
	char *out, *line, *save = NULL;

	fill(&s);
	out = render(&s);
	if (!out)
		return;
	ASSERT_TRUE(out[strlen(out) - 1] == '\n', "out");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96], type[16];
		size_t n;

		if (sscanf(line, "# HELP %95s", name) == 1) {
			ASSERT_TRUE(strncmp(name, "skaccel_", 8) == 0, "strncmp");
			for (i = 0; i < nfam; i++)
				ASSERT_TRUE(strcmp(families[i], name) != 0,
					    skt_fmt("family %s twice", name));
			ASSERT_TRUE(nfam < 64, "nfam < 64");
			if (nfam < 64)
				strcpy(families[nfam++], name);
			strcpy(help_family, name);
			/* HELP text present and not empty */
			ASSERT_TRUE(strlen(line) > strlen("# HELP ") + strlen(name) + 1, "strlen");
			continue;
		}
		if (sscanf(line, "# TYPE %95s %15s", name, type) == 2) {
			ASSERT_TRUE(strcmp(name, help_family) == 0,
				    skt_fmt("TYPE %s not after its HELP", name));
			ASSERT_TRUE(!strcmp(type, "counter") || !strcmp(type, "gauge"),
				    skt_fmt("type %s", type));
			n = strlen(name);
			if (!strcmp(type, "counter"))
				ASSERT_TRUE(n > 6 && !strcmp(name + n - 6, "_total"),
					    skt_fmt("counter %s without _total", name));
			strcpy(type_family, name);
			continue;
		}
		ASSERT_TRUE(line[0] != '#', "line[0] != '#'");
		n = strcspn(line, "{ ");
		ASSERT_TRUE(valid_name(line, n), skt_fmt("bad name in \"%s\"", line));
		ASSERT_TRUE(n == strlen(type_family) && !strncmp(line, type_family, n),
			    skt_fmt("sample \"%s\" outside its family %s", line, type_family));
		ASSERT_TRUE(strchr(line, ' ') && strchr(line, ' ')[1] != '\0',
			    skt_fmt("no value: \"%s\"", line));
		samples++;
	}
	ASSERT_TRUE(nfam >= 15, "nfam >= 15");
	ASSERT_TRUE(samples >= SKACCEL_CNT_MAX - 1, "samples >= SKACCEL_CNT_MAX - 1");
	free(out);
}

/* A family with labels needs a HELP of its own: no member's phrase speaks for all. */
static void test_family_help(void)
{
#define CHECK_HELP(name, key, phrase, fallback, metric, label)           \
	if (metric && ((const char *)label)[0])                          \
		ASSERT_TRUE(helperd_metrics_family_help(metric) != NULL, \
			    skt_fmt("no HELP for %s", (const char *)metric));
	SKACCEL_COUNTER_LIST(CHECK_HELP)
#undef CHECK_HELP
#define CHECK_SHELP(name, value, key, phrase, metric, label) \
	ASSERT_TRUE(helperd_metrics_family_help(metric) != NULL, skt_fmt("no HELP for %s", metric));
	SKACCEL_STATUS_LIST(CHECK_SHELP)
#undef CHECK_SHELP
}

static void test_no_counters_and_escaping(void)
{
	struct helperd_metrics_snapshot s;
	char *out;

	fill(&s);
	s.have_counters = false; /* skaccel_cnt unreadable: no zeros that look like a reset */
	s.enabled = false;
	s.selftest_ok = false;
	s.version = "1\"\\\n";
	out = render(&s);
	if (!out)
		return;
	ASSERT_TRUE(strstr(out, "skaccel_sent_bytes_total") == NULL, "strstr");
	ASSERT_TRUE(strstr(out, "skaccel_fallbacks_total") == NULL, "strstr");
	ASSERT_TRUE(has_line(out, "skaccel_acceleration_enabled 0"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_selftest_ok 0"), "has_line");
	ASSERT_TRUE(has_line(out, "skaccel_build_info{version=\"1\\\"\\\\\\n\",protocol=\"2\"} 1"),
		    "has_line");
	free(out);
}

static int parse_req(const char *req, bool *head)
{
	return helperd_metrics_http_parse(req, strlen(req), head);
}

static void test_http_parse(void)
{
	char big[HELPERD_METRICS_REQ_MAX + 16];
	bool head = true;

	ASSERT_EQ(parse_req("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &head), 200, "parse_req");
	ASSERT_FALSE(head, "head");
	ASSERT_EQ(parse_req("GET /metrics HTTP/1.0\n\n", &head), 200, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics?x=1 HTTP/1.1\r\n\r\n", &head), 200, "parse_req");
	ASSERT_EQ(parse_req("HEAD /metrics HTTP/1.1\r\n\r\n", &head), 200, "parse_req");
	ASSERT_TRUE(head, "head");
	ASSERT_EQ(parse_req("GET / HTTP/1.1\r\n\r\n", &head), 404, "parse_req");
	ASSERT_EQ(parse_req("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404, "parse_req");
	ASSERT_EQ(parse_req("GET /metric HTTP/1.1\r\n\r\n", &head), 404, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics/ HTTP/1.1\r\n\r\n", &head), 404, "parse_req");
	ASSERT_EQ(parse_req("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &head), 405,
		  "parse_req");
	ASSERT_EQ(parse_req("DELETE /metrics HTTP/1.1\r\n\r\n", &head), 405, "parse_req");
	/* Incomplete: wait for more. */
	ASSERT_EQ(parse_req("", &head), 0, "parse_req");
	ASSERT_EQ(parse_req("GET /metr", &head), 0, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics HTTP/1.1\r\n", &head), 0, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics HTTP/1.1\r\nHost: x\r\n", &head), 0, "parse_req");
	/* Garbage: answered as soon as the first line is whole. */
	ASSERT_EQ(parse_req("garbage\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics HTTP/2.0\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("get /metrics HTTP/1.1\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("GET metrics HTTP/1.1\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(parse_req("GET /metrics HTTP/1.1 x\r\n\r\n", &head), 400, "parse_req");
	ASSERT_EQ(helperd_metrics_http_parse("GET /\0 HTTP/1.1\r\n\r\n", 20, &head), 400,
		  "helperd_metrics_http_parse");
	/* Too long, with or without a line end. */
	memset(big, 'A', sizeof(big));
	ASSERT_EQ(helperd_metrics_http_parse(big, HELPERD_METRICS_REQ_MAX, &head), 431,
		  "helperd_metrics_http_parse");
	ASSERT_EQ(helperd_metrics_http_parse(big, HELPERD_METRICS_REQ_MAX - 1, &head), 0,
		  "helperd_metrics_http_parse");
	memcpy(big, "GET /metrics HTTP/1.1\r\n", 23);
	ASSERT_EQ(helperd_metrics_http_parse(big, HELPERD_METRICS_REQ_MAX, &head), 431,
		  "helperd_metrics_http_parse");
}

static void test_addr_parse(void)
{
	struct helperd_metrics_addr a;
	char buf[128];

	ASSERT_EQ(helperd_metrics_addr_parse("127.0.0.1:9464", &a), 0,
		  "helperd_metrics_addr_parse");
	ASSERT_TRUE(a.loopback, "a.loopback");
	ASSERT_EQ(a.ss.ss_family, AF_INET, "a.ss.ss_family");
	helperd_metrics_addr_format(buf, sizeof(buf), &a.ss, a.len);
	ASSERT_STREQ(buf, "127.0.0.1:9464", "buf");
	ASSERT_EQ(helperd_metrics_addr_parse("127.3.2.1:0", &a), 0, "helperd_metrics_addr_parse");
	ASSERT_TRUE(a.loopback, "a.loopback");
	ASSERT_EQ(helperd_metrics_addr_parse("[::1]:9464", &a), 0, "helperd_metrics_addr_parse");
	ASSERT_TRUE(a.loopback, "a.loopback");
	ASSERT_EQ(a.ss.ss_family, AF_INET6, "a.ss.ss_family");
	helperd_metrics_addr_format(buf, sizeof(buf), &a.ss, a.len);
	ASSERT_STREQ(buf, "[::1]:9464", "buf");
	ASSERT_EQ(helperd_metrics_addr_parse("[::ffff:127.0.0.1]:1", &a), 0,
		  "helperd_metrics_addr_parse");
	ASSERT_TRUE(a.loopback, "a.loopback");
	ASSERT_EQ(helperd_metrics_addr_parse("/run/skaccel/metrics.sock", &a), 0,
		  "helperd_metrics_addr_parse");
	ASSERT_TRUE(a.loopback, "a.loopback");
	ASSERT_EQ(a.ss.ss_family, AF_UNIX, "a.ss.ss_family");
	/* Parsed, but not loopback: --metrics-allow-remote decides. */
	ASSERT_EQ(helperd_metrics_addr_parse("0.0.0.0:9464", &a), 0, "helperd_metrics_addr_parse");
	ASSERT_FALSE(a.loopback, "a.loopback");
	ASSERT_EQ(helperd_metrics_addr_parse("192.168.1.1:9464", &a), 0,
		  "helperd_metrics_addr_parse");
	ASSERT_FALSE(a.loopback, "a.loopback");
	ASSERT_EQ(helperd_metrics_addr_parse("[::]:9464", &a), 0, "helperd_metrics_addr_parse");
	ASSERT_FALSE(a.loopback, "a.loopback");
	ASSERT_EQ(helperd_metrics_addr_parse("[::ffff:10.0.0.1]:9464", &a), 0,
		  "helperd_metrics_addr_parse");
	ASSERT_FALSE(a.loopback, "a.loopback");
	/* Not addresses. */
	ASSERT_EQ(helperd_metrics_addr_parse("localhost:9464", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("127.0.0.1", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("127.0.0.1:", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("127.0.0.1:65536", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("127.0.0.1:-1", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse(":9464", &a), -EINVAL, "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("::1:9464", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("[::1]", &a), -EINVAL, "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("[::1:9464", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("[]:9464", &a), -EINVAL, "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("metrics.sock", &a), -EINVAL,
		  "helperd_metrics_addr_parse");
	ASSERT_EQ(helperd_metrics_addr_parse("", &a), -EINVAL, "helperd_metrics_addr_parse");
	memset(buf, 'a', sizeof(buf));
	buf[0] = '/';
	buf[108] = '\0';
	ASSERT_EQ(helperd_metrics_addr_parse(buf, &a), -EINVAL, "helperd_metrics_addr_parse");
}

static char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_textfile(void)
{
	char dir[] = "/tmp/test_helperd_metrics-XXXXXX";
	char path[PATH_MAX / 2], tmp[PATH_MAX], victim[PATH_MAX];
	struct stat st;

	if (!mkdtemp(dir)) {
		ASSERT_TRUE(false, "false");
		return;
	}
	snprintf(path, sizeof(path), "%s/skaccel.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	ASSERT_EQ(helperd_metrics_textfile_write(path, "a 1\n", 4), 0,
		  "helperd_metrics_textfile_write");
	ASSERT_STREQ(slurp(path), "a 1\n", "slurp");
	ASSERT_EQ(helperd_metrics_textfile_write(path, "a 22\n", 5), 0,
		  "helperd_metrics_textfile_write");
	ASSERT_STREQ(slurp(path), "a 22\n", "slurp");
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 07777, 0644, "st.st_mode & 07777");
	ASSERT_EQ(access(tmp, F_OK), -1, "access"); /* renamed, not left behind */
	/* A stale temporary file of a helper that died: replaced. */
	ASSERT_EQ(close(open(tmp, O_CREAT | O_WRONLY, 0600)), 0, "close");
	ASSERT_EQ(helperd_metrics_textfile_write(path, "a 3\n", 4), 0,
		  "helperd_metrics_textfile_write");
	ASSERT_STREQ(slurp(path), "a 3\n", "slurp");
	/* Symlinks at either name are never written through. */
	ASSERT_EQ(close(open(victim, O_CREAT | O_WRONLY, 0600)), 0, "close");
	ASSERT_EQ(symlink(victim, tmp), 0, "symlink");
	ASSERT_EQ(helperd_metrics_textfile_write(path, "a 4\n", 4), 0,
		  "helperd_metrics_textfile_write");
	ASSERT_STREQ(slurp(victim), "", "slurp");
	ASSERT_EQ(unlink(path), 0, "unlink");
	ASSERT_EQ(symlink(victim, path), 0, "symlink");
	ASSERT_EQ(helperd_metrics_textfile_write(path, "a 5\n", 4), 0,
		  "helperd_metrics_textfile_write");
	ASSERT_STREQ(slurp(victim), "", "slurp");
	ASSERT_EQ(lstat(path, &st), 0, "lstat");
	ASSERT_TRUE(S_ISREG(st.st_mode), "S_ISREG");
	ASSERT_STREQ(slurp(path), "a 5\n", "slurp");
	/* A directory that does not exist: an error, nothing created. */
	snprintf(path, sizeof(path), "%s/no/such.prom", dir);
	ASSERT_EQ(helperd_metrics_textfile_write(path, "x", 1), -ENOENT,
		  "helperd_metrics_textfile_write");
	snprintf(path, sizeof(path), "%s/skaccel.prom", dir);
	unlink(path);
	unlink(victim);
	ASSERT_EQ(rmdir(dir), 0, "rmdir"); /* nothing else left */
}

static int parse_opts(struct helperd_options *o, int argc, char **argv)
{
	char err[256];
	int r = helperd_options_parse(o, argc, argv, err, sizeof(err));

	if (r)
		ASSERT_TRUE(err[0] != '\0', "err");
	return r;
}

#define PARSE(...)                                                                  \
	({                                                                          \
		char *argv_[] = { "skaccel-helperd", __VA_ARGS__, NULL };           \
		parse_opts(&o, (int)(sizeof(argv_) / sizeof(argv_[0])) - 1, argv_); \
	})

static void test_options(void)
{
	struct helperd_options o;

	ASSERT_EQ(PARSE("--log-level", "info"), 0, "PARSE");
	ASSERT_TRUE(o.metrics_listen == NULL, "o.metrics_listen == NULL"); /* off by default */
	ASSERT_TRUE(o.metrics_textfile == NULL, "o.metrics_textfile == NULL");
	ASSERT_EQ(o.metrics_interval, HELPERD_DEFAULT_METRICS_INTERVAL, "o.metrics_interval");
	ASSERT_EQ(PARSE("--metrics-listen", "127.0.0.1:9464"), 0, "PARSE");
	ASSERT_STREQ(o.metrics_listen, "127.0.0.1:9464", "o.metrics_listen");
	ASSERT_TRUE(o.metrics_addr.loopback, "o.metrics_addr.loopback");
	ASSERT_EQ(PARSE("--metrics-listen", "0.0.0.0:9464"), -EINVAL, "PARSE");
	ASSERT_EQ(PARSE("--metrics-listen", "0.0.0.0:9464", "--metrics-allow-remote"), 0, "PARSE");
	ASSERT_EQ(PARSE("--metrics-allow-remote"), -EINVAL, "PARSE");
	ASSERT_EQ(PARSE("--metrics-listen", "localhost:9464"), -EINVAL, "PARSE");
	ASSERT_EQ(PARSE("--metrics-textfile", "/var/lib/node/skaccel.prom"), 0, "PARSE");
	ASSERT_EQ(PARSE("--metrics-textfile", "skaccel.prom"), -EINVAL, "PARSE");
	ASSERT_EQ(PARSE("--metrics-textfile", "/x.prom", "--metrics-interval", "60"), 0, "PARSE");
	ASSERT_EQ(o.metrics_interval, 60, "o.metrics_interval");
	ASSERT_EQ(PARSE("--metrics-textfile", "/x.prom", "--metrics-interval", "0"), -ERANGE,
		  "PARSE");
	ASSERT_EQ(PARSE("--metrics-textfile", "/x.prom", "--metrics-interval", "3601"), -ERANGE,
		  "PARSE");
	ASSERT_EQ(PARSE("--metrics-interval", "5"), -EINVAL, "PARSE");
	ASSERT_EQ(PARSE("--stats", "--metrics-listen", "127.0.0.1:1"), -EINVAL, "PARSE");
}

int main(void)
{
	test_every_counter();
	test_structure();
	test_family_help();
	test_no_counters_and_escaping();
	test_http_parse();
	test_addr_parse();
	test_textfile();
	test_options();
	return skt_summary();
}
