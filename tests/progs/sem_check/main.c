// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The scenario list of sem_check, in the order they run (see sem_check.h). */
#include "tests/progs/sem_check/sem_check.h"

static const struct scenario scenarios[] = {
	{ "eof", run_eof, 20, "data then EOF; poll/recv waiting at the FIN are woken" },
	{ "epipe", run_epipe, 20, "send after shutdown(SHUT_WR) gives EPIPE, peer sees EOF" },
	{ "halfclose", run_halfclose, 6, "request, SHUT_WR, blocking read of a late reply" },
	{ "halfclose_thread", run_halfclose_thread, 6,
	  "reader thread blocked in recv() while another thread half-closes" },
	{ "rst", run_rst, 20, "SO_LINGER {1,0} close: all data, then ECONNRESET" },
	{ "poll", run_poll, 20, "POLLIN only with data, within the bound" },
	{ "epoll", run_epoll, 10, "EPOLLIN level- and edge-triggered, each write an edge" },
	{ "fionread", run_fionread, 20, "FIONREAD equals what is readable, also after PEEK" },
	{ "fionread_preaccept", run_fionread_preaccept, 20,
	  "bytes sent before accept() are counted by FIONREAD after it" },
	{ "peek", run_peek, 10, "MSG_PEEK then read return the same bytes" },
	{ "waitall", run_waitall, 6, "recv(MSG_WAITALL) returns the full length" },
	{ "blocked_reader", run_blocked_reader, 20, "reader blocked before the write is woken" },
	{ "blocked_before_accept", run_blocked_before_accept, 10,
	  "client reader blocked before the server accepts is woken" },
	{ "refused", run_refused, 5, "blocking connect to a closed port: ECONNREFUSED" },
	{ "close_eof", run_close_eof, 12, "last close (close, dup2, fork) sends EOF at once" },
	{ "splice", run_splice, 10, "a reader using splice(socket -> pipe) gets every byte" },
	{ "sendfile", run_sendfile, 6, "a writer using sendfile() from a file" },
	{ "zerocopy", run_zerocopy, 6,
	  "SO_ZEROCOPY before connect: MSG_ZEROCOPY completions come" },
	{ "zerocopy_late", run_zerocopy_late, 6,
	  "SO_ZEROCOPY set on an established connection: completions come" },
	{ "oob", run_oob, 6, "MSG_OOB urgent byte read with MSG_OOB, not inline" },
};

int main(int argc, char **argv)
{
	return run_main(argc, argv, scenarios, sizeof(scenarios) / sizeof(scenarios[0]));
}
