// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Client connections: accepting, reading requests, answering. Clients are untrusted
 * local processes, so nothing here may block (every socket is non-blocking, a client
 * that does not read its replies is dropped), every fd that arrives is closed, and what
 * one client can make us log or do per loop iteration is bounded.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "closer.h"
#include "daemon.h"
#include "exe_reader.h"
#include "fd_pass.h"
#include "log.h"
#include "names.h"
#include "pair_check.h"
#include "skaccel_proto.h"
#include "tuple.h"

/*
 * A sweep costs one syscall per registered socket. When the maps fill or a user reaches
 * its quota, the sockets counted are often already closed (a busy short-connection
 * workload closes thousands between two periodic sweeps), so sweep then and retry, but at
 * most every 100 ms while sweeps free something and once a second while they do not.
 */
#define FULL_SWEEP_FRUITFUL_INTERVAL_NS 100000000ull
#define FULL_SWEEP_FRUITLESS_INTERVAL_NS 1000000000ull

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
 * Connections this user holds now, those whose closes are still owed included: a scan,
 * cheap next to accept() at these sizes.
 */
static unsigned int user_clients(const struct helperd_daemon *d, uid_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < d->high_water; i++)
		n += slot_used(&d->clients[i]) && d->clients[i].uid == uid;
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

/*
 * May this client make us log its refusal? Each reason once per connection: a status, and
 * for policy refusals each rule (rule: its index, -1 for the default verdict). A program
 * that retries, or a hostile client, is then one line per reason, however often it asks;
 * the daemon-wide rate bounds many clients together. What is not logged is counted, and
 * said when the client leaves.
 */
static bool client_log_once(struct helperd_daemon *d, struct helperd_client *c, int32_t status,
			    int rule)
{
	uint32_t bit = status < 0 && status > -32 ? 1u << -status : 0;
	unsigned int i;

	if (status == SKACCEL_ERR_POLICY) {
		for (i = 0; i < c->n_logged_rules; i++)
			if (c->logged_rules[i] == rule)
				goto unlogged;
		if (c->n_logged_rules == HELPERD_CLIENT_LOGGED_RULES)
			goto unlogged;
	} else if (c->logged & bit) {
		goto unlogged;
	}
	if (!helperd_ratelimit_ok(&d->global_rl, helperd_now_ns(), NULL))
		goto unlogged; /* not marked: the next one of its kind may make it */
	if (status == SKACCEL_ERR_POLICY)
		c->logged_rules[c->n_logged_rules++] = (int16_t)rule;
	else
		c->logged |= bit;
	return true;
unlogged:
	c->unlogged++;
	return false;
}

/* "pid 42 (uid 1000, /usr/bin/foo)": who a log line is about; the path escaped. */
static const char *client_name(const struct helperd_client *c, char *buf, size_t len)
{
	char exe[160];

	if (c->exe) {
		helperd_escape(exe, sizeof(exe), c->exe);
		snprintf(buf, len, "pid %d (uid %u, %s)", (int)c->pid, (unsigned int)c->uid, exe);
	} else {
		snprintf(buf, len, "pid %d (uid %u)", (int)c->pid, (unsigned int)c->uid);
	}
	return buf;
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
	return c->exe ? 0 : -ENOMEM;
}

/*
 * What the policy needs to know about a client, once per client and policy: nothing for
 * a policy without group= or exe= rules, which is the registration's common case.
 */
static void client_identity(struct helperd_daemon *d, struct helperd_client *c)
{
	const struct helperd_policy *p = &d->policy;
	char who[200];
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
				  client_name(c, who, sizeof(who)), strerror(-r));
	}
	if (!p->needs_exe || c->exe_read)
		return;
	c->exe_read = true;
	r = read_exe(d, c);
	if (r == -EACCES || r == -EPERM || r == -EPIPE) {
		if (!d->exe_warned)
			log_warn("Failed to read the executable of %s: %s; exe= rules will not "
				 "match such clients",
				 client_name(c, who, sizeof(who)),
				 r == -EPIPE
				     ? "the executable reader failed"
				     : "permission denied (the reader needs CAP_SYS_PTRACE)");
		d->exe_warned = true;
	} else if (r < 0) {
		log_debug("Failed to read the executable of %s, ignoring: %s; exe= rules will "
			  "not match it",
			  client_name(c, who, sizeof(who)), strerror(-r));
	}
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
	char who[200];

	if (c->fd < 0)
		return;
	if (c->unlogged && helperd_ratelimit_ok(&d->global_rl, helperd_now_ns(), NULL))
		log_info("Client %s left after %u more refusals, not logged: each reason is "
			 "logged once per connection",
			 client_name(c, who, sizeof(who)), c->unlogged);
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
	helperd_daemon_flush_counters(d);
	/* Its slot is its user's until the closes it caused are done. */
	c->zombie = atomic_load(&c->closes) > 0;
	if (!c->zombie)
		d->free_slots[d->n_free++] = (uint32_t)(c - d->clients);
	if (d->n_clients)
		d->n_clients--;
	if (d->listener_paused) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = HELPERD_TOKEN_LISTENER };

		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_ADD, d->listen_fd, &ev) == 0)
			d->listener_paused = false;
	}
}

/* Send one reply; a client that does not read (EAGAIN) is dropped by the caller. */
static int reply(struct helperd_client *c, const struct skaccel_req *req, int32_t status, int err,
		 __u64 cookie)
{
	struct skaccel_reply rep = {
		.magic = SKACCEL_MAGIC,
		.version = SKACCEL_PROTO_VERSION,
		.op = req ? req->op : 0,
		.seq = req ? req->seq : 0,
		.status = status,
		.err = err,
		.cookie = cookie,
	};
	ssize_t n;

	n = skaccel_send_fd(c->fd, &rep, sizeof(rep), -1, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -ENOBUFS; /* its receive queue is full: it does not read its replies */
	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(rep) ? 0 : -EIO;
}

static void count(struct helperd_daemon *d, int32_t status)
{
	/* In memory; the event loop writes them out (regcnt.h). */
	(void)helperd_regcnt_bump(&d->regcnt, status);
}

static void log_refusal(struct helperd_daemon *d, struct helperd_client *c,
			const struct helperd_reg_result *res, const char *what)
{
	const char *path = d->opts ? d->opts->config_path : "policy";
	char who[200];

	client_name(c, who, sizeof(who));
	switch (res->status) {
	case SKACCEL_ERR_MAP_FULL:
		log_warn("Failed to register %s for %s: the maps are full (%u sockets, "
			 "--max-socks; %s: %s); it stays on TCP",
			 what, who, d->reg.registry->max, res->step ? res->step : "?",
			 strerror(res->err));
		return;
	case SKACCEL_ERR_INTERNAL:
		log_warn("Failed to register %s for %s: %s: %s", what, who,
			 res->step ? res->step : "?", strerror(res->err));
		return;
	case SKACCEL_ERR_POLICY:
		if (res->rule)
			log_info("Refused to register %s for %s: policy rule %s:%u (%s)", what, who,
				 path, res->rule->line, res->rule->text);
		else
			log_info("Refused to register %s for %s: no policy rule matched, %s:%u "
				 "(default deny)",
				 what, who, path, d->policy.default_line);
		return;
	case SKACCEL_ERR_NOT_OWNER:
		log_info("Refused to register %s for %s: %s (owned by uid %u)", what, who,
			 skaccel_status_str(res->status), (unsigned int)res->owner);
		return;
	case SKACCEL_ERR_OTHER_NETNS:
		log_info("Refused to register %s for %s: %s (netns cookie %llu, the client's %llu)",
			 what, who, skaccel_status_str(res->status),
			 (unsigned long long)res->tuple.netns_cookie,
			 (unsigned long long)c->netns_cookie);
		return;
	case SKACCEL_ERR_QUOTA:
		log_info("Refused to register %s for %s: %s (%u sockets)", what, who,
			 skaccel_status_str(res->status), res->limit);
		return;
	}
	if (res->pair_verdict > 0)
		log_info("Refused to register %s for %s: %s (pairing check: %s)", what, who,
			 skaccel_status_str(res->status),
			 helperd_pair_verdict_str(res->pair_verdict));
	else
		log_info("Refused to register %s for %s: %s", what, who,
			 skaccel_status_str(res->status));
}

static void log_registration(struct helperd_daemon *d, struct helperd_client *c,
			     const struct helperd_reg_result *res)
{
	char local[HELPERD_ADDR_STRLEN], remote[HELPERD_ADDR_STRLEN], what[128] = "socket";
	char who[200];

	/*
	 * A waiting end with our mirror tuple that is not our other end: a ghost (it left
	 * its connection without closing) or a closed socket. Worth an operator's eye, rare
	 * unless someone tries, so bounded by the daemon-wide rate only.
	 */
	if (res->refused_peer && helperd_ratelimit_ok(&d->global_rl, helperd_now_ns(), NULL))
		log_info("Did not pair cookie %llu with waiting cookie %llu: %s; it waits no more",
			 (unsigned long long)res->cookie, (unsigned long long)res->refused_peer,
			 helperd_pair_verdict_str(res->pair_verdict));
	/* Formatting addresses costs more than the rest of a registration's user time. */
	if (res->status >= 0 && !helperd_log_enabled(HELPERD_LOG_DEBUG))
		return;
	if (res->status < 0 &&
	    !client_log_once(d, c, res->status,
			     res->rule ? (int)(res->rule - d->policy.rules) : -1))
		return;
	if (res->have_tuple) {
		helperd_addr_format(local, sizeof(local), res->tuple.local_addr,
				    res->tuple.local_port);
		helperd_addr_format(remote, sizeof(remote), res->tuple.remote_addr,
				    res->tuple.remote_port);
		snprintf(what, sizeof(what), "%s -> %s (cookie %llu)", local, remote,
			 (unsigned long long)res->cookie);
	}
	if (res->status >= 0)
		log_debug("Registered %s for %s: %s", what, client_name(c, who, sizeof(who)),
			  skaccel_status_str(res->status));
	else
		log_refusal(d, c, res, what);
}

static void do_register(struct helperd_daemon *d, struct helperd_client *c, int fd,
			uint64_t deadline_ns, struct helperd_reg_result *res)
{
	struct helperd_policy_subject subject;
	struct helperd_reg_client who = {
		.uid = c->uid,
		.pid = c->pid,
		.untrusted = true,
		.netns_cookie = c->netns_cookie,
		.subject = &subject,
	};
	struct helperd_sweep_stats stats;
	uint64_t now;
	int r;

	client_identity(d, c);
	subject = (struct helperd_policy_subject){
		.uid = c->uid,
		.groups = c->groups,
		.n_groups = c->n_groups,
		.exe = c->exe,
	};
	helperd_register_client(&d->reg, fd, &who, deadline_ns, res);
	if ((res->status == SKACCEL_ERR_MAP_FULL || res->status == SKACCEL_ERR_QUOTA) &&
	    !res->inserted) {
		now = helperd_now_ns();
		if (now - d->last_full_sweep_ns >= (d->last_full_sweep_fruitful
							? FULL_SWEEP_FRUITFUL_INTERVAL_NS
							: FULL_SWEEP_FRUITLESS_INTERVAL_NS)) {
			d->last_full_sweep_ns = now;
			d->last_full_sweep_fruitful = false;
			/* A failed map delete still frees the registry, hence the quota. */
			r = helperd_sweep_run(&d->sweep, d->reg.maps, d->reg.registry, &stats);
			if (r < 0)
				log_warn("Failed to delete map entries of closed sockets, "
					 "ignoring: %s",
					 strerror(-r));
			if (stats.removed) {
				d->last_full_sweep_fruitful = true;
				log_debug("Swept %u closed sockets (maps full or quota reached)",
					  stats.removed);
				helperd_register_client(&d->reg, fd, &who, deadline_ns, res);
			}
		}
	}
}

/* Read and answer one message. 0: handled; -EAGAIN: nothing more; other: drop the client. */
static int serve_one(struct helperd_daemon *d, struct helperd_client *c)
{
	struct helperd_reg_result res;
	int fds[SKACCEL_FD_PASS_MAX];
	struct skaccel_req req;
	char buf[64]; /* more than a request, so an oversized one is refused, not truncated */
	int nfds, truncated, i;
	char who[200];
	bool parsed;
	int32_t status;
	ssize_t n;

	/* Surplus fds are dropped by the kernel, in this call: their close is watched. */
	helperd_closer_guard_begin();
	n = skaccel_recv_fds(c->fd, buf, sizeof(buf), fds, &nfds, &truncated, MSG_DONTWAIT);
	helperd_closer_guard_end();
	if (n < 0)
		return n == -EWOULDBLOCK ? -EAGAIN : (int)n;
	if (n == 0 && nfds == 0 && !truncated)
		return -ECONNRESET; /* EOF: the client closed */

	parsed = n == (ssize_t)sizeof(req);
	if (parsed) {
		memcpy(&req, buf, sizeof(req));
		parsed = req.magic == SKACCEL_MAGIC;
	}
	if (truncated) {
		/* dbus-broker's rule: whoever sends us truncated control data is cut off. */
		for (i = 0; i < nfds; i++)
			helperd_close_untrusted(fds[i], &c->closes);
		count(d, SKACCEL_ERR_TRUNCATED);
		if (client_log_once(d, c, SKACCEL_ERR_TRUNCATED, -1))
			log_warn("Failed to read request from %s: %s, disconnecting",
				 client_name(c, who, sizeof(who)),
				 skaccel_status_str(SKACCEL_ERR_TRUNCATED));
		reply(c, parsed ? &req : NULL, SKACCEL_ERR_TRUNCATED, EMSGSIZE, 0);
		return -EMSGSIZE;
	}

	status = skaccel_req_validate(buf, n, nfds);
	if (status != 0) {
		for (i = 0; i < nfds; i++)
			helperd_close_untrusted(fds[i], &c->closes);
		count(d, status);
		if (client_log_once(d, c, status, -1))
			log_warn("Failed to serve request from %s: %s",
				 client_name(c, who, sizeof(who)), skaccel_status_str(status));
		return reply(c, parsed ? &req : NULL, status, 0, 0);
	}

	if (req.op == SKACCEL_OP_PING)
		return reply(c, &req, SKACCEL_OK_PONG, 0, 0);

	/* REGISTER with exactly one fd, which must be closed whatever happens. */
	do_register(d, c, fds[0], req.deadline_ns, &res);
	/* (5) at once: the app's close() must be the last one */
	if (res.have_tuple) /* SO_COOKIE and getpeername answered: a TCP socket */
		helperd_close_untrusted_socket(fds[0], &c->closes);
	else
		helperd_close_untrusted(fds[0], &c->closes);
	count(d, res.status);
	log_registration(d, c, &res);
	return reply(c, &req, res.status, res.err, res.have_tuple ? res.cookie : 0);
}

/*
 * One message per wake-up. The shim waits for each reply, so after one request there is
 * nothing more to read, and trying would cost a failed recvmsg per registration; a
 * client with more queued stays readable, and the level-triggered epoll calls again,
 * after every other client ready now had its turn.
 */
void helperd_client_serve(struct helperd_daemon *d, struct helperd_client *c)
{
	struct epoll_event ev = { .events = 0, .data.u64 = client_token(d, c) };
	int r;

	if (!closer_room(d, c)) {
		/* Its requests wait in its socket, their fds charged to it, not to us. */
		if (epoll_ctl(d->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
			c->paused = true;
			return;
		}
		/* Cannot pause it (ENOMEM): drop it rather than hold more of its fds. */
		log_debug("Dropping client pid %d (uid %u): too many closes owed", (int)c->pid,
			  (unsigned int)c->uid);
		helperd_client_drop(d, c);
		return;
	}
	r = serve_one(d, c);
	if (r == 0 || r == -EAGAIN)
		return;
	if (r == -ECONNRESET)
		log_debug("Client pid %d (uid %u) disconnected", (int)c->pid, (unsigned int)c->uid);
	else if (r != -EMSGSIZE)
		log_debug("Dropping client pid %d (uid %u): %s", (int)c->pid, (unsigned int)c->uid,
			  r == -ENOBUFS ? "not reading its replies" : strerror(-r));
	helperd_client_drop(d, c);
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
