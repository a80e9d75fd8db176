/* SPDX-License-Identifier: MIT */
/*
 * A region that ends exactly at the top of the address space (its end, 2^32 on a 32-bit
 * target, does not fit uintptr_t; its last byte does). This happens on 32-bit firmware whose
 * RAM reaches 4 GiB: placement puts the heap at [4 GiB - size, 4 GiB).
 *
 * Only the 32-bit build can run these tests: a 32-bit process on a 64-bit Linux kernel may
 * map memory up to 0xffffe000, so the region's low end (its slots, and the blocks the tests
 * write to) is real memory, mapped at TOP_BASE. The rest of the arena up to 2^32 is never
 * touched: the tests only allocate, resize in place and free blocks there, which moves no
 * bytes. The top of a 64-bit address space is not user memory; there the tests say so and
 * skip.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "testutil.h"

#define HOST_BITS (8 * sizeof(uintptr_t))

#if UINTPTR_MAX == UINT32_MAX
#define TOP_BASE ((uintptr_t)0xfc000000u) /* 64 MiB below the top */
#define BELOW ((size_t)65536)		  /* mapped below TOP_BASE for a neighbour region */
#define MAPPED ((size_t)1 << 20)	  /* mapped from TOP_BASE up */
#define TOP_SIZE ((size_t)(0u - TOP_BASE))

static unsigned char *mapping;

static void map_top(void)
{
	void *want = (void *)(TOP_BASE - BELOW);
	void *p;

	if (mapping) /* left by a test that failed */
		munmap(mapping, BELOW + MAPPED);
	p = mmap(want, BELOW + MAPPED, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p != want) {
		if (p != MAP_FAILED)
			munmap(p, BELOW + MAPPED);
		fail_msg("cannot map [%#lx, %#lx): %s; the region at the top needs that memory",
			 (unsigned long)(TOP_BASE - BELOW), (unsigned long)(TOP_BASE + MAPPED),
			 p == MAP_FAILED ? "address in use or not user memory"
					 : "placed elsewhere");
	}
	mapping = p;
}

static void unmap_top(void)
{
	assert_int_equal(munmap(mapping, BELOW + MAPPED), 0);
	mapping = NULL;
}

static int sum_blocks(const struct sh_block_info *b, void *ctx)
{
	uintptr_t *last_end = ctx;

	/* blocks tile the arena: each starts where the one before ended */
	if (*last_end != 0 && (uintptr_t)b->ptr != *last_end)
		return 1;
	*last_end = (uintptr_t)b->ptr + b->size;
	return 0;
}

static void test_region_ending_at_the_top(void **state)
{
	static struct sh_heap h;
	struct sh_region_info ri;
	struct sh_stats st;
	(void)state;

	map_top();
	th_init(&h);
	/* one byte past the top, or the right size starting one granule too high: too big */
	assert_int_equal(sh_add_region(&h, (void *)TOP_BASE, TOP_SIZE + 1, 1024), SH_ETOOBIG);
	assert_int_equal(sh_add_region(&h, (void *)(TOP_BASE + GRAN), TOP_SIZE, 1024),
			 SH_ETOOBIG);
	assert_int_equal(h.nregions, 0);

	assert_int_equal(sh_add_region(&h, (void *)TOP_BASE, TOP_SIZE, 1024), SH_OK);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	assert_ptr_equal(ri.base, (void *)TOP_BASE);
	assert_int_equal(ri.size, TOP_SIZE);
	assert_int_equal((uintptr_t)ri.arena % GRAN, 0);
	assert_int_equal(ri.arena_size, (size_t)(0u - (uintptr_t)ri.arena)); /* up to 2^32 */
	CHECK_HEAP(&h);
	sh_stats(&h, &st);
	assert_int_equal(st.free_bytes, ri.arena_size);
	assert_int_equal(st.largest_free, ri.arena_size);

	/* ranges that meet it are refused, whichever end they share */
	assert_int_equal(sh_add_region(&h, (void *)(uintptr_t)0xfffffff0u, 16, 1), SH_EOVERLAP);
	assert_int_equal(sh_add_region(&h, (void *)(TOP_BASE - 4096), 8192, 1), SH_EOVERLAP);
	assert_int_equal(sh_add_region(&h, (void *)(TOP_BASE + 4096), 4096, 1), SH_EOVERLAP);
	assert_int_equal(h.nregions, 1);
	/* a neighbour just below it is not an overlap, for sh_add_region nor for sh_check */
	assert_int_equal(sh_add_region(&h, mapping, BELOW, 16), SH_OK);
	CHECK_HEAP(&h);
	unmap_top();
}

static void test_blocks_up_to_the_top(void **state)
{
	static struct sh_heap h;
	struct sh_region_info ri;
	unsigned char *small[8], *top, *p;
	uintptr_t last_end = 0;
	size_t rest;
	(void)state;

	map_top();
	th_init(&h);
	assert_int_equal(sh_add_region(&h, (void *)TOP_BASE, TOP_SIZE, 64), SH_OK);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	for (unsigned i = 0; i < 8; i++) {
		small[i] = T_MALLOC(&h, 1000);
		assert_true(small[i] + 1000 <= mapping + BELOW + MAPPED);
		th_fill(small[i], 1000, i);
	}
	/* the rest of the arena, up to and including the last granule below 2^32 */
	rest = ri.arena_size -
	       (size_t)(small[7] + sh_usable_size(&h, small[7]) - (unsigned char *)ri.arena);
	top = T_MALLOC(&h, rest);
	assert_int_equal(sh_usable_size(&h, top), rest);
	assert_int_equal((uintptr_t)top + rest, 0);
	assert_int_equal(sh_walk(&h, sum_blocks, &last_end), 0);
	assert_int_equal(last_end, 0);
	assert_null(sh_malloc(&h, 1));
	assert_int_equal(sh_last_error(&h), SH_ENOMEM);

	/* pointers near the top: interior ones are refused, the block's own start is freed */
	assert_int_equal(sh_free(&h, top + GRAN), SH_EBADPTR);
	assert_int_equal(sh_free(&h, (void *)(uintptr_t)(0u - GRAN)), SH_EBADPTR);
	assert_int_equal(sh_free(&h, (void *)(TOP_BASE - GRAN)), SH_EFOREIGN);
	assert_int_equal(T_FREE(&h, top), 0);
	assert_int_equal(sh_free(&h, (void *)(uintptr_t)(0u - GRAN)), SH_EBADPTR);

	/* memalign finds the 32 MiB boundary inside the free block; 1 GiB has none below 2^32 */
	p = T_MEMALIGN(&h, (size_t)32 << 20, 16);
	assert_ptr_equal(p, (void *)(uintptr_t)0xfe000000u);
	assert_null(sh_memalign(&h, (size_t)1 << 30, 16));
	assert_int_equal(T_FREE(&h, p), 0);

	/* the last small block grows in place up to the top and shrinks back */
	p = T_REALLOC(&h, small[7], 1000 + rest);
	assert_ptr_equal(p, small[7]);
	assert_int_equal((uintptr_t)p + sh_usable_size(&h, p), 0);
	assert_true(th_verify(p, 1000, 7));
	p = T_REALLOC(&h, p, 1000);
	assert_ptr_equal(p, small[7]);
	assert_true(th_verify(p, 1000, 7));

	for (unsigned i = 0; i < 8; i++) {
		assert_true(th_verify(small[i], 1000, i));
		assert_int_equal(T_FREE(&h, small[i]), 0);
	}
	EXPECT_COUNTS(&h, 2, 4);
	assert_int_equal(sh_walk(&h, sum_blocks, &last_end), 0);
	CHECK_HEAP(&h);
	unmap_top();
}

#else

static void skip_64(const char *name)
{
	print_message("[  SKIPPED ] %s: the top of a %zu-bit address space is not user memory; "
		      "the 32-bit build runs it (make check-m32)\n",
		      name, (size_t)HOST_BITS);
	skip();
}

static void test_region_ending_at_the_top(void **state)
{
	(void)state;
	skip_64(__func__);
}

static void test_blocks_up_to_the_top(void **state)
{
	(void)state;
	skip_64(__func__);
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region_ending_at_the_top),
		cmocka_unit_test(test_blocks_up_to_the_top),
	};
	return cmocka_run_group_tests_name("region_top", tests, NULL, NULL);
}
