# Other architectures and byte orders (docs/CROSS.md).
#
#   check-m32   the unit tests and the replay of the committed corpus, everything built -m32
#               with ASan+UBSan (i386 cmocka), run here: a sub-make with O=$(O)/m32
#   check-be    the same on a big-endian target: clang --target=$(CROSS_BE_TARGET), UBSan in
#               trap mode (no ASan runtime exists for it), static, run under qemu-user; the
#               tests link tests/minicmocka/ (no cmocka for that target installs beside the
#               host's). Then sh-memmap built for that target must read every committed
#               table and write every binary format exactly as the host build does.
#   check-arm   core/ built for $(ARM_CPU) freestanding with no undefined symbols (default
#               and SH_LINEAR), and the self-test image (examples/arm/) run on
#               qemu-system-arm -M $(ARM_MACHINE): it must PASS with exit status 0, and the
#               build that breaks its heap on purpose must FAIL with status 1
#   cross       all three, with a summary table (scripts/cross.py)
#
# Costs (time make cross on the shared 2-core machine, cold build / everything built):
# check-m32 152 s / 8 s, check-be 123 s / 43 s, check-arm 32 s / 5 s. check-arm runs in make
# check; the other two run in CI through make cross.

CROSS_BE_TARGET ?= s390x-linux-gnu
CROSS_BE_QEMU ?= qemu-s390x
CROSS_BE_CC = $(CLANG) --target=$(CROSS_BE_TARGET)
CROSS_BE_SAN := -fsanitize=undefined -fsanitize-trap=undefined
ARM_CC ?= arm-none-eabi-gcc
ARM_QEMU ?= qemu-system-arm
ARM_MACHINE ?= mps2-an385
ARM_CPU := -mcpu=cortex-m3 -mthumb
ARM_FLAGS := $(ARM_CPU) -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -O2 -g
ARM_SELFTEST_TIMEOUT ?= 120

.PHONY: deps-cross deps-arm cross check-m32 check-be check-arm
deps-cross:
	@bash $(INSTALL_DEPS) base cross
deps-arm:
	@bash $(INSTALL_DEPS) base arm

cross:
	@$(PYTHON) scripts/cross.py steps "$(MAKE) --no-print-directory" check-m32 check-be check-arm

# ---- 32-bit x86 ----
# -m32 rides on CC, not CFLAGS: a CFLAGS given on the command line would override the
# target-specific CFLAGS some fragments add (tests/test_libpayload.o, for one).
# CORE_ASAN=0: core does not poison its regions for ASan here, because tests/test_region_top.c
# gives the heap a region ending at 4 GiB, and in a 32-bit process that range holds the
# process's own stack; poisoning the region's free part would poison the stack. The 64-bit
# builds keep core's poisoning.
M32_MAKE = $(MAKE) --no-print-directory O=$(O)/m32 CC="$(CC) -m32" CORE_ASAN=0
check-m32: | deps-cross
	@echo "check-m32: unit tests and corpus replay, built -m32 with ASan+UBSan ($(O)/m32)"
	$(Q)$(M32_MAKE) check-unit
	$(Q)$(M32_MAKE) replay

# ---- big-endian (s390x under qemu-user) ----
BE_O := $(O)/be
BE_MAKE = $(MAKE) --no-print-directory O=$(BE_O) CC="$(CROSS_BE_CC) -Itests/minicmocka" \
	SAN="$(CROSS_BE_SAN)" LDFLAGS="-static -L$(abspath $(BE_O))/minicmocka $(LDFLAGS)"
$(BE_O)/minicmocka/libcmocka.a: tests/minicmocka/minicmocka.c tests/minicmocka/cmocka.h | deps-cross
	@mkdir -p $(dir $@)
	@echo "  CC      $@ ($(CROSS_BE_TARGET))"
	$(Q)$(CROSS_BE_CC) $(WARN) -O1 -g -Itests/minicmocka -c $< -o $(@:.a=.o)
	$(Q)rm -f $@ && ar rcs $@ $(@:.a=.o)

check-be: $(BE_O)/minicmocka/libcmocka.a $(MEMMAP_CLI) | deps-cross
	@echo "check-be: unit tests, corpus replay and memory tables on $(CROSS_BE_TARGET) (big-endian) under $(CROSS_BE_QEMU)"
	@echo "check-be: UBSan traps; no ASan: clang has no ASan runtime for $(CROSS_BE_TARGET)"
	$(Q)$(BE_MAKE) unit fuzz-build-replay sh-memmap
	$(Q)rm -rf $(BE_O)/run
	$(Q)$(PYTHON) scripts/cross.py wrap $(CROSS_BE_QEMU) $(BE_O)/run/tests $(BE_O)/tests/test_*
	$(Q)$(PYTHON) scripts/cross.py wrap $(CROSS_BE_QEMU) $(BE_O)/run/replay \
		$(BE_O)/fuzz/core/replay/bin/*
	$(Q)$(PYTHON) scripts/cross.py wrap $(CROSS_BE_QEMU) $(BE_O)/run $(BE_O)/sh-memmap
	$(Q)sh tests/run_unit.sh "unit ($(CROSS_BE_TARGET))" $(BE_O)/run/tests/test_*
	$(Q)bash scripts/replay.sh $(BE_O)/run/replay $(FUZZ_TARGETS)
	$(Q)$(PYTHON) scripts/cross.py memmap-compare $(MEMMAP_CLI) $(BE_O)/run/sh-memmap \
		corpus/memmap_parse tests/data/memmaps $(BE_O)/memmap-compare

# ---- bare-metal ARM (Cortex-M3) ----
ARM_CONFIGS := default linear
arm_lin = $(if $(filter linear,$(1)),-DSH_LINEAR=1,)

$(O)/arm/%/core.o: $(CORE_SRCS) $(wildcard core/*.h) | deps-arm
	@rm -rf $(dir $@)/obj && mkdir -p $(dir $@)/obj
	@for f in $(CORE_SRCS); do \
		$(ARM_CC) $(WARN) $(ARM_FLAGS) $(call arm_lin,$*) -Icore \
			-c $$f -o $(dir $@)/obj/$$(basename $$f .c).o || exit 1; \
	done
	@$(ARM_CC) $(ARM_CPU) -nostdlib -r -o $@ $(dir $@)/obj/*.o
	@undef=$$(arm-none-eabi-nm -u $@); if [ -n "$$undef" ]; then \
		echo "core/ (arm $*) calls outside itself:"; echo "$$undef"; exit 1; fi
	@printf '  arm-%-14s %8s bytes of text, no undefined symbols\n' $* \
		"$$(arm-none-eabi-size -A $@ | awk '$$1 ~ /^\.text/ {t += $$2} END {print t}')"

ARM_IMAGE_SRCS := examples/arm/startup.c examples/arm/main.c examples/selftest/selftest.c \
	$(CORE_SRCS)
ARM_IMAGE_DEPS := $(ARM_IMAGE_SRCS) examples/arm/mps2-an385.ld $(wildcard examples/arm/*.h \
	examples/selftest/*.h core/*.h)
$(O)/arm/selftest.elf $(O)/arm/selftest-broken.elf: $(ARM_IMAGE_DEPS) | deps-arm
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(ARM_CC) $(WARN) $(ARM_FLAGS) $(if $(findstring broken,$@),-DSELFTEST_BREAK_HEAP) \
		-Icore -Iexamples/selftest -Iexamples/arm -T examples/arm/mps2-an385.ld \
		$(ARM_IMAGE_SRCS) -lgcc -o $@

ARM_RUN = $(ARM_QEMU) -M $(ARM_MACHINE) -nographic -monitor none -serial none \
	-semihosting-config enable=on,target=native -kernel
check-arm: $(foreach c,$(ARM_CONFIGS),$(O)/arm/$(c)/core.o) $(O)/arm/selftest.elf \
		$(O)/arm/selftest-broken.elf
	$(Q)$(PYTHON) scripts/cross.py qemu-image pass $(ARM_SELFTEST_TIMEOUT) \
		$(ARM_RUN) $(O)/arm/selftest.elf
	$(Q)$(PYTHON) scripts/cross.py qemu-image fail $(ARM_SELFTEST_TIMEOUT) \
		$(ARM_RUN) $(O)/arm/selftest-broken.elf >$(O)/arm/selftest-broken.log || \
		{ cat $(O)/arm/selftest-broken.log; exit 1; }
	@echo "check-arm: the image that breaks its heap on purpose FAILs with status 1, as it must"
	@echo "check-arm: core/ freestanding for $(ARM_CPU) ($(words $(ARM_CONFIGS)) builds), self-test PASS on $(ARM_MACHINE)"

CHECK_STEPS += check-arm
HELP += "  cross               check-m32, check-be and check-arm with a summary (docs/CROSS.md)"
HELP += "  check-m32           unit tests and corpus replay built -m32 (ASan+UBSan), run here"
HELP += "  check-be            unit tests, replay and memory tables on s390x (big-endian) under qemu-user"
HELP += "  check-arm           core/ for Cortex-M3 freestanding; self-test image on qemu-system-arm"
