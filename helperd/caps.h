/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Giving up the capabilities the helper needs only to load and pin its BPF objects. */
#ifndef HELPERD_CAPS_H
#define HELPERD_CAPS_H

#include <stdint.h>
#include <sys/types.h>

#define HELPERD_CAP_BIT(cap) (1ull << (cap))

/*
 * What the helper keeps once its programs are loaded, attached and pinned: nothing. Map
 * reads and writes through fds it already holds need no capability (the kernel checks
 * CAP_BPF when a map or program is created or an fd is obtained by id or path, not when
 * an fd is used), and every other call it makes serves its own sockets, files and the fds
 * its clients send. tests/e2e/core/caps.sh proves it: registrations succeed after the drop.
 */
#define HELPERD_CAPS_KEEP 0ull

/*
 * Reduce the permitted and effective sets to keep (a mask of HELPERD_CAP_BIT()s), empty
 * the inheritable and ambient sets, remove every other capability from the bounding set
 * when CAP_SETPCAP allows it (under systemd, CapabilityBoundingSet= has done that already),
 * and set no_new_privs, so no later exec can win anything back. *before and *after receive
 * the effective sets. 0 or -errno; on failure the capabilities may be partly dropped,
 * which only ever removes privileges.
 */
int helperd_caps_restrict(uint64_t keep, uint64_t *before, uint64_t *after);

/* Supplementary groups the user may have; more is refused rather than cut short. */
#define HELPERD_USER_MAX_GROUPS 64

/* The unprivileged user the helper serves as (--user), resolved before set-up. */
struct helperd_user {
	uid_t uid;
	gid_t gid; /* its primary group */
	int ngroups;
	gid_t groups[HELPERD_USER_MAX_GROUPS]; /* its groups, as initgroups() would set them */
};

/*
 * Look up name (or a decimal uid) in the user database: 0, -ENOENT if there is no such
 * user, -EPERM if it is root (switching to it would keep every privilege), -E2BIG if it
 * has more than HELPERD_USER_MAX_GROUPS groups, or -errno.
 */
int helperd_user_lookup(const char *name, struct helperd_user *u);

/*
 * helperd_caps_restrict(), and in between, when user is not NULL: setgroups(),
 * setresgid() and setresuid() to the user (glibc applies each to every thread of the
 * process). That needs CAP_SETGID and CAP_SETUID, and comes after the bounding set is
 * emptied (which needs CAP_SETPCAP: a non-root uid loses its effective capabilities).
 * Fails with -EPERM unless every uid and gid is the user's afterwards.
 */
int helperd_caps_restrict_as(uint64_t keep, const struct helperd_user *user, uint64_t *before,
			     uint64_t *after);

/* "cap_bpf,cap_net_admin" for a mask, or "none"; for the log. */
void helperd_caps_format(char *buf, size_t len, uint64_t mask);

#endif /* HELPERD_CAPS_H */
