// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The library constructor. Kept out of the pure files so unit tests, which link those,
 * set the shim up only when they ask for it.
 */
#include "shim/init.h"

__attribute__((constructor)) static void shim_constructor(void)
{
	shim_active();
}
