// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The insertion protocol. Its order is what keeps bytes in order (ARCHITECTURE.md,
 * KERNEL-NOTES §1.4): conns before socks (the programs find their state from the first
 * message on), socks before the flush (the flush moves pre-insertion bytes into the psock
 * queue, ahead of anything redirected later), the flush before pairing (the peer may
 * redirect to us only once that queue is in order), and close last.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ratelimit.h"
#include "registration.h"
#include "skaccel_proto.h"
#include "sockcheck.h"
#include "tuple.h"

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

int helperd_regcnt_bump(int regcnt_fd, int32_t status)
{
	__u32 key = (__u32)(status + SKACCEL_REGCNT_BIAS);
	__u64 value = 0;

	if (status + SKACCEL_REGCNT_BIAS < 0 || key >= SKACCEL_REGCNT_MAX)
		return -ERANGE;
	/* Read-modify-write is enough: the helper is the only writer, and single-threaded. */
	if (bpf_map_lookup_elem(regcnt_fd, &key, &value) < 0)
		return -errno;
	value++;
	return bpf_map_update_elem(regcnt_fd, &key, &value, BPF_ANY) < 0 ? -errno : 0;
}

static void fail(struct helperd_reg_result *res, int32_t status, int err, const char *step)
{
	res->status = status;
	res->err = err;
	res->step = step;
}

/* A map write after the socket is in the sockhash failed: it stays there, on plain TCP. */
static void fail_after_insert(struct helperd_reg_result *res, int err, const char *step)
{
	fail(res, helperd_errno_is_full(err) ? SKACCEL_ERR_MAP_FULL : SKACCEL_ERR_INTERNAL, err,
	     step);
}

static bool peer_is_live(const struct helperd_maps *maps, __u64 peer,
			 const struct skaccel_tuple *mirror)
{
	struct skaccel_conn conn;
	__u64 cookie = 0;

	/* From userspace a sockhash lookup returns the socket's cookie, ENOENT once closed. */
	if (bpf_map_lookup_elem(maps->socks, &peer, &cookie) < 0 || cookie != peer)
		return false;
	if (bpf_map_lookup_elem(maps->conns, &peer, &conn) < 0)
		return false;
	return memcmp(&conn.tuple, mirror, sizeof(*mirror)) == 0;
}

/* Step 4: pair with the other end if it waits for us, else wait for it. */
static void pair(struct helperd_reg_ctx *ctx, struct helperd_reg_result *res)
{
	const struct helperd_maps *maps = ctx->maps;
	struct skaccel_tuple mirror;
	__u64 me = res->cookie, peer = 0;

	helperd_tuple_mirror(&mirror, &res->tuple);
	if (bpf_map_lookup_elem(maps->ends, &mirror, &peer) == 0 && peer != me) {
		if (peer_is_live(maps, peer, &mirror)) {
			if (bpf_map_update_elem(maps->peers, &me, &peer, BPF_ANY) < 0) {
				fail_after_insert(res, errno, "insert into skaccel_peers");
				return;
			}
			if (bpf_map_update_elem(maps->peers, &peer, &me, BPF_ANY) < 0) {
				fail_after_insert(res, errno, "insert into skaccel_peers");
				bpf_map_delete_elem(maps->peers, &me);
				return;
			}
			bpf_map_delete_elem(maps->ends, &mirror);
			res->peer_cookie = peer;
			res->status = SKACCEL_OK_ACCELERATED;
			return;
		}
		/* A closed end of an earlier connection with the same addresses and ports. */
		bpf_map_delete_elem(maps->ends, &mirror);
	}
	if (bpf_map_update_elem(maps->ends, &res->tuple, &me, BPF_ANY) < 0) {
		fail_after_insert(res, errno, "insert into skaccel_ends");
		return;
	}
	res->status = SKACCEL_OK_WAITING_PEER;
}

static bool is_local(struct helperd_reg_ctx *ctx, const struct skaccel_tuple *t)
{
	const struct helperd_localaddrs *la = ctx->localaddrs;

	if (helperd_is_local(t, ctx->own_netns, la->addrs, la->n))
		return true;
	if (t->netns_cookie != ctx->own_netns)
		return false;
	/* Not in the cache: an address may have been added since; re-read (rate-limited). */
	if (helperd_localaddrs_refresh(ctx->localaddrs, helperd_now_ns()) < 0)
		return false;
	return helperd_is_local(t, ctx->own_netns, la->addrs, la->n);
}

void helperd_register(struct helperd_reg_ctx *ctx, int fd, uid_t uid, pid_t pid,
		      struct helperd_reg_result *res)
{
	const struct helperd_maps *maps = ctx->maps;
	struct skaccel_conn conn;
	__u64 value, byte;
	int err = 0;

	memset(res, 0, sizeof(*res));
	if (!ctx->enabled) {
		res->status = SKACCEL_ERR_DISABLED;
		return;
	}
	res->status = helperd_sock_check(fd, &err);
	if (res->status) {
		fail(res, res->status, err, "inspect socket");
		return;
	}
	res->status = helperd_sock_key(fd, &res->cookie, &res->tuple, &err);
	if (res->status) {
		fail(res, res->status, err, "read socket identity");
		return;
	}
	res->have_tuple = true;
	if (!is_local(ctx, &res->tuple)) {
		res->status = SKACCEL_ERR_NOT_LOCAL;
		return;
	}
	if (helperd_quota_get(ctx->quota, uid) >= ctx->max_per_user) {
		res->status = SKACCEL_ERR_QUOTA;
		return;
	}

	/* (1) State first, so the programs find it from the very first message. */
	memset(&conn, 0, sizeof(conn));
	conn.tuple = res->tuple;
	conn.registered_ns = helperd_now_ns();
	conn.uid = uid;
	conn.pid = (__u32)pid;
	if (bpf_map_update_elem(maps->conns, &res->cookie, &conn, BPF_NOEXIST) < 0) {
		err = errno;
		fail(res, err == EEXIST		       ? SKACCEL_ERR_ALREADY
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
		fail(res, helperd_insert_status(err), err, "insert into skaccel_socks");
		return;
	}
	res->inserted = true;
	/* Only ENOMEM can fail it; the socket is in, so it stays, uncounted. */
	(void)helperd_quota_inc(ctx->quota, uid);

	/*
	 * (3) Flush: bytes that reached the socket before the insert sit in its TCP receive
	 * queue; a peek makes the psock move them into its own queue now, in order, ahead of
	 * anything the peer redirects once paired. EAGAIN (nothing queued) is the usual result.
	 */
	recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	/* (4) Pair, or wait for the peer. (5), closing fd, is the caller's, right after. */
	pair(ctx, res);
}
