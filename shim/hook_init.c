// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The library constructor and destructor. Kept out of the pure files so unit tests, which link
 * those, set the shim up only when they ask for it.
 */
#include "shim/init.h"
#include "shim/reset.h"

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_active();
}

/* exit(): the kernel's closes of sockets a silent helper may hold send no FIN (reset.c). */
__attribute__((destructor)) static void shim_destructor(void)
{
	shim_release_held_all(); /* nothing to do if nothing was ever HELD */
}
