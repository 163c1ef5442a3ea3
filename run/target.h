/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* What skaccel-run checks about the command before it runs it: can a library be preloaded? */
#ifndef SKRUN_TARGET_H
#define SKRUN_TARGET_H

#include <stddef.h>

/* Find cmd the way execvp() does (PATH, or as given if it contains a '/'); 0 or -errno. */
int skrun_resolve_cmd(const char *cmd, const char *path_env, char *out, size_t len);

enum skrun_elf {
	SKRUN_NOT_ELF,	   /* a script or anything else: its interpreter decides */
	SKRUN_ELF_DYNAMIC, /* has PT_INTERP: ld.so runs it and honours LD_PRELOAD */
	SKRUN_ELF_STATIC,  /* no PT_INTERP (static or static-pie): nothing can be preloaded */
};

/* Classify the file at path; *elf_class is ELFCLASS32/64 for ELF files. 0 or -errno. */
int skrun_elf_kind(const char *path, enum skrun_elf *kind, int *elf_class);

/*
 * Why ld.so would run path in secure mode and ignore LD_PRELOAD, as a predicate for
 * "<path> ...": "is set-user-ID", "is set-group-ID" (to someone else), "has file
 * capabilities"; NULL if it would not.
 */
const char *skrun_secure_reason(const char *path);

#endif /* SKRUN_TARGET_H */
