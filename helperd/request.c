// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * One request, top to bottom: read it (with its fds), validate it, dispatch it (PING is
 * answered, REGISTER and PAIRED go to registration.c), and finish it in one place: close every fd
 * it brought, count the outcome, log it (each refusal once per client) and reply. Clients
 * are untrusted local processes: nothing here blocks (the reply is sent MSG_DONTWAIT, a
 * client that does not read it is dropped by the caller) and every fd that arrives is
 * closed, whatever the outcome.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/fd_pass.h"
#include "common/skaccel_proto.h"
#include "helperd/closer.h"
#include "helperd/daemon.h"
#include "helperd/log.h"
#include "helperd/names.h"
#include "helperd/pair_check.h"
#include "helperd/request.h"
#include "helperd/sockmeta.h"
#include "helperd/tuple.h"

/*
 * A sweep costs one syscall per registered socket. When the maps fill or a user reaches
 * its quota, the sockets counted are often already closed (a busy short-connection
 * workload closes thousands between two periodic sweeps), so sweep then and retry, but at
 * most every 100 ms while sweeps free something and once a second while they do not.
 */
#define FULL_SWEEP_FRUITFUL_INTERVAL_NS 100000000ull
#define FULL_SWEEP_FRUITLESS_INTERVAL_NS 1000000000ull

/* What arrived, and how far it got. */
struct request {
	struct skaccel_req req;
	bool parsed;	 /* req holds a header with our magic: op and seq can be echoed */
	bool truncated;	 /* MSG_CTRUNC: the client is cut off after the reply */
	bool registered; /* it reached registration: res says all */
	bool queried;	 /* a PAIRED question (with registered: it reached registration.c) */
	int fds[SKACCEL_FD_PASS_MAX];
	int nfds;
	struct helperd_reg_result res; /* the outcome, whatever the stage that decided it */
};

/*
 * May this client make us log its refusal? Each reason once per connection: a status, and
 * for policy refusals each rule (rule: its index, -1 for the default verdict). A program
 * that retries, or a hostile client, is then one line per reason, however often it asks;
 * the daemon-wide rate bounds many clients together. What is not logged is counted, and
 * said when the client leaves.
 */
static bool log_once(struct helperd_daemon *d, struct helperd_client *c, int32_t status, int rule)
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

/* Read one message and its fds. 0, -EAGAIN: nothing to read, -ECONNRESET: EOF, -errno. */
static int request_read(struct helperd_client *c, struct request *rq)
{
	char buf[64]; /* more than a request, so an oversized one is refused, not truncated */
	int truncated;
	ssize_t n;

	/* Surplus fds are dropped by the kernel, in this call: their close is watched. */
	helperd_closer_guard_begin();
	n = skaccel_recv_fds(c->fd, buf, sizeof(buf), rq->fds, &rq->nfds, &truncated, MSG_DONTWAIT);
	helperd_closer_guard_end();
	if (n < 0)
		return n == -EWOULDBLOCK ? -EAGAIN : (int)n;
	if (n == 0 && rq->nfds == 0 && !truncated)
		return -ECONNRESET; /* EOF: the client closed */

	rq->truncated = truncated;
	rq->parsed = n == (ssize_t)sizeof(rq->req);
	if (rq->parsed) {
		memcpy(&rq->req, buf, sizeof(rq->req));
		rq->parsed = rq->req.magic == SKACCEL_MAGIC;
	}
	/* dbus-broker's rule: whoever sends us truncated control data is cut off. */
	rq->res.status = truncated ? SKACCEL_ERR_TRUNCATED : skaccel_req_validate(buf, n, rq->nfds);
	rq->res.err = truncated ? EMSGSIZE : 0;
	return 0;
}

/* A sweep on demand, when the maps are full or the quota reached; did it free anything? */
static bool sweep_for_room(struct helperd_daemon *d)
{
	struct helperd_sweep_stats stats;
	uint64_t now = helperd_now_ns();
	int r;

	if (now - d->last_full_sweep_ns < (d->last_full_sweep_fruitful
					       ? FULL_SWEEP_FRUITFUL_INTERVAL_NS
					       : FULL_SWEEP_FRUITLESS_INTERVAL_NS))
		return false;
	d->last_full_sweep_ns = now;
	d->last_full_sweep_fruitful = false;
	/* A failed map delete still frees the registry, hence the quota. */
	r = helperd_sweep_run(&d->sweep, d->reg.maps, d->reg.registry, &stats);
	if (r < 0)
		log_warn("Failed to delete map entries of closed sockets, ignoring: %s",
			 strerror(-r));
	if (!stats.removed)
		return false;
	d->last_full_sweep_fruitful = true;
	log_debug("Swept %u closed sockets (maps full or quota reached)", stats.removed);
	return true;
}

/* REGISTER with exactly one fd: the client's identity for the policy, then registration. */
static void request_register(struct helperd_daemon *d, struct helperd_client *c, struct request *rq)
{
	struct helperd_policy_subject subject;
	struct helperd_reg_client who = {
		.uid = c->uid,
		.pid = c->pid,
		.untrusted = true,
		.netns_cookie = c->netns_cookie,
		.subject = &subject,
	};
	struct helperd_reg_result *res = &rq->res;

	helperd_client_identity(d, c);
	subject = (struct helperd_policy_subject){
		.uid = c->uid,
		.groups = c->groups,
		.n_groups = c->n_groups,
		.exe = c->exe,
	};
	rq->registered = true;
	helperd_register_client(&d->reg, rq->fds[0], &who, rq->req.deadline_ns, rq->req.flags, res);
	if ((res->status == SKACCEL_ERR_MAP_FULL || res->status == SKACCEL_ERR_QUOTA) &&
	    !res->inserted && sweep_for_room(d))
		helperd_register_client(&d->reg, rq->fds[0], &who, rq->req.deadline_ns,
					rq->req.flags, res);
	helperd_sockmeta_record(d->reg.maps, c->pid, c->uid, c->comm, res, d->policy.default_line);
}

/* PAIRED: the client's socket, checked as for REGISTER, looked up in the registry. */
static void request_paired(struct helperd_daemon *d, struct helperd_client *c, struct request *rq)
{
	struct helperd_reg_client who = {
		.uid = c->uid,
		.pid = c->pid,
		.untrusted = true,
		.netns_cookie = c->netns_cookie,
	};

	rq->registered = true;
	rq->queried = true;
	helperd_registration_paired(&d->reg, rq->fds[0], &who, &rq->res);
}

static void log_refusal(struct helperd_daemon *d, struct helperd_client *c,
			const struct helperd_reg_result *res, const char *what)
{
	const char *path = d->opts ? d->opts->config_path : "policy";
	const char *who = c->name;

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
	    !log_once(d, c, res->status, res->rule ? (int)(res->rule - d->policy.rules) : -1))
		return;
	if (res->have_tuple) {
		helperd_addr_format(local, sizeof(local), res->tuple.local_addr,
				    res->tuple.local_port);
		helperd_addr_format(remote, sizeof(remote), res->tuple.remote_addr,
				    res->tuple.remote_port);
		snprintf(what, sizeof(what), "%s -> %s (cookie %llu)", local, remote,
			 (unsigned long long)res->cookie);
	}
	if (res->status == SKACCEL_OK_NO_PEER)
		log_debug("Did not register %s for %s: it asked only if its peer waits, and none "
			  "does",
			  what, c->name);
	else if (res->status >= 0)
		log_debug("Registered %s for %s: %s", what, c->name,
			  skaccel_status_str(res->status));
	else
		log_refusal(d, c, res, what);
}

static void log_query(struct helperd_daemon *d, struct helperd_client *c, const struct request *rq)
{
	const struct helperd_reg_result *res = &rq->res;

	if (res->status >= 0)
		log_debug("Answered %s: cookie %llu is %s", c->name,
			  (unsigned long long)res->cookie,
			  res->status == SKACCEL_OK_ACCELERATED ? "paired" : "still waiting");
	else if (log_once(d, c, res->status, -1))
		log_info("Refused to answer %s whether a socket is paired: %s%s%s", c->name,
			 skaccel_status_str(res->status), res->err ? ": " : "",
			 res->err ? strerror(res->err) : "");
}

/* Send the reply; a client that does not read (EAGAIN) is dropped by the caller. */
static int reply(struct helperd_client *c, const struct request *rq)
{
	struct skaccel_reply rep = {
		.magic = SKACCEL_MAGIC,
		.version = SKACCEL_PROTO_VERSION,
		.op = rq->parsed ? rq->req.op : 0,
		.seq = rq->parsed ? rq->req.seq : 0,
		.status = rq->res.status,
		.err = rq->res.err,
		/* Only a socket it registered, or an answer about one it holds, is named. */
		.cookie = rq->registered && rq->res.have_tuple &&
				  (!rq->queried || rq->res.status >= 0) &&
				  rq->res.status != SKACCEL_OK_NO_PEER
			      ? rq->res.cookie
			      : 0,
	};
	ssize_t n;

	n = skaccel_send_fd(c->fd, &rep, sizeof(rep), -1, MSG_DONTWAIT);
	if (n == -EAGAIN || n == -EWOULDBLOCK)
		return -ENOBUFS; /* its receive queue is full: it does not read its replies */
	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(rep) ? 0 : -EIO;
}

/*
 * The one way out of a request: close its fds (a registered socket at once: the app's
 * close() must be the last one), count the outcome (in memory; regcnt.h publishes it),
 * log it, reply.
 */
static int request_finish(struct helperd_daemon *d, struct helperd_client *c, struct request *rq)
{
	const int32_t status = rq->res.status;
	int i, r;

	for (i = 0; i < rq->nfds; i++) {
		/* SO_COOKIE and getpeername answered: a TCP socket, no fstat() needed. */
		if (i == 0 && rq->registered && rq->res.have_tuple)
			helperd_close_untrusted_socket(rq->fds[i], &c->closes);
		else
			helperd_close_untrusted(rq->fds[i], &c->closes);
	}
	/* Outcomes of registrations only: a question about one is not another. */
	if (status != SKACCEL_OK_PONG && !rq->queried)
		(void)helperd_regcnt_bump(&d->regcnt, status);
	if (rq->truncated) {
		if (log_once(d, c, status, -1))
			log_warn("Failed to read request from %s: %s, disconnecting", c->name,
				 skaccel_status_str(status));
	} else if (rq->queried) {
		log_query(d, c, rq);
	} else if (rq->registered) {
		log_registration(d, c, &rq->res);
	} else if (status < 0) {
		if (log_once(d, c, status, -1))
			log_warn("Failed to serve request from %s: %s", c->name,
				 skaccel_status_str(status));
	}
	r = reply(c, rq);
	return rq->truncated ? -EMSGSIZE : r;
}

int helperd_request_serve(struct helperd_daemon *d, struct helperd_client *c)
{
	struct request rq = {};
	int r;

	r = request_read(c, &rq);
	if (r < 0)
		return r;
	if (rq.res.status == 0) { /* valid: exactly one fd for REGISTER and PAIRED, none for PING */
		switch (rq.req.op) {
		case SKACCEL_OP_PING:
			rq.res.status = SKACCEL_OK_PONG;
			break;
		case SKACCEL_OP_PAIRED:
			request_paired(d, c, &rq);
			break;
		default:
			request_register(d, c, &rq);
			break;
		}
	}
	return request_finish(d, c, &rq);
}
