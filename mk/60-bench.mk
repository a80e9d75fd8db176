# Benchmarks: slotheap, its SH_LINEAR build, glibc malloc, jemalloc and mimalloc side by side
# in one driver (bench/), run by scripts/bench.sh. Not part of check.
#
#   make bench                 full run, about 10 minutes on 2 cores
#   make bench BENCH_QUICK=1   about 1 minute
#   make bench-build           just the driver ($(O)/bench/bench)
#
# Both slotheap builds define the same sh_* symbols. Each is linked with its wrapper
# (bench/alloc_slotheap.c) into one relocatable object in which every symbol but the wrapper's
# table is made local, so the two coexist in one binary without renaming anything.

BENCH_DIR := $(O)/bench
BENCH_BIN := $(BENCH_DIR)/bench
BENCH_CC ?= $(CC)
# No sibling calls: each benchop_* wrapper stays a real frame, so callgrind's toggle-collect
# sees the whole allocator call inside it.
BENCH_CFLAGS := -O2 -g -fno-optimize-sibling-calls
BENCH_QUICK ?=
SH_REL_LIB ?= $(O)/rel/libslotheap.a
SH_LINREL_LIB ?= $(O)/linrel/libslotheap.a

.PHONY: bench bench-build deps-bench
deps-bench: | deps-base
	@bash $(INSTALL_DEPS) bench

$(BENCH_DIR)/sh-%.o: bench/alloc_slotheap.c bench/bench.h core/slotheap.h | deps-bench
	@mkdir -p $(dir $@)
	$(Q)$(BENCH_CC) $(WARN) $(BENCH_CFLAGS) $(INCLUDES) $(CFLAGS) \
		-DBENCH_SH_LINEAR=$(if $(filter linrel,$*),1,0) $(if $(filter linrel,$*),-DSH_LINEAR=1,) \
		-c $< -o $(BENCH_DIR)/wrap-$*.o
	$(msg) LD $@
	$(Q)ld -r -o $@.tmp $(BENCH_DIR)/wrap-$*.o $(if $(filter linrel,$*),$(SH_LINREL_LIB),$(SH_REL_LIB))
	$(Q)objcopy --keep-global-symbol=$(if $(filter linrel,$*),bench_slotheap_linear,bench_slotheap) \
		$@.tmp $@
	@rm -f $@.tmp
$(BENCH_DIR)/sh-rel.o: $(SH_REL_LIB)
$(BENCH_DIR)/sh-linrel.o: $(SH_LINREL_LIB)

# jemalloc the same way, from Debian's PIC archive (its shared library cannot be dlopen'ed: it
# needs static TLS, and linking it would make it the process's malloc).
JEMALLOC_PIC = $(shell $(BENCH_CC) -print-file-name=libjemalloc_pic.a)
$(BENCH_DIR)/je.o: bench/alloc_jemalloc.c bench/bench.h | deps-bench
	@mkdir -p $(dir $@)
	$(Q)$(BENCH_CC) $(WARN) $(BENCH_CFLAGS) $(INCLUDES) $(CFLAGS) -c $< -o $(BENCH_DIR)/wrap-je.o
	$(msg) LD $@
	$(Q)ld -r -o $@.tmp $(BENCH_DIR)/wrap-je.o $(JEMALLOC_PIC)
	$(Q)objcopy --keep-global-symbol=bench_jemalloc $@.tmp $@
	@rm -f $@.tmp

BENCH_SRCS := bench/bench.c bench/alloc_glibc.c bench/alloc_mimalloc.c bench/alloc_policy.c ref/shref.c
BENCH_OBJS := $(BENCH_DIR)/sh-rel.o $(BENCH_DIR)/sh-linrel.o $(BENCH_DIR)/je.o
$(BENCH_BIN): $(BENCH_SRCS) bench/bench.h $(BENCH_OBJS) | deps-bench
	$(msg) LD $@
	$(Q)$(BENCH_CC) $(WARN) $(BENCH_CFLAGS) $(INCLUDES) $(CFLAGS) $(BENCH_SRCS) $(BENCH_OBJS) \
		$(LDFLAGS) -lpthread -ldl -lm -o $@

bench-build: $(BENCH_BIN)

# Fuzzing throughput needs the libFuzzer targets (mk/40-fuzz.mk); BENCH_FUZZ=0 skips them.
BENCH_FUZZ ?= 1
BENCH_FUZZ_DIR = $(if $(FUZZ_O),$(FUZZ_O)/libfuzzer/bin,$(O)/fuzz)

bench: $(BENCH_BIN)
ifneq ($(BENCH_FUZZ),0)
	@$(if $(FUZZ_TARGETS),$(MAKE) --no-print-directory fuzz-build-libfuzzer >$(BENCH_DIR)/fuzz-build.log 2>&1 \
		|| echo "bench: fuzz targets did not build (see $(BENCH_DIR)/fuzz-build.log)",true)
endif
	@BENCH_BIN=$(BENCH_BIN) BENCH_OUT=$(BENCH_DIR) BENCH_QUICK=$(BENCH_QUICK) O=$(O) \
		BENCH_FUZZ=$(BENCH_FUZZ) BENCH_FUZZ_DIR=$(BENCH_FUZZ_DIR) \
		BENCH_FUZZ_TARGETS="$(FUZZ_TARGETS)" BENCH_CC=$(BENCH_CC) bash scripts/bench.sh

HELP += "  bench          allocator benchmarks side by side (BENCH_QUICK=1: about 1 minute)"
