# ssedge build: Kconfig -> build/include/sse_config.h -> library, examples,
# tests and benchmarks. `make help` lists the targets.

PYTHON        ?= /usr/bin/python3
KCONFIG       := Kconfig
DEFCONFIG     ?= configs/posix_defconfig
PRESETS       := $(notdir $(wildcard configs/*_defconfig))
# make O=dir: configuration and every output in dir (out of tree).
ifdef O
BUILD          := $(O)
KCONFIG_CONFIG := $(O)/.config
endif
export KCONFIG_CONFIG ?= .config

BUILD   ?= build
BIN     := $(BUILD)/bin
CONFIG_H := $(BUILD)/include/sse_config.h
# What this build folder was built with, kept by scripts/preflight.sh and
# rewritten only when it changes: the compile command and the compiler's
# target and version (every object depends on it), the link and archive
# commands (every program and the library depend on it).
CC_SIG  := $(BUILD)/.cc-signature
LD_SIG  := $(BUILD)/.ld-signature

# Goals that read an existing .config but never make one first: the
# configuration goals, and those that install packages first and then build
# in a sub-make (run, test, bench).
CONFIG_GOALS := defconfig olddefconfig menuconfig savedefconfig $(PRESETS) help deps clean \
                run test bench
ifneq ($(filter $(CONFIG_GOALS),$(MAKECMDGOALS)),)
-include $(wildcard $(KCONFIG_CONFIG))
else
# Made from DEFCONFIG first when missing (make then starts over with it).
include $(KCONFIG_CONFIG)
endif

# ---- toolchain: the configuration's (Kconfig menu "Toolchain") ---------------
# Kconfig strings come into make with their quotes ("a \"b\" c"): kstr strips
# the outer ones and unescapes the inner ones (a "b" c).
kq := @kconfig-quote@
kb := @kconfig-backslash@
kstr = $(strip $(subst $(kb),\,$(subst $(kq),",$(patsubst "%,%,$(patsubst %",%,$(subst \",$(kq),$(subst \\,$(kb),$(1))))))))
# A variable given on the make command line wins over the configuration
# (make CROSS_COMPILE=aarch64-linux-gnu- CC=clang OPT=-O0 LDFLAGS=...); the
# environment does not, so an exported CC or LDFLAGS never swaps a preset's
# toolchain behind its back.
ifneq ($(origin CROSS_COMPILE),command line)
CROSS_COMPILE := $(call kstr,$(CONFIG_SSE_CROSS_COMPILE))
endif
ifneq ($(origin CC),command line)
CC      := $(if $(CROSS_COMPILE),$(CROSS_COMPILE)gcc,cc)
endif
ifneq ($(origin AR),command line)
AR      := $(CROSS_COMPILE)ar
endif
ifneq ($(origin SIZE),command line)
SIZE    := $(CROSS_COMPILE)size
endif
ifneq ($(origin TARGET_CFLAGS),command line)
TARGET_CFLAGS := $(call kstr,$(CONFIG_SSE_TARGET_CFLAGS))
endif
ifneq ($(origin OPT),command line)
OPT     := $(call kstr,$(CONFIG_SSE_OPT_CFLAGS))
endif
# Link-only flags: e.g. -static for a cross build run under qemu-user.
ifneq ($(origin LDFLAGS),command line)
LDFLAGS := $(call kstr,$(CONFIG_SSE_LDFLAGS))
endif
SAN     ?=
# EXTRA_CFLAGS: added to every compile (scripts/size.sh sizes lwIP with it).
EXTRA_CFLAGS ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wundef -Wstrict-prototypes
CFLAGS  := -std=c99 $(TARGET_CFLAGS) $(OPT) $(WARN) $(SAN) -fno-common $(EXTRA_CFLAGS)
CPPFLAGS := -imacros $(CONFIG_H) -Iinclude -Icore -Iport
LDLIBS   = -lpthread

PORT-$(CONFIG_SSE_PORT_POSIX) := posix
PORT-$(CONFIG_SSE_PORT_LWIP)  := lwip
PORT := $(PORT-y)
CPPFLAGS += -Iport/$(PORT)
# The lwIP port builds against an lwIP's headers (Kconfig SSE_LWIP_HEADERS):
# Debian's hosted lwIP through pkg-config, or a board's include directories
# (lwipopts.h first). LWIP_CFLAGS= and LWIP_LIBS= on the command line win.
ifeq ($(PORT),lwip)
ifeq ($(CONFIG_SSE_LWIP_DIRS),y)
LWIP_HEADERS := dirs
LWIP_DIRS    := $(call kstr,$(CONFIG_SSE_LWIP_INCLUDE_DIRS))
ifneq ($(origin LWIP_CFLAGS),command line)
LWIP_CFLAGS  := $(addprefix -I,$(LWIP_DIRS))
endif
ifneq ($(origin LWIP_LIBS),command line)
LWIP_LIBS    :=
endif
else
LWIP_HEADERS := pkg-config
ifneq ($(origin LWIP_CFLAGS),command line)
LWIP_CFLAGS  := $(shell pkg-config --cflags lwip 2>/dev/null)
endif
ifneq ($(origin LWIP_LIBS),command line)
LWIP_LIBS    := $(shell pkg-config --libs lwip 2>/dev/null)
endif
endif
CPPFLAGS += $(LWIP_CFLAGS)
endif
# mbedTLS 2.28 ships no pkg-config file.
TLS_LIBS-$(CONFIG_SSE_TLS) := -lmbedtls -lmbedx509 -lmbedcrypto
LDLIBS += $(TLS_LIBS-y)
URING_LIBS-$(CONFIG_SSE_PORT_IO_URING) := -luring
LDLIBS += $(URING_LIBS-y)

CORE_SRCS := $(wildcard core/*.c)
PORT_SRCS := $(wildcard port/$(PORT)/*.c)
LIB_OBJS  := $(CORE_SRCS:%.c=$(BUILD)/%.o) $(PORT_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libssedge.a

TEST_SRCS := $(wildcard tests/*.c)
# The suites and benches run over the port's own stack (tests/backend/).
BACKEND_OBJ := $(BUILD)/tests/backend/$(PORT).o
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/%.o) $(BACKEND_OBJ)

ifeq ($(PORT),lwip)
# Over lwIP, ssedge serves through lwIP's own TCP: the lwIP example, the
# test runner and the bench server (clients reach them over a tap link in a
# network namespace, tests/lwip/netns.sh).
PROGS := $(LIB) $(BIN)/sse_lwip_host $(BIN)/sse_tests $(BIN)/sse_bench_server
else
PROGS := $(BIN)/telemetry $(BIN)/sse_bench_server $(BIN)/sse_bench_client \
         $(BIN)/sse_tests $(BIN)/sse_e2e_server
endif

# Pieces with make rules of their own (fuzzing, soak, the Raspberry Pi daemon,
# the hello example, the bench's peer servers, the ssedge command).
-include $(wildcard tests/fuzz/fuzz.mk tests/soak/soak.mk examples/rpi-daemon/rpi.mk \
                    examples/hello/hello.mk bench/bench.mk tools/ssedge/ssedge.mk)

.PHONY: all lib run run-tls size size-all test test-one bench bench-hub bench-lwip deps defconfig \
        olddefconfig menuconfig savedefconfig check-nomalloc check-prefix check-presets check-kconfig \
        check-layers toolchain \
        install clean help $(PRESETS)
# What a plain make builds: the programs where they run (host, or a cross
# Linux target under qemu-user), only the library for a bare-metal board
# (CONFIG_SSE_BUILD_PROGRAMS).
ifeq ($(CONFIG_SSE_BUILD_PROGRAMS),y)
all: $(PROGS)
else
all: $(LIB)
endif
lib: $(LIB)

help:
	@echo "make            build into $(BUILD)/ what the configuration names (library, examples,"
	@echo "                bench and tests; the library alone for a board), with its toolchain"
	@echo "make run        install what is missing (Debian), build, then the telemetry example on :8080"
	@echo "make run-tls    the same over https on :8443 (development certificate)"
	@echo "make test       install what is missing, then every suite: gcc, clang, ASan+UBSan, TSan, ..."
	@echo "make bench      fan-out bench: ssedge next to an epoll floor and peer servers"
	@echo "make bench-lwip the same against the lwIP port over a tap link (root)"
	@echo "make bench-hub  an uplink through nginx + nchan, and 2000 subscribers on the hub"
	@echo "make size       flash/static RAM of the library at 4 and 16 connections (SIZE_DEFCONFIG=...)"
	@echo "make deps       install the Debian packages of every target and preset"
	@echo "                (only run, test, bench and deps install; NO_DEPS=1: not even they)"
	@echo "make defconfig|menuconfig|olddefconfig|savedefconfig|NAME_defconfig (configs/)"
	@echo "make O=dir ...  out-of-tree: .config and outputs in dir"
	@echo "make toolchain  the compiler, flags and lwIP headers this configuration builds with"
	@echo "make install    PREFIX=/usr/local DESTDIR=: library, headers, ssedge.pc, ssedge, daemon, units"
	@echo "make size-all   the footprint table over every preset"
	@echo "make check-presets  every preset builds as it is (-Werror) and round-trips savedefconfig"
	@echo "Command-line CROSS_COMPILE= CC= AR= OPT= TARGET_CFLAGS= LDFLAGS= LWIP_CFLAGS= win over the configuration."

# ---- dependencies -------------------------------------------------------------
# Only make run, test, bench and deps install packages (scripts/deps.sh,
# Debian, apt-get), and NO_DEPS=1 keeps even those from it. Every other target
# checks the tools it uses and says in one line which are missing
# (scripts/preflight.sh, scripts/deps.sh need).
install-deps = $(if $(NO_DEPS),@true,@scripts/deps.sh check $(1) >/dev/null || scripts/deps.sh install $(1))
deps:
	scripts/deps.sh install build test e2e lwip bench rpi hub
# The first step of every configuration recipe: python3 and kconfiglib.
need-kconfig = @scripts/preflight.sh kconfig $(PYTHON)

# ---- configuration ----------------------------------------------------------
# A missing .config comes from DEFCONFIG (configs/posix_defconfig); a .config
# older than Kconfig takes the new symbols' defaults (olddefconfig), as
# kbuild's syncconfig does.
$(KCONFIG_CONFIG): $(KCONFIG)
	$(need-kconfig)
	@mkdir -p $(dir $@)
	@if [ -f $@ ]; then $(PYTHON) -m olddefconfig $(KCONFIG); \
	 else $(PYTHON) -m defconfig --kconfig $(KCONFIG) $(DEFCONFIG); fi
	@touch $@
# SSE_KCONFIG tells port/sse_opt.h that an unset bool is off, not unknown.
$(CONFIG_H): $(KCONFIG_CONFIG) $(KCONFIG)
	$(need-kconfig)
	@mkdir -p $(dir $@)
	@h=$$(printf '/* Generated from $(KCONFIG_CONFIG) by genconfig: do not edit. */\n#define SSE_KCONFIG 1\n.'); \
	 KCONFIG_AUTOHEADER_HEADER="$${h%.}" $(PYTHON) -m genconfig --header-path $@ $(KCONFIG)
	@touch $@
defconfig:
	$(need-kconfig)
	@mkdir -p $(dir $(KCONFIG_CONFIG))
	$(PYTHON) -m defconfig --kconfig $(KCONFIG) $(DEFCONFIG)
# These start from the .config make would build with (configs/posix_defconfig
# on a fresh tree), not from Kconfig's bare defaults.
olddefconfig: | $(KCONFIG_CONFIG)
	$(need-kconfig)
	$(PYTHON) -m olddefconfig $(KCONFIG)
menuconfig: | $(KCONFIG_CONFIG)
	$(need-kconfig)
	$(PYTHON) -m menuconfig $(KCONFIG)
savedefconfig: | $(KCONFIG_CONFIG)
	$(need-kconfig)
	$(PYTHON) -m savedefconfig --kconfig $(KCONFIG) --out $(dir $(KCONFIG_CONFIG))defconfig
# make NAME_defconfig: the preset configs/NAME_defconfig (with O= or
# KCONFIG_CONFIG= for another tree).
$(PRESETS):
	$(need-kconfig)
	@mkdir -p $(dir $(KCONFIG_CONFIG))
	$(PYTHON) -m defconfig --kconfig $(KCONFIG) configs/$@

# make toolchain: what this configuration builds with.
squote = '$(subst ','\'',$(1))'
toolchain:
	@printf '%s\n' $(call squote,CC=$(CC)) $(call squote,AR=$(AR)) $(call squote,SIZE=$(SIZE)) \
	    $(call squote,CFLAGS=$(CFLAGS)) $(call squote,LDFLAGS=$(LDFLAGS)) \
	    $(call squote,LWIP_CFLAGS=$(LWIP_CFLAGS)) $(call squote,LWIP_LIBS=$(LWIP_LIBS)) \
	    $(call squote,all=$(if $(filter y,$(CONFIG_SSE_BUILD_PROGRAMS)),programs,library))

# ---- preflight: tools, impossible combinations, toolchain signatures ---------
# Before anything is compiled in $(BUILD): the configured compiler and what
# the goals need exist (one line naming the missing packages otherwise), an
# lwIP socket table holds the slots, and the signatures above are rewritten
# if the toolchain, flags or target changed, which rebuilds what depends on
# them. A folder that held another target's objects is emptied of them
# first: objects of two targets never meet.
GOALS_BUILT := $(patsubst all,$(if $(filter y,$(CONFIG_SSE_BUILD_PROGRAMS)),$(PROGS),$(LIB)),$(or $(MAKECMDGOALS),all))
PREFLIGHT_NEEDS := $(if $(filter %/sse_tests test-one,$(GOALS_BUILT)),cunit) \
    $(if $(filter y,$(CONFIG_SSE_TLS)),mbedtls) \
    $(if $(filter y,$(CONFIG_SSE_PORT_IO_URING)),uring) \
    $(if $(filter lwip,$(PORT)),lwip-$(LWIP_HEADERS)) \
    $(if $(and $(filter lwip,$(PORT)),$(filter y,$(CONFIG_SSE_LWIP_NETCONN_CHECK))),netconn)
$(CC_SIG) $(LD_SIG) &: $(CONFIG_H) FORCE
	@SSE_BUILD=$(call squote,$(BUILD)) SSE_CC=$(call squote,$(CC)) SSE_AR=$(call squote,$(AR)) \
	 SSE_CFLAGS=$(call squote,$(CPPFLAGS) $(CFLAGS)) \
	 SSE_LINK=$(call squote,$(CFLAGS) $(LDFLAGS) $(LWIP_LIBS) $(LDLIBS)) \
	 SSE_NEEDS=$(call squote,$(strip $(PREFLIGHT_NEEDS))) SSE_LWIP_DIRS=$(call squote,$(LWIP_DIRS)) \
	 SSE_MAX_CONNECTIONS=$(CONFIG_SSE_MAX_CONNECTIONS) scripts/preflight.sh build
FORCE:

# ---- compile ----------------------------------------------------------------
$(BUILD)/%.o: %.c $(CONFIG_H) $(CC_SIG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
# Sources the build generates (the dashboards' assets.c), with the same flags
# and signature (make's built-in %.o: %.c would not notice a new toolchain).
$(BUILD)/%.o: $(BUILD)/%.c $(CONFIG_H) $(CC_SIG)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
BENCH_CLIENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,bench/sse_bench_client.c $(wildcard bench/client/*.c))
APP_OBJS := $(BUILD)/examples/telemetry/main.o $(BUILD)/bench/sse_bench_server.o \
            $(BENCH_CLIENT_OBJS) $(BUILD)/tests/e2e/e2e_server.o \
            $(BUILD)/examples/lwip_host/main.o
-include $(patsubst %.o,%.d,$(LIB_OBJS) $(TEST_OBJS) $(APP_OBJS))

$(LIB): $(LIB_OBJS) $(LD_SIG)
	@rm -f $@
	$(AR) rcs $@ $(filter %.o,$^)

# Link a program from the objects and archives among its prerequisites (the
# signature is one of them, so a changed link command relinks it).
LINK = $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^)

# The dashboard's files become C arrays (and gzip copies): firmware serves
# them from flash with no file system.
WEB := $(sort $(wildcard examples/telemetry/web/*))
$(BUILD)/examples/telemetry/assets.c: $(WEB) scripts/embed.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed.py --name telemetry_assets --out $@ $(WEB)

$(BIN)/telemetry: $(BUILD)/examples/telemetry/main.o $(BUILD)/examples/telemetry/assets.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

$(BIN)/sse_lwip_host: $(BUILD)/examples/lwip_host/main.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LWIP_LIBS) $(LDLIBS)

$(BIN)/sse_e2e_server: $(BUILD)/tests/e2e/e2e_server.o $(BUILD)/tests/host_util.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

$(BUILD)/bench/sse_bench_server.o: CPPFLAGS += -Itests
$(BIN)/sse_bench_server: $(BUILD)/bench/sse_bench_server.o $(BACKEND_OBJ) $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LWIP_LIBS) $(LDLIBS)

$(BIN)/sse_bench_client: $(BENCH_CLIENT_OBJS) $(BUILD)/tests/host_util.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS) -lm

$(BIN)/sse_tests: $(TEST_OBJS) $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) -lcunit $(LWIP_LIBS) $(LDLIBS)

# ---- run --------------------------------------------------------------------
# Installs what the build needs (Debian; not with NO_DEPS=1), then builds in
# a sub-make that makes the .config first if there is none.
run:
	$(call install-deps,build)
	@$(MAKE) --no-print-directory $(BIN)/telemetry
	$(BIN)/telemetry --port 8080

# https on :8443 with a development certificate made on the spot (never
# committed): a TLS build of its own in build/tls.
TLS_BUILD := build/tls
run-tls:
	@command -v openssl >/dev/null 2>&1 || \
	 { echo "ssedge: make run-tls needs openssl for its development certificate: apt-get install openssl (or make deps)" >&2; exit 1; }
	$(MAKE) BUILD=$(TLS_BUILD) KCONFIG_CONFIG=$(TLS_BUILD)/.config \
	    DEFCONFIG=configs/posix_tls_defconfig $(TLS_BUILD)/bin/telemetry
	scripts/devcert.sh $(TLS_BUILD)/devcert
	$(TLS_BUILD)/bin/telemetry --port 8443 --cert $(TLS_BUILD)/devcert/server.crt \
	    --key $(TLS_BUILD)/devcert/server.key

# ---- checks -----------------------------------------------------------------
# core/ and port/lwip/ never allocate: their objects may not reference the heap.
check-nomalloc: $(LIB_OBJS)
	@scripts/check-nomalloc.sh $(filter $(BUILD)/core/% $(BUILD)/port/lwip/%,$(LIB_OBJS))

# Every CONFIG_SSE_* the code names is in Kconfig, with prompt, help,
# range and default.
check-kconfig:
	@$(PYTHON) scripts/check-kconfig.py

# Layers point one way: port/ includes nothing of core/, no circle between
# the objects of core/.
check-layers: $(LIB_OBJS)
	@$(PYTHON) scripts/check-layers.py $(filter $(BUILD)/core/%,$(LIB_OBJS))

# Every exported symbol carries the sse_ prefix.
check-prefix: $(LIB_OBJS)
	@scripts/check-prefix.sh $(LIB_OBJS)

# One variant: build its own tree and run the whole runner.
test-one: $(BIN)/sse_tests
	$(BIN)/sse_tests $(TEST_ARGS)

# make test installs the build and test groups (run-tests.sh the groups of
# its later steps); NO_DEPS=1 keeps both from installing.
test:
	$(call install-deps,build test)
	@scripts/run-tests.sh

bench:
	$(call install-deps,build test bench)
	@$(MAKE) --no-print-directory all bench-peers
	$(MAKE) BUILD=$(TLS_BUILD) KCONFIG_CONFIG=$(TLS_BUILD)/.config \
	    DEFCONFIG=configs/posix_tls_defconfig $(TLS_BUILD)/bin/sse_bench_server \
	    $(TLS_BUILD)/bin/sse_bench_client
	@scripts/bench.sh $(BIN)
	@bench/cmd_bench.sh $(BIN)

# The hub (issue 13): events/s one uplink gets through nginx + nchan, and
# fan-out through two nodes to 2000 subscribers next to ssedge directly.
bench-hub:
	$(call install-deps,build test bench hub)
	@$(MAKE) --no-print-directory all bench-peers
	bench/hub_bench.sh $(BIN)

# The same fan-out with the server on the lwIP port (Debian's hosted lwIP on
# a tap link in a network namespace; needs root). The client is the host's.
# Up to 300 streams: Debian's lwIP (one tcpip thread, linear PCB lookup per
# segment) times connects out at 1000 over tap, and a board has a handful.
LWIP_BENCH_POINTS ?= 10:1000:0 100:1000:0 300:100:0 100:1000:5 300:1000:5
LWIP_SUITE := build/lwip-suite
LWIP_SUITE_ARGS := BUILD=$(LWIP_SUITE) KCONFIG_CONFIG=$(LWIP_SUITE)/.config \
    DEFCONFIG=configs/lwip_host_suite_defconfig
bench-lwip: $(BIN)/sse_bench_client
	@scripts/deps.sh need "make bench-lwip" lwip
	$(MAKE) $(LWIP_SUITE_ARGS) $(LWIP_SUITE)/bin/sse_bench_server
	tests/lwip/netns.sh -t 900 env BENCH_MODE=lwip BENCH_HOST=192.168.77.2 BENCH_TLS=0 \
	    BENCH_STALL_SECONDS=0 BENCH_POINTS="$(LWIP_BENCH_POINTS)" BENCH_CLIENT_BIN=$(BIN)/sse_bench_client \
	    scripts/bench.sh $(LWIP_SUITE)/bin

# Flash and static RAM of ssedge's objects at 4 and 16 connections, plus the
# thread stacks (Cortex-M4 + lwIP preset unless SIZE_DEFCONFIG names another).
SIZE_DEFCONFIG ?= configs/cortex_m4_lwip_defconfig
size:
	@scripts/size.sh $(SIZE_DEFCONFIG)
size-all:
	@scripts/size-all.sh

# Every preset builds as it is (make O=dir NAME_defconfig && make O=dir,
# -Werror), and savedefconfig gives each one back.
check-presets:
	@scripts/check-presets.sh

# ---- install ----------------------------------------------------------------
# make install PREFIX=/usr/local DESTDIR=/tmp/stage: the library, headers
# (with this build's sse_config.h), ssedge.pc, and on POSIX the ssedge
# command with its systemd template unit (ssedge@NAME runs the command line
# in /etc/ssedge/NAME.conf; an example in share/ssedge) and the Raspberry
# Pi daemon with its unit.
PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
UNITDIR ?= $(PREFIX)/lib/systemd/system
PC_LIBS := -lssedge $(LDLIBS) $(if $(filter lwip,$(PORT)),$(LWIP_LIBS))
INSTALL_PROGS := $(filter $(BIN)/ssedge-rpi $(BIN)/ssedge,$(PROGS))
install: $(LIB) $(CONFIG_H) $(INSTALL_PROGS)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/ssedge
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 include/ssedge/*.h $(DESTDIR)$(INCDIR)/ssedge/
	install -m 644 $(CONFIG_H) $(DESTDIR)$(INCDIR)/ssedge/sse_config.h
	@# Version: from the header (include/ssedge/sse_version.h), the one place it is kept.
	v=$$(sed -n 's/^#define SSE_VERSION_STRING "\([^"]*\)".*/\1/p' include/ssedge/sse_version.h); \
	test -n "$$v" || { echo "install: no SSE_VERSION_STRING in include/ssedge/sse_version.h" >&2; exit 1; }; \
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|' \
	    -e 's|@LIBS@|$(strip $(PC_LIBS))|' -e "s|@VERSION@|$$v|" scripts/ssedge.pc.in \
	    >$(DESTDIR)$(LIBDIR)/pkgconfig/ssedge.pc
ifneq ($(INSTALL_PROGS),)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(UNITDIR)
	install -m 755 $(INSTALL_PROGS) $(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' examples/rpi-daemon/ssedge-rpi.service \
	    >$(DESTDIR)$(UNITDIR)/ssedge-rpi.service
	sed 's|/usr/local/bin/|$(PREFIX)/bin/|' 'tools/ssedge/ssedge@.service' \
	    >'$(DESTDIR)$(UNITDIR)/ssedge@.service'
	install -d $(DESTDIR)$(PREFIX)/share/ssedge
	install -m 644 tools/ssedge/example.conf $(DESTDIR)$(PREFIX)/share/ssedge/
endif

clean:
	rm -rf $(BUILD)
