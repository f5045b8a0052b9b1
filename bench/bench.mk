# make bench-peers: the other SSE servers of the side-by-side fan-out bench,
# built from bench/ and bench/peers/ into $(BIN): the raw epoll floor,
# libmicrohttpd, CivetWeb, and the publisher that feeds nginx + nchan
# (bench/peers/nchan.sh starts nginx). Not part of `make all`: they need the
# bench group of scripts/deps.sh (make bench installs it; here it is only
# checked, and what is missing named).
BENCH_PEERS := $(BIN)/sse_bench_floor $(BIN)/sse_bench_mhd $(BIN)/sse_bench_civetweb \
               $(BIN)/sse_bench_nchan_pub

# Expanded when used: only the builds of the peers need pkg-config's answer.
MHD_CFLAGS = $(shell pkg-config --cflags libmicrohttpd)
MHD_LIBS   = $(shell pkg-config --libs libmicrohttpd)
# Debian's libcivetweb-dev ships no pkg-config file.
CIVETWEB_LIBS := -lcivetweb

.PHONY: bench-peers need-bench
bench-peers: $(BENCH_PEERS)

need-bench:
	@scripts/deps.sh need "make bench-peers" bench

BENCH_PEER_OBJS := $(BUILD)/bench/sse_bench_floor.o $(BUILD)/bench/peers/mhd_sse.o \
                   $(BUILD)/bench/peers/civetweb_sse.o $(BUILD)/bench/peers/nchan_pub.o
$(BENCH_PEER_OBJS): | need-bench
$(BUILD)/bench/peers/mhd_sse.o: CPPFLAGS += $(MHD_CFLAGS)

$(BIN)/sse_bench_floor: $(BUILD)/bench/sse_bench_floor.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

$(BIN)/sse_bench_mhd: $(BUILD)/bench/peers/mhd_sse.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(MHD_LIBS) $(LDLIBS)

$(BIN)/sse_bench_civetweb: $(BUILD)/bench/peers/civetweb_sse.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(CIVETWEB_LIBS) $(LDLIBS)

$(BIN)/sse_bench_nchan_pub: $(BUILD)/bench/peers/nchan_pub.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

-include $(BENCH_PEER_OBJS:.o=.d)
