// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Signals to a blocked recv or send: EINTR, or restarted with SA_RESTART. */
#include "tests/progs/semx_check/semx_check.h"

static _Atomic int g_signals;

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_signals, 1);
}

/* A thread blocked in one recv() or send() whose outcome the main thread inspects. */
struct blocked {
	int fd;
	bool is_send;
	uint8_t *buf;
	size_t len;
	_Atomic pid_t tid;
	ssize_t ret;
	int err;
	_Atomic bool done;
};

static void *blocked_run(void *arg)
{
	struct blocked *b = arg;

	atomic_store(&b->tid, (pid_t)syscall(SYS_gettid));
	if (b->is_send)
		b->ret = send(b->fd, b->buf, b->len, MSG_NOSIGNAL);
	else
		b->ret = recv(b->fd, b->buf, b->len, 0);
	b->err = errno;
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * Wait until thread tid sleeps in system call nr (/proc/self/task/TID/syscall names the
 * call a thread is in, stat its state): only then is a signal sure to interrupt that call
 * rather than arrive before it. Not after "sleeping" alone: the shim may sleep elsewhere.
 */
static void wait_in_syscall(pid_t tid, long nr, const char *what)
{
	uint64_t t0 = now_ns();
	char path[64], line[256];

	for (;;) {
		long cur = -1;
		char state = '?';
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(line, sizeof(line), f))
				cur = strtol(line, NULL, 10);
			fclose(f);
		}
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		f = fopen(path, "r");
		if (f) {
			if (fgets(line, sizeof(line), f) && strrchr(line, ')'))
				state = strrchr(line, ')')[2];
			fclose(f);
		}
		if (cur == nr && state == 'S')
			return;
		CHECK(ms_since(t0) < WAIT_MS,
		      "%s: thread never slept in system call %ld "
		      "(last: %ld, state %c)",
		      what, nr, cur, state);
		sleep_us(1000);
	}
}

/* A SIGUSR1 handler counting signals, with or without SA_RESTART; returns the old action. */
static struct sigaction count_signals(bool restart)
{
	struct sigaction sa = { .sa_handler = count_signal }, old;

	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	CHECK_SYS(!sigaction(SIGUSR1, &sa, &old), "sigaction");
	atomic_store(&g_signals, 0);
	return old;
}

/* Start a thread blocked in one call, and signal it once it sleeps in that system call. */
static void block_and_signal(pthread_t *th, struct blocked *b, long nr, const char *what)
{
	CHECK(!pthread_create(th, NULL, blocked_run, b), "pthread_create failed");
	while (!atomic_load(&b->tid))
		sleep_us(100);
	wait_in_syscall(atomic_load(&b->tid), nr, what);
	CHECK(!pthread_kill(*th, SIGUSR1), "pthread_kill failed");
}

/*
 * A signal whose handler has no SA_RESTART interrupts a recv() blocked on an empty socket:
 * -1/EINTR at once. With SA_RESTART the call goes on and returns the data that comes
 * later. (No receive timeout is set: with one, TCP reports EINTR even under SA_RESTART.)
 */
void run_eintr_recv(struct rng *r)
{
	bool restart = atomic_load(&g_iter) % 2; /* both kinds in every run */
	struct sigaction old = count_signals(restart);
	struct vstream w, rd;
	struct blocked b;
	uint8_t *buf = malloc(64 * KIB);
	int c, s, rfd, wfd;
	pthread_t th;
	uint64_t t0;

	CHECK(buf, "out of memory");
	test_pair(&c, &s);
	rfd = rng_chance(r, 50) ? c : s;
	wfd = rfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "after the signal");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "after the signal");
	set_phase(restart ? "SA_RESTART signal to a blocked recv" : "signal to a blocked recv");
	b = (struct blocked){ .fd = rfd, .buf = buf, .len = 64 * KIB };
	block_and_signal(&th, &b, SYS_recvfrom, "recv");
	t0 = now_ns();
	if (!restart) {
		while (!atomic_load(&b.done) && ms_since(t0) < 2000)
			sleep_us(1000);
		CHECK(atomic_load(&b.done),
		      "recv() still blocked 2 s after a signal whose handler has no "
		      "SA_RESTART (%d delivered); plain TCP returns -1/EINTR at once",
		      atomic_load(&g_signals));
		CHECK(b.ret < 0 && b.err == EINTR,
		      "recv() interrupted by a signal without SA_RESTART returned %s; plain "
		      "TCP gives -1/EINTR",
		      RES(b.ret, b.err));
		obs("blocked recv, signal without SA_RESTART: %s", RES(b.ret, b.err));
	} else {
		sleep_us(100000);
		CHECK(!atomic_load(&b.done),
		      "recv() returned %s after a signal with SA_RESTART; plain TCP "
		      "restarts it and keeps waiting for data",
		      RES(b.ret, b.err));
		send_stream(wfd, &w, rng_logsize(r, 1, 32 * KIB), r);
		while (!atomic_load(&b.done) && ms_since(t0) < WAIT_MS)
			sleep_us(1000);
		CHECK(atomic_load(&b.done), "recv() restarted after a signal never returned the "
					    "data sent later");
		CHECK(b.ret > 0, "restarted recv() returned %s; plain TCP returns the data",
		      RES(b.ret, b.err));
		rd.total = w.off;
		vs_check(&rd, buf, (size_t)b.ret);
		recv_exact(rfd, &rd, "the rest after the restarted recv");
		obs("blocked recv, signal with SA_RESTART: restarted, returned the data");
	}
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	CHECK(atomic_load(&g_signals) == 1, "%d signals delivered, sent 1",
	      atomic_load(&g_signals));
	sigaction(SIGUSR1, &old, NULL);
	free(buf);
	close(c);
	close(s);
}

/*
 * A send() blocked on a full buffer (the reader reads nothing) and interrupted by a
 * signal returns the partial count it had accepted, with or without SA_RESTART; exactly
 * those bytes arrive.
 */
void run_eintr_send(struct rng *r)
{
	struct sigaction old = count_signals(rng_chance(r, 50));
	size_t big = 64 * MIB;
	uint8_t *sb = malloc(big);
	struct vstream w, rd;
	struct blocked b;
	int c, s, rfd, wfd;
	pthread_t th;
	uint64_t t0;

	CHECK(sb, "out of memory");
	test_pair(&c, &s);
	wfd = rng_chance(r, 50) ? c : s;
	rfd = wfd == c ? s : c;
	vs_init(&w, g_opt.key, stream_id(1), UINT64_MAX, "interrupted send");
	vs_init(&rd, g_opt.key, stream_id(1), 0, "interrupted send");
	set_phase("signal to a blocked send");
	pat_fill(w.base, 0, sb, big);
	b = (struct blocked){ .fd = wfd, .is_send = true, .buf = sb, .len = big };
	block_and_signal(&th, &b, SYS_sendto, "send");
	t0 = now_ns();
	while (!atomic_load(&b.done) && ms_since(t0) < 2000)
		sleep_us(1000);
	CHECK(atomic_load(&b.done), "send() still blocked 2 s after a signal; plain TCP "
				    "returns the partial count at once");
	CHECK(b.ret > 0 && (size_t)b.ret < big,
	      "blocked send() of %zu bytes interrupted by a signal returned %s; plain TCP "
	      "returns the bytes it accepted",
	      big, RES(b.ret, b.err));
	CHECK(!pthread_join(th, NULL), "pthread_join failed");
	w.off += (uint64_t)b.ret;
	rd.total = w.off;
	recv_exact(rfd, &rd, "what the interrupted send accepted");
	CHECK(fionread(rfd) == 0, "SIOCINQ %d after the accepted bytes", fionread(rfd));
	obs("blocked send, signal: a partial count, and exactly those bytes arrived");
	sigaction(SIGUSR1, &old, NULL);
	free(sb);
	close(c);
	close(s);
}
