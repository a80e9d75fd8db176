# Caller-bug detection (SH_HARDEN=1) and core's AddressSanitizer poisoning (docs/HARDENING.md,
# "Caller-bug detection").
#
# ASan builds: core's metadata-owning files are compiled without ASan instrumentation and with
# -DSH_ASAN=1 (core/harden.h says why), so that core poisons its metadata and free blocks and
# a caller's wild access into the heap is caught. This applies to the san, linsan and hsan
# libraries (unit tests, soak, exhaustive) and to the libFuzzer, AFL++ and replay fuzz
# builds; a build whose flags lack -fsanitize=address (coverage, big-endian, ARM) is left as
# it was, and so is a build made with CORE_ASAN=0 (check-m32: mk/85-cross.mk says why).
#
# The harden build: the hsan library variant (ASan+UBSan, -DSH_HARDEN=1), and HARDEN=1 for
# the fuzz targets, replay and sh-trace (under $(O)/fuzz/<CORE_DIR>-harden/).
#
#   check-unit-harden     tests/test_harden.c built with SH_HARDEN=1 against the hsan library:
#                         every detection with its exact report, the heap intact after it,
#                         the ASan death tests. Under 2 s once built.
#   check-replay-harden   every committed input through its target's harden build, whose
#                         decoder turns opcodes 0xfe and 0xff into an overrun and a write
#                         into free memory (fuzz/README.md), each report predicted by the
#                         model. About 10 s once built (about 1 min to build).

SH_META_FILES := heap check freeset_index freeset_linear harden
CORE_ASAN ?= 1
ASAN_META := $(if $(filter 1,$(CORE_ASAN)),-fno-sanitize=address -DSH_ASAN=1)

VFLAGS_hsan := -O1 -g $(SAN) -DSH_HARDEN=1
$(eval $(call variant_rules,hsan))
# -O2, no sanitizers: what the harden build costs (make bench SH_REL_LIB=$(O)/hrel/libslotheap.a).
VFLAGS_hrel := -O2 -g -DSH_HARDEN=1
$(eval $(call variant_rules,hrel))
HSAN_LIBS := $(O)/hsan/libslotheap.a $(O)/hsan/libshref.a

# Pattern-specific: also matches the patched copies of core/ that make bugs and make mutation
# build (their objects sit under $(O)/<variant>/<copy>/).
$(foreach v,san linsan hsan finesan,$(if $(findstring address,$(VFLAGS_$(v))),$(foreach \
	f,$(SH_META_FILES),$(eval $(O)/$(v)/%/$(f).o: VFLAGS_$(v) += $(ASAN_META)))))
$(foreach k,libfuzzer afl replay,$(if $(findstring address,$(FZ_CF_$(k))),$(foreach \
	f,$(SH_META_FILES),$(eval $(FUZZ_O)/$(k)/core/$(f).o: FZ_CF_$(k) += $(ASAN_META)))))

HARDEN_UNIT := test_harden
# Without core's poisoning (CORE_ASAN=0) the wild-access death tests have nothing to catch.
ifneq ($(CORE_ASAN),1)
$(O)/san/tests/test_harden.o $(O)/hsan/tests/test_harden.o: CFLAGS += -DSH_TEST_NO_CORE_ASAN
endif
HARDEN_UNIT_BINS := $(addprefix $(O)/hsan/tests/,$(HARDEN_UNIT))
$(patsubst %.c,$(O)/hsan/%.o,$(UNIT_SRCS) $(UNIT_UTIL_SRCS)): $(UNIT_HDRS)
$(O)/hsan/tests/test_%: $(O)/hsan/tests/test_%.o $(patsubst %.c,$(O)/hsan/%.o,$(UNIT_UTIL_SRCS)) \
		$(HSAN_LIBS)
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(VFLAGS_hsan) $(LDFLAGS) -o $@ $< $(patsubst %.c,$(O)/hsan/%.o,$(UNIT_UTIL_SRCS)) \
		$(HSAN_LIBS) -lcmocka

# clang compiles the harden test too (compile only, as check-unit-clang does).
$(O)/clang/harden/tests/%.o: tests/%.c $(UNIT_HDRS) $(wildcard core/*.h ref/*.h fuzz/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(WARN) $(VFLAGS_hsan) $(INCLUDES) $(CFLAGS) -c $< -o $@

.PHONY: check-unit-harden check-replay-harden
check-unit-harden: $(HARDEN_UNIT_BINS) $(patsubst %,$(O)/clang/harden/tests/%.o,$(HARDEN_UNIT))
	@sh tests/run_unit.sh "unit (SH_HARDEN)" $(HARDEN_UNIT_BINS)

check-replay-harden:
	@echo "replay against the SH_HARDEN build"
	@$(MAKE) --no-print-directory replay HARDEN=1

# What make mutation's sub-makes build for these steps (mk/50-bugs.mk, scripts/mutation.py).
BUGS_BUILD_check-unit-harden := $(HARDEN_UNIT_BINS) \
	$(patsubst %,$(O)/clang/harden/tests/%.o,$(HARDEN_UNIT))
BUGS_BUILD_check-replay-harden := bugs-build-replay-harden
.PHONY: bugs-build-replay-harden
bugs-build-replay-harden:
	@$(MAKE) --no-print-directory fuzz-build-replay HARDEN=1

CHECK_STEPS += check-unit-harden check-replay-harden
HELP += "  check-unit-harden   tests/test_harden.c against the SH_HARDEN=1 build (caller-bug reports)"
HELP += "  check-replay-harden every corpus input against the SH_HARDEN build (HARDEN=1 works for fuzz, replay)"
