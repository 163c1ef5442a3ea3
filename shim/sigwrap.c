// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The signal-handler wrapper and its table. The kernel sees one handler, wrapper(), for
 * every signal the application handles; the table holds the application's own handler and
 * flags. wrapper() counts the handlers that ran on its thread (the read fixup asks whether
 * one without SA_RESTART ran while it waited) and calls the application's handler with its
 * own signature. sigaction() reads back the application's handler and flags, never ours.
 */
#include <errno.h>
#include <pthread.h>

#include "shim/real.h"
#include "shim/sigwrap.h"

/* One application handler, either signature (SA_SIGINFO says which). */
union app_fn {
	void (*handler)(int);
	void (*action)(int, siginfo_t *, void *);
};

struct app_action {
	union app_fn fn;
	int flags; /* the application's sa_flags */
};

/*
 * Two slots per signal and an index: a writer fills the slot not in use, then flips the
 * index (release), so a wrapper running on another thread, or interrupting the writer on
 * its own thread, always reads a whole action. Writers are serialised by table_lock,
 * taken with every signal blocked: a handler that calls signal() itself (the SysV idiom)
 * must not interrupt a writer on the same thread and wait for the lock it holds. The
 * wrapper never takes the lock.
 */
static struct {
	struct app_action slot[2];
	unsigned int cur;
} table[NSIG];

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Per thread: a handler runs on the thread it interrupts, the one blocked in the read.
 * initial-exec: the library is preloaded, so its TLS is static and no access can allocate
 * (the general-dynamic model may call malloc on a thread's first access, not in a handler).
 */
static __thread struct shim_sig_count counts __attribute__((tls_model("initial-exec")));

static struct app_action current(int sig)
{
	unsigned int i = __atomic_load_n(&table[sig].cur, __ATOMIC_ACQUIRE) & 1;
	struct app_action a;

	a.fn.handler = __atomic_load_n(&table[sig].slot[i].fn.handler, __ATOMIC_RELAXED);
	a.flags = __atomic_load_n(&table[sig].slot[i].flags, __ATOMIC_RELAXED);
	return a;
}

static void publish(int sig, void (*handler)(int), int flags)
{
	unsigned int next = !__atomic_load_n(&table[sig].cur, __ATOMIC_RELAXED);

	__atomic_store_n(&table[sig].slot[next].fn.handler, handler, __ATOMIC_RELAXED);
	__atomic_store_n(&table[sig].slot[next].flags, flags, __ATOMIC_RELAXED);
	__atomic_store_n(&table[sig].cur, next, __ATOMIC_RELEASE);
}

static void wrapper(int sig, siginfo_t *info, void *uc)
{
	struct app_action a = current(sig);

	__atomic_fetch_add((a.flags & SA_RESTART) ? &counts.restart : &counts.intr, 1,
			   __ATOMIC_RELAXED);
	if (a.fn.handler == SIG_DFL || a.fn.handler == SIG_IGN)
		return; /* cannot happen: only real handlers are published before we install */
	if (a.flags & SA_SIGINFO)
		a.fn.action(sig, info, uc);
	else
		a.fn.handler(sig);
}

/* What the kernel holds when it holds our wrapper, as sa_handler. */
static bool is_wrapper(void (*handler)(int))
{
	union app_fn w = { .action = wrapper };

	return handler == w.handler;
}

static bool is_handler(void (*handler)(int))
{
	return handler != SIG_DFL && handler != SIG_IGN && handler != SIG_ERR;
}

static void table_lock_take(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	pthread_mutex_lock(&table_lock);
}

static void table_lock_drop(const sigset_t *saved)
{
	pthread_mutex_unlock(&table_lock);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

void shim_sig_count_now(struct shim_sig_count *c)
{
	c->restart = __atomic_load_n(&counts.restart, __ATOMIC_RELAXED);
	c->intr = __atomic_load_n(&counts.intr, __ATOMIC_RELAXED);
}

enum shim_sig_ran shim_sig_since(const struct shim_sig_count *c)
{
	struct shim_sig_count now;

	shim_sig_count_now(&now);
	if (now.intr != c->intr)
		return SHIM_SIG_INTR;
	if (now.restart != c->restart)
		return SHIM_SIG_RESTART;
	return SHIM_SIG_NONE;
}

/* The kernel's old action as the application set it: its handler, its SA_SIGINFO. */
static void app_view(struct sigaction *old, const struct app_action *app)
{
	if (!is_wrapper(old->sa_handler))
		return;
	old->sa_handler = app->fn.handler;
	old->sa_flags = (old->sa_flags & ~SA_SIGINFO) | (app->flags & SA_SIGINFO);
}

int shim_sig_action(int sig, const struct sigaction *act, struct sigaction *old)
{
	bool wrap = act && is_handler(act->sa_handler);
	struct app_action prev;
	struct sigaction k;
	sigset_t saved;
	int ret, err;

	if (sig <= 0 || sig >= NSIG)
		return real.sigaction(sig, act, old); /* EINVAL from libc */
	if (wrap) {
		/* Copied first: act and old may be the same struct. */
		k = *act;
		k.sa_sigaction = wrapper;
		k.sa_flags |= SA_SIGINFO; /* the wrapper forwards siginfo to those that want it */
	}
	table_lock_take(&saved);
	prev = current(sig);
	/* Published before the kernel can call the wrapper for this action. */
	if (wrap)
		publish(sig, act->sa_handler, act->sa_flags);
	ret = real.sigaction(sig, wrap ? &k : act, old);
	err = errno;
	if (wrap && ret < 0)
		publish(sig, prev.fn.handler, prev.flags);
	else if (ret == 0 && old)
		app_view(old, &prev);
	table_lock_drop(&saved);
	errno = err;
	return ret;
}

void shim_sig_before(struct shim_sig_call *c, int sig)
{
	c->sig = sig;
	c->valid = sig > 0 && sig < NSIG;
	c->prev = c->valid ? current(sig).fn.handler : SIG_DFL;
}

void shim_sig_after(const struct shim_sig_call *c)
{
	struct app_action app;
	struct sigaction k;
	int err = errno;
	sigset_t saved;

	if (!c->valid)
		return;
	table_lock_take(&saved);
	app = current(c->sig);
	if (real.sigaction(c->sig, NULL, &k) < 0) {
		/* nothing to wrap */
	} else if (is_wrapper(k.sa_handler)) {
		/* libc kept the wrapper and changed the flags (siginterrupt): follow them. */
		publish(c->sig, app.fn.handler,
			(k.sa_flags & ~SA_SIGINFO) | (app.flags & SA_SIGINFO));
	} else if (is_handler(k.sa_handler)) {
		publish(c->sig, k.sa_handler, k.sa_flags);
		k.sa_sigaction = wrapper;
		k.sa_flags |= SA_SIGINFO;
		if (real.sigaction(c->sig, &k, NULL) < 0)
			publish(c->sig, app.fn.handler, app.flags);
	}
	table_lock_drop(&saved);
	errno = err;
}

void (*shim_sig_old(const struct shim_sig_call *c, void (*old)(int)))(int)
{
	return c->valid && is_wrapper(old) ? c->prev : old;
}

void shim_sig_atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;

	table_lock = fresh;
}
