// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Registration: decide whether a connection that just became established is a candidate,
 * hand it to the helper, and record the outcome in the fd table. Runs inside the
 * application's connect()/accept()/getsockopt(); all failures end as "stay on TCP".
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
#include "shim/real.h"
#include "shim/register.h"

/*
 * Set while this thread is registering: a signal handler that connects meanwhile, or one
 * of our own calls coming back through a hook, passes straight through.
 */
static __thread bool in_register __attribute__((tls_model("initial-exec")));

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
	int fl = real.fcntl(fd, F_GETFL);

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
 * Hand fd to the helper and record the outcome. nonblock is the fd's SHIM_FD_NONBLOCK bit.
 * An fd the helper may hold although no reply came (timeout, hang-up after the send) is
 * marked REGISTERED too: the read fixups are harmless on plain TCP, missing them is not.
 * It is also HELD: a stalled helper's queue may keep it open after the application closes it.
 */
static void register_fd(int fd, const struct shim_endpoints *ep, unsigned int nonblock)
{
	struct skaccel_reply rep;
	bool sent, registered;
	int ret;

	ret = shim_client_request(&shim_helper, SKACCEL_OP_REGISTER, fd, &rep, &sent);
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
	if (ret == 0 && registered)
		shim_notsent_take(fd);

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
}

/* Classify an established fd and register it if it is a candidate. */
static void consider(int fd, unsigned int nonblock)
{
	struct shim_endpoints ep;

	switch (shim_classify_fd(fd, &ep, NULL, 0)) {
	case SHIM_SOCK_LOCAL:
		register_fd(fd, &ep, nonblock);
		return;
	case SHIM_SOCK_REMOTE:
		log_outcome(fd, &ep, skaccel_status_str(SKACCEL_ERR_NOT_LOCAL), NULL);
		break;
	case SHIM_SOCK_OTHER:
		break;
	}
	shim_fd_clear(fd);
}

/*
 * A connect() that has not completed: register now if the handshake is already done (on
 * loopback the SYN, SYN-ACK and ACK are processed within the call, so it nearly always is),
 * else remember the fd and register at the first completion point the application shows us.
 */
static void connect_in_progress(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct shim_endpoints ep;
	unsigned int nonblock;
	int state = tcp_state(fd);

	if (state == TCP_ESTABLISHED) {
		consider(fd, nonblock_bit(fd));
		return;
	}
	if (state != TCP_SYN_SENT) {
		shim_fd_clear(fd);
		return;
	}
	switch (shim_classify_fd(fd, &ep, addr, len)) {
	case SHIM_SOCK_LOCAL:
		nonblock = nonblock_bit(fd);
		shim_fd_set(fd, SHIM_FD_PENDING | nonblock);
		log_outcome(fd, &ep, "connect in progress, will register when it completes", NULL);
		return;
	case SHIM_SOCK_REMOTE:
		log_outcome(fd, &ep, skaccel_status_str(SKACCEL_ERR_NOT_LOCAL), NULL);
		break;
	case SHIM_SOCK_OTHER:
		break;
	}
	shim_fd_clear(fd);
}

/* The application saw a PENDING connect complete: register if it is established. */
static void complete_pending(int fd)
{
	unsigned int st = shim_fd_get(fd);
	int state;

	if (!(st & SHIM_FD_PENDING) || in_register || !shim_active())
		return;
	in_register = true;
	state = tcp_state(fd);
	if (state == TCP_ESTABLISHED)
		consider(fd, st & SHIM_FD_NONBLOCK);
	else if (state != TCP_SYN_SENT)
		shim_fd_clear(fd); /* failed or already closing: nothing to accelerate */
	in_register = false;
}

void shim_after_connect(int fd, const struct sockaddr *addr, socklen_t len, int ret, int err)
{
	if (ret == 0 && shim_fd_get(fd)) {
		/*
		 * The second connect() of an event loop returns 0 once the handshake is done
		 * (later ones say EISCONN): completion of a PENDING fd, or nothing new at all.
		 */
		complete_pending(fd);
		return;
	}
	if (ret < 0) {
		switch (err) {
		case EINPROGRESS:
		case EINTR: /* a blocking connect() interrupted goes on in the background */
			break;
		case EISCONN: /* the second connect() of an event loop (hiredis): it completed */
			complete_pending(fd);
			return;
		case EALREADY: /* still in progress */
			return;
		default: /* the connect failed, a PENDING one included */
			if (shim_fd_get(fd) & SHIM_FD_PENDING)
				shim_fd_clear(fd);
			return;
		}
	}
	if (!is_inet(addr, len) || in_register || !shim_active())
		return;
	in_register = true;
	if (ret == 0)
		consider(fd, nonblock_bit(fd));
	else
		connect_in_progress(fd, addr, len);
	in_register = false;
}

void shim_after_accept(int fd, const struct sockaddr *addr, const socklen_t *len, int flags)
{
	/* The address accept() returned, when asked for, spares a syscall on AF_UNIX listeners. */
	if ((addr && len && !is_inet(addr, *len)) || in_register || !shim_active()) {
		shim_fd_clear(fd);
		return;
	}
	in_register = true;
	/* accept() never inherits O_NONBLOCK from the listener; only accept4's flag sets it. */
	consider(fd, flags & SOCK_NONBLOCK ? SHIM_FD_NONBLOCK : 0);
	in_register = false;
}

void shim_after_getsockopt(int fd, int level, int name, const void *val, const socklen_t *len)
{
	int soerr;

	if (level != SOL_SOCKET || name != SO_ERROR || !val || !len || *len < sizeof(int))
		return;
	memcpy(&soerr, val, sizeof(soerr));
	if (soerr == 0)
		complete_pending(fd); /* libuv, nginx, asyncio, Java: SO_ERROR after POLLOUT */
	else
		shim_fd_clear(fd);
}
