// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Text in and out. Numbers come from the command line, the environment (socket
 * activation), the policy file and /etc/subuid: one strict parser for all of them, so that
 * " 1", "+1" or "-1" mean the same nowhere. Strings a client chose (an executable's path)
 * are escaped before they reach a log line, so that they cannot forge one.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "text.h"

/* Leading decimal digits of s (at least one) into *v, *end after them; 0 or -ERANGE. */
static int scan_digits(const char *s, uint64_t *v, const char **end)
{
	bool over = false;
	uint64_t n = 0;
	unsigned int d;

	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned int)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			over = true;
		n = n * 10 + d;
	}
	*end = s;
	*v = n;
	return over ? -ERANGE : 0;
}

int helperd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val)
{
	const char *end;
	uint64_t v;
	int r;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	r = scan_digits(s, &v, &end);
	if (*end)
		return -EINVAL;
	if (r || v < min || v > max)
		return -ERANGE;
	*val = v;
	return 0;
}

int helperd_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *val)
{
	uint64_t v;
	int r;

	r = helperd_parse_u64(s, min, max, &v);
	if (!r)
		*val = (unsigned int)v;
	return r;
}

int helperd_parse_size(const char *s, uint64_t *bytes)
{
	unsigned int shift = 0;
	const char *end;
	uint64_t v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	if (scan_digits(s, &v, &end))
		return -ERANGE;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift && end[1])
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

void helperd_escape(char *buf, size_t len, const char *s)
{
	size_t used = 0, cut = 0, need;
	char one[5];

	if (!len)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '\\')
			snprintf(one, sizeof(one), "\\x%02x", c);
		else
			one[0] = (char)c, one[1] = '\0';
		need = strlen(one);
		if (used + need >= len) {
			/* Out of room: "..." where it last fitted, at a character boundary. */
			if (cut + 4 <= len)
				strcpy(buf + cut, "...");
			else
				buf[cut] = '\0';
			return;
		}
		memcpy(buf + used, one, need);
		used += need;
		if (used + 4 <= len)
			cut = used;
	}
	buf[used] = '\0';
}

void helperd_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}
