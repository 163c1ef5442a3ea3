// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The opt-in policy's public face: the built-in policy, loading the file (ownership, mode
 * and size checks around policy_parse.c) and /etc/subuid and /etc/subgid, freeing it,
 * the diagnostics and --check-config. Parsing is policy_parse.c, evaluation
 * policy_match.c. No logging and no state of its own: diagnostics go back to the caller.
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

#include "helperd/policy.h"
#include "helperd/policy_priv.h"

void helperd_policy_diag(struct helperd_policy_diags *d, bool warning, unsigned int line,
			 unsigned int col, const char *fmt, ...)
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
		helperd_policy_rule_free(&p->rules[i]);
	free(p->rules);
	free(p->limits);
	free(p->group_refs);
	free(p->subuids);
	free(p->subgids);
	helperd_policy_init(p);
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
			helperd_policy_diag(d, false, 0, 0, "cannot open: %s", strerror(-r));
		/* No file is the built-in policy, which counts persons all the same. */
		if (r == -ENOENT && helperd_policy_load_subids(p, HELPERD_SUBUID_FILE,
							       HELPERD_SUBGID_FILE, res, d) < 0)
			r = -ENOMEM;
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		helperd_policy_diag(d, false, 0, 0, "cannot stat: %s", strerror(-r));
		goto out;
	}
	if (!helperd_policy_file_safe(&st, geteuid(), why, sizeof(why))) {
		helperd_policy_diag(d, false, 0, 0, "%s", why);
		r = -EINVAL;
		goto out;
	}
	/* One byte more than allowed, to tell a file that grew since fstat. */
	buf = malloc(HELPERD_POLICY_MAX_BYTES + 1);
	if (!buf) {
		r = -ENOMEM;
		helperd_policy_diag(d, false, 0, 0, "cannot read: %s", strerror(-r));
		goto out;
	}
	while (len <= HELPERD_POLICY_MAX_BYTES) {
		n = read(fd, buf + len, HELPERD_POLICY_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			helperd_policy_diag(d, false, 0, 0, "cannot read: %s", strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > HELPERD_POLICY_MAX_BYTES) {
		helperd_policy_diag(d, false, 0, 0, "larger than %u bytes",
				    HELPERD_POLICY_MAX_BYTES);
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
				helperd_policy_diag(
				    d, true, 0, 0, "cannot read %s: %s; no subordinate ids from it",
				    paths[i], strerror(-r));
			continue;
		}
		r = helperd_policy_parse_subids(p, text, len, i == 1, res, d);
		free(text);
		if (r)
			return r;
	}
	return 0;
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
		helperd_policy_diag(&d, false, 0, 0, "cannot open: %s", strerror(ENOENT));
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
