// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The client table: accepting connections, their slots, who is at the other end (read
 * once: at accept, and what a policy needs once per policy), pausing a client whose
 * closes are owed, and dropping it. Clients are untrusted local processes, so nothing
 * here may block (every socket is non-blocking) and what one user can hold is bounded.
 * Their requests are request.c's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fd_pass.h"
#include "helperd/closer.h"
#include "helperd/daemon.h"
#include "helperd/exe_reader.h"
#include "helperd/log.h"
#include "helperd/text.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5; Debian 12's headers predate it */
#endif
/* SO_PEERGROUPS answers at most NGROUPS_MAX groups. */
#define MAX_PEER_GROUPS 65536u

static bool slot_used(const struct helperd_client *c)
{
	return c->fd >= 0 || c->zombie;
}

/*
 * Connections this person holds now, those whose closes are still owed included: a scan,
 * cheap next to accept() at these sizes. A limit counts a person: a subordinate uid counts
 * as its owner (policy.h).
 */
static unsigned int user_clients(const struct helperd_daemon *d, uid_t uid)
{
	uid_t who = helperd_policy_account_uid(&d->policy, uid);
	unsigned int i, n = 0;

	for (i = 0; i < d->high_water; i++)
		n += slot_used(&d->clients[i]) &&
		     helperd_policy_account_uid(&d->policy, d->clients[i].uid) == who;
	return n;
}

/* Closes the closer owes this user's clients. */
static unsigned int user_closes(const struct helperd_daemon *d, uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < d->high_water; i++)
		if (slot_used(&d->clients[i]) && d->clients[i].uid == uid)
			n += atomic_load(&d->clients[i].closes);
	return n;
}

/*
 * May we read this client's next message, which may bring SKACCEL_FD_PASS_MAX fds for the
 * closer? Its closes owed stay within HELPERD_CLOSER_PER_CLIENT, its user's within
 * HELPERD_CLOSER_PER_USER, everybody's within the closer's budget.
 */
static bool closer_room(const struct helperd_daemon *d, const struct helperd_client *c)
{
	const unsigned int need = SKACCEL_FD_PASS_MAX;
	unsigned int budget = helperd_closer_budget(), pending = helperd_closer_pending();

	if (!pending)
		return true; /* the common case: nothing owed by anybody */
	if (atomic_load(&c->closes) + need > HELPERD_CLOSER_PER_CLIENT || pending + need > budget)
		return false;
	return user_closes(d, c->uid) + need <= HELPERD_CLOSER_PER_USER;
}

static uint64_t client_token(const struct helperd_daemon *d, const struct helperd_client *c)
{
	return ((uint64_t)c->gen << 32) | (uint64_t)(c - d->clients + HELPERD_TOKEN_CLIENT_BASE);
}

/* "pid 42 (uid 1000, /usr/bin/foo)", the path escaped: c->name, for log lines. */
static void set_name(struct helperd_client *c)
{
	char exe[160];

	if (c->exe) {
		helperd_escape(exe, sizeof(exe), c->exe);
		snprintf(c->name, sizeof(c->name), "pid %d (uid %u, %s)", (int)c->pid,
			 (unsigned int)c->uid, exe);
	} else {
		snprintf(c->name, sizeof(c->name), "pid %d (uid %u)", (int)c->pid,
			 (unsigned int)c->uid);
	}
}

/*
 * The client's groups that the policy names: the primary one (SO_PEERCRED) and its
 * supplementary ones (SO_PEERGROUPS), both as they were when it connected. Keeping only
 * those bounds the memory per client by the policy, not by the client. 0 or -errno.
 */
static int read_groups(const struct helperd_policy *p, struct helperd_client *c)
{
	gid_t small[64], *all = small;
	socklen_t len = sizeof(small);
	unsigned int cap = p->n_group_refs + 1, n;
	int r = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, all, &len) < 0) {
		if (errno != ERANGE || len > MAX_PEER_GROUPS * sizeof(gid_t))
			return errno == ERANGE ? -E2BIG : -errno;
		all = malloc(len); /* the kernel said how much it needs */
		if (!all)
			return -ENOMEM;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, all, &len) < 0) {
			r = -errno;
			goto out;
		}
	}
	c->groups = malloc(cap * sizeof(gid_t));
	if (!c->groups) {
		r = -ENOMEM;
		goto out;
	}
	n = helperd_policy_keep_groups(p, &c->gid, 1, c->groups, cap);
	/* The kernel's list is sorted and unique: with the primary, at most cap kept. */
	n += helperd_policy_keep_groups(p, all, len / sizeof(gid_t), c->groups + n, cap - n);
	c->n_groups = n;
out:
	if (all != small)
		free(all);
	return r;
}

/*
 * The executable of the process that connected: SO_PEERPIDFD names that very process,
 * whatever became of its pid; the reader (exe_reader.h) holds the privilege the lookup
 * needs. 0 or -errno.
 */
static int read_exe(struct helperd_daemon *d, struct helperd_client *c)
{
	char exe[PATH_MAX];
	socklen_t len = sizeof(int);
	int pidfd, r;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return -errno;
	r = helperd_exe_of(&d->exe_reader, pidfd, c->pid, exe, sizeof(exe));
	close(pidfd);
	if (r)
		return r;
	c->exe = strdup(exe);
	if (!c->exe)
		return -ENOMEM;
	set_name(c);
	return 0;
}

void helperd_client_identity(struct helperd_daemon *d, struct helperd_client *c)
{
	const struct helperd_policy *p = &d->policy;
	int r;

	if (c->policy_gen == d->policy_gen)
		return;
	c->policy_gen = d->policy_gen;
	c->n_logged_rules = 0; /* rule numbers of another policy */
	free(c->groups);
	c->groups = NULL;
	c->n_groups = 0;
	if (p->n_group_refs) {
		r = read_groups(p, c);
		if (r < 0)
			log_debug("Failed to read the groups of %s, ignoring: %s; group= rules "
				  "will not match it",
				  c->name, strerror(-r));
	}
	if (!p->needs_exe || c->exe_read)
		return;
	c->exe_read = true;
	r = read_exe(d, c);
	if (r == -EACCES || r == -EPERM || r == -EPIPE) {
		if (!d->exe_warned)
			log_warn("Failed to read the executable of %s: %s; exe= rules will not "
				 "match such clients",
				 c->name,
				 r == -EPIPE
				     ? "the executable reader failed"
				     : "permission denied (the reader needs CAP_SYS_PTRACE)");
		d->exe_warned = true;
	} else if (r < 0) {
		log_debug("Failed to read the executable of %s, ignoring: %s; exe= rules will "
			  "not match it",
			  c->name, strerror(-r));
	}
}

int helperd_clients_init(struct helperd_daemon *d)
{
	unsigned int i;

	d->clients = calloc(d->max_clients, sizeof(*d->clients));
	d->free_slots = calloc(d->max_clients, sizeof(*d->free_slots));
	if (!d->clients || !d->free_slots)
		return -ENOMEM;
	for (i = 0; i < d->max_clients; i++)
		d->clients[i].fd = -1;
	d->n_free = d->high_water = d->n_clients = 0;
	return 0;
}

void helperd_clients_free(struct helperd_daemon *d)
{
	unsigned int i;

	if (d->clients) {
		for (i = 0; i < d->high_water; i++) {
			if (d->clients[i].fd >= 0)
				close(d->clients[i].fd);
			free(d->clients[i].groups);
			free(d->clients[i].exe);
		}
	}
	free(d->clients);
	free(d->free_slots);
	d->clients = NULL;
	d->free_slots = NULL;
}

struct helperd_client *helperd_client_of(struct helperd_daemon *d, uint64_t token)
{
	uint32_t slot = (uint32_t)token - HELPERD_TOKEN_CLIENT_BASE;
	struct helperd_client *c;

	if (slot >= d->high_water)
		return NULL;
	c = &d->clients[slot];
	/* A slot dropped and reused within one batch of events must not get the old events. */
	if (c->fd < 0 || c->gen != (uint32_t)(token >> 32))
		return NULL;
	return c;
}

static struct helperd_client *slot_get(struct helperd_daemon *d)
{
	if (d->n_free)
		return &d->clients[d->free_slots[--d->n_free]];
	if (d->high_water < d->max_clients)
		return &d->clients[d->high_water++];
	return NULL;
}

static void accept_one_failed(struct helperd_daemon *d, int err)
{
	unsigned int missed;

	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		/* Level-triggered: the listener would wake us forever. Resume on the next tick. */
		epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, d->listen_fd, NULL);
		d->listener_paused = true;
	}
	if (helperd_ratelimit_ok(&d->accept_rl, helperd_now_ns(), &missed))
		log_warn("Failed to accept client: %s%s", strerror(err),
			 d->listener_paused ? ", pausing for a moment" : "");
}

void helperd_clients_accept(struct helperd_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int sndbuf = HELPERD_CLIENT_SNDBUF;
	struct helperd_client *c;
	struct ucred cred;
	__u64 netns;
	socklen_t len;
	unsigned int i, missed;
	int fd;

	for (i = 0; i < HELPERD_ACCEPTS_PER_WAKEUP && !d->listener_paused; i++) {
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			accept_one_failed(d, errno);
			return;
		}
		len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
			accept_one_failed(d, errno);
			close(fd);
			continue;
		}
		/*
		 * Our end of the connection was created in the namespace of the client's own
		 * socket (unix_stream_connect()): the client's network namespace, needing no
		 * privilege to read, unlike its /proc/PID/ns/net.
		 */
		len = sizeof(netns);
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &netns, &len) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0) {
			accept_one_failed(d, errno);
			close(fd);
			continue;
		}
		if (cred.uid != 0 && user_clients(d, cred.uid) >= d->max_clients_per_user) {
			if (helperd_ratelimit_ok(&d->accept_rl, helperd_now_ns(), &missed))
				log_warn("Failed to accept client pid %d (uid %u): the user has "
					 "--max-clients-per-user %u connections, closing it",
					 (int)cred.pid, (unsigned int)cred.uid,
					 d->max_clients_per_user);
			close(fd);
			continue;
		}
		c = slot_get(d);
		if (!c) {
			/* Closing at once tells the shim to stay on TCP, without waiting. */
			if (helperd_ratelimit_ok(&d->accept_rl, helperd_now_ns(), &missed))
				log_warn("Failed to accept client pid %d (uid %u): too many "
					 "clients (--max-clients %u), closing the connection",
					 (int)cred.pid, (unsigned int)cred.uid, d->max_clients);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->gen++;
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->pid = cred.pid;
		c->netns_cookie = netns;
		c->policy_gen = 0;
		c->exe_read = false;
		c->logged = 0;
		c->n_logged_rules = 0;
		c->unlogged = 0;
		c->paused = false;
		set_name(c);
		d->n_clients++;
		ev.data.u64 = client_token(d, c);
		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			accept_one_failed(d, errno);
			helperd_client_drop(d, c);
			continue;
		}
		log_debug("Accepted client pid %d (uid %u)", (int)c->pid, (unsigned int)c->uid);
	}
}

void helperd_client_drop(struct helperd_daemon *d, struct helperd_client *c)
{
	if (c->fd < 0)
		return;
	if (c->unlogged && helperd_ratelimit_ok(&d->global_rl, helperd_now_ns(), NULL))
		log_info("Client %s left after %u more refusals, not logged: each reason is "
			 "logged once per connection",
			 c->name, c->unlogged);
	/* Explicitly: a close by the closer comes later, and the hang-up would wake us. */
	epoll_ctl(d->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	helperd_close_client_conn(c->fd, &c->closes);
	c->fd = -1;
	c->paused = false;
	free(c->groups);
	free(c->exe);
	c->groups = NULL;
	c->exe = NULL;
	c->n_groups = 0;
	helperd_regcnt_publish(&d->regcnt);
	/* Its slot is its user's until the closes it caused are done. */
	c->zombie = atomic_load(&c->closes) > 0;
	if (!c->zombie)
		d->free_slots[d->n_free++] = (uint32_t)(c - d->clients);
	if (d->n_clients)
		d->n_clients--;
	helperd_clients_resume_listener(d);
}

void helperd_clients_resume_listener(struct helperd_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = HELPERD_TOKEN_LISTENER };

	if (d->listener_paused && epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->listen_fd, &ev) == 0)
		d->listener_paused = false;
}

bool helperd_client_hold(struct helperd_daemon *d, struct helperd_client *c)
{
	struct epoll_event ev = { .events = 0, .data.u64 = client_token(d, c) };

	if (closer_room(d, c))
		return false;
	/* Its requests wait in its socket, their fds charged to it, not to us. */
	if (epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
		c->paused = true;
		return true;
	}
	/* Cannot pause it (ENOMEM): drop it rather than hold more of its fds. */
	log_debug("Dropping client pid %d (uid %u): too many closes owed", (int)c->pid,
		  (unsigned int)c->uid);
	helperd_client_drop(d, c);
	return true;
}

void helperd_clients_closes_done(struct helperd_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct helperd_client *c;
	unsigned int i;

	helperd_closer_event_clear();
	for (i = 0; i < d->high_water; i++) {
		c = &d->clients[i];
		if (c->zombie && !atomic_load(&c->closes)) {
			c->zombie = false;
			d->free_slots[d->n_free++] = i;
		} else if (c->paused && closer_room(d, c)) {
			ev.data.u64 = client_token(d, c);
			if (epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
				c->paused = false;
		}
	}
}
