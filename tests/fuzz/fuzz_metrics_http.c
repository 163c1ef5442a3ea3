// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target for the metrics endpoint's request parser (helperd_metrics_http_parse):
 * what a client of --metrics-listen controls is the bytes it sends, which the helper
 * parses again after every recv() on the bytes so far, in a buffer that is not
 * NUL-terminated. Each input is parsed as the server does it:
 *   - whole and at every length where a chunk of it could end (every prefix up to 256
 *     bytes, then every 61st), exactly that many bytes in a buffer of their own so that
 *     ASan sees any read past them;
 *   - each answer must be a status the header names, deterministic, agree with an
 *     independent reading of the grammar below (written apart from metrics_http.c),
 *     and never 0 ("more bytes") at HELPERD_METRICS_REQ_MAX bytes or more;
 *   - *head is set only for a HEAD request answered 200 or 404 (a response without a
 *     body).
 * Inputs longer than HELPERD_METRICS_REQ_MAX are cut to it: the server reads no more.
 * A property that fails calls abort(), which libFuzzer reports as a crash.
 *
 * SKT_FUZZ_CANARY=1 makes an input starting with "CRSH" abort, so that
 * tests/e2e/core/fuzz_request.sh can prove it notices a crash.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helperd/log.h"
#include "helperd/metrics_http.h"

static bool canary;

/* The parser never logs; the server around it, linked in with it, may: quietly here. */
void helperd_log(enum helperd_log_level level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz_metrics_http: %s:%d: property failed: %s\n", \
				__FILE__, __LINE__, #cond);                                \
			abort();                                                           \
		}                                                                          \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *c = getenv("SKT_FUZZ_CANARY");

	(void)argc;
	(void)argv;
	canary = c && !strcmp(c, "1");
	return 0;
}

/* Is there a blank line ("\n\n" or "\n\r\n") anywhere in s[0..len)? */
static bool has_blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i + 1 < len && s[i + 1] == '\n')
			return true;
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n')
			return true;
	}
	return false;
}

/*
 * The grammar as the header states it, read by splitting the request line into words:
 * METHOD SP TARGET SP VERSION [CR] LF, headers up to a blank line; no NUL anywhere.
 */
static int expected_status(const char *s, size_t len, bool *head)
{
	char line[HELPERD_METRICS_REQ_MAX + 1], *method, *target, *version, *p;
	size_t n, i;

	*head = false;
	for (i = 0; i < len; i++)
		if (s[i] == '\0')
			return 400;
	for (n = 0; n < len && s[n] != '\n'; n++)
		;
	if (n == len) /* no line yet */
		return len >= HELPERD_METRICS_REQ_MAX ? 431 : 0;
	memcpy(line, s, n);
	line[n] = '\0';
	if (n && line[n - 1] == '\r')
		line[n - 1] = '\0';
	method = line;
	p = strchr(method, ' ');
	if (!p)
		return 400;
	*p = '\0';
	target = p + 1;
	p = strchr(target, ' ');
	if (!p)
		return 400;
	*p = '\0';
	version = p + 1;
	if (!method[0] || strlen(method) > 16)
		return 400;
	for (p = method; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return 400;
	if (strcmp(version, "HTTP/1.0") && strcmp(version, "HTTP/1.1"))
		return 400;
	if (target[0] != '/')
		return 400;
	if (!has_blank_line(s, len))
		return len >= HELPERD_METRICS_REQ_MAX ? 431 : 0;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return 405;
	*head = !strcmp(method, "HEAD");
	p = strchr(target, '?');
	if (p)
		*p = '\0';
	return strcmp(target, "/metrics") ? 404 : 200;
}

static void check_one(const uint8_t *data, size_t len)
{
	bool head, head2, want_head;
	int status, want;
	char *buf;

	/* Exactly len bytes, not NUL-terminated, as the server's buffer may be. */
	buf = malloc(len ? len : 1);
	CHECK(buf);
	memcpy(buf, data, len);
	status = helperd_metrics_http_parse(buf, len, &head);
	CHECK(status == 0 || status == 200 || status == 400 || status == 404 || status == 405 ||
	      status == 431);
	CHECK(helperd_metrics_http_parse(buf, len, &head2) == status && head2 == head);
	CHECK(!head || status == 200 || status == 404);
	CHECK(status != 0 || len < HELPERD_METRICS_REQ_MAX);
	want = expected_status(buf, len, &want_head);
	if (want != status || want_head != head)
		fprintf(stderr,
			"fuzz_metrics_http: %zu bytes: parser %d (head %d), grammar %d (head %d)\n",
			len, status, head, want, want_head);
	CHECK(want == status);
	CHECK(want_head == head);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t k;

	if (canary && size >= 4 && !memcmp(data, "CRSH", 4))
		abort();
	if (size > HELPERD_METRICS_REQ_MAX)
		size = HELPERD_METRICS_REQ_MAX;
	for (k = 0; k < size; k += k < 256 ? 1 : 61)
		check_one(data, k);
	check_one(data, size);
	return 0;
}
