// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The _exit() and _Exit() hooks: like exit() (hook_init.c), the kernel's closes of sockets
 * a silent helper may hold send no FIN, but no destructor runs here (reset.c).
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/real.h"
#include "shim/reset.h"

SHIM_EXPORT void _exit(int status)
{
	shim_release_held_all(); /* nothing in a vfork() child, whose fds are copies */
	if (SHIM_REAL_READY(_exit))
		real._exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

SHIM_EXPORT void _Exit(int status)
{
	shim_release_held_all();
	if (SHIM_REAL_READY(_Exit))
		real._Exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}
