// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The insertion protocol. Its order is what keeps bytes in order (ARCHITECTURE.md,
 * KERNEL-NOTES §3.1): conns before socks (the programs find their state from the first
 * message on), socks before the flush (the flush moves pre-insertion bytes into the psock
 * queue, ahead of anything redirected later), the flush before pairing (the peer may
 * redirect to us only once that queue is in order), and close last.
 *
 * The maps are only written here, never searched: who is registered, who waits for whom
 * and how many sockets each user has are in the registry (registry.h), which costs no
 * syscall to read.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "common/skaccel_proto.h"
#include "helperd/pair_check.h"
#include "helperd/ratelimit.h"
#include "helperd/registration.h"
#include "helperd/sockcheck.h"
#include "helperd/tuple.h"

int32_t helperd_insert_status(int err)
{
	switch (err) {
	case EEXIST:
	case EBUSY: /* the socket is in the sockhash already, under another key */
		return SKACCEL_ERR_ALREADY;
	case EOPNOTSUPP: /* left ESTABLISHED meanwhile (peer closed: CLOSE_WAIT) */
		return SKACCEL_ERR_NOT_ESTABLISHED;
	case E2BIG:
	case ENOSPC:
	case ENOMEM:
		return SKACCEL_ERR_MAP_FULL;
	case EINVAL: /* a ULP was attached meanwhile */
		return SKACCEL_ERR_UNSUPPORTED;
	}
	return SKACCEL_ERR_INTERNAL;
}

bool helperd_errno_is_full(int err)
{
	return err == E2BIG || err == ENOSPC || err == ENOMEM;
}

static void fail(struct helperd_reg_result *res, int32_t status, int err, const char *step)
{
	res->status = status;
	res->err = err;
	res->step = step;
}

/* Tuples equal but for the namespace. */
static bool same_but_netns(const struct skaccel_tuple *a, const struct skaccel_tuple *b)
{
	return a->local_port == b->local_port && a->remote_port == b->remote_port &&
	       memcmp(a->local_addr, b->local_addr, 16) == 0 &&
	       memcmp(a->remote_addr, b->remote_addr, 16) == 0;
}

/*
 * What a pairing verdict other than OK means for us and the candidate. Returns true when
 * it decided our registration (a failure, or we left our connection since the checks
 * above); false when the candidate is merely not our other end and we may wait. Such a
 * candidate waits no more if it failed on its own (closed, a ghost that left its
 * connection and kept the tuple we are the mirror of), or if it lives in our namespace,
 * where the kernel keeps tuples unique; one in another namespace keeps waiting: it may
 * be the other end of that namespace's twin connection. The sweep removes it once closed.
 */
static bool judge(struct helperd_reg_ctx *ctx, struct helperd_reg_end *me,
		  struct helperd_reg_end *them, int verdict, struct helperd_reg_result *res)
{
	res->pair_verdict = verdict;
	if (verdict < 0) {
		fail(res, SKACCEL_ERR_INTERNAL, -verdict, "run the pairing check");
		return true;
	}
	if (verdict == SKACCEL_PAIR_LINK_FAILED) {
		fail(res, SKACCEL_ERR_MAP_FULL, ENOSPC, "insert into skaccel_peers");
		return true;
	}
	if (!(verdict & SKACCEL_PAIR_PEER) && verdict != SKACCEL_PAIR_NOT_MIRROR &&
	    verdict != SKACCEL_PAIR_SEQ_MISMATCH) {
		res->status = SKACCEL_ERR_NOT_ESTABLISHED;
		return true;
	}
	if ((verdict & SKACCEL_PAIR_PEER) || them->tuple.netns_cookie == me->tuple.netns_cookie) {
		res->refused_peer = them->cookie;
		helperd_registry_unwait(ctx->registry, them);
	}
	return false;
}

/*
 * Link me with them if the pairing check says, holding both sockets, that they are the
 * two ends of one connection now. A tuple recorded at registration proves nothing: that
 * end may have left its connection without closing, and the ports may since belong to
 * someone else's connection, ours. Otherwise me waits for its peer.
 */
static void link_or_wait(struct helperd_reg_ctx *ctx, struct helperd_reg_end *me,
			 struct helperd_reg_end *them, __u32 flags, struct helperd_reg_result *res)
{
	int verdict;

	if (them) {
		verdict = helperd_pair_check_flags(ctx->pair_prog, me->cookie, them->cookie, flags);
		if (verdict == SKACCEL_PAIR_OK) {
			res->pair_verdict = verdict;
			helperd_registry_pair(ctx->registry, me, them);
			res->peer_cookie = them->cookie;
			res->status = SKACCEL_OK_ACCELERATED;
			return;
		}
		if (judge(ctx, me, them, verdict, res))
			return;
	}
	helperd_registry_wait(ctx->registry, me);
	res->status = SKACCEL_OK_WAITING_PEER;
}

/* Step 4: pair with the other end if it waits for us under our mirror tuple, else wait. */
static void pair_same_netns(struct helperd_reg_ctx *ctx, struct helperd_reg_end *me,
			    struct helperd_reg_result *res)
{
	struct helperd_reg_end *them;
	struct skaccel_tuple mirror;

	helperd_tuple_mirror(&mirror, &res->tuple);
	them = helperd_registry_waiting(ctx->registry, &mirror);
	if (them == me)
		them = NULL; /* a socket connected to itself */
	link_or_wait(ctx, me, them, 0, res);
}

/*
 * Step 4 with --cross-netns=on. The mirror tuple no longer names one socket: two isolated
 * namespace pairs with identical addressing make several waiting ends with our mirror
 * tuple, one per namespace (the index finds only the one in ours, so every end is looked
 * at). Each candidate gets the pairing check in check-only mode; the sequence numbers
 * leave at most the one that is our connection's other end. If two passed anyway (odds
 * about 2^-64), the check proved nothing for either: none is paired and none of them
 * waits any more, so all stay on TCP. Exactly one: the check runs again, linking, since
 * anything may have changed in between.
 */
static void pair_any_netns(struct helperd_reg_ctx *ctx, struct helperd_reg_end *me,
			   struct helperd_reg_result *res)
{
	const __u32 flags = SKACCEL_PAIR_F_ANY_NETNS;
	struct helperd_registry *r = ctx->registry;
	struct helperd_reg_end *them = NULL;
	struct skaccel_tuple mirror;
	unsigned int passed = 0;
	int verdict;
	uint32_t i;

	helperd_tuple_mirror(&mirror, &res->tuple);
	/* Unwaiting an end does not move ends: the walk sees each end once. */
	for (i = 0; i < r->n; i++) {
		struct helperd_reg_end *e = &r->ends[i];

		if (!e->waiting || e == me || !same_but_netns(&e->tuple, &mirror))
			continue;
		verdict = helperd_pair_check_flags(ctx->pair_prog, me->cookie, e->cookie,
						   flags | SKACCEL_PAIR_F_CHECK_ONLY);
		if (verdict == SKACCEL_PAIR_OK) {
			passed++;
			them = e;
		} else if (judge(ctx, me, e, verdict, res)) {
			return;
		}
	}
	if (passed > 1) {
		for (i = 0; i < r->n; i++) {
			struct helperd_reg_end *e = &r->ends[i];

			if (e->waiting && e != me && same_but_netns(&e->tuple, &mirror))
				helperd_registry_unwait(r, e);
		}
		res->pair_verdict = SKACCEL_PAIR_AMBIGUOUS;
		res->refused_peer = them->cookie;
		res->status = SKACCEL_OK_WAITING_PEER; /* registered, never paired: plain TCP */
		return;
	}
	link_or_wait(ctx, me, them, flags, res);
}

/*
 * Loopback addresses never leave their namespace, so a loopback connection's other end is
 * in ours: only --cross-netns=on with another address looks further.
 */
static bool looks_across_netns(const struct helperd_reg_ctx *ctx, const struct skaccel_tuple *t)
{
	return ctx->cross_netns && !helperd_addr_is_loopback(t->local_addr) &&
	       !helperd_addr_is_loopback(t->remote_addr);
}

/*
 * REGISTER_IF_PEER_WAITS: does an end with our mirror tuple wait, where pair() would look?
 * Only a hint that registering is worth it: pair() still runs the pairing check, and an end
 * that is not our peer costs us a wait, as an unconditional registration would.
 */
static bool peer_waits(struct helperd_reg_ctx *ctx, const struct skaccel_tuple *t)
{
	const struct helperd_registry *r = ctx->registry;
	struct skaccel_tuple mirror;
	uint32_t i;

	helperd_tuple_mirror(&mirror, t);
	if (!looks_across_netns(ctx, t))
		return helperd_registry_waiting(r, &mirror) != NULL;
	for (i = 0; i < r->n; i++)
		if (r->ends[i].waiting && same_but_netns(&r->ends[i].tuple, &mirror))
			return true;
	return false;
}

/* Step 4, in our namespace or across them (looks_across_netns()). */
static void pair(struct helperd_reg_ctx *ctx, struct helperd_reg_end *me,
		 struct helperd_reg_result *res)
{
	if (looks_across_netns(ctx, &res->tuple))
		pair_any_netns(ctx, me, res);
	else
		pair_same_netns(ctx, me, res);
}

static bool is_local(struct helperd_reg_ctx *ctx, const struct skaccel_tuple *t)
{
	const struct helperd_localaddrs *la = ctx->localaddrs;

	if (helperd_is_local(t, ctx->own_netns, la->addrs, la->n))
		return true;
	/* Another namespace of this host: the host's routes say whether the peer is one. */
	if (ctx->cross_netns && ctx->host_routes &&
	    helperd_host_route_is_local(ctx->host_routes, t->remote_addr, helperd_now_ns()) > 0)
		return true;
	if (t->netns_cookie != ctx->own_netns)
		return false;
	/* Not in the cache: an address may have been added since; re-read (rate-limited). */
	if (helperd_localaddrs_refresh(ctx->localaddrs, helperd_now_ns()) < 0)
		return false;
	return helperd_is_local(t, ctx->own_netns, la->addrs, la->n);
}

/*
 * The socket must be the client's: in its network namespace, and created by its user.
 * Namespace cookies are never reused, so equal cookies mean one namespace, and the
 * socket's was read for its tuple already: no system call. The owner costs an fstat(),
 * spared for root, who may hand over anyone's socket. Returns 0 or the refusal.
 */
static int32_t check_ownership(int fd, const struct helperd_reg_client *who,
			       struct helperd_reg_result *res)
{
	struct stat st;

	if (res->tuple.netns_cookie != who->netns_cookie)
		return SKACCEL_ERR_OTHER_NETNS;
	if (who->uid == 0)
		return 0;
	if (fstat(fd, &st) < 0) {
		fail(res, SKACCEL_ERR_INTERNAL, errno, "inspect socket owner");
		return SKACCEL_ERR_INTERNAL;
	}
	/*
	 * A socket's inode belongs to the fsuid that created it, by socket() or accept()
	 * (sock_alloc() in net/socket.c), and only CAP_CHOWN can give it away (fchown).
	 */
	if (st.st_uid != who->uid) {
		res->owner = st.st_uid;
		return SKACCEL_ERR_NOT_OWNER;
	}
	return 0;
}

/*
 * An established TCP socket the redirect can serve, its cookie and tuple from the kernel,
 * and, for a client, its own (check_ownership()). Returns 0 or the refusal, with res->err
 * and res->step set where a call failed.
 */
static int32_t identify(int fd, const struct helperd_reg_client *who,
			struct helperd_reg_result *res)
{
	int32_t status;
	int err = 0;

	status = helperd_sock_check(fd, &err);
	if (status) {
		fail(res, status, err, "inspect socket");
		return status;
	}
	status = helperd_sock_key(fd, &res->cookie, &res->tuple, &err);
	if (status) {
		fail(res, status, err, "read socket identity");
		return status;
	}
	res->have_tuple = true;
	return who->untrusted ? check_ownership(fd, who, res) : 0;
}

static bool policy_allows(struct helperd_reg_ctx *ctx, const struct helperd_reg_client *who,
			  struct helperd_reg_result *res)
{
	struct helperd_policy_subject nobody_known = { .uid = who->uid };

	if (!ctx->policy)
		return true;
	return helperd_policy_allows(ctx->policy, who->subject ? who->subject : &nobody_known,
				     res->tuple.local_port, res->tuple.remote_port, &res->rule);
}

void helperd_register(struct helperd_reg_ctx *ctx, int fd, uid_t uid, pid_t pid,
		      uint64_t deadline_ns, struct helperd_reg_result *res)
{
	struct helperd_reg_client who = { .uid = uid, .pid = pid };

	helperd_register_client(ctx, fd, &who, deadline_ns, 0, res);
}

void helperd_register_client(struct helperd_reg_ctx *ctx, int fd,
			     const struct helperd_reg_client *who, uint64_t deadline_ns,
			     uint32_t flags, struct helperd_reg_result *res)
{
	const struct helperd_maps *maps = ctx->maps;
	uid_t uid = who->uid;
	/* A limit counts a person: a subordinate uid counts as its owner (policy.h). */
	uid_t acct = ctx->policy ? helperd_policy_account_uid(ctx->policy, uid) : uid;
	struct helperd_reg_end *me;
	struct skaccel_conn conn;
	__u64 value, byte;
	int err = 0;

	memset(res, 0, sizeof(*res));
	if (!ctx->enabled) {
		res->status = SKACCEL_ERR_DISABLED;
		return;
	}
	res->status = identify(fd, who, res);
	if (res->status)
		return;
	if (!is_local(ctx, &res->tuple)) {
		res->status = SKACCEL_ERR_NOT_LOCAL;
		return;
	}
	if (who->untrusted && !policy_allows(ctx, who, res)) {
		res->status = SKACCEL_ERR_POLICY;
		return;
	}
	if ((flags & SKACCEL_REQ_IF_PEER_WAITS) && !peer_waits(ctx, &res->tuple)) {
		res->status = SKACCEL_OK_NO_PEER;
		return;
	}
	res->limit = ctx->policy ? helperd_policy_user_limit(ctx->policy, uid, ctx->max_per_user)
				 : ctx->max_per_user;
	if (helperd_registry_user_count(ctx->registry, acct) >= res->limit) {
		res->status = SKACCEL_ERR_QUOTA;
		return;
	}

	/*
	 * The client stops waiting at deadline_ns and then uses the socket on plain TCP,
	 * perhaps already blocked reading it: inserting it after that would strand that
	 * reader (KERNEL-NOTES §3.5). The margin covers the few system calls up to the insert.
	 */
	if (deadline_ns && helperd_now_ns() + HELPERD_DEADLINE_MARGIN_NS > deadline_ns) {
		res->status = SKACCEL_ERR_TOO_LATE;
		return;
	}

	/*
	 * (0) The registry entry: memory only, invisible to the kernel, undone below if an
	 * insert fails. It mirrors skaccel_conns, so it is full exactly when that map is.
	 */
	err = -helperd_registry_add(ctx->registry, res->cookie, &res->tuple, acct, &me);
	if (err) {
		fail(res,
		     err == EEXIST   ? SKACCEL_ERR_ALREADY
		     : err == ENOSPC ? SKACCEL_ERR_MAP_FULL
				     : SKACCEL_ERR_INTERNAL,
		     err, "add to the registry");
		return;
	}

	/* (1) State first, so the programs find it from the very first message. */
	memset(&conn, 0, sizeof(conn));
	conn.tuple = res->tuple;
	conn.registered_ns = helperd_now_ns();
	conn.uid = uid;
	conn.pid = (__u32)who->pid;
	if (bpf_map_update_elem(maps->conns, &res->cookie, &conn, BPF_NOEXIST) < 0) {
		err = errno;
		helperd_registry_remove(ctx->registry, me);
		fail(res,
		     err == EEXIST		  ? SKACCEL_ERR_ALREADY
		     : helperd_errno_is_full(err) ? SKACCEL_ERR_MAP_FULL
						  : SKACCEL_ERR_INTERNAL,
		     err, "insert into skaccel_conns");
		return;
	}

	/* (2) The sockhash insert: from here the programs run on every send and receive. */
	value = (__u64)fd;
	if (bpf_map_update_elem(maps->socks, &res->cookie, &value, BPF_NOEXIST) < 0) {
		err = errno;
		bpf_map_delete_elem(maps->conns, &res->cookie);
		helperd_registry_remove(ctx->registry, me);
		fail(res, helperd_insert_status(err), err, "insert into skaccel_socks");
		return;
	}
	res->inserted = true;

	/*
	 * (3) Flush: bytes that reached the socket before the insert sit in its TCP receive
	 * queue; a peek makes the psock move them into its own queue now, in order, ahead of
	 * anything the peer redirects once paired. EAGAIN (nothing queued) is the usual result.
	 */
	recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	/* (4) Pair, or wait for the peer. (5), closing fd, is the caller's, right after. */
	pair(ctx, me, res);
}

void helperd_registration_paired(struct helperd_reg_ctx *ctx, int fd,
				 const struct helperd_reg_client *who,
				 struct helperd_reg_result *res)
{
	const struct helperd_reg_end *e;

	memset(res, 0, sizeof(*res));
	res->status = identify(fd, who, res);
	if (res->status)
		return;
	e = helperd_registry_find(ctx->registry, res->cookie);
	if (!e) {
		res->status = SKACCEL_ERR_NOT_ESTABLISHED;
		res->err = ENOENT;
		return;
	}
	res->peer_cookie = e->peer;
	res->status = e->peer ? SKACCEL_OK_ACCELERATED : SKACCEL_OK_WAITING_PEER;
}
