# Make rules for examples/hello (the README's "Using it" as a program),
# included by the Makefile: POSIX only (signals, sleep), so not in lwIP's all.
ifeq ($(PORT),posix)
$(BIN)/hello: $(BUILD)/examples/hello/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

PROGS += $(BIN)/hello
-include $(BUILD)/examples/hello/main.d
endif
