/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Finding libskaccel.so and composing LD_PRELOAD for the command skaccel-run starts. */
#ifndef SKRUN_PRELOAD_H
#define SKRUN_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

#define SKRUN_LIB_NAME "libskaccel.so"
#define SKRUN_LIB_CANDIDATES 3

/*
 * Where to look for the library, given the directory holding skaccel-run: next to it (the
 * build tree), PREFIX/lib (PREFIX/bin/skaccel-run), PREFIX/lib/skaccel. Fills out[] with
 * paths of at most len bytes each; returns how many (those that fit).
 */
int skrun_lib_candidates(const char *exe_dir, char out[][4096], size_t len);

/*
 * Pick the library: opt_lib (--lib) if set, else env_lib ($SKACCEL_LIB) if set, else the
 * first candidate usable() accepts. An explicit path is used as given (usable() decides);
 * 0 with the choice in out, -ENOENT if nothing was found, or -errno from usable() for
 * an explicit path, -ENAMETOOLONG if it does not fit.
 */
int skrun_find_lib(const char *opt_lib, const char *env_lib, const char *exe_dir,
		   int (*usable)(const char *path), char *out, size_t len);

/*
 * The new LD_PRELOAD: the entries of existing (ld.so separates them by spaces or colons)
 * in their order, minus empty ones and any other libskaccel.so (two shims would register
 * every connection twice), then lib. Returns a malloc'd string, NULL if out of memory.
 */
char *skrun_preload_compose(const char *existing, const char *lib);

#endif /* SKRUN_PRELOAD_H */
