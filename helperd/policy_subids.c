// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reading /etc/subuid and /etc/subgid (USER:START:COUNT per line, as newuidmap(1) reads
 * them) into the sorted ranges that tell whose a subordinate uid or gid is. A line that
 * does not parse or names an unknown user is skipped with a warning, never an error: the
 * files are the system's, not the helper's. Names go through the policy's resolver.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "helperd/policy.h"
#include "helperd/policy_priv.h"

static int cmp_range(const void *a, const void *b)
{
	const struct helperd_subid_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int helperd_policy_parse_subids(struct helperd_policy *p, const char *text, size_t len, bool gids,
				const struct helperd_policy_resolver *res,
				struct helperd_policy_diags *d)
{
	struct helperd_subid_range *ranges = NULL, *a;
	unsigned int n = 0, cap = 0, line = 0, i;
	char buf[HELPERD_POLICY_MAX_LINE + 1], *name, *start, *count, *save;
	uint64_t vs, vc, vo;
	size_t pos = 0, l;
	const char *eol;
	uid_t owner;
	gid_t g;
	int r;

	if (gids && !res->user_gid)
		return 0;
	while (pos < len) {
		line++;
		eol = memchr(text + pos, '\n', len - pos);
		l = eol ? (size_t)(eol - (text + pos)) : len - pos;
		memcpy(buf, text + pos, l < sizeof(buf) ? l : sizeof(buf) - 1);
		buf[l < sizeof(buf) ? l : sizeof(buf) - 1] = '\0';
		pos += l + 1;
		if (l >= sizeof(buf) || !buf[0] || buf[0] == '#')
			continue;
		name = strtok_r(buf, ":", &save);
		start = strtok_r(NULL, ":", &save);
		count = strtok_r(NULL, ":\r", &save);
		if (!name || !start || !count || skaccel_parse_u64(start, 0, UINT32_MAX - 1, &vs) ||
		    skaccel_parse_u64(count, 1, UINT32_MAX, &vc) || vs + vc - 1 > UINT32_MAX - 1) {
			helperd_policy_diag(d, true, line, 0, "%s: not USER:START:COUNT, skipped",
					    gids ? "subgid" : "subuid");
			continue;
		}
		/* The owner by number or name, as newuidmap(1) accepts either. */
		if (helperd_policy_all_digits(name)) {
			if (gids)
				continue; /* a number names no user whose primary group we know */
			r = skaccel_parse_u64(name, 0, UINT32_MAX - 1, &vo) ? -ENOENT : 0;
			owner = (uid_t)vo;
		} else {
			r = res->user(name, &owner);
		}
		if (!r && gids) {
			r = res->user_gid(name, &g);
			owner = (uid_t)g;
		}
		if (r) {
			helperd_policy_diag(d, true, line, 0, "%s: unknown user '%.64s', skipped",
					    gids ? "subgid" : "subuid", name);
			continue;
		}
		if (n >= HELPERD_SUBID_MAX_RANGES)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			a = realloc(ranges, cap * sizeof(*a));
			if (!a) {
				free(ranges);
				return -ENOMEM;
			}
			ranges = a;
		}
		ranges[n++] = (struct helperd_subid_range){ (uint32_t)vs, (uint32_t)vc, owner };
	}
	if (n) /* qsort() takes no NULL array, even of 0 elements */
		qsort(ranges, n, sizeof(*ranges), cmp_range);
	/* Overlapping ranges would make the owner depend on the order: keep the first. */
	for (i = 1; i < n; i++) {
		if (ranges[i].start - ranges[i - 1].start < ranges[i - 1].count) {
			helperd_policy_diag(d, true, 0, 0,
					    "%s: range starting at %u overlaps another, skipped",
					    gids ? "subgid" : "subuid", ranges[i].start);
			memmove(&ranges[i], &ranges[i + 1], (n - i - 1) * sizeof(*ranges));
			n--;
			i--;
		}
	}
	if (gids) {
		free(p->subgids);
		p->subgids = ranges;
		p->n_subgids = n;
	} else {
		free(p->subuids);
		p->subuids = ranges;
		p->n_subuids = n;
	}
	return 0;
}
