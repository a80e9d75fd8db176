# Differential fuzzing: fuzz targets, replay, soak, sh-trace, campaign, triage, coverage.
#
# Every fuzz/<target>.c that defines `int LLVMFuzzerTestOneInput(...)` is a target; the other
# fuzz/*.c files (except replay_main.c) are shared code linked into every target. Each target
# builds in four kinds, each from the same sources, under $(FUZZ_O)/<kind>/bin/<target>:
#   libfuzzer  clang -fsanitize=fuzzer,address,undefined
#   afl        afl-clang-fast, ASan+UBSan, AFL++'s libFuzzer driver (persistent mode)
#   replay     $(CC) + ASan+UBSan + fuzz/replay_main.c: runs files and directories
#   cov        clang source-based coverage + fuzz/replay_main.c
# CORE_DIR names the allocator sources (default core): `make fuzz CORE_DIR=path/to/copy`
# fuzzes a modified copy without touching core/. Objects go to $(O)/fuzz/<CORE_DIR>/.
# LINEAR=1 builds everything with -DSH_LINEAR=1 (the linear free list), under
# $(O)/fuzz/<CORE_DIR>-linear/, so the fuzzers hold that build to the same model.
# TINY=1 is fault injection (-DDH_TINY, under $(O)/fuzz/<CORE_DIR>-tiny/): the engine cuts
# every region to at most 32 granules and 4 slots, so slots and memory run out on most steps;
# ops_differential frees everything at the end of each input and checks nothing leaked.
#
#   make fuzz [FUZZ_SECONDS=180] [ENGINE=libfuzzer|afl] [JOBS=1] [TARGETS="a b"] [FUZZ_SEED=n]
#   make replay                   every corpus file through its target (check-replay)
#   make triage CRASH=file [TARGET=ops_differential] [NAME=name]
#   make corpus-merge             fold new inputs from $(FUZZ_WORK) into corpus/
#   make coverage                 line/branch coverage of core/ by unit tests and corpus
#   make sh-trace                 $(O)/sh-trace: bytes <-> text traces, step-by-step runs

CORE_DIR ?= core
LINEAR ?= 0
TINY ?= 0
HARDEN ?= 0
FUZZ_SECONDS ?= 180
ENGINE ?= libfuzzer
JOBS ?= 1
AFL_CC ?= afl-clang-fast
LLVM_PROFDATA ?= $(shell command -v llvm-profdata || command -v llvm-profdata-14)
LLVM_COV ?= $(shell command -v llvm-cov || command -v llvm-cov-14)

FUZZ_TAG := $(subst /,_,$(patsubst %/,%,$(CORE_DIR)))$(if $(filter 1,$(LINEAR)),-linear)$(if \
	$(filter 1,$(TINY)),-tiny)$(if $(filter 1,$(HARDEN)),-harden)
FUZZ_DEFS := $(if $(filter 1,$(LINEAR)),-DSH_LINEAR=1) $(if $(filter 1,$(TINY)),-DDH_TINY=1) \
	$(if $(filter 1,$(HARDEN)),-DSH_HARDEN=1)
FUZZ_O := $(O)/fuzz/$(FUZZ_TAG)
FUZZ_WORK ?= $(O)/fuzz-work/$(FUZZ_TAG)

FUZZ_TARGETS := $(sort $(basename $(notdir \
	$(shell grep -lE '^int LLVMFuzzerTestOneInput\(.*\)$$' fuzz/*.c 2>/dev/null))))
FUZZ_COMMON_SRCS := $(filter-out fuzz/replay_main.c $(patsubst %,fuzz/%.c,$(FUZZ_TARGETS)), \
	$(wildcard fuzz/*.c))
FUZZ_CORE_SRCS := $(wildcard $(CORE_DIR)/*.c)
FUZZ_HDRS := $(wildcard $(CORE_DIR)/*.h core/*.h ref/*.h fuzz/*.h)
FUZZ_INCLUDES := $(FUZZ_DEFS) -I$(CORE_DIR) -Icore -Iref -Ifuzz

FZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FZ_CC_libfuzzer = $(CLANG)
FZ_CF_libfuzzer = -O1 -g -fsanitize=fuzzer-no-link $(FZ_SAN)
FZ_LD_libfuzzer = -fsanitize=fuzzer $(FZ_SAN)
FZ_CC_afl = $(AFL_CC)
FZ_CF_afl = -O1 -g $(FZ_SAN)
FZ_LD_afl = -fsanitize=fuzzer $(FZ_SAN)
FZ_CC_replay = $(CC)
FZ_CF_replay = -O1 -g $(SAN)
FZ_LD_replay = $(SAN)
FZ_CC_cov = $(CLANG)
FZ_CF_cov = -O0 -g -fprofile-instr-generate -fcoverage-mapping
FZ_LD_cov = -fprofile-instr-generate
# Comparison tracing (libFuzzer's trace-cmp) more than doubles the cost of the allocator's
# and the model's checking walks and teaches the engine little there; it stays on only for
# the table parsers, where it finds signatures and checksums.
FUZZ_TRACE_CMP ?= cbtable memmap
FZ_NOCMP_libfuzzer = -fno-sanitize-coverage=trace-cmp
# The harness (fuzz/*.c) is not instrumented for coverage: the engines learn from the
# allocator and the model, and the checking loops would only slow them down.
FZ_HCC_libfuzzer = $(CLANG)
FZ_HCF_libfuzzer = -O1 -g $(FZ_SAN)
FZ_HCC_afl = $(CLANG)
FZ_HCF_afl = -O1 -g $(FZ_SAN)
FZ_MAIN_replay = $(FUZZ_O)/replay/fuzz/replay_main.o
FZ_MAIN_cov = $(FUZZ_O)/cov/fuzz/replay_main.o
# The engines' builds count executions in a file shared by every process of a run
# (fuzz/counter/exec_counter.c), so make fuzz reports them the same way for every engine.
FZ_COUNTER_libfuzzer = $(FUZZ_O)/libfuzzer/fuzz/counter/exec_counter.o
FZ_COUNTER_afl = $(FUZZ_O)/afl/fuzz/counter/exec_counter.o
FZ_WRAP_libfuzzer = -Wl,--wrap=LLVMFuzzerTestOneInput
FZ_WRAP_afl = -Wl,--wrap=LLVMFuzzerTestOneInput
FZ_DEPS_libfuzzer = deps-fuzz
FZ_DEPS_afl = deps-fuzz
FZ_DEPS_replay = deps-base
FZ_DEPS_cov = deps-base

# Objects shared by every target of a kind: core (from CORE_DIR), ref, shared fuzz code.
fz_lib_objs = $(patsubst $(CORE_DIR)/%.c,$(FUZZ_O)/$(1)/core/%.o,$(FUZZ_CORE_SRCS)) \
	$(patsubst %.c,$(FUZZ_O)/$(1)/%.o,$(REF_SRCS) $(FUZZ_COMMON_SRCS))

# Each kind records its compiler and flags; objects rebuild when they change.
.PHONY: fuzz-flags-force
define fuzz_kind
$(FUZZ_O)/$(1)/.flags: fuzz-flags-force
	@mkdir -p $$(dir $$@)
	@f='$$(FZ_CC_$(1)) $$(FZ_CF_$(1)) $$(FZ_NOCMP_$(1)) $$(FZ_HCF_$(1)) $$(FZ_LD_$(1)) \
		$$(FUZZ_TRACE_CMP) $$(CFLAGS) $$(LDFLAGS)'; \
		[ "$$$$(cat $$@ 2>/dev/null)" = "$$$$f" ] || echo "$$$$f" >$$@
$(FUZZ_O)/$(1)/core/%.o: $(CORE_DIR)/%.c $(FUZZ_HDRS) $(FUZZ_O)/$(1)/.flags | $(FZ_DEPS_$(1))
	@mkdir -p $$(dir $$@)
	$(Q)$$(FZ_CC_$(1)) $$(WARN) $$(FZ_CF_$(1)) $$(if $$(filter $$*,$(FUZZ_TRACE_CMP)),,$$(FZ_NOCMP_$(1))) \
		$$(FUZZ_INCLUDES) $$(CFLAGS) -c $$< -o $$@
$(FUZZ_O)/$(1)/%.o: %.c $(FUZZ_HDRS) $(FUZZ_O)/$(1)/.flags | $(FZ_DEPS_$(1))
	@mkdir -p $$(dir $$@)
	$(Q)$$(FZ_CC_$(1)) $$(WARN) $$(FZ_CF_$(1)) $$(FZ_NOCMP_$(1)) $$(FUZZ_INCLUDES) $$(CFLAGS) -c $$< -o $$@
$(FUZZ_O)/$(1)/fuzz/%.o: fuzz/%.c $(FUZZ_HDRS) $(FUZZ_O)/$(1)/.flags | $(FZ_DEPS_$(1))
	@mkdir -p $$(dir $$@)
	$(Q)$$(or $$(FZ_HCC_$(1)),$$(FZ_CC_$(1))) $$(WARN) $$(or $$(FZ_HCF_$(1)),$$(FZ_CF_$(1))) \
		$$(FUZZ_INCLUDES) $$(CFLAGS) -c $$< -o $$@
$(FUZZ_O)/$(1)/bin/%: $(FUZZ_O)/$(1)/fuzz/%.o $(call fz_lib_objs,$(1)) $(FZ_MAIN_$(1)) \
		$(FZ_COUNTER_$(1))
	@mkdir -p $$(dir $$@)
	$(msg) LD $$@
	$(Q)$$(FZ_CC_$(1)) $$(FZ_LD_$(1)) $$(FZ_WRAP_$(1)) $$(LDFLAGS) -o $$@ $$^
# Objects are intermediate to make; keep them for fast rebuilds.
.PRECIOUS: $(FUZZ_O)/$(1)/%.o $(FUZZ_O)/$(1)/core/%.o $(FUZZ_O)/$(1)/fuzz/%.o
.PHONY: fuzz-build-$(1)
fuzz-build-$(1): $(patsubst %,$(FUZZ_O)/$(1)/bin/%,$(FUZZ_TARGETS))
endef
$(foreach k,libfuzzer afl replay cov,$(eval $(call fuzz_kind,$(k))))

.PHONY: deps-fuzz
deps-fuzz:
	@bash $(INSTALL_DEPS) base fuzz

# ---- sh-trace: the trace tool (sanitizers on: it runs the same checks as the fuzzers) ----
SH_TRACE := $(if $(filter core,$(FUZZ_TAG)),$(O)/sh-trace,$(FUZZ_O)/sh-trace)
$(SH_TRACE): $(FUZZ_O)/replay/tools/sh-trace.o $(call fz_lib_objs,replay)
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(SAN) $(LDFLAGS) -o $@ $^
.PHONY: sh-trace
sh-trace: $(SH_TRACE)

# ---- replay: every committed input through its target ----
.PHONY: replay check-replay check-replay-linear
replay: fuzz-build-replay
	@bash scripts/replay.sh $(FUZZ_O)/replay/bin $(FUZZ_TARGETS)
check-replay: replay
# The same inputs against the SH_LINEAR build: both builds must agree with the model.
check-replay-linear:
	@echo "replay against the SH_LINEAR build"
	@$(MAKE) --no-print-directory replay LINEAR=1

# The committed ops inputs against tiny regions (fault injection), with the leak check.
TINY_FUZZ_O = $(O)/fuzz/$(subst /,_,$(patsubst %/,%,$(CORE_DIR)))-tiny
.PHONY: check-replay-tiny
check-replay-tiny:
	@echo "replay of ops_differential inputs with tiny regions (TINY=1)"
	@$(MAKE) --no-print-directory TINY=1 $(TINY_FUZZ_O)/replay/bin/ops_differential
	@bash scripts/replay.sh $(TINY_FUZZ_O)/replay/bin ops_differential

# ---- soak: deterministic differential soak, default and SH_LINEAR builds ----
SOAK_OBJS = $(O)/$(1)/tests/soak.o $(O)/$(1)/fuzz/diffheap.o $(O)/$(1)/fuzz/opdecode.o
$(O)/soak: $(call SOAK_OBJS,san) $(SAN_LIBS)
	$(msg) LD $@
	$(Q)$(CC) $(VFLAGS_san) $(LDFLAGS) -o $@ $^ -lcmocka
$(O)/linsan/soak: $(call SOAK_OBJS,linsan) $(O)/linsan/libslotheap.a $(O)/linsan/libshref.a
	$(msg) LD $@
	$(Q)$(CC) $(VFLAGS_linsan) $(LDFLAGS) -o $@ $^ -lcmocka
.PHONY: check-soak
check-soak: $(O)/soak $(O)/linsan/soak
	@$(O)/soak --trace-dir $(O)
	@$(O)/linsan/soak --trace-dir $(O)/linsan
	@$(O)/soak --tiny --trace-dir $(O)

# ---- campaign, triage, corpus maintenance, coverage ----
FUZZ_ENV = O=$(O) CORE_DIR=$(CORE_DIR) LINEAR=$(LINEAR) TINY=$(TINY) HARDEN=$(HARDEN) FUZZ_O=$(FUZZ_O) FUZZ_WORK=$(FUZZ_WORK) \
	FUZZ_SECONDS=$(FUZZ_SECONDS) ENGINE=$(ENGINE) JOBS=$(JOBS) SH_TRACE=$(SH_TRACE) \
	FUZZ_TARGETS="$(if $(TARGETS),$(TARGETS),$(FUZZ_TARGETS))" MAKE="$(MAKE)"
.PHONY: fuzz triage corpus-merge coverage
fuzz:
	@$(FUZZ_ENV) FUZZ_SEED="$(FUZZ_SEED)" LLVM_PROFDATA="$(LLVM_PROFDATA)" LLVM_COV="$(LLVM_COV)" \
		$(PYTHON) scripts/fuzz.py
triage:
	@$(FUZZ_ENV) CRASH="$(CRASH)" TARGET="$(TARGET)" NAME="$(NAME)" ORIGIN="$(ORIGIN)" \
		bash scripts/triage.sh
corpus-merge:
	@$(FUZZ_ENV) bash scripts/corpus-merge.sh
# core/ only, unit tests plus corpus, default and SH_LINEAR builds, against
# tests/coverage/thresholds.txt (scripts/coverage.py; COVERAGE_WORK=1 adds the work corpus).
coverage: | deps-base deps-fuzz
	@O=$(O) CLANG=$(CLANG) LLVM_PROFDATA="$(LLVM_PROFDATA)" LLVM_COV="$(LLVM_COV)" \
		$(PYTHON) scripts/coverage.py $(if $(filter 1,$(COVERAGE_WORK)),--work)

CHECK_STEPS += check-soak check-replay check-replay-linear check-replay-tiny
HELP += "  fuzz                differential fuzzing campaign (FUZZ_SECONDS= ENGINE=libfuzzer|afl JOBS= TARGETS=)"
HELP += "  replay / check-replay  run every corpus and regression input through its target"
HELP += "  check-replay-linear the same against the SH_LINEAR build (LINEAR=1 works for fuzz, replay, triage)"
HELP += "  check-replay-tiny   ops_differential inputs with tiny regions (TINY=1 works for fuzz, replay)"
HELP += "  check-soak          deterministic differential soak (1M+ ops), default and SH_LINEAR, and --tiny"
HELP += "  triage CRASH=f      minimize a crash, turn it into a trace, add it to corpus/regressions"
HELP += "  corpus-merge        add the inputs of $(FUZZ_WORK) that grow coverage to corpus/"
HELP += "  coverage            core/ line and branch coverage by unit tests + corpus, vs thresholds"
HELP += "  sh-trace            $(O)/sh-trace: convert, run, dump and draw traces"
HELP += "  fuzz-build-KIND     build every target as libfuzzer, afl, replay or cov"
HELP += "  (CORE_DIR=dir builds fuzz targets, replay and sh-trace from another core copy)"

.PHONY: seeds
seeds: $(SH_TRACE)
	@$(MAKE) --no-print-directory sh-trace HARDEN=1
	@SH_TRACE=$(SH_TRACE) SH_TRACE_HARDEN=$(O)/fuzz/$(subst /,_,$(patsubst %/,%,$(CORE_DIR)))-harden/sh-trace \
		bash scripts/make-seeds.sh
HELP += "  seeds               regenerate corpus/<target>/seed-* from fuzz/seeds/<target>/*.trace"

# tests/test_opdecode.c pins the fuzz input formats; it links the decoders (and the engine,
# which the boot decoder's setup calls).
OPDECODE_TEST_OBJS := $(O)/san/fuzz/opdecode.o $(O)/san/fuzz/bootdecode.o \
	$(O)/san/fuzz/bootopts_model.o $(O)/san/fuzz/diffheap.o
UNIT_LIBS_test_opdecode += $(OPDECODE_TEST_OBJS)
$(O)/tests/test_opdecode $(O)/linsan/tests/test_opdecode: $(OPDECODE_TEST_OBJS)
