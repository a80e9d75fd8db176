/* SPDX-License-Identifier: MIT */
/*
 * Misuse (docs/DESIGN.md): free or realloc of a pointer that is not the start of a live
 * block of this heap is reported with its own code, and the heap is left unchanged. Every
 * test checks the returned code, one call of the error hook with that code and pointer, the
 * misuse counter, sh_last_error, that the sh_walk listing and the stats are the same as
 * before, that the live blocks' contents are intact, and that sh_check is clean.
 */
#include <string.h>

#include "testutil.h"

/*
 * The heap every test starts from (granules from each arena):
 *
 *   region 0:  [0,2) live  [2,3) live  [3,5) free  [5,6) live  [6,9) free  [9,10) live
 *              [10,32) free
 *   region 1:  [0,2) live  [2,32) free
 */
struct fix {
	struct sh_heap h;
	unsigned char *r0, *r1;
	struct th_hook hook;
	size_t misuse; /* misuse reports so far */
};

static const struct {
	unsigned region;
	size_t off, size;
} live_blocks[] = {{0, 0, 2}, {0, 2, 1}, {0, 5, 1}, {0, 9, 1}, {1, 0, 2}};
#define NLIVE (sizeof(live_blocks) / sizeof(live_blocks[0]))

static unsigned char *region_arena(struct fix *f, unsigned r)
{
	return r == 0 ? f->r0 : f->r1;
}

static void build(struct fix *f)
{
	unsigned char *a;
	void *x, *y;

	memset(f, 0, sizeof(*f));
	th_reset();
	th_init(&f->h);
	a = f->r0 = th_add(&f->h, 0, 32, 16);
	f->r1 = th_add(&f->h, 1, 32, 16);
	assert_ptr_equal(T_MALLOC(&f->h, 2 * GRAN), AT(a, 0));
	assert_ptr_equal(T_MALLOC(&f->h, GRAN), AT(a, 2));
	x = T_MALLOC(&f->h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&f->h, GRAN), AT(a, 5));
	y = T_MALLOC(&f->h, 3 * GRAN);
	assert_ptr_equal(T_MALLOC(&f->h, GRAN), AT(a, 9));
	assert_ptr_equal(T_MALLOC_IN(&f->h, 0x2u, 2 * GRAN), AT(f->r1, 0));
	assert_int_equal(T_FREE(&f->h, x), 0);
	assert_int_equal(T_FREE(&f->h, y), 0);
	EXPECT_LAYOUT(&f->h, {0, 0, 2, LIVE}, {0, 2, 1, LIVE}, {0, 3, 2, FREE}, {0, 5, 1, LIVE},
		      {0, 6, 3, FREE}, {0, 9, 1, LIVE}, {0, 10, 22, FREE}, {1, 0, 2, LIVE},
		      {1, 2, 30, FREE});
	for (unsigned i = 0; i < NLIVE; i++)
		th_fill(AT(region_arena(f, live_blocks[i].region), live_blocks[i].off),
			live_blocks[i].size * GRAN, i + 1);
	sh_set_error_hook(&f->h, th_hook_fn, &f->hook);
	EXPECT_COUNTS(&f->h, 0, 0);
	assert_int_equal(sh_last_error(&f->h), 0);
}

/* Of the blocks still live: what the test freed is the allocator's (poisoned under ASan). */
static void contents_intact(struct fix *f, const char *file, int line)
{
	for (unsigned i = 0; i < NLIVE; i++) {
		void *p = AT(region_arena(f, live_blocks[i].region), live_blocks[i].off);

		if (sh_usable_size(&f->h, p) == 0)
			continue;
		if (!th_verify(AT(region_arena(f, live_blocks[i].region), live_blocks[i].off),
			       live_blocks[i].size * GRAN, i + 1)) {
			print_error("contents of live block %u changed\n", i);
			_fail(file, line);
		}
	}
}

/* Everything a reported misuse must leave behind. */
static void after_misuse(struct fix *f, const struct th_snap *before, const void *ptr, int code,
			 const char *file, int line)
{
	struct sh_stats st;

	f->misuse++;
	if (f->hook.calls != 1 || f->hook.code != code || f->hook.ptr != ptr ||
	    f->hook.ctx != &f->hook) {
		print_error("error hook: %u call(s), last with code %d (%s) and pointer %p; "
			    "expected one call with %d (%s) and %p\n",
			    f->hook.calls, f->hook.code, sh_strerror(f->hook.code), f->hook.ptr,
			    code, sh_strerror(code), ptr);
		_fail(file, line);
	}
	if (sh_last_error(&f->h) != code) {
		print_error("sh_last_error %d, expected %d\n", sh_last_error(&f->h), code);
		_fail(file, line);
	}
	sh_stats(&f->h, &st);
	if (st.misuse != f->misuse || st.failed_allocs != before->st.failed_allocs) {
		print_error("misuse %lu (expected %lu), failed_allocs %lu (expected %lu)\n",
			    (unsigned long)st.misuse, (unsigned long)f->misuse,
			    (unsigned long)st.failed_allocs,
			    (unsigned long)before->st.failed_allocs);
		_fail(file, line);
	}
	th_expect_same_at(&f->h, before, file, line);
	contents_intact(f, file, line);
	memset(&f->hook, 0, sizeof(f->hook));
}

static void misuse_free_at(struct fix *f, void *ptr, int code, const char *file, int line)
{
	struct th_snap before;
	int rc;

	th_snap(&f->h, &before);
	rc = sh_free(&f->h, ptr);
	if (rc != code) {
		print_error("sh_free(%p) returned %d (%s), expected %d (%s)\n", ptr, rc,
			    sh_strerror(rc), code, sh_strerror(code));
		_fail(file, line);
	}
	after_misuse(f, &before, ptr, code, file, line);
}
#define MISUSE_FREE(f, ptr, code) misuse_free_at((f), (ptr), (code), __FILE__, __LINE__)

static void misuse_realloc_at(struct fix *f, void *ptr, size_t size, int code, const char *file,
			      int line)
{
	struct th_snap before;
	void *q;

	th_snap(&f->h, &before);
	q = sh_realloc(&f->h, ptr, size);
	if (q != NULL) {
		print_error("sh_realloc(%p, %lu) returned %p, expected NULL\n", ptr,
			    (unsigned long)size, q);
		_fail(file, line);
	}
	after_misuse(f, &before, ptr, code, file, line);
}
#define MISUSE_REALLOC(f, ptr, size, code)                                                     \
	misuse_realloc_at((f), (ptr), (size), (code), __FILE__, __LINE__)

static void test_free_foreign_pointer(void **state)
{
	struct fix f;
	int local = 0;

	(void)state;
	build(&f);
	MISUSE_FREE(&f, &local, SH_EFOREIGN);
	MISUSE_FREE(&f, &f, SH_EFOREIGN);
	/* Just past each arena's end. */
	MISUSE_FREE(&f, AT(f.r0, 32), SH_EFOREIGN);
	MISUSE_FREE(&f, AT(f.r1, 32), SH_EFOREIGN);
	/* A buffer no region uses. */
	MISUSE_FREE(&f, th_mem[2] + TH_ARENA_OFF, SH_EFOREIGN);
}

static void test_free_pointer_into_metadata(void **state)
{
	struct fix f;
	struct sh_region_info ri;

	(void)state;
	build(&f);
	for (unsigned r = 0; r < 2; r++) {
		assert_int_equal(sh_region_info(&f.h, r, &ri), 0);
		/* The slot array, a slot inside it, the buckets' last granule. */
		MISUSE_FREE(&f, ri.base, SH_EFOREIGN);
		MISUSE_FREE(&f, (unsigned char *)ri.base + 2 * GRAN, SH_EFOREIGN);
		MISUSE_FREE(&f, (unsigned char *)ri.arena - GRAN, SH_EFOREIGN);
		MISUSE_FREE(&f, (unsigned char *)ri.arena - 1, SH_EFOREIGN);
	}
	/* The slot array as the heap itself points to it. */
	MISUSE_FREE(&f, f.h.region[0].slots, SH_EFOREIGN);
	MISUSE_FREE(&f, f.h.region[1].buckets, SH_EFOREIGN);
}

static void test_free_interior_pointer(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	/* Inside live blocks. */
	MISUSE_FREE(&f, AT(f.r0, 1), SH_EBADPTR);
	MISUSE_FREE(&f, AT(f.r1, 1), SH_EBADPTR);
	/* Inside free blocks: never the start of a block either. */
	MISUSE_FREE(&f, AT(f.r0, 4), SH_EBADPTR);
	MISUSE_FREE(&f, AT(f.r0, 7), SH_EBADPTR);
	MISUSE_FREE(&f, AT(f.r0, 31), SH_EBADPTR);
	MISUSE_FREE(&f, AT(f.r1, 20), SH_EBADPTR);
}

static void test_free_unaligned_pointer(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	MISUSE_FREE(&f, (unsigned char *)AT(f.r0, 0) + 1, SH_EBADPTR);
	MISUSE_FREE(&f, (unsigned char *)AT(f.r0, 2) + GRAN / 2, SH_EBADPTR);
	MISUSE_FREE(&f, (unsigned char *)AT(f.r0, 3) + 1, SH_EBADPTR);
	/* The last byte of the arena. */
	MISUSE_FREE(&f, (unsigned char *)AT(f.r0, 32) - 1, SH_EBADPTR);
}

static void test_double_free(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	/* Starts of free blocks. */
	MISUSE_FREE(&f, AT(f.r0, 3), SH_EDOUBLEFREE);
	MISUSE_FREE(&f, AT(f.r0, 6), SH_EDOUBLEFREE);
	MISUSE_FREE(&f, AT(f.r0, 10), SH_EDOUBLEFREE);
	MISUSE_FREE(&f, AT(f.r1, 2), SH_EDOUBLEFREE);
	/* A live block freed twice: its own slot stays separate (live neighbours). */
	assert_int_equal(T_FREE(&f.h, AT(f.r0, 0)), 0);
	EXPECT_LAYOUT(&f.h, {0, 0, 2, FREE}, {0, 2, 1, LIVE}, {0, 3, 2, FREE}, {0, 5, 1, LIVE},
		      {0, 6, 3, FREE}, {0, 9, 1, LIVE}, {0, 10, 22, FREE}, {1, 0, 2, LIVE},
		      {1, 2, 30, FREE});
	MISUSE_FREE(&f, AT(f.r0, 0), SH_EDOUBLEFREE);
}

static void test_double_free_after_merge(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	/* [9,10) merges with the free block above: it is still the start of a free block. */
	assert_int_equal(T_FREE(&f.h, AT(f.r0, 9)), 0);
	/* [5,6) merges with both neighbours: its address is now inside [3,9). */
	assert_int_equal(T_FREE(&f.h, AT(f.r0, 5)), 0);
	EXPECT_LAYOUT(&f.h, {0, 0, 2, LIVE}, {0, 2, 1, LIVE}, {0, 3, 29, FREE}, {1, 0, 2, LIVE},
		      {1, 2, 30, FREE});
	MISUSE_FREE(&f, AT(f.r0, 3), SH_EDOUBLEFREE);
	MISUSE_FREE(&f, AT(f.r0, 5), SH_EBADPTR);
	MISUSE_FREE(&f, AT(f.r0, 9), SH_EBADPTR);
}

static void test_realloc_of_freed_pointer(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	MISUSE_REALLOC(&f, AT(f.r0, 3), GRAN, SH_EDOUBLEFREE);
	MISUSE_REALLOC(&f, AT(f.r0, 6), 8 * GRAN, SH_EDOUBLEFREE);
	/* Size 0 means free: reported the same way. */
	MISUSE_REALLOC(&f, AT(f.r0, 6), 0, SH_EDOUBLEFREE);
}

static void test_realloc_of_interior_pointer(void **state)
{
	struct fix f;

	(void)state;
	build(&f);
	MISUSE_REALLOC(&f, AT(f.r0, 1), GRAN, SH_EBADPTR);
	MISUSE_REALLOC(&f, AT(f.r0, 1), 4 * GRAN, SH_EBADPTR);
	MISUSE_REALLOC(&f, (unsigned char *)AT(f.r0, 2) + 1, GRAN, SH_EBADPTR);
	MISUSE_REALLOC(&f, AT(f.r0, 4), GRAN, SH_EBADPTR);
	MISUSE_REALLOC(&f, AT(f.r1, 1), 0, SH_EBADPTR);
}

static void test_realloc_of_foreign_pointer(void **state)
{
	struct fix f;
	int local = 0;
	struct sh_region_info ri;

	(void)state;
	build(&f);
	assert_int_equal(sh_region_info(&f.h, 0, &ri), 0);
	MISUSE_REALLOC(&f, &local, GRAN, SH_EFOREIGN);
	MISUSE_REALLOC(&f, ri.base, GRAN, SH_EFOREIGN);
	MISUSE_REALLOC(&f, AT(f.r0, 32), 0, SH_EFOREIGN);
}

static void test_pointer_of_another_heap(void **state)
{
	struct fix f;
	struct sh_heap h2;
	struct th_snap before2;
	unsigned char *a2;
	void *p;

	(void)state;
	build(&f);
	th_init(&h2);
	a2 = th_add(&h2, 2, 16, 8);
	p = T_MALLOC(&h2, 2 * GRAN);
	assert_ptr_equal(p, AT(a2, 0));
	th_fill(p, 2 * GRAN, 99);
	th_snap(&h2, &before2);
	MISUSE_FREE(&f, p, SH_EFOREIGN);
	MISUSE_REALLOC(&f, p, 4 * GRAN, SH_EFOREIGN);
	/* The other heap saw nothing. */
	EXPECT_SAME(&h2, &before2);
	EXPECT_COUNTS(&h2, 0, 0);
	assert_true(th_verify(p, 2 * GRAN, 99));
	/* And h's pointers mean nothing to h2. */
	assert_int_equal(sh_free(&h2, AT(f.r0, 0)), SH_EFOREIGN);
	EXPECT_SAME(&h2, &before2);
	EXPECT_COUNTS(&h2, 0, 1);
	assert_int_equal(T_FREE(&h2, p), 0);
	EXPECT_LAYOUT(&h2, {0, 0, 16, FREE});
}

static void test_misuse_without_hook(void **state)
{
	struct fix f;
	struct th_snap before;

	(void)state;
	build(&f);
	sh_set_error_hook(&f.h, NULL, NULL);
	th_snap(&f.h, &before);
	assert_int_equal(sh_free(&f.h, AT(f.r0, 1)), SH_EBADPTR);
	assert_null(sh_realloc(&f.h, AT(f.r0, 3), GRAN));
	assert_int_equal(f.hook.calls, 0);
	assert_int_equal(sh_last_error(&f.h), SH_EDOUBLEFREE);
	EXPECT_COUNTS(&f.h, 0, 2);
	EXPECT_SAME(&f.h, &before);
	contents_intact(&f, __FILE__, __LINE__);
	/* A hook installed again is called again. */
	f.misuse = 2;
	sh_set_error_hook(&f.h, th_hook_fn, &f.hook);
	MISUSE_FREE(&f, AT(f.r0, 4), SH_EBADPTR);
}

static void test_misuse_counts_and_last_error(void **state)
{
	struct fix f;
	void *p;

	(void)state;
	build(&f);
	MISUSE_FREE(&f, AT(f.r0, 3), SH_EDOUBLEFREE);
	MISUSE_FREE(&f, AT(f.r0, 1), SH_EBADPTR);
	MISUSE_FREE(&f, &f, SH_EFOREIGN);
	EXPECT_COUNTS(&f.h, 0, 3);
	assert_int_equal(sh_last_error(&f.h), SH_EFOREIGN);
	/* An allocation failure is not misuse, and replaces the last error. */
	assert_null(T_MALLOC(&f.h, 64 * GRAN));
	assert_int_equal(sh_last_error(&f.h), SH_ENOMEM);
	EXPECT_COUNTS(&f.h, 1, 3);
	assert_int_equal(f.hook.calls, 0);
	/* The heap works as before. */
	p = T_MALLOC(&f.h, 2 * GRAN);
	assert_ptr_equal(p, AT(f.r0, 3));
	assert_int_equal(T_FREE(&f.h, AT(f.r0, 2)), 0);
	EXPECT_LAYOUT(&f.h, {0, 0, 2, LIVE}, {0, 2, 1, FREE}, {0, 3, 2, LIVE}, {0, 5, 1, LIVE},
		      {0, 6, 3, FREE}, {0, 9, 1, LIVE}, {0, 10, 22, FREE}, {1, 0, 2, LIVE},
		      {1, 2, 30, FREE});
	EXPECT_COUNTS(&f.h, 1, 3);
	assert_int_equal(f.hook.calls, 0);
}

static void test_misuse_on_heap_without_regions(void **state)
{
	struct sh_heap h;
	struct th_hook hook;
	int local = 0;

	(void)state;
	memset(&hook, 0, sizeof(hook));
	th_init(&h);
	sh_set_error_hook(&h, th_hook_fn, &hook);
	assert_int_equal(sh_free(&h, &local), SH_EFOREIGN);
	assert_int_equal(hook.calls, 1);
	assert_int_equal(hook.code, SH_EFOREIGN);
	assert_ptr_equal(hook.ptr, &local);
	assert_null(sh_realloc(&h, &local, 1));
	assert_int_equal(hook.calls, 2);
	EXPECT_COUNTS(&h, 0, 2);
	assert_int_equal(sh_last_error(&h), SH_EFOREIGN);
	assert_int_equal(sh_free(&h, NULL), 0);
	assert_int_equal(hook.calls, 2);
	CHECK_HEAP(&h);
}

static void test_error_and_invariant_names(void **state)
{
	static const char *const names[] = {
		[SH_EINVAL] = "SH_EINVAL",	     [SH_ETOOSMALL] = "SH_ETOOSMALL",
		[SH_ETOOBIG] = "SH_ETOOBIG",	     [SH_EOVERLAP] = "SH_EOVERLAP",
		[SH_ETOOMANY] = "SH_ETOOMANY",	     [SH_ENOMEM] = "SH_ENOMEM",
		[SH_EOVERFLOW] = "SH_EOVERFLOW",     [SH_EALIGN] = "SH_EALIGN",
		[SH_EFOREIGN] = "SH_EFOREIGN",	     [SH_EBADPTR] = "SH_EBADPTR",
		[SH_EDOUBLEFREE] = "SH_EDOUBLEFREE", [SH_ECORRUPT] = "SH_ECORRUPT",
	};
	char prefix[4];

	(void)state;
	for (int c = SH_EINVAL; c <= SH_ECORRUPT; c++)
		assert_string_equal(sh_strerror(c), names[c]);
	assert_non_null(sh_strerror(SH_OK));
	assert_non_null(sh_strerror(-1));
	assert_non_null(sh_strerror(1000));
	for (int i = SH_I1_TILING; i <= SH_I7_STATS; i++) {
		prefix[0] = 'I';
		prefix[1] = (char)('0' + i);
		prefix[2] = ' ';
		prefix[3] = 0;
		assert_non_null(sh_invariant_name(i));
		assert_memory_equal(sh_invariant_name(i), prefix, 3);
	}
	assert_string_equal(sh_invariant_name(SH_I3_CONSOLIDATION), "I3 consolidation");
	assert_non_null(sh_invariant_name(0));
	assert_non_null(sh_invariant_name(99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_foreign_pointer),
		cmocka_unit_test(test_free_pointer_into_metadata),
		cmocka_unit_test(test_free_interior_pointer),
		cmocka_unit_test(test_free_unaligned_pointer),
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_double_free_after_merge),
		cmocka_unit_test(test_realloc_of_freed_pointer),
		cmocka_unit_test(test_realloc_of_interior_pointer),
		cmocka_unit_test(test_realloc_of_foreign_pointer),
		cmocka_unit_test(test_pointer_of_another_heap),
		cmocka_unit_test(test_misuse_without_hook),
		cmocka_unit_test(test_misuse_counts_and_last_error),
		cmocka_unit_test(test_misuse_on_heap_without_regions),
		cmocka_unit_test(test_error_and_invariant_names),
	};

	return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
