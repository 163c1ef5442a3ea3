// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Library lookup and LD_PRELOAD composition for skaccel-run; pure string work, unit-tested. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/preload.h"

int skrun_lib_candidates(const char *exe_dir, char out[][4096], size_t len)
{
	static const char *const rel[SKRUN_LIB_CANDIDATES] = {
		"/" SKRUN_LIB_NAME,
		"/../lib/" SKRUN_LIB_NAME,
		"/../lib/skaccel/" SKRUN_LIB_NAME,
	};
	int i, n = 0;

	for (i = 0; i < SKRUN_LIB_CANDIDATES; i++) {
		int w = snprintf(out[n], len, "%s%s", exe_dir, rel[i]);

		if (w > 0 && (size_t)w < len)
			n++;
	}
	return n;
}

static int copy_out(const char *path, char *out, size_t len)
{
	if (strlen(path) >= len)
		return -ENAMETOOLONG;
	strcpy(out, path);
	return 0;
}

int skrun_find_lib(const char *opt_lib, const char *env_lib, const char *exe_dir,
		   int (*usable)(const char *path), char *out, size_t len)
{
	char cand[SKRUN_LIB_CANDIDATES][4096];
	const char *explicit_lib = opt_lib && *opt_lib ? opt_lib : env_lib;
	int i, n, ret;

	if (explicit_lib && *explicit_lib) {
		ret = usable(explicit_lib);
		return ret < 0 ? ret : copy_out(explicit_lib, out, len);
	}
	if (!exe_dir)
		return -ENOENT;
	n = skrun_lib_candidates(exe_dir, cand, sizeof(cand[0]));
	for (i = 0; i < n; i++)
		if (usable(cand[i]) == 0)
			return copy_out(cand[i], out, len);
	return -ENOENT;
}

static bool is_sep(char c)
{
	return c == ' ' || c == ':';
}

/* Is the entry [s, s+n) a libskaccel.so, ours or another copy? */
static bool is_skaccel(const char *s, size_t n, const char *lib)
{
	size_t base = sizeof(SKRUN_LIB_NAME) - 1;

	if (n == strlen(lib) && memcmp(s, lib, n) == 0)
		return true;
	return n >= base && memcmp(s + n - base, SKRUN_LIB_NAME, base) == 0 &&
	       (n == base || s[n - base - 1] == '/');
}

char *skrun_preload_compose(const char *existing, const char *lib)
{
	size_t cap = (existing ? strlen(existing) : 0) + strlen(lib) + 2, used = 0;
	char *res = malloc(cap);
	const char *p = existing;

	if (!res)
		return NULL;
	while (p && *p) {
		size_t n;

		while (is_sep(*p))
			p++;
		for (n = 0; p[n] && !is_sep(p[n]); n++)
			;
		if (n > 0 && !is_skaccel(p, n, lib)) {
			memcpy(res + used, p, n);
			used += n;
			res[used++] = ':';
		}
		p += n;
	}
	strcpy(res + used, lib);
	return res;
}
