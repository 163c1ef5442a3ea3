// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Dropping capabilities after set-up, with the raw capget/capset/prctl calls: a dozen
 * lines do not justify a libcap dependency in a privileged daemon.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/number.h"
#include "helperd/caps.h"

/* Names as in capabilities(7), for the log line; index = capability number. */
static const char *const cap_names[] = {
	"cap_chown",
	"cap_dac_override",
	"cap_dac_read_search",
	"cap_fowner",
	"cap_fsetid",
	"cap_kill",
	"cap_setgid",
	"cap_setuid",
	"cap_setpcap",
	"cap_linux_immutable",
	"cap_net_bind_service",
	"cap_net_broadcast",
	"cap_net_admin",
	"cap_net_raw",
	"cap_ipc_lock",
	"cap_ipc_owner",
	"cap_sys_module",
	"cap_sys_rawio",
	"cap_sys_chroot",
	"cap_sys_ptrace",
	"cap_sys_pacct",
	"cap_sys_admin",
	"cap_sys_boot",
	"cap_sys_nice",
	"cap_sys_resource",
	"cap_sys_time",
	"cap_sys_tty_config",
	"cap_mknod",
	"cap_lease",
	"cap_audit_write",
	"cap_audit_control",
	"cap_setfcap",
	"cap_mac_override",
	"cap_mac_admin",
	"cap_syslog",
	"cap_wake_alarm",
	"cap_block_suspend",
	"cap_audit_read",
	"cap_perfmon",
	"cap_bpf",
	"cap_checkpoint_restore",
};

static int caps_get(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &hdr, data) < 0 ? -errno : 0;
}

static uint64_t caps_mask(const __u32 lo, const __u32 hi)
{
	return (uint64_t)hi << 32 | lo;
}

int helperd_user_lookup(const char *name, struct helperd_user *u)
{
	struct passwd *pw;
	uint64_t id;
	int n;

	errno = 0;
	pw = getpwnam(name);
	/* (uid_t)-1 means "no change" to the kernel: nobody has it. */
	if (!pw && skaccel_parse_u64(name, 0, (uid_t)-1 - 1, &id) == 0) {
		errno = 0;
		pw = getpwuid((uid_t)id);
	}
	if (!pw)
		/* "Not found" is 0 or one of several codes, depending on the NSS module. */
		return errno && errno != ENOENT && errno != ESRCH && errno != EBADF &&
			       errno != EPERM
			   ? -errno
			   : -ENOENT;
	if (pw->pw_uid == 0)
		return -EPERM;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	n = HELPERD_USER_MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) < 0)
		return -E2BIG;
	u->ngroups = n;
	return 0;
}

/* Every uid and gid is the user's, and so are the supplementary groups. */
static bool is_user(const struct helperd_user *u)
{
	gid_t groups[HELPERD_USER_MAX_GROUPS];
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int n, i, j;

	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return false;
	if (ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid ||
	    sg != u->gid)
		return false;
	n = getgroups(HELPERD_USER_MAX_GROUPS, groups);
	if (n < 0 || n != u->ngroups)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < u->ngroups && groups[i] != u->groups[j]; j++)
			;
		if (j == u->ngroups)
			return false;
	}
	return true;
}

int helperd_caps_restrict(uint64_t keep, uint64_t *before, uint64_t *after)
{
	return helperd_caps_restrict_as(keep, NULL, before, after);
}

int helperd_caps_restrict_as(uint64_t keep, const struct helperd_user *user, uint64_t *before,
			     uint64_t *after)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	uint64_t permitted;
	int cap, r;

	r = caps_get(data);
	if (r)
		return r;
	*before = caps_mask(data[0].effective, data[1].effective);
	permitted = caps_mask(data[0].permitted, data[1].permitted);

	/*
	 * The bounding set first, while CAP_SETPCAP is still effective. Without it (systemd
	 * gave us a bounding set that lacks it) the bounding set is the unit's already.
	 */
	if (*before & HELPERD_CAP_BIT(CAP_SETPCAP)) {
		for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
			if (cap < 64 && (keep & HELPERD_CAP_BIT(cap)))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
				return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;

	/*
	 * Groups first: setgroups() and setresgid() need CAP_SETGID, which leaving uid 0
	 * takes away. glibc makes every thread of the process do each of these calls.
	 */
	if (user) {
		if (setgroups((size_t)user->ngroups, user->groups) < 0)
			return -errno;
		if (setresgid(user->gid, user->gid, user->gid) < 0)
			return -errno;
		/* Leaving uid 0 empties the permitted set, unless asked to keep it. */
		if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return -errno;
		if (setresuid(user->uid, user->uid, user->uid) < 0)
			return -errno;
		if (keep && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return -errno;
		r = caps_get(data);
		if (r)
			return r;
		permitted = caps_mask(data[0].permitted, data[1].permitted);
	}

	permitted &= keep;
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = (__u32)permitted;
	data[1].permitted = data[1].effective = (__u32)(permitted >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	r = caps_get(data);
	if (r)
		return r;
	*after = caps_mask(data[0].effective, data[1].effective);
	if (*after & ~keep)
		return -EPERM;
	return user && !is_user(user) ? -EPERM : 0;
}

void helperd_caps_format(char *buf, size_t len, uint64_t mask)
{
	size_t used = 0;
	int cap;

	if (len)
		buf[0] = '\0';
	for (cap = 0; cap < 64 && used < len; cap++) {
		const char *name;
		char number[16];
		int n;

		if (!(mask & HELPERD_CAP_BIT(cap)))
			continue;
		if (cap < (int)(sizeof(cap_names) / sizeof(cap_names[0]))) {
			name = cap_names[cap];
		} else {
			snprintf(number, sizeof(number), "cap_%d", cap);
			name = number;
		}
		n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!mask)
		snprintf(buf, len, "none");
}
