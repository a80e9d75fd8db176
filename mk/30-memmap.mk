# Memory tables, heap placement and the sh-memmap CLI.
#
#   $(O)/sh-memmap     the CLI (tools/sh-memmap.c), built with ASan+UBSan against core/
#   check-memmap       the CLI over every sample map in tests/data/memmaps/ (CSV, boot-log
#                      text and each binary format written by --emit) against the README
#                      table there; the CLI also compiled by $(CLANG) under WARN; and
#                      tests/memmap_m32.c, core/ built -m32 with 64-bit physical addresses
#                      (run where the host can execute 32-bit programs); and that the
#                      seeds in corpus/memmap_parse/ are what the emitters write today
#   memmap-seeds       regenerate corpus/memmap_parse/ from the samples
#
# The unit tests (tests/test_memmap*.c) run in check-unit.

MEMMAP_CLI := $(O)/sh-memmap
MEMMAP_CLI_FLAGS := -D_POSIX_C_SOURCE=200809L

$(MEMMAP_CLI): tools/sh-memmap.c $(SAN_LIBS) $(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(WARN) $(MEMMAP_CLI_FLAGS) $(VFLAGS_san) $(INCLUDES) $(CFLAGS) $< -o $@ \
		$(LDFLAGS) $(SAN_LIBS)

$(O)/clang/tools/sh-memmap.o: tools/sh-memmap.c $(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(WARN) $(MEMMAP_CLI_FLAGS) -O1 $(INCLUDES) $(CFLAGS) -c $< -o $@

$(O)/m32/memmap_m32: tests/memmap_m32.c $(CORE_SRCS) $(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) -m32 $(WARN) -O1 -g $(SAN) -Icore $(CFLAGS) $(CORE_SRCS) $< -o $@ $(LDFLAGS)

.PHONY: sh-memmap check-memmap memmap-seeds
sh-memmap: $(MEMMAP_CLI)

check-memmap: $(MEMMAP_CLI) $(O)/clang/tools/sh-memmap.o $(O)/m32/memmap_m32
	@MEMMAP_CORPUS=corpus/memmap_parse bash scripts/check-memmap.sh $(MEMMAP_CLI) \
		tests/data/memmaps $(O)/memmap $(O)/m32/memmap_m32

memmap-seeds: $(MEMMAP_CLI)
	@bash scripts/gen-memmap-seeds.sh $(MEMMAP_CLI) tests/data/memmaps corpus/memmap_parse

CHECK_STEPS += check-memmap
HELP += "  sh-memmap           build $(O)/sh-memmap: print a memory table's map and heap placement"
HELP += "  check-memmap        sh-memmap over every sample map and format vs. the README answers"
HELP += "  memmap-seeds        regenerate corpus/memmap_parse/ with sh-memmap --emit"
