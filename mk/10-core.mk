# core/ builds that prove it is freestanding: -ffreestanding -nostdlib, 32 and 64 bits, gcc and
# clang, SH_LINEAR on and off, SH_HARDEN on. The objects are linked into one relocatable object
# whose only undefined symbols must be none: core/ calls nothing outside itself. The object folder starts
# empty, so an object of a source that has since gone is never linked in.
FREESTANDING := -ffreestanding -fno-builtin -nostdlib -fno-stack-protector -fno-pic -O2
FS_CONFIGS := gcc-64 gcc-32 clang-64 clang-32 gcc-64-linear clang-32-linear gcc-32-harden \
	clang-64-harden

fs_cc = $(if $(findstring clang,$(1)),$(CLANG),gcc)
fs_m = $(if $(findstring -32,$(1)),-m32,-m64)
fs_lin = $(if $(findstring linear,$(1)),-DSH_LINEAR=1,)$(if $(findstring harden,$(1)), -DSH_HARDEN=1,)

$(O)/fs/%/core.o: $(CORE_SRCS) $(wildcard core/*.h) | deps-base
	@rm -rf $(dir $@)/obj && mkdir -p $(dir $@)/obj
	@for f in $(CORE_SRCS); do \
		$(call fs_cc,$*) $(WARN) $(FREESTANDING) $(call fs_m,$*) $(call fs_lin,$*) -Icore \
			-c $$f -o $(dir $@)/obj/$$(basename $$f .c).o || exit 1; \
	done
	@ld $(if $(findstring -32,$*),-m elf_i386,) -r -o $@ $(dir $@)/obj/*.o
	@undef=$$(nm -u $@); if [ -n "$$undef" ]; then \
		echo "core/ ($*) calls outside itself:"; echo "$$undef"; exit 1; fi
	@printf '  %-18s %8s bytes of text, no undefined symbols\n' $* \
		"$$(size -A $@ | awk '$$1 ~ /^\.text/ {t += $$2} END {print t}')"

.PHONY: check-freestanding
check-freestanding: $(foreach c,$(FS_CONFIGS),$(O)/fs/$(c)/core.o)
	@echo "check-freestanding: core/ builds freestanding in $(words $(FS_CONFIGS)) configurations"
CHECK_STEPS += check-freestanding
HELP += "  check-freestanding  build core/ -ffreestanding -nostdlib for 32/64-bit, gcc and clang"
