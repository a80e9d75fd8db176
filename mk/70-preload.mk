# The preload library: slotheap as the malloc of any dynamically linked program
# (docs/PRELOAD.md).
#
#   make preload          $(O)/libslotheap-preload.so: preload/preload.c over core/, built
#                         -fPIC -O2 with SH_MAX_REGIONS=32 (the most region masks allow) and
#                         every symbol but the malloc family hidden
#   check-preload-unit    tests/preload/test_preload.c (cmocka, UBSan) run under the library:
#                         each call's contract and errno, misuse reports, growth and ENOMEM,
#                         the exit check, fork, four threads. About 5 s.
#   check-preload         real programs under the library and under glibc, outputs compared,
#                         sh_check clean every 200,000 calls and at every process's exit:
#                         python3, sort, gcc, sqlite3, xz -T2 (scripts/preload-check.py).
#                         About 26 s of CPU, a minute or so on 2 cores.
#   preload-bench         wall time, CPU time and peak RSS of the same programs, slotheap vs
#                         glibc, medians of PRELOAD_RUNS runs (default 5), with ratios.
#                         Not part of check (about 10 minutes on a busy 2-core machine).

PRELOAD_LIB := $(O)/libslotheap-preload.so
PRELOAD_O := $(O)/preload
PRELOAD_CFLAGS := -O2 -g -fPIC -fvisibility=hidden -DSH_MAX_REGIONS=32
PRELOAD_CORE_OBJS := $(patsubst core/%.c,$(PRELOAD_O)/core/%.o,$(wildcard core/*.c))
PRELOAD_TEST := $(PRELOAD_O)/test_preload
PRELOAD_RUNS ?= 5
PRELOAD_WORK ?= $(PRELOAD_O)/work

.PHONY: preload check-preload-unit check-preload preload-bench deps-preload
deps-preload: | deps-base
	@bash $(INSTALL_DEPS) preload

$(PRELOAD_O)/core/%.o: core/%.c $(wildcard core/*.h) | deps-base
	@mkdir -p $(dir $@)
	@echo "  CC preload   $<"
	$(Q)$(CC) $(WARN) $(PRELOAD_CFLAGS) -Icore $(CFLAGS) -c $< -o $@

# -fno-builtin: the compiler must not turn malloc + memset inside calloc into a call to calloc.
$(PRELOAD_O)/preload.o: preload/preload.c core/slotheap.h | deps-base
	@mkdir -p $(dir $@)
	@echo "  CC preload   $<"
	$(Q)$(CC) $(WARN) $(PRELOAD_CFLAGS) -fno-builtin -Icore $(CFLAGS) -c $< -o $@

$(PRELOAD_LIB): $(PRELOAD_O)/preload.o $(PRELOAD_CORE_OBJS)
	@echo "  LD           $@"
	$(Q)$(CC) -shared -Wl,--no-undefined -Wl,-z,now $(LDFLAGS) -o $@ $^ -lpthread

preload: $(PRELOAD_LIB)

# The test program is never linked with core: it sees slotheap only as the process's malloc.
# UBSan only (ASan would replace malloc itself).
$(PRELOAD_TEST): tests/preload/test_preload.c | deps-base
	@mkdir -p $(dir $@)
	@echo "  CC           $<"
	$(Q)$(CC) $(WARN) -O1 -g -fsanitize=undefined -fno-sanitize-recover=all -fno-builtin \
		$(CFLAGS) $(LDFLAGS) -o $@ $< -lcmocka -lpthread -ldl

# clang sees both sources under WARN too (compile only).
$(PRELOAD_O)/clang/%.o: | deps-base
	@mkdir -p $(dir $@)
	@echo "  CLANG        $<"
	$(Q)$(CLANG) $(WARN) -O2 -fPIC -fno-builtin -DSH_MAX_REGIONS=32 -Icore $(CFLAGS) -c $< -o $@
$(PRELOAD_O)/clang/preload.o: preload/preload.c core/slotheap.h
$(PRELOAD_O)/clang/test_preload.o: tests/preload/test_preload.c

# Only the test program runs on slotheap, not the shell and tools of the runner: a wrapper of
# the same name sets LD_PRELOAD for it alone.
$(PRELOAD_O)/preloaded/test_preload: $(PRELOAD_TEST) $(PRELOAD_LIB)
	@mkdir -p $(dir $@)
	@printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$$@"\n' $(abspath $(PRELOAD_LIB)) \
		$(abspath $(PRELOAD_TEST)) >$@
	@chmod +x $@

check-preload-unit: $(PRELOAD_O)/preloaded/test_preload $(PRELOAD_O)/clang/preload.o \
		$(PRELOAD_O)/clang/test_preload.o
	@sh tests/run_unit.sh "preload unit" $<

check-preload: $(PRELOAD_LIB) | deps-preload
	@$(PYTHON) scripts/preload-check.py --lib $(PRELOAD_LIB) --work $(PRELOAD_WORK)

preload-bench: $(PRELOAD_LIB) | deps-preload
	@$(PYTHON) scripts/preload-check.py --lib $(PRELOAD_LIB) --work $(PRELOAD_WORK) \
		--bench $(PRELOAD_RUNS)

CHECK_STEPS += check-preload-unit check-preload
HELP += "  preload             $(PRELOAD_LIB): run any program on slotheap (docs/PRELOAD.md)"
HELP += "  check-preload-unit  the preload library's contract, under LD_PRELOAD (about 5 s)"
HELP += "  check-preload       python3, sort, gcc, sqlite3, xz -T2 on slotheap vs glibc (about 1 min)"
HELP += "  preload-bench       wall time, CPU time and peak RSS on slotheap vs glibc (PRELOAD_RUNS=5)"
