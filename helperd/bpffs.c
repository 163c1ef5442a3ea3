// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bpffs set-up. Pins only survive on a BPF filesystem; a pin directory on tmpfs or ext4
 * would fail in libbpf with a confusing message, so we check (and mount the standard
 * one when a minimal system lacks it).
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "bpffs.h"

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
