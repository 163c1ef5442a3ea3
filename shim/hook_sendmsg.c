// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The sendmsg() hook: a registered socket passed by SCM_RIGHTS has another holder. */
#include "shim/real.h"
#include "shim/reset.h"

SHIM_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!SHIM_REAL_READY(sendmsg))
		return shim_enosys();
	/* Before the send: once it returns, the receiver may hold the socket already. */
	if (__builtin_expect(msg && msg->msg_controllen, 0))
		shim_reset_note_passed(msg);
	return real.sendmsg(fd, msg, flags);
}
