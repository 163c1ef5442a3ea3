// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of the signal-handler wrapper (sigwrap.c) and of what the read fixups do with
 * it: EINTR or a restart after the sockmap's EAGAIN-for-a-signal, MSG_TRUNC and zero-length
 * recv(). Handlers are installed through shim_sig_action() with libc's real sigaction
 * underneath, and signals are real (raise, pthread_kill).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "shim/fdtab.h"
#include "shim/readfix.h"
#include "shim/real.h"
#include "shim/sigwrap.h"
#include "tests/unit/skt_assert.h"

static volatile sig_atomic_t got_sig, got_code, got_uc;
static volatile int handler_errno = -1;

static void on_plain(int sig)
{
	got_sig = sig;
	handler_errno = errno;
}

static void on_info(int sig, siginfo_t *info, void *uc)
{
	got_sig = sig;
	got_code = info ? info->si_code : -1;
	got_uc = uc != NULL;
}

static int set(int sig, void (*handler)(int), int flags, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = handler, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	return shim_sig_action(sig, &sa, old);
}

static enum shim_sig_ran raise_and_see(int sig)
{
	struct shim_sig_count c;

	shim_sig_count_now(&c);
	got_sig = 0;
	raise(sig);
	return shim_sig_since(&c);
}

static void test_action(void)
{
	struct sigaction old, k, sa;

	/* The kernel holds the wrapper; the application reads back its own handler and flags. */
	ASSERT_EQ(set(SIGUSR1, on_plain, 0, NULL), 0, "set");
	ASSERT_EQ(real.sigaction(SIGUSR1, NULL, &k), 0, "real.sigaction(SIGUSR1, NULL, &k)");
	ASSERT_FALSE(k.sa_handler == on_plain, "k.sa_handler == on_plain");
	ASSERT_EQ(k.sa_flags & SA_SIGINFO, SA_SIGINFO, "k.sa_flags & SA_SIGINFO");
	ASSERT_EQ(shim_sig_action(SIGUSR1, NULL, &old), 0, "shim_sig_action");
	ASSERT_TRUE(old.sa_handler == on_plain, "old.sa_handler == on_plain");
	ASSERT_EQ(old.sa_flags & (SA_SIGINFO | SA_RESTART), 0,
		  "old.sa_flags & (SA_SIGINFO | SA_RESTART)");

	/* Called with its own signature; errno as the interrupted code left it; counted. */
	errno = 1234;
	ASSERT_EQ(raise_and_see(SIGUSR1), SHIM_SIG_INTR, "raise_and_see");
	ASSERT_EQ(got_sig, SIGUSR1, "got_sig");
	ASSERT_EQ(handler_errno, 1234, "handler_errno");
	ASSERT_EQ(errno, 1234, "errno");

	/* SA_RESTART counts apart; the old action is the previous handler. */
	ASSERT_EQ(set(SIGUSR1, on_plain, SA_RESTART, &old), 0, "set");
	ASSERT_TRUE(old.sa_handler == on_plain, "old.sa_handler == on_plain");
	ASSERT_EQ(old.sa_flags & SA_RESTART, 0, "old.sa_flags & SA_RESTART");
	ASSERT_EQ(raise_and_see(SIGUSR1), SHIM_SIG_RESTART, "raise_and_see");

	/* SA_SIGINFO: siginfo and context reach the handler; the flag reads back. */
	sa = (struct sigaction){ .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
	ASSERT_EQ(shim_sig_action(SIGUSR1, &sa, &old), 0, "shim_sig_action");
	ASSERT_EQ(old.sa_flags & (SA_RESTART | SA_SIGINFO), SA_RESTART,
		  "old.sa_flags & (SA_RESTART | SA_SIGINFO)");
	got_code = 0;
	ASSERT_EQ(raise_and_see(SIGUSR1), SHIM_SIG_INTR, "raise_and_see");
	ASSERT_EQ(got_sig, SIGUSR1, "got_sig");
	ASSERT_EQ(got_code, SI_TKILL, "got_code");
	ASSERT_EQ(got_uc, 1, "got_uc");
	/* act and old may be one struct. */
	sa = (struct sigaction){ .sa_handler = on_plain };
	ASSERT_EQ(shim_sig_action(SIGUSR1, &sa, &sa), 0, "shim_sig_action");
	ASSERT_TRUE(sa.sa_sigaction == on_info, "sa.sa_sigaction == on_info");
	ASSERT_EQ(sa.sa_flags & SA_SIGINFO, SA_SIGINFO, "sa.sa_flags & SA_SIGINFO");

	/* SIG_IGN and SIG_DFL are installed as they are. */
	ASSERT_EQ(set(SIGUSR1, SIG_IGN, 0, &old), 0, "set");
	ASSERT_TRUE(old.sa_handler == on_plain, "old.sa_handler == on_plain");
	ASSERT_EQ(real.sigaction(SIGUSR1, NULL, &k), 0, "real.sigaction(SIGUSR1, NULL, &k)");
	ASSERT_TRUE(k.sa_handler == SIG_IGN, "k.sa_handler == SIG_IGN");
	ASSERT_EQ(raise_and_see(SIGUSR1), SHIM_SIG_NONE, "raise_and_see");
	ASSERT_EQ(set(SIGUSR1, SIG_DFL, 0, &old), 0, "set");
	ASSERT_TRUE(old.sa_handler == SIG_IGN, "old.sa_handler == SIG_IGN");

	/* SA_RESETHAND: the kernel resets it on delivery, and we report what the kernel has. */
	ASSERT_EQ(set(SIGUSR2, on_plain, SA_RESETHAND, NULL), 0, "set");
	ASSERT_EQ(raise_and_see(SIGUSR2), SHIM_SIG_INTR, "raise_and_see");
	ASSERT_EQ(shim_sig_action(SIGUSR2, NULL, &old), 0, "shim_sig_action");
	ASSERT_TRUE(old.sa_handler == SIG_DFL, "old.sa_handler == SIG_DFL");

	/* Errors are libc's, and leave the table alone. */
	ASSERT_EQ(set(SIGUSR1, on_plain, 0, NULL), 0, "set");
	ASSERT_EQ(set(SIGKILL, on_plain, 0, NULL), -1, "set");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_EQ(set(0, on_plain, 0, NULL), -1, "set");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_EQ(set(NSIG + 5, on_plain, 0, NULL), -1, "set");
	ASSERT_EQ(errno, EINVAL, "errno");
	ASSERT_EQ(raise_and_see(SIGUSR1), SHIM_SIG_INTR, "raise_and_see");
	ASSERT_EQ(got_sig, SIGUSR1, "got_sig");
	ASSERT_EQ(set(SIGUSR1, SIG_DFL, 0, NULL), 0, "set");
}

/* What the signal()-style hooks do around libc: before, libc's call, after, old. */
static sighandler_t via_libc_signal(int sig, sighandler_t handler)
{
	struct shim_sig_call c;
	sighandler_t old;

	shim_sig_before(&c, sig);
	old = real.signal(sig, handler);
	if (old == SIG_ERR)
		return old;
	shim_sig_after(&c);
	return shim_sig_old(&c, old);
}

static int via_libc_siginterrupt(int sig, int flag)
{
	struct shim_sig_call c;
	int ret;

	shim_sig_before(&c, sig);
	ret = real.siginterrupt(sig, flag);
	if (ret == 0)
		shim_sig_after(&c);
	return ret;
}

static void on_other(int sig)
{
	got_sig = -sig;
}

static void test_libc_calls(void)
{
	struct sigaction old;

	/* signal(): BSD semantics, SA_RESTART; wrapped afterwards. */
	ASSERT_TRUE(via_libc_signal(SIGUSR2, on_plain) == SIG_DFL, "via_libc_signal");
	ASSERT_EQ(raise_and_see(SIGUSR2), SHIM_SIG_RESTART, "raise_and_see");
	ASSERT_EQ(got_sig, SIGUSR2, "got_sig");
	ASSERT_EQ(shim_sig_action(SIGUSR2, NULL, &old), 0, "shim_sig_action");
	ASSERT_TRUE(old.sa_handler == on_plain, "old.sa_handler == on_plain");
	ASSERT_EQ(old.sa_flags & (SA_RESTART | SA_SIGINFO), SA_RESTART,
		  "old.sa_flags & (SA_RESTART | SA_SIGINFO)");

	/* siginterrupt() flips SA_RESTART of the wrapped handler: the table follows. */
	ASSERT_EQ(via_libc_siginterrupt(SIGUSR2, 1), 0, "via_libc_siginterrupt");
	ASSERT_EQ(raise_and_see(SIGUSR2), SHIM_SIG_INTR, "raise_and_see");
	ASSERT_EQ(got_sig, SIGUSR2, "got_sig");
	ASSERT_EQ(via_libc_siginterrupt(SIGUSR2, 0), 0, "via_libc_siginterrupt");
	ASSERT_EQ(raise_and_see(SIGUSR2), SHIM_SIG_RESTART, "raise_and_see");

	/* Replacing it returns the application's handler, never the wrapper. */
	ASSERT_TRUE(via_libc_signal(SIGUSR2, on_other) == on_plain, "via_libc_signal");
	ASSERT_EQ(raise_and_see(SIGUSR2), SHIM_SIG_RESTART, "raise_and_see");
	ASSERT_EQ(got_sig, -SIGUSR2, "got_sig");
	ASSERT_TRUE(via_libc_signal(SIGUSR2, SIG_DFL) == on_other, "via_libc_signal");
	ASSERT_TRUE(via_libc_signal(-3, on_plain) == SIG_ERR, "via_libc_signal");
}

/* --- the read fixups with the wrapper ---------------------------------------------------- */

/*
 * The sockmap's answer to a signal: the handler runs (delivered before the call returns,
 * as the kernel does on the way out of recvmsg), then -1/EAGAIN. Then real reads.
 */
struct sigfake {
	int fd;
	int signals; /* calls that "were interrupted" */
	int calls;
};

static ssize_t sigfake_read(void *ctx, struct iovec *iov, int iovcnt, int flags)
{
	struct sigfake *f = ctx;

	f->calls++;
	if (f->signals > 0) {
		f->signals--;
		pthread_kill(pthread_self(), SIGUSR1);
		errno = EAGAIN;
		return -1;
	}
	return recv(f->fd, iov[0].iov_base, iov[0].iov_len, flags & ~MSG_WAITALL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct later {
	pthread_t thread;
	int fd;
	int delay_ms;
};

static void *later_send(void *p)
{
	struct later *l = p;
	struct timespec ts = { .tv_nsec = l->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	if (send(l->fd, "late", 4, 0) < 0)
		perror("send");
	return NULL;
}

static void set_rcvtimeo(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void test_read_signals(void)
{
	struct later l = { 0 };
	char buf[64];
	struct sigfake f;
	struct iovec iov = { buf, sizeof(buf) };
	int sv[2];
	long t0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	shim_fd_set(sv[0], SHIM_FD_REGISTERED);

	/* No SA_RESTART: EINTR at once, although poll() never saw the signal. */
	set(SIGUSR1, on_plain, 0, NULL);
	f = (struct sigfake){ .fd = sv[0], .signals = 1 };
	t0 = now_ms();
	ASSERT_EQ(shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f), -1,
		  "shim_read_blocking");
	ASSERT_EQ(errno, EINTR, "errno");
	ASSERT_EQ(f.calls, 1, "f.calls");
	ASSERT_TRUE(now_ms() - t0 < 500, "now_ms");

	/* SA_RESTART: the call goes on and returns the data that comes later. */
	set(SIGUSR1, on_plain, SA_RESTART, NULL);
	f = (struct sigfake){ .fd = sv[0], .signals = 1 };
	l = (struct later){ .fd = sv[1], .delay_ms = 100 };
	pthread_create(&l.thread, NULL, later_send, &l);
	ASSERT_EQ(shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f), 4, "shim_read_blocking");
	pthread_join(l.thread, NULL);

	/* SA_RESTART with SO_RCVTIMEO: TCP says EINTR anyway. */
	set_rcvtimeo(sv[0], 2000);
	f = (struct sigfake){ .fd = sv[0], .signals = 1 };
	ASSERT_EQ(shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f), -1,
		  "shim_read_blocking");
	ASSERT_EQ(errno, EINTR, "errno");
	/* ... and SO_RCVTIMEO is still honoured without a signal. */
	set_rcvtimeo(sv[0], 150);
	f = (struct sigfake){ .fd = sv[0] };
	ASSERT_EQ(shim_read_blocking(sv[0], &iov, 1, MSG_WAITALL, sigfake_read, &f), -1,
		  "shim_read_blocking");
	ASSERT_EQ(errno, EAGAIN, "errno");
	set_rcvtimeo(sv[0], 0);

	set(SIGUSR1, SIG_DFL, 0, NULL);
	close(sv[0]);
	close(sv[1]);
	shim_fd_clear(sv[0]);
}

/* The sockmap path ignores MSG_TRUNC (copies) and says 0 at once to a zero-length read. */
static ssize_t sockmap_read(void *ctx, struct iovec *iov, int iovcnt, int flags)
{
	int fd = *(int *)ctx;

	if (!iov[0].iov_len)
		return 0;
	return recv(fd, iov[0].iov_base, iov[0].iov_len, flags & ~(MSG_WAITALL | MSG_TRUNC));
}

static ssize_t rcv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = { buf, len };

	return shim_recv_blocking(fd, &iov, 1, flags, sockmap_read, &fd);
}

static void test_trunc_zero(void)
{
	static char big[10000];
	char buf[16];
	int sv[2];
	long t0;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	shim_fd_set(sv[0], SHIM_FD_REGISTERED);
	memset(big, 'x', sizeof(big));
	big[7000] = 'A';

	/* MSG_PEEK|MSG_TRUNC counts (past one stack chunk), MSG_TRUNC discards; NULL buffer. */
	ASSERT_EQ(send(sv[1], big, sizeof(big), 0), 10000, "send");
	ASSERT_FALSE(shim_recv_needs_fixup(sv[1], MSG_TRUNC, &(struct iovec){ NULL, 1 }, 1),
		     "shim_recv_needs_fixup");
	ASSERT_TRUE(
	    shim_recv_needs_fixup(sv[0], MSG_TRUNC | MSG_DONTWAIT, &(struct iovec){ NULL, 1 }, 1),
	    "shim_recv_needs_fixup");
	errno = 55;
	ASSERT_EQ(rcv(sv[0], NULL, 65536, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT), 10000, "rcv");
	ASSERT_EQ(errno, 55, "errno");
	ASSERT_EQ(rcv(sv[0], NULL, 7000, MSG_TRUNC), 7000, "rcv");
	ASSERT_EQ(rcv(sv[0], buf, 1, 0), 1, "rcv");
	ASSERT_EQ(buf[0], 'A', "buf[0]");
	/* More asked than queued: what is there, without waiting for the rest. */
	ASSERT_EQ(rcv(sv[0], NULL, 65536, MSG_TRUNC), 2999, "rcv");
	ASSERT_EQ(rcv(sv[0], NULL, 100, MSG_TRUNC | MSG_DONTWAIT), -1, "rcv");
	ASSERT_EQ(errno, EAGAIN, "errno");

	/* Zero-length recv: 0 at once with data or EOF; on empty, EAGAIN or a wait for it. */
	ASSERT_TRUE(shim_recv_needs_fixup(sv[0], MSG_DONTWAIT, &(struct iovec){ buf, 0 }, 1),
		    "shim_recv_needs_fixup");
	ASSERT_FALSE(shim_recv_needs_fixup(sv[0], MSG_DONTWAIT, &(struct iovec){ buf, 1 }, 1),
		     "shim_recv_needs_fixup");
	ASSERT_EQ(rcv(sv[0], buf, 0, MSG_DONTWAIT), -1, "rcv");
	ASSERT_EQ(errno, EAGAIN, "errno");
	set_rcvtimeo(sv[0], 150);
	t0 = now_ms();
	errno = 66;
	ASSERT_EQ(rcv(sv[0], buf, 0, 0), 0, "rcv");
	ASSERT_EQ(errno, 66, "errno");
	ASSERT_TRUE(now_ms() - t0 >= 140, "now_ms");
	ASSERT_EQ(send(sv[1], "abc", 3, 0), 3, "send");
	t0 = now_ms();
	ASSERT_EQ(rcv(sv[0], buf, 0, 0), 0, "rcv");
	ASSERT_EQ(rcv(sv[0], buf, 0, MSG_DONTWAIT), 0, "rcv");
	ASSERT_TRUE(now_ms() - t0 < 100, "now_ms");
	ASSERT_EQ(rcv(sv[0], buf, sizeof(buf), 0), 3, "rcv");
	shutdown(sv[1], SHUT_WR);
	ASSERT_EQ(rcv(sv[0], buf, 0, MSG_DONTWAIT), 0, "rcv");
	close(sv[0]);
	close(sv[1]);
	shim_fd_clear(sv[0]);
}

int main(void)
{
	shim_real_init();
	if (shim_fdtab_init() < 0 || !real.sigaction)
		return 1;
	test_action();
	test_libc_calls();
	test_read_signals();
	test_trunc_zero();
	return skt_summary();
}
