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

$(BIN)/sse_attack_server: $(BUILD)/tests/attack/attack_server.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

$(BIN)/sse_attack: $(BUILD)/tests/attack/attack.o $(BUILD)/tests/attack/attack_util.o $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

.PHONY: attack
attack: $(BIN)/sse_attack $(BIN)/sse_attack_server
	tests/attack/run.sh $(BIN)
endif
