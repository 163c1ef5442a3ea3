/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Making sure the pin directory exists on a BPF filesystem. */
#ifndef HELPERD_BPFFS_H
#define HELPERD_BPFFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define HELPERD_BPFFS_ROOT "/sys/fs/bpf"

/* mkdir -p: create path and any missing parents with mode; 0 or -errno. */
int helperd_mkdir_p(const char *path, mode_t mode);

/* Is path on a BPF filesystem? 1, 0, or -errno from statfs. */
int helperd_is_bpffs(const char *path);

/*
 * Make pin_dir a directory (0700) on bpffs. Under /sys/fs/bpf, mounts bpffs there first
 * if it is missing (*mounted says so). Elsewhere the nearest existing ancestor must
 * already be on bpffs: nothing is created on another filesystem. Returns 0, -ENOTSUP
 * when pin_dir is not and cannot be on bpffs, or -errno.
 */
int helperd_bpffs_prepare(const char *pin_dir, bool *mounted);

/*
 * Pins in a directory another user can write to could be maps of theirs, which the
 * helper would fill with sockets it trusts. So pin_dir must be a directory owned by us
 * and writable by no one else, and every ancestor owned by root or us and not writable by
 * others (unless sticky). 0, -ENOTDIR, -EACCES (culprit names the path, *st its state),
 * or -errno from lstat.
 */
int helperd_pin_dir_check(const char *pin_dir, char *culprit, size_t len, struct stat *st);

/*
 * What to do about a pin directory helperd_pin_dir_check() refused (err, culprit and st as
 * it returned them): a command line a root shell can run, into buf. A pin directory that
 * another user made (on a world-writable bpffs, anyone can squat the name first) is to be
 * removed, a writable one made private, a writable ancestor closed to others.
 */
void helperd_pin_dir_advice(const char *pin_dir, const char *culprit, const struct stat *st,
			    int err, char *buf, size_t len);

#endif /* HELPERD_BPFFS_H */
