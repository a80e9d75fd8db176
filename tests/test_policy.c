/* SPDX-License-Identifier: MIT */
/*
 * The allocation policy of docs/DESIGN.md, rule by rule (tests named test_r<rule>_...),
 * then the inspection calls (sh_stats, sh_walk, sh_region_info) and sh_add_region's errors.
 *
 * Every region is built by th_add(): its arena starts at a 4 KiB aligned address, so that the
 * layout each rule prescribes can be written down exactly, in granules from the arena start.
 * EXPECT_LAYOUT compares the sh_walk listing and every sh_stats figure it implies (including
 * the spare slot count) and runs sh_check; the T_* calls run sh_check after every operation.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <string.h>
#include <sys/mman.h>

#include "testutil.h"

#define A16 (16 * GRAN) /* an alignment of 16 granules: arena offsets 0, 16, 32, ... */

static unsigned char *one_region(struct sh_heap *h, size_t ngran, size_t nslots)
{
	th_reset();
	th_init(h);
	return th_add(h, 0, ngran, nslots);
}

static bool aligned(const void *p, size_t a)
{
	return (uintptr_t)p % a == 0;
}

/* ---- Rule 1: sizes round up to the granule; malloc(0); overflow ------------------------ */

static void test_r1_granule_rounding(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	const size_t req[] = {1, GRAN - 1, GRAN, GRAN + 1, 2 * GRAN, 3 * GRAN - 1};
	const size_t off[] = {0, 1, 2, 3, 5, 7};
	const size_t gran[] = {1, 1, 1, 2, 2, 3};

	(void)state;
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		void *p = T_MALLOC(&h, req[i]);

		assert_ptr_equal(p, AT(a, off[i]));
		assert_true(aligned(p, GRAN));
		assert_int_equal(sh_usable_size(&h, p), gran[i] * GRAN);
	}
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 1, LIVE}, {0, 3, 2, LIVE},
		      {0, 5, 2, LIVE}, {0, 7, 3, LIVE}, {0, 10, 22, FREE});
	EXPECT_COUNTS(&h, 0, 0);
	assert_int_equal(sh_last_error(&h), 0);
}

static void test_r1_malloc_zero_is_unique_granule(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p, *q;

	(void)state;
	p = T_MALLOC(&h, 0);
	q = T_MALLOC(&h, 0);
	assert_ptr_equal(p, AT(a, 0));
	assert_ptr_equal(q, AT(a, 1));
	assert_int_equal(sh_usable_size(&h, p), GRAN);
	assert_int_equal(sh_usable_size(&h, q), GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 30, FREE});
	assert_int_equal(T_FREE(&h, p), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 1, LIVE}, {0, 2, 30, FREE});
	assert_int_equal(T_FREE(&h, q), 0);
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r1_overflow_near_size_max(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	size_t failed = 0;

	(void)state;
	assert_null(T_MALLOC(&h, SIZE_MAX));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	EXPECT_COUNTS(&h, ++failed, 0);
	/* The smallest size whose rounding wraps. */
	assert_null(T_MALLOC(&h, SIZE_MAX - GRAN + 2));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	EXPECT_COUNTS(&h, ++failed, 0);
	/* The largest size that rounds without wrapping: representable, so merely too big. */
	assert_null(T_MALLOC(&h, SIZE_MAX - GRAN + 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
#if SIZE_MAX > UINT32_MAX
	/* Granule counts that do not fit in 32 bits must not be truncated into small ones. */
	assert_null(T_MALLOC(&h, ((size_t)UINT32_MAX + 1) * GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
	assert_null(T_MALLOC(&h, (size_t)UINT32_MAX * GRAN + 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
	assert_null(T_MALLOC(&h, ((size_t)1 << 32) * GRAN + 32 * GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
#endif
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
	/* A success afterwards does not clear the last error. */
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 0));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, failed, 0);
}

static void test_r1_enomem_when_nothing_fits(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 8, 16);

	(void)state;
	assert_int_equal(sh_last_error(&h), 0);
	assert_null(T_MALLOC(&h, 8 * GRAN + 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	assert_ptr_equal(T_MALLOC(&h, 8 * GRAN), AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 8, LIVE});
	assert_null(T_MALLOC(&h, 0));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 2, 0);
}

/* ---- Rule 2: regions in the order added, region masks ---------------------------------- */

static void test_r2_regions_in_order_added(void **state)
{
	struct sh_heap h;
	unsigned char *r0, *r1;

	(void)state;
	th_reset();
	th_init(&h);
	/* Region 0 lies above region 1 in memory: order of addition, not address, counts. */
	r0 = th_add(&h, 1, 4, 8);
	r1 = th_add(&h, 0, 32, 8);
	assert_true(r0 > r1);
	EXPECT_LAYOUT(&h, {0, 0, 4, FREE}, {1, 0, 32, FREE});
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r0, 0));
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(r0, 1));
	/* Region 0 has one granule left: a two-granule request goes on to region 1. */
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(r1, 0));
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r0, 3));
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r1, 2));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 2, LIVE}, {0, 3, 1, LIVE}, {1, 0, 2, LIVE},
		      {1, 2, 1, LIVE}, {1, 3, 29, FREE});
	/* Freeing in region 0 makes it the first choice again. */
	assert_int_equal(T_FREE(&h, AT(r0, 1)), 0);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r0, 1));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 1, FREE}, {0, 3, 1, LIVE},
		      {1, 0, 2, LIVE}, {1, 2, 1, LIVE}, {1, 3, 29, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r2_region_masks(void **state)
{
	struct sh_heap h;
	unsigned char *r0, *r1, *r2;
	size_t failed = 0;

	(void)state;
	th_reset();
	th_init(&h);
	r0 = th_add(&h, 0, 32, 8);
	r1 = th_add(&h, 1, 32, 8);
	r2 = th_add(&h, 2, 32, 8);
	assert_ptr_equal(T_MALLOC_IN(&h, 0x2u, GRAN), AT(r1, 0));
	/* Among the allowed regions, the lowest index first. */
	assert_ptr_equal(T_MALLOC_IN(&h, 0x6u, GRAN), AT(r1, 1));
	assert_ptr_equal(T_MALLOC_IN(&h, 0x4u, GRAN), AT(r2, 0));
	/* An empty mask allows nothing. */
	assert_null(T_MALLOC_IN(&h, 0u, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
	/* Bits of regions that do not exist allow nothing either... */
	assert_null(T_MALLOC_IN(&h, ~0x7u, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
	/* ...and are ignored next to bits of regions that do. */
	assert_ptr_equal(T_MALLOC_IN(&h, 0x8u | 0x4u | 0x80000000u, GRAN), AT(r2, 1));
	assert_ptr_equal(T_MALLOC_IN(&h, SH_ALL_REGIONS, GRAN), AT(r0, 0));
	assert_ptr_equal(T_MALLOC_IN(&h, 0x1u, 31 * GRAN), AT(r0, 1));
	/* Region 0 is full; regions 1 and 2 have room but are not allowed. */
	assert_null(T_MALLOC_IN(&h, 0x1u, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, ++failed, 0);
	/* sh_malloc uses every region. */
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r1, 2));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 31, LIVE}, {1, 0, 1, LIVE}, {1, 1, 1, LIVE},
		      {1, 2, 1, LIVE}, {1, 3, 29, FREE}, {2, 0, 1, LIVE}, {2, 1, 1, LIVE},
		      {2, 2, 30, FREE});
	EXPECT_COUNTS(&h, failed, 0);
}

/* ---- Rule 3: address-ordered first fit ------------------------------------------------- */

static void test_r3_lowest_fitting_block_not_best_fit(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p[6];
	const size_t sz[6] = {1, 1, 3, 1, 2, 1};

	(void)state;
	for (int i = 0; i < 6; i++)
		p[i] = T_MALLOC(&h, sz[i] * GRAN);
	assert_ptr_equal(p[5], AT(a, 8));
	assert_int_equal(T_FREE(&h, p[0]), 0);
	assert_int_equal(T_FREE(&h, p[2]), 0);
	assert_int_equal(T_FREE(&h, p[4]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 1, LIVE}, {0, 2, 3, FREE}, {0, 5, 1, LIVE},
		      {0, 6, 2, FREE}, {0, 8, 1, LIVE}, {0, 9, 23, FREE});
	/* Two granules: [0,1) is too small, [2,5) is the lowest that fits (best fit: [6,8)). */
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(a, 2));
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 1, LIVE}, {0, 2, 2, LIVE}, {0, 4, 1, FREE},
		      {0, 5, 1, LIVE}, {0, 6, 2, FREE}, {0, 8, 1, LIVE}, {0, 9, 23, FREE});
	/* Three granules fit no hole: the top block. */
	assert_ptr_equal(T_MALLOC(&h, 3 * GRAN), AT(a, 9));
	/* One granule: the lowest hole, taken whole. */
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 0));
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 4));
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 6));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 2, LIVE}, {0, 4, 1, LIVE},
		      {0, 5, 1, LIVE}, {0, 6, 1, LIVE}, {0, 7, 1, FREE}, {0, 8, 1, LIVE},
		      {0, 9, 3, LIVE}, {0, 12, 20, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

/* ---- Rule 4: split at the low end; whole block without a spare slot -------------------- */

static void test_r4_split_takes_low_end(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);

	(void)state;
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
	assert_ptr_equal(T_MALLOC(&h, 3 * GRAN), AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 3, LIVE}, {0, 3, 29, FREE});
	assert_ptr_equal(T_MALLOC(&h, 29 * GRAN), AT(a, 3));
	/* An exact fit needs no slot for a remainder. */
	EXPECT_LAYOUT(&h, {0, 0, 3, LIVE}, {0, 3, 29, LIVE});
}

static void test_r4_single_slot_hands_out_whole_arena(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 8, 1);
	void *p;

	(void)state;
	EXPECT_LAYOUT(&h, {0, 0, 8, FREE});
	p = T_MALLOC(&h, 1);
	assert_ptr_equal(p, AT(a, 0));
	assert_int_equal(sh_usable_size(&h, p), 8 * GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 8, LIVE});
	assert_null(T_MALLOC(&h, 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	assert_int_equal(T_FREE(&h, p), 0);
	EXPECT_LAYOUT(&h, {0, 0, 8, FREE});
}

static void test_r4_last_slot_whole_remainder(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 8, 2);
	void *p, *q, *r;

	(void)state;
	p = T_MALLOC(&h, GRAN);
	assert_ptr_equal(p, AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 7, FREE});
	/* No spare slot for the remainder: the whole free block. */
	q = T_MALLOC(&h, GRAN);
	assert_ptr_equal(q, AT(a, 1));
	assert_int_equal(sh_usable_size(&h, q), 7 * GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 7, LIVE});
	assert_int_equal(T_FREE(&h, p), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 7, LIVE});
	r = T_MALLOC(&h, 0);
	assert_ptr_equal(r, AT(a, 0));
	assert_int_equal(sh_usable_size(&h, r), GRAN);
	assert_int_equal(T_FREE(&h, q), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 7, FREE});
	assert_int_equal(T_FREE(&h, r), 0);
	EXPECT_LAYOUT(&h, {0, 0, 8, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r4_never_fails_for_lack_of_slots(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 16, 3);
	void *p, *q;

	(void)state;
	p = T_MALLOC(&h, GRAN);
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(a, 1));
	assert_int_equal(T_FREE(&h, p), 0);
	/* Every slot in use: one free granule at 0, a free block at 3. */
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 2, LIVE}, {0, 3, 13, FREE});
	q = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(q, AT(a, 3));
	assert_int_equal(sh_usable_size(&h, q), 13 * GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE}, {0, 1, 2, LIVE}, {0, 3, 13, LIVE});
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 2, LIVE}, {0, 3, 13, LIVE});
	EXPECT_COUNTS(&h, 0, 0);
}

/* ---- Rule 5: free merges at once; slots go back to the spare list ---------------------- */

static void test_r5_merge_above_below_both(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		p[i] = T_MALLOC(&h, GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 1, LIVE}, {0, 3, 1, LIVE},
		      {0, 4, 28, FREE});
	/* No free neighbour: the block's own slot moves to the free list. */
	assert_int_equal(T_FREE(&h, p[1]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, FREE}, {0, 2, 1, LIVE}, {0, 3, 1, LIVE},
		      {0, 4, 28, FREE});
	/* Free block above: one slot returns to the spare list. */
	assert_int_equal(T_FREE(&h, p[0]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 1, LIVE}, {0, 3, 1, LIVE}, {0, 4, 28, FREE});
	assert_int_equal(T_FREE(&h, p[3]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 1, LIVE}, {0, 3, 29, FREE});
	/* Free on both sides: two slots return. */
	assert_int_equal(T_FREE(&h, p[2]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
	assert_ptr_equal(T_MALLOC(&h, 32 * GRAN), AT(a, 0));
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r5_merge_below_only(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		p[i] = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(p[2], AT(a, 4));
	assert_int_equal(T_FREE(&h, p[0]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 2, LIVE}, {0, 4, 2, LIVE}, {0, 6, 26, FREE});
	assert_int_equal(T_FREE(&h, p[1]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 4, FREE}, {0, 4, 2, LIVE}, {0, 6, 26, FREE});
	/* The merged block is found by first fit as one block. */
	assert_ptr_equal(T_MALLOC(&h, 4 * GRAN), AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 2, LIVE}, {0, 6, 26, FREE});
}

/* The block the last free left is the index's first guess for the block below the next one
 * freed; a guess whose slot is live again (handed out whole) must not be merged with, even
 * though it ends exactly where the freed block starts. */
static void test_r5_guess_below_handed_out_again(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p[3];

	(void)state;
	for (int i = 0; i < 3; i++)
		p[i] = T_MALLOC(&h, GRAN);
	assert_int_equal(T_FREE(&h, p[0]), 0);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 0));
	assert_int_equal(T_FREE(&h, p[1]), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, FREE}, {0, 2, 1, LIVE}, {0, 3, 29, FREE});
	assert_int_equal(sh_usable_size(&h, AT(a, 0)), GRAN);
}

static void test_r5_free_null_is_noop(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 0));
	assert_int_equal(T_FREE(&h, NULL), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 31, FREE});
	EXPECT_COUNTS(&h, 0, 0);
	assert_int_equal(sh_last_error(&h), 0);
}

/* ---- Rule 6: memalign ------------------------------------------------------------------ */

static void test_r6_alignment_not_power_of_two(void **state)
{
	struct sh_heap h;
	const size_t bad[] = {0, 3, 48, 3 * GRAN, 24 * GRAN, SIZE_MAX, (SIZE_MAX >> 1) + 2};
	size_t failed = 0;

	(void)state;
	one_region(&h, 32, 16);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(T_MEMALIGN(&h, bad[i], GRAN));
		assert_int_equal(sh_last_error(&h), SH_EALIGN);
		EXPECT_COUNTS(&h, ++failed, 0);
	}
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
}

static void test_r6_small_alignment_acts_as_granule(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 0));
	assert_int_equal(T_FREE(&h, AT(a, 0)), 0);
	assert_ptr_equal(T_MEMALIGN(&h, 1, 1), AT(a, 0));
	assert_ptr_equal(T_MEMALIGN(&h, 2, GRAN), AT(a, 1));
	assert_ptr_equal(T_MEMALIGN(&h, GRAN / 2, 0), AT(a, 2));
	assert_ptr_equal(T_MEMALIGN(&h, GRAN, 2 * GRAN), AT(a, 3));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 1, LIVE}, {0, 3, 2, LIVE},
		      {0, 5, 27, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r6_front_gap_stays_free(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 64, 16);
	void *q, *r;

	(void)state;
	assert_true(aligned(a, 4096));
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 0));
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(a, 16));
	assert_true(aligned(q, A16));
	assert_int_equal(sh_usable_size(&h, q), GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {0, 16, 1, LIVE},
		      {0, 17, 47, FREE});
	r = T_MEMALIGN(&h, A16, 20 * GRAN);
	assert_ptr_equal(r, AT(a, 32));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {0, 16, 1, LIVE},
		      {0, 17, 15, FREE}, {0, 32, 20, LIVE}, {0, 52, 12, FREE});
	/* The gaps are ordinary free blocks. */
	assert_ptr_equal(T_MALLOC(&h, 15 * GRAN), AT(a, 1));
	assert_ptr_equal(T_MALLOC(&h, 14 * GRAN), AT(a, 17));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, LIVE}, {0, 16, 1, LIVE},
		      {0, 17, 14, LIVE}, {0, 31, 1, FREE}, {0, 32, 20, LIVE},
		      {0, 52, 12, FREE});
	/* Freeing the aligned block merges it with both gaps' neighbours as usual. */
	assert_int_equal(T_FREE(&h, r), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, LIVE}, {0, 16, 1, LIVE},
		      {0, 17, 14, LIVE}, {0, 31, 33, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

/* Region of 64 granules: [0,1) live, [1,20) free, [20,32) live, [32,64) free. */
static unsigned char *memalign_setup(struct sh_heap *h, size_t nslots)
{
	unsigned char *a = one_region(h, 64, nslots);
	void *p1;

	assert_ptr_equal(T_MALLOC(h, GRAN), AT(a, 0));
	p1 = T_MALLOC(h, 19 * GRAN);
	assert_ptr_equal(T_MALLOC(h, 12 * GRAN), AT(a, 20));
	assert_int_equal(T_FREE(h, p1), 0);
	EXPECT_LAYOUT(h, {0, 0, 1, LIVE}, {0, 1, 19, FREE}, {0, 20, 12, LIVE},
		      {0, 32, 32, FREE});
	return a;
}

static void test_r6_candidate_skipped_when_gap_gets_no_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = memalign_setup(&h, 4); /* every slot in use */
	void *q;

	(void)state;
	/* [1,20) has the aligned start 16 but its gap [1,16) would need a slot: skipped. [32,64)
	 * starts aligned; its tail would need a slot too, so the whole block is taken. */
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(a, 32));
	assert_int_equal(sh_usable_size(&h, q), 32 * GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 19, FREE}, {0, 20, 12, LIVE},
		      {0, 32, 32, LIVE});
	/* Now nothing aligned is left with a slot for its gap. */
	assert_null(T_MEMALIGN(&h, A16, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	/* A plain malloc still succeeds there (rule 4). */
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 1));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 19, LIVE}, {0, 20, 12, LIVE},
		      {0, 32, 32, LIVE});
}

static void test_r6_gap_takes_last_slot_tail_rule(void **state)
{
	struct sh_heap h;
	unsigned char *a = memalign_setup(&h, 5); /* one spare slot */
	void *q;

	(void)state;
	/* The gap [1,16) gets the last spare slot; the tail [17,20) cannot, so the block keeps
	 * it (rule 4). */
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(a, 16));
	assert_int_equal(sh_usable_size(&h, q), 4 * GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {0, 16, 4, LIVE},
		      {0, 20, 12, LIVE}, {0, 32, 32, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r6_gap_and_tail_both_get_slots(void **state)
{
	struct sh_heap h;
	unsigned char *a = memalign_setup(&h, 6);
	void *q;

	(void)state;
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(a, 16));
	assert_int_equal(sh_usable_size(&h, q), GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {0, 16, 1, LIVE}, {0, 17, 3, FREE},
		      {0, 20, 12, LIVE}, {0, 32, 32, FREE});
}

static void test_r6_aligned_block_must_fit_before_block_end(void **state)
{
	struct sh_heap h;
	unsigned char *a = memalign_setup(&h, 16);
	void *q;

	(void)state;
	/* In [1,20) the aligned start 16 leaves only 4 granules: five do not fit. */
	q = T_MEMALIGN(&h, A16, 5 * GRAN);
	assert_ptr_equal(q, AT(a, 32));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 19, FREE}, {0, 20, 12, LIVE},
		      {0, 32, 5, LIVE}, {0, 37, 27, FREE});
	/* Four do: exactly up to the block end, no tail. */
	q = T_MEMALIGN(&h, A16, 4 * GRAN);
	assert_ptr_equal(q, AT(a, 16));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {0, 16, 4, LIVE},
		      {0, 20, 12, LIVE}, {0, 32, 5, LIVE}, {0, 37, 27, FREE});
	/* Aligned to 32 granules: [1,16) holds no such start, and in [37,64) the first one is
	 * 64, the arena end. */
	assert_null(T_MEMALIGN(&h, 2 * A16, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
}

static void test_r6_region_order(void **state)
{
	struct sh_heap h;
	unsigned char *r0, *r1, *q;

	(void)state;
	th_reset();
	th_init(&h);
	r0 = th_add(&h, 1, 16, 8);
	r1 = th_add(&h, 0, 64, 8);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r0, 0));
	/* Region 0 has no aligned start with room ([1,16) ends at the next aligned offset). */
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(r1, 0));
	assert_true(aligned(q, A16));
	q = T_MEMALIGN(&h, A16, GRAN);
	assert_ptr_equal(q, AT(r1, 16));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 15, FREE}, {1, 0, 1, LIVE}, {1, 1, 15, FREE},
		      {1, 16, 1, LIVE}, {1, 17, 47, FREE});
	/* An unaligned request still prefers region 0. */
	assert_ptr_equal(T_MEMALIGN(&h, GRAN, GRAN), AT(r0, 1));
}

static void test_r6_huge_alignment_and_size(void **state)
{
	struct sh_heap h;

	(void)state;
	one_region(&h, 32, 16);
	/* A valid alignment no arena address meets: fails without wrapping around. */
	assert_null(T_MEMALIGN(&h, (SIZE_MAX >> 1) + 1, GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	assert_null(T_MEMALIGN(&h, A16, SIZE_MAX));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	EXPECT_COUNTS(&h, 2, 0);
	assert_null(T_MEMALIGN(&h, A16, SIZE_MAX - GRAN + 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 3, 0);
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
}

static void test_r6_page_alignment(void **state)
{
	struct sh_heap h;
	const size_t page_gran = 4096 / GRAN;
	unsigned char *a = one_region(&h, 2 * page_gran + 4, 16);
	void *q;

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, 1), AT(a, 0));
	q = T_MEMALIGN(&h, 4096, 4096);
	assert_ptr_equal(q, AT(a, page_gran));
	assert_true(aligned(q, 4096));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, page_gran - 1, FREE},
		      {0, page_gran, page_gran, LIVE}, {0, 2 * page_gran, 4, FREE});
}

/* What rule 6 says memalign(align, size) returns, found the slow way: the lowest free block,
 * in address order, whose first aligned address leaves room for the rounded size and whose
 * front gap, if any, can get a spare slot. */
struct brute_fit {
	uintptr_t align;
	size_t bytes;
	bool spare;
	void *found;
};

static int brute_fit_visit(const struct sh_block_info *b, void *ctx)
{
	struct brute_fit *c = ctx;
	uintptr_t a = (uintptr_t)b->ptr, skip = (c->align - a % c->align) % c->align;

	if (b->live || skip + c->bytes > b->size || (skip && !c->spare))
		return 0;
	c->found = (void *)(a + skip);
	return 1;
}

static void *brute_memalign(const struct sh_heap *h, size_t align, size_t size)
{
	struct sh_stats st;
	struct brute_fit c = {align < GRAN ? GRAN : align,
			      size ? (size + GRAN - 1) / GRAN * GRAN : GRAN, false, NULL};

	sh_stats(h, &st);
	c.spare = st.slots_spare > 0;
	sh_walk(h, brute_fit_visit, &c);
	return c.found;
}

/* memalign searches the free index, passing over index entries that cannot hold the request
 * from an aligned start: on a heap of many holes over 64 leaves (three index levels), every
 * alignment from 16 B to 8 KiB must give the address of the slow search above. */
static void test_r6_lowest_fit_matches_brute_force(void **state)
{
	struct sh_heap h;
	void *live[400];
	size_t n = 0;
	uint32_t x = 12345; /* fixed seed: a failure repeats */

	(void)state;
	one_region(&h, TH_MAX_GRAN, 600);
	for (; n < 300; n++) {
		x = x * 1103515245u + 12345u;
		live[n] = T_MALLOC(&h, (x >> 16) % 200 + 1);
		assert_non_null(live[n]);
	}
	for (size_t i = 0; i < n;) {
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 2) {
			assert_int_equal(T_FREE(&h, live[i]), 0);
			live[i] = live[--n];
		} else {
			i++;
		}
	}
	for (unsigned step = 0; step < 600; step++) {
		x = x * 1103515245u + 12345u;
		size_t align = (size_t)16 << ((x >> 16) % 10), size = (x >> 8) % 700;
		void *want = brute_memalign(&h, align, size);
		void *got = T_MEMALIGN(&h, align, size);

		assert_ptr_equal(got, want);
		if (got && n < 400)
			live[n++] = got;
		else if (got)
			assert_int_equal(T_FREE(&h, got), 0);
		/* Free one block in three to keep holes of every size coming. */
		x = x * 1103515245u + 12345u;
		if (n > 0 && (x >> 16) % 3 == 0) {
			size_t k = (x >> 4) % n;
			assert_int_equal(T_FREE(&h, live[k]), 0);
			live[k] = live[--n];
		}
	}
}

/* A block starting on the last granule of an index leaf that holds no aligned start fits
 * exactly from the first aligned start after the leaf: the search must not pass that leaf
 * over. With 2 KiB alignment (128 granules), leaf 1 ([64, 128)) holds none. */
static void test_r6_exact_fit_from_last_granule_of_leaf(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, TH_MAX_GRAN, 16);
	const size_t g = 5;

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, 127 * GRAN), AT(a, 0));
	assert_ptr_equal(T_MALLOC(&h, (1 + g) * GRAN), AT(a, 127));
	assert_ptr_equal(T_MALLOC(&h, 100 * GRAN), AT(a, 128 + g));
	assert_int_equal(T_FREE(&h, AT(a, 127)), 0);
	/* One granule short from the aligned start: the next aligned start, 256, is taken. */
	assert_ptr_equal(T_MEMALIGN(&h, 2048, (g + 1) * GRAN), AT(a, 256));
	assert_int_equal(T_FREE(&h, AT(a, 256)), 0);
	assert_ptr_equal(T_MEMALIGN(&h, 2048, g * GRAN), AT(a, 128));
	EXPECT_LAYOUT(&h, {0, 0, 127, LIVE}, {0, 127, 1, FREE}, {0, 128, g, LIVE},
		      {0, 128 + g, 100, LIVE}, {0, 228 + g, TH_MAX_GRAN - 228 - g, FREE});
}

/* ---- Rule 7: realloc ------------------------------------------------------------------- */

static void test_r7_realloc_null_is_malloc(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);

	(void)state;
	assert_ptr_equal(T_REALLOC(&h, NULL, 3 * GRAN), AT(a, 0));
	/* realloc(NULL, 0) is malloc(0): a unique granule. */
	assert_ptr_equal(T_REALLOC(&h, NULL, 0), AT(a, 3));
	EXPECT_LAYOUT(&h, {0, 0, 3, LIVE}, {0, 3, 1, LIVE}, {0, 4, 28, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r7_realloc_zero_frees(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 2));
	assert_null(T_REALLOC(&h, p, 0));
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 1, LIVE}, {0, 3, 29, FREE});
	/* Not a failure. */
	EXPECT_COUNTS(&h, 0, 0);
	assert_int_equal(sh_last_error(&h), 0);
}

static void test_r7_shrink_tail_gets_spare_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 4));
	th_fill(p, 4 * GRAN, 1);
	assert_ptr_equal(T_REALLOC(&h, p, GRAN + 1), p);
	assert_int_equal(sh_usable_size(&h, p), 2 * GRAN);
	assert_true(th_verify(p, 2 * GRAN, 1));
	EXPECT_LAYOUT(&h, {0, 0, 2, LIVE}, {0, 2, 2, FREE}, {0, 4, 1, LIVE}, {0, 5, 27, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r7_shrink_tail_merges_into_free_above(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(p, AT(a, 0));
	th_fill(p, 4 * GRAN, 2);
	assert_ptr_equal(T_REALLOC(&h, p, GRAN), p);
	assert_true(th_verify(p, GRAN, 2));
	/* One free block, no new slot used. */
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 31, FREE});
}

static void test_r7_shrink_merges_above_without_spare_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 2);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(p, AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 28, FREE});
	assert_ptr_equal(T_REALLOC(&h, p, GRAN), p);
	assert_int_equal(sh_usable_size(&h, p), GRAN);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 31, FREE});
}

static void test_r7_shrink_keeps_size_without_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 3);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 4));
	th_fill(p, 4 * GRAN, 3);
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 1, LIVE}, {0, 5, 27, FREE});
	/* The block above is live and no spare slot is left: the block keeps its size. */
	assert_ptr_equal(T_REALLOC(&h, p, GRAN), p);
	assert_int_equal(sh_usable_size(&h, p), 4 * GRAN);
	assert_true(th_verify(p, 4 * GRAN, 3));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 1, LIVE}, {0, 5, 27, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r7_same_block_size_unchanged(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(T_REALLOC(&h, p, 4 * GRAN - 1), p);
	assert_ptr_equal(T_REALLOC(&h, p, 3 * GRAN + 1), p);
	assert_ptr_equal(p, AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 28, FREE});
}

static void test_r7_grow_in_place_into_free_above(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(p, AT(a, 0));
	th_fill(p, 2 * GRAN, 4);
	assert_ptr_equal(T_REALLOC(&h, p, 5 * GRAN), p);
	assert_int_equal(sh_usable_size(&h, p), 5 * GRAN);
	assert_true(th_verify(p, 2 * GRAN, 4));
	EXPECT_LAYOUT(&h, {0, 0, 5, LIVE}, {0, 5, 27, FREE});
}

static void test_r7_grow_in_place_without_spare_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 2);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(p, AT(a, 0));
	assert_ptr_equal(T_REALLOC(&h, p, 5 * GRAN), p);
	EXPECT_LAYOUT(&h, {0, 0, 5, LIVE}, {0, 5, 27, FREE});
}

static void test_r7_grow_exact_fit_returns_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p, *x;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	x = T_MALLOC(&h, 3 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 5));
	assert_int_equal(T_FREE(&h, x), 0);
	EXPECT_LAYOUT(&h, {0, 0, 2, LIVE}, {0, 2, 3, FREE}, {0, 5, 1, LIVE}, {0, 6, 26, FREE});
	th_fill(p, 2 * GRAN, 5);
	assert_ptr_equal(T_REALLOC(&h, p, 5 * GRAN), p);
	assert_true(th_verify(p, 2 * GRAN, 5));
	/* The block above is used up: its slot is spare again (EXPECT_LAYOUT checks the count). */
	EXPECT_LAYOUT(&h, {0, 0, 5, LIVE}, {0, 5, 1, LIVE}, {0, 6, 26, FREE});
}

static void test_r7_grow_in_place_before_lower_fit(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *hole, *p;

	(void)state;
	hole = T_MALLOC(&h, 5 * GRAN);
	p = T_MALLOC(&h, 2 * GRAN);
	assert_int_equal(T_FREE(&h, hole), 0);
	assert_ptr_equal(p, AT(a, 5));
	assert_ptr_equal(T_REALLOC(&h, p, 4 * GRAN), p);
	EXPECT_LAYOUT(&h, {0, 0, 5, FREE}, {0, 5, 4, LIVE}, {0, 9, 23, FREE});
}

static void test_r7_grow_moves_while_block_still_live(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *hole, *p, *n;

	(void)state;
	hole = T_MALLOC(&h, 2 * GRAN);
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 4));
	assert_int_equal(T_FREE(&h, hole), 0);
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 2, LIVE}, {0, 4, 1, LIVE}, {0, 5, 27, FREE});
	th_fill(p, 2 * GRAN, 6);
	/* Had p been freed first, [0,4) would have fitted three granules; it is still live. */
	n = T_REALLOC(&h, p, 3 * GRAN);
	assert_ptr_equal(n, AT(a, 5));
	assert_true(th_verify(n, 2 * GRAN, 6));
	EXPECT_LAYOUT(&h, {0, 0, 4, FREE}, {0, 4, 1, LIVE}, {0, 5, 3, LIVE}, {0, 8, 24, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r7_grow_above_too_small_moves(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p, *x, *n;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	x = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 4));
	assert_int_equal(T_FREE(&h, x), 0);
	th_fill(p, 2 * GRAN, 7);
	/* 2 + 2 granules < 5: a new block; then p merges with the free block above it. */
	n = T_REALLOC(&h, p, 5 * GRAN);
	assert_ptr_equal(n, AT(a, 5));
	assert_true(th_verify(n, 2 * GRAN, 7));
	EXPECT_LAYOUT(&h, {0, 0, 4, FREE}, {0, 4, 1, LIVE}, {0, 5, 5, LIVE}, {0, 10, 22, FREE});
}

static void test_r7_move_takes_whole_block_without_slot(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 16, 3);
	void *p, *n;

	(void)state;
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 2));
	th_fill(p, 2 * GRAN, 8);
	EXPECT_LAYOUT(&h, {0, 0, 2, LIVE}, {0, 2, 1, LIVE}, {0, 3, 13, FREE});
	n = T_REALLOC(&h, p, 4 * GRAN);
	assert_ptr_equal(n, AT(a, 3));
	assert_int_equal(sh_usable_size(&h, n), 13 * GRAN);
	assert_true(th_verify(n, 2 * GRAN, 8));
	EXPECT_LAYOUT(&h, {0, 0, 2, FREE}, {0, 2, 1, LIVE}, {0, 3, 13, LIVE});
}

static void test_r7_move_below_then_merge(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *hole, *p, *n;

	(void)state;
	hole = T_MALLOC(&h, 5 * GRAN);
	p = T_MALLOC(&h, 2 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 7));
	assert_int_equal(T_FREE(&h, hole), 0);
	th_fill(p, 2 * GRAN, 11);
	/* The block above p is live: the new block is the lowest fit, below p; the remainder of
	 * the hole then merges with p's block as p is freed. */
	n = T_REALLOC(&h, p, 4 * GRAN);
	assert_ptr_equal(n, AT(a, 0));
	assert_true(th_verify(n, 2 * GRAN, 11));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 3, FREE}, {0, 7, 1, LIVE}, {0, 8, 24, FREE});
}

static void test_r7_top_block(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 8, 3);
	void *p, *n;

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, 4 * GRAN), AT(a, 0));
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(p, AT(a, 4));
	th_fill(p, 4 * GRAN, 12);
	/* Nothing above the top block: a spare slot takes the tail. */
	assert_ptr_equal(T_REALLOC(&h, p, GRAN), p);
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 1, LIVE}, {0, 5, 3, FREE});
	/* The tail merges back when it grows again. */
	assert_ptr_equal(T_REALLOC(&h, p, 4 * GRAN), p);
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 4, LIVE});
	/* Every slot is in use now and nothing is above: the block keeps its size. */
	assert_ptr_equal(T_REALLOC(&h, AT(a, 0), GRAN), AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 3, FREE}, {0, 4, 4, LIVE});
	assert_ptr_equal(T_REALLOC(&h, p, 2 * GRAN), p);
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 3, FREE}, {0, 4, 4, LIVE});
	assert_true(th_verify(p, GRAN, 12));
	/* Growing the top block cannot happen in place; 5 granules fit nowhere. */
	assert_null(T_REALLOC(&h, p, 5 * GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	n = T_REALLOC(&h, AT(a, 0), 4 * GRAN);
	assert_ptr_equal(n, AT(a, 0));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 4, LIVE});
}

static void test_r7_grow_moves_to_other_region(void **state)
{
	struct sh_heap h;
	unsigned char *r0, *r1;
	void *p, *n;

	(void)state;
	th_reset();
	th_init(&h);
	r0 = th_add(&h, 0, 8, 8);
	r1 = th_add(&h, 1, 32, 8);
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(p, AT(r0, 0));
	th_fill(p, 4 * GRAN, 9);
	n = T_REALLOC(&h, p, 10 * GRAN);
	assert_ptr_equal(n, AT(r1, 0));
	assert_true(th_verify(n, 4 * GRAN, 9));
	EXPECT_LAYOUT(&h, {0, 0, 8, FREE}, {1, 0, 10, LIVE}, {1, 10, 22, FREE});
}

static void test_r7_failure_leaves_block_untouched(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 16, 16);
	void *p;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 4));
	th_fill(p, 4 * GRAN, 10);
	/* Above is live and no free block holds 12 granules. */
	assert_null(T_REALLOC(&h, p, 12 * GRAN));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	assert_int_equal(sh_usable_size(&h, p), 4 * GRAN);
	assert_true(th_verify(p, 4 * GRAN, 10));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 1, LIVE}, {0, 5, 11, FREE});
	assert_null(T_REALLOC(&h, p, SIZE_MAX));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	EXPECT_COUNTS(&h, 2, 0);
	assert_true(th_verify(p, 4 * GRAN, 10));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 1, LIVE}, {0, 5, 11, FREE});
	/* p still works. */
	assert_int_equal(T_FREE(&h, p), 0);
	EXPECT_LAYOUT(&h, {0, 0, 4, FREE}, {0, 4, 1, LIVE}, {0, 5, 11, FREE});
}

/* ---- Rule 8: calloc -------------------------------------------------------------------- */

static void test_r8_calloc_overflow(void **state)
{
	struct sh_heap h;
	const size_t half = (size_t)1 << (sizeof(size_t) * 4);

	(void)state;
	one_region(&h, 32, 16);
	assert_null(T_CALLOC(&h, SIZE_MAX / 2 + 1, 2));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	assert_null(T_CALLOC(&h, 2, SIZE_MAX / 2 + 1));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	assert_null(T_CALLOC(&h, half, half));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	/* No multiplication overflow, but the rounding overflows. */
	assert_null(T_CALLOC(&h, 1, SIZE_MAX));
	assert_int_equal(sh_last_error(&h), SH_EOVERFLOW);
	EXPECT_COUNTS(&h, 4, 0);
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
}

static void test_r8_calloc_zero_and_small(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);

	(void)state;
	assert_ptr_equal(T_CALLOC(&h, 0, 5), AT(a, 0));
	/* SIZE_MAX * 0 does not overflow. */
	assert_ptr_equal(T_CALLOC(&h, SIZE_MAX, 0), AT(a, 1));
	assert_ptr_equal(T_CALLOC(&h, 3, 5), AT(a, 2));
	assert_ptr_equal(T_CALLOC(&h, 3, GRAN), AT(a, 3));
	assert_true(th_all_bytes(a, 6 * GRAN, 0));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE}, {0, 1, 1, LIVE}, {0, 2, 1, LIVE}, {0, 3, 3, LIVE},
		      {0, 6, 26, FREE});
	EXPECT_COUNTS(&h, 0, 0);
}

static void test_r8_calloc_zeroes_reused_memory(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	void *p, *q;

	(void)state;
	p = T_MALLOC(&h, 4 * GRAN);
	memset(p, 0xff, 4 * GRAN);
	assert_int_equal(T_FREE(&h, p), 0);
	q = T_CALLOC(&h, 4, GRAN);
	assert_ptr_equal(q, p);
	assert_true(th_all_bytes(q, 4 * GRAN, 0));
	/* Never-used arena memory is dirty too (th_reset); free memory is poisoned under ASan,
	 * and the next call hands this granule out anyway. */
	th_unpoison(AT(a, 4), GRAN);
	assert_true(th_all_bytes(AT(a, 4), GRAN, TH_DIRT));
	q = T_CALLOC(&h, 1, 2 * GRAN);
	assert_ptr_equal(q, AT(a, 4));
	assert_true(th_all_bytes(q, 2 * GRAN, 0));
	EXPECT_LAYOUT(&h, {0, 0, 4, LIVE}, {0, 4, 2, LIVE}, {0, 6, 26, FREE});
}

static void test_r8_calloc_zeroes_whole_block(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 8, 1);
	void *q;

	(void)state;
	q = T_CALLOC(&h, 1, 1);
	assert_ptr_equal(q, AT(a, 0));
	assert_int_equal(sh_usable_size(&h, q), 8 * GRAN);
	assert_true(th_all_bytes(q, 8 * GRAN, 0));
	EXPECT_LAYOUT(&h, {0, 0, 8, LIVE});
}

/* ---- Rule 9: usable size --------------------------------------------------------------- */

static void test_r9_usable_size(void **state)
{
	struct sh_heap h;
	unsigned char *a = one_region(&h, 32, 16);
	int local = 0;
	void *p;

	(void)state;
	p = T_MALLOC(&h, GRAN + 1);
	assert_int_equal(sh_usable_size(&h, p), 2 * GRAN);
	assert_int_equal(sh_usable_size(&h, NULL), 0);
	assert_int_equal(sh_usable_size(&h, AT(a, 1)), 0);		 /* interior */
	assert_int_equal(sh_usable_size(&h, (unsigned char *)p + 1), 0); /* unaligned */
	assert_int_equal(sh_usable_size(&h, AT(a, 2)), 0);		 /* free block */
	assert_int_equal(sh_usable_size(&h, AT(a, 32)), 0);		 /* past the arena */
	assert_int_equal(sh_usable_size(&h, &local), 0);		 /* foreign */
	assert_int_equal(T_FREE(&h, p), 0);
	assert_int_equal(sh_usable_size(&h, p), 0);
	/* Asking is not misuse. */
	EXPECT_COUNTS(&h, 0, 0);
	assert_int_equal(sh_last_error(&h), 0);
	EXPECT_LAYOUT(&h, {0, 0, 32, FREE});
}

/* ---- I9: contents survive every other operation ---------------------------------------- */

static void test_i9_contents_survive(void **state)
{
	struct sh_heap h;
	void *p[8];
	size_t sz[8];

	(void)state;
	one_region(&h, 64, 12);
	for (unsigned i = 0; i < 8; i++) {
		sz[i] = (i % 3 + 1) * GRAN - i;
		p[i] = T_MALLOC(&h, sz[i]);
		assert_non_null(p[i]);
		th_fill(p[i], sz[i], i);
	}
	assert_int_equal(T_FREE(&h, p[2]), 0);
	assert_int_equal(T_FREE(&h, p[5]), 0);
	p[1] = T_REALLOC(&h, p[1], 9 * GRAN);
	assert_non_null(p[1]);
	assert_non_null(T_MEMALIGN(&h, A16, 3 * GRAN));
	assert_non_null(T_CALLOC(&h, 2, GRAN));
	p[6] = T_REALLOC(&h, p[6], 1);
	assert_true(th_verify(p[6], 1, 6));
	for (unsigned i = 0; i < 8; i++) {
		if (i == 2 || i == 5 || i == 6)
			continue;
		assert_true(th_verify(p[i], sz[i], i));
	}
}

/* ---- Inspection: sh_stats, sh_walk, sh_region_info ------------------------------------- */

static int count_blocks(const struct sh_block_info *b, void *ctx)
{
	(void)b;
	++*(unsigned *)ctx;
	return 0;
}

static void test_empty_heap(void **state)
{
	struct sh_heap h;
	struct sh_stats st;
	struct sh_region_info ri;
	unsigned calls = 0;

	(void)state;
	th_init(&h);
	sh_stats(&h, &st);
	assert_int_equal(st.live_bytes + st.free_bytes + st.live_blocks + st.free_blocks +
				 st.slots_total + st.slots_spare + st.largest_free +
				 st.failed_allocs + st.misuse,
			 0);
	assert_int_equal(sh_walk(&h, count_blocks, &calls), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(sh_check(&h, NULL), 0);
	assert_int_equal(sh_region_info(&h, 0, &ri), SH_EINVAL);
	assert_int_equal(sh_last_error(&h), 0);
	assert_null(sh_malloc(&h, 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	EXPECT_COUNTS(&h, 1, 0);
	assert_int_equal(sh_init(NULL), SH_EINVAL);
}

struct stop_ctx {
	unsigned calls, stop_at;
	int ret;
	struct sh_block_info last;
};

static int stop_walk(const struct sh_block_info *b, void *ctx)
{
	struct stop_ctx *s = ctx;

	s->last = *b;
	return ++s->calls == s->stop_at ? s->ret : 0;
}

static void test_walk_order_and_early_stop(void **state)
{
	struct sh_heap h;
	unsigned char *r0, *r1;
	struct stop_ctx s;

	(void)state;
	th_reset();
	th_init(&h);
	r0 = th_add(&h, 1, 8, 8);
	r1 = th_add(&h, 0, 8, 8);
	assert_ptr_equal(T_MALLOC(&h, 8 * GRAN), AT(r0, 0));
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(r1, 0));
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(r1, 1));
	/* Regions in index order (region 1 lies lower in memory), blocks in address order. */
	EXPECT_LAYOUT(&h, {0, 0, 8, LIVE}, {1, 0, 1, LIVE}, {1, 1, 2, LIVE}, {1, 3, 5, FREE});

	memset(&s, 0, sizeof(s));
	s.stop_at = 3;
	s.ret = 5;
	assert_int_equal(sh_walk(&h, stop_walk, &s), 5);
	assert_int_equal(s.calls, 3);
	assert_int_equal(s.last.region, 1);
	assert_ptr_equal(s.last.ptr, AT(r1, 1));
	assert_int_equal(s.last.size, 2 * GRAN);
	assert_true(s.last.live);

	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	s.ret = -2;
	assert_int_equal(sh_walk(&h, stop_walk, &s), -2);
	assert_int_equal(s.calls, 1);
	assert_ptr_equal(s.last.ptr, AT(r0, 0));

	memset(&s, 0, sizeof(s));
	s.stop_at = 100;
	assert_int_equal(sh_walk(&h, stop_walk, &s), 0);
	assert_int_equal(s.calls, 4);
	assert_ptr_equal(s.last.ptr, AT(r1, 3));
	assert_false(s.last.live);
}

static bool is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static void test_region_info_geometry(void **state)
{
	struct sh_heap h;
	struct sh_region_info ri;
	unsigned char *base = th_mem[0] + 3;
	const size_t size = 4000, nslots = 8;
	uintptr_t arena, end = (uintptr_t)base + size;

	(void)state;
	th_reset();
	th_init(&h);
	assert_int_equal(sh_add_region(&h, base, size, nslots), 0);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	arena = ((uintptr_t)base + sh_region_meta_bytes(nslots, size) + GRAN - 1) &
		~(uintptr_t)(GRAN - 1);
	assert_ptr_equal(ri.base, base);
	assert_int_equal(ri.size, size);
	assert_int_equal((uintptr_t)ri.arena, arena);
	/* The arena runs from its aligned start to the region end, in whole granules. */
	assert_int_equal(ri.arena_size, (end - arena) / GRAN * GRAN);
	assert_int_equal(ri.nslots, nslots);
	assert_true(is_pow2(ri.nbuckets));
	assert_true(ri.nbuckets * SH_SLOTS_PER_BUCKET >= nslots);
	assert_int_equal(sh_region_info(&h, 1, &ri), SH_EINVAL);
	assert_int_equal(sh_region_info(&h, SH_MAX_REGIONS, &ri), SH_EINVAL);
	assert_int_equal(sh_region_info(&h, ~0u, &ri), SH_EINVAL);
	EXPECT_LAYOUT(&h, {0, 0, (end - arena) / GRAN, FREE});
	assert_ptr_equal(T_MALLOC(&h, 1), (void *)arena);

	assert_int_equal(sh_region_meta_bytes(0, size), 0);
	assert_int_equal(sh_region_meta_bytes(SIZE_MAX, size), 0);
	assert_true(sh_region_meta_bytes(1, size) > 0);
	assert_true(sh_region_meta_bytes(64, size) > sh_region_meta_bytes(32, size));
	/* A larger region needs no less metadata (the free index covers its arena). */
	assert_true(sh_region_meta_bytes(8, 1u << 20) >= sh_region_meta_bytes(8, size));
}

/* ---- sh_add_region errors -------------------------------------------------------------- */

static void expect_add_fails(struct sh_heap *h, void *base, size_t size, size_t nslots,
			     int code)
{
	struct sh_heap before;

	memcpy(&before, h, sizeof(before));
	assert_int_equal(sh_add_region(h, base, size, nslots), code);
	/* On failure h is unchanged. */
	assert_memory_equal(&before, h, sizeof(before));
	CHECK_HEAP(h);
}

static void test_add_region_einval(void **state)
{
	struct sh_heap h;
	unsigned char *b = th_mem[0];

	(void)state;
	th_reset();
	th_init(&h);
	assert_int_equal(sh_add_region(NULL, b, 4096, 8), SH_EINVAL);
	expect_add_fails(&h, NULL, 4096, 8, SH_EINVAL);
	expect_add_fails(&h, b, 4096, 0, SH_EINVAL);
	assert_int_equal(h.nregions, 0);
	assert_int_equal(sh_last_error(&h), 0);
}

static void test_add_region_too_small(void **state)
{
	struct sh_heap h;
	unsigned char *b = th_mem[0];
	const size_t nslots = 4;
	/* Every region below is under 64 granules: one leaf of index, the same metadata. */
	const size_t raw = sh_region_meta_bytes(nslots, 64 * GRAN);
	const size_t meta = (raw + GRAN - 1) / GRAN * GRAN;
	/* A start where the metadata ends one byte past a granule boundary (b + meta + 1). */
	unsigned char *ub = b + meta - raw + 1;

	(void)state;
	th_reset();
	th_init(&h);
	expect_add_fails(&h, b, 0, nslots, SH_ETOOSMALL);
	expect_add_fails(&h, b, raw, nslots, SH_ETOOSMALL);
	expect_add_fails(&h, b, meta, nslots, SH_ETOOSMALL);
	expect_add_fails(&h, b, meta + GRAN - 1, nslots, SH_ETOOSMALL);
	/* From ub the arena starts at b + meta + GRAN: a region ending at b + meta + 2 GRAN - 1
	 * holds more than a granule past its metadata but no aligned granule. */
	expect_add_fails(&h, ub, (size_t)(b + meta + 2 * GRAN - 1 - ub), nslots, SH_ETOOSMALL);
	/* Slot array, buckets and one granule: the smallest region. */
	assert_int_equal(sh_add_region(&h, b, meta + GRAN, nslots), 0);
	EXPECT_LAYOUT(&h, {0, 0, 1, FREE});
	assert_ptr_equal(T_MALLOC(&h, 0), b + meta);
	assert_null(T_MALLOC(&h, 0));
	EXPECT_LAYOUT(&h, {0, 0, 1, LIVE});
}

static void test_add_region_overlap(void **state)
{
	struct sh_heap h;
	unsigned char *b = th_mem[0] + 8192;

	(void)state;
	th_reset();
	th_init(&h);
	assert_int_equal(sh_add_region(&h, b, 4096, 8), 0);
	expect_add_fails(&h, b, 4096, 8, SH_EOVERLAP);	      /* the same */
	expect_add_fails(&h, b - 2048, 4096, 8, SH_EOVERLAP); /* ends inside */
	expect_add_fails(&h, b + 2048, 4096, 8, SH_EOVERLAP); /* starts inside */
	expect_add_fails(&h, b - 1024, 6144, 8, SH_EOVERLAP); /* contains */
	expect_add_fails(&h, b + 1024, 1024, 8, SH_EOVERLAP); /* contained */
	expect_add_fails(&h, b + 4095, 4096, 8, SH_EOVERLAP); /* last byte */
	expect_add_fails(&h, b - 4095, 4096, 8, SH_EOVERLAP); /* first byte */
	/* An empty range overlaps only strictly inside a region; at either end it is just too
	 * small. */
	expect_add_fails(&h, b + 16, 0, 8, SH_EOVERLAP);
	expect_add_fails(&h, b, 0, 8, SH_ETOOSMALL);
	expect_add_fails(&h, b + 4096, 0, 8, SH_ETOOSMALL);
	/* Adjacent on either side is fine. */
	assert_int_equal(sh_add_region(&h, b - 4096, 4096, 8), 0);
	assert_int_equal(sh_add_region(&h, b + 4096, 4096, 8), 0);
	/* Overlapping a later region is caught too. */
	expect_add_fails(&h, b + 6000, 4096, 8, SH_EOVERLAP);
	expect_add_fails(&h, b - 8000, 4096, 8, SH_EOVERLAP);
	assert_int_equal(h.nregions, 3);
	assert_int_equal(sh_last_error(&h), 0);
	CHECK_HEAP(&h);
}

static void test_add_region_too_many(void **state)
{
	struct sh_heap h;
	unsigned char *b = th_mem[3];
	const size_t rsize = 2048;
	struct sh_region_info ri;
	void *p;

	(void)state;
	th_reset();
	th_init(&h);
	for (unsigned i = 0; i < SH_MAX_REGIONS; i++)
		assert_int_equal(sh_add_region(&h, b + i * rsize, rsize, 4), 0);
	assert_int_equal(h.nregions, SH_MAX_REGIONS);
	expect_add_fails(&h, b + SH_MAX_REGIONS * rsize, rsize, 4, SH_ETOOMANY);
	CHECK_HEAP(&h);
	/* The last region is reachable through its mask bit. */
	p = T_MALLOC_IN(&h, 1u << (SH_MAX_REGIONS - 1), 1);
	assert_int_equal(sh_region_info(&h, SH_MAX_REGIONS - 1, &ri), 0);
	assert_ptr_equal(p, ri.arena);
	if (SH_MAX_REGIONS < 32) {
		assert_null(T_MALLOC_IN(&h, ~0u << (SH_MAX_REGIONS % 32), 1));
		assert_int_equal(sh_last_error(&h), SH_ENOMEM);
	}
}

static void test_add_region_wraps_or_too_big(void **state)
{
	struct sh_heap h;
	unsigned char *b = th_mem[0];
	/* Past SH_MAX_ARENA_GRANULES the index stops growing: the same metadata for every size. */
	const size_t meta = (sh_region_meta_bytes(8, SIZE_MAX) + GRAN - 1) / GRAN * GRAN;

	(void)state;
	th_reset();
	th_init(&h);
	/* End past the top of the address space. */
	expect_add_fails(&h, (void *)(UINTPTR_MAX - 1023), 4096, 8, SH_ETOOBIG);
	expect_add_fails(&h, b, SIZE_MAX, 8, SH_ETOOBIG);
	/* One byte past the top. Ending exactly at the top is allowed: test_region_top.c. */
	expect_add_fails(&h, b, SIZE_MAX - (size_t)(uintptr_t)b + 2, 8, SH_ETOOBIG);
#if SIZE_MAX > UINT32_MAX
	/* Up to the top of a 64-bit address space: no wrap, but far too many granules. */
	expect_add_fails(&h, b, SIZE_MAX - (size_t)(uintptr_t)b + 1, 8, SH_ETOOBIG);
	/* An arena of more than UINT32_MAX granules. Nothing is written to a region's arena,
	 * so these may name memory that is not there. */
	expect_add_fails(&h, b, meta + ((size_t)SH_MAX_ARENA_GRANULES + 1) * GRAN, 8,
			 SH_ETOOBIG);
	expect_add_fails(&h, b, (size_t)1 << 46, 8, SH_ETOOBIG);
	/* Slot counts from UINT32_MAX on (the region is big enough that nothing else fails). */
	expect_add_fails(&h, b, (size_t)1 << 45, UINT32_MAX, SH_ETOOBIG);
	expect_add_fails(&h, b, (size_t)1 << 45, SIZE_MAX, SH_ETOOBIG);
#else
	(void)meta;
#endif
	assert_int_equal(sh_last_error(&h), 0);
}

/* SH_ETOOBIG is for arenas that exceed UINT32_MAX granules: exactly that many is a region. */
static void test_add_region_arena_of_max_granules(void **state)
{
#if SIZE_MAX > UINT32_MAX
	struct sh_heap h;
	struct sh_region_info ri;
	const size_t meta = (sh_region_meta_bytes(8, SIZE_MAX) + GRAN - 1) / GRAN * GRAN;
	const size_t whole = meta + (size_t)SH_MAX_ARENA_GRANULES * GRAN;
	/* The free index of such an arena is a few hundred MiB, written by sh_add_region: it
	 * needs real memory. The arena is never written, but under ASan core poisons it, and
	 * ASan can only poison addresses that may hold memory: the whole range is reserved
	 * (inaccessible), and only the metadata is made writable. Given back at the end. */
	void *map = mmap(NULL, whole, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);
	unsigned char *b = map;

	(void)state;
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map, meta, PROT_READ | PROT_WRITE), 0);
	th_init(&h);
	/* Nothing is written to a region's arena, so it may name memory that is not there. */
	assert_int_equal(sh_add_region(&h, b, whole, 8), 0);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	assert_int_equal(ri.arena_size, (size_t)SH_MAX_ARENA_GRANULES * GRAN);
	assert_ptr_equal(ri.arena, b + meta);
	CHECK_HEAP(&h);
	/* One granule more is too big. */
	th_init(&h);
	expect_add_fails(&h, b, meta + ((size_t)SH_MAX_ARENA_GRANULES + 1) * GRAN, 8,
			 SH_ETOOBIG);
	/* Under ASan core poisoned the region; the address range must be clean when it is
	 * given back, or whatever the host maps there next would seem poisoned. */
	th_unpoison(map, whole);
	munmap(map, whole);
#else
	(void)state;
	print_message("[  SKIPPED ] test_add_region_arena_of_max_granules: a region of "
		      "SH_MAX_ARENA_GRANULES granules does not fit a %zu-bit size_t\n",
		      8 * sizeof(size_t));
	skip();
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_r1_granule_rounding),
		cmocka_unit_test(test_r1_malloc_zero_is_unique_granule),
		cmocka_unit_test(test_r1_overflow_near_size_max),
		cmocka_unit_test(test_r1_enomem_when_nothing_fits),
		cmocka_unit_test(test_r2_regions_in_order_added),
		cmocka_unit_test(test_r2_region_masks),
		cmocka_unit_test(test_r3_lowest_fitting_block_not_best_fit),
		cmocka_unit_test(test_r4_split_takes_low_end),
		cmocka_unit_test(test_r4_single_slot_hands_out_whole_arena),
		cmocka_unit_test(test_r4_last_slot_whole_remainder),
		cmocka_unit_test(test_r4_never_fails_for_lack_of_slots),
		cmocka_unit_test(test_r5_merge_above_below_both),
		cmocka_unit_test(test_r5_merge_below_only),
		cmocka_unit_test(test_r5_guess_below_handed_out_again),
		cmocka_unit_test(test_r5_free_null_is_noop),
		cmocka_unit_test(test_r6_alignment_not_power_of_two),
		cmocka_unit_test(test_r6_small_alignment_acts_as_granule),
		cmocka_unit_test(test_r6_front_gap_stays_free),
		cmocka_unit_test(test_r6_candidate_skipped_when_gap_gets_no_slot),
		cmocka_unit_test(test_r6_gap_takes_last_slot_tail_rule),
		cmocka_unit_test(test_r6_gap_and_tail_both_get_slots),
		cmocka_unit_test(test_r6_aligned_block_must_fit_before_block_end),
		cmocka_unit_test(test_r6_region_order),
		cmocka_unit_test(test_r6_huge_alignment_and_size),
		cmocka_unit_test(test_r6_page_alignment),
		cmocka_unit_test(test_r6_lowest_fit_matches_brute_force),
		cmocka_unit_test(test_r6_exact_fit_from_last_granule_of_leaf),
		cmocka_unit_test(test_r7_realloc_null_is_malloc),
		cmocka_unit_test(test_r7_realloc_zero_frees),
		cmocka_unit_test(test_r7_shrink_tail_gets_spare_slot),
		cmocka_unit_test(test_r7_shrink_tail_merges_into_free_above),
		cmocka_unit_test(test_r7_shrink_merges_above_without_spare_slot),
		cmocka_unit_test(test_r7_shrink_keeps_size_without_slot),
		cmocka_unit_test(test_r7_same_block_size_unchanged),
		cmocka_unit_test(test_r7_grow_in_place_into_free_above),
		cmocka_unit_test(test_r7_grow_in_place_without_spare_slot),
		cmocka_unit_test(test_r7_grow_exact_fit_returns_slot),
		cmocka_unit_test(test_r7_grow_in_place_before_lower_fit),
		cmocka_unit_test(test_r7_grow_moves_while_block_still_live),
		cmocka_unit_test(test_r7_grow_above_too_small_moves),
		cmocka_unit_test(test_r7_move_takes_whole_block_without_slot),
		cmocka_unit_test(test_r7_move_below_then_merge),
		cmocka_unit_test(test_r7_top_block),
		cmocka_unit_test(test_r7_grow_moves_to_other_region),
		cmocka_unit_test(test_r7_failure_leaves_block_untouched),
		cmocka_unit_test(test_r8_calloc_overflow),
		cmocka_unit_test(test_r8_calloc_zero_and_small),
		cmocka_unit_test(test_r8_calloc_zeroes_reused_memory),
		cmocka_unit_test(test_r8_calloc_zeroes_whole_block),
		cmocka_unit_test(test_r9_usable_size),
		cmocka_unit_test(test_i9_contents_survive),
		cmocka_unit_test(test_empty_heap),
		cmocka_unit_test(test_walk_order_and_early_stop),
		cmocka_unit_test(test_region_info_geometry),
		cmocka_unit_test(test_add_region_einval),
		cmocka_unit_test(test_add_region_too_small),
		cmocka_unit_test(test_add_region_overlap),
		cmocka_unit_test(test_add_region_too_many),
		cmocka_unit_test(test_add_region_wraps_or_too_big),
		cmocka_unit_test(test_add_region_arena_of_max_granules),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
