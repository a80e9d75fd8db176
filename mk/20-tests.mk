# Unit tests (cmocka).
#
# Every tests/test_<topic>.c is one test program, picked up automatically: it is compiled with
# $(CC) $(WARN) $(VFLAGS_san) $(INCLUDES) (the san object rule of the Makefile) and linked with
# every shared helper tests/util_*.c (helpers only, no main) against $(SAN_LIBS) -lcmocka into
# $(O)/tests/test_<topic>. Shared declarations live in tests/*.h.
#
#   check-unit          build and run every test program; prints each cmocka summary and
#                       "unit: N passed, N failed"
#   check-unit-linear   the same programs compiled with -DSH_LINEAR=1 and linked against the
#                       linear free-list build of core ($(O)/linsan/): same policy, same tests
#   check-unit-clang    compile every test source with $(CLANG) under WARN, both builds
#
# A test program that needs more than $(SAN_LIBS) names it from its own fragment:
#   UNIT_LIBS_test_<topic> += path/to/lib.a        (linked before $(SAN_LIBS))
#   $(O)/tests/test_<topic>: path/to/lib.a          (so that it is built first)
# UNIT_LINEAR_SKIP may list programs (test_<topic>) that check-unit-linear should not run.

UNIT_SRCS := $(sort $(wildcard tests/test_*.c))
UNIT_NAMES := $(basename $(notdir $(UNIT_SRCS)))
UNIT_UTIL_SRCS := $(sort $(wildcard tests/util_*.c))
UNIT_HDRS := $(wildcard tests/*.h)

UNIT_BINS := $(addprefix $(O)/tests/,$(UNIT_NAMES))
UNIT_UTIL_OBJS := $(patsubst %.c,$(O)/san/%.o,$(UNIT_UTIL_SRCS))
UNIT_LIN_BINS := $(addprefix $(O)/linsan/tests/,$(UNIT_NAMES))
UNIT_LIN_UTIL_OBJS := $(patsubst %.c,$(O)/linsan/%.o,$(UNIT_UTIL_SRCS))
UNIT_LIN_LIBS := $(O)/linsan/libslotheap.a $(O)/linsan/libshref.a

# The object rules come from the Makefile's variant rules; tests also depend on tests/*.h.
$(patsubst %.c,$(O)/san/%.o,$(UNIT_SRCS) $(UNIT_UTIL_SRCS)) \
$(patsubst %.c,$(O)/linsan/%.o,$(UNIT_SRCS) $(UNIT_UTIL_SRCS)): $(UNIT_HDRS)

$(O)/tests/test_%: $(O)/san/tests/test_%.o $(UNIT_UTIL_OBJS) $(SAN_LIBS)
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(VFLAGS_san) $(LDFLAGS) -o $@ $< $(UNIT_UTIL_OBJS) $(UNIT_LIBS_$(notdir $@)) \
		$(SAN_LIBS) -lcmocka

$(O)/linsan/tests/test_%: $(O)/linsan/tests/test_%.o $(UNIT_LIN_UTIL_OBJS) $(UNIT_LIN_LIBS)
	@mkdir -p $(dir $@)
	$(msg) LD $@
	$(Q)$(CC) $(VFLAGS_linsan) $(LDFLAGS) -o $@ $< $(UNIT_LIN_UTIL_OBJS) \
		$(UNIT_LIBS_$(notdir $@)) $(UNIT_LIN_LIBS) -lcmocka

.PHONY: unit check-unit check-unit-linear check-unit-clang
unit: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	@sh tests/run_unit.sh unit $(UNIT_BINS)

check-unit-linear: $(UNIT_LIN_BINS)
	@sh tests/run_unit.sh "unit (SH_LINEAR)" \
		$(filter-out $(addprefix %/,$(UNIT_LINEAR_SKIP)),$(UNIT_LIN_BINS))

# clang sees every test source too (compile only: its sanitizer runtime must not be mixed with
# the gcc-built libraries), in the default and the SH_LINEAR configuration.
UNIT_CLANG_OBJS := $(patsubst %.c,$(O)/clang/%.o,$(UNIT_SRCS) $(UNIT_UTIL_SRCS)) \
	$(patsubst %.c,$(O)/clang/lin/%.o,$(UNIT_SRCS) $(UNIT_UTIL_SRCS))
$(O)/clang/lin/tests/%.o: tests/%.c $(UNIT_HDRS) $(wildcard core/*.h ref/*.h fuzz/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(WARN) $(VFLAGS_linsan) $(INCLUDES) $(CFLAGS) -c $< -o $@
$(O)/clang/tests/%.o: tests/%.c $(UNIT_HDRS) $(wildcard core/*.h ref/*.h fuzz/*.h) | deps-base
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(WARN) $(VFLAGS_san) $(INCLUDES) $(CFLAGS) -c $< -o $@
check-unit-clang: $(UNIT_CLANG_OBJS)
	@echo "check-unit-clang: $(words $(UNIT_CLANG_OBJS)) test objects built by $(CLANG) under WARN"

CHECK_STEPS += check-unit check-unit-linear check-unit-clang
HELP += "  unit                build every unit test program ($(O)/tests/)"
HELP += "  check-unit          run every cmocka unit test (tests/test_*.c) under ASan+UBSan"
HELP += "  check-unit-linear   the unit tests against the SH_LINEAR build of core"
HELP += "  check-unit-clang    compile the unit tests with clang under WARN"
