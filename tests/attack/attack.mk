# tests/attack: the server under attack and soak, the attack client, and
# `make attack` (included by tests/soak/soak.mk; the guard allows the top
# Makefile to include it as well).
ifndef SSE_ATTACK_MK
SSE_ATTACK_MK := 1
# Included before `all:`: keep `all` the default goal.
.DEFAULT_GOAL := all

ATTACK_OBJS := $(BUILD)/tests/attack/attack_server.o $(BUILD)/tests/attack/attack.o \
               $(BUILD)/tests/attack/attack_util.o
-include $(ATTACK_OBJS:.o=.d)

# The attack client and the soak share the client helpers.
AU_CLIENT_OBJS := $(BUILD)/tests/attack/attack_util.o $(BUILD)/tests/host_util.o

$(BIN)/sse_attack_server: $(BUILD)/tests/attack/attack_server.o $(BUILD)/tests/host_util.o \
                          $(LIB) $(LD_SIG)
$(BIN)/sse_attack: $(BUILD)/tests/attack/attack.o $(AU_CLIENT_OBJS) $(LD_SIG)
$(BIN)/sse_attack_server $(BIN)/sse_attack:
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

.PHONY: attack
attack: $(BIN)/sse_attack $(BIN)/sse_attack_server
	tests/attack/run.sh $(BIN)
endif
