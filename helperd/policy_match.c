// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Evaluating the policy: given who asks (uid, groups, executable) and the socket's ports,
 * which rule decides, and how many sockets that person may hold. Pure lookups in what
 * policy_parse.c built; no I/O, no allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "helperd/policy.h"
#include "helperd/policy_priv.h"

int helperd_policy_cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
}

/* The owner of id in ranges (sorted by start), else id itself. */
static uint32_t subid_owner(const struct helperd_subid_range *ranges, unsigned int n, uint32_t id)
{
	unsigned int lo = 0, hi = n, mid;

	/* The last range starting at or below id. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ranges[mid].start <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && id - ranges[lo - 1].start < ranges[lo - 1].count)
		return ranges[lo - 1].owner;
	return id;
}

uid_t helperd_policy_account_uid(const struct helperd_policy *p, uid_t uid)
{
	return subid_owner(p->subuids, p->n_subuids, uid);
}

/* owner: the account uid of s->uid (itself, or the owner of its subordinate range). */
static bool rule_matches(const struct helperd_policy_rule *r,
			 const struct helperd_policy_subject *s, uid_t owner, uint16_t lport,
			 uint16_t rport)
{
	unsigned int i, j;
	bool hit;

	if (r->n_users) {
		for (i = 0, hit = false; i < r->n_users && !hit; i++)
			hit = r->users[i] == s->uid || r->users[i] == owner;
		if (!hit)
			return false;
	}
	if (r->n_groups) {
		for (i = 0, hit = false; i < r->n_groups && !hit; i++)
			for (j = 0; j < s->n_groups && !hit; j++)
				hit = r->groups[i] == s->groups[j];
		if (!hit)
			return false;
	}
	if (r->n_exes) {
		/*
		 * Unknown (the reader failed, stalled or lacks the privilege): fail closed. A deny
		 * rule matches, since the client may be that program; an allow rule does not. So
		 * what this evaluation allows, every executable the client may run is allowed.
		 */
		if (!s->exe)
			return !r->allow;
		for (i = 0, hit = false; i < r->n_exes && !hit; i++)
			hit = !strcmp(r->exes[i].path, s->exe) ||
			      (r->exes[i].resolved && !strcmp(r->exes[i].resolved, s->exe));
		if (!hit)
			return false;
	}
	if (r->n_ports) {
		for (i = 0, hit = false; i < r->n_ports && !hit; i++)
			hit = (lport >= r->ports[i].lo && lport <= r->ports[i].hi) ||
			      (rport >= r->ports[i].lo && rport <= r->ports[i].hi);
		if (!hit)
			return false;
	}
	return true;
}

bool helperd_policy_allows(const struct helperd_policy *p, const struct helperd_policy_subject *s,
			   uint16_t local_port, uint16_t remote_port,
			   const struct helperd_policy_rule **rule)
{
	uid_t owner = helperd_policy_account_uid(p, s->uid);
	unsigned int i;

	for (i = 0; i < p->n_rules; i++) {
		if (rule_matches(&p->rules[i], s, owner, local_port, remote_port)) {
			if (rule)
				*rule = &p->rules[i];
			return p->rules[i].allow;
		}
	}
	if (rule)
		*rule = NULL;
	return p->default_allow;
}

unsigned int helperd_policy_global_limit(const struct helperd_policy *p, unsigned int cli,
					 bool cli_given)
{
	if (!cli_given && p->max_per_user)
		return p->max_per_user;
	return cli;
}

unsigned int helperd_policy_user_limit(const struct helperd_policy *p, uid_t uid,
				       unsigned int global)
{
	unsigned int i;

	uid = helperd_policy_account_uid(p, uid);
	for (i = 0; i < p->n_limits; i++)
		if (p->limits[i].uid == uid)
			return p->limits[i].limit;
	return global;
}

unsigned int helperd_policy_keep_groups(const struct helperd_policy *p, const gid_t *groups,
					unsigned int n, gid_t *out, unsigned int cap)
{
	unsigned int i, kept = 0;
	gid_t g;

	if (!p->n_group_refs)
		return 0;
	for (i = 0; i < n && kept < cap; i++) {
		/* A subordinate gid stands for its owner's primary group. */
		g = subid_owner(p->subgids, p->n_subgids, groups[i]);
		if (bsearch(&g, p->group_refs, p->n_group_refs, sizeof(gid_t),
			    helperd_policy_cmp_gid))
			out[kept++] = g;
	}
	return kept;
}
