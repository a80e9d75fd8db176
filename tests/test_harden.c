/* SPDX-License-Identifier: MIT */
/*
 * Caller-bug detection (core/harden.c; docs/HARDENING.md, "Caller-bug detection").
 *
 * Built with SH_HARDEN=1 (check-unit-harden): every detection with its exact report (code,
 * block, requested size, first changed byte), through the error hook and sh_last_report;
 * after each report the call has done what it would have done without the caller's bug,
 * the heap passes sh_check and the blocks are where the policy puts them; misuse reports are
 * unchanged. In every build (check-unit too): under ASan, a child process that touches the
 * heap's metadata, a free block or the memory past a live block dies with an ASan report.
 *
 * The tests run under ASan, which core makes poison free memory: a write after free or a
 * write into free memory is done here through scribble(), which lifts the poisoning of the
 * bytes it writes for the write, as an uninstrumented caller would.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define NGRAN 32
#define NSLOTS 16

/* Lifts ASan's poisoning from the 8-byte granule holding b, for one access as a caller with a
 * wild pointer would make it; returns whether there was any (for unlift). */
static bool lift(const unsigned char *b)
{
#ifdef TH_ASAN
	if (__asan_address_is_poisoned(b)) {
		ASAN_UNPOISON_MEMORY_REGION((const void *)((uintptr_t)b & ~(uintptr_t)7), 8);
		return true;
	}
#else
	(void)b;
#endif
	return false;
}

/* Puts back the poisoning lift took away. */
static void unlift(const unsigned char *b, bool lifted)
{
#ifdef TH_ASAN
	if (lifted)
		ASAN_POISON_MEMORY_REGION((const void *)((uintptr_t)b & ~(uintptr_t)7), 8);
#else
	(void)b;
	(void)lifted;
#endif
}

/* Writes v at p + off as a caller with a wild pointer would, past ASan's poisoning. */
static void scribble(void *p, size_t off, unsigned char v)
{
	unsigned char *b = (unsigned char *)p + off;
	bool lifted = lift(b);

	*b = v;
	unlift(b, lifted);
}

#if SH_HARDEN

/* Reads the byte at p + off past ASan's poisoning. */
static unsigned char peek(const void *p, size_t off)
{
	const unsigned char *b = (const unsigned char *)p + off;
	bool lifted = lift(b);
	unsigned char v = *b;

	unlift(b, lifted);
	return v;
}

/* Every hook call, with the report as sh_last_report gave it during the call. */
struct seen {
	struct sh_heap *h;
	unsigned calls;
	int code[4];
	const void *ptr[4];
	struct sh_report rep[4];
};

static void hook(void *ctx, int code, const void *ptr)
{
	struct seen *s = ctx;

	if (s->calls < 4) {
		s->code[s->calls] = code;
		s->ptr[s->calls] = ptr;
		s->rep[s->calls] = *sh_last_report(s->h);
	}
	s->calls++;
}

static struct sh_heap heap;
static struct seen seen;
static unsigned char *arena;

static void setup(void)
{
	th_reset();
	th_init(&heap);
	arena = th_add(&heap, 0, NGRAN, NSLOTS);
	memset(&seen, 0, sizeof(seen));
	seen.h = &heap;
	sh_set_error_hook(&heap, hook, &seen);
}

/* Exactly one report since the last call of this, with these fields. */
static void expect_report_at(int code, const void *ptr, size_t size, size_t bad,
			     const char *file, int line)
{
	const struct sh_report *r = sh_last_report(&heap);

	if (seen.calls != 1 || seen.code[0] != code || seen.ptr[0] != ptr ||
	    seen.rep[0].code != code || seen.rep[0].ptr != ptr || seen.rep[0].size != size ||
	    seen.rep[0].bad != bad || r->code != code || r->ptr != ptr || r->size != size ||
	    r->bad != bad) {
		print_error(
			"expected one report %s ptr %p size %zu bad %zu; hook saw %u call(s),"
			" first %s ptr %p, report %s ptr %p size %zu bad %zu\n",
			sh_strerror(code), ptr, size, bad, seen.calls,
			sh_strerror(seen.code[0]), seen.ptr[0], sh_strerror(seen.rep[0].code),
			seen.rep[0].ptr, seen.rep[0].size, seen.rep[0].bad);
		_fail(file, line);
	}
	/* A caller bug is not misuse: the call succeeded. */
	th_expect_counts_at(&heap, 0, 0, file, line);
	if (sh_last_error(&heap) != 0) {
		print_error("sh_last_error is %s\n", sh_strerror(sh_last_error(&heap)));
		_fail(file, line);
	}
	memset(&seen, 0, sizeof(seen));
	seen.h = &heap;
}
#define EXPECT_REPORT(code, ptr, size, bad)                                                    \
	expect_report_at((code), (ptr), (size), (bad), __FILE__, __LINE__)

static void expect_no_report_at(const char *file, int line)
{
	if (seen.calls != 0) {
		print_error("unexpected report: %u call(s), first %s ptr %p\n", seen.calls,
			    sh_strerror(seen.code[0]), seen.ptr[0]);
		_fail(file, line);
	}
}
#define EXPECT_NO_REPORT() expect_no_report_at(__FILE__, __LINE__)

/* ---- rule 1 and the bytes of a block ---- */

static void test_rule1_keeps_a_guard_byte(void **state)
{
	unsigned char *p, *q, *z;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 15); /* 15 + 1 fit one granule */
	q = T_MALLOC(&heap, 16); /* 16 + 1 need two */
	z = T_MALLOC(&heap, 0);	 /* the guard byte alone */
	assert_ptr_equal(p, AT(arena, 0));
	assert_ptr_equal(q, AT(arena, 1));
	assert_ptr_equal(z, AT(arena, 3));
	EXPECT_LAYOUT(&heap, {0, 0, 1, LIVE}, {0, 1, 2, LIVE}, {0, 3, 1, LIVE},
		      {0, 4, NGRAN - 4, FREE});
	/* The usable size is the request: the guard follows it. */
	assert_int_equal(sh_usable_size(&heap, p), 15);
	assert_int_equal(sh_usable_size(&heap, q), 16);
	assert_int_equal(sh_usable_size(&heap, z), 0);
	assert_int_equal(p[15], SH_GUARD_BYTE);
	assert_true(th_all_bytes(q + 16, 16, SH_GUARD_BYTE));
	assert_true(th_all_bytes(z, GRAN, SH_GUARD_BYTE));
	/* Fresh memory holds the poison byte (the whole arena was filled at sh_add_region). */
	assert_true(th_all_bytes(p, 15, SH_POISON_BYTE));
	assert_true(th_all_bytes(q, 16, SH_POISON_BYTE));
	assert_int_equal(peek(arena, NGRAN * GRAN - 1), SH_POISON_BYTE);
	/* Overflow comes one granule earlier: n + 1 must not wrap. */
	assert_null(sh_malloc(&heap, SIZE_MAX - GRAN + 1));
	assert_int_equal(sh_last_error(&heap), SH_EOVERFLOW);
	assert_null(sh_malloc(&heap, SIZE_MAX - GRAN));
	assert_int_equal(sh_last_error(&heap), SH_ENOMEM);
	EXPECT_COUNTS(&heap, 2, 0);
	EXPECT_NO_REPORT();
}

static void test_calloc_zeroes_the_request_keeps_the_guard(void **state)
{
	unsigned char *p;

	(void)state;
	setup();
	p = T_CALLOC(&heap, 3, 7);
	assert_int_equal(sh_usable_size(&heap, p), 21);
	assert_true(th_all_bytes(p, 21, 0));
	assert_true(th_all_bytes(p + 21, 2 * GRAN - 21, SH_GUARD_BYTE));
	assert_int_equal(T_FREE(&heap, p), 0);
	EXPECT_NO_REPORT();
}

/* A clean life: no report from any call, free memory poisoned again after free. */
static void test_clean_use_reports_nothing(void **state)
{
	unsigned char *p, *q;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 40);
	memset(p, 1, 40);
	q = T_MALLOC(&heap, 10);
	memset(q, 2, 10);
	p = T_REALLOC(&heap, p, 30); /* shrink in place, cut tail freed */
	p = T_REALLOC(&heap, p, 31); /* same granules, new guard */
	assert_int_equal(p[29], 1);
	assert_int_equal(p[31], SH_GUARD_BYTE);
	q = T_REALLOC(&heap, q, 100); /* grows in place into the free block above */
	assert_true(th_all_bytes(q, 10, 2));
	assert_int_equal(T_FREE(&heap, p), 0);
	assert_int_equal(peek(p, 0), SH_POISON_BYTE);
	assert_int_equal(peek(p, 2 * GRAN), SH_POISON_BYTE);
	assert_int_equal(T_FREE(&heap, q), 0);
	EXPECT_LAYOUT(&heap, {0, 0, NGRAN, FREE});
	EXPECT_NO_REPORT();
}

/* ---- overruns ---- */

static void test_overrun_into_slack_detected_at_free(void **state)
{
	unsigned char *p, *q;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 20); /* two granules: 12 guard bytes */
	q = T_MALLOC(&heap, 20);
	p[20] = 'x';
	assert_int_equal(T_FREE(&heap, p), 0); /* free still frees */
	EXPECT_REPORT(SH_EOVERRUN, p, 20, 20);
	EXPECT_LAYOUT(&heap, {0, 0, 2, FREE}, {0, 2, 2, LIVE}, {0, 4, NGRAN - 4, FREE});
	/* The last slack byte, with the bytes before it intact. */
	q[31] = 0;
	assert_int_equal(T_FREE(&heap, q), 0);
	EXPECT_REPORT(SH_EOVERRUN, q, 20, 31);
	EXPECT_LAYOUT(&heap, {0, 0, NGRAN, FREE});
	/* The freed blocks are poison again: handing them out reports nothing. */
	p = T_MALLOC(&heap, NGRAN * GRAN - 1);
	EXPECT_NO_REPORT();
	assert_int_equal(T_FREE(&heap, p), 0);
}

static void test_overrun_into_guard_granule(void **state)
{
	unsigned char *p;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 2 * GRAN); /* a whole number of granules: one more for the guard */
	EXPECT_LAYOUT(&heap, {0, 0, 3, LIVE}, {0, 3, NGRAN - 3, FREE});
	memset(p, 7, 2 * GRAN + 3); /* three bytes too many */
	assert_int_equal(T_FREE(&heap, p), 0);
	EXPECT_REPORT(SH_EOVERRUN, p, 2 * GRAN, 2 * GRAN);
	p = T_MALLOC(&heap, GRAN);
	p[2 * GRAN - 1] = 7; /* the guard granule's last byte */
	assert_int_equal(T_FREE(&heap, p), 0);
	EXPECT_REPORT(SH_EOVERRUN, p, GRAN, 2 * GRAN - 1);
	EXPECT_LAYOUT(&heap, {0, 0, NGRAN, FREE});
}

static void test_overrun_detected_at_realloc(void **state)
{
	unsigned char *p, *q, *r;

	(void)state;
	setup();
	/* Shrinking in place: reported, shrunk, guard rewritten. */
	p = T_MALLOC(&heap, 40);
	q = T_MALLOC(&heap, 8);
	memset(p, 3, 40);
	p[41] = 0;
	assert_ptr_equal(T_REALLOC(&heap, p, 20), p);
	EXPECT_REPORT(SH_EOVERRUN, p, 40, 41);
	EXPECT_LAYOUT(&heap, {0, 0, 2, LIVE}, {0, 2, 1, FREE}, {0, 3, 1, LIVE},
		      {0, 4, NGRAN - 4, FREE});
	assert_true(th_all_bytes(p, 20, 3));
	assert_true(th_all_bytes(p + 20, 12, SH_GUARD_BYTE));
	/* Moving: reported before the move, the old block freed. */
	p[20] = 1;
	r = T_REALLOC(&heap, p, 100);
	assert_ptr_equal(r, AT(arena, 4));
	EXPECT_REPORT(SH_EOVERRUN, p, 20, 20);
	assert_true(th_all_bytes(r, 20, 3));
	EXPECT_LAYOUT(&heap, {0, 0, 3, FREE}, {0, 3, 1, LIVE}, {0, 4, 7, LIVE},
		      {0, 11, NGRAN - 11, FREE});
	/* Growing in place. */
	assert_ptr_equal(T_REALLOC(&heap, r, 101), r);
	EXPECT_NO_REPORT();
	r[101] = 9;
	assert_ptr_equal(T_REALLOC(&heap, r, 200), r);
	EXPECT_REPORT(SH_EOVERRUN, r, 101, 101);
	/* realloc(p, 0) frees after reporting. */
	q[8] = 9;
	assert_null(sh_realloc(&heap, q, 0));
	EXPECT_REPORT(SH_EOVERRUN, q, 8, 8);
	EXPECT_LAYOUT(&heap, {0, 0, 4, FREE}, {0, 4, 13, LIVE}, {0, 17, NGRAN - 17, FREE});
	assert_int_equal(T_FREE(&heap, r), 0);
	EXPECT_NO_REPORT();
}

/* A realloc that fails keeps the block; the overrun is reported once and the guard mended. */
static void test_overrun_reported_once_by_failing_realloc(void **state)
{
	unsigned char *p;
	struct sh_check_report rep;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 5);
	p[6] = 0;
	assert_null(sh_realloc(&heap, p, NGRAN * GRAN));
	assert_int_equal(sh_last_error(&heap), SH_ENOMEM);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.code[0], SH_EOVERRUN);
	assert_int_equal(seen.rep[0].bad, 6);
	assert_int_equal(sh_check(&heap, &rep), 0);
	EXPECT_LAYOUT(&heap, {0, 0, 1, LIVE}, {0, 1, NGRAN - 1, FREE});
	EXPECT_COUNTS(&heap, 1, 0);
	memset(&seen, 0, sizeof(seen));
	seen.h = &heap;
	assert_int_equal(T_FREE(&heap, p), 0);
	EXPECT_NO_REPORT();
}

static void test_overrun_detected_by_sh_check(void **state)
{
	unsigned char *p, *q, *r;
	struct sh_check_report rep;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 17);
	q = T_MALLOC(&heap, 1);
	r = T_MALLOC(&heap, 3);
	r[10] = 1;
	q[1] = 1;
	assert_int_equal(sh_check(&heap, &rep), SH_EOVERRUN);
	assert_int_equal(rep.invariant, SH_I10_GUARD);
	assert_int_equal(rep.failures, 2);
	assert_int_equal(rep.region, 0);
	assert_int_equal(rep.block, (uintptr_t)q); /* the lowest of the two */
	assert_int_equal(rep.size, 1);
	assert_int_equal(rep.bad, 1);
	assert_true(rep.slot < NSLOTS);
	assert_string_equal(sh_invariant_name(rep.invariant), "I10 guard bytes");
	assert_int_equal(sh_check(&heap, NULL), SH_EOVERRUN);
	/* sh_check reports nothing through the hook and changes nothing. */
	EXPECT_NO_REPORT();
	assert_int_equal(sh_check(&heap, &rep), SH_EOVERRUN);
	assert_int_equal(sh_free(&heap, q), 0); /* (T_FREE would sh_check: r is overrun) */
	EXPECT_REPORT(SH_EOVERRUN, q, 1, 1);
	assert_int_equal(sh_check(&heap, &rep), SH_EOVERRUN);
	assert_int_equal(rep.failures, 1);
	assert_int_equal(rep.block, (uintptr_t)r);
	assert_int_equal(rep.size, 3);
	assert_int_equal(rep.bad, 10);
	assert_ptr_equal(sh_realloc(&heap, r, 3), r);
	EXPECT_REPORT(SH_EOVERRUN, r, 3, 10);
	assert_int_equal(sh_check(&heap, &rep), 0);
	assert_int_equal(T_FREE(&heap, p), 0);
	assert_int_equal(T_FREE(&heap, r), 0);
	EXPECT_NO_REPORT();
	EXPECT_LAYOUT(&heap, {0, 0, NGRAN, FREE});
}

/* ---- writes after free ---- */

static void test_use_after_free_detected_by_malloc(void **state)
{
	unsigned char *p, *q;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 40);
	q = T_MALLOC(&heap, 1);
	assert_int_equal(T_FREE(&heap, p), 0);
	scribble(p, 5, 0x11);
	scribble(p, 9, 0x11);
	EXPECT_NO_REPORT();
	assert_ptr_equal(T_MALLOC(&heap, 40), p); /* handed out all the same */
	EXPECT_REPORT(SH_EUSEAFTERFREE, p, 40, 5);
	EXPECT_LAYOUT(&heap, {0, 0, 3, LIVE}, {0, 3, 1, LIVE}, {0, 4, NGRAN - 4, FREE});
	/* The bytes are the caller's now; freed again, the block is poison again. */
	assert_int_equal(p[9], 0x11);
	assert_int_equal(T_FREE(&heap, p), 0);
	assert_ptr_equal(T_MALLOC(&heap, 40), p);
	EXPECT_NO_REPORT();
	/* A change in what becomes the new block's guard is found too, calloc reports it. */
	assert_int_equal(T_FREE(&heap, p), 0);
	scribble(p, 3 * GRAN - 1, 0);
	assert_ptr_equal(T_CALLOC(&heap, 2, 20), p);
	EXPECT_REPORT(SH_EUSEAFTERFREE, p, 40, 3 * GRAN - 1);
	assert_true(th_all_bytes(p, 40, 0));
	/* Only the block handed out is verified: a write further up waits for its turn. */
	scribble(arena, 10 * GRAN, 0x22);
	assert_ptr_equal(T_MALLOC(&heap, GRAN), AT(arena, 4));
	EXPECT_NO_REPORT();
	assert_ptr_equal(T_MALLOC(&heap, 5 * GRAN), AT(arena, 6));
	EXPECT_REPORT(SH_EUSEAFTERFREE, AT(arena, 6), 5 * GRAN, 4 * GRAN);
	(void)q;
}

static void test_use_after_free_detected_by_memalign(void **state)
{
	unsigned char *p, *a;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 1); /* granule 0 stays live: the arena start is 64-aligned */
	/* The 64-aligned block of 20 bytes is granules 4 and 5; the gap below stays free. */
	scribble(arena, 4 * GRAN + 17, 0x5a);
	scribble(arena, 3 * GRAN, 0x5a); /* in the gap: not handed out, not reported */
	a = T_MEMALIGN(&heap, 64, 20);
	assert_ptr_equal(a, AT(arena, 4));
	EXPECT_REPORT(SH_EUSEAFTERFREE, a, 20, 17);
	EXPECT_LAYOUT(&heap, {0, 0, 1, LIVE}, {0, 1, 3, FREE}, {0, 4, 2, LIVE},
		      {0, 6, NGRAN - 6, FREE});
	/* The gap's turn comes later. */
	assert_ptr_equal(T_MALLOC(&heap, 3 * GRAN - 1), AT(arena, 1));
	EXPECT_REPORT(SH_EUSEAFTERFREE, AT(arena, 1), 3 * GRAN - 1, 2 * GRAN);
	(void)p;
}

static void test_use_after_free_detected_by_realloc(void **state)
{
	unsigned char *p, *q, *r, *m;

	(void)state;
	setup();
	/* Growing in place: the bytes taken from the free block above are verified. */
	p = T_MALLOC(&heap, 16); /* granules 0-1 */
	q = T_MALLOC(&heap, 16); /* granules 2-3 */
	r = T_MALLOC(&heap, 1);	 /* granule 4 keeps q's space from merging upwards */
	memset(p, 4, 16);
	assert_int_equal(T_FREE(&heap, q), 0);
	scribble(q, 3, 0x44);
	assert_ptr_equal(T_REALLOC(&heap, p, 40), p); /* granules 0-2 */
	EXPECT_REPORT(SH_EUSEAFTERFREE, p, 40, 2 * GRAN + 3);
	assert_true(th_all_bytes(p, 16, 4));
	EXPECT_LAYOUT(&heap, {0, 0, 3, LIVE}, {0, 3, 1, FREE}, {0, 4, 1, LIVE},
		      {0, 5, NGRAN - 5, FREE});
	/* Moving: the new block is verified after the old one's guard, reports in that order. */
	scribble(arena, 6 * GRAN, 0x66);
	p[40] = 0;
	m = sh_realloc(&heap, p, 100);
	assert_ptr_equal(m, AT(arena, 5));
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.code[0], SH_EOVERRUN);
	assert_ptr_equal(seen.rep[0].ptr, p);
	assert_int_equal(seen.rep[0].size, 40);
	assert_int_equal(seen.rep[0].bad, 40);
	assert_int_equal(seen.code[1], SH_EUSEAFTERFREE);
	assert_ptr_equal(seen.rep[1].ptr, m);
	assert_int_equal(seen.rep[1].size, 100);
	assert_int_equal(seen.rep[1].bad, GRAN);
	assert_ptr_equal(sh_last_report(&heap)->ptr, m);
	assert_true(th_all_bytes(m, 16, 4));
	EXPECT_LAYOUT(&heap, {0, 0, 4, FREE}, {0, 4, 1, LIVE}, {0, 5, 7, LIVE},
		      {0, 12, NGRAN - 12, FREE});
	EXPECT_COUNTS(&heap, 0, 0);
	(void)r;
}

/* ---- misuse is as in the default build ---- */

static void test_misuse_unchanged(void **state)
{
	unsigned char *p;

	(void)state;
	setup();
	p = T_MALLOC(&heap, 20);
	p[25] = 0;
	assert_int_equal(sh_free(&heap, p + 1), SH_EBADPTR);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.code[0], SH_EBADPTR);
	assert_int_equal(sh_last_report(&heap)->code,
			 0); /* misuse is not a caller-bug report */
	assert_int_equal(sh_last_error(&heap), SH_EBADPTR);
	assert_int_equal(T_FREE(&heap, p),
			 0); /* the overrun, reported by the free that frees */
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.code[1], SH_EOVERRUN);
	assert_int_equal(sh_free(&heap, p), SH_EDOUBLEFREE);
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.code[2], SH_EDOUBLEFREE);
	assert_null(sh_realloc(&heap, p, 5));
	assert_int_equal(sh_last_error(&heap), SH_EDOUBLEFREE);
	EXPECT_COUNTS(&heap, 0, 3);
	EXPECT_LAYOUT(&heap, {0, 0, NGRAN, FREE});
}

#endif /* SH_HARDEN */

/* ---- ASan: wild accesses into the heap (every build) ---- */

/* malloc(2 * GRAN) takes two granules, three in the SH_HARDEN build (the guard byte). */
#define BLOCK_END ((SH_HARDEN ? 3 : 2) * GRAN)

enum wild {
	WILD_SLOT,
	WILD_BUCKET,
	WILD_FREE_BLOCK,
	WILD_PAST_BLOCK,
	WILD_FREED
};

/* Runs one wild access in a child and returns what the child wrote to stderr. */
static int run_wild(enum wild kind, char *out, size_t cap)
{
	int fd[2];
	pid_t pid;
	size_t n = 0;
	ssize_t got;
	int status;

	assert_int_equal(pipe(fd), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sh_heap h;
		struct sh_region_info ri;
		unsigned char *a, *p;
		volatile unsigned char sink;

		dup2(fd[1], 2);
		close(fd[0]);
		th_reset();
		th_init(&h);
		a = th_add(&h, 0, NGRAN, NSLOTS);
		sh_region_info(&h, 0, &ri);
		p = sh_malloc(&h, 2 * GRAN);
		switch (kind) {
		case WILD_SLOT:
			sink = *(volatile unsigned char *)ri.base;
			break;
		case WILD_BUCKET:
			*((volatile unsigned char *)ri.arena - 1) = 0;
			break;
		case WILD_FREE_BLOCK:
			sink = a[20 * GRAN];
			break;
		case WILD_PAST_BLOCK:
			/* the first byte past the live block's granules: the free block above */
			sink = p[BLOCK_END];
			break;
		case WILD_FREED:
			sh_free(&h, p);
			p[0] = 1;
			break;
		}
		(void)sink;
		_exit(0);
	}
	close(fd[1]);
	while (n + 1 < cap && (got = read(fd[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)got;
	out[n] = 0;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void expect_wild_at(enum wild kind, const char *access, const char *file, int line)
{
#if defined(TH_ASAN) && !defined(SH_TEST_NO_CORE_ASAN)
	static char out[16384];
	int status = run_wild(kind, out, sizeof(out));

	if (!WIFEXITED(status) || WEXITSTATUS(status) == 0 ||
	    !strstr(out, "ERROR: AddressSanitizer: use-after-poison") || !strstr(out, access)) {
		print_error("wild access %d: child %s %d, expected an ASan use-after-poison"
			    " report with \"%s\"; its stderr:\n%s\n",
			    (int)kind, WIFEXITED(status) ? "exited" : "signalled",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), access,
			    out);
		_fail(file, line);
	}
#else
	(void)kind;
	(void)access;
	(void)file;
	(void)line;
	(void)run_wild;
	skip();
#endif
}
#define EXPECT_WILD(kind, access) expect_wild_at((kind), (access), __FILE__, __LINE__)

static void test_asan_catches_slot_read(void **state)
{
	(void)state;
	EXPECT_WILD(WILD_SLOT, "READ of size 1");
}

static void test_asan_catches_index_write(void **state)
{
	(void)state;
	EXPECT_WILD(WILD_BUCKET, "WRITE of size 1");
}

static void test_asan_catches_free_block_read(void **state)
{
	(void)state;
	EXPECT_WILD(WILD_FREE_BLOCK, "READ of size 1");
}

static void test_asan_catches_read_past_block(void **state)
{
	(void)state;
	EXPECT_WILD(WILD_PAST_BLOCK, "READ of size 1");
}

static void test_asan_catches_write_after_free(void **state)
{
	(void)state;
	EXPECT_WILD(WILD_FREED, "WRITE of size 1");
}

/* The whole block of a live block is the caller's, metadata and free memory are not: a
 * program may touch every usable byte, and the heap's own calls never trip ASan. */
/* Every build: the names of the new codes, and sh_last_report (all zero in the default build,
 * which reports nothing, whatever the caller writes into a block's last bytes). */
static void test_names_and_last_report(void **state)
{
	struct sh_heap h;
	unsigned char *p;
	const struct sh_report *r;

	(void)state;
	assert_string_equal(sh_strerror(SH_EOVERRUN), "SH_EOVERRUN");
	assert_string_equal(sh_strerror(SH_EUSEAFTERFREE), "SH_EUSEAFTERFREE");
	assert_string_equal(sh_invariant_name(SH_I10_GUARD), "I10 guard bytes");
	assert_string_equal(sh_invariant_name(9), "I?");
	assert_null(sh_last_report(NULL));
	th_reset();
	th_init(&h);
	th_add(&h, 0, NGRAN, NSLOTS);
	r = sh_last_report(&h);
	assert_int_equal(r->code, 0);
	p = T_MALLOC(&h, 20);
	memset(p, 0x5a, sh_usable_size(&h, p));
	assert_int_equal(T_FREE(&h, p), 0);
	assert_int_equal(r->code, 0);
	assert_null(r->ptr);
}

static void test_asan_live_block_usable_whole(void **state)
{
	struct sh_heap h;
	unsigned char *a, *p;

	(void)state;
	th_reset();
	th_init(&h);
	a = th_add(&h, 0, NGRAN, NSLOTS);
	p = T_MALLOC(&h, 2 * GRAN);
	memset(p, 1, sh_usable_size(&h, p));
	p = T_REALLOC(&h, p, 5 * GRAN);
	memset(p, 2, sh_usable_size(&h, p));
	p = T_REALLOC(&h, p, GRAN);
	memset(p, 3, sh_usable_size(&h, p));
	assert_int_equal(T_FREE(&h, p), 0);
	EXPECT_LAYOUT(&h, {0, 0, NGRAN, FREE});
	(void)a;
	scribble(a, 0, 0); /* (scribble is used by every build) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#if SH_HARDEN
		cmocka_unit_test(test_rule1_keeps_a_guard_byte),
		cmocka_unit_test(test_calloc_zeroes_the_request_keeps_the_guard),
		cmocka_unit_test(test_clean_use_reports_nothing),
		cmocka_unit_test(test_overrun_into_slack_detected_at_free),
		cmocka_unit_test(test_overrun_into_guard_granule),
		cmocka_unit_test(test_overrun_detected_at_realloc),
		cmocka_unit_test(test_overrun_reported_once_by_failing_realloc),
		cmocka_unit_test(test_overrun_detected_by_sh_check),
		cmocka_unit_test(test_use_after_free_detected_by_malloc),
		cmocka_unit_test(test_use_after_free_detected_by_memalign),
		cmocka_unit_test(test_use_after_free_detected_by_realloc),
		cmocka_unit_test(test_misuse_unchanged),
#endif
		cmocka_unit_test(test_names_and_last_report),
		cmocka_unit_test(test_asan_live_block_usable_whole),
		cmocka_unit_test(test_asan_catches_slot_read),
		cmocka_unit_test(test_asan_catches_index_write),
		cmocka_unit_test(test_asan_catches_free_block_read),
		cmocka_unit_test(test_asan_catches_read_past_block),
		cmocka_unit_test(test_asan_catches_write_after_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
