# tests/soak: `make soak SOAK_SECONDS=N` churns clients against a publishing
# sse_attack_server (tests/attack/) and reports loss, duplicates and drift.
include tests/attack/attack.mk

SOAK_SECONDS ?= 60
SOAK_OBJS := $(BUILD)/tests/soak/soak.o
-include $(SOAK_OBJS:.o=.d)

$(BIN)/sse_soak: $(BUILD)/tests/soak/soak.o $(AU_CLIENT_OBJS) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

.PHONY: soak
soak: $(BIN)/sse_soak $(BIN)/sse_attack_server
	timeout -k 10 $$(( $(SOAK_SECONDS) + 180 )) $(BIN)/sse_soak \
	    --server $(BIN)/sse_attack_server --seconds $(SOAK_SECONDS) \
	    --server-log $(BUILD)/soak-server.log $(SOAK_ARGS)
