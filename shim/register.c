// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Registration: decide whether a connection that just became established is a candidate
 * (inside the application's connect()/accept()/getsockopt()), and later, when promote.c
 * says so, hand it to the helper and record the outcome in the fd table. All failures end
 * as "stay on TCP".
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "shim/fdtab.h"
#include "shim/init.h"
#include "shim/locality.h"
#include "shim/notsent.h"
#include "shim/pairwait.h"
#include "shim/promote.h"
#include "shim/real.h"
#include "shim/register.h"

/*
 * Set while this thread is registering: a signal handler that connects meanwhile, or one
 * of our own calls coming back through a hook, passes straight through.
 */
static __thread bool in_register __attribute__((tls_model("initial-exec")));

/*
 * The fd whose O_NONBLOCK this thread knows exactly: an fd accept() has just returned,
 * promoted at once inside the hook. accept4's flag alone sets O_NONBLOCK on it, and no
 * one else holds it yet to change it, so its cached bit needs no fcntl(F_GETFL). -1: none.
 */
static __thread int accepted_fd __attribute__((tls_model("initial-exec"))) = -1;

/*
 * The helper answered SKACCEL_REQ_IF_PEER_WAITS with BAD_REQUEST: it predates the flag.
 * From then on this process registers unconditionally, as before the flag existed.
 */
static bool helper_lacks_if_peer_waits;

bool shim_registering(void)
{
	return in_register;
}

static bool is_inet(const struct sockaddr *addr, socklen_t len)
{
	return addr && len >= sizeof(sa_family_t) &&
	       (addr->sa_family == AF_INET || addr->sa_family == AF_INET6);
}

/* The TCP state (TCP_ESTABLISHED, TCP_SYN_SENT, ...), or -1. */
static int tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	/* Not SO_ERROR: reading it would consume the error the application is waiting for. */
	if (real.getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < 1)
		return -1;
	return ti.tcpi_state;
}

static unsigned int nonblock_bit(int fd)
{
	int fl;

	if (fd == accepted_fd)
		return shim_fd_get(fd) & SHIM_FD_NONBLOCK;
	fl = real.fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_NONBLOCK) ? SHIM_FD_NONBLOCK : 0;
}

static void log_outcome(int fd, const struct shim_endpoints *ep, const char *what,
			const char *detail)
{
	char self[SHIM_ADDRSTRLEN], peer[SHIM_ADDRSTRLEN];

	if (!shim_cfg.debug)
		return;
	shim_log("fd %d %s -> %s: %s%s%s%s", fd,
		 shim_addr_format((const struct sockaddr *)&ep->self, self, sizeof(self)),
		 shim_addr_format((const struct sockaddr *)&ep->peer, peer, sizeof(peer)), what,
		 detail ? " (" : "", detail ?: "", detail ? ")" : "");
}

/*
 * REGISTER fd, only if its peer waits when asked (and the helper knows the flag). 0 with
 * *rep, or -errno (shim_client_request()).
 */
static int request_register(int fd, bool if_peer_waits, struct skaccel_reply *rep, bool *sent)
{
	uint32_t flags =
	    if_peer_waits && !__atomic_load_n(&helper_lacks_if_peer_waits, __ATOMIC_RELAXED)
		? SKACCEL_REQ_IF_PEER_WAITS
		: 0;
	int ret;

	ret = shim_client_request(&shim_helper, SKACCEL_OP_REGISTER, flags, fd, rep, sent);
	if (ret == 0 && flags && rep->status == SKACCEL_ERR_BAD_REQUEST) {
		__atomic_store_n(&helper_lacks_if_peer_waits, true, __ATOMIC_RELAXED);
		ret = shim_client_request(&shim_helper, SKACCEL_OP_REGISTER, 0, fd, rep, sent);
	}
	return ret;
}

/*
 * Hand fd to the helper and record the outcome. nonblock is the fd's SHIM_FD_NONBLOCK bit.
 * An fd the helper may hold although no reply came (timeout, hang-up after the send) is
 * marked REGISTERED too: the read fixups are harmless on plain TCP, missing them is not.
 * It is also HELD: a stalled helper's queue may keep it open after the application closes it.
 * Returns true if it asked only if its peer waits and the helper did nothing: no peer.
 */
static bool register_fd(int fd, const struct shim_endpoints *ep, unsigned int nonblock,
			bool if_peer_waits)
{
	struct skaccel_reply rep;
	bool sent, registered;
	int ret;

	ret = request_register(fd, if_peer_waits, &rep, &sent);
	if (ret < 0 && !sent && shim_promote_lazy()) {
		/* Nothing left us (no helper, or it failed a moment ago): a later call asks. */
		log_outcome(fd, ep, "helper unreachable, later", strerrordesc_np(-ret));
		return false;
	}
	if (ret == 0 && if_peer_waits && rep.status == SKACCEL_OK_NO_PEER) {
		log_outcome(fd, ep, skaccel_status_str(rep.status), "asks again later");
		return true;
	}
	/*
	 * Only these three mean the helper holds the socket. Every other status, including
	 * refusals a newer helper may add (policy, ownership, namespace, ...), means plain
	 * TCP: listing the successes, never the refusals, keeps that true.
	 */
	if (ret == 0)
		registered = rep.status == SKACCEL_OK_ACCELERATED ||
			     rep.status == SKACCEL_OK_WAITING_PEER ||
			     rep.status == SKACCEL_ERR_ALREADY;
	else
		registered = sent;
	shim_fd_set(fd,
		    registered ? SHIM_FD_REGISTERED | nonblock | (ret < 0 ? SHIM_FD_HELD : 0) : 0);
	/*
	 * The unsent-bytes mark. Under lazy promotion only on a paired socket: a socket
	 * waiting for its peer sends by TCP, maybe for long (the peer is promoted when it has
	 * carried enough, or never), and the mark would block a writer whose reader has not
	 * read yet where TCP's send buffer would take the bytes (a program that writes a
	 * request larger than the window before its other thread, or itself, reads:
	 * scenarios/sem_check/epipe). Registered at connect, a socket waits for its peer only
	 * until the peer's accept().
	 */
	if (ret == 0 && registered &&
	    (rep.status == SKACCEL_OK_ACCELERATED || !shim_promote_lazy()))
		shim_notsent_take(fd);
	else if (ret == 0 && rep.status == SKACCEL_OK_WAITING_PEER)
		shim_pairwait_start(fd); /* it asks later, as it writes, whether the peer came */

	if (ret < 0) {
		log_outcome(fd, ep, "helper unreachable", strerrordesc_np(-ret));
	} else if (shim_cfg.debug) {
		const char *what = skaccel_status_str(rep.status);
		char num[32];

		/* A status this shim does not know (a newer helper's refusal): show its number. */
		if (strcmp(what, "unknown status") == 0) {
			snprintf(num, sizeof(num), "helper status %d", (int)rep.status);
			what = num;
		}
		log_outcome(fd, ep, what, rep.err > 0 ? strerrordesc_np(rep.err) : NULL);
	}
	return false;
}

/*
 * connect() or accept() gave the application an AF_INET/AF_INET6 socket that is, or will
 * be, connected: a candidate. Under lazy promotion nothing is asked of the kernel here (the
 * local-peer check alone, getsockname + getpeername + SO_TYPE, cost 5-10% of a short
 * connection's rate): promote.c classifies and registers it only once it has carried
 * enough, so a connection that closes after one exchange pays nothing, and an fd that
 * turns out to be something else (a remote peer, an AF_UNIX socket accepted without an
 * address) is dropped then. By default it is promoted at once, before the application has
 * the fd (nothing read yet, no read of it in the kernel): a connect still in progress at
 * its completion point or its first read or write.
 */
static void candidate(int fd, unsigned int nonblock)
{
	shim_promote_candidate(fd, nonblock);
	if (shim_cfg.debug)
		shim_log("fd %d: candidate", fd);
	if (!shim_promote_lazy())
		shim_promote_try(fd);
}

void shim_after_connect(int fd, const struct sockaddr *addr, socklen_t len, int ret, int err)
{
	if (ret < 0) {
		switch (err) {
		case EINPROGRESS:
		case EINTR: /* a blocking connect() interrupted goes on in the background */
			break;
		case EISCONN: /* the second connect() of an event loop (hiredis): it completed */
			if (!shim_promote_lazy())
				shim_promote_try(fd);
			return;
		case EALREADY: /* still in progress */
			return;
		default: /* the connect failed */
			shim_fd_clear(fd);
			return;
		}
	}
	/*
	 * The second connect() of an event loop returns 0 once the handshake is done (later
	 * ones say EISCONN): nothing new for an fd that is a candidate already.
	 */
	if (ret == 0 && shim_fd_is_candidate(fd)) {
		if (!shim_promote_lazy())
			shim_promote_try(fd);
		return;
	}
	if (!is_inet(addr, len) || in_register || !shim_active())
		return;
	/*
	 * A connect still in progress is a candidate too: it is promoted only after it has
	 * carried data, when it is established, and the helper refuses any socket that is not.
	 * Its O_NONBLOCK is asked at promotion.
	 */
	candidate(fd, 0);
}

void shim_after_accept(int fd, const struct sockaddr *addr, const socklen_t *len, int flags)
{
	/* The address accept() returned, when asked for, spares a syscall on AF_UNIX listeners. */
	if ((addr && len && !is_inet(addr, *len)) || in_register || !shim_active()) {
		shim_fd_clear(fd);
		return;
	}
	/* accept() never inherits O_NONBLOCK from the listener; only accept4's flag sets it. */
	accepted_fd = fd;
	candidate(fd, flags & SOCK_NONBLOCK ? SHIM_FD_NONBLOCK : 0);
	accepted_fd = -1;
}

bool shim_register_candidate(int fd, bool if_peer_waits)
{
	struct shim_endpoints ep;
	bool no_peer = false;
	int state;

	/* The helper failed a moment ago: ask again after the backoff, at no cost now. */
	if (in_register || !shim_active() || shim_client_backing_off(&shim_helper))
		return false;
	in_register = true;
	state = tcp_state(fd);
	if (state == TCP_SYN_SENT) {
		/* Still connecting (the helper takes only established sockets): ask later. */
		in_register = false;
		return false;
	}
	if (state != TCP_ESTABLISHED) {
		/* Failed, or already closing: nothing to accelerate. */
		shim_fd_clear(fd);
		in_register = false;
		return false;
	}
	/* tcp_state() read its TCP_INFO: SOCK_STREAM, no raw socket (locality.h). */
	switch (shim_classify_tcp_fd(fd, &ep)) {
	case SHIM_SOCK_LOCAL:
		/* Asked again: connect() left it unknown, and a dup sibling may have changed it. */
		no_peer = register_fd(fd, &ep, nonblock_bit(fd), if_peer_waits);
		break;
	case SHIM_SOCK_REMOTE:
		/* Another container of this host looks remote from inside: the helper decides. */
		if (shim_cfg.cross_netns) {
			no_peer = register_fd(fd, &ep, nonblock_bit(fd), if_peer_waits);
			break;
		}
		log_outcome(fd, &ep, skaccel_status_str(SKACCEL_ERR_NOT_LOCAL), NULL);
		shim_fd_clear(fd);
		break;
	case SHIM_SOCK_OTHER:
		shim_fd_clear(fd);
		break;
	}
	in_register = false;
	return no_peer;
}

int shim_register_ask_paired(int fd)
{
	struct skaccel_reply rep;
	bool sent;
	int ret;

	if (in_register || !shim_active() || shim_client_backing_off(&shim_helper))
		return 0;
	in_register = true;
	ret = shim_client_request(&shim_helper, SKACCEL_OP_PAIRED, 0, fd, &rep, &sent);
	in_register = false;
	/* Not yet, or nothing left us (no helper just now): ask again later. */
	if ((ret == 0 && rep.status == SKACCEL_OK_WAITING_PEER) || (ret < 0 && !sent))
		return 0;
	shim_fd_del(fd, SHIM_FD_UNPAIRED);
	/* As a registration: a stalled helper's queue may hold the socket now (reset.h). */
	if (ret < 0 && sent)
		shim_fd_add(fd, SHIM_FD_HELD);
	if (ret < 0 || rep.status != SKACCEL_OK_ACCELERATED)
		return -1;
	shim_notsent_take(fd);
	if (shim_cfg.debug)
		shim_log("fd %d: paired", fd);
	return 1;
}

void shim_after_getsockopt(int fd, int level, int name, const void *val, const socklen_t *len)
{
	int soerr;

	if (level != SOL_SOCKET || name != SO_ERROR || !val || !len || *len < sizeof(int))
		return;
	memcpy(&soerr, val, sizeof(soerr));
	if (soerr != 0)
		shim_fd_clear(fd); /* the connect failed: nothing to promote */
	else if (!shim_promote_lazy())
		shim_promote_try(fd); /* libuv, nginx, asyncio, Java: SO_ERROR after POLLOUT */
}
