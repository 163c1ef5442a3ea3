// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The opt-in policy: a strict line parser for helperd.conf (format in policy.h) and its
 * evaluation. No logging and no state of its own: diagnostics go back to the caller, and
 * name lookups go through a resolver, so the unit tests need neither root nor /etc/passwd.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "policy.h"
#include "text.h"

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

static __attribute__((format(printf, 5, 6))) void diag(struct helperd_policy_diags *d, bool warning,
						       unsigned int line, unsigned int col,
						       const char *fmt, ...)
{
	struct helperd_policy_diag *dg;
	va_list ap;

	if (warning)
		d->warnings++;
	else
		d->errors++;
	if (d->n >= HELPERD_POLICY_MAX_DIAGS)
		return;
	dg = &d->diag[d->n++];
	dg->line = line;
	dg->col = col;
	dg->warning = warning;
	va_start(ap, fmt);
	vsnprintf(dg->msg, sizeof(dg->msg), fmt, ap);
	va_end(ap);
}

#define error_at(ps, col, ...) diag((ps)->d, false, (ps)->line, (col), __VA_ARGS__)
#define warning_at(ps, col, ...) diag((ps)->d, true, (ps)->line, (col), __VA_ARGS__)

/* --- the system resolver ------------------------------------------------------------- */

/* getpw*_r/getgr*_r report "no such entry" as 0 with no result, or as one of these. */
static bool not_found(int r)
{
	return r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM;
}

static int system_user(const char *name, uid_t *uid)
{
	struct passwd pw, *found = NULL;
	char buf[4096];
	int r;

	r = getpwnam_r(name, &pw, buf, sizeof(buf), &found);
	if (found) {
		*uid = pw.pw_uid;
		return 0;
	}
	return not_found(r) ? -ENOENT : -r;
}

static int system_group(const char *name, gid_t *gid)
{
	struct group gr, *found = NULL;
	char *buf;
	int r;

	/* Group entries list their members: large groups need a large buffer. */
	buf = malloc(1u << 16);
	if (!buf)
		return -ENOMEM;
	r = getgrnam_r(name, &gr, buf, 1u << 16, &found);
	if (found)
		*gid = gr.gr_gid;
	free(buf);
	if (found)
		return 0;
	return not_found(r) ? -ENOENT : -r;
}

static int system_exe(const char *path, char *buf, size_t len)
{
	char tmp[PATH_MAX];

	if (!realpath(path, tmp))
		return -errno;
	if (strlen(tmp) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, tmp);
	return 0;
}

const struct helperd_policy_resolver helperd_policy_system = {
	.user = system_user,
	.group = system_group,
	.exe = system_exe,
};

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
		if (helperd_parse_u64(s, 0, UINT32_MAX - 1, &v)) {
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
		if (helperd_parse_u64(s, 0, UINT32_MAX - 1, &v)) {
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

	r = helperd_parse_u64(s, 1, 65535, &v);
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

static void rule_free(struct helperd_policy_rule *r)
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
			rule_free(&r);
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
		rule_free(&r);
		return 0; /* reported; go on to find the other errors */
	}
	if (grow((void **)&p->rules, &ps->cap_rules, p->n_rules + 1, sizeof(r))) {
		rule_free(&r);
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
	int r = helperd_parse_uint(w->s, 1, HELPERD_MAX_SOCKS_LIMIT, limit);

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

static int cmp_gid(const void *a, const void *b)
{
	gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;

	return x < y ? -1 : x > y;
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
	qsort(p->group_refs, n, sizeof(gid_t), cmp_gid);
	for (i = j = 0; i < n; i++)
		if (!j || p->group_refs[j - 1] != p->group_refs[i])
			p->group_refs[j++] = p->group_refs[i];
	p->n_group_refs = j;
	return 0;
}

/* --- the policy ---------------------------------------------------------------------- */

void helperd_policy_init(struct helperd_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->default_allow = true;
}

void helperd_policy_free(struct helperd_policy *p)
{
	unsigned int i;

	for (i = 0; i < p->n_rules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	free(p->limits);
	free(p->group_refs);
	free(p->subuids);
	free(p->subgids);
	helperd_policy_init(p);
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
		diag(d, false, tmp.rules[0].line, 0,
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

bool helperd_policy_file_safe(const struct stat *st, uid_t reader, char *why, size_t len)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, len, "not a regular file");
		return false;
	}
	if (st->st_uid != 0 && st->st_uid != reader) {
		snprintf(why, len, "owned by uid %u, not by root", (unsigned int)st->st_uid);
		return false;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len,
			 "writable by %s (mode %04o): anyone who can write it decides "
			 "who may opt in",
			 st->st_mode & S_IWOTH ? "everyone" : "its group",
			 (unsigned int)(st->st_mode & 07777));
		return false;
	}
	return true;
}

int helperd_policy_load(struct helperd_policy *p, const char *path,
			const struct helperd_policy_resolver *res, struct helperd_policy_diags *d)
{
	char why[128], *buf = NULL;
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	/* O_NONBLOCK: a FIFO must not make us wait; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r != -ENOENT)
			diag(d, false, 0, 0, "cannot open: %s", strerror(-r));
		/* No file is the built-in policy, which counts persons all the same. */
		if (r == -ENOENT && helperd_policy_load_subids(p, HELPERD_SUBUID_FILE,
							       HELPERD_SUBGID_FILE, res, d) < 0)
			r = -ENOMEM;
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		diag(d, false, 0, 0, "cannot stat: %s", strerror(-r));
		goto out;
	}
	if (!helperd_policy_file_safe(&st, geteuid(), why, sizeof(why))) {
		diag(d, false, 0, 0, "%s", why);
		r = -EINVAL;
		goto out;
	}
	/* One byte more than allowed, to tell a file that grew since fstat. */
	buf = malloc(HELPERD_POLICY_MAX_BYTES + 1);
	if (!buf) {
		r = -ENOMEM;
		diag(d, false, 0, 0, "cannot read: %s", strerror(-r));
		goto out;
	}
	while (len <= HELPERD_POLICY_MAX_BYTES) {
		n = read(fd, buf + len, HELPERD_POLICY_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			diag(d, false, 0, 0, "cannot read: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > HELPERD_POLICY_MAX_BYTES) {
		diag(d, false, 0, 0, "larger than %u bytes", HELPERD_POLICY_MAX_BYTES);
		r = -EINVAL;
		goto out;
	}
	r = helperd_policy_parse(p, buf, len, res, d);
	if (r == 0) {
		r = helperd_policy_load_subids(p, HELPERD_SUBUID_FILE, HELPERD_SUBGID_FILE, res, d);
		if (r)
			helperd_policy_free(p);
	}
out:
	free(buf);
	close(fd);
	return r;
}

/* --- subordinate ids ----------------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
	const struct helperd_subid_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
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
		if (!name || !start || !count || helperd_parse_u64(start, 0, UINT32_MAX - 1, &vs) ||
		    helperd_parse_u64(count, 1, UINT32_MAX, &vc) || vs + vc - 1 > UINT32_MAX - 1) {
			diag(d, true, line, 0, "%s: not USER:START:COUNT, skipped",
			     gids ? "subgid" : "subuid");
			continue;
		}
		/* The owner by number or name, as newuidmap(1) accepts either. */
		if (all_digits(name)) {
			if (gids)
				continue; /* a number names no user whose primary group we know */
			r = helperd_parse_u64(name, 0, UINT32_MAX - 1, &vo) ? -ENOENT : 0;
			owner = (uid_t)vo;
		} else {
			r = res->user(name, &owner);
		}
		if (!r && gids) {
			r = res->user_gid(name, &g);
			owner = (uid_t)g;
		}
		if (r) {
			diag(d, true, line, 0, "%s: unknown user '%.64s', skipped",
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
			diag(d, true, 0, 0, "%s: range starting at %u overlaps another, skipped",
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

static int read_small_file(const char *path, char **text, size_t *len)
{
	char *buf = malloc(HELPERD_POLICY_MAX_BYTES * 16 + 1);
	size_t used = 0, max = HELPERD_POLICY_MAX_BYTES * 16;
	ssize_t n;
	int fd, r = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	while (used < max) {
		n = read(fd, buf + used, max - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (r) {
		free(buf);
		return r;
	}
	*text = buf;
	*len = used;
	return 0;
}

int helperd_policy_load_subids(struct helperd_policy *p, const char *subuid, const char *subgid,
			       const struct helperd_policy_resolver *res,
			       struct helperd_policy_diags *d)
{
	const char *paths[2] = { subuid, subgid };
	char *text = NULL;
	size_t len = 0;
	int i, r;

	for (i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		r = read_small_file(paths[i], &text, &len);
		if (r == -ENOMEM)
			return r;
		if (r) {
			if (r != -ENOENT)
				diag(d, true, 0, 0,
				     "cannot read %s: %s; no subordinate ids from it", paths[i],
				     strerror(-r));
			continue;
		}
		r = helperd_policy_parse_subids(p, text, len, i == 1, res, d);
		free(text);
		if (r)
			return r;
	}
	return 0;
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
		if (bsearch(&g, p->group_refs, p->n_group_refs, sizeof(gid_t), cmp_gid))
			out[kept++] = g;
	}
	return kept;
}

void helperd_policy_diag_format(char *buf, size_t len, const char *path,
				const struct helperd_policy_diag *dg)
{
	const char *w = dg->warning ? "warning: " : "";

	if (!dg->line)
		snprintf(buf, len, "%s: %s%s", path, w, dg->msg);
	else if (!dg->col)
		snprintf(buf, len, "%s:%u: %s%s", path, dg->line, w, dg->msg);
	else
		snprintf(buf, len, "%s:%u:%u: %s%s", path, dg->line, dg->col, w, dg->msg);
}

int helperd_policy_check_config(FILE *out, FILE *err, const char *path, bool explicit)
{
	struct helperd_policy_diags d = {};
	struct helperd_policy p;
	char line[PATH_MAX + 256];
	unsigned int i;
	int r;

	helperd_policy_init(&p);
	r = helperd_policy_load(&p, path, &helperd_policy_system, &d);
	if (r == -ENOENT && !explicit) {
		helperd_policy_free(&p);
		fprintf(out, "%s: no such file: every user may opt in (default allow, no rules)\n",
			path);
		return 0;
	}
	if (r == -ENOENT)
		diag(&d, false, 0, 0, "cannot open: %s", strerror(ENOENT));
	for (i = 0; i < d.n; i++) {
		helperd_policy_diag_format(line, sizeof(line), path, &d.diag[i]);
		fprintf(err, "%s\n", line);
	}
	if (d.errors + d.warnings > d.n)
		fprintf(err, "%s: %u more errors and warnings not shown\n", path,
			d.errors + d.warnings - d.n);
	if (r) {
		fprintf(err, "%s: %u error%s\n", path, d.errors, d.errors == 1 ? "" : "s");
		return 1;
	}
	fprintf(out, "%s: OK (%u rule%s, default %s)\n", path, p.n_rules, p.n_rules == 1 ? "" : "s",
		p.default_allow ? "allow" : "deny");
	helperd_policy_free(&p);
	return fflush(out) == 0 ? 0 : 1;
}
