// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The table of real libc functions behind the hooks, filled lazily with dlsym(RTLD_NEXT). */
#include <dlfcn.h>

#include "shim/real.h"

struct shim_real real;

void shim_real_init(void)
{
	/*
	 * No lock and no pthread_once: this may run before our constructor and inside any
	 * thread. Every thread computes the same pointers, so racing stores are harmless; each
	 * is one aligned pointer-sized atomic store. dlsym() itself calls none of our hooks.
	 */
#define SHIM_REAL_RESOLVE(ret, name, params)                                         \
	if (!real.name)                                                              \
		__atomic_store_n(&real.name, (ret(*) params)dlsym(RTLD_NEXT, #name), \
				 __ATOMIC_RELAXED);
	SHIM_HOOKED_CALLS(SHIM_REAL_RESOLVE)
#undef SHIM_REAL_RESOLVE
}
