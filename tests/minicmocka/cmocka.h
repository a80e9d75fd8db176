/* SPDX-License-Identifier: MIT */
/*
 * A minimal stand-in for the part of cmocka's API that the unit tests use, for targets where
 * no cmocka library is installed (the big-endian cross build: Debian has no s390x cmocka that
 * installs beside the host's). Same macro names and the same summary lines as cmocka, so that
 * tests/run_unit.sh reads its output unchanged. Each test runs until its first failed
 * assertion, which ends the test through longjmp; fixtures, skip, fail and the print functions
 * behave as in cmocka. No mocking, no leak checking, no signal catching.
 */
#ifndef MINICMOCKA_H
#define MINICMOCKA_H

#include <stddef.h>
#include <stdint.h>

typedef void (*CMUnitTestFunction)(void **state);
typedef int (*CMFixtureFunction)(void **state);

struct CMUnitTest {
	const char *name;
	CMUnitTestFunction test_func;
	CMFixtureFunction setup_func;
	CMFixtureFunction teardown_func;
	void *initial_state;
};

#define cmocka_unit_test(f)                                                                    \
	{                                                                                      \
#f, f, NULL, NULL, NULL                                                        \
	}
#define cmocka_unit_test_setup(f, setup)                                                       \
	{                                                                                      \
#f, f, setup, NULL, NULL                                                       \
	}
#define cmocka_unit_test_teardown(f, teardown)                                                 \
	{                                                                                      \
#f, f, NULL, teardown, NULL                                                    \
	}
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                                    \
	{                                                                                      \
#f, f, setup, teardown, NULL                                                   \
	}
#define cmocka_run_group_tests(group, setup, teardown)                                         \
	mc_run_group(#group, group, sizeof(group) / sizeof((group)[0]), setup, teardown)
#define cmocka_run_group_tests_name(name, group, setup, teardown)                              \
	mc_run_group(name, group, sizeof(group) / sizeof((group)[0]), setup, teardown)

int mc_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
		 CMFixtureFunction setup, CMFixtureFunction teardown);

#define MC_INT(v) ((uintmax_t)(v))
#define MC_PTR(v) ((uintmax_t)(uintptr_t)(v))
#define MC_AT __FILE__, __LINE__

void mc_true(int ok, const char *expr, const char *file, int line);
void mc_int(uintmax_t a, uintmax_t b, int want_equal, const char *file, int line);
void mc_str(const char *a, const char *b, int want_equal, const char *file, int line);
void mc_mem(const void *a, const void *b, size_t n, const char *file, int line);
void mc_range(uintmax_t v, uintmax_t lo, uintmax_t hi, const char *file, int line);
_Noreturn void mc_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void mc_skip(const char *file, int line);
/* cmocka's own name for "fail here", which helpers that take the caller's file and line use */
_Noreturn void _fail(const char *file, int line);
void print_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define assert_true(c) mc_true(!!(c), #c, MC_AT)
#define assert_false(c) mc_true(!(c), "!(" #c ")", MC_AT)
#define assert_non_null(p) mc_true(MC_PTR(p) != 0, #p " != NULL", MC_AT)
#define assert_null(p) mc_true(MC_PTR(p) == 0, #p " == NULL", MC_AT)
#define assert_int_equal(a, b) mc_int(MC_INT(a), MC_INT(b), 1, MC_AT)
#define assert_int_not_equal(a, b) mc_int(MC_INT(a), MC_INT(b), 0, MC_AT)
#define assert_ptr_equal(a, b) mc_int(MC_PTR(a), MC_PTR(b), 1, MC_AT)
#define assert_ptr_not_equal(a, b) mc_int(MC_PTR(a), MC_PTR(b), 0, MC_AT)
#define assert_string_equal(a, b) mc_str((a), (b), 1, MC_AT)
#define assert_string_not_equal(a, b) mc_str((a), (b), 0, MC_AT)
#define assert_memory_equal(a, b, n) mc_mem((a), (b), (n), MC_AT)
#define assert_in_range(v, lo, hi) mc_range(MC_INT(v), MC_INT(lo), MC_INT(hi), MC_AT)
#define fail() mc_fail(MC_AT, "Failure!")
#define fail_msg(...) mc_fail(MC_AT, __VA_ARGS__)
#define skip() mc_skip(MC_AT)

#endif /* MINICMOCKA_H */
