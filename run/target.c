// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Checks on the command skaccel-run is about to exec. They only ever produce warnings: the
 * command runs regardless, and where the shim cannot be loaded it simply uses plain TCP.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "run/target.h"

static int check_exec(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EACCES;
	return access(path, X_OK) == 0 ? 0 : -errno;
}

int skrun_resolve_cmd(const char *cmd, const char *path_env, char *out, size_t len)
{
	const char *p, *end;
	int ret = -ENOENT, r;

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/')) {
		if (strlen(cmd) >= len)
			return -ENAMETOOLONG;
		strcpy(out, cmd);
		return check_exec(cmd);
	}
	/* execvp()'s default when PATH is unset. */
	if (!path_env)
		path_env = "/bin:/usr/bin";
	for (p = path_env;; p = end + 1) {
		size_t dlen;
		int w;

		end = strchrnul(p, ':');
		dlen = (size_t)(end - p);
		/* An empty element means the current directory. */
		w = dlen ? snprintf(out, len, "%.*s/%s", (int)dlen, p, cmd)
			 : snprintf(out, len, "%s", cmd);
		if (w > 0 && (size_t)w < len) {
			r = check_exec(out);
			if (r == 0)
				return 0;
			if (r == -EACCES)
				ret = r; /* like execvp: remember a permission problem */
		}
		if (!*end)
			break;
	}
	return ret;
}

int skrun_elf_kind(const char *path, enum skrun_elf *kind, int *elf_class)
{
	unsigned char ident[EI_NIDENT];
	int fd, ret = 0, i, phnum;
	off_t phoff;
	size_t phentsize;

	*kind = SKRUN_NOT_ELF;
	*elf_class = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, ident, sizeof(ident), 0) != (ssize_t)sizeof(ident) ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0)
		goto out;
	*elf_class = ident[EI_CLASS];
	/* The loader runs on this host's byte order; so do we. */
	if (ident[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		phoff = (off_t)eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
	} else if (ident[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			goto out;
		phoff = (off_t)eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
	} else {
		goto out;
	}
	*kind = SKRUN_ELF_STATIC;
	for (i = 0; i < phnum && i < 4096; i++) {
		uint32_t type;

		/* p_type is the first 32-bit word of both Elf32_Phdr and Elf64_Phdr. */
		if (pread(fd, &type, sizeof(type), phoff + (off_t)i * (off_t)phentsize) !=
		    (ssize_t)sizeof(type))
			break;
		if (type == PT_INTERP) {
			*kind = SKRUN_ELF_DYNAMIC;
			break;
		}
	}
out:
	close(fd);
	return ret;
}

const char *skrun_secure_reason(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return "is set-user-ID";
	/* Set-group-ID without group execute is the mandatory-locking marker, not setgid. */
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && st.st_gid != getegid())
		return "is set-group-ID";
	/* Root has every capability already: exec'ing it gains none, no secure mode. */
	if (geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0)
		return "has file capabilities";
	return NULL;
}
