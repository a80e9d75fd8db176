/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the reference model (ref/shref.c): small scenarios, computed by hand from
 * docs/DESIGN.md, for each numbered policy rule, each misuse case, slot exhaustion,
 * memalign gap skipping and the realloc variants; then a long fixed-seed sequence that checks
 * the model's own invariants (tiling, consolidation, slot bound, statistics) after every call.
 *
 * Addresses are fake: the model never touches them. A0 and A1 are 64 KiB aligned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shref.h"

#define G ((size_t)SH_GRANULE)
#define A0 ((uintptr_t)0x10000)
#define A1 ((uintptr_t)0x40000)

/* An address k granules into the arena at a. */
#define AT(a, k) ((uintptr_t)((a) + (uintptr_t)(k)*G))

struct exp_blk {
	unsigned region;
	uintptr_t ptr;
	size_t size;
	bool live;
};

#define LIVE(r, a, k, n)                                                                       \
	{                                                                                      \
		(r), AT(a, k), (size_t)(n)*G, true                                             \
	}
#define FREE(r, a, k, n)                                                                       \
	{                                                                                      \
		(r), AT(a, k), (size_t)(n)*G, false                                            \
	}

/* Checks the model's walk against the expected blocks, then the statistics against the walk. */
static void expect_blocks_(const struct shref *m, const struct exp_blk *e, size_t n)
{
	struct sh_stats st;
	size_t live = 0, freeb = 0, nlive = 0, nfree = 0, largest = 0;

	assert_int_equal(shref_block_count(m), n);
	for (size_t i = 0; i < n; i++) {
		struct sh_block_info b;
		assert_int_equal(shref_block(m, i, &b), 0);
		if (b.region != e[i].region || (uintptr_t)b.ptr != e[i].ptr ||
		    b.size != e[i].size || b.live != e[i].live) {
			print_error("block %zu: got r%u %#lx %zu %s, want r%u %#lx %zu %s\n", i,
				    b.region, (unsigned long)(uintptr_t)b.ptr, b.size,
				    b.live ? "live" : "free", e[i].region,
				    (unsigned long)e[i].ptr, e[i].size,
				    e[i].live ? "live" : "free");
			fail();
		}
		if (b.live) {
			live += b.size;
			nlive++;
		} else {
			freeb += b.size;
			nfree++;
			largest = b.size > largest ? b.size : largest;
		}
	}
	shref_stats(m, &st);
	assert_int_equal(st.live_bytes, live);
	assert_int_equal(st.free_bytes, freeb);
	assert_int_equal(st.live_blocks, nlive);
	assert_int_equal(st.free_blocks, nfree);
	assert_int_equal(st.largest_free, largest);
	assert_int_equal(st.slots_total - st.slots_spare, n);
}

#define EXPECT_BLOCKS(m, ...)                                                                  \
	do {                                                                                   \
		const struct exp_blk e_[] = {__VA_ARGS__};                                     \
		expect_blocks_((m), e_, sizeof(e_) / sizeof(e_[0]));                           \
	} while (0)

static void expect_counts(const struct shref *m, size_t failed, size_t misuse, int last_error)
{
	struct sh_stats st;
	shref_stats(m, &st);
	assert_int_equal(st.failed_allocs, failed);
	assert_int_equal(st.misuse, misuse);
	assert_int_equal(shref_last_error(m), last_error);
}

static size_t spare(const struct shref *m)
{
	struct sh_stats st;
	shref_stats(m, &st);
	return st.slots_spare;
}

/* A model with one region of ngran granules at A0 and nslots slots. */
static struct shref *model1(size_t ngran, size_t nslots)
{
	struct shref *m = shref_new();
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0, ngran * G, nslots), 0);
	return m;
}

/* ---- regions ---- */

static void test_add_region_validation(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0 + 1, 16 * G, 4), SH_EINVAL);
	assert_int_equal(shref_add_region(m, A0, 0, 4), SH_EINVAL);
	assert_int_equal(shref_add_region(m, A0, G + 1, 4), SH_EINVAL);
	assert_int_equal(shref_add_region(m, A0, 16 * G, 0), SH_EINVAL);
	/* the top granule of the address space: its end would wrap */
	assert_int_equal(shref_add_region(m, UINTPTR_MAX & ~(uintptr_t)(G - 1), G, 4),
			 SH_EINVAL);
	assert_int_equal(shref_block_count(m), 0);

	assert_int_equal(shref_add_region(m, A0, 16 * G, 4), 0);
	assert_int_equal(shref_add_region(m, A0 + 8 * G, 16 * G, 4), SH_EINVAL); /* overlap */
	assert_int_equal(shref_add_region(m, A0 - 8 * G, 9 * G, 4), SH_EINVAL);	 /* overlap */
	assert_int_equal(shref_add_region(m, A0 - 8 * G, 8 * G, 4), 0);		 /* adjacent */
	for (unsigned i = 2; i < SH_MAX_REGIONS; i++)
		assert_int_equal(shref_add_region(m, A1 + i * 0x1000u, 2 * G, 1), 0);
	assert_int_equal(shref_add_region(m, A1, 2 * G, 1), SH_EINVAL); /* too many */
	assert_int_equal(shref_block_count(m), SH_MAX_REGIONS);

	struct sh_block_info b;
	assert_int_equal(shref_block(m, 0, &b), 0);
	assert_int_equal(b.region, 0);
	assert_true((uintptr_t)b.ptr == A0);
	assert_int_equal(b.size, 16 * G);
	assert_false(b.live);
	assert_int_equal(shref_block(m, 1, &b), 0);
	assert_int_equal(b.region, 1);
	assert_true((uintptr_t)b.ptr == A0 - 8 * G);
	assert_int_equal(shref_block(m, SH_MAX_REGIONS, &b), SH_EINVAL);

	struct sh_stats st;
	shref_stats(m, &st);
	assert_int_equal(st.slots_total, 4 + 4 + (SH_MAX_REGIONS - 2));
	assert_int_equal(st.slots_spare, 3 + 3);
	assert_int_equal(st.free_blocks, SH_MAX_REGIONS);
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

/* ---- rule 1: block sizes ---- */

static void test_rule1_sizes(void **state)
{
	(void)state;
	struct shref *m = model1(64, 8);
	assert_true(shref_malloc(m, 0) == AT(A0, 0));
	assert_true(shref_malloc(m, 1) == AT(A0, 1));
	assert_true(shref_malloc(m, G) == AT(A0, 2));
	assert_true(shref_malloc(m, G + 1) == AT(A0, 3));
	assert_int_equal(shref_usable_size(m, AT(A0, 0)), G);
	assert_int_equal(shref_usable_size(m, AT(A0, 1)), G);
	assert_int_equal(shref_usable_size(m, AT(A0, 3)), 2 * G);
	expect_counts(m, 0, 0, 0);

	assert_true(shref_malloc(m, SIZE_MAX) == 0);
	expect_counts(m, 1, 0, SH_EOVERFLOW);
	assert_true(shref_malloc(m, SIZE_MAX - G + 2) == 0); /* rounds past SIZE_MAX */
	expect_counts(m, 2, 0, SH_EOVERFLOW);
	assert_true(shref_malloc(m, SIZE_MAX - G + 1) == 0); /* rounds exactly: too big */
	expect_counts(m, 3, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 1),
		      LIVE(0, A0, 3, 2), FREE(0, A0, 5, 59));
	shref_delete(m);
}

static void test_rule1_malloc0_unique(void **state)
{
	(void)state;
	struct shref *m = model1(4, 8);
	for (size_t i = 0; i < 4; i++)
		assert_true(shref_malloc(m, 0) == AT(A0, i));
	assert_true(shref_malloc(m, 0) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 1),
		      LIVE(0, A0, 3, 1));
	shref_delete(m);
}

/* ---- rule 2: region order and masks ---- */

static void test_rule2_region_order_and_mask(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	/* region 0 lies above region 1: order of addition counts, not address */
	assert_int_equal(shref_add_region(m, A1, 4 * G, 8), 0);
	assert_int_equal(shref_add_region(m, A0, 4 * G, 8), 0);
	assert_true(shref_malloc(m, 3 * G) == AT(A1, 0));
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 0));
	assert_true(shref_malloc(m, G) == AT(A1, 3));
	assert_true(shref_malloc_in(m, 1u << 1, G) == AT(A0, 2));
	expect_counts(m, 0, 0, 0);
	assert_true(shref_malloc_in(m, 1u << 0, G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	assert_true(shref_malloc_in(m, 0, G) == 0);
	assert_true(shref_malloc_in(m, 1u << 5, G) == 0); /* no region 5 */
	expect_counts(m, 3, 0, SH_ENOMEM);
	assert_true(shref_malloc_in(m, SH_ALL_REGIONS, G) == AT(A0, 3));
	EXPECT_BLOCKS(m, LIVE(0, A1, 0, 3), LIVE(0, A1, 3, 1), LIVE(1, A0, 0, 2),
		      LIVE(1, A0, 2, 1), LIVE(1, A0, 3, 1));
	shref_delete(m);
}

static void test_rule2_mask_skips_earlier_region(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0, 8 * G, 8), 0);
	assert_int_equal(shref_add_region(m, A1, 8 * G, 8), 0);
	assert_true(shref_malloc_in(m, 2u, G) == AT(A1, 0));
	assert_true(shref_malloc_in(m, 3u, G) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 7), LIVE(1, A1, 0, 1),
		      FREE(1, A1, 1, 7));
	shref_delete(m);
}

/* ---- rule 3: address-ordered first fit ---- */

static void test_rule3_first_fit(void **state)
{
	(void)state;
	struct shref *m = model1(32, 16);
	uintptr_t a = shref_malloc(m, 2 * G), c, e;
	assert_true(a == AT(A0, 0));
	assert_true(shref_malloc(m, G) == AT(A0, 2));
	c = shref_malloc(m, 4 * G);
	assert_true(c == AT(A0, 3));
	assert_true(shref_malloc(m, G) == AT(A0, 7));
	e = shref_malloc(m, 3 * G);
	assert_true(e == AT(A0, 8));
	assert_true(shref_malloc(m, G) == AT(A0, 11));
	assert_int_equal(shref_free(m, a), 0);
	assert_int_equal(shref_free(m, c), 0);
	assert_int_equal(shref_free(m, e), 0);
	/* holes: 2G at 0, 4G at 3, 3G at 8, 20G at 12 */
	assert_true(shref_malloc(m, 3 * G) == AT(A0, 3)); /* first fit, not the exact 3G hole */
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 0));
	assert_true(shref_malloc(m, 3 * G) == AT(A0, 8));
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 12)); /* the G hole at 6 is too small */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), LIVE(0, A0, 2, 1), LIVE(0, A0, 3, 3),
		      FREE(0, A0, 6, 1), LIVE(0, A0, 7, 1), LIVE(0, A0, 8, 3),
		      LIVE(0, A0, 11, 1), LIVE(0, A0, 12, 2), FREE(0, A0, 14, 18));
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

/* ---- rule 4: split at the low end, slot exhaustion ---- */

static void test_rule4_split_low_end(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	assert_int_equal(spare(m), 7);
	assert_true(shref_malloc(m, 3 * G) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 3), FREE(0, A0, 3, 13));
	assert_int_equal(spare(m), 6);
	assert_true(shref_malloc(m, 13 * G) == AT(A0, 3)); /* exact: no new slot */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 3), LIVE(0, A0, 3, 13));
	assert_int_equal(spare(m), 6);
	shref_delete(m);
}

static void test_rule4_no_spare_slot_takes_whole(void **state)
{
	(void)state;
	struct shref *m = model1(16, 2);
	assert_true(shref_malloc(m, G) == AT(A0, 0));
	assert_int_equal(spare(m), 0);
	assert_true(shref_malloc(m, G) == AT(A0, 1));
	assert_int_equal(shref_usable_size(m, AT(A0, 1)), 15 * G);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 15));
	assert_true(shref_malloc(m, G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	shref_delete(m);

	m = model1(16, 1); /* one slot: the first allocation takes the whole arena */
	assert_true(shref_malloc(m, 0) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 16));
	assert_int_equal(shref_free(m, AT(A0, 0)), 0);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 16));
	shref_delete(m);
}

static void test_rule4_slot_exhaustion(void **state)
{
	(void)state;
	struct shref *m = model1(8, 3);
	uintptr_t a = shref_malloc(m, G), b = shref_malloc(m, G), c = shref_malloc(m, G);
	assert_true(a == AT(A0, 0) && b == AT(A0, 1) && c == AT(A0, 2));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 6));
	assert_int_equal(shref_free(m, b), 0); /* live on both sides: no merge */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 1), LIVE(0, A0, 2, 6));
	assert_true(shref_malloc(m, 2 * G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	assert_int_equal(shref_free(m, c), 0); /* merges with the free block below */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 7));
	assert_int_equal(spare(m), 1);
	/* refill: splits while slots last, then hands out the whole rest */
	assert_true(shref_malloc(m, G) == AT(A0, 1));
	assert_int_equal(spare(m), 0);
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 2));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 6));
	assert_int_equal(shref_usable_size(m, AT(A0, 2)), 6 * G);
	shref_delete(m);
}

/* ---- rule 5: free and merge ---- */

static void test_rule5_free_merges(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t a = shref_malloc(m, G), b = shref_malloc(m, G), c = shref_malloc(m, G),
		  d = shref_malloc(m, G);
	assert_int_equal(spare(m), 3);
	assert_int_equal(shref_free(m, b), 0);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 1), LIVE(0, A0, 2, 1),
		      LIVE(0, A0, 3, 1), FREE(0, A0, 4, 12));
	assert_int_equal(shref_free(m, a), 0); /* merges above */
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 2), LIVE(0, A0, 2, 1), LIVE(0, A0, 3, 1),
		      FREE(0, A0, 4, 12));
	assert_int_equal(spare(m), 4);
	assert_int_equal(shref_free(m, d), 0); /* merges above */
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 2), LIVE(0, A0, 2, 1), FREE(0, A0, 3, 13));
	assert_int_equal(shref_free(m, c), 0); /* merges both ways */
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 16));
	assert_int_equal(spare(m), 7);
	assert_int_equal(shref_free(m, 0), 0);
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

static void test_rule5_merge_below_only(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t a = shref_malloc(m, G), b = shref_malloc(m, 2 * G);
	assert_true(shref_malloc(m, 13 * G) == AT(A0, 3));
	assert_int_equal(shref_free(m, a), 0);
	assert_int_equal(shref_free(m, b), 0);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 3), LIVE(0, A0, 3, 13));
	assert_int_equal(spare(m), 6);
	shref_delete(m);
}

static void test_rule5_no_merge_across_regions(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0, 4 * G, 4), 0);
	assert_int_equal(shref_add_region(m, A0 + 4 * G, 4 * G, 4), 0); /* adjacent arenas */
	uintptr_t a = shref_malloc(m, 4 * G), b = shref_malloc(m, 4 * G);
	assert_true(a == AT(A0, 0) && b == AT(A0, 4));
	assert_int_equal(shref_free(m, b), 0);
	assert_int_equal(shref_free(m, a), 0);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 4), FREE(1, A0, 4, 4));
	assert_true(shref_malloc(m, 5 * G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	shref_delete(m);
}

/* ---- misuse ---- */

static void test_misuse_foreign(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G);
	assert_int_equal(shref_free(m, A0 - G), SH_EFOREIGN);
	expect_counts(m, 0, 1, SH_EFOREIGN);
	assert_int_equal(shref_free(m, AT(A0, 16)), SH_EFOREIGN); /* one past the arena */
	assert_int_equal(shref_free(m, 1), SH_EFOREIGN);
	assert_int_equal(shref_free(m, UINTPTR_MAX), SH_EFOREIGN);
	expect_counts(m, 0, 4, SH_EFOREIGN);
	assert_int_equal(shref_usable_size(m, A0 - G), 0);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 15));
	assert_int_equal(shref_free(m, p), 0);
	expect_counts(m, 0, 4, SH_EFOREIGN); /* success leaves last_error alone */
	shref_delete(m);
}

static void test_misuse_bad_pointer(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, 2 * G);
	assert_int_equal(shref_free(m, p + G), SH_EBADPTR);	/* interior of a live block */
	assert_int_equal(shref_free(m, p + 1), SH_EBADPTR);	/* unaligned */
	assert_int_equal(shref_free(m, AT(A0, 5)), SH_EBADPTR); /* interior of a free block */
	assert_int_equal(shref_free(m, AT(A0, 16) - 1), SH_EBADPTR); /* last arena byte */
	expect_counts(m, 0, 4, SH_EBADPTR);
	assert_int_equal(shref_usable_size(m, p + G), 0);
	assert_int_equal(shref_usable_size(m, AT(A0, 5)), 0);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 14));
	shref_delete(m);
}

static void test_misuse_double_free(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G), q = shref_malloc(m, G);
	assert_int_equal(shref_free(m, p), 0);
	assert_int_equal(shref_free(m, p), SH_EDOUBLEFREE);
	expect_counts(m, 0, 1, SH_EDOUBLEFREE);
	/* the start of a free block that was never handed out is reported the same way */
	assert_int_equal(shref_free(m, AT(A0, 2)), SH_EDOUBLEFREE);
	expect_counts(m, 0, 2, SH_EDOUBLEFREE);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 1), LIVE(0, A0, 1, 1), FREE(0, A0, 2, 14));
	assert_int_equal(shref_free(m, q), 0);
	/* after the merge, q's address is no longer a block start */
	assert_int_equal(shref_free(m, q), SH_EBADPTR);
	assert_int_equal(shref_free(m, p), SH_EDOUBLEFREE);
	expect_counts(m, 0, 4, SH_EDOUBLEFREE);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 16));
	shref_delete(m);
}

static void test_misuse_realloc(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, 2 * G), q = shref_malloc(m, G);
	assert_int_equal(shref_free(m, q), 0);
	assert_true(shref_realloc(m, A1, 5) == 0);
	expect_counts(m, 0, 1, SH_EFOREIGN);
	assert_true(shref_realloc(m, p + G, 0) == 0); /* size 0 does not hide misuse */
	expect_counts(m, 0, 2, SH_EBADPTR);
	assert_true(shref_realloc(m, q, SIZE_MAX) == 0); /* misuse is found before overflow */
	expect_counts(m, 0, 3, SH_EDOUBLEFREE);
	assert_true(shref_realloc(m, q, G) == 0);
	expect_counts(m, 0, 4, SH_EDOUBLEFREE);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 14));
	shref_delete(m);
}

/* ---- rule 6: memalign ---- */

static void test_rule6_bad_alignment(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	assert_true(shref_memalign(m, 0, G) == 0);
	expect_counts(m, 1, 0, SH_EALIGN);
	assert_true(shref_memalign(m, 3, G) == 0);
	assert_true(shref_memalign(m, 24, G) == 0);
	assert_true(shref_memalign(m, 3 * G, G) == 0);
	assert_true(shref_memalign(m, SIZE_MAX, G) == 0);
	assert_true(shref_memalign(m, 3, SIZE_MAX) == 0); /* alignment is checked first */
	expect_counts(m, 6, 0, SH_EALIGN);
	assert_true(shref_memalign(m, G, SIZE_MAX) == 0);
	expect_counts(m, 7, 0, SH_EOVERFLOW);
	assert_true(shref_memalign(m, (size_t)1 << 20, G) == 0); /* no such aligned start */
	expect_counts(m, 8, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 16));
	shref_delete(m);
}

static void test_rule6_small_alignment_acts_as_granule(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	assert_true(shref_memalign(m, 1, 1) == AT(A0, 0));
	assert_true(shref_memalign(m, 2, G + 1) == AT(A0, 1));
	assert_true(shref_memalign(m, G / 2, 0) == AT(A0, 3));
	assert_true(shref_memalign(m, G, G) == AT(A0, 4));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), LIVE(0, A0, 1, 2), LIVE(0, A0, 3, 1),
		      LIVE(0, A0, 4, 1), FREE(0, A0, 5, 11));
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

static void test_rule6_gap_and_tail_split(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	assert_true(shref_malloc(m, G) == AT(A0, 0));
	assert_true(shref_memalign(m, 4 * G, G) == AT(A0, 4));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 3), LIVE(0, A0, 4, 1),
		      FREE(0, A0, 5, 11));
	assert_int_equal(spare(m), 4);
	/* the gap is reused by a later plain allocation */
	assert_true(shref_malloc(m, 3 * G) == AT(A0, 1));
	shref_delete(m);
}

static void test_rule6_aligned_start_needs_no_gap(void **state)
{
	(void)state;
	struct shref *m = model1(16, 2);
	assert_true(shref_memalign(m, 8 * G, 2 * G) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 14));
	/* no spare slot left: the only candidate (at 8G) has a gap and is passed over */
	assert_true(shref_memalign(m, 8 * G, G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	shref_delete(m);
}

static void test_rule6_gap_takes_slot_before_tail(void **state)
{
	(void)state;
	struct shref *m = model1(16, 3);
	assert_true(shref_malloc(m, G) == AT(A0, 0));
	assert_int_equal(spare(m), 1);
	assert_true(shref_memalign(m, 4 * G, G) == AT(A0, 4));
	/* the gap got the last spare slot, so the allocation keeps the tail */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 3), LIVE(0, A0, 4, 12));
	assert_int_equal(shref_usable_size(m, AT(A0, 4)), 12 * G);
	shref_delete(m);
}

static void test_rule6_gap_without_slot_skips_block(void **state)
{
	(void)state;
	struct shref *m = model1(32, 4);
	uintptr_t b;
	assert_true(shref_malloc(m, G) == AT(A0, 0));
	b = shref_malloc(m, 3 * G);
	assert_true(b == AT(A0, 1));
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 4));
	assert_int_equal(shref_free(m, b), 0);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 3), LIVE(0, A0, 4, 2),
		      FREE(0, A0, 6, 26));
	assert_int_equal(spare(m), 0);
	/* [1G,4G) would give 2G with a gap of G, but the gap can get no slot: skipped.
	 * [6G,32G) starts aligned and, with no slot for the tail, is taken whole. */
	assert_true(shref_memalign(m, 2 * G, G) == AT(A0, 6));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 3), LIVE(0, A0, 4, 2),
		      LIVE(0, A0, 6, 26));
	expect_counts(m, 0, 0, 0);
	/* the skipped block still serves an allocation that needs no gap */
	assert_true(shref_memalign(m, G, 3 * G) == AT(A0, 1));
	shref_delete(m);
}

static void test_rule6_no_room_after_alignment(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t b;
	assert_true(shref_malloc(m, G) == AT(A0, 0));
	b = shref_malloc(m, 5 * G);
	assert_true(shref_malloc(m, G) == AT(A0, 6));
	assert_int_equal(shref_free(m, b), 0); /* free [1G,6G) */
	/* in [1G,6G) the 4G-aligned start leaves 2G < 3G: next block, start 8G */
	assert_true(shref_memalign(m, 4 * G, 3 * G) == AT(A0, 8));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 5), LIVE(0, A0, 6, 1),
		      FREE(0, A0, 7, 1), LIVE(0, A0, 8, 3), FREE(0, A0, 11, 5));
	/* an exact fit at the aligned start of the first block */
	assert_true(shref_memalign(m, 4 * G, 2 * G) == AT(A0, 4));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 3), LIVE(0, A0, 4, 2),
		      LIVE(0, A0, 6, 1), FREE(0, A0, 7, 1), LIVE(0, A0, 8, 3),
		      FREE(0, A0, 11, 5));
	shref_delete(m);
}

static void test_rule6_region_order(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	/* region 0 holds no 1 MiB-aligned address; region 1 starts at one */
	assert_int_equal(shref_add_region(m, A0, 64 * G, 8), 0);
	assert_int_equal(shref_add_region(m, (uintptr_t)0x100000, 8 * G, 8), 0);
	assert_true(shref_memalign(m, (size_t)1 << 20, G) == (uintptr_t)0x100000);
	assert_true(shref_memalign(m, 16 * G, G) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 63), LIVE(1, 0x100000, 0, 1),
		      FREE(1, 0x100000, 1, 7));
	shref_delete(m);
}

/* ---- rule 7: realloc ---- */

static void test_rule7_null_and_zero(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_realloc(m, 0, 5);
	assert_true(p == AT(A0, 0));
	assert_true(shref_realloc(m, 0, 0) == AT(A0, 1)); /* malloc(0) */
	assert_int_equal(shref_usable_size(m, AT(A0, 1)), G);
	assert_true(shref_realloc(m, p, 0) == 0); /* frees p; not a failure */
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 1), LIVE(0, A0, 1, 1), FREE(0, A0, 2, 14));
	expect_counts(m, 0, 0, 0);
	assert_true(shref_realloc(m, 0, SIZE_MAX) == 0);
	expect_counts(m, 1, 0, SH_EOVERFLOW);
	shref_delete(m);
}

static void test_rule7_shrink_merges_above(void **state)
{
	(void)state;
	struct shref *m = model1(16, 2);
	uintptr_t p = shref_malloc(m, 4 * G);
	assert_int_equal(spare(m), 0);
	assert_true(shref_realloc(m, p, G) == p); /* the cut joins the free block: no slot */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 1), FREE(0, A0, 1, 15));
	shref_delete(m);
}

static void test_rule7_shrink_with_spare_slot(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, 4 * G);
	assert_true(shref_malloc(m, G) == AT(A0, 4));
	assert_true(shref_realloc(m, p, G + 1) == p);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 2), LIVE(0, A0, 4, 1),
		      FREE(0, A0, 5, 11));
	shref_delete(m);
}

static void test_rule7_shrink_without_slot_keeps_size(void **state)
{
	(void)state;
	struct shref *m = model1(16, 3);
	uintptr_t p = shref_malloc(m, 4 * G);
	assert_true(shref_malloc(m, G) == AT(A0, 4));
	assert_int_equal(spare(m), 0);
	assert_true(shref_realloc(m, p, G) == p);
	assert_int_equal(shref_usable_size(m, p), 4 * G);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 4), LIVE(0, A0, 4, 1), FREE(0, A0, 5, 11));
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

static void test_rule7_shrink_at_region_top(void **state)
{
	(void)state;
	struct shref *m = model1(4, 1);
	uintptr_t p = shref_malloc(m, G);
	assert_int_equal(shref_usable_size(m, p), 4 * G);
	assert_true(shref_realloc(m, p, G) == p); /* nothing above, no slot */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 4));
	shref_delete(m);

	m = model1(4, 2);
	p = shref_malloc(m, 4 * G);
	assert_true(shref_realloc(m, p, 2 * G) == p);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 2));
	shref_delete(m);
}

static void test_rule7_same_size(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G + 1);
	assert_true(shref_realloc(m, p, 2 * G) == p);
	assert_true(shref_realloc(m, p, 2 * G - 1) == p);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 14));
	shref_delete(m);
}

static void test_rule7_grow_in_place(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G);
	assert_true(shref_realloc(m, p, 3 * G) == p);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 3), FREE(0, A0, 3, 13));
	assert_int_equal(spare(m), 6);
	shref_delete(m);
}

static void test_rule7_grow_in_place_exact(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G), q = shref_malloc(m, 2 * G);
	assert_true(shref_malloc(m, G) == AT(A0, 3));
	assert_int_equal(shref_free(m, q), 0);
	assert_int_equal(spare(m), 4);
	assert_true(shref_realloc(m, p, 3 * G) == p); /* the block above is used up */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 3), LIVE(0, A0, 3, 1), FREE(0, A0, 4, 12));
	assert_int_equal(spare(m), 5);
	shref_delete(m);
}

static void test_rule7_grow_moves(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G);
	assert_true(shref_malloc(m, G) == AT(A0, 1));
	assert_true(shref_realloc(m, p, 2 * G) == AT(A0, 2));
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 2),
		      FREE(0, A0, 4, 12));
	expect_counts(m, 0, 0, 0);
	shref_delete(m);
}

static void test_rule7_grow_too_little_above_moves(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, G), x = shref_malloc(m, G);
	assert_true(shref_malloc(m, G) == AT(A0, 2));
	assert_int_equal(shref_free(m, x), 0);
	/* G + G above < 3G: move to the tail, then p merges with the free block above it */
	assert_true(shref_realloc(m, p, 3 * G) == AT(A0, 3));
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 2), LIVE(0, A0, 2, 1), LIVE(0, A0, 3, 3),
		      FREE(0, A0, 6, 10));
	shref_delete(m);
}

static void test_rule7_grow_move_merges_below(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t a = shref_malloc(m, G), p = shref_malloc(m, G);
	assert_true(shref_malloc(m, G) == AT(A0, 2));
	assert_int_equal(shref_free(m, a), 0);
	assert_true(shref_realloc(m, p, 2 * G) == AT(A0, 3));
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 2), LIVE(0, A0, 2, 1), LIVE(0, A0, 3, 2),
		      FREE(0, A0, 5, 11));
	shref_delete(m);
}

static void test_rule7_grow_moves_down(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t a = shref_malloc(m, 3 * G), p = shref_malloc(m, G);
	assert_true(shref_malloc(m, G) == AT(A0, 4));
	assert_int_equal(shref_free(m, a), 0);
	/* the new block splits the free block below p; p then merges with the remainder */
	assert_true(shref_realloc(m, p, 2 * G) == AT(A0, 0));
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 2), LIVE(0, A0, 4, 1),
		      FREE(0, A0, 5, 11));
	shref_delete(m);
}

static void test_rule7_grow_never_uses_own_block(void **state)
{
	(void)state;
	struct shref *m = model1(4, 8);
	uintptr_t a = shref_malloc(m, G), p = shref_malloc(m, G);
	assert_true(shref_malloc(m, 2 * G) == AT(A0, 2));
	assert_int_equal(shref_free(m, a), 0);
	/* freeing p first would make [0,2G) fit; the policy allocates while p is live */
	assert_true(shref_realloc(m, p, 2 * G) == 0);
	expect_counts(m, 1, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 1), LIVE(0, A0, 1, 1), LIVE(0, A0, 2, 2));
	assert_int_equal(shref_usable_size(m, p), G);
	shref_delete(m);
}

static void test_rule7_grow_into_other_region(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0, 4 * G, 8), 0);
	assert_int_equal(shref_add_region(m, A1, 16 * G, 8), 0);
	uintptr_t p = shref_malloc_in(m, 1u, 4 * G);
	assert_true(p == AT(A0, 0));
	assert_true(shref_realloc(m, p, 5 * G) == AT(A1, 0));
	EXPECT_BLOCKS(m, FREE(0, A0, 0, 4), LIVE(1, A1, 0, 5), FREE(1, A1, 5, 11));
	shref_delete(m);
}

static void test_rule7_grow_failures_leave_p(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	uintptr_t p = shref_malloc(m, 2 * G);
	assert_true(shref_realloc(m, p, SIZE_MAX) == 0);
	expect_counts(m, 1, 0, SH_EOVERFLOW);
	assert_true(shref_realloc(m, p, 17 * G) == 0);
	expect_counts(m, 2, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), FREE(0, A0, 2, 14));
	assert_true(shref_realloc(m, p, 16 * G) == p); /* exactly everything: in place */
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 16));
	shref_delete(m);
}

/* ---- rules 8 and 9 ---- */

static void test_rule8_calloc(void **state)
{
	(void)state;
	struct shref *m = model1(16, 8);
	assert_true(shref_calloc(m, 3, G / 2 - 1) == AT(A0, 0));
	assert_int_equal(shref_usable_size(m, AT(A0, 0)), 2 * G);
	assert_true(shref_calloc(m, 0, 7) == AT(A0, 2));
	assert_true(shref_calloc(m, 7, 0) == AT(A0, 3));
	expect_counts(m, 0, 0, 0);
	assert_true(shref_calloc(m, SIZE_MAX, 2) == 0);
	assert_true(shref_calloc(m, 2, SIZE_MAX / 2 + 1) == 0);
	expect_counts(m, 2, 0, SH_EOVERFLOW);
	assert_true(shref_calloc(m, 1, SIZE_MAX) == 0); /* product fits, rounding does not */
	expect_counts(m, 3, 0, SH_EOVERFLOW);
	assert_true(shref_calloc(m, 2, 8 * G) == 0);
	expect_counts(m, 4, 0, SH_ENOMEM);
	EXPECT_BLOCKS(m, LIVE(0, A0, 0, 2), LIVE(0, A0, 2, 1), LIVE(0, A0, 3, 1),
		      FREE(0, A0, 4, 12));
	shref_delete(m);
}

static void test_rule9_usable_size(void **state)
{
	(void)state;
	struct shref *m = model1(8, 2);
	uintptr_t p = shref_malloc(m, 1), q = shref_malloc(m, 1);
	assert_int_equal(shref_usable_size(m, p), G);
	assert_int_equal(shref_usable_size(m, q), 7 * G); /* no slot to split */
	assert_int_equal(shref_usable_size(m, 0), 0);
	assert_int_equal(shref_usable_size(m, q + G), 0);
	assert_int_equal(shref_usable_size(m, A1), 0);
	assert_int_equal(shref_free(m, p), 0);
	assert_int_equal(shref_usable_size(m, p), 0);
	expect_counts(m, 0, 0, 0); /* usable_size never reports misuse */
	shref_delete(m);
}

/* ---- statistics ---- */

static void test_stats_exact(void **state)
{
	(void)state;
	struct shref *m = shref_new();
	struct sh_stats st;
	assert_non_null(m);
	assert_int_equal(shref_add_region(m, A0, 16 * G, 4), 0);
	assert_int_equal(shref_add_region(m, A1, 32 * G, 6), 0);
	uintptr_t a = shref_malloc(m, 3 * G);
	assert_true(shref_malloc(m, 10 * G) == AT(A0, 3));
	assert_true(shref_malloc(m, 5 * G) == AT(A1, 0));
	assert_int_equal(shref_free(m, a), 0);
	assert_true(shref_malloc(m, 64 * G) == 0);
	assert_int_equal(shref_free(m, a), SH_EDOUBLEFREE);
	shref_stats(m, &st);
	assert_int_equal(st.live_bytes, 15 * G);
	assert_int_equal(st.free_bytes, 33 * G);
	assert_int_equal(st.live_blocks, 2);
	assert_int_equal(st.free_blocks, 3);
	assert_int_equal(st.slots_total, 10);
	assert_int_equal(st.slots_spare, 5);
	assert_int_equal(st.largest_free, 27 * G);
	assert_int_equal(st.failed_allocs, 1);
	assert_int_equal(st.misuse, 1);
	assert_int_equal(shref_last_error(m), SH_EDOUBLEFREE);
	shref_delete(m);
}

/* ---- the model's own invariants over a long fixed-seed sequence ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(rng_state >> 33);
}

/* I1 tiling, I3 consolidation, I5 granules and the slot bound, for the three regions made
 * by test_sequence_invariants. */
static void check_model(const struct shref *m, const uintptr_t *arena, const size_t *size,
			const size_t *nslots, unsigned nreg)
{
	size_t n = shref_block_count(m), i = 0;
	for (unsigned r = 0; r < nreg; r++) {
		uintptr_t at = arena[r];
		size_t count = 0;
		bool prev_free = false;
		struct sh_block_info b;
		while (i < n) {
			assert_int_equal(shref_block(m, i, &b), 0);
			if (b.region != r)
				break;
			assert_true((uintptr_t)b.ptr == at);
			assert_true(b.size > 0 && b.size % G == 0);
			assert_false(prev_free && !b.live);
			prev_free = !b.live;
			at += b.size;
			count++;
			i++;
		}
		assert_true(at == arena[r] + size[r]);
		assert_in_range(count, 1, nslots[r]);
	}
	assert_int_equal(i, n);
}

static void test_sequence_invariants(void **state)
{
	(void)state;
	const uintptr_t arena[3] = {A1, A0, 0x200000};
	const size_t size[3] = {64 * G, 200 * G, 1024 * G};
	const size_t nslots[3] = {5, 40, 12};
	uintptr_t live[64] = {0};
	size_t nops[6] = {0}, failed = 0;
	struct shref *m = shref_new();
	assert_non_null(m);
	for (unsigned r = 0; r < 3; r++)
		assert_int_equal(shref_add_region(m, arena[r], size[r], nslots[r]), 0);
	rng_state = 20261129;
	for (unsigned step = 0; step < 20000; step++) {
		unsigned k = rng() % 64, op = rng() % 6;
		size_t n = rng() % (rng() % 4 == 0 ? 300 * G : 8 * G);
		uintptr_t q = 0;
		bool expect_null = false;
		nops[op]++;
		switch (op) {
		case 0:
			q = shref_malloc(m, n);
			if (q && !live[k])
				live[k] = q;
			else if (q)
				assert_int_equal(shref_free(m, q), 0);
			break;
		case 1:
			q = shref_memalign(m, (size_t)1 << (rng() % 10), n);
			if (q && !live[k])
				live[k] = q;
			else if (q)
				assert_int_equal(shref_free(m, q), 0);
			break;
		case 2:
		case 3:
			assert_int_equal(shref_free(m, live[k]), 0);
			live[k] = 0;
			expect_null = true;
			break;
		case 4:
			expect_null = live[k] && n == 0; /* realloc(p, 0) frees p */
			q = shref_realloc(m, live[k], n);
			if (q || expect_null)
				live[k] = q;
			break;
		default:
			q = shref_malloc_in(m, rng() % 8, n);
			if (q)
				assert_int_equal(shref_free(m, q), 0);
			break;
		}
		for (unsigned j = 0; j < 64; j++)
			assert_true(!live[j] || shref_usable_size(m, live[j]) > 0);
		if (!q && !expect_null) {
			failed++;
			assert_int_equal(shref_last_error(m), SH_ENOMEM);
		}
		check_model(m, arena, size, nslots, 3);
		expect_counts(m, failed, 0, failed ? SH_ENOMEM : 0);
	}
	print_message(
		"sequence: %zu malloc, %zu memalign, %zu free, %zu realloc, %zu malloc_in, "
		"%zu failed\n",
		nops[0], nops[1], nops[2] + nops[3], nops[4], nops[5], failed);
	shref_delete(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_region_validation),
		cmocka_unit_test(test_rule1_sizes),
		cmocka_unit_test(test_rule1_malloc0_unique),
		cmocka_unit_test(test_rule2_region_order_and_mask),
		cmocka_unit_test(test_rule2_mask_skips_earlier_region),
		cmocka_unit_test(test_rule3_first_fit),
		cmocka_unit_test(test_rule4_split_low_end),
		cmocka_unit_test(test_rule4_no_spare_slot_takes_whole),
		cmocka_unit_test(test_rule4_slot_exhaustion),
		cmocka_unit_test(test_rule5_free_merges),
		cmocka_unit_test(test_rule5_merge_below_only),
		cmocka_unit_test(test_rule5_no_merge_across_regions),
		cmocka_unit_test(test_misuse_foreign),
		cmocka_unit_test(test_misuse_bad_pointer),
		cmocka_unit_test(test_misuse_double_free),
		cmocka_unit_test(test_misuse_realloc),
		cmocka_unit_test(test_rule6_bad_alignment),
		cmocka_unit_test(test_rule6_small_alignment_acts_as_granule),
		cmocka_unit_test(test_rule6_gap_and_tail_split),
		cmocka_unit_test(test_rule6_aligned_start_needs_no_gap),
		cmocka_unit_test(test_rule6_gap_takes_slot_before_tail),
		cmocka_unit_test(test_rule6_gap_without_slot_skips_block),
		cmocka_unit_test(test_rule6_no_room_after_alignment),
		cmocka_unit_test(test_rule6_region_order),
		cmocka_unit_test(test_rule7_null_and_zero),
		cmocka_unit_test(test_rule7_shrink_merges_above),
		cmocka_unit_test(test_rule7_shrink_with_spare_slot),
		cmocka_unit_test(test_rule7_shrink_without_slot_keeps_size),
		cmocka_unit_test(test_rule7_shrink_at_region_top),
		cmocka_unit_test(test_rule7_same_size),
		cmocka_unit_test(test_rule7_grow_in_place),
		cmocka_unit_test(test_rule7_grow_in_place_exact),
		cmocka_unit_test(test_rule7_grow_moves),
		cmocka_unit_test(test_rule7_grow_too_little_above_moves),
		cmocka_unit_test(test_rule7_grow_move_merges_below),
		cmocka_unit_test(test_rule7_grow_moves_down),
		cmocka_unit_test(test_rule7_grow_never_uses_own_block),
		cmocka_unit_test(test_rule7_grow_into_other_region),
		cmocka_unit_test(test_rule7_grow_failures_leave_p),
		cmocka_unit_test(test_rule8_calloc),
		cmocka_unit_test(test_rule9_usable_size),
		cmocka_unit_test(test_stats_exact),
		cmocka_unit_test(test_sequence_invariants),
	};
	return cmocka_run_group_tests_name("ref", tests, NULL, NULL);
}
