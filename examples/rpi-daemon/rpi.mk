# Make rules for examples/rpi-daemon (ssedge-rpi), included by the Makefile:
# a POSIX-port program, native or cross (CROSS_COMPILE=..., LDFLAGS=-static).
ifeq ($(PORT),posix)
RPI_WEB := $(sort $(wildcard examples/rpi-daemon/web/*))

# The dashboard's files as C arrays with gzip copies: no files to install.
$(BUILD)/examples/rpi-daemon/assets.c: $(RPI_WEB) scripts/embed.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/embed.py --name rpi_assets --out $@ $(RPI_WEB)

$(BIN)/ssedge-rpi: $(BUILD)/examples/rpi-daemon/main.o \
                   $(BUILD)/examples/rpi-daemon/assets.o $(LIB) $(LD_SIG)
	@mkdir -p $(dir $@)
	$(LINK) $(LDLIBS)

PROGS += $(BIN)/ssedge-rpi
-include $(BUILD)/examples/rpi-daemon/main.d
endif
