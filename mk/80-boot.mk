# The example payload (examples/payload/) booted by real loaders under QEMU; the
# libpayload-compatible calls (compat/libpayload/); make install.
#
#   payload        $(O)/payload/payload.elf: a 32-bit multiboot v1 + multiboot2 image
#   boot           boot it with each loader (QEMU's multiboot v1, GRUB multiboot2 from an
#                  ISO, a simulated coreboot hand-off) at each of BOOT_SIZES and check from the
#                  serial log where the heap went (scripts/boot.py, docs/BOOT.md). About 25 s
#                  on 2 cores under TCG (BOOT_ACCEL=kvm where KVM works); logs in
#                  $(O)/boot/logs/. In make check.
#   check-install  make install into $(O)/install-test and build the payload against the
#                  installed headers, libraries and pkg-config files. In make check.
#   install        PREFIX=/usr/local DESTDIR=: headers, libslotheap.a for the host and for
#                  each target built (i386-elf: the payload's freestanding build;
#                  arm-none-eabi when its compiler is installed), the libpayload-compatible
#                  library, pkg-config files.
#
# The unit test of the libpayload calls, tests/test_libpayload.c, links them built with
# SH_LP_PREFIXED (sh_lp_test_malloc, ...), so the host's malloc stays the C library's.

# The libpayload calls under their prefixed names, for the host unit test.
LP_TEST_OBJ := $(O)/san/compat/libpayload/lp_malloc_prefixed.o
$(LP_TEST_OBJ): compat/libpayload/lp_malloc.c compat/libpayload/slotheap_libpayload.h \
		$(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) $(VFLAGS_san) -DSH_LP_PREFIXED -Icore -Icompat/libpayload $(CFLAGS) \
		-c $< -o $@
UNIT_LIBS_test_libpayload += $(LP_TEST_OBJ)
$(O)/tests/test_libpayload: $(LP_TEST_OBJ)
$(O)/linsan/tests/test_libpayload: $(LP_TEST_OBJ)
# override: make mutation and make bugs pass CFLAGS on the command line, which would otherwise
# drop these.
$(O)/san/tests/test_libpayload.o $(O)/linsan/tests/test_libpayload.o \
$(O)/clang/tests/test_libpayload.o $(O)/clang/lin/tests/test_libpayload.o: \
	override CFLAGS += -DSH_LP_PREFIXED -Icompat/libpayload

BOOT_SIZES ?= 64M,512M,3G,5G
BOOT_LOADERS ?= multiboot1,multiboot2,coreboot
BOOT_TIMEOUT ?= 120
BOOT_OPTIONS ?= slotheap.size=16M slotheap.slots=2048
BOOT_QEMU ?= qemu-system-x86_64
BOOT_ACCEL ?= tcg
PAYLOAD_OPS ?= 6000

PAYLOAD_DIR := $(O)/payload
PAYLOAD := $(PAYLOAD_DIR)/payload.elf
PAYLOAD_ISO := $(O)/boot/payload.iso
PAYLOAD_CC ?= gcc
# Freestanding 32-bit, no SSE (the payload does not enable it), no unwind tables.
PAYLOAD_CFLAGS := -m32 -march=i686 -ffreestanding -fno-builtin -fno-stack-protector -fno-pic \
	-fno-pie -O2 -mgeneral-regs-only -fno-asynchronous-unwind-tables
PAYLOAD_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,--no-warn-rwx-segments
PAYLOAD_INC := -Icore -Iexamples/selftest -Icompat/libpayload
PAYLOAD_SRCS := examples/payload/payload.c examples/selftest/selftest.c \
	compat/libpayload/lp_malloc.c
PAYLOAD_HDRS := $(wildcard core/*.h) examples/selftest/selftest.h \
	compat/libpayload/slotheap_libpayload.h
# The target's library: core/ built the payload's way (also what make install ships).
I386_LIB := $(PAYLOAD_DIR)/lib/libslotheap.a
I386_LP_LIB := $(PAYLOAD_DIR)/lib/libslotheap_libpayload.a

$(PAYLOAD_DIR)/core/%.o: core/%.c $(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	@echo "  CC (i386)  $<"
	$(Q)$(PAYLOAD_CC) $(WARN) $(PAYLOAD_CFLAGS) -Icore -c $< -o $@
$(I386_LIB): $(patsubst core/%.c,$(PAYLOAD_DIR)/core/%.o,$(CORE_SRCS))
	@mkdir -p $(dir $@) && rm -f $@
	$(Q)ar rcs $@ $^
$(PAYLOAD_DIR)/obj/%.o: %.c $(PAYLOAD_HDRS) | deps-base
	@mkdir -p $(dir $@)
	@echo "  CC (i386)  $<"
	$(Q)$(PAYLOAD_CC) $(WARN) $(PAYLOAD_CFLAGS) $(PAYLOAD_INC) \
		-DPAYLOAD_SELFTEST_OPS=$(PAYLOAD_OPS)u -c $< -o $@
$(I386_LP_LIB): $(PAYLOAD_DIR)/obj/compat/libpayload/lp_malloc.o
	@mkdir -p $(dir $@) && rm -f $@
	$(Q)ar rcs $@ $^
$(PAYLOAD_DIR)/obj/entry.o: examples/payload/entry.S | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(PAYLOAD_CC) -m32 -c $< -o $@
$(PAYLOAD): $(PAYLOAD_DIR)/obj/entry.o $(PAYLOAD_DIR)/obj/examples/payload/payload.o \
		$(PAYLOAD_DIR)/obj/examples/selftest/selftest.o $(I386_LP_LIB) $(I386_LIB) \
		examples/payload/link.ld
	@echo "  LD         $@"
	$(Q)$(PAYLOAD_CC) $(PAYLOAD_LDFLAGS) -T examples/payload/link.ld -o $@ \
		$(filter %.o %.a,$^) -lgcc
	@printf '  payload    %s: %s bytes loaded, %s bytes in all\n' $@ \
		"$$(size -A $@ | awk '$$1 ~ /^\.(text|rodata|data)$$/ {t += $$2} END {print t}')" \
		"$$(size -A $@ | awk '$$1 ~ /^\.(text|rodata|data|bss)$$/ {t += $$2} END {print t}')"

$(PAYLOAD_ISO): $(PAYLOAD) | deps-boot
	@rm -rf $(O)/boot/iso && mkdir -p $(O)/boot/iso/boot/grub
	@cp $(PAYLOAD) $(O)/boot/iso/boot/payload.elf
	@printf 'set timeout=0\nset default=0\nmenuentry "slotheap payload" {\n\tmultiboot2 /boot/payload.elf %s\n\tboot\n}\n' \
		"$(BOOT_OPTIONS)" >$(O)/boot/iso/boot/grub/grub.cfg
	@echo "  ISO        $@ (grub-mkrescue, multiboot2)"
	$(Q)grub-mkrescue -o $@ $(O)/boot/iso >$(O)/boot/grub-mkrescue.log 2>&1 || \
		{ cat $(O)/boot/grub-mkrescue.log; exit 1; }

.PHONY: payload boot deps-boot
payload: $(PAYLOAD)

deps-boot: | deps-base
	@bash $(INSTALL_DEPS) boot

boot: $(PAYLOAD) $(PAYLOAD_ISO) | deps-boot
	$(Q)nice -n 10 $(PYTHON) scripts/boot.py --payload $(PAYLOAD) --iso $(PAYLOAD_ISO) \
		--qemu $(BOOT_QEMU) --out $(O)/boot/logs --loaders $(BOOT_LOADERS) \
		--sizes $(BOOT_SIZES) --timeout $(BOOT_TIMEOUT) --accel $(BOOT_ACCEL) --options "$(BOOT_OPTIONS)"

# make check runs both: about 25 s (boot, 12 runs under TCG) and 10 s (check-install).
CHECK_STEPS += boot check-install
HELP += "  payload             build the example boot payload ($(PAYLOAD))"
HELP += "  boot                boot it with QEMU multiboot v1, GRUB multiboot2 and a simulated coreboot table at BOOT_SIZES"

# ---- make install ----
# Layout under $(DESTDIR)$(PREFIX):
#   include/slotheap/{slotheap.h,memmap.h,slotheap_libpayload.h}
#   lib/libslotheap.a                          the host build (-O2)
#   lib/slotheap/<target>/libslotheap.a        each target built; i386-elf is the payload's
#   lib/slotheap/<target>/libslotheap_libpayload.a   freestanding 32-bit build
#   lib/pkgconfig/slotheap.pc, slotheap-<target>.pc (the latter with the libpayload calls)
# Other fragments add a target with  INSTALL_TARGETS += name  and  INSTALL_LIBS_name :=
# path/to/libslotheap.a [path/to/libslotheap_libpayload.a]  (and a prerequisite rule).
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_TARGETS += i386-elf
INSTALL_LIBS_i386-elf := $(I386_LIB) $(I386_LP_LIB)
INSTALL_CFLAGS_i386-elf := -m32 -ffreestanding
# Bare-metal ARM (Cortex-M3), when arm-none-eabi-gcc is there (scripts/install-deps.sh's
# cross tools): core/ and the libpayload calls built freestanding for it.
INSTALL_ARM_CC ?= arm-none-eabi-gcc
INSTALL_ARM_FLAGS := -mcpu=cortex-m3 -mthumb -ffreestanding -fno-builtin -nostdlib \
	-fno-stack-protector -O2
ifneq ($(shell command -v $(INSTALL_ARM_CC) 2>/dev/null),)
ARM_INSTALL_DIR := $(O)/install-libs/arm-none-eabi
$(ARM_INSTALL_DIR)/obj/%.o: %.c $(PAYLOAD_HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC (arm)   $<"
	$(Q)$(INSTALL_ARM_CC) $(WARN) $(INSTALL_ARM_FLAGS) -Icore -Icompat/libpayload -c $< -o $@
$(ARM_INSTALL_DIR)/libslotheap.a: $(patsubst %.c,$(ARM_INSTALL_DIR)/obj/%.o,$(CORE_SRCS))
	@rm -f $@
	$(Q)arm-none-eabi-ar rcs $@ $^
$(ARM_INSTALL_DIR)/libslotheap_libpayload.a: $(ARM_INSTALL_DIR)/obj/compat/libpayload/lp_malloc.o
	@rm -f $@
	$(Q)arm-none-eabi-ar rcs $@ $^
INSTALL_TARGETS += arm-none-eabi
INSTALL_LIBS_arm-none-eabi := $(ARM_INSTALL_DIR)/libslotheap.a \
	$(ARM_INSTALL_DIR)/libslotheap_libpayload.a
INSTALL_CFLAGS_arm-none-eabi := -mcpu=cortex-m3 -mthumb -ffreestanding
endif
INSTALL_HDRS := core/slotheap.h core/memmap.h compat/libpayload/slotheap_libpayload.h
SH_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# pc_write(target, file): writes a pkg-config file; no target is the host's.
pc_write = printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$${prefix}/include/slotheap' \
	'libdir=$${prefix}/lib$(if $(1),/slotheap/$(1))' '' 'Name: slotheap$(if $(1),-$(1))' \
	'Description: slotheap allocator$(if $(1), for $(1) (freestanding; with the libpayload calls))' \
	'Version: $(SH_VERSION)' 'Cflags: -I$${includedir}$(if $(1), $(INSTALL_CFLAGS_$(1)))' \
	'Libs: -L$${libdir}$(if $(1), -lslotheap_libpayload) -lslotheap' >$(2)

.PHONY: install check-install
install: $(REL_LIBS) $(foreach t,$(INSTALL_TARGETS),$(INSTALL_LIBS_$(t)))
	@echo "  INSTALL    $(DESTDIR)$(PREFIX)"
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/slotheap $(DESTDIR)$(PREFIX)/lib/pkgconfig
	$(Q)install -m 644 $(INSTALL_HDRS) $(DESTDIR)$(PREFIX)/include/slotheap/
	$(Q)install -m 644 $(O)/rel/libslotheap.a $(DESTDIR)$(PREFIX)/lib/
	$(Q)$(call pc_write,,$(DESTDIR)$(PREFIX)/lib/pkgconfig/slotheap.pc)
	$(Q)$(foreach t,$(INSTALL_TARGETS),install -d $(DESTDIR)$(PREFIX)/lib/slotheap/$(t) && \
		install -m 644 $(INSTALL_LIBS_$(t)) $(DESTDIR)$(PREFIX)/lib/slotheap/$(t)/ && \
		$(call pc_write,$(t),$(DESTDIR)$(PREFIX)/lib/pkgconfig/slotheap-$(t).pc) &&) true
	@echo "  installed  headers, host library, $(words $(INSTALL_TARGETS)) target(s): $(INSTALL_TARGETS)"

# Installs into a scratch root and builds against it, through pkg-config only: the host CLI
# (tools/sh-memmap.c, run over a sample map) and the example payload, which must boot
# (multiboot v1, 512 MiB) and pass as the one built in the tree does.
INSTALL_TEST := $(O)/install-test
# Built here first, so that the install sub-make finds them up to date and never builds them
# at the same time as this make does for boot.
check-install: $(REL_LIBS) $(foreach t,$(INSTALL_TARGETS),$(INSTALL_LIBS_$(t))) | deps-boot
	@rm -rf $(INSTALL_TEST)
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(abspath $(INSTALL_TEST))/root PREFIX=/usr
	$(Q)PKG_CONFIG_SYSROOT_DIR=$(abspath $(INSTALL_TEST))/root \
		PKG_CONFIG_LIBDIR=$(abspath $(INSTALL_TEST))/root/usr/lib/pkgconfig \
		INSTALL_TEST=$(INSTALL_TEST) PAYLOAD_CC=$(PAYLOAD_CC) CC=$(CC) \
		PAYLOAD_CFLAGS="$(PAYLOAD_CFLAGS)" PAYLOAD_LDFLAGS="$(PAYLOAD_LDFLAGS)" \
		PYTHON=$(PYTHON) BOOT_QEMU=$(BOOT_QEMU) bash scripts/boot-install-test.sh
HELP += "  install             PREFIX=/usr/local DESTDIR=: headers, host and target libraries, pkg-config"
HELP += "  check-install       install into $(O)/install-test and build the CLI and the payload from it"
