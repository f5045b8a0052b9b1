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
DEPS_OK := $(BUILD)/.deps-ok

# CROSS_COMPILE=aarch64-linux-gnu- picks the cross gcc, ar and size.
CROSS_COMPILE ?=
ifneq ($(CROSS_COMPILE),)
CC      := $(CROSS_COMPILE)gcc
AR      := $(CROSS_COMPILE)ar
endif
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
WARN    := -Wall -Wextra -Werror -Wshadow -Wundef -Wstrict-prototypes
CFLAGS  := -std=c99 $(OPT) $(WARN) $(SAN) -fno-common
CPPFLAGS := -imacros $(CONFIG_H) -Iinclude -Icore -Iport
LDLIBS   = -lpthread
# Link-only flags: e.g. LDFLAGS=-static for a cross build run under qemu-user.
LDFLAGS ?=

# Configuration goals read an existing .config but never make one first.
CONFIG_GOALS := defconfig olddefconfig menuconfig savedefconfig $(PRESETS) help deps clean
ifneq ($(filter $(CONFIG_GOALS),$(MAKECMDGOALS)),)
-include $(wildcard $(KCONFIG_CONFIG))
else
-include $(KCONFIG_CONFIG)
endif

PORT-$(CONFIG_SSE_PORT_POSIX) := posix
PORT-$(CONFIG_SSE_PORT_LWIP)  := lwip
PORT := $(PORT-y)
CPPFLAGS += -Iport/$(PORT)
# The lwIP port builds against an lwIP's headers: Debian's hosted lwIP by
# default (pkg-config lwip); a board build sets LWIP_CFLAGS to its own.
ifeq ($(PORT),lwip)
LWIP_CFLAGS ?= $(shell pkg-config --cflags lwip 2>/dev/null)
LWIP_LIBS   ?= $(shell pkg-config --libs lwip 2>/dev/null)
CPPFLAGS += $(LWIP_CFLAGS)
endif
# mbedTLS 2.28 ships no pkg-config file.
TLS_LIBS-$(CONFIG_SSE_TLS) := -lmbedtls -lmbedx509 -lmbedcrypto
LDLIBS += $(TLS_LIBS-y)

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
        check-layers \
        install clean help $(PRESETS)
all: $(PROGS)
lib: $(LIB)

help:
	@echo "make            build library, examples, bench and tests into $(BUILD)/"
	@echo "make run        build, then the telemetry example on :8080"
	@echo "make run-tls    the same over https on :8443 (development certificate)"
	@echo "make test       unit + integration suites: gcc, clang, ASan+UBSan, TSan"
	@echo "make bench      fan-out bench: ssedge next to an epoll floor and peer servers"
	@echo "make bench-lwip the same against the lwIP port over a tap link (root)"
	@echo "make bench-hub  an uplink through nginx + nchan, and 2000 subscribers on the hub"
	@echo "make size       flash/static RAM of the library at 4 and 16 connections (SIZE_DEFCONFIG=...)"
	@echo "make deps       install the Debian packages the build needs"
	@echo "make defconfig|menuconfig|olddefconfig|savedefconfig|NAME_defconfig (configs/)"
	@echo "make O=dir ...  out-of-tree: .config and outputs in dir; CROSS_COMPILE=prefix-"
	@echo "make install    PREFIX=/usr/local DESTDIR=: library, headers, ssedge.pc, ssedge, daemon, units"
	@echo "make size-all   the footprint table over every preset"
	@echo "make check-presets  every preset builds with -Werror and round-trips savedefconfig"

# ---- dependencies: installed on first use ------------------------------------
$(DEPS_OK):
	@scripts/deps.sh check build test >/dev/null || scripts/deps.sh install build test
	@mkdir -p $(dir $@) && touch $@
deps:
	scripts/deps.sh install build test e2e lwip bench rpi hub
	@mkdir -p $(BUILD) && touch $(DEPS_OK)

# ---- configuration ----------------------------------------------------------
$(KCONFIG_CONFIG): | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(PYTHON) -m defconfig --kconfig $(KCONFIG) $(DEFCONFIG)
$(CONFIG_H): $(KCONFIG_CONFIG) $(KCONFIG) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(PYTHON) -m genconfig --header-path $@ $(KCONFIG)
defconfig: | $(DEPS_OK)
	$(PYTHON) -m defconfig --kconfig $(KCONFIG) $(DEFCONFIG)
olddefconfig: | $(DEPS_OK)
	$(PYTHON) -m olddefconfig $(KCONFIG)
menuconfig: | $(DEPS_OK)
	$(PYTHON) -m menuconfig $(KCONFIG)
savedefconfig: | $(DEPS_OK)
	$(PYTHON) -m savedefconfig --kconfig $(KCONFIG) --out $(dir $(KCONFIG_CONFIG))defconfig
# make NAME_defconfig: the preset configs/NAME_defconfig (with O= or
# KCONFIG_CONFIG= for another tree).
$(PRESETS): | $(DEPS_OK)
	@mkdir -p $(dir $(KCONFIG_CONFIG))
	$(PYTHON) -m defconfig --kconfig $(KCONFIG) configs/$@

# ---- compile ----------------------------------------------------------------
$(BUILD)/%.o: %.c $(CONFIG_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@
BENCH_CLIENT_OBJS := $(patsubst %.c,$(BUILD)/%.o,bench/sse_bench_client.c $(wildcard bench/client/*.c))
APP_OBJS := $(BUILD)/examples/telemetry/main.o $(BUILD)/bench/sse_bench_server.o \
            $(BENCH_CLIENT_OBJS) $(BUILD)/tests/e2e/e2e_server.o \
            $(BUILD)/examples/lwip_host/main.o
-include $(patsubst %.o,%.d,$(LIB_OBJS) $(TEST_OBJS) $(APP_OBJS))

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# The dashboard's files become C arrays (and gzip copies): firmware serves
# them from flash with no file system.
WEB := $(sort $(wildcard examples/telemetry/web/*))
$(BUILD)/examples/telemetry/assets.c: $(WEB) scripts/embed.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed.py --name telemetry_assets --out $@ $(WEB)

$(BIN)/telemetry: $(BUILD)/examples/telemetry/main.o $(BUILD)/examples/telemetry/assets.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/sse_lwip_host: $(BUILD)/examples/lwip_host/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LWIP_LIBS) $(LDLIBS)

$(BIN)/sse_e2e_server: $(BUILD)/tests/e2e/e2e_server.o $(BUILD)/tests/host_util.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bench/sse_bench_server.o: CPPFLAGS += -Itests
$(BIN)/sse_bench_server: $(BUILD)/bench/sse_bench_server.o $(BACKEND_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LWIP_LIBS) $(LDLIBS)

$(BIN)/sse_bench_client: $(BENCH_CLIENT_OBJS) $(BUILD)/tests/host_util.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lm

$(BIN)/sse_tests: $(TEST_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcunit $(LWIP_LIBS) $(LDLIBS)

# ---- run --------------------------------------------------------------------
run: $(BIN)/telemetry
	$(BIN)/telemetry --port 8080

# https on :8443 with a development certificate made on the spot (never
# committed): a TLS build of its own in build/tls.
TLS_BUILD := build/tls
run-tls: | $(DEPS_OK)
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

test: | $(DEPS_OK)
	@scripts/run-tests.sh

bench: all bench-peers | $(DEPS_OK)
	@scripts/deps.sh check bench >/dev/null || scripts/deps.sh install bench
	$(MAKE) BUILD=$(TLS_BUILD) KCONFIG_CONFIG=$(TLS_BUILD)/.config \
	    DEFCONFIG=configs/posix_tls_defconfig $(TLS_BUILD)/bin/sse_bench_server \
	    $(TLS_BUILD)/bin/sse_bench_client
	@scripts/bench.sh $(BIN)
	@bench/cmd_bench.sh $(BIN)

# The hub (issue 13): events/s one uplink gets through nginx + nchan, and
# fan-out through two nodes to 2000 subscribers next to ssedge directly.
bench-hub: all bench-peers | $(DEPS_OK)
	@scripts/deps.sh check hub >/dev/null || scripts/deps.sh install hub
	bench/hub_bench.sh $(BIN)

# The same fan-out with the server on the lwIP port (Debian's hosted lwIP on
# a tap link in a network namespace; needs root). The client is the host's.
# Up to 300 streams: Debian's lwIP (one tcpip thread, linear PCB lookup per
# segment) times connects out at 1000 over tap, and a board has a handful.
LWIP_BENCH_POINTS ?= 10:1000:0 100:1000:0 300:100:0 100:1000:5 300:1000:5
LWIP_SUITE := build/lwip-suite
LWIP_SUITE_ARGS := BUILD=$(LWIP_SUITE) KCONFIG_CONFIG=$(LWIP_SUITE)/.config \
    DEFCONFIG=configs/lwip_host_suite_defconfig \
    LWIP_CFLAGS="$$(pkg-config --cflags lwip) -DSSE_LWIP_NO_NETCONN_CHECK"
bench-lwip: $(BIN)/sse_bench_client | $(DEPS_OK)
	@scripts/deps.sh check lwip >/dev/null || scripts/deps.sh install lwip
	$(MAKE) $(LWIP_SUITE_ARGS) $(LWIP_SUITE)/bin/sse_bench_server
	tests/lwip/netns.sh -t 900 env BENCH_MODE=lwip BENCH_HOST=192.168.77.2 BENCH_TLS=0 \
	    BENCH_STALL_SECONDS=0 BENCH_POINTS="$(LWIP_BENCH_POINTS)" BENCH_CLIENT_BIN=$(BIN)/sse_bench_client \
	    scripts/bench.sh $(LWIP_SUITE)/bin

# Flash and static RAM of ssedge's objects at 4 and 16 connections, plus the
# thread stacks (Cortex-M4 + lwIP preset unless SIZE_DEFCONFIG names another).
SIZE_DEFCONFIG ?= configs/cortex_m4_lwip_defconfig
size: | $(DEPS_OK)
	@scripts/size.sh $(SIZE_DEFCONFIG)
size-all: | $(DEPS_OK)
	@scripts/size-all.sh

# Every preset builds with -Werror, and savedefconfig gives each one back.
check-presets: | $(DEPS_OK)
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
