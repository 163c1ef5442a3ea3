// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bpffs set-up. Pins only survive on a BPF filesystem; a pin directory on tmpfs or ext4
 * would fail in libbpf with a confusing message, so we check (and mount the standard
 * one when a minimal system lacks it).
 */
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "helperd/bpffs.h"

int helperd_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	char *p, saved;

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

int helperd_is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st) < 0)
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

static bool under_bpffs_root(const char *path)
{
	size_t n = strlen(HELPERD_BPFFS_ROOT);

	return strncmp(path, HELPERD_BPFFS_ROOT, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Cut buf back to its nearest existing ancestor (at least "/"). */
static void nearest_existing(char *buf)
{
	struct stat st;
	char *slash;

	while (stat(buf, &st) < 0) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			strcpy(buf, "/");
			return;
		}
		*slash = '\0';
	}
}

int helperd_bpffs_prepare(const char *pin_dir, bool *mounted)
{
	char anc[PATH_MAX];
	int r;

	*mounted = false;
	if (strlen(pin_dir) >= sizeof(anc))
		return -ENAMETOOLONG;
	if (under_bpffs_root(pin_dir)) {
		r = helperd_is_bpffs(HELPERD_BPFFS_ROOT);
		if (r < 0)
			return r;
		if (!r) {
			if (mount("bpf", HELPERD_BPFFS_ROOT, "bpf", 0, "mode=0700") < 0)
				return -errno;
			*mounted = true;
		}
	} else {
		strcpy(anc, pin_dir);
		nearest_existing(anc);
		r = helperd_is_bpffs(anc);
		if (r < 0)
			return r;
		if (!r)
			return -ENOTSUP;
	}
	r = helperd_mkdir_p(pin_dir, 0700);
	if (r < 0)
		return r;
	r = helperd_is_bpffs(pin_dir);
	if (r < 0)
		return r;
	return r ? 0 : -ENOTSUP;
}

/* Could someone other than us and root replace or rename what is in dir? */
static bool others_may_write(const struct stat *st)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return true;
	/* Group or world write; the sticky bit (/tmp) still lets nobody rename our entries. */
	return (st->st_mode & 022) && !(st->st_mode & S_ISVTX);
}

int helperd_pin_dir_check(const char *pin_dir, char *culprit, size_t len, struct stat *st)
{
	char buf[PATH_MAX];
	char *slash;

	if (strlen(pin_dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, pin_dir);
	if (lstat(buf, st) < 0)
		return -errno;
	if (!S_ISDIR(st->st_mode)) {
		snprintf(culprit, len, "%s", buf);
		return -ENOTDIR;
	}
	/* The directory itself must be ours alone: its pins are the maps we trust. */
	if (st->st_uid != geteuid() || (st->st_mode & 022)) {
		snprintf(culprit, len, "%s", buf);
		return -EACCES;
	}
	/* And no ancestor may let another user swap the directory for one of theirs. */
	for (;;) {
		slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (lstat(buf, st) < 0)
			return -errno;
		if (others_may_write(st)) {
			snprintf(culprit, len, "%s", buf);
			return -EACCES;
		}
		if (slash == buf)
			return 0;
	}
}

void helperd_pin_dir_advice(const char *pin_dir, const char *culprit, const struct stat *st,
			    int err, char *buf, size_t len)
{
	bool mine = st->st_uid == geteuid();

	if (strcmp(culprit, pin_dir) == 0) {
		if (err == -ENOTDIR)
			snprintf(buf, len, "remove it ('rm -- %s') and start the helper again",
				 pin_dir);
		else if (mine)
			snprintf(buf, len, "run 'chmod 0700 %s' and start the helper again",
				 pin_dir);
		else
			/* Removing pins unpins nothing anyone uses: maps live while held. */
			/* Made at once by root, it leaves no moment for another squatter. */
			snprintf(
			    buf, len,
			    "another user made it: replace it with 'rm -r -- %s && mkdir -m 0700 "
			    "%s' and start the helper again",
			    pin_dir, pin_dir);
		return;
	}
	if (st->st_uid != 0 && !mine)
		snprintf(buf, len,
			 "run 'chown root %s && chmod go-w %s' (or pick another --pin-dir)",
			 culprit, culprit);
	else if (helperd_is_bpffs(culprit) == 1)
		/* A world-writable bpffs lets anyone squat the pin directory's name. */
		snprintf(buf, len,
			 "run 'chmod o-w,g-w %s' (or 'chmod +t %s' to keep it writable by all, "
			 "then the helper's own directory is safe from renames)",
			 culprit, culprit);
	else
		snprintf(buf, len, "run 'chmod go-w %s' (or pick another --pin-dir)", culprit);
}
