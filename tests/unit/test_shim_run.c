// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of skaccel-run's pure parts: LD_PRELOAD composition, library search, command
 * lookup and the checks on the command. The run/ sources are not in the unit test link
 * (the Makefile links shim/ and helperd/), so they are compiled in here.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/preload.c"
#include "run/target.c"
#include "tests/unit/skt_assert.h"

#define LIB "/opt/sk/lib/libskaccel.so"

static void check_compose(const char *existing, const char *expected)
{
	char *got = skrun_preload_compose(existing, LIB);

	ASSERT_STREQ(got, expected, "got");
	free(got);
}

static void test_compose(void)
{
	check_compose(NULL, LIB);
	check_compose("", LIB);
	check_compose("  : ", LIB);
	check_compose("/a.so", "/a.so:" LIB);
	check_compose("/a.so /b.so:/c.so", "/a.so:/b.so:/c.so:" LIB);
	check_compose(" ::/a.so::  ", "/a.so:" LIB);
	/* Never twice, and never two different copies of the shim. */
	check_compose(LIB, LIB);
	check_compose("/a.so " LIB " /b.so", "/a.so:/b.so:" LIB);
	check_compose("/build/libskaccel.so:/a.so", "/a.so:" LIB);
	check_compose("libskaccel.so", LIB);
	check_compose("/x/notlibskaccel.so", "/x/notlibskaccel.so:" LIB);
	check_compose("/x/libskaccel.so.1", "/x/libskaccel.so.1:" LIB);
	check_compose("libasan.so.8", "libasan.so.8:" LIB); /* ASan stays first */
}

/* The files "present" for the fake usable(). */
static const char *present[4];

static int fake_usable(const char *path)
{
	int i;

	for (i = 0; i < 4 && present[i]; i++)
		if (strcmp(present[i], path) == 0)
			return 0;
	return -ENOENT;
}

static void test_find_lib(void)
{
	char cand[SKRUN_LIB_CANDIDATES][4096], out[4096];

	ASSERT_EQ(skrun_lib_candidates("/usr/bin", cand, sizeof(cand[0])), 3,
		  "skrun_lib_candidates");
	ASSERT_STREQ(cand[0], "/usr/bin/libskaccel.so", "cand[0]");
	ASSERT_STREQ(cand[1], "/usr/bin/../lib/libskaccel.so", "cand[1]");
	ASSERT_STREQ(cand[2], "/usr/bin/../lib/skaccel/libskaccel.so", "cand[2]");
	ASSERT_EQ(skrun_lib_candidates("/usr/bin", cand, 10), 0,
		  "skrun_lib_candidates"); /* nothing fits */

	present[0] = "/p/bin/../lib/skaccel/libskaccel.so";
	present[1] = "/p/bin/../lib/libskaccel.so";
	present[2] = "/my/lib.so";
	present[3] = NULL;
	/* PREFIX/lib before PREFIX/lib/skaccel; next to the binary first of all. */
	ASSERT_EQ(skrun_find_lib(NULL, NULL, "/p/bin", fake_usable, out, sizeof(out)), 0,
		  "skrun_find_lib");
	ASSERT_STREQ(out, "/p/bin/../lib/libskaccel.so", "out");
	present[3] = "/p/bin/libskaccel.so";
	ASSERT_EQ(skrun_find_lib(NULL, "", "/p/bin", fake_usable, out, sizeof(out)), 0,
		  "skrun_find_lib");
	ASSERT_STREQ(out, "/p/bin/libskaccel.so", "out");
	/* --lib, then $SKACCEL_LIB, each exclusive: a missing explicit library is an error. */
	ASSERT_EQ(skrun_find_lib("/my/lib.so", "/nope.so", "/p/bin", fake_usable, out, sizeof(out)),
		  0, "skrun_find_lib");
	ASSERT_STREQ(out, "/my/lib.so", "out");
	ASSERT_EQ(skrun_find_lib(NULL, "/my/lib.so", "/p/bin", fake_usable, out, sizeof(out)), 0,
		  "skrun_find_lib");
	ASSERT_STREQ(out, "/my/lib.so", "out");
	ASSERT_EQ(skrun_find_lib(NULL, "/nope.so", "/p/bin", fake_usable, out, sizeof(out)),
		  -ENOENT, "skrun_find_lib");
	ASSERT_EQ(skrun_find_lib("/nope.so", NULL, "/p/bin", fake_usable, out, sizeof(out)),
		  -ENOENT, "skrun_find_lib");
	ASSERT_EQ(skrun_find_lib("/my/lib.so", NULL, NULL, fake_usable, out, 4), -ENAMETOOLONG,
		  "skrun_find_lib");
	ASSERT_EQ(skrun_find_lib(NULL, NULL, "/elsewhere", fake_usable, out, sizeof(out)), -ENOENT,
		  "skrun_find_lib");
	ASSERT_EQ(skrun_find_lib(NULL, NULL, NULL, fake_usable, out, sizeof(out)), -ENOENT,
		  "skrun_find_lib");
}

static void test_resolve(void)
{
	char out[4096], cwd[4096];

	ASSERT_EQ(skrun_resolve_cmd("sh", "/nonexistent:/bin", out, sizeof(out)), 0,
		  "skrun_resolve_cmd");
	ASSERT_STREQ(out, "/bin/sh", "out");
	ASSERT_EQ(skrun_resolve_cmd("sh", NULL, out, sizeof(out)), 0,
		  "skrun_resolve_cmd"); /* execvp's default */
	ASSERT_EQ(skrun_resolve_cmd("no-such-command-skaccel", "/bin:/usr/bin", out, sizeof(out)),
		  -ENOENT, "skrun_resolve_cmd");
	ASSERT_EQ(skrun_resolve_cmd("", "/bin", out, sizeof(out)), -ENOENT, "skrun_resolve_cmd");
	ASSERT_EQ(skrun_resolve_cmd("/bin/sh", "", out, sizeof(out)), 0, "skrun_resolve_cmd");
	ASSERT_EQ(skrun_resolve_cmd("/no/such", "/bin", out, sizeof(out)), -ENOENT,
		  "skrun_resolve_cmd");
	/* Found but not executable: EACCES, like execvp. */
	if (geteuid() != 0)
		ASSERT_EQ(skrun_resolve_cmd("/etc/passwd", "/bin", out, sizeof(out)), -EACCES,
			  "skrun_resolve_cmd");
	ASSERT_EQ(skrun_resolve_cmd("/etc", "/bin", out, sizeof(out)), -EACCES,
		  "skrun_resolve_cmd");
	/* An empty PATH element is the current directory. */
	if (getcwd(cwd, sizeof(cwd)) && chdir("/bin") == 0) {
		ASSERT_EQ(skrun_resolve_cmd("sh", "/nonexistent::", out, sizeof(out)), 0,
			  "skrun_resolve_cmd");
		ASSERT_STREQ(out, "sh", "out");
		ASSERT_EQ(chdir(cwd), 0, "chdir");
	}
}

/* Write a minimal ELF file: a header and, if interp, one PT_INTERP program header. */
static void write_elf(const char *path, int cls, bool interp)
{
	unsigned char buf[256] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	size_t len;

	if (cls == ELFCLASS64) {
		Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
		Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));

		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS64;
		eh->e_phoff = sizeof(*eh);
		eh->e_phentsize = sizeof(*ph);
		eh->e_phnum = 2;
		ph[0].p_type = PT_LOAD;
		ph[1].p_type = interp ? PT_INTERP : PT_NOTE;
		len = sizeof(*eh) + 2 * sizeof(*ph);
	} else {
		Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
		Elf32_Phdr *ph = (Elf32_Phdr *)(buf + sizeof(*eh));

		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS32;
		eh->e_phoff = sizeof(*eh);
		eh->e_phentsize = sizeof(*ph);
		eh->e_phnum = 1;
		ph[0].p_type = interp ? PT_INTERP : PT_LOAD;
		len = sizeof(*eh) + sizeof(*ph);
	}
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		perror(path);
	close(fd);
}

static void test_target(void)
{
	char path[64];
	enum skrun_elf kind;
	int cls;

	snprintf(path, sizeof(path), "/tmp/skaccel-test-run.%d", (int)getpid());
	ASSERT_EQ(skrun_elf_kind("/proc/self/exe", &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_ELF_DYNAMIC, "kind");
	ASSERT_EQ(cls, sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32, "cls");
	write_elf(path, ELFCLASS64, false);
	ASSERT_EQ(skrun_elf_kind(path, &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_ELF_STATIC, "kind");
	write_elf(path, ELFCLASS64, true);
	ASSERT_EQ(skrun_elf_kind(path, &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_ELF_DYNAMIC, "kind");
	write_elf(path, ELFCLASS32, true);
	ASSERT_EQ(skrun_elf_kind(path, &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_ELF_DYNAMIC, "kind");
	ASSERT_EQ(cls, ELFCLASS32, "cls");
	write_elf(path, ELFCLASS32, false);
	ASSERT_EQ(skrun_elf_kind(path, &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_ELF_STATIC, "kind");
	{
		FILE *f = fopen(path, "w");

		fputs("#!/bin/sh\nexit 0\n", f);
		fclose(f);
	}
	ASSERT_EQ(skrun_elf_kind(path, &kind, &cls), 0, "skrun_elf_kind");
	ASSERT_EQ(kind, SKRUN_NOT_ELF, "kind");
	ASSERT_EQ(skrun_elf_kind("/no/such", &kind, &cls), -ENOENT, "skrun_elf_kind");

	/* Set-user-ID to ourselves changes nothing; to someone else, ld.so goes secure. */
	ASSERT_EQ(chmod(path, 04755), 0, "chmod");
	ASSERT_TRUE(skrun_secure_reason(path) == NULL, "skrun_secure_reason");
	ASSERT_EQ(chmod(path, 02755), 0, "chmod");
	ASSERT_TRUE(skrun_secure_reason(path) == NULL, "skrun_secure_reason");
	ASSERT_EQ(chmod(path, 0755), 0, "chmod");
	if (geteuid() == 0 && chown(path, 65534, 65534) == 0) {
		ASSERT_TRUE(skrun_secure_reason(path) == NULL, "skrun_secure_reason");
		ASSERT_EQ(chmod(path, 04755), 0, "chmod");
		ASSERT_STREQ(skrun_secure_reason(path), "is set-user-ID", "skrun_secure_reason");
		ASSERT_EQ(chmod(path, 02755), 0, "chmod");
		ASSERT_STREQ(skrun_secure_reason(path), "is set-group-ID", "skrun_secure_reason");
		ASSERT_EQ(chmod(path, 02745), 0,
			  "chmod"); /* no group x: mandatory locking, not setgid */
		ASSERT_TRUE(skrun_secure_reason(path) == NULL, "skrun_secure_reason");
	}
	unlink(path);
}

int main(void)
{
	test_compose();
	test_find_lib();
	test_resolve();
	test_target();
	return skt_summary();
}
