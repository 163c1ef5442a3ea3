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

#include "test_shim_check.h"

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
	CHECK_EQ(0, set(SIGUSR1, on_plain, 0, NULL));
	CHECK_EQ(0, real.sigaction(SIGUSR1, NULL, &k));
	CHECK_EQ(false, k.sa_handler == on_plain);
	CHECK_EQ(SA_SIGINFO, k.sa_flags & SA_SIGINFO);
	CHECK_EQ(0, shim_sig_action(SIGUSR1, NULL, &old));
	CHECK_EQ(true, old.sa_handler == on_plain);
	CHECK_EQ(0, old.sa_flags & (SA_SIGINFO | SA_RESTART));

	/* Called with its own signature; errno as the interrupted code left it; counted. */
	errno = 1234;
	CHECK_EQ(SHIM_SIG_INTR, raise_and_see(SIGUSR1));
	CHECK_EQ(SIGUSR1, got_sig);
	CHECK_EQ(1234, handler_errno);
	CHECK_EQ(1234, errno);

	/* SA_RESTART counts apart; the old action is the previous handler. */
	CHECK_EQ(0, set(SIGUSR1, on_plain, SA_RESTART, &old));
	CHECK_EQ(true, old.sa_handler == on_plain);
	CHECK_EQ(0, old.sa_flags & SA_RESTART);
	CHECK_EQ(SHIM_SIG_RESTART, raise_and_see(SIGUSR1));

	/* SA_SIGINFO: siginfo and context reach the handler; the flag reads back. */
	sa = (struct sigaction){ .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
	CHECK_EQ(0, shim_sig_action(SIGUSR1, &sa, &old));
	CHECK_EQ(SA_RESTART, old.sa_flags & (SA_RESTART | SA_SIGINFO));
	got_code = 0;
	CHECK_EQ(SHIM_SIG_INTR, raise_and_see(SIGUSR1));
	CHECK_EQ(SIGUSR1, got_sig);
	CHECK_EQ(SI_TKILL, got_code);
	CHECK_EQ(1, got_uc);
	/* act and old may be one struct. */
	sa = (struct sigaction){ .sa_handler = on_plain };
	CHECK_EQ(0, shim_sig_action(SIGUSR1, &sa, &sa));
	CHECK_EQ(true, sa.sa_sigaction == on_info);
	CHECK_EQ(SA_SIGINFO, sa.sa_flags & SA_SIGINFO);

	/* SIG_IGN and SIG_DFL are installed as they are. */
	CHECK_EQ(0, set(SIGUSR1, SIG_IGN, 0, &old));
	CHECK_EQ(true, old.sa_handler == on_plain);
	CHECK_EQ(0, real.sigaction(SIGUSR1, NULL, &k));
	CHECK_EQ(true, k.sa_handler == SIG_IGN);
	CHECK_EQ(SHIM_SIG_NONE, raise_and_see(SIGUSR1));
	CHECK_EQ(0, set(SIGUSR1, SIG_DFL, 0, &old));
	CHECK_EQ(true, old.sa_handler == SIG_IGN);

	/* SA_RESETHAND: the kernel resets it on delivery, and we report what the kernel has. */
	CHECK_EQ(0, set(SIGUSR2, on_plain, SA_RESETHAND, NULL));
	CHECK_EQ(SHIM_SIG_INTR, raise_and_see(SIGUSR2));
	CHECK_EQ(0, shim_sig_action(SIGUSR2, NULL, &old));
	CHECK_EQ(true, old.sa_handler == SIG_DFL);

	/* Errors are libc's, and leave the table alone. */
	CHECK_EQ(0, set(SIGUSR1, on_plain, 0, NULL));
	CHECK_EQ(-1, set(SIGKILL, on_plain, 0, NULL));
	CHECK_EQ(EINVAL, errno);
	CHECK_EQ(-1, set(0, on_plain, 0, NULL));
	CHECK_EQ(EINVAL, errno);
	CHECK_EQ(-1, set(NSIG + 5, on_plain, 0, NULL));
	CHECK_EQ(EINVAL, errno);
	CHECK_EQ(SHIM_SIG_INTR, raise_and_see(SIGUSR1));
	CHECK_EQ(SIGUSR1, got_sig);
	CHECK_EQ(0, set(SIGUSR1, SIG_DFL, 0, NULL));
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
	CHECK_EQ(true, via_libc_signal(SIGUSR2, on_plain) == SIG_DFL);
	CHECK_EQ(SHIM_SIG_RESTART, raise_and_see(SIGUSR2));
	CHECK_EQ(SIGUSR2, got_sig);
	CHECK_EQ(0, shim_sig_action(SIGUSR2, NULL, &old));
	CHECK_EQ(true, old.sa_handler == on_plain);
	CHECK_EQ(SA_RESTART, old.sa_flags & (SA_RESTART | SA_SIGINFO));

	/* siginterrupt() flips SA_RESTART of the wrapped handler: the table follows. */
	CHECK_EQ(0, via_libc_siginterrupt(SIGUSR2, 1));
	CHECK_EQ(SHIM_SIG_INTR, raise_and_see(SIGUSR2));
	CHECK_EQ(SIGUSR2, got_sig);
	CHECK_EQ(0, via_libc_siginterrupt(SIGUSR2, 0));
	CHECK_EQ(SHIM_SIG_RESTART, raise_and_see(SIGUSR2));

	/* Replacing it returns the application's handler, never the wrapper. */
	CHECK_EQ(true, via_libc_signal(SIGUSR2, on_other) == on_plain);
	CHECK_EQ(SHIM_SIG_RESTART, raise_and_see(SIGUSR2));
	CHECK_EQ(-SIGUSR2, got_sig);
	CHECK_EQ(true, via_libc_signal(SIGUSR2, SIG_DFL) == on_other);
	CHECK_EQ(true, via_libc_signal(-3, on_plain) == SIG_ERR);
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
	CHECK_EQ(-1, shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f));
	CHECK_EQ(EINTR, errno);
	CHECK_EQ(1, f.calls);
	CHECK_EQ(true, now_ms() - t0 < 500);

	/* SA_RESTART: the call goes on and returns the data that comes later. */
	set(SIGUSR1, on_plain, SA_RESTART, NULL);
	f = (struct sigfake){ .fd = sv[0], .signals = 1 };
	l = (struct later){ .fd = sv[1], .delay_ms = 100 };
	pthread_create(&l.thread, NULL, later_send, &l);
	CHECK_EQ(4, shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f));
	pthread_join(l.thread, NULL);

	/* SA_RESTART with SO_RCVTIMEO: TCP says EINTR anyway. */
	set_rcvtimeo(sv[0], 2000);
	f = (struct sigfake){ .fd = sv[0], .signals = 1 };
	CHECK_EQ(-1, shim_read_blocking(sv[0], &iov, 1, 0, sigfake_read, &f));
	CHECK_EQ(EINTR, errno);
	/* ... and SO_RCVTIMEO is still honoured without a signal. */
	set_rcvtimeo(sv[0], 150);
	f = (struct sigfake){ .fd = sv[0] };
	CHECK_EQ(-1, shim_read_blocking(sv[0], &iov, 1, MSG_WAITALL, sigfake_read, &f));
	CHECK_EQ(EAGAIN, errno);
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
	CHECK_EQ(10000, send(sv[1], big, sizeof(big), 0));
	CHECK_EQ(false, shim_recv_needs_fixup(sv[1], MSG_TRUNC, &(struct iovec){ NULL, 1 }, 1));
	CHECK_EQ(true, shim_recv_needs_fixup(sv[0], MSG_TRUNC | MSG_DONTWAIT,
					     &(struct iovec){ NULL, 1 }, 1));
	errno = 55;
	CHECK_EQ(10000, rcv(sv[0], NULL, 65536, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT));
	CHECK_EQ(55, errno);
	CHECK_EQ(7000, rcv(sv[0], NULL, 7000, MSG_TRUNC));
	CHECK_EQ(1, rcv(sv[0], buf, 1, 0));
	CHECK_EQ('A', buf[0]);
	/* More asked than queued: what is there, without waiting for the rest. */
	CHECK_EQ(2999, rcv(sv[0], NULL, 65536, MSG_TRUNC));
	CHECK_EQ(-1, rcv(sv[0], NULL, 100, MSG_TRUNC | MSG_DONTWAIT));
	CHECK_EQ(EAGAIN, errno);

	/* Zero-length recv: 0 at once with data or EOF; on empty, EAGAIN or a wait for it. */
	CHECK_EQ(true, shim_recv_needs_fixup(sv[0], MSG_DONTWAIT, &(struct iovec){ buf, 0 }, 1));
	CHECK_EQ(false, shim_recv_needs_fixup(sv[0], MSG_DONTWAIT, &(struct iovec){ buf, 1 }, 1));
	CHECK_EQ(-1, rcv(sv[0], buf, 0, MSG_DONTWAIT));
	CHECK_EQ(EAGAIN, errno);
	set_rcvtimeo(sv[0], 150);
	t0 = now_ms();
	errno = 66;
	CHECK_EQ(0, rcv(sv[0], buf, 0, 0));
	CHECK_EQ(66, errno);
	CHECK_EQ(true, now_ms() - t0 >= 140);
	CHECK_EQ(3, send(sv[1], "abc", 3, 0));
	t0 = now_ms();
	CHECK_EQ(0, rcv(sv[0], buf, 0, 0));
	CHECK_EQ(0, rcv(sv[0], buf, 0, MSG_DONTWAIT));
	CHECK_EQ(true, now_ms() - t0 < 100);
	CHECK_EQ(3, rcv(sv[0], buf, sizeof(buf), 0));
	shutdown(sv[1], SHUT_WR);
	CHECK_EQ(0, rcv(sv[0], buf, 0, MSG_DONTWAIT));
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
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
