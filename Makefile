# slotheap build. Every variable may be overridden: make CC=clang O=out check
#
#   make check     all tests (unit, soak, memory tables, replay, bug catalog subset, builds, format)
#   make fuzz      time-boxed differential fuzzing campaign (FUZZ_SECONDS, ENGINE, JOBS)
#   make help      every target
#
# Each part of the project keeps its rules in mk/NN-<part>.mk and adds its check steps to
# CHECK_STEPS; this file holds what they share.

O ?= build

# Quiet by default: one short line per library or program built, and each step's own report.
# V=1 shows every command.
V ?= 0
ifeq ($(V),1)
Q :=
msg = @:
else
Q := @
msg = @printf '  %-4s %s\n'
endif
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
PYTHON ?= python3
INSTALL_DEPS := scripts/install-deps.sh

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
	-Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
INCLUDES := -Icore -Iref -Ifuzz
CFLAGS ?=
LDFLAGS ?=

CORE_SRCS := $(wildcard core/*.c)
REF_SRCS := $(wildcard ref/*.c)

# Library variants, each in its own object tree under $(O)/<variant>/:
#   san      ASan+UBSan, -O1: unit tests, soak, replay
#   rel      -O2, no sanitizers: benchmarks, tools
#   linsan   SH_LINEAR=1 with sanitizers: the linear free list, compared against ref too
#   linrel   SH_LINEAR=1, -O2: benchmarks
#   finesan  sanitizers, the free index in its finest shape (leaves of 2 granules, groups of
#            2, a leaf per slot, memalign watermarks in every region): the exhaustive check,
#            whose tiny arenas then span several leaves and levels
VARIANTS := san rel linsan linrel finesan
VFLAGS_san := -O1 -g $(SAN)
VFLAGS_rel := -O2 -g
VFLAGS_linsan := -O1 -g $(SAN) -DSH_LINEAR=1
VFLAGS_linrel := -O2 -g -DSH_LINEAR=1
VFLAGS_finesan := -O1 -g $(SAN) -DSH_INDEX_LEAF_SHIFT=1 -DSH_INDEX_FAN_SHIFT=1 \
	-DSH_INDEX_SLOTS_PER_LEAF=1

define variant_rules
$(O)/$(1)/%.o: %.c $(wildcard core/*.h ref/*.h fuzz/*.h) | deps-base
	@mkdir -p $$(dir $$@)
	$(Q)$$(CC) $$(WARN) $$(VFLAGS_$(1)) $$(INCLUDES) $$(CFLAGS) -c $$< -o $$@
$(O)/$(1)/libslotheap.a: $(patsubst %.c,$(O)/$(1)/%.o,$(CORE_SRCS))
	@rm -f $$@
	$(msg) AR $$@
	$(Q)ar rcs $$@ $$^
$(O)/$(1)/libshref.a: $(patsubst %.c,$(O)/$(1)/%.o,$(REF_SRCS))
	@rm -f $$@
	$(msg) AR $$@
	$(Q)ar rcs $$@ $$^
endef
$(foreach v,$(VARIANTS),$(eval $(call variant_rules,$(v))))

SAN_LIBS := $(O)/san/libslotheap.a $(O)/san/libshref.a
REL_LIBS := $(O)/rel/libslotheap.a $(O)/rel/libshref.a

CHECK_STEPS :=
HELP :=

.PHONY: all check deps-base help clean format format-check
all: $(SAN_LIBS)

deps-base:
	@bash $(INSTALL_DEPS) base

include $(sort $(wildcard mk/*.mk))
CHECK_STEPS += check-make-summary format-check

# Each step runs in its own sub-make, in order (each step builds in parallel with -j); the
# summary says what every step really did. make -k check runs every step and fails if any
# failed; without -k the first failure ends the run, and the summary still follows.
CHECK_KEEP_GOING = $(if $(findstring k,$(firstword -$(MAKEFLAGS))),1,0)
check:
	@MAKE="$(MAKE)" KEEP_GOING=$(CHECK_KEEP_GOING) bash scripts/check.sh $(CHECK_STEPS)

# Probe steps for tests/check_summary.sh, which runs make check with CHECK_STEPS set to these:
# check-probe-NAME passes unless NAME is one of the words of CHECK_PROBE_FAIL.
check-probe-%:
	@if [ -n "$(filter $*,$(CHECK_PROBE_FAIL))" ]; then \
		echo "check-probe-$*: failing as CHECK_PROBE_FAIL asks"; exit 1; fi
	@echo "check-probe-$*: passed"

.PHONY: check-make-summary
check-make-summary:
	@MAKE="$(MAKE)" bash tests/check_summary.sh

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^fuzz/bugs/')
format:
	$(Q)clang-format -i $(FORMAT_FILES)
format-check: | deps-base
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: $(words $(FORMAT_FILES)) files clean"

help:
	@echo "Targets:"
	@echo "  check          all tests; what CI runs (make -k check: every step, then the failed ones)"
	@echo "  V=1            show every command (quiet by default)"
	@echo "  fuzz           differential fuzzing campaign (FUZZ_SECONDS=, ENGINE=libfuzzer|afl, JOBS=)"
	@echo "  format         clang-format every C file;  format-check: fail on a diff"
	@echo "  clean          remove $(O)/"
	@printf '%s\n' $(HELP)

clean:
	$(Q)rm -rf $(O)
