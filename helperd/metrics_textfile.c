// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * --metrics-textfile. node_exporter reads only *.prom files, so the temporary name
 * (PATH.tmp.PID) is never read half-written. The helper may run as root in a directory
 * others can write: the temporary file is created exclusively without following
 * symlinks, and rename() replaces a symlink at PATH rather than writing through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helperd/metrics_textfile.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int create_tmp(const char *tmp)
{
	int fd, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			break;
		/* Left by a helper that died between open and rename (same pid: a restart). */
		if (unlink(tmp) < 0)
			return -errno;
	}
	return fd < 0 ? -errno : fd;
}

int helperd_metrics_textfile_write(const char *path, const char *buf, size_t len)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = create_tmp(tmp);
	if (fd < 0)
		return fd;
	/* The file's mode is 0644 whatever the umask: node_exporter runs as its own user. */
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (!r)
		r = write_all(fd, buf, len);
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}
