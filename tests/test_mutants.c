/* SPDX-License-Identifier: MIT */
/*
 * Tests written for mutants of core/ that the other tests let survive (make mutation): each
 * pins down a documented figure or boundary that no other test looked at. The mutant a test
 * kills is named above it (file, the mutated line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "memmap.h"
#include "sh_internal.h"
#include "slotheap.h"
#include "testutil.h"

static _Alignas(64) unsigned char buf[1 << 16];

/* Buckets = next power of two >= ceil(nslots / SH_SLOTS_PER_BUCKET), computed here the slow
 * way. */
static size_t want_buckets(size_t nslots)
{
	size_t need = (nslots + SH_SLOTS_PER_BUCKET - 1) / SH_SLOTS_PER_BUCKET;
	size_t b = 1;

	while (b < need)
		b *= 2;
	return b;
}

/* Free index bytes for an arena of at most g granules with n slots, the slow way: a chain
 * head and a maximum per leaf, then levels of one maximum per 16 entries below up to a single
 * root, each level padded to a multiple of 16 entries. The leaves: one per 64 granules, but no
 * more than the largest power of two at most n / SH_INDEX_SLOTS_PER_LEAF (at least 1), nor
 * fewer than one per 2^SH_INDEX_LEAF_SHIFT_MAX granules. None with SH_LINEAR. */
static size_t want_index(size_t g, size_t n)
{
#if SH_LINEAR
	(void)g;
	(void)n;
	return 0;
#else
	size_t fine = (g + 63) / 64,
	       coarse = (g + (1u << SH_INDEX_LEAF_SHIFT_MAX) - 1) >> SH_INDEX_LEAF_SHIFT_MAX;
	size_t leaves = 1, entries = 0;

	while (leaves * 2 <= n / SH_INDEX_SLOTS_PER_LEAF)
		leaves *= 2;
	if (leaves < coarse)
		leaves = coarse;
	if (leaves > fine)
		leaves = fine;
	if (leaves == 0)
		leaves = 1;
	for (size_t k = leaves;;) {
		entries += (k + 15) / 16 * 16;
		if (k == 1)
			break;
		k = (k + 15) / 16;
	}
	/* memalign's watermarks, in regions of at least SH_INDEX_WM_MIN_GRAN granules. */
	size_t wm = g >= SH_INDEX_WM_MIN_GRAN
			    ? SH_INDEX_WM_CLASSES *
				      (SH_INDEX_WM_LEVELS + 3 * SH_INDEX_WM_EXCEPTIONS)
			    : 0;
	return (leaves + entries + wm) * sizeof(uint32_t);
#endif
}

/* heap.c buckets_for: `while (b < need)` -> `while (b <= need)` (twice the buckets whenever
 * the need is a power of two); also pins the metadata size formula of slotheap.h. */
static void test_bucket_count_and_meta_bytes(void **state)
{
	static const size_t counts[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 64, 65, 255, 1024};
	(void)state;

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		size_t n = counts[k];
		size_t meta = sh_region_meta_bytes(n, sizeof(buf));
		struct sh_heap h;
		struct sh_region_info ri;

		assert_int_equal(meta, n * SH_SLOT_BYTES + want_buckets(n) * sizeof(uint32_t) +
					       want_index(sizeof(buf) / SH_GRANULE, n));
		assert_int_equal(sh_init(&h), 0);
		assert_int_equal(sh_add_region(&h, buf, sizeof(buf), n), 0);
		assert_int_equal(sh_region_info(&h, 0, &ri), 0);
		assert_int_equal(ri.nslots, n);
		assert_int_equal(ri.nbuckets, want_buckets(n));
		assert_ptr_equal(ri.arena,
				 buf + ((meta + SH_GRANULE - 1) / SH_GRANULE) * SH_GRANULE);
		assert_int_equal(sh_check(&h, NULL), 0);
	}
}

/* heap.c sh_region_meta_bytes: `nslots > SH_MAX_SLOTS` -> `nslots >= SH_MAX_SLOTS`; the header
 * promises 0 for a slot count above SH_MAX_SLOTS, and SH_ETOOBIG from sh_add_region. */
static void test_meta_bytes_limits(void **state)
{
	struct sh_heap h;
	(void)state;

	assert_int_equal(sh_region_meta_bytes(0, sizeof(buf)), 0);
	assert_int_equal(sh_region_meta_bytes((size_t)SH_MAX_SLOTS + 1, sizeof(buf)), 0);
	assert_int_equal(sh_region_meta_bytes(UINT32_MAX, sizeof(buf)), 0);
	assert_int_equal(sh_region_meta_bytes(SIZE_MAX, sizeof(buf)), 0);
	size_t n = SH_MAX_SLOTS;
	assert_int_equal(sh_region_meta_bytes(n, 0),
			 n * SH_SLOT_BYTES + want_buckets(n) * sizeof(uint32_t) +
				 want_index(0, n));
	/* The index covers at most SH_MAX_ARENA_GRANULES: a larger region is refused anyway. (A
	 * 32-bit size_t cannot name that many granules: there SIZE_MAX / SH_GRANULE is less.) */
	size_t most = SIZE_MAX / SH_GRANULE < SH_MAX_ARENA_GRANULES ? SIZE_MAX / SH_GRANULE
								    : SH_MAX_ARENA_GRANULES;
	assert_int_equal(sh_region_meta_bytes(1, SIZE_MAX),
			 SH_SLOT_BYTES + sizeof(uint32_t) + want_index(most, 1));
	/* Each leaf of 64 granules more adds to the index while the slots allow it. */
	assert_true(sh_region_meta_bytes(8, 65 * SH_GRANULE) ==
		    sh_region_meta_bytes(8, 64 * SH_GRANULE) + want_index(65, 8) -
			    want_index(64, 8));
#if !SH_LINEAR
	assert_true(want_index(65, 8) > want_index(64, 8));
#endif
	/* With many bytes per slot the leaves grow instead: 2^22 granules and 20003 slots (the
	 * benchmark's 64 MiB pool) get 4096 leaves of 1024 granules at the default setting. */
	assert_true(sh_region_meta_bytes(20003, (size_t)1 << 26) ==
		    sh_region_meta_bytes(20003, 0) - want_index(0, 20003) +
			    want_index((size_t)1 << 22, 20003));
	assert_int_equal(sh_init(&h), 0);
	assert_int_equal(sh_add_region(&h, buf, sizeof(buf), (size_t)SH_MAX_SLOTS + 1),
			 SH_ETOOBIG);
	assert_int_equal(sh_add_region(&h, buf, sizeof(buf), UINT32_MAX), SH_ETOOBIG);
	assert_int_equal(h.nregions, 0);
}

/* util.c sh_invariant_name: `invariant < 0` -> `invariant <= 0` and `> SH_I7_STATS` ->
 * `>= SH_I7_STATS`: every name in range, "I?" just outside it. */
static void test_invariant_name_bounds(void **state)
{
	(void)state;
	assert_string_equal(sh_invariant_name(0), "none");
	assert_string_equal(sh_invariant_name(SH_I1_TILING), "I1 tiling");
	assert_string_equal(sh_invariant_name(SH_I7_STATS), "I7 statistics");
	assert_string_equal(sh_invariant_name(SH_I7_STATS + 1), "I?");
	assert_string_equal(sh_invariant_name(-1), "I?");
}

/* Maps the placed heap of test_boot_result_fully_set onto buf. */
static void *phys_to_buf(void *ctx, uint64_t phys, uint64_t size)
{
	(void)ctx;
	(void)phys;
	return size <= sizeof(buf) ? buf : NULL;
}

/* boot.c sh_boot_init: deleting `res->static_region = 0;`, `res->extended_region = 0;` or
 * the other resets: every field of the result is set, whatever the caller left in it. */
static void test_boot_result_fully_set(void **state)
{
	struct sh_mem_range ram = {0x100000, 0x200000, SH_MEM_RAM};
	struct sh_memmap map = {&ram, 1, 1, 1};
	struct sh_heap h;
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	(void)state;

	/* A static region only. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.static_base = buf;
	cfg.static_size = sizeof(buf);
	memset(&res, 0xff, sizeof(res));
	assert_int_equal(sh_boot_init(&h, NULL, &cfg, &res), SH_MM_OK);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(res.static_region, 0);
	assert_int_equal(res.extended_region, 0);
	assert_int_equal(res.static_error, SH_OK);
	assert_int_equal(res.extended_error, SH_OK);
	assert_int_equal(res.options, 0);
	assert_int_equal(res.nloader, 0);
	assert_int_equal(h.nregions, 1);

	/* An extended region only: the static fields must still be reset. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.heap_size = sizeof(buf);
	cfg.nslots = 16;
	cfg.phys_to_ptr = phys_to_buf;
	memset(&res, 0xff, sizeof(res));
	assert_int_equal(sh_boot_init(&h, &map, &cfg, &res), SH_MM_OK);
	assert_false(res.have_static);
	assert_true(res.have_extended);
	assert_int_equal(res.static_region, 0);
	assert_int_equal(res.extended_region, 0);
	assert_int_equal(res.static_error, SH_OK);
	assert_int_equal(res.extended_error, SH_OK);
	assert_int_equal(res.options, 0);
	assert_int_equal(res.nloader, 0);
	assert_true(res.place.start == 0x200000 - sizeof(buf));
	assert_true(res.place.end == 0x200000);
	assert_int_equal(h.nregions, 1);
}

/* boot.c parse_num: the overflow test `x > UINT64_MAX / base || x * base > UINT64_MAX - d`
 * and its constants: the largest value parses, one more does not, in both bases. */
static void test_boot_options_overflow_bounds(void **state)
{
	static const struct {
		const char *s;
		int applied;
		uint64_t size;
	} cases[] = {
		{"slotheap.size=18446744073709551615", 1, UINT64_MAX},
		{"slotheap.size=18446744073709551616", -1, 0},
		{"slotheap.size=18446744073709551619", -1, 0},
		{"slotheap.size=20000000000000000000", -1, 0},
		{"slotheap.size=0xffffffffffffffff", 1, UINT64_MAX},
		{"slotheap.size=0x10000000000000000", -1, 0},
		{"slotheap.size=0x10000000000000001", -1, 0},
		{"slotheap.size=0x1000000000000000f", -1, 0},
		{"slotheap.size=17179869183G", 1, UINT64_C(17179869183) << 30},
		{"slotheap.size=17179869184G", -1, 0},
		{"slotheap.size=0x1F", 1, 31},
		{"slotheap.size=0xa", 1, 10},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sh_boot_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		print_message("%s\n", cases[i].s);
		assert_int_equal(sh_boot_options(cases[i].s, strlen(cases[i].s), &cfg),
				 cases[i].applied);
		assert_true(cfg.heap_size == cases[i].size);
	}
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* cbtable.c walk_records: `tb - off < 8` -> `tb + off < 8`. A table that promises two records
 * but holds one, exactly filling table_bytes, is ERECORD_PAST_TABLE; the zero bytes after it
 * in the buffer must not be read as a second record (which would say ERECORD_SHORT). */
static void test_cb_more_records_than_table(void **state)
{
	unsigned char img[24 + 28 + 16];
	struct sh_mem_range out_r[4];
	struct sh_memmap out;
	(void)state;

	memset(img, 0, sizeof(img));
	memcpy(img, "LBIO", 4);
	put32(img + 4, 24);
	put32(img + 12, 28);
	put32(img + 20, 2); /* table_entries: one more than there is */
	put32(img + 24, SH_CB_TAG_MEMORY);
	put32(img + 28, 28);
	put32(img + 32, 0x100000); /* start */
	put32(img + 40, 0x100000); /* size */
	put32(img + 48, SH_MEM_RAM);
	put32(img + 16, sh_cb_checksum(img + 24, 28));
	put32(img + 8, sh_cb_checksum(img, 24));
	sh_memmap_init(&out, out_r, 4);
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, &out, NULL),
			 SH_MM_ERECORD_PAST_TABLE);
	put32(img + 20, 1);
	put32(img + 8, 0);
	put32(img + 8, sh_cb_checksum(img, 24));
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, &out, NULL), SH_MM_OK);
	assert_int_equal(out.n, 1);
}

/* A coreboot table at img + at whose only record forwards to physical address target. */
static void put_forward_table(unsigned char *img, uint32_t at, uint32_t target)
{
	unsigned char *p = img + at;

	memcpy(p, "LBIO", 4);
	put32(p + 4, 24);
	put32(p + 8, 0);
	put32(p + 12, 16);
	put32(p + 20, 1);
	put32(p + 24, SH_CB_TAG_FORWARD);
	put32(p + 28, 16);
	put32(p + 32, target);
	put32(p + 36, 0);
	put32(p + 16, sh_cb_checksum(p + 24, 16));
	put32(p + 8, sh_cb_checksum(p, 24));
}

/* Bug catalog 43 (cbtable.c mm_cb_resolve: the loop check skips the table being left). A
 * chain that uses every allowed hop and ends in a table forwarding to itself is a loop, not
 * one hop too many. */
static void test_cb_forward_self_loop_at_hop_limit(void **state)
{
	unsigned char img[64 * (SH_CB_MAX_FORWARDS + 1)];
	struct sh_mem_range out_r[4];
	struct sh_memmap out;
	(void)state;

	memset(img, 0, sizeof(img));
	for (uint32_t k = 0; k < SH_CB_MAX_FORWARDS; k++)
		put_forward_table(img, 64 * k, 64 * (k + 1));
	put_forward_table(img, 64 * SH_CB_MAX_FORWARDS, 64 * SH_CB_MAX_FORWARDS);
	sh_memmap_init(&out, out_r, 4);
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, &out, NULL), SH_MM_EFORWARD_LOOP);
	/* A table forwarding to itself straight away. */
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 64 * SH_CB_MAX_FORWARDS, &out, NULL),
			 SH_MM_EFORWARD_LOOP);
}

/* check.c check_index: `f == 0 && nodes != tagged` -> `f != 0 && ...`. A free block that is
 * in the address chain but not in the free index is an I2 failure, reported first. */
static void test_check_free_block_missing_from_index(void **state)
{
	struct sh_heap h;
	struct sh_check_report rep;
	(void)state;

	assert_int_equal(sh_init(&h), 0);
	assert_int_equal(sh_add_region(&h, buf, sizeof(buf), 8), 0);
#if SH_LINEAR
	h.region[0].free_root = SH_NIL;
#else
	/* An empty index that is consistent in itself: no chain, every maximum zero. */
	struct sh_region *r = &h.region[0];
	th_meta_open(&h);
	r->fs_head[0] = SH_NIL;
	r->fs_tail = SH_NIL;
	for (uint32_t j = 0; j < r->fs_level[r->fs_nlevels - 1] + SH_INDEX_FAN; j++)
		r->fs_max[j] = 0;
#endif
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_int_equal(rep.invariant, SH_I2_SLOTS);
	assert_int_equal(rep.region, 0);
}

/* util.c sh_memcpy/sh_memset: whole words where both ends are word aligned, bytes for the
 * rest. Every alignment of either end and every length across a few words must match the C
 * library, and nothing outside [dst, dst + n) may change. */
static void test_copy_and_fill_every_alignment(void **state)
{
	unsigned char src[96], got[96], want[96];
	(void)state;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 + 3);
	for (size_t so = 0; so < 2 * sizeof(uintptr_t); so++)
		for (size_t dof = 0; dof < 2 * sizeof(uintptr_t); dof++)
			for (size_t n = 0; n + dof <= 64 && n + so <= 64; n++) {
				memset(got, 0xa5, sizeof(got));
				memset(want, 0xa5, sizeof(want));
				sh_memcpy(got + dof, src + so, n);
				memcpy(want + dof, src + so, n);
				assert_memory_equal(got, want, sizeof(got));
				sh_memset(got + dof, (int)(n + so), n);
				memset(want + dof, (int)(n + so), n);
				assert_memory_equal(got, want, sizeof(got));
			}
}

/* place.c piece_bot: `excl.end > excl.start` -> `>=`. An empty exclusion excludes nothing: it
 * must not cut the RAM range into two pieces. */
static void test_place_empty_exclusion_ignored(void **state)
{
	struct sh_mem_range ram = {0x100000, 0x200000, SH_MEM_RAM};
	struct sh_memmap map = {&ram, 1, 1, 1};
	struct sh_mem_range empty = {0x1f0000, 0x1f0000, SH_MEM_RESERVED};
	struct sh_placement pl;
	(void)state;

	assert_int_equal(sh_place(&map, 0x20000, SH_PLACE_LIMIT_4G, &empty, 1, &pl), SH_MM_OK);
	assert_true(pl.start == 0x1e0000);
	assert_true(pl.end == 0x200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_count_and_meta_bytes),
		cmocka_unit_test(test_meta_bytes_limits),
		cmocka_unit_test(test_invariant_name_bounds),
		cmocka_unit_test(test_boot_result_fully_set),
		cmocka_unit_test(test_boot_options_overflow_bounds),
		cmocka_unit_test(test_cb_more_records_than_table),
		cmocka_unit_test(test_cb_forward_self_loop_at_hop_limit),
		cmocka_unit_test(test_check_free_block_missing_from_index),
		cmocka_unit_test(test_place_empty_exclusion_ignored),
		cmocka_unit_test(test_copy_and_fill_every_alignment),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
