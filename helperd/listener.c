// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The listening socket. Socket activation is done by hand (no libsystemd dependency):
 * it is a few environment variables and one fd, but each must be checked, since a
 * wrong fd 3 would otherwise be served as if it were the helper socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/number.h"
#include "helperd/bpffs.h"
#include "helperd/listener.h"

int helperd_activation_parse(const char *listen_pid, const char *listen_fds, pid_t self,
			     const char **why)
{
	const char *dummy;
	uint64_t pid, n;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!listen_fds)
		return 0;
	if (!listen_pid) {
		*why = "LISTEN_FDS is set but LISTEN_PID is not";
		return -EINVAL;
	}
	if (skaccel_parse_u64(listen_pid, 1, INT_MAX, &pid)) {
		*why = "LISTEN_PID is not a process id";
		return -EINVAL;
	}
	if (pid != (uint64_t)self) {
		*why = "LISTEN_PID names another process";
		return -EINVAL;
	}
	if (strcmp(listen_fds, "0") == 0) {
		*why = "LISTEN_FDS passes no socket";
		return -EINVAL;
	}
	if (skaccel_parse_u64(listen_fds, 1, INT_MAX - HELPERD_LISTEN_FDS_START, &n)) {
		*why = "LISTEN_FDS is not a count";
		return -EINVAL;
	}
	if (n != 1) {
		*why = "LISTEN_FDS passes more than one socket (expected exactly one)";
		return -EINVAL;
	}
	return 1;
}

static int sockopt_int(int fd, int name, int *val)
{
	socklen_t len = sizeof(*val);

	return getsockopt(fd, SOL_SOCKET, name, val, &len) < 0 ? -errno : 0;
}

int helperd_listener_check(int fd)
{
	struct stat st;
	int r, val;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	r = sockopt_int(fd, SO_DOMAIN, &val);
	if (r)
		return r;
	if (val != AF_UNIX)
		return -EAFNOSUPPORT;
	r = sockopt_int(fd, SO_TYPE, &val);
	if (r)
		return r;
	if (val != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	r = sockopt_int(fd, SO_ACCEPTCONN, &val);
	if (r)
		return r;
	return val ? 0 : -EINVAL;
}

int helperd_listener_adopt(struct helperd_listener *l, int fd)
{
	int flags, r;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	r = helperd_listener_check(fd);
	if (r)
		return r;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	l->fd = fd;
	l->activated = true;
	return 0;
}

/* A socket file at path: is a helper behind it? -EADDRINUSE if so, 0 once it is gone. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	close(fd);
	switch (r) {
	case 0:
	case -EAGAIN:	  /* listening, backlog full: alive */
	case -EPROTOTYPE: /* someone else's stream/datagram socket: not ours to remove */
		return -EADDRINUSE;
	case -ECONNREFUSED: /* nobody listens: left over by a helper that died */
		if (unlink(sa->sun_path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	case -ENOENT:
		return 0;
	}
	return r;
}

int helperd_listener_bind(struct helperd_listener *l, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char parent[sizeof(sa.sun_path)];
	mode_t old_umask;
	struct stat st;
	char *slash;
	int fd = -1, r;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (!path[0] || strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);

	strcpy(parent, path);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		r = helperd_mkdir_p(parent, 0755);
		if (r)
			return r;
	}
	r = clear_stale(&sa);
	if (r)
		return r;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Any local user may opt in (connect needs write permission); the policy decides the
	 * rest. The mode comes from the umask at bind: a chmod(path) afterwards would follow a
	 * symlink someone put there in between, onto a file of the attacker's choosing.
	 */
	old_umask = umask(0111);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old_umask);
	if (r)
		goto fail;
	l->created_path = true;
	strcpy(l->path, path);
	if (lstat(path, &st) < 0) {
		r = -errno;
		goto fail_unlink;
	}
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	if (listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		goto fail_unlink;
	}
	l->fd = fd;
	return 0;

fail_unlink:
	unlink(path);
	l->created_path = false;
fail:
	close(fd);
	return r;
}

void helperd_listener_close(struct helperd_listener *l)
{
	struct stat st;

	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* Only if it is still the socket we bound: a newer helper may own the path now. */
	if (l->created_path && lstat(l->path, &st) == 0 && st.st_dev == l->dev &&
	    st.st_ino == l->ino)
		unlink(l->path);
	l->created_path = false;
}
