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
#   make install    PREFIX=/usr/local DESTDIR= (bin/, sbin/, lib/, systemd units, the
#                   sysusers.d file and its user skaccel when DESTDIR is empty, and
#                   /etc/skaccel/helperd.conf unless it exists)
#   make uninstall  stop the service, remove the pins in PIN_DIR, remove the files

OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
PKG_CONFIG ?= pkg-config
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
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) -Icommon -MMD -MP
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

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

COMMON_SRCS := common/skaccel_proto.c common/fd_pass.c
SHIM_SRCS := $(sort $(wildcard shim/*.c)) $(COMMON_SRCS)
HELPERD_SRCS := $(sort $(wildcard helperd/*.c)) $(COMMON_SRCS)
RUN_SRCS := $(sort $(wildcard run/*.c)) $(COMMON_SRCS)
EXAMPLE_SRCS := $(sort $(wildcard examples/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TESTPROG_SRCS := $(sort $(wildcard tests/progs/*.c))

LIBSKACCEL := $(OUTPUT)/libskaccel.so
HELPERD := $(OUTPUT)/skaccel-helperd
RUN := $(OUTPUT)/skaccel-run
EXAMPLES := $(patsubst examples/%.c,$(OUTPUT)/examples/%,$(EXAMPLE_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
TESTPROGS := $(patsubst tests/progs/%.c,$(OUTPUT)/tests/%,$(TESTPROG_SRCS))
SKEL := $(OUTPUT)/skaccel.skel.h
BPF_OBJ := $(OUTPUT)/bpf/skaccel.bpf.o
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))

.PHONY: all deps test-deps check demo bench install uninstall clean format
all: $(LIBSKACCEL) $(HELPERD) $(RUN) $(EXAMPLES) $(UNIT_TESTS) $(TESTPROGS)

# --- BPF ----------------------------------------------------------------------------
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/bpf/%.tmp.bpf.o: bpf/%.bpf.c bpf/*.bpf.h common/skaccel_maps.h common/skaccel_pair.h \
		$(OUTPUT)/vmlinux.h | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Icommon -Ibpf \
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
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(SHIM_SAN_FLAGS) -fPIC -fvisibility=hidden -Ishim -c $< -o $@

$(LIBSKACCEL): $(SHIM_OBJS) shim/libskaccel.map
	$(call msg,LD,$@)
	$(Q)$(CC) -shared $(CFLAGS) $(SHIM_SAN_FLAGS) -Wl,-soname,libskaccel.so -Wl,--version-script=shim/libskaccel.map \
		-Wl,-z,defs -Wl,-z,now -Wl,-z,relro -o $@ $(SHIM_OBJS) -ldl -lpthread

# --- helper daemon (the only libbpf user) ----------------------------------------------
HELPERD_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(HELPERD_SRCS))
$(patsubst %.c,$(OUTPUT)/obj/%.o,$(sort $(wildcard helperd/*.c))): $(SKEL)
$(OUTPUT)/obj/helperd/%.o: CPPFLAGS += -Ihelperd -I$(OUTPUT) $(LIBBPF_CFLAGS)

$(OUTPUT)/obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(HELPERD): $(HELPERD_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LIBBPF_LIBS)

# --- skaccel-run ----------------------------------------------------------------------
RUN_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(RUN_SRCS))
$(RUN): $(RUN_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^

# --- examples, unit tests, test programs ------------------------------------------------
$(OUTPUT)/examples/%: $(OUTPUT)/obj/examples/%.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lpthread -lm

# Unit tests link the pure code they test and need no privileges: the common code, the
# helper without its main(), and the shim files that hold no hooks (SHIM_PURE_SRCS: never
# link a hook into a test binary, it would interpose on the test itself).
SHIM_PURE_SRCS := $(filter-out $(wildcard shim/hook_*.c),$(sort $(wildcard shim/*.c)))
UNIT_LINK := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(COMMON_SRCS) $(SHIM_PURE_SRCS) \
		$(filter-out helperd/main.c,$(sort $(wildcard helperd/*.c))))
$(OUTPUT)/obj/tests/unit/%.o: CPPFLAGS += -Ishim -Ihelperd -Itests/unit -I$(OUTPUT) $(LIBBPF_CFLAGS)
# Explicit lists: a pattern rule without a recipe would add no prerequisite (make -j races).
$(patsubst tests/unit/%.c,$(OUTPUT)/obj/tests/unit/%.o,$(UNIT_SRCS)): $(SKEL)
$(OUTPUT)/tests/test_%: $(OUTPUT)/obj/tests/unit/test_%.o $(UNIT_LINK)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LIBBPF_LIBS) -lpthread -ldl

$(OUTPUT)/obj/tests/progs/%.o: CPPFLAGS += -Itests/progs
# The one test program that speaks to the pinned maps itself (tests/e2e/core/pair_check.sh).
$(OUTPUT)/tests/pair_probe: $(OUTPUT)/obj/tests/progs/pair_probe.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(LIBBPF_LIBS) -lpthread
$(OUTPUT)/tests/%: $(OUTPUT)/obj/tests/progs/%.o
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ -lpthread -lm

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
install: $(LIBSKACCEL) $(HELPERD) $(RUN)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR)
	$(Q)install -m 0755 $(RUN) $(DESTDIR)$(BINDIR)/skaccel-run
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
	$(Q)rm -f $(DESTDIR)$(BINDIR)/skaccel-run $(DESTDIR)$(SBINDIR)/skaccel-helperd \
		$(DESTDIR)$(LIBDIR)/libskaccel.so $(DESTDIR)$(UNITDIR)/skaccel-helperd.socket \
		$(DESTDIR)$(UNITDIR)/skaccel-helperd.service $(DESTDIR)$(SYSUSERSDIR)/skaccel.conf
	$(Q)f=$(DESTDIR)$(SYSCONFDIR)/skaccel/helperd.conf; \
	if cmp -s $$f systemd/helperd.conf.example; then rm -f $$f; rmdir $$(dirname $$f) 2>/dev/null || :; \
	elif [ -e $$f ]; then echo "Kept $$f: it differs from the example (your policy)"; fi

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
		$(WARNINGS) -Icommon -o $@ $(filter %.c,$^)
