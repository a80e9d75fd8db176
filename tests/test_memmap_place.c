/* SPDX-License-Identifier: MIT */
/*
 * Heap placement: alignment, size rounding, the limit, exclusions; then sh_place against
 * the brute-force model of ref/place_ref.c (and the model against its page-by-page scan)
 * on random maps, and the normalizer against the model's type function. Fixed seeds, printed
 * so that a failure can be replayed: MEMMAP_SEED=<n> overrides the seed.
 */
#include "memmap_util.h"

#define CAP 256

static struct sh_mem_range mr[CAP];

static void map_of(const struct sh_mem_range *raw, size_t n, struct sh_memmap *m)
{
	sh_memmap_init(m, mr, CAP);
	int rc = sh_memmap_normalize(raw, n, m);
	assert_true(rc == SH_MM_OK || rc == SH_MM_ENORAM);
}

static void test_alignment_and_rounding(void **state)
{
	(void)state;
	struct sh_memmap m;
	struct sh_placement pl;
	/* RAM with unaligned ends: usable [0x101000, 0x1ff000) after alignment = 0xfe000. */
	const struct sh_mem_range raw[] = {{0x100800, 0x1ff800, 1}};
	map_of(raw, 1, &m);
	assert_int_equal(sh_place(&m, 0xfe000, SH_MEM_TOP, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.start, 0x101000);
	assert_int_equal(pl.end, 0x1ff000);
	assert_int_equal(pl.ram_start, 0x100800);
	assert_int_equal(pl.hole_end, 0x1ff800);
	assert_int_equal(sh_place(&m, 0xfe001, SH_MEM_TOP, NULL, 0, &pl), SH_MM_ENOFIT);
	assert_int_equal(sh_place(&m, MiB, SH_MEM_TOP, NULL, 0, &pl), SH_MM_ENOFIT);
	/* 1 byte takes a 4 KiB footprint */
	assert_int_equal(sh_place(&m, 1, SH_MEM_TOP, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end - pl.start, 4096);
	assert_int_equal(pl.end, 0x1ff000);
	assert_int_equal(sh_place(&m, 0, SH_MEM_TOP, NULL, 0, &pl), SH_MM_ESIZE);
	assert_int_equal(sh_place(&m, UINT64_MAX, SH_MEM_TOP, NULL, 0, &pl), SH_MM_ESIZE);
	assert_int_equal(sh_place(&m, UINT64_MAX - 4095, SH_MEM_TOP, NULL, 0, &pl),
			 SH_MM_ENOFIT);
	/* A limit that is not aligned is aligned down with the range. */
	assert_int_equal(sh_place(&m, 4096, 0x180fff, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 0x180000);
	assert_int_equal(pl.ram_end, 0x180fff);
	/* A limit at or below the range leaves nothing. */
	assert_int_equal(sh_place(&m, 4096, 0x100800, NULL, 0, &pl), SH_MM_ENOFIT);
	assert_int_equal(sh_place(&m, 4096, 0, NULL, 0, &pl), SH_MM_ENOFIT);
}

static void test_exclusions(void **state)
{
	(void)state;
	struct sh_memmap m;
	struct sh_placement pl;
	const struct sh_mem_range raw[] = {{0, 0x9f000, 1}, {MiB, 64 * MiB, 1}};
	map_of(raw, 2, &m);
	/* the payload image at the top of RAM: the heap goes just below it */
	const struct sh_mem_range payload[] = {{60 * MiB, 64 * MiB, 2}};
	assert_int_equal(sh_place(&m, 16 * MiB, SH_PLACE_LIMIT_4G, payload, 1, &pl), SH_MM_OK);
	assert_int_equal(pl.start, 44 * MiB);
	assert_int_equal(pl.end, 60 * MiB);
	assert_int_equal(pl.hole_start, MiB);
	assert_int_equal(pl.hole_end, 60 * MiB);
	/* overlapping exclusions in any order, one with an unaligned start */
	const struct sh_mem_range ex2[] = {
		{40 * MiB, 50 * MiB, 2}, {60 * MiB, 70 * MiB, 2}, {48 * MiB, 61 * MiB + 5, 2}};
	assert_int_equal(sh_place(&m, 16 * MiB, SH_PLACE_LIMIT_4G, ex2, 3, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 40 * MiB);
	assert_int_equal(pl.hole_start, MiB);
	/* a piece above the exclusion too small; the heap goes below it */
	const struct sh_mem_range ex3[] = {{50 * MiB, 60 * MiB, 2}};
	assert_int_equal(sh_place(&m, 8 * MiB, SH_PLACE_LIMIT_4G, ex3, 1, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 50 * MiB);
	assert_int_equal(sh_place(&m, 4 * MiB, SH_PLACE_LIMIT_4G, ex3, 1, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 64 * MiB);
	assert_int_equal(pl.hole_start, 60 * MiB);
	/* the whole high range excluded: the low range takes a small heap */
	const struct sh_mem_range ex4[] = {{0x9f000, 65 * MiB, 2}};
	assert_int_equal(sh_place(&m, 64 * 1024, SH_PLACE_LIMIT_4G, ex4, 1, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 0x9f000);
	assert_int_equal(sh_place(&m, MiB, SH_PLACE_LIMIT_4G, ex4, 1, &pl), SH_MM_ENOFIT);
	/* empty and inverted exclusions count for nothing */
	const struct sh_mem_range ex5[] = {{50 * MiB, 50 * MiB, 2}, {60 * MiB, 10 * MiB, 2}};
	assert_int_equal(sh_place(&m, MiB, SH_PLACE_LIMIT_4G, ex5, 2, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 64 * MiB);
	assert_int_equal(sh_place(&m, MiB, SH_PLACE_LIMIT_4G, NULL, 1, &pl), SH_MM_EINVAL);
}

static uint64_t seed_from_env(uint64_t dflt)
{
	const char *s = getenv("MEMMAP_SEED");
	return s != NULL ? strtoull(s, NULL, 0) : dflt;
}

static const uint32_t rnd_types[] = {1, 1, 1, 1, 2, 3, 4, 5, 16, 7, 0, 12};

/* Random raw entries inside [0, span), starts and sizes mostly page multiples. */
static size_t random_raw(uint64_t *s, struct sh_mem_range *raw, size_t maxn, uint64_t span)
{
	size_t n = 1 + (size_t)rnd_below(s, maxn);
	for (size_t i = 0; i < n; i++) {
		uint64_t a = rnd_below(s, span), len = rnd_below(s, span / 4 + 1);
		if (rnd_below(s, 4) != 0) {
			a &= ~(uint64_t)4095;
			len &= ~(uint64_t)4095;
		}
		raw[i].start = a;
		raw[i].end = len > span - a ? span : a + len;
		raw[i].type = rnd_types[rnd_below(s, sizeof(rnd_types) / sizeof(rnd_types[0]))];
	}
	return n;
}

/* sh_place vs both models on small maps (the scan is exhaustive there). */
static void test_random_small_vs_scan(void **state)
{
	(void)state;
	uint64_t seed = seed_from_env(0x5eed0001), s = seed;
	static struct sh_mem_range raw[16], excl[4];
	unsigned agree = 0, fits = 0;
	const uint64_t span = 8 * MiB;
	print_message("random small maps: seed 0x%llx\n", (unsigned long long)seed);
	for (unsigned it = 0; it < 3000; it++) {
		struct sh_memmap m;
		struct sh_placement pl;
		size_t n = random_raw(&s, raw, 12, span);
		size_t ne = (size_t)rnd_below(&s, 4);
		random_raw(&s, excl, 1, span);
		for (size_t i = 1; i < ne; i++)
			random_raw(&s, excl + i, 1, span);
		uint64_t size = 1 + rnd_below(&s, 2 * MiB);
		uint64_t limit = rnd_below(&s, 2) ? SH_MEM_TOP : rnd_below(&s, span + MiB);
		map_of(raw, n, &m);
		assert_normalized(&m);
		assert_matches_raw(&m, raw, n);
		uint64_t a = 0, b = 0;
		int rc = sh_place(&m, size, limit, excl, ne, &pl);
		int ra = shref_place(raw, n, size, limit, excl, ne, &a);
		int rb = shref_place_scan(raw, n, size, limit, excl, ne, &b);
		if (rc != ra || ra != rb || (rc == 0 && (pl.start != a || a != b)))
			fail_msg("seed 0x%llx iteration %u: sh_place %d 0x%llx, model %d "
				 "0x%llx, "
				 "scan %d 0x%llx",
				 (unsigned long long)seed, it, rc, (unsigned long long)pl.start,
				 ra, (unsigned long long)a, rb, (unsigned long long)b);
		fits += rc == 0;
		agree++;
	}
	print_message("random small maps: %u agree (%u placed, %u no fit)\n", agree, fits,
		      agree - fits);
	assert_true(fits > 300 && agree - fits > 300); /* both outcomes exercised */
}

/* sh_place vs the boundary model on maps spread over the whole 64-bit space. */
static void test_random_wide_vs_model(void **state)
{
	(void)state;
	uint64_t seed = seed_from_env(0x5eed0002), s = seed;
	static struct sh_mem_range raw[40], excl[6];
	unsigned fits = 0, total = 0;
	print_message("random wide maps: seed 0x%llx\n", (unsigned long long)seed);
	for (unsigned it = 0; it < 5000; it++) {
		struct sh_memmap m;
		struct sh_placement pl;
		uint64_t span = rnd_below(&s, 2) ? UINT64_MAX : 16 * GiB;
		size_t n = random_raw(&s, raw, 36, span);
		/* some wrap or end at the very top */
		if (rnd_below(&s, 8) == 0)
			raw[0].end = SH_MEM_TOP;
		size_t ne = (size_t)rnd_below(&s, 6);
		for (size_t i = 0; i < ne; i++)
			random_raw(&s, excl + i, 1, span);
		uint64_t size = 1 + rnd_below(&s, (span >> 4) + 1);
		uint64_t limit = rnd_below(&s, 3) == 0 ? SH_PLACE_LIMIT_4G
				 : rnd_below(&s, 2)    ? SH_MEM_TOP
						       : rnd_below(&s, span);
		map_of(raw, n, &m);
		assert_normalized(&m);
		assert_matches_raw(&m, raw, n);
		uint64_t a = 0;
		int rc = sh_place(&m, size, limit, excl, ne, &pl);
		int ra = shref_place(raw, n, size, limit, excl, ne, &a);
		if (rc != ra || (rc == 0 && pl.start != a))
			fail_msg(
				"seed 0x%llx iteration %u: sh_place %d 0x%llx, model %d 0x%llx",
				(unsigned long long)seed, it, rc, (unsigned long long)pl.start,
				ra, (unsigned long long)a);
		if (rc == 0) {
			assert_true(pl.start % 4096 == 0 && pl.end % 4096 == 0);
			assert_true(pl.end <= limit);
			assert_int_equal(sh_memmap_type_at(&m, pl.start), SH_MEM_RAM);
			assert_int_equal(sh_memmap_type_at(&m, pl.end - 1), SH_MEM_RAM);
		}
		fits += rc == 0;
		total++;
	}
	print_message("random wide maps: %u agree (%u placed)\n", total, fits);
	assert_true(fits > 500);
}

/* The normalized map does not depend on the order of the entries. */
static void test_random_order_independent(void **state)
{
	(void)state;
	uint64_t seed = seed_from_env(0x5eed0003), s = seed;
	static struct sh_mem_range raw[32], shuf[32], a[CAP], b[CAP];
	print_message("random order: seed 0x%llx\n", (unsigned long long)seed);
	for (unsigned it = 0; it < 2000; it++) {
		size_t n = random_raw(&s, raw, 32, 64 * MiB);
		memcpy(shuf, raw, n * sizeof(raw[0]));
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)rnd_below(&s, i);
			struct sh_mem_range t = shuf[i - 1];
			shuf[i - 1] = shuf[j];
			shuf[j] = t;
		}
		struct sh_memmap ma, mb;
		sh_memmap_init(&ma, a, CAP);
		sh_memmap_init(&mb, b, CAP);
		int ra = sh_memmap_normalize(raw, n, &ma);
		int rb = sh_memmap_normalize(shuf, n, &mb);
		assert_int_equal(ra, rb);
		assert_int_equal(ma.n, mb.n);
		for (size_t i = 0; i < ma.n; i++) {
			assert_int_equal(a[i].start, b[i].start);
			assert_int_equal(a[i].end, b[i].end);
			assert_int_equal(a[i].type, b[i].type);
		}
		/* and the output capacity is honoured exactly */
		if (ma.n > 1) {
			sh_memmap_init(&mb, b, ma.n - 1);
			assert_int_equal(sh_memmap_normalize(shuf, n, &mb), SH_MM_EOVERFLOW);
			assert_int_equal(mb.total, ma.n);
			assert_int_equal(mb.n, ma.n - 1);
			sh_memmap_init(&mb, b, ma.n);
			assert_int_equal(sh_memmap_normalize(shuf, n, &mb), ra);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment_and_rounding),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_random_small_vs_scan),
		cmocka_unit_test(test_random_wide_vs_model),
		cmocka_unit_test(test_random_order_independent),
	};
	return cmocka_run_group_tests_name("memmap_place", tests, NULL, NULL);
}
