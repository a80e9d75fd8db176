/* SPDX-License-Identifier: MIT */
/*
 * The allocation self-test of examples/selftest/ on the host: it passes on sound heaps of any
 * size, repeats itself exactly for a seed, leaves the caller's blocks alone, and fails (with
 * a line that says why) on a heap that is corrupt or whose memory is not what it seems.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testutil.h"
#include "../examples/selftest/selftest.h"

static char out[8192];
static size_t out_len;
static unsigned out_lines;

static void capture(const char *s)
{
	size_t n = strlen(s);

	assert_true(out_len + n + 1 < sizeof(out));
	assert_null(strchr(s, '\n'));
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len++] = '\n';
	out[out_len] = '\0';
	out_lines++;
}

static void capture_reset(void)
{
	out_len = 0;
	out_lines = 0;
	out[0] = '\0';
}

/* The last line printed. */
static const char *last_line(void)
{
	size_t i = out_len ? out_len - 1 : 0;

	while (i > 0 && out[i - 1] != '\n')
		i--;
	return out + i;
}

static int run(struct sh_heap *h, unsigned long seed, unsigned ops)
{
	capture_reset();
	return sh_selftest_run(h, seed, ops, capture);
}

static void test_passes_and_repeats_for_a_seed(void **state)
{
	static struct sh_heap h;
	static char first[sizeof(out)];
	(void)state;

	th_reset();
	th_init(&h);
	th_add(&h, 0, TH_MAX_GRAN, 256);
	assert_int_equal(run(&h, 1, 3000), 0);
	assert_string_equal(last_line(), "selftest: PASS\n");
	assert_int_equal(out_lines, 5);
	assert_non_null(strstr(out,
			       "selftest: seed 1, 3000 calls, heap of 1 regions with 65536 "
			       "bytes free (largest 65536), requests up to 4096 bytes\n"));
	/* every kind of call was made; the heap was checked before the first call, after every
	 * SH_SELFTEST_BATCH calls (46 times), after the last call and after the final frees */
	assert_non_null(strstr(out, "heap checks"));
	assert_null(strstr(out, "malloc 0,"));
	assert_null(strstr(out, "calloc 0,"));
	assert_null(strstr(out, "memalign 0,"));
	assert_null(strstr(out, "realloc 0,"));
	assert_non_null(strstr(out, "\nselftest: 49 heap checks, "));
	/* the heap is back where it was: one free block, no live block */
	assert_non_null(strstr(out, "heap after: 65536 bytes free in 1 blocks, 0 live blocks, "
				    "slots 256 (255 spare)\n"));
	strcpy(first, out);

	assert_int_equal(run(&h, 1, 3000), 0);
	assert_string_equal(out, first);
	assert_int_equal(run(&h, 2, 3000), 0);
	assert_string_not_equal(out, first);
	CHECK_HEAP(&h);
}

static void test_small_heaps_and_many_regions(void **state)
{
	static struct sh_heap h;
	static const size_t slots[] = {1, 2, 4, 16, 64};
	(void)state;

	/* tiny heaps: most calls find no fit, which must be SH_ENOMEM and only when nothing fits */
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		th_reset();
		th_init(&h);
		th_add(&h, 0, 64, slots[i]);
		assert_int_equal(run(&h, 10 + i, 1500), 0);
		assert_string_equal(last_line(), "selftest: PASS\n");
	}
	/* requests spill over from region to region */
	th_reset();
	th_init(&h);
	for (unsigned b = 0; b < TH_NBUF; b++)
		th_add(&h, b, (size_t)128 << b, 8);
	assert_int_equal(run(&h, 99, 4000), 0);
	assert_non_null(strstr(out, "heap of 4 regions"));
	assert_string_equal(last_line(), "selftest: PASS\n");
}

static void test_leaves_the_callers_blocks_alone(void **state)
{
	static struct sh_heap h;
	void *mine[5];
	struct sh_stats st;
	(void)state;

	th_reset();
	th_init(&h);
	th_add(&h, 0, TH_MAX_GRAN, 128);
	for (unsigned i = 0; i < 5; i++) {
		mine[i] = T_MALLOC(&h, 100 + 700 * i);
		th_fill(mine[i], 100 + 700 * i, i);
	}
	T_FREE(&h, mine[2]);
	assert_int_equal(run(&h, 5, 2000), 0);
	for (unsigned i = 0; i < 5; i++) {
		if (i == 2)
			continue;
		assert_true(th_verify(mine[i], 100 + 700 * i, i));
		assert_true(sh_usable_size(&h, mine[i]) >= 100 + 700 * i);
	}
	sh_stats(&h, &st);
	assert_int_equal(st.live_blocks, 4);
	assert_int_equal(st.misuse, 0);
}

static void test_bad_arguments(void **state)
{
	static struct sh_heap h;
	(void)state;

	assert_int_equal(run(NULL, 1, 10), SH_EINVAL);
	assert_string_equal(out, "selftest: FAIL: no heap\n");
	th_init(&h);
	assert_int_equal(run(&h, 1, 10), SH_ENOMEM);
	assert_string_equal(last_line(), "selftest: FAIL: the heap has no free memory\n");
	/* silent runs, and no calls at all */
	th_reset();
	th_add(&h, 0, 64, 8);
	assert_int_equal(sh_selftest_run(&h, 1, 100, NULL), 0);
	assert_int_equal(run(&h, 1, 0), 0);
	assert_string_equal(last_line(), "selftest: PASS\n");
}

static void test_fails_on_a_corrupt_heap(void **state)
{
	static struct sh_heap h;
	(void)state;

	th_reset();
	th_init(&h);
	th_add(&h, 0, 256, 16);
	h.region[0].nlive++; /* a counter sh_check compares with a full walk */
	assert_int_equal(run(&h, 1, 100), SH_ECORRUPT);
	assert_non_null(strstr(last_line(), "selftest: FAIL at call 0 (start): sh_check: I7"));
}

/*
 * Two regions whose arenas are the same memory (one file mapped twice): each region is sound
 * on its own, so sh_check passes, but blocks handed out by the second overlap blocks of the
 * first. Only the contents check can see that.
 */
static void test_fails_when_blocks_share_memory(void **state)
{
	static struct sh_heap h;
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE), nslots = 16;
	size_t meta = 0, next;
	/* metadata (rounded to granules) of a region of meta + one page: the least fixed point */
	while ((next = (sh_region_meta_bytes(nslots, meta + pg) + GRAN - 1) / GRAN * GRAN) !=
	       meta)
		meta = next;
	int fd = memfd_create("selftest-alias", 0);
	unsigned char *a, *b;
	(void)state;

	assert_true(fd >= 0 && meta <= pg);
	/* file pages: 0 metadata of region A, 1 the shared arena, 2 metadata of region B */
	assert_int_equal(ftruncate(fd, (off_t)(3 * pg)), 0);
	a = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a != MAP_FAILED);
	b = a + 2 * pg;
	assert_true(mmap(a, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == a);
	assert_true(mmap(a + pg, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)pg) == a + pg);
	assert_true(mmap(b, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)(2 * pg)) == b);
	assert_true(mmap(b + pg, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)pg) == b + pg);
	a[pg] = 0x42;
	assert_int_equal(b[pg], 0x42); /* really one page */

	th_init(&h);
	assert_int_equal(sh_add_region(&h, a + pg - meta, meta + pg, nslots), 0);
	assert_int_equal(sh_add_region(&h, b + pg - meta, meta + pg, nslots), 0);
	CHECK_HEAP(&h);
	assert_int_equal(run(&h, 3, 2000), SH_ECORRUPT);
	assert_non_null(strstr(last_line(), "contents changed, at byte"));
	assert_non_null(strstr(last_line(), "selftest: FAIL at call "));

	assert_int_equal(munmap(a, 4 * pg), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passes_and_repeats_for_a_seed),
		cmocka_unit_test(test_small_heaps_and_many_regions),
		cmocka_unit_test(test_leaves_the_callers_blocks_alone),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_fails_on_a_corrupt_heap),
		cmocka_unit_test(test_fails_when_blocks_share_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
