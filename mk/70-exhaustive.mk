# Exhaustive small-scope check (tests/exhaustive.c): every operation sequence up to a depth
# over every tiny heap layout of three scopes, allocator and model side by side through the
# differential engine, with state hashing; the depth grows until EXHAUSTIVE_SECONDS run out.
# Prints a line per completed depth and a summary table (layouts, closed layouts, depth,
# distinct states, sequences covered).
#
#   make exhaustive                   EXHAUSTIVE_SECONDS=1800 (the nightly form)
#   check-exhaustive                  make check's form: 45 s default build, 15 s SH_LINEAR,
#                                     15 s the finest index shape (the finesan variant:
#                                     tiny arenas span several leaves and levels); fixed
#                                     enumeration order, so a failure is the same sequence
#                                     every time

EXHAUSTIVE_SECONDS ?= 1800
EXHAUSTIVE_CHECK_SECONDS ?= 45
EXHAUSTIVE_CHECK_LINEAR_SECONDS ?= 15
EXHAUSTIVE_CHECK_FINE_SECONDS ?= 15
EXHAUSTIVE_ARGS ?=
EXHAUSTIVE_OBJS = $(O)/$(1)/tests/exhaustive.o $(O)/$(1)/fuzz/diffheap.o $(O)/$(1)/fuzz/opdecode.o

$(O)/exhaustive: $(call EXHAUSTIVE_OBJS,san) $(SAN_LIBS)
	@echo "  LD      $@"
	$(Q)$(CC) $(VFLAGS_san) $(LDFLAGS) -o $@ $^
$(O)/linsan/exhaustive: $(call EXHAUSTIVE_OBJS,linsan) $(O)/linsan/libslotheap.a $(O)/linsan/libshref.a
	@echo "  LD      $@"
	$(Q)$(CC) $(VFLAGS_linsan) $(LDFLAGS) -o $@ $^
$(O)/finesan/exhaustive: $(call EXHAUSTIVE_OBJS,finesan) $(O)/finesan/libslotheap.a $(O)/finesan/libshref.a
	@echo "  LD      $@"
	$(Q)$(CC) $(VFLAGS_finesan) $(LDFLAGS) -o $@ $^

.PHONY: exhaustive check-exhaustive
exhaustive: $(O)/exhaustive
	@$(O)/exhaustive --seconds $(EXHAUSTIVE_SECONDS) --trace-dir $(O) $(EXHAUSTIVE_ARGS)

check-exhaustive: $(O)/exhaustive $(O)/linsan/exhaustive $(O)/finesan/exhaustive
	@$(O)/exhaustive --seconds $(EXHAUSTIVE_CHECK_SECONDS) --trace-dir $(O)
	@echo "exhaustive against the SH_LINEAR build"
	@$(O)/linsan/exhaustive --seconds $(EXHAUSTIVE_CHECK_LINEAR_SECONDS) --trace-dir $(O)/linsan
	@echo "exhaustive against the finest index shape (leaves of 2 granules, groups of 2)"
	@$(O)/finesan/exhaustive --seconds $(EXHAUSTIVE_CHECK_FINE_SECONDS) --trace-dir $(O)/finesan

CHECK_STEPS += check-exhaustive
HELP += "  exhaustive          every op sequence over tiny heaps, deepening (EXHAUSTIVE_SECONDS=1800)"
HELP += "  check-exhaustive    its 1-minute form, default and SH_LINEAR builds (make check)"
