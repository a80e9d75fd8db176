# The allocation self-test of examples/selftest/ (freestanding; the boot payload and the ARM
# image run it). Its host unit test, tests/test_selftest.c, runs in check-unit and
# check-unit-linear like every other unit test and links the self-test object built here.
SELFTEST_SRC := examples/selftest/selftest.c
SELFTEST_OBJ := $(O)/san/examples/selftest/selftest.o
$(SELFTEST_OBJ): examples/selftest/selftest.h
UNIT_LIBS_test_selftest += $(SELFTEST_OBJ)
$(O)/tests/test_selftest $(O)/linsan/tests/test_selftest: $(SELFTEST_OBJ)
