// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The scenario list of semx_check, in the order they run (see semx_check.h). */
#include "tests/progs/semx_check/semx_check.h"

static const struct scenario scenarios[] = {
	{ "outq", run_outq, 4, "SIOCOUTQ/SIOCINQ after writes, partial reads, EAGAIN, draining" },
	{ "rcvlowat", run_rcvlowat, 4,
	  "SO_RCVLOWAT set before any data: poll and recv wait for it" },
	{ "rcvlowat_greeted", run_rcvlowat_greeted, 4,
	  "SO_RCVLOWAT set after the reader's greeting: poll and recv wait for the mark" },
	{ "rcvlowat_late", run_rcvlowat_late, 4,
	  "SO_RCVLOWAT set after data flowed both ways: poll and recv wait for the mark" },
	{ "rcvlowat_fionread", run_rcvlowat_fionread, 4,
	  "SO_RCVLOWAT: SIOCINQ counts the bytes queued below the mark" },
	{ "rcvtimeo", run_rcvtimeo, 4,
	  "SO_RCVTIMEO: EAGAIN after about the timeout, partial WAITALL" },
	{ "sndtimeo", run_sndtimeo, 2,
	  "SO_SNDTIMEO: blocked send gives EAGAIN; accepted bytes arrive" },
	{ "eintr_recv", run_eintr_recv, 4,
	  "signal to a blocked recv: EINTR, or restarted (SA_RESTART)" },
	{ "eintr_send", run_eintr_send, 2,
	  "signal to a send blocked on a full buffer: partial count" },
	{ "dontwait_trunc", run_dontwait_trunc, 6,
	  "MSG_DONTWAIT on empty: EAGAIN; MSG_TRUNC discards" },
	{ "cork", run_cork, 6,
	  "TCP_CORK, MSG_MORE, TCP_NODELAY, close while corked: bytes in order" },
	{ "iov", run_iov, 3, "writev/readv with IOV_MAX iovecs, large iovecs, zero-length I/O" },
	{ "zero_read", run_zero_read, 2,
	  "zero-length recv: waits on an empty socket, 0 with data" },
	{ "big_write", run_big_write, 2, "one write larger than all buffers to a slow reader" },
	{ "linger", run_linger, 6, "SO_LINGER {1,0}: peer sees ECONNRESET; {1,N}: data then EOF" },
	{ "close_unread", run_close_unread, 4, "close with unread data: the peer sees a reset" },
	{ "sendfile_reset", run_sendfile_reset, 2,
	  "sendfile to a peer that reads a little and closes: a connection error" },
	{ "fork", run_fork, 4, "socket shared across fork: EOF only at the last close" },
	{ "exec_cat", run_exec_cat, 2, "socket inherited by sh -c 'cat <&9 >&9': echo, then EOF" },
	{ "exec_child", run_exec_child, 2, "socket inherited across execve: WAITALL, half-close" },
	{ "scm_rights", run_scm_rights, 3, "socket passed by SCM_RIGHTS to another process" },
	{ "threads", run_threads, 3, "a reader and a writer thread on each socket at once" },
	{ "dup", run_dup, 6, "dup/dup2/dup3/F_DUPFD_CLOEXEC copy outlives the original" },
	{ "close_range", run_close_range, 3, "close_range with and without CLOSE_RANGE_CLOEXEC" },
	{ "many", run_many, 2, "select() and epoll ET loops over many connections" },
};

int main(int argc, char **argv)
{
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main(argc, argv);
	/* The exec scenario re-executes this very program. */
	n = readlink("/proc/self/exe", g_self, sizeof(g_self) - 1);
	if (n > 0)
		g_self[n] = 0;
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
