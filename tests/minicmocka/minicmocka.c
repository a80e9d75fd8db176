/* SPDX-License-Identifier: MIT */
/* The minimal cmocka stand-in (cmocka.h here): runner, assertions, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmocka.h"

enum outcome {
	MC_PASS,
	MC_FAIL,
	MC_SKIP
};

static jmp_buf mc_jump;
static int mc_in_test;

static void vmessage(const char *fmt, va_list ap)
{
	vprintf(fmt, ap);
	fflush(stdout);
}

void print_message(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

void print_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

static _Noreturn void end_test(enum outcome o)
{
	if (!mc_in_test) {
		printf("[  ERROR   ] --- a check failed outside any test\n");
		fflush(stdout);
		_Exit(1);
	}
	longjmp(mc_jump, (int)o);
}

static _Noreturn void failed(const char *file, int line)
{
	printf("[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
	end_test(MC_FAIL);
}

_Noreturn void mc_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("[  ERROR   ] --- ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed(file, line);
}

_Noreturn void _fail(const char *file, int line)
{
	failed(file, line);
}

_Noreturn void mc_skip(const char *file, int line)
{
	(void)file;
	(void)line;
	end_test(MC_SKIP);
}

void mc_true(int ok, const char *expr, const char *file, int line)
{
	if (!ok)
		mc_fail(file, line, "%s", expr);
}

void mc_int(uintmax_t a, uintmax_t b, int want_equal, const char *file, int line)
{
	if ((a == b) != want_equal)
		mc_fail(file, line, "%#jx %s %#jx", a, want_equal ? "!=" : "==", b);
}

void mc_str(const char *a, const char *b, int want_equal, const char *file, int line)
{
	if (!a || !b)
		mc_fail(file, line, "NULL string");
	if ((strcmp(a, b) == 0) != want_equal)
		mc_fail(file, line, "\"%s\" %s \"%s\"", a, want_equal ? "!=" : "==", b);
}

void mc_mem(const void *a, const void *b, size_t n, const char *file, int line)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++) {
		if (x[i] != y[i])
			mc_fail(file, line, "memory differs at byte %zu: %#x != %#x", i, x[i],
				y[i]);
	}
}

void mc_range(uintmax_t v, uintmax_t lo, uintmax_t hi, const char *file, int line)
{
	if (v < lo || v > hi)
		mc_fail(file, line, "%#jx is not within the range [%#jx, %#jx]", v, lo, hi);
}

/* Runs fn(state) and returns how it ended; a fixture's non-zero result counts as a failure. */
static enum outcome run_one(const struct CMUnitTest *t, void **state)
{
	volatile enum outcome o = MC_PASS;
	int j;

	mc_in_test = 1;
	j = setjmp(mc_jump);
	if (j == 0) {
		if (t->setup_func && t->setup_func(state) != 0) {
			printf("[  ERROR   ] --- setup of %s failed\n", t->name);
			o = MC_FAIL;
		} else {
			t->test_func(state);
		}
	} else {
		o = (enum outcome)j;
	}
	if (t->teardown_func && o != MC_FAIL && setjmp(mc_jump) == 0 &&
	    t->teardown_func(state) != 0) {
		printf("[  ERROR   ] --- teardown of %s failed\n", t->name);
		o = MC_FAIL;
	}
	mc_in_test = 0;
	return o;
}

int mc_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
		 CMFixtureFunction setup, CMFixtureFunction teardown)
{
	void *group_state = NULL;
	enum outcome *res;
	static enum outcome res_buf[4096];
	size_t passed = 0, nfailed = 0, skipped = 0;

	if (n > sizeof(res_buf) / sizeof(res_buf[0]))
		n = sizeof(res_buf) / sizeof(res_buf[0]);
	res = res_buf;
	printf("[==========] Running %zu test(s) (%s).\n", n, name);
	if (setup && setup(&group_state) != 0) {
		printf("[  ERROR   ] %s: group setup failed\n", name);
		printf("[==========] 0 test(s) run.\n");
		printf("[  FAILED  ] %zu test(s), listed below:\n", n);
		return (int)n;
	}
	for (size_t i = 0; i < n; i++) {
		void *state = tests[i].initial_state ? tests[i].initial_state : group_state;

		printf("[ RUN      ] %s\n", tests[i].name);
		fflush(stdout);
		res[i] = run_one(&tests[i], &state);
		printf("%s %s\n",
		       res[i] == MC_PASS   ? "[       OK ]"
		       : res[i] == MC_SKIP ? "[  SKIPPED ]"
					   : "[  FAILED  ]",
		       tests[i].name);
		passed += res[i] == MC_PASS;
		skipped += res[i] == MC_SKIP;
		nfailed += res[i] == MC_FAIL;
	}
	if (teardown && teardown(&group_state) != 0) {
		printf("[  ERROR   ] %s: group teardown failed\n", name);
		nfailed++;
	}
	printf("[==========] %zu test(s) run.\n", n);
	printf("[  PASSED  ] %zu test(s).\n", passed);
	if (skipped) {
		printf("[  SKIPPED ] %zu test(s), listed below:\n", skipped);
		for (size_t i = 0; i < n; i++) {
			if (res[i] == MC_SKIP)
				printf("[  SKIPPED ] %s\n", tests[i].name);
		}
	}
	if (nfailed) {
		printf("[  FAILED  ] %zu test(s), listed below:\n", nfailed);
		for (size_t i = 0; i < n; i++) {
			if (res[i] == MC_FAIL)
				printf("[  FAILED  ] %s\n", tests[i].name);
		}
		printf("\n %zu FAILED TEST(S)\n", nfailed);
	}
	fflush(stdout);
	return (int)nfailed;
}
