/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* The signal-handler wrapper: which handlers ran on this thread, and with SA_RESTART or not. */
#ifndef SHIM_SIGWRAP_H
#define SHIM_SIGWRAP_H

#include <signal.h>
#include <stdbool.h>

/*
 * Why: on a registered socket the kernel's tcp_bpf recvmsg turns a wait interrupted by a
 * signal into -EAGAIN, not -ERESTARTSYS/-EINTR. By the time the read fixup sees EAGAIN the
 * handler has run and the kernel has forgotten the signal, so the fixup cannot tell "woken
 * by a signal" from "woken without data". Every application handler therefore runs through
 * one wrapper that counts, per thread, the handlers that ran (OpenOnload does the same).
 */

/* Handlers that ran on the calling thread, by kind; compare two snapshots. */
struct shim_sig_count {
	unsigned long restart; /* handlers with SA_RESTART */
	unsigned long intr;    /* handlers without it */
};

/* What ran between a snapshot and now. */
enum shim_sig_ran {
	SHIM_SIG_NONE,	  /* no wrapped handler */
	SHIM_SIG_RESTART, /* only handlers with SA_RESTART: TCP restarts the call */
	SHIM_SIG_INTR,	  /* a handler without SA_RESTART: TCP fails the call with EINTR */
};

void shim_sig_count_now(struct shim_sig_count *c);
enum shim_sig_ran shim_sig_since(const struct shim_sig_count *c);

/*
 * sigaction() as the application sees it: a handler is installed as the wrapper (with
 * SA_SIGINFO), SIG_DFL/SIG_IGN as they are, and every old action reads back as the
 * application's own handler and flags. Returns like sigaction(), errno included.
 */
int shim_sig_action(int sig, const struct sigaction *act, struct sigaction *old);

/*
 * libc's other ways to set a handler (signal(), sysv_signal(), sigset(), siginterrupt())
 * call its internal sigaction, which no hook sees. Their hooks call libc, then wrap what
 * it installed: shim_sig_before() remembers the application's handler (what libc reports
 * as the old one is the wrapper), shim_sig_after() wraps, shim_sig_old() translates.
 */
struct shim_sig_call {
	int sig;
	void (*prev)(int); /* the application's handler before the call, if wrapped */
	bool valid;	   /* sig is one the table covers */
};

void shim_sig_before(struct shim_sig_call *c, int sig);
void shim_sig_after(const struct shim_sig_call *c);
void (*shim_sig_old(const struct shim_sig_call *c, void (*old)(int)))(int);

/* In a fork child: the table lock may have been held by a thread that is gone. */
void shim_sig_atfork_child(void);

#endif /* SHIM_SIGWRAP_H */
