// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sendmsg() hook: a registered socket or a candidate passed by SCM_RIGHTS has another
 * holder, and a candidate sending counts towards its promotion (promote.h).
 */
#include "shim/promote.h"
#include "shim/real.h"
#include "shim/register.h"
#include "shim/reset.h"

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!SHIM_REAL_READY(sendmsg))
		return shim_enosys();
	/*
	 * Before the send: once it returns, the receiver may hold the socket already. Not the
	 * shim's own request to the helper (common/fd_pass.c calls sendmsg(), which binds to
	 * this hook): marked shared, the candidate being promoted would lose its candidacy to
	 * a concurrent read, which then waits in the kernel across the insert, unseen.
	 */
	if (__builtin_expect(msg && msg->msg_controllen, 0) && !shim_registering())
		shim_reset_note_passed(msg);
	if (__builtin_expect(shim_fd_is_candidate(fd), 0)) {
		ssize_t n;

		shim_promote_try(fd);
		n = real.sendmsg(fd, msg, flags);
		shim_promote_count(fd, n);
		return n;
	}
	return real.sendmsg(fd, msg, flags);
}
