# Bug catalog and mutation testing: do the tests and the fuzzers catch real mistakes?
#
# fuzz/bugs/NN-name.patch are realistic bugs, each a small diff against core/ with a "Bug:"
# line saying what mistake it models. They are never compiled into normal builds: each one is
# applied to a copy of core/ ($(O)/bugs/work/core) and everything that tests core/ is rebuilt
# against that copy by a sub-make with CORE_DIR, CORE_SRCS and INCLUDES pointing at it.
#
#   make bugs        the whole catalog: make check's deterministic steps (unit tests, soak,
#                    corpus replay, memory-table check) and every fuzz target, from the
#                    committed corpus and from an empty one, BUGS_RUNS runs of BUGS_SECONDS
#                    each; table + $(O)/bugs/bugs.csv. Nightly (about an hour on 2 cores).
#   check-bugs       make check's share: the bugs listed in fuzz/bugs/check-subset.txt (one
#                    or two per area) must each be caught by the deterministic steps, run
#                    against the patched copy in the order check-replay (committed corpus and
#                    regressions), check-replay-linear, check-unit, check-soak,
#                    check-unit-linear, check-memmap;
#                    the first step that catches a bug ends its run. Deterministic (no
#                    fuzzing, fixed seeds), about 2 minutes on 2 cores. Fails if a patch no
#                    longer applies, does not build, or a bug survives. BUGS=all: every bug.
#   bugs-exhaustive  the whole catalog against the exhaustive check alone (check-exhaustive,
#                    mk/70-exhaustive.mk): which tiny-heap bugs it catches.
#   make mutation    operator mutants of core/*.c (scripts/mutation.py), each run against the
#                    deterministic steps and a short fuzz run; score, survivors, equivalents.
#                    MUTATION_SAMPLE=N (fixed seed MUTATION_SEED) for a sampled run.
#
# Variables: BUGS="07 12" (only these numbers or names), BUGS_SECONDS=60, BUGS_RUNS=3,
# BUGS_JOBS=2 (parallel fuzz runs), BUGS_QUICK_FUZZ=0 (seconds of libFuzzer for bugs that
# check-bugs' deterministic steps miss; 0 keeps make check deterministic).

BUGS_SECONDS ?= 60
BUGS_RUNS ?= 3
BUGS_JOBS ?= 2
BUGS_QUICK_FUZZ ?= 0
BUGS ?=
MUTATION_SAMPLE ?= 0
MUTATION_SEED ?= 20261129
MUTATION_FUZZ ?= 10
MUTATION_MIN ?= 95

BUGS_ENV = O=$(O) CC=$(CC) CLANG=$(CLANG) BUGS_SECONDS=$(BUGS_SECONDS) BUGS_RUNS=$(BUGS_RUNS) \
	BUGS_JOBS=$(BUGS_JOBS) BUGS_QUICK_FUZZ=$(BUGS_QUICK_FUZZ) BUGS="$(BUGS)" \
	BUGS_CSV="$(BUGS_CSV)" MAKE="$(MAKE)" MAKEFLAGS=

# What each deterministic step needs built, asked for by scripts/bugs.sh in its sub-make (whose
# O, CORE_DIR and CORE_SRCS point at the patched copy).
# The SH_LINEAR fuzz builds live in their own tree ($(FUZZ_O) with LINEAR=1); a sub-make
# builds them.
BUGS_LIN_FUZZ_O := $(O)/fuzz/$(subst /,_,$(patsubst %/,%,$(CORE_DIR)))-linear
BUGS_BUILD_check-replay := fuzz-build-replay
BUGS_BUILD_check-replay-linear := bugs-build-replay-linear
BUGS_BUILD_check-soak := $(O)/soak $(O)/linsan/soak
BUGS_BUILD_check-unit := $(UNIT_BINS)
BUGS_BUILD_check-unit-linear := $(UNIT_LIN_BINS)
BUGS_BUILD_check-memmap := $(MEMMAP_CLI) $(O)/clang/tools/sh-memmap.o $(O)/m32/memmap_m32
BUGS_BUILD_check-exhaustive := $(O)/exhaustive $(O)/linsan/exhaustive $(O)/finesan/exhaustive
BUGS_BUILD_fuzz := fuzz-build-libfuzzer bugs-build-libfuzzer-linear
BUGS_BUILD_cov := fuzz-build-cov

.PHONY: bugs check-bugs mutation bugs-build bugs-print bugs-exhaustive
.PHONY: bugs-build-replay-linear bugs-build-libfuzzer-linear
bugs: | deps-base deps-fuzz
	@$(BUGS_ENV) bash scripts/bugs.sh

# Which catalog bugs the exhaustive small-scope check catches on its own (every bug it cannot
# run, memory tables and placement, shows n/a).
bugs-exhaustive: | deps-base
	@$(BUGS_ENV) BUGS="$(or $(BUGS),all)" BUGS_STEPS=check-exhaustive bash scripts/bugs.sh --quick
bugs-build-replay-linear:
	@$(MAKE) --no-print-directory fuzz-build-replay LINEAR=1
bugs-build-libfuzzer-linear:
	@$(MAKE) --no-print-directory fuzz-build-libfuzzer LINEAR=1

check-bugs: | deps-base
	@$(BUGS_ENV) bash scripts/bugs.sh --quick

mutation: | deps-base deps-fuzz
	@O=$(O) MAKE="$(MAKE)" MAKEFLAGS= $(PYTHON) scripts/mutation.py \
		--sample $(MUTATION_SAMPLE) --seed $(MUTATION_SEED) --fuzz-seconds $(MUTATION_FUZZ) \
		--min-score $(MUTATION_MIN)

# Used by the scripts' sub-makes: bugs-build STEPS="check-unit ..." builds what those need.
bugs-build: $(foreach s,$(STEPS),$(BUGS_BUILD_$(s)))
# Prints the binaries a step runs, for the scripts' "does it link the patched code" test.
bugs-print:
	@echo "check-replay $(patsubst %,$(FUZZ_O)/replay/bin/%,$(FUZZ_TARGETS))"
	@echo "check-replay-linear $(patsubst %,$(BUGS_LIN_FUZZ_O)/replay/bin/%,$(FUZZ_TARGETS))"
	@echo "check-exhaustive $(O)/exhaustive $(O)/linsan/exhaustive $(O)/finesan/exhaustive"
	@echo "check-soak $(O)/soak $(O)/linsan/soak"
	@echo "check-unit $(UNIT_BINS)"
	@echo "check-unit-linear $(UNIT_LIN_BINS)"
	@echo "check-memmap $(MEMMAP_CLI) $(O)/m32/memmap_m32"
	@echo "targets $(FUZZ_TARGETS)"
	@echo "fuzzdir $(FUZZ_O)/libfuzzer/bin"
	@echo "linfuzzdir $(BUGS_LIN_FUZZ_O)/libfuzzer/bin"
	@echo "covdir $(FUZZ_O)/cov/bin"
	@echo "llvm $(LLVM_PROFDATA) $(LLVM_COV)"

CHECK_STEPS += check-bugs
HELP += "  bugs                bug catalog: which tests and fuzz targets catch each fuzz/bugs patch"
HELP += "  check-bugs          the fuzz/bugs/check-subset.txt bugs must fail make check's steps"
HELP += "  bugs-exhaustive     which catalog bugs the exhaustive small-scope check catches alone"
HELP += "  mutation            mutation testing of core/ (MUTATION_SAMPLE=N for a sampled run)"
