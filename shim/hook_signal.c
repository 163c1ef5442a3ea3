// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The sigaction() hook and the hooks of libc's other ways to set a handler. Handlers go
 * through the counting wrapper of sigwrap.c, so that a read fixup can tell a signal from
 * a spurious wake-up (readfix.c). Before init and when the shim is disabled: libc alone.
 */
#include <signal.h>

#include "shim/init.h"
#include "shim/real.h"
#include "shim/sigwrap.h"

SHIM_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!SHIM_REAL_READY(sigaction))
		return shim_enosys();
	if (!shim_active())
		return real.sigaction(sig, act, old);
	return shim_sig_action(sig, act, old);
}

/*
 * signal() and friends call libc's internal sigaction, not ours: let libc do exactly what
 * it does (BSD or SysV semantics, siginterrupt()'s memory, sigset()'s mask), then wrap
 * the handler it installed. A signal arriving in between runs the handler unwrapped: it is
 * not counted, which matters only to a read blocked at that moment on another thread.
 */
#define SHIM_SIGNAL_HOOK(name)                                       \
	SHIM_EXPORT sighandler_t name(int sig, sighandler_t handler) \
	{                                                            \
		struct shim_sig_call c;                              \
		sighandler_t old;                                    \
                                                                     \
		if (!SHIM_REAL_READY(name) || !real.sigaction) {     \
			shim_enosys();                               \
			return SIG_ERR;                              \
		}                                                    \
		if (!shim_active())                                  \
			return real.name(sig, handler);              \
		shim_sig_before(&c, sig);                            \
		old = real.name(sig, handler);                       \
		if (old == SIG_ERR)                                  \
			return old;                                  \
		shim_sig_after(&c);                                  \
		return shim_sig_old(&c, old);                        \
	}

/* glibc's signal(), bsd_signal() and ssignal() are one function; so are the two SysV ones. */
SHIM_SIGNAL_HOOK(signal)
SHIM_SIGNAL_HOOK(bsd_signal)
SHIM_SIGNAL_HOOK(ssignal)
SHIM_SIGNAL_HOOK(sysv_signal)
/* What signal() is in a program built with a strict -std=c99 and no feature macro. */
SHIM_SIGNAL_HOOK(__sysv_signal)
/* sigset(sig, SIG_HOLD) only blocks sig; returns SIG_HOLD if it was blocked. */
SHIM_SIGNAL_HOOK(sigset)

/* Keeps the handler and flips its SA_RESTART: the table must follow the flag. */
SHIM_EXPORT int siginterrupt(int sig, int flag)
{
	struct shim_sig_call c;
	int ret;

	if (!SHIM_REAL_READY(siginterrupt) || !real.sigaction)
		return shim_enosys();
	if (!shim_active())
		return real.siginterrupt(sig, flag);
	shim_sig_before(&c, sig);
	ret = real.siginterrupt(sig, flag);
	if (ret == 0)
		shim_sig_after(&c);
	return ret;
}
