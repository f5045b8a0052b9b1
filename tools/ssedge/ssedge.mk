# Make rules for tools/ssedge (the ssedge command), included by the Makefile:
# a POSIX-port program, native or cross (CROSS_COMPILE=..., LDFLAGS=-static).
ifeq ($(PORT),posix)
SSEDGE_WEB := $(sort $(wildcard tools/ssedge/web/*))
SSEDGE_OBJS := $(BUILD)/tools/ssedge/main.o $(BUILD)/tools/ssedge/feed.o \
               $(BUILD)/tools/ssedge/child.o $(BUILD)/tools/ssedge/assets.o

# The dashboard's files as C arrays with gzip copies: no files to install.
$(BUILD)/tools/ssedge/assets.c: $(SSEDGE_WEB) scripts/embed.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed.py --name ssedge_assets --out $@ $(SSEDGE_WEB)

$(BIN)/ssedge: $(SSEDGE_OBJS) $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

PROGS += $(BIN)/ssedge
-include $(patsubst %.o,%.d,$(SSEDGE_OBJS))
endif
