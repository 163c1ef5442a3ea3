// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The shim's side of the helper protocol. Everything here runs inside the application's
 * connect()/accept(), so it is bounded by one deadline (lock, connect, send, wait), never
 * retries a dead helper more than once a backoff period, and keeps no fd across exec.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "common/number.h"
#include "shim/helper_client.h"
#include "shim/real.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void shim_client_init(struct shim_client *c, const char *path, int timeout_ms, int backoff_ms)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	c->backoff_ms = backoff_ms;
	c->helper_uid = (uid_t)-1;
	/* Too long a path is kept truncated-but-invalid: connect fails with ENAMETOOLONG. */
	if (strlen(path) > SHIM_CLIENT_PATH_MAX)
		c->path[0] = '\0';
	else
		strcpy(c->path, path);
}

void shim_client_trust_uid(struct shim_client *c, uid_t uid)
{
	c->helper_uid = uid;
}

int shim_parse_uid(const char *s, uid_t *uid)
{
	uint64_t v;

	/* (uid_t)-1 means "no change" to the kernel: nobody has it. */
	if (skaccel_parse_u64(s, 0, UINT32_MAX - 1, &v))
		return -EINVAL;
	*uid = (uid_t)v;
	return 0;
}

int shim_passwd_uid(const char *file, const char *name, uid_t *uid)
{
	size_t n = strlen(name);
	char line[1024], *colon;
	FILE *f;
	int r = -ENOENT;

	f = fopen(file, "re");
	if (!f)
		return -errno;
	/* name:password:uid:gid:...; a line too long for the buffer cannot be ours. */
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) != 0 || line[n] != ':')
			continue;
		colon = strchr(line + n + 1, ':');
		if (!colon)
			break;
		*strchrnul(colon + 1, ':') = '\0';
		r = shim_parse_uid(colon + 1, uid);
		if (r)
			r = -ENOENT;
		break;
	}
	fclose(f);
	return r;
}

/* Does c->fd still hold the socket we made? */
static bool conn_same_file(const struct shim_client *c)
{
	struct stat st;

	return fstat(c->fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
}

/*
 * Drop the connection. close() only what is provably ours: if the application closed our
 * fd (daemons close everything above 2) the number may now be one of its own files.
 */
static void conn_drop(struct shim_client *c)
{
	if (c->fd >= 0 && conn_same_file(c))
		real.close(c->fd);
	c->fd = -1;
}

static int conn_open(struct shim_client *c)
{
	struct sockaddr_un sun;
	socklen_t len;
	struct ucred cred;
	struct stat st;
	int fd, err;

	err = skaccel_unix_addr(c->path, &sun, &len);
	if (err < 0)
		return err;

	/* CLOEXEC: exec'ing programs must not inherit it; NONBLOCK: our waits are bounded. */
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* AF_UNIX connects at once or fails (EAGAIN when the helper's backlog is full). */
	if (real.connect(fd, (struct sockaddr *)&sun, len) < 0 || fstat(fd, &st) < 0) {
		err = errno;
		real.close(fd);
		return -err;
	}
	/*
	 * Who listens: the kernel's record of the listener, not the file's owner (a path is
	 * only a name; anyone who could write its directory could have bound it).
	 */
	len = sizeof(cred);
	if (real.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		err = errno;
		real.close(fd);
		return -err;
	}
	if (cred.uid != 0 && cred.uid != geteuid() && cred.uid != c->helper_uid) {
		real.close(fd);
		return -EPERM;
	}
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->pid = getpid();
	return 0;
}

/* Wait for and read the reply to req; 0 or -errno. */
static int conn_wait_reply(struct shim_client *c, const struct skaccel_req *req,
			   struct skaccel_reply *rep, uint64_t deadline)
{
	union {
		struct skaccel_reply rep;
		char raw[sizeof(struct skaccel_reply) + 16]; /* see an oversized reply as such */
	} buf;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	for (;;) {
		uint64_t now = now_ns();
		ssize_t n;
		int ms, r;

		if (now >= deadline)
			return -ETIMEDOUT;
		ms = (int)((deadline - now + 999999) / 1000000);
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue; /* EINTR or a poll that woke early: the deadline decides */
		n = real.recv(c->fd, &buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		if (skaccel_reply_check(&buf.rep, n, req) < 0)
			return -EPROTO;
		*rep = buf.rep;
		return 0;
	}
}

static int lock_until(struct shim_client *c, uint64_t deadline)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline / 1000000000u),
		.tv_nsec = (long)(deadline % 1000000000u),
	};

	return -pthread_mutex_clocklock(&c->lock, CLOCK_MONOTONIC, &ts);
}

int shim_client_request(struct shim_client *c, enum skaccel_op op, uint32_t flags, int fd,
			struct skaccel_reply *rep, bool *fd_sent)
{
	uint64_t start = now_ns(), deadline = start + (uint64_t)c->timeout_ms * 1000000u;
	struct skaccel_req req;
	bool fresh = false;
	ssize_t n;
	int ret;

	*fd_sent = false;
	if (!real.connect &&
	    (shim_real_init(), !real.connect || !real.recv || !real.close || !real.getsockopt))
		return -ENOSYS;
	/* Another thread is waiting for the helper: give up with it, do not queue behind it. */
	ret = lock_until(c, deadline);
	if (ret < 0)
		return ret;

	/* Closed by the application, or inherited through a clone() that ran no atfork. */
	if (c->fd >= 0 && (c->pid != getpid() || !conn_same_file(c)))
		conn_drop(c);
retry:
	if (c->fd < 0) {
		if (start < c->retry_after_ns) {
			ret = -c->last_err;
			goto out; /* the helper failed recently: cost the application nothing */
		}
		ret = conn_open(c);
		if (ret < 0)
			goto fail;
		fresh = true;
	}

	skaccel_req_init(&req, op, ++c->seq);
	req.flags = flags;
	req.deadline_ns = deadline;
	n = skaccel_send_fd(c->fd, &req, sizeof(req), fd, MSG_DONTWAIT);
	if (n < 0 && !fresh && (n == -EPIPE || n == -ECONNRESET || n == -ENOTCONN)) {
		/* The helper restarted since our last request: nothing was sent, try its heir. */
		conn_drop(c);
		goto retry;
	}
	if (n != (ssize_t)sizeof(req)) {
		ret = n < 0 ? (int)n : -EPROTO;
		goto fail;
	}
	*fd_sent = fd >= 0;

	ret = conn_wait_reply(c, &req, rep, deadline);
	if (ret < 0)
		goto fail;
	goto out;

fail:
	conn_drop(c);
	c->last_err = -ret;
	c->retry_after_ns = now_ns() + (uint64_t)c->backoff_ms * 1000000u;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

bool shim_client_backing_off(const struct shim_client *c)
{
	uint64_t until = __atomic_load_n(&c->retry_after_ns, __ATOMIC_RELAXED);

	return until && now_ns() < until;
}

void shim_client_reset(struct shim_client *c)
{
	pthread_mutex_lock(&c->lock);
	conn_drop(c);
	c->retry_after_ns = 0;
	c->last_err = 0;
	pthread_mutex_unlock(&c->lock);
}

void shim_client_atfork_prepare(struct shim_client *c)
{
	/*
	 * Bounded: a signal handler that forks while its own thread is inside a request would
	 * deadlock on a plain lock. Without the lock the child simply starts with a new one.
	 */
	c->fork_locked = lock_until(c, now_ns() + (uint64_t)c->timeout_ms * 1000000u) == 0;
}

void shim_client_atfork_parent(struct shim_client *c)
{
	if (c->fork_locked)
		pthread_mutex_unlock(&c->lock);
	c->fork_locked = false;
}

void shim_client_atfork_child(struct shim_client *c)
{
	pthread_mutex_init(&c->lock, NULL);
	c->fork_locked = false;
	/*
	 * The parent's connection is shared with the child: replies would go to whichever
	 * process reads first. Close the child's copy; it connects anew when it needs to.
	 */
	conn_drop(c);
}
