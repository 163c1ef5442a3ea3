// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Numbers in. They come from the helper's command line, the environment (socket
 * activation, the shim's SKACCEL_* variables), the policy file, /etc/subuid and
 * /etc/passwd: one strict parser for all of them, helper and shim, so that " 1", "+1" or
 * "-1" mean the same nowhere. libc only: the shim links it.
 */
#include <errno.h>
#include <stdbool.h>

#include "common/number.h"

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

int skaccel_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *val)
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

int skaccel_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *val)
{
	uint64_t v;
	int r;

	r = skaccel_parse_u64(s, min, max, &v);
	if (!r)
		*val = (unsigned int)v;
	return r;
}

int skaccel_parse_size(const char *s, uint64_t *bytes)
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
