// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Reading the policy: helperd.conf's text (format in policy.h) and /etc/subuid and
 * /etc/subgid into rules, limits and ranges, strictly, every error with its line and
 * column. Names are looked up through a resolver, so that the unit tests need neither root
 * nor /etc/passwd. Which rule applies to a request is policy_match.c's question.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/number.h"
#include "helperd/options.h"
#include "helperd/policy.h"
#include "helperd/policy_priv.h"

#define MAX_WORDS 16 /* no valid line has more than 6 */

struct word {
	const char *s; /* NUL-terminated, inside the line buffer */
	unsigned int col;
};

struct parser {
	struct helperd_policy *p;
	const struct helperd_policy_resolver *res;
	struct helperd_policy_diags *d;
	unsigned int line;
	unsigned int cap_rules, cap_limits;
	unsigned int global_limit_line;
	bool rules_full_said, limits_full_said;
};

#define error_at(ps, col, ...) helperd_policy_diag((ps)->d, false, (ps)->line, (col), __VA_ARGS__)
#define warning_at(ps, col, ...) helperd_policy_diag((ps)->d, true, (ps)->line, (col), __VA_ARGS__)

/* --- small parsers ------------------------------------------------------------------- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A user by number or name; 0, or -1 after reporting at col. */
static int parse_user(struct parser *ps, const char *s, unsigned int col, uid_t *uid)
{
	uint64_t v;
	int r;

	if (all_digits(s)) {
		/* (uid_t)-1 means "no change" to the kernel: nobody has it. */
		if (skaccel_parse_u64(s, 0, UINT32_MAX - 1, &v)) {
			error_at(ps, col, "uid %s out of range", s);
			return -1;
		}
		*uid = (uid_t)v;
		return 0;
	}
	r = ps->res->user(s, uid);
	if (r == -ENOENT)
		error_at(ps, col, "unknown user '%s'", s);
	else if (r)
		error_at(ps, col, "cannot look up user '%s': %s", s, strerror(-r));
	return r ? -1 : 0;
}

static int parse_group(struct parser *ps, const char *s, unsigned int col, gid_t *gid)
{
	uint64_t v;
	int r;

	if (all_digits(s)) {
		if (skaccel_parse_u64(s, 0, UINT32_MAX - 1, &v)) {
			error_at(ps, col, "gid %s out of range", s);
			return -1;
		}
		*gid = (gid_t)v;
		return 0;
	}
	r = ps->res->group(s, gid);
	if (r == -ENOENT)
		error_at(ps, col, "unknown group '%s'", s);
	else if (r)
		error_at(ps, col, "cannot look up group '%s': %s", s, strerror(-r));
	return r ? -1 : 0;
}

static int parse_port(struct parser *ps, const char *s, unsigned int col, uint16_t *port)
{
	uint64_t v;
	int r;

	r = skaccel_parse_u64(s, 1, 65535, &v);
	if (r == -ERANGE)
		error_at(ps, col, "port %s out of range 1-65535", s);
	if (r)
		return r;
	*port = (uint16_t)v;
	return 0;
}

/* "80" or "8000-8999" (s is modified); 0, or -1 after reporting. */
static int parse_ports(struct parser *ps, char *s, unsigned int col,
		       struct helperd_port_range *range)
{
	char *dash = strchr(s, '-');
	char copy[32]; /* s before the dash is cut out, for the messages */
	int r;

	snprintf(copy, sizeof(copy), "%s", s);
	if (dash)
		*dash = '\0';
	r = parse_port(ps, s, col, &range->lo);
	if (r == -EINVAL)
		goto bad;
	if (r)
		return -1;
	range->hi = range->lo;
	if (!dash)
		return 0;
	r = parse_port(ps, dash + 1, col + (unsigned int)(dash + 1 - s), &range->hi);
	if (r == -EINVAL)
		goto bad;
	if (r)
		return -1;
	if (range->hi < range->lo) {
		error_at(ps, col, "port range %s is reversed", copy);
		return -1;
	}
	return 0;
bad:
	error_at(ps, col, "'%s' is not a port or a port range (like 80 or 8000-8999)", copy);
	return -1;
}

static int parse_exe(struct parser *ps, const char *s, unsigned int col,
		     struct helperd_policy_exe *exe)
{
	char resolved[PATH_MAX]; /* s itself is shorter than a line */
	int r;

	if (s[0] != '/') {
		error_at(ps, col, "exe '%s' is not an absolute path", s);
		return -1;
	}
	exe->path = strdup(s);
	if (!exe->path)
		return -ENOMEM;
	r = ps->res->exe(s, resolved, sizeof(resolved));
	if (r == -ENOENT)
		warning_at(ps, col, "exe '%s' does not exist (yet); it matches once it does", s);
	else if (r)
		warning_at(ps, col, "cannot resolve exe '%s': %s; matching it as written", s,
			   strerror(-r));
	else if (strcmp(resolved, s) != 0) {
		/* /proc/PID/exe names the file itself, never a symlink to it. */
		exe->resolved = strdup(resolved);
		if (!exe->resolved)
			return -ENOMEM;
	}
	return 0;
}

/* --- directives ---------------------------------------------------------------------- */

enum key { KEY_USER, KEY_GROUP, KEY_EXE, KEY_PORTS, KEY_COUNT };
static const char *const key_names[KEY_COUNT] = { "user", "group", "exe", "ports" };

/* One item of a key's list, appended to the rule's array; 0, -1 (reported) or -ENOMEM. */
static int parse_item(struct parser *ps, struct helperd_policy_rule *r, enum key k, char *item,
		      unsigned int col)
{
	int ret;

	switch (k) {
	case KEY_USER:
		ret = parse_user(ps, item, col, &r->users[r->n_users]);
		r->n_users += ret == 0;
		return ret;
	case KEY_GROUP:
		ret = parse_group(ps, item, col, &r->groups[r->n_groups]);
		r->n_groups += ret == 0;
		return ret;
	case KEY_EXE:
		ret = parse_exe(ps, item, col, &r->exes[r->n_exes]);
		/* Whatever it allocated belongs to the rule now, and goes with it. */
		r->n_exes += r->exes[r->n_exes].path != NULL;
		return ret;
	default:
		ret = parse_ports(ps, item, col, &r->ports[r->n_ports]);
		r->n_ports += ret == 0;
		return ret;
	}
}

/* Split value at its commas and parse each item; 0, -1 (reported) or -ENOMEM. */
static int parse_list(struct parser *ps, struct helperd_policy_rule *r, enum key k, char *value,
		      unsigned int col)
{
	unsigned int n = 1;
	char *item, *comma, *c;
	int ret = 0, one;
	bool ok;

	for (c = value; *c; c++)
		n += *c == ',';
	if (n > HELPERD_POLICY_MAX_ITEMS) {
		error_at(ps, col, "more than %u items in %s=", HELPERD_POLICY_MAX_ITEMS,
			 key_names[k]);
		return -1;
	}
	switch (k) {
	case KEY_USER:
		ok = (r->users = calloc(n, sizeof(*r->users))) != NULL;
		break;
	case KEY_GROUP:
		ok = (r->groups = calloc(n, sizeof(*r->groups))) != NULL;
		break;
	case KEY_EXE:
		ok = (r->exes = calloc(n, sizeof(*r->exes))) != NULL;
		break;
	default:
		ok = (r->ports = calloc(n, sizeof(*r->ports))) != NULL;
		break;
	}
	if (!ok)
		return -ENOMEM;
	for (item = value; item; item = comma ? comma + 1 : NULL) {
		unsigned int icol = col + (unsigned int)(item - value);

		comma = strchr(item, ',');
		if (comma)
			*comma = '\0';
		if (!*item) {
			error_at(ps, icol, "empty item in the list of %s=", key_names[k]);
			ret = -1;
			continue;
		}
		one = parse_item(ps, r, k, item, icol);
		if (one == -ENOMEM)
			return one;
		if (one)
			ret = -1;
	}
	return ret;
}

void helperd_policy_rule_free(struct helperd_policy_rule *r)
{
	unsigned int i;

	for (i = 0; i < r->n_exes; i++) {
		free(r->exes[i].path);
		free(r->exes[i].resolved);
	}
	free(r->users);
	free(r->groups);
	free(r->exes);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

/* The words of the line joined by single spaces, "..." if it does not fit. */
static void rule_text(char *buf, size_t len, const struct word *w, unsigned int n)
{
	size_t used = 0;
	unsigned int i;
	int k;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		k = snprintf(buf + used, len - used, "%s%s", i ? " " : "", w[i].s);
		if (k < 0 || (size_t)k >= len - used) {
			strcpy(buf + len - 4, "...");
			return;
		}
		used += (size_t)k;
	}
}

static int grow(void **array, unsigned int *cap, unsigned int want, size_t size)
{
	unsigned int n = *cap ? *cap * 2 : 8;
	void *a;

	if (want <= *cap)
		return 0;
	while (n < want)
		n *= 2;
	a = realloc(*array, n * size);
	if (!a)
		return -ENOMEM;
	*array = a;
	*cap = n;
	return 0;
}

static int parse_rule(struct parser *ps, struct word *w, unsigned int n, bool allow)
{
	struct helperd_policy *p = ps->p;
	struct helperd_policy_rule r = { .allow = allow, .line = ps->line };
	unsigned int seen[KEY_COUNT] = {};
	bool bad = false;
	unsigned int i, k;
	int ret;

	/* First: parsing the lists cuts the words at their commas. */
	rule_text(r.text, sizeof(r.text), w, n);
	for (i = 1; i < n; i++) {
		char *eq = strchr(w[i].s, '=');
		size_t klen;

		if (!eq) {
			error_at(ps, w[i].col, "expected KEY=VALUE, got '%s'", w[i].s);
			bad = true;
			continue;
		}
		klen = (size_t)(eq - w[i].s);
		for (k = 0; k < KEY_COUNT; k++)
			if (strlen(key_names[k]) == klen && !strncmp(w[i].s, key_names[k], klen))
				break;
		if (k == KEY_COUNT) {
			error_at(ps, w[i].col,
				 "unknown key '%.*s' (expected user, group, exe or ports)",
				 (int)klen, w[i].s);
			bad = true;
			continue;
		}
		if (seen[k]) {
			error_at(ps, w[i].col,
				 "%s= given twice in one rule (list the values: %s=a,b)",
				 key_names[k], key_names[k]);
			bad = true;
			continue;
		}
		seen[k] = w[i].col;
		if (!eq[1]) {
			error_at(ps, w[i].col, "empty value for %s=", key_names[k]);
			bad = true;
			continue;
		}
		ret = parse_list(ps, &r, (enum key)k, eq + 1, w[i].col + (unsigned int)klen + 1);
		if (ret == -ENOMEM) {
			helperd_policy_rule_free(&r);
			return ret;
		}
		bad |= ret != 0;
	}
	if (p->n_rules >= HELPERD_POLICY_MAX_RULES) {
		if (!ps->rules_full_said)
			error_at(ps, 0, "more than %u rules", HELPERD_POLICY_MAX_RULES);
		ps->rules_full_said = true;
		bad = true;
	}
	if (bad) {
		helperd_policy_rule_free(&r);
		return 0; /* reported; go on to find the other errors */
	}
	if (grow((void **)&p->rules, &ps->cap_rules, p->n_rules + 1, sizeof(r))) {
		helperd_policy_rule_free(&r);
		return -ENOMEM;
	}
	p->needs_exe |= r.n_exes > 0;
	p->rules[p->n_rules++] = r;
	return 0;
}

static void parse_default(struct parser *ps, struct word *w, unsigned int n)
{
	struct helperd_policy *p = ps->p;

	if (n < 2) {
		error_at(ps, w[0].col, "'default' needs 'allow' or 'deny'");
		return;
	}
	if (strcmp(w[1].s, "allow") && strcmp(w[1].s, "deny")) {
		error_at(ps, w[1].col, "expected 'allow' or 'deny' after 'default', got '%s'",
			 w[1].s);
		return;
	}
	if (n > 2) {
		error_at(ps, w[2].col, "unexpected '%s' after 'default %s'", w[2].s, w[1].s);
		return;
	}
	if (p->default_line) {
		error_at(ps, w[0].col, "'default' given twice (first on line %u)", p->default_line);
		return;
	}
	p->default_allow = strcmp(w[1].s, "allow") == 0;
	p->default_line = ps->line;
}

static void parse_limit_value(struct parser *ps, const struct word *w, unsigned int *limit,
			      bool *ok)
{
	int r = skaccel_parse_uint(w->s, 1, HELPERD_MAX_SOCKS_LIMIT, limit);

	*ok = r == 0;
	if (r == -ERANGE)
		error_at(ps, w->col, "max-per-user %s out of range 1-%u", w->s,
			 HELPERD_MAX_SOCKS_LIMIT);
	else if (r)
		error_at(ps, w->col, "'%s' is not a number of sockets", w->s);
}

static int parse_max_per_user(struct parser *ps, struct word *w, unsigned int n)
{
	struct helperd_policy *p = ps->p;
	struct helperd_user_limit l = { .line = ps->line };
	unsigned int i;
	bool ok;

	if (n != 2 && n != 3) {
		error_at(ps, n > 3 ? w[3].col : w[0].col,
			 "expected 'max-per-user N' or 'max-per-user USER N'");
		return 0;
	}
	if (n == 2) {
		parse_limit_value(ps, &w[1], &l.limit, &ok);
		if (!ok)
			return 0;
		if (ps->global_limit_line) {
			error_at(ps, w[0].col, "global max-per-user given twice (first on line %u)",
				 ps->global_limit_line);
			return 0;
		}
		p->max_per_user = l.limit;
		ps->global_limit_line = ps->line;
		return 0;
	}
	ok = parse_user(ps, w[1].s, w[1].col, &l.uid) == 0;
	if (ok)
		parse_limit_value(ps, &w[2], &l.limit, &ok);
	if (!ok)
		return 0;
	for (i = 0; i < p->n_limits; i++) {
		if (p->limits[i].uid == l.uid) {
			error_at(ps, w[1].col,
				 "max-per-user for '%s' given twice (first on line %u)", w[1].s,
				 p->limits[i].line);
			return 0;
		}
	}
	if (p->n_limits >= HELPERD_POLICY_MAX_LIMITS) {
		if (!ps->limits_full_said)
			error_at(ps, 0, "more than %u per-user max-per-user lines",
				 HELPERD_POLICY_MAX_LIMITS);
		ps->limits_full_said = true;
		return 0;
	}
	if (grow((void **)&p->limits, &ps->cap_limits, p->n_limits + 1, sizeof(l)))
		return -ENOMEM;
	p->limits[p->n_limits++] = l;
	return 0;
}

/* Split buf (modified) into words; false (reported) for a character that has no place. */
static bool split(struct parser *ps, char *buf, size_t len, struct word *w, unsigned int *n)
{
	size_t i;

	*n = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r' && i + 1 == len) {
			error_at(ps, (unsigned int)i + 1,
				 "carriage return at the end of the line "
				 "(DOS line endings?)");
			return false;
		}
		if (c == '\0' || (c < 0x20 && c != '\t') || c == 0x7f) {
			error_at(ps, (unsigned int)i + 1, "control character 0x%02x", c);
			return false;
		}
	}
	for (i = 0; i < len;) {
		if (buf[i] == ' ' || buf[i] == '\t') {
			buf[i++] = '\0';
			continue;
		}
		if (buf[i] == '#')
			break;
		if (*n == MAX_WORDS) {
			error_at(ps, (unsigned int)i + 1, "too many words");
			return false;
		}
		w[*n].s = &buf[i];
		w[(*n)++].col = (unsigned int)i + 1;
		while (i < len && buf[i] != ' ' && buf[i] != '\t')
			i++;
	}
	buf[i < len ? i : len] = '\0';
	return true;
}

static int parse_line(struct parser *ps, const char *text, size_t len)
{
	char buf[HELPERD_POLICY_MAX_LINE + 1];
	struct word w[MAX_WORDS];
	unsigned int n;

	memcpy(buf, text, len);
	buf[len] = '\0';
	if (!split(ps, buf, len, w, &n) || n == 0)
		return 0;
	if (!strcmp(w[0].s, "allow") || !strcmp(w[0].s, "deny"))
		return parse_rule(ps, w, n, w[0].s[0] == 'a');
	if (!strcmp(w[0].s, "default")) {
		parse_default(ps, w, n);
		return 0;
	}
	if (!strcmp(w[0].s, "max-per-user"))
		return parse_max_per_user(ps, w, n);
	error_at(ps, w[0].col,
		 "unknown directive '%s' (expected allow, deny, default or "
		 "max-per-user)",
		 w[0].s);
	return 0;
}

/* Every gid a rule names, sorted and unique. */
static int collect_groups(struct helperd_policy *p)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < p->n_rules; i++)
		n += p->rules[i].n_groups;
	if (!n)
		return 0;
	p->group_refs = malloc(n * sizeof(gid_t));
	if (!p->group_refs)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < p->n_rules; i++)
		for (j = 0; j < p->rules[i].n_groups; j++)
			p->group_refs[n++] = p->rules[i].groups[j];
	qsort(p->group_refs, n, sizeof(gid_t), helperd_policy_cmp_gid);
	for (i = j = 0; i < n; i++)
		if (!j || p->group_refs[j - 1] != p->group_refs[i])
			p->group_refs[j++] = p->group_refs[i];
	p->n_group_refs = j;
	return 0;
}

int helperd_policy_parse(struct helperd_policy *p, const char *text, size_t len,
			 const struct helperd_policy_resolver *res, struct helperd_policy_diags *d)
{
	struct helperd_policy tmp;
	struct parser ps = { .p = &tmp, .res = res, .d = d };
	unsigned int errors = d->errors;
	size_t pos = 0, n;
	const char *eol;
	int r = 0;

	helperd_policy_init(&tmp);
	tmp.from_file = true;
	while (pos < len && r == 0) {
		ps.line++;
		eol = memchr(text + pos, '\n', len - pos);
		n = eol ? (size_t)(eol - (text + pos)) : len - pos;
		if (n > HELPERD_POLICY_MAX_LINE)
			error_at(&ps, 0, "line longer than %u bytes", HELPERD_POLICY_MAX_LINE);
		else
			r = parse_line(&ps, text + pos, n);
		pos += n + 1;
	}
	if (r == 0 && tmp.n_rules && !tmp.default_line)
		helperd_policy_diag(
		    d, false, tmp.rules[0].line, 0,
		    "rules but no 'default' line: say 'default allow' or 'default deny'");
	if (r == 0)
		r = collect_groups(&tmp);
	if (r == 0 && d->errors != errors)
		r = -EINVAL;
	if (r) {
		helperd_policy_free(&tmp);
		return r;
	}
	*p = tmp;
	return 0;
}

/* --- subordinate ids ----------------------------------------------------------------- */

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
		if (all_digits(name)) {
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
