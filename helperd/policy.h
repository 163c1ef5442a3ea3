/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The opt-in policy (helperd.conf): who may register sockets. Read by policy_parse.c,
 * evaluated by policy_match.c (may this uid register this port?), loaded by policy.c.
 */
#ifndef HELPERD_POLICY_H
#define HELPERD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The file format, one directive per line; '#' starts a comment (at the start of a word),
 * words are separated by spaces or tabs:
 *
 *   default allow|deny          the verdict when no rule matches; required once the file
 *                               has a rule, at most once (no file, or no rule: allow)
 *   allow|deny [KEY=LIST]...    a rule; the first rule that matches decides
 *   max-per-user N              registered sockets per user (1 to 2097152)
 *   max-per-user USER N         ... for one user
 *
 * Keys of a rule are ANDed, the comma-separated items of a list ORed; a rule without keys
 * matches everything. Each key at most once per rule:
 *
 *   user=alice,1001             the client's uid (SO_PEERCRED), by name or number
 *   group=web,33                its primary or any supplementary group (SO_PEERGROUPS)
 *   exe=/usr/sbin/nginx         its executable (/proc/PID/exe; symlinks in the rule are
 *                               resolved at load); an unknown executable (not read)
 *                               fails closed: it matches every deny rule with exe= whose
 *                               other keys match, and no allow rule with exe=
 *   ports=80,443,8000-8999      the socket's local or remote port (from the kernel)
 *
 * Names are resolved when the file is loaded: an unknown one is an error. Everything is
 * strict: an unknown directive or key, a repeated key, an empty item, a port outside
 * 1-65535 or a reversed range, a control character, a line longer than
 * HELPERD_POLICY_MAX_LINE, more than HELPERD_POLICY_MAX_RULES rules or a file larger than
 * HELPERD_POLICY_MAX_BYTES is an error naming its line and column; one error refuses
 * the whole file.
 *
 * Per-user limits, most specific first: the file's line for that user; --max-per-user if
 * given on the command line; the file's global max-per-user; the built-in 4096.
 */

#define HELPERD_DEFAULT_CONFIG "/etc/skaccel/helperd.conf"

#define HELPERD_POLICY_MAX_BYTES (64u * 1024)
#define HELPERD_POLICY_MAX_LINE 1024u /* bytes, without the newline */
#define HELPERD_POLICY_MAX_RULES 256u
#define HELPERD_POLICY_MAX_ITEMS 64u   /* in one key's list */
#define HELPERD_POLICY_MAX_LIMITS 256u /* max-per-user USER N lines */
#define HELPERD_POLICY_MAX_DIAGS 20u   /* kept; the rest are only counted */
#define HELPERD_POLICY_TEXT_MAX 100u   /* a rule as written, for the log */

/* One error or warning: line 0 is about the whole file, column 0 about the whole line. */
struct helperd_policy_diag {
	unsigned int line;
	unsigned int col;
	bool warning;
	char msg[160];
};

struct helperd_policy_diags {
	unsigned int n;	     /* in diag[] */
	unsigned int errors; /* all of them, also those that did not fit diag[] */
	unsigned int warnings;
	struct helperd_policy_diag diag[HELPERD_POLICY_MAX_DIAGS];
};

struct helperd_port_range {
	uint16_t lo, hi;
};

struct helperd_policy_exe {
	char *path;	/* as written */
	char *resolved; /* with symlinks resolved at load; NULL when the same or unresolvable */
};

struct helperd_policy_rule {
	bool allow;
	unsigned int line;
	/* 0 items: the key was not given and matches anything. */
	unsigned int n_users, n_groups, n_exes, n_ports;
	uid_t *users;
	gid_t *groups;
	struct helperd_policy_exe *exes;
	struct helperd_port_range *ports;
	char text[HELPERD_POLICY_TEXT_MAX]; /* "deny user=nobody", for the log */
};

struct helperd_user_limit {
	uid_t uid;
	unsigned int limit;
	unsigned int line;
};

/* ids [start, start + count) belong to owner (a uid; for subgid ranges its primary gid). */
struct helperd_subid_range {
	uint32_t start, count, owner;
};

#define HELPERD_SUBUID_FILE "/etc/subuid"
#define HELPERD_SUBGID_FILE "/etc/subgid"
#define HELPERD_SUBID_MAX_RANGES 65536u

struct helperd_policy {
	bool from_file; /* false: the built-in policy, allow everyone */
	bool default_allow;
	unsigned int default_line; /* 0: not written */
	unsigned int max_per_user; /* the file's global limit, 0 if it sets none */
	unsigned int n_rules, n_limits;
	struct helperd_policy_rule *rules;
	struct helperd_user_limit *limits;
	/* Every gid some rule names, sorted: all of a client's groups that need keeping. */
	gid_t *group_refs;
	unsigned int n_group_refs;
	bool needs_exe; /* some rule has exe= */
	/* /etc/subuid and /etc/subgid, sorted by start: whose subordinate ids they are. */
	struct helperd_subid_range *subuids, *subgids;
	unsigned int n_subuids, n_subgids;
};

/* Name lookups, so that the parser can be tested without the system's databases. */
struct helperd_policy_resolver {
	/* 0, -ENOENT when there is no such name, another -errno when the lookup failed. */
	int (*user)(const char *name, uid_t *uid);
	int (*group)(const char *name, gid_t *gid);
	/* path with every symlink resolved, into buf; -errno (-ENOENT: it does not exist). */
	int (*exe)(const char *path, char *buf, size_t len);
	/* The primary gid of a user, for /etc/subgid; NULL: subgid ranges are not read. */
	int (*user_gid)(const char *name, gid_t *gid);
};

/* getpwnam_r, getgrnam_r and realpath. */
extern const struct helperd_policy_resolver helperd_policy_system;

/* Who asks: what the kernel said about a client connection. */
struct helperd_policy_subject {
	uid_t uid;
	const gid_t *groups; /* primary and supplementary; those in group_refs suffice */
	unsigned int n_groups;
	const char *exe; /* NULL: unknown: matches deny exe= rules, no allow exe= rule */
};

/* The built-in policy: no file, allow everyone, no limits of its own. */
void helperd_policy_init(struct helperd_policy *p);

void helperd_policy_free(struct helperd_policy *p);

/*
 * Parse a file's text (len bytes, need not be NUL-terminated). On success *p (which must
 * not hold a policy) is filled in and 0 returned; otherwise *p is untouched and -EINVAL
 * (diags says why) or -ENOMEM returned. Warnings never fail a parse.
 */
int helperd_policy_parse(struct helperd_policy *p, const char *text, size_t len,
			 const struct helperd_policy_resolver *res, struct helperd_policy_diags *d);

/*
 * Read and parse the file at path, as helperd_policy_parse(), then HELPERD_SUBUID_FILE and
 * HELPERD_SUBGID_FILE (helperd_policy_load_subids). The file must be a regular
 * file of at most HELPERD_POLICY_MAX_BYTES, owned by root or by the reader, and writable
 * by nobody else. Returns 0, -ENOENT when there is no such file (nothing added to diags;
 * *p is then the built-in policy with the subordinate ids, to be freed),
 * -EINVAL (diags says why), or another -errno (with a file-level diag).
 */
int helperd_policy_load(struct helperd_policy *p, const char *path,
			const struct helperd_policy_resolver *res, struct helperd_policy_diags *d);

/* The ownership and mode rule of helperd_policy_load(); false with a reason in why. */
bool helperd_policy_file_safe(const struct stat *st, uid_t reader, char *why, size_t len);

/*
 * May s register a socket with these ports? *rule (if non-NULL) gets the rule that
 * decided, NULL when it was the default verdict.
 */
bool helperd_policy_allows(const struct helperd_policy *p, const struct helperd_policy_subject *s,
			   uint16_t local_port, uint16_t remote_port,
			   const struct helperd_policy_rule **rule);

/* The global limit: --max-per-user when given, else the file's, else cli (the default). */
unsigned int helperd_policy_global_limit(const struct helperd_policy *p, unsigned int cli,
					 bool cli_given);

/* The limit of uid: its own line in the file, else global. */
unsigned int helperd_policy_user_limit(const struct helperd_policy *p, uid_t uid,
				       unsigned int global);

/*
 * Subordinate ids (rootless containers): one person may run processes under every uid of
 * their /etc/subuid ranges. A limit counts a person, so a uid in user U's range counts as
 * U: for max-per-user, for user=U in allow and deny rules (a rule naming the subordinate
 * uid itself still matches it too), and, through helperd_policy_account_uid(), for the
 * helper's other per-user counts. A gid in U's /etc/subgid range counts as U's primary
 * group for group= rules. Both files are read with the policy, at start and on SIGHUP;
 * a missing file is no range, a malformed line or unknown user a warning (skipped).
 */
int helperd_policy_parse_subids(struct helperd_policy *p, const char *text, size_t len, bool gids,
				const struct helperd_policy_resolver *res,
				struct helperd_policy_diags *d);

/* Read the two files into p (after a parse); 0 or -errno (-ENOMEM). */
int helperd_policy_load_subids(struct helperd_policy *p, const char *subuid, const char *subgid,
			       const struct helperd_policy_resolver *res,
			       struct helperd_policy_diags *d);

/* The uid a per-user count is kept under: the owner of a subordinate uid, else uid. */
uid_t helperd_policy_account_uid(const struct helperd_policy *p, uid_t uid);

/* Copy those of groups[0, n) that some rule names into out (room for cap); how many. */
unsigned int helperd_policy_keep_groups(const struct helperd_policy *p, const gid_t *groups,
					unsigned int n, gid_t *out, unsigned int cap);

/* "path:line:col: msg", "path:line: msg" or "path: msg", with "warning: " if it is one. */
void helperd_policy_diag_format(char *buf, size_t len, const char *path,
				const struct helperd_policy_diag *dg);

/*
 * --check-config: load path, print every diagnostic to err and "PATH: OK (N rules, default
 * allow)" to out. A missing file is fine unless it was named explicitly (the helper then
 * allows everyone). Returns the exit status, 0 or 1.
 */
int helperd_policy_check_config(FILE *out, FILE *err, const char *path, bool explicit);

#endif /* HELPERD_POLICY_H */
