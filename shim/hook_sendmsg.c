// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sendmsg() hook: a candidate passed by SCM_RIGHTS is promoted first (its receiver's
 * reads cannot be counted), a registered socket passed has another holder, and the send
 * itself is a write (write_watch.h).
 */
#include "shim/promote.h"
#include "shim/real.h"
#include "shim/register.h"
#include "shim/reset.h"
#include "shim/scm_walk.h"
#include "shim/write_watch.h"

static void promote_passed(int fd, void *ctx)
{
	(void)ctx;
	shim_promote_before_unseen(fd);
}

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	const struct iovec *iov = msg ? msg->msg_iov : NULL;
	int iovcnt = msg ? (int)msg->msg_iovlen : 0;
	size_t len;

	if (!SHIM_REAL_READY(sendmsg))
		return shim_enosys();
	/*
	 * Before the send: once it returns, the receiver may hold the socket already. Not the
	 * shim's own request to the helper (common/fd_pass.c calls sendmsg(), which binds to
	 * this hook): marked shared, the candidate being promoted would lose its candidacy to
	 * a concurrent read, which then waits in the kernel across the insert, unseen.
	 */
	if (__builtin_expect(msg && msg->msg_controllen, 0) && !shim_registering()) {
		shim_scm_for_each_fd(msg, promote_passed, NULL);
		shim_reset_note_passed(msg);
	}
	if (__builtin_expect(shim_writev_watched(fd, iov, iovcnt, &len), 0)) {
		struct iovec cut[SHIM_IOV_CUT_MAX];
		struct msghdr m;
		ssize_t n;
		int k;

		k = shim_iov_cut(iov, iovcnt, shim_write_before(fd, len), cut);
		if (k) {
			/* Ancillary data goes with the first byte, as in any short send. */
			m = *msg;
			m.msg_iov = cut;
			m.msg_iovlen = (size_t)k;
			msg = &m;
		}
		n = real.sendmsg(fd, msg, flags);
		shim_write_after(fd, n);
		return n;
	}
	return real.sendmsg(fd, msg, flags);
}
