# Make rules for examples/hello (the README's "Using it" as a program),
# included by the Makefile: POSIX only (signals, sleep), so not in lwIP's all.
ifeq ($(PORT),posix)
$(BIN)/hello: $(BUILD)/examples/hello/main.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

PROGS += $(BIN)/hello
-include $(BUILD)/examples/hello/main.d
endif
