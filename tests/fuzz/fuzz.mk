# make fuzz FUZZ_SECONDS=N: libFuzzer + ASan + UBSan builds of the parser,
# framer, whole-connection and event-ring targets in build/fuzz (clang, tests/fuzz/
# fuzz_defconfig), each run N seconds by scripts/fuzz.sh on a scratch copy of
# its seed corpus; tests/fuzz/corpus/ is only read.
FUZZ_BUILD   ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_http fuzz_event fuzz_conn fuzz_ring
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all

.PHONY: fuzz fuzz-build fuzz-bins
fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-build:
	@scripts/deps.sh need "make fuzz" fuzz
	$(MAKE) BUILD=$(FUZZ_BUILD) KCONFIG_CONFIG=$(FUZZ_BUILD)/.config \
	    DEFCONFIG=tests/fuzz/fuzz_defconfig CC=clang \
	    OPT="-O1 -g -fno-omit-frame-pointer" SAN="$(FUZZ_SAN)" fuzz-bins

# Used inside that sub-make: the library objects are instrumented through
# SAN (fuzzer-no-link); only the link adds libFuzzer's main.
FUZZ_DIR := $(BUILD)/tests/fuzz
fuzz-bins: $(FUZZ_TARGETS:%=$(BIN)/%)
FUZZ_PROPS := $(FUZZ_DIR)/fuzz_props.o $(BUILD)/tests/ref_text.o $(BUILD)/tests/enc_frames.o
$(BIN)/fuzz_http: $(FUZZ_DIR)/fuzz_http.o $(FUZZ_PROPS) $(LIB)
$(BIN)/fuzz_event: $(FUZZ_DIR)/fuzz_event.o $(FUZZ_PROPS) $(LIB)
$(BIN)/fuzz_conn: $(FUZZ_DIR)/fuzz_conn.o $(FUZZ_DIR)/fuzz_net.o $(LIB)
$(BIN)/fuzz_ring: $(FUZZ_DIR)/fuzz_ring.o   # holds its own small ring
$(FUZZ_TARGETS:%=$(BIN)/%): $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) -fsanitize=fuzzer $(LDLIBS)
-include $(wildcard $(FUZZ_DIR)/*.d)
