# make bench-peers: the other SSE servers of the side-by-side fan-out bench,
# built from bench/ and bench/peers/ into $(BIN): the raw epoll floor,
# libmicrohttpd, CivetWeb, and the publisher that feeds nginx + nchan
# (bench/peers/nchan.sh starts nginx). Not part of `make all`: they need the
# bench group of scripts/deps.sh, installed here on first use.
BENCH_PEERS := $(BIN)/sse_bench_floor $(BIN)/sse_bench_mhd $(BIN)/sse_bench_civetweb \
               $(BIN)/sse_bench_nchan_pub
BENCH_DEPS_OK := $(BUILD)/.deps-bench-ok

# Expanded when used, so pkg-config may be installed by $(BENCH_DEPS_OK) first.
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd)
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd)
# Debian's libcivetweb-dev ships no pkg-config file.
CIVETWEB_LIBS := -lcivetweb

.PHONY: bench-peers
bench-peers: $(BENCH_PEERS)

$(BENCH_DEPS_OK):
	@scripts/deps.sh check bench >/dev/null || scripts/deps.sh install bench
	@mkdir -p $(dir $@) && touch $@

BENCH_PEER_OBJS := $(BUILD)/bench/sse_bench_floor.o $(BUILD)/bench/peers/mhd_sse.o \
                   $(BUILD)/bench/peers/civetweb_sse.o $(BUILD)/bench/peers/nchan_pub.o
$(BENCH_PEER_OBJS): | $(BENCH_DEPS_OK)
$(BUILD)/bench/peers/mhd_sse.o: CPPFLAGS += $(MHD_CFLAGS)

$(BIN)/sse_bench_floor: $(BUILD)/bench/sse_bench_floor.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/sse_bench_mhd: $(BUILD)/bench/peers/mhd_sse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(MHD_LIBS) $(LDLIBS)

$(BIN)/sse_bench_civetweb: $(BUILD)/bench/peers/civetweb_sse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CIVETWEB_LIBS) $(LDLIBS)

$(BIN)/sse_bench_nchan_pub: $(BUILD)/bench/peers/nchan_pub.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(BENCH_PEER_OBJS:.o=.d)
