# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# skaccel: one non-recursive Makefile; every output under $(OUTPUT). Quiet by default,
# V=1 shows commands. The BPF pipeline follows libbpf-bootstrap: clang -> bpftool gen
# object -> bpftool gen skeleton, against a vmlinux.h generated from the running kernel.
#
#   make            build everything
#   make demo       install build deps if missing, build, run the side-by-side demo
#   make check      install build+test deps if missing, build, run every test tier
#   make bench      benchmark plain TCP vs skaccel, write docs/BENCHMARKS.md
#   make man        the man pages (man/*.scd -> $(OUTPUT)/man/, part of `all`)
#   make deb        install packaging deps if missing, build the Debian package into
#                   $(OUTPUT)/deb/ from a copy of the tree (the checkout stays clean)
#   make install    PREFIX=/usr/local DESTDIR= (bin/, sbin/, lib/, systemd units, the
#                   sysusers.d file and its user skaccel when DESTDIR is empty,
#                   /etc/skaccel/helperd.conf unless it exists, man pages in MANDIR)
#   make uninstall  stop the service, remove the pins in PIN_DIR, remove the files
#
# Every target that builds needs the build dependencies: without them it stops at once with
# one line naming the missing ones and the command that installs them (make deps).

OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
SCDOC ?= scdoc
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# systemd-sysusers reads /usr/local/lib/sysusers.d as well as /usr/lib/sysusers.d.
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# The helper reads its policy from /etc/skaccel/helperd.conf whatever the PREFIX.
SYSCONFDIR ?= /etc
# Where the helper pins its maps and programs (its --pin-dir default); `make uninstall`
# removes them.
PIN_DIR ?= /sys/fs/bpf/skaccel
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' \
			-e 's/s390x/s390/' -e 's/riscv64/riscv/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Warnings are errors in CI (CI=true), and when asked for with WERROR=1.
WERROR ?= $(if $(filter true 1,$(CI)),1,0)
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter $(if $(filter 1,$(WERROR)),-Werror)
# Includes name their folder ("common/skaccel_proto.h", "helperd/policy.h"), from the top.
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -iquote . -MMD -MP
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(or $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null),-lbpf)
# SANITIZE=1 builds the userspace binaries with ASan+UBSan, and the shim with UBSan only: it
# is preloaded into programs built without ASan, whose runtime would have to come first.
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
SHIM_SAN_FLAGS := -fsanitize=undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# `make check` builds here with SANITIZE=1 too, and runs the sanitized tier against it.
SAN_OUTPUT ?= $(OUTPUT)-san

# --- build dependencies: say which are missing, in one line, before anything runs --------
# Goals that install what they need first (and then run make again), or need nothing.
# `make unit` (the pure unit tier) needs a C compiler and nothing else.
SELF_DEPS_GOALS := deps test-deps check demo bench deb clean format uninstall
have = $(shell command -v $(firstword $(1)) >/dev/null 2>&1 && echo y)
ifneq ($(filter-out $(SELF_DEPS_GOALS) unit,$(or $(MAKECMDGOALS),all)),)
MISSING_DEPS := $(strip $(if $(call have,$(CC)),,gcc) $(if $(call have,$(CLANG)),,clang) \
	$(if $(call have,$(BPFTOOL)),,bpftool) $(if $(call have,$(PKG_CONFIG)),,pkg-config) \
	$(if $(shell $(PKG_CONFIG) --exists libbpf 2>/dev/null && echo y),,libbpf-dev) \
	$(if $(call have,$(SCDOC)),,scdoc))
else ifneq ($(filter unit,$(MAKECMDGOALS)),)
MISSING_DEPS := $(if $(call have,$(CC)),,gcc)
endif
ifneq ($(MISSING_DEPS),)
$(error skaccel: missing $(MISSING_DEPS) (run `make deps` as root, or scripts/install-deps.sh build))
endif

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

COMMON_SRCS := common/skaccel_proto.c common/fd_pass.c common/number.c
SHIM_SRCS := $(sort $(wildcard shim/*.c)) $(COMMON_SRCS)
# The skaccel command's code that skaccel-helperd --stats runs too (one implementation).
CLI_SHARED_SRCS := cli/fmt.c cli/open.c cli/stats_run.c
HELPERD_SRCS := $(sort $(wildcard helperd/*.c)) $(COMMON_SRCS) $(CLI_SHARED_SRCS)
# The helper's files the skaccel command links: map table, names, stats, text, tuples.
CLI_HELPERD_SRCS := helperd/maps.c helperd/names.c helperd/ratelimit.c helperd/stats.c \
		helperd/text.c helperd/tuple.c
CLI_SRCS := $(sort $(wildcard cli/*.c)) $(CLI_HELPERD_SRCS) common/skaccel_proto.c common/number.c
RUN_SRCS := $(sort $(wildcard run/*.c)) $(COMMON_SRCS)
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TESTPROG_SRCS := $(filter-out tests/progs/xfer_common.c,$(sort $(wildcard tests/progs/*.c)))
TESTPROG_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard tests/progs/*/*.c))))

LIBSKACCEL := $(OUTPUT)/libskaccel.so
HELPERD := $(OUTPUT)/skaccel-helperd
CLI := $(OUTPUT)/skaccel
RUN := $(OUTPUT)/skaccel-run
EXAMPLES := $(patsubst examples/%.c,$(OUTPUT)/examples/%,$(EXAMPLE_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TESTPROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(TESTPROG_SRCS)) \
	     $(patsubst tests/progs/%,$(OUTPUT)/tests/%,$(TESTPROG_DIRS))
SKEL := $(OUTPUT)/skaccel.skel.h
BPF_OBJ := $(OUTPUT)/bpf/skaccel.bpf.o
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
# man/NAME.SECTION.scd -> $(OUTPUT)/man/NAME.SECTION, every page found.
MAN_PAGES := $(patsubst man/%.scd,$(OUTPUT)/man/%,$(sort $(wildcard man/*.scd)))

.PHONY: all deps test-deps check demo bench install uninstall clean format unit man deb
all: $(LIBSKACCEL) $(HELPERD) $(CLI) $(RUN) $(EXAMPLES) $(UNIT_TESTS) $(TESTPROGS) $(MAN_PAGES)

# --- BPF ----------------------------------------------------------------------------
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/bpf/%.tmp.bpf.o: bpf/%.bpf.c bpf/*.bpf.h common/skaccel_maps.h common/skaccel_pair.h \
		$(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -iquote . \
		$(LIBBPF_CFLAGS) -Wall -Werror -c $< -o $@

# One object from every program source: the data path defines the maps, the others
# declare them extern (bpf/skaccel_maps.bpf.h) and the linker resolves them.
$(BPF_OBJ): $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.tmp.bpf.o,$(BPF_SRCS))
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# --- shim: libskaccel.so (libc only) --------------------------------------------------
SHIM_OBJS := $(patsubst %.c,$(OUTPUT)/shim-obj/%.o,$(SHIM_SRCS))
$(OUTPUT)/shim-obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SHIM_SAN_FLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(LIBSKACCEL): $(SHIM_OBJS) shim/libskaccel.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(CFLAGS) $(SHIM_SAN_FLAGS) $(LDFLAGS) -Wl,-soname,libskaccel.so -Wl,--version-script=shim/libskaccel.map \
		-Wl,-z,defs -Wl,-z,now -Wl,-z,relro -o $@ $(SHIM_OBJS) -ldl -lpthread

# --- helper daemon (the only libbpf user) ----------------------------------------------
HELPERD_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HELPERD_SRCS))
$(patsubst %.c,$(OUTPUT)/obj/%.o,$(sort $(wildcard helperd/*.c))): $(SKEL)
$(OUTPUT)/obj/helperd/%.o: CPPFLAGS += -I$(OUTPUT) $(LIBBPF_CFLAGS)

$(OUTPUT)/obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(HELPERD): $(HELPERD_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS)

# --- skaccel: the operator's command (status, stats, explain), reads the pinned maps ---
CLI_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(CLI_SRCS))
$(OUTPUT)/obj/cli/%.o: CPPFLAGS += -I$(OUTPUT) $(LIBBPF_CFLAGS)
$(CLI): $(CLI_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS)

# --- skaccel-run ----------------------------------------------------------------------
RUN_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(RUN_SRCS))
$(RUN): $(RUN_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^

# --- man pages ------------------------------------------------------------------------
man: $(MAN_PAGES)

$(OUTPUT)/man/%: man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(SCDOC) < $< > $@

# --- examples, unit tests, test programs ------------------------------------------------
# Each example is examples/NAME.c and links the socket plumbing they share (examples/lib).
EXAMPLE_LIB := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(sort $(wildcard examples/lib/*.c)))
$(OUTPUT)/examples/%: $(OUTPUT)/obj/examples/%.o $(EXAMPLE_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lpthread -lm

# Unit tests link the code they test and need no privileges. Never link a hook
# (shim/hook_*.c) into a test binary: it would interpose on the test itself.
#
# Two kinds. The pure tier (`make unit`) tests code that needs no BPF: it builds and runs
# with a C compiler and libc alone (no clang, bpftool, libbpf or skeleton), into
# $(OUTPUT)/unit-obj, each test linked against an archive of the pure objects, so that it
# pulls in only what it calls. A source is on the BPF side when it includes libbpf's
# headers, the skeleton or bpf_setup.h; a test is when it includes those or calls code
# that does (UNIT_BPF_SRCS). Those keep the skeleton and link the whole helper.
SHIM_PURE_SRCS := $(filter-out $(wildcard shim/hook_*.c),$(sort $(wildcard shim/*.c)))
BPF_SIDE = $(shell grep -l -e '<bpf/' -e 'skel\.h' -e 'helperd/bpf_setup\.h' $(1) /dev/null)
HELPERD_BPF_SRCS := $(call BPF_SIDE,$(sort $(wildcard helperd/*.c)))
HELPERD_PURE_SRCS := $(filter-out helperd/main.c $(HELPERD_BPF_SRCS),$(sort $(wildcard helperd/*.c)))
UNIT_BPF_SRCS := $(sort $(call BPF_SIDE,$(UNIT_SRCS)) tests/unit/test_cli_fmt.c tests/unit/test_helperd_misc.c \
		tests/unit/test_helperd_registry.c \
		tests/unit/test_helperd_registration.c tests/unit/test_helperd_request.c)
UNIT_PURE_SRCS := $(filter-out $(UNIT_BPF_SRCS),$(UNIT_SRCS))
UNIT_PURE_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_PURE_SRCS))
UNIT_BPF_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_BPF_SRCS))
UNIT_PURE_LIB := $(OUTPUT)/unit-obj/libpure.a
UNIT_PURE_OBJS := $(patsubst %.c,$(OUTPUT)/unit-obj/%.o,$(COMMON_SRCS) $(SHIM_PURE_SRCS) \
		$(HELPERD_PURE_SRCS) cli/fmt.c)

$(OUTPUT)/unit-obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(UNIT_PURE_LIB): $(UNIT_PURE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(UNIT_PURE_TESTS): $(OUTPUT)/tests/%: $(OUTPUT)/unit-obj/tests/unit/%.o $(UNIT_PURE_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lpthread -ldl

UNIT_LINK := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(COMMON_SRCS) $(SHIM_PURE_SRCS) \
		$(filter-out helperd/main.c,$(sort $(wildcard helperd/*.c))) cli/fmt.c)
$(OUTPUT)/obj/tests/unit/%.o: CPPFLAGS += -I$(OUTPUT) $(LIBBPF_CFLAGS)
# Explicit lists: a pattern rule without a recipe would add no prerequisite (make -j races).
$(patsubst tests/unit/%.c,$(OUTPUT)/obj/tests/unit/%.o,$(UNIT_BPF_SRCS)): $(SKEL)
$(UNIT_BPF_TESTS): $(OUTPUT)/tests/%: $(OUTPUT)/obj/tests/unit/%.o $(UNIT_LINK)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS) -lpthread -ldl

# Build and run the pure tier: exit 0 passes, 77 skips, anything else fails. The shim is
# libc only as well: test_shim_client re-runs itself with it preloaded to test the hooks.
# (verify_asan_link_order=0: with SANITIZE=1 it preloads the shim, built without ASan.)
unit: $(UNIT_PURE_TESTS) $(LIBSKACCEL)
	$(Q)mkdir -p $(OUTPUT)/unit-logs; fail=0; for t in $(UNIT_PURE_TESTS); do \
		n=$$(basename $$t); log=$(OUTPUT)/unit-logs/$$n.log; \
		ASAN_OPTIONS=verify_asan_link_order=0 $$t >$$log 2>&1; rc=$$?; \
		case $$rc in 0) echo "PASS: unit/$$n" ;; 77) echo "SKIP: unit/$$n" ;; \
		*) echo "FAIL: unit/$$n: exit $$rc, see $$log"; fail=1 ;; esac; done; \
	exit $$fail

# The one test program that speaks to the pinned maps itself (tests/e2e/core/pair_check.sh).
$(OUTPUT)/tests/pair_probe: $(OUTPUT)/obj/tests/progs/pair_probe.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(LIBBPF_LIBS) -lpthread
# A test program is tests/progs/NAME.c, or a folder tests/progs/NAME/ with one file per
# topic; every one of them links what they share (xfer_common.c).
TESTPROG_LIB := $(OUTPUT)/obj/tests/progs/xfer_common.o
$(OUTPUT)/tests/%: $(OUTPUT)/obj/tests/progs/%.o $(TESTPROG_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lpthread -lm
$(foreach d,$(TESTPROG_DIRS),$(eval $(OUTPUT)/tests/$(notdir $(d)): \
	$(patsubst %.c,$(OUTPUT)/obj/%.o,$(sort $(wildcard $(d)/*.c)))))
$(patsubst tests/progs/%,$(OUTPUT)/tests/%,$(TESTPROG_DIRS)): $(TESTPROG_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ -lpthread -lm

$(OUTPUT) $(OUTPUT)/bpf:
	$(Q)mkdir -p $@

# --- top-level jobs: each installs what it needs first -----------------------------------
deps:
	$(Q)scripts/install-deps.sh build

test-deps:
	$(Q)scripts/install-deps.sh build test

check:
	$(Q)scripts/install-deps.sh build test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(SAN_OUTPUT) SANITIZE=1 all
	$(Q)SKT_BUILD=$(OUTPUT) SKT_SAN_BUILD=$(SAN_OUTPUT) tests/run-all.sh

demo:
	$(Q)scripts/install-deps.sh build
	$(Q)$(MAKE) --no-print-directory all
	$(Q)examples/demo.sh

bench:
	$(Q)scripts/install-deps.sh build test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/run.sh

# --- install -------------------------------------------------------------------------
install: $(LIBSKACCEL) $(HELPERD) $(CLI) $(RUN) $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR)
	$(Q)for p in $(MAN_PAGES); do install -d $(DESTDIR)$(MANDIR)/man$${p##*.} && \
		install -m 0644 $$p $(DESTDIR)$(MANDIR)/man$${p##*.}/ || exit 1; done
	$(Q)install -m 0755 $(RUN) $(DESTDIR)$(BINDIR)/skaccel-run
	$(Q)install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/skaccel
	$(Q)install -m 0755 $(HELPERD) $(DESTDIR)$(SBINDIR)/skaccel-helperd
	$(Q)install -m 0644 $(LIBSKACCEL) $(DESTDIR)$(LIBDIR)/libskaccel.so
	$(Q)for u in systemd/*.socket systemd/*.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u); done
	$(Q)install -m 0644 systemd/skaccel.sysusers $(DESTDIR)$(SYSUSERSDIR)/skaccel.conf
	$(Q)if [ -z "$(DESTDIR)" ]; then \
		if command -v systemd-sysusers >/dev/null; then \
			systemd-sysusers $(SYSUSERSDIR)/skaccel.conf; \
		elif ! getent passwd skaccel >/dev/null; then \
			useradd --system --user-group --no-create-home --home-dir / \
				--shell /usr/sbin/nologin --comment "skaccel helper" skaccel; fi; fi
	$(Q)install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/skaccel
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/skaccel/helperd.conf ] || \
		install -m 0644 systemd/helperd.conf.example $(DESTDIR)$(SYSCONFDIR)/skaccel/helperd.conf

# The service stops first (on the live system only), so that nothing pins again; then the
# installed helper removes its pins: live connections keep working until they close. The
# user skaccel stays, as system users do (a uid reused by another package could inherit
# whatever it still owns).
uninstall:
	$(Q)if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then \
		systemctl disable --now skaccel-helperd.socket skaccel-helperd.service 2>/dev/null || :; fi
	$(Q)if [ -x $(DESTDIR)$(SBINDIR)/skaccel-helperd ] && [ -d $(PIN_DIR) ]; then \
		$(DESTDIR)$(SBINDIR)/skaccel-helperd --unpin --pin-dir $(PIN_DIR); fi
	$(Q)rm -f $(DESTDIR)$(BINDIR)/skaccel-run $(DESTDIR)$(BINDIR)/skaccel $(DESTDIR)$(SBINDIR)/skaccel-helperd \
		$(DESTDIR)$(LIBDIR)/libskaccel.so $(DESTDIR)$(UNITDIR)/skaccel-helperd.socket \
		$(DESTDIR)$(UNITDIR)/skaccel-helperd.service $(DESTDIR)$(SYSUSERSDIR)/skaccel.conf
	$(Q)for p in $(notdir $(MAN_PAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p; done
	$(Q)f=$(DESTDIR)$(SYSCONFDIR)/skaccel/helperd.conf; \
	if cmp -s $$f systemd/helperd.conf.example; then rm -f $$f; rmdir $$(dirname $$f) 2>/dev/null || :; \
	elif [ -e $$f ]; then echo "Kept $$f: it differs from the example (your policy)"; fi

# --- Debian package ----------------------------------------------------------------------
# Built from a copy of the tree in $(OUTPUT)/deb/, so that neither the checkout nor its
# $(OUTPUT)/ is touched (dpkg-buildpackage cleans and writes its files into the parent
# directory): the .deb, .buildinfo and .changes land in $(OUTPUT)/deb/.
DEB_SRC := $(OUTPUT)/deb/skaccel-src
deb:
	$(Q)scripts/install-deps.sh build deb
	$(Q)rm -rf $(DEB_SRC) && mkdir -p $(DEB_SRC)
	$(Q)tar -cf - --exclude=./.git --exclude=./$(OUTPUT) --exclude=./$(SAN_OUTPUT) \
		--exclude='./build*' . | tar -C $(DEB_SRC) -xf -
	$(Q)cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	$(Q)rm -rf $(DEB_SRC)
	$(Q)ls $(OUTPUT)/deb/*.deb

format:
	$(Q)clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT) $(SAN_OUTPUT)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)

# --- fuzzing ---------------------------------------------------------------------------
# A libFuzzer target for the helper's request decoding (tests/fuzz/fuzz_request.c), part of
# `all` only when $(CLANG) can link -fsanitize=fuzzer (libclang-rt-*-dev, installed by
# `make test-deps`); tests/e2e/core/fuzz_request.sh runs it for a bounded time in `make check`.
FUZZ_SANITIZE := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_OK := $(shell f=$$(mktemp) && echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
	$(CLANG) -x c $(FUZZ_SANITIZE) -o $$f - >/dev/null 2>&1 && echo 1; rm -f $$f)
FUZZ_TARGETS := $(if $(FUZZ_OK),$(OUTPUT)/fuzz/fuzz_request)
all: $(FUZZ_TARGETS)

$(OUTPUT)/fuzz/fuzz_request: tests/fuzz/fuzz_request.c common/skaccel_proto.c common/fd_pass.c \
		common/skaccel_proto.h common/fd_pass.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
		$(WARNINGS) -iquote . -o $@ $(filter %.c,$^)
