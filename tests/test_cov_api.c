/* SPDX-License-Identifier: MIT */
/*
 * Bad arguments to the public API, call by call: each is refused with the code its contract
 * names (a NULL heap, map or buffer; an impossible entry size; an output too small) and
 * changes nothing; and the names the API gives to memory types. Only public headers.
 */
#include <stdint.h>
#include <string.h>

#include "memmap.h"
#include "memmap_util.h"
#include "slotheap.h"
#include "testutil.h"

static int count_block(const struct sh_block_info *b, void *ctx)
{
	(void)b;
	++*(size_t *)ctx;
	return 0;
}

static void null_heap_refused(void **state)
{
	(void)state;
	int dummy;

	assert_null(sh_malloc(NULL, 16));
	assert_null(sh_malloc_in(NULL, SH_ALL_REGIONS, 16));
	assert_null(sh_calloc(NULL, 2, 16));
	assert_null(sh_memalign(NULL, 64, 16));
	assert_null(sh_realloc(NULL, &dummy, 16));
	assert_null(sh_realloc(NULL, NULL, 16));
	assert_int_equal(sh_free(NULL, &dummy), SH_EINVAL);
	assert_int_equal(sh_last_error(NULL), SH_EINVAL);
	assert_int_equal(sh_walk(NULL, count_block, NULL), SH_EINVAL);
	assert_int_equal(sh_usable_size(NULL, &dummy), 0);
	sh_set_error_hook(NULL, NULL, NULL); /* nothing to set: must simply return */
}

static void stats_and_walk_arguments(void **state)
{
	(void)state;
	static _Alignas(SH_GRANULE) unsigned char mem[8192];
	struct sh_heap h;
	struct sh_stats st;
	size_t n = 0;

	/* A NULL heap's statistics are all zero, not left as they were. */
	memset(&st, 0xa5, sizeof(st));
	sh_stats(NULL, &st);
	struct sh_stats zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&st, &zero, sizeof(st));

	assert_int_equal(sh_init(&h), 0);
	assert_int_equal(sh_add_region(&h, mem, sizeof(mem), 8), 0);
	void *p = sh_malloc(&h, 100);
	assert_non_null(p);
	sh_stats(&h, NULL); /* no output: must simply return */
	assert_int_equal(sh_walk(&h, NULL, NULL), SH_EINVAL);
	assert_int_equal(sh_walk(&h, count_block, &n), 0);
	assert_int_equal(n, 2);
	CHECK_HEAP(&h);
}

static void region_too_small_for_its_slots(void **state)
{
	(void)state;
	static _Alignas(SH_GRANULE) unsigned char mem[256];
	struct sh_heap h;

	assert_int_equal(sh_init(&h), 0);
	/* One byte past an aligned base cannot hold even the slot array. */
	for (size_t size = 1; size < 8; size++) {
		assert_int_equal(sh_add_region(&h, mem + 1, size, 1), SH_ETOOSMALL);
		assert_int_equal(h.nregions, 0);
	}
	/* Metadata fits, no granule of arena is left. */
	size_t meta = 0;
	/* the metadata depends on the region's size: the size that its own metadata fills */
	while (sh_region_meta_bytes(4, meta) != meta)
		meta = sh_region_meta_bytes(4, meta);
	assert_int_equal(sh_add_region(&h, mem, meta, 4), SH_ETOOSMALL);
	assert_int_equal(h.nregions, 0);
}

static void memory_type_names(void **state)
{
	(void)state;
	assert_string_equal(sh_mem_type_name(SH_MEM_RAM), "RAM");
	assert_string_equal(sh_mem_type_name(SH_MEM_RESERVED), "reserved");
	assert_string_equal(sh_mem_type_name(SH_MEM_ACPI), "ACPI");
	assert_string_equal(sh_mem_type_name(SH_MEM_NVS), "NVS");
	assert_string_equal(sh_mem_type_name(SH_MEM_UNUSABLE), "unusable");
	assert_string_equal(sh_mem_type_name(SH_MEM_TABLE), "cbtable");
	assert_non_null(sh_mem_type_name(99));
	assert_string_not_equal(sh_mem_type_name(99), "RAM");
}

static void memmap_null_arguments(void **state)
{
	(void)state;
	uint8_t buf[64] = {0};
	struct sh_mem_range r[4];
	struct sh_memmap m;
	size_t n = 7, len = 7;
	uint64_t table;

	sh_memmap_init(&m, r, 4);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, NULL, 20, r, 4, &n), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, buf, 20, r, 4, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, buf, 20, NULL, 4, &n), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, NULL, buf, sizeof(buf), &len),
			 SH_MM_EINVAL);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &m, NULL, sizeof(buf), &len),
			 SH_MM_EINVAL);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &m, buf, sizeof(buf), NULL), SH_MM_EINVAL);
	assert_int_equal(sh_cb_find(NULL, 64, 0, &table), SH_MM_EINVAL);
	assert_int_equal(sh_cb_find(buf, sizeof(buf), 0, NULL), SH_MM_EINVAL);
}

static void e820_entry_size_checked(void **state)
{
	(void)state;
	uint8_t buf[48] = {0};
	struct sh_mem_range r[4];
	struct sh_memmap m;

	sh_memmap_init(&m, r, 4);
	for (size_t esz = 0; esz < 32; esz++) {
		if (esz == 20 || esz == 24)
			continue;
		assert_int_equal(sh_e820_parse(buf, sizeof(buf), esz, &m), SH_MM_EINVAL);
		assert_int_equal(m.n, 0);
	}
}

static void emit_into_short_buffers(void **state)
{
	(void)state;
	struct sh_mem_range r[2] = {{0x1000, 0x9f000, SH_MEM_RAM},
				    {0x100000, 0x800000, SH_MEM_RAM}};
	struct sh_memmap m = {.range = r, .cap = 2, .n = 2, .total = 2};
	uint8_t buf[16];
	size_t len;

	/* mb2info needs 16 bytes of its own around the tag: anything shorter overflows. */
	for (size_t cap = 0; cap < 16; cap++) {
		len = 99;
		assert_int_equal(sh_memmap_emit(SH_FMT_MB2INFO, &m, buf, cap, &len),
				 SH_MM_EOVERFLOW);
		assert_int_equal(len, 0);
	}
	/* A map too large for a 32-bit table size is refused before anything is read or written. */
	struct sh_memmap huge = {
		.range = r, .cap = 2, .n = (size_t)UINT32_MAX / 20 + 1, .total = 2};
	len = 99;
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &huge, buf, sizeof(buf), &len),
			 SH_MM_EOVERFLOW);
	assert_int_equal(len, 0);
}

static void region_info_arguments(void **state)
{
	(void)state;
	static _Alignas(SH_GRANULE) unsigned char mem[4096];
	struct sh_heap h;
	struct sh_region_info ri;

	assert_int_equal(sh_init(&h), 0);
	assert_int_equal(sh_region_info(&h, 0, &ri), SH_EINVAL); /* no region yet */
	assert_int_equal(sh_add_region(&h, mem, sizeof(mem), 4), 0);
	assert_int_equal(sh_region_info(NULL, 0, &ri), SH_EINVAL);
	assert_int_equal(sh_region_info(&h, 0, NULL), SH_EINVAL);
	assert_int_equal(sh_region_info(&h, 1, &ri), SH_EINVAL);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	assert_int_equal(ri.nslots, 4);
}

static void map_outputs_checked(void **state)
{
	(void)state;
	uint8_t img[64] = {0};
	struct sh_mem_range raw[1] = {{0, 0x1000, SH_MEM_RAM}};
	struct sh_mem_range r[4], r2[4];
	struct sh_memmap m, none = {.range = NULL, .cap = 4}, zero = {.range = r, .cap = 0};
	uint64_t found;

	sh_memmap_init(&m, r, 4);
	/* sh_cb_parse: image and a usable output map are required. */
	assert_int_equal(sh_cb_parse(NULL, sizeof(img), 0, 0, &m, &found), SH_MM_EINVAL);
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, NULL, &found), SH_MM_EINVAL);
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, &none, &found), SH_MM_EINVAL);
	assert_int_equal(sh_cb_parse(img, sizeof(img), 0, 0, &zero, &found), SH_MM_EINVAL);
	/* sh_memmap_normalize: the same, and entries to read when n > 0. */
	assert_int_equal(sh_memmap_normalize(raw, 1, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_normalize(raw, 1, &none), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_normalize(raw, 1, &zero), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_normalize(NULL, 1, &m), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_normalize(raw, 1, &m), 0);
	assert_int_equal(m.n, 1);

	/* sh_memmap_emit: a map that claims entries must have them. */
	struct sh_memmap claims = {.range = NULL, .cap = 0, .n = 1, .total = 1};
	size_t len;
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &claims, img, sizeof(img), &len),
			 SH_MM_EINVAL);

	/* sh_memmap_reserve: input, ranges, a usable output that is not the input. */
	struct sh_memmap out;
	struct sh_mem_range rs[1] = {{0x100, 0x200, SH_MEM_RESERVED}};
	sh_memmap_init(&out, r2, 4);
	assert_int_equal(sh_memmap_reserve(NULL, rs, 1, &out), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&claims, rs, 1, &out), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, NULL, 1, &out), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, rs, 1, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, rs, 1, &none), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, rs, 1, &m), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, NULL, 0, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(sh_memmap_reserve(&m, rs, 1, &out), 0);
	assert_int_equal(sh_memmap_type_at(&out, 0x180), SH_MEM_RESERVED);
	assert_int_equal(sh_memmap_type_at(&out, 0x80), SH_MEM_RAM);
}

static void raw_entries_counted_without_storage(void **state)
{
	(void)state;
	struct sh_mem_range r[2] = {{0, 0x9f000, SH_MEM_RAM}, {0x100000, 0x800000, SH_MEM_RAM}};
	struct sh_memmap m = {.range = r, .cap = 2, .n = 2, .total = 2};
	uint8_t buf[64];
	size_t len, n = 99;

	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &m, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 40);
	/* No storage: the count of entries needed comes back with SH_MM_EOVERFLOW. */
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, buf, len, NULL, 0, &n), SH_MM_EOVERFLOW);
	assert_int_equal(n, 2);
}

static void empty_and_reversed_inputs(void **state)
{
	(void)state;
	struct sh_mem_range r[4], r2[4];
	struct sh_memmap m, out;
	struct sh_memmap empty = {.range = NULL, .cap = 0, .n = 0, .total = 0};
	uint8_t buf[8];
	size_t len = 99;

	sh_memmap_init(&m, r, 4);
	/* No entries: nothing to read, so no entry array is needed; there is no RAM. */
	assert_int_equal(sh_memmap_normalize(NULL, 0, &m), SH_MM_ENORAM);
	assert_int_equal(m.n, 0);
	/* An empty map emits as an empty e820 array. */
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &empty, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
	/* Reserving in an empty map leaves the reserved range and still no RAM. */
	struct sh_mem_range rs[1] = {{0x100, 0x200, SH_MEM_RESERVED}};
	sh_memmap_init(&out, r2, 4);
	assert_int_equal(sh_memmap_reserve(&empty, rs, 1, &out), SH_MM_ENORAM);
	assert_int_equal(sh_memmap_type_at(&out, 0x180), SH_MEM_RESERVED);
	/* A range whose end lies below its start is empty and vanishes. */
	struct sh_mem_range raw[2] = {{0x5000, 0x1000, SH_MEM_RESERVED},
				      {0, 0x2000, SH_MEM_RAM}};
	assert_int_equal(sh_memmap_normalize(raw, 2, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.range[0].start, 0);
	assert_int_equal(m.range[0].end, 0x2000);
	assert_int_equal(m.range[0].type, SH_MEM_RAM);
	/* An empty entry inside a gap vanishes and leaves the gap as it was. */
	struct sh_mem_range gap[3] = {{0, 0x1000, SH_MEM_RAM},
				      {0x3000, 0x3000, SH_MEM_RESERVED},
				      {0x5000, 0x6000, SH_MEM_RAM}};
	assert_int_equal(sh_memmap_normalize(gap, 3, &m), 0);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.range[0].end, 0x1000);
	assert_int_equal(m.range[1].start, 0x5000);
	assert_int_equal(sh_memmap_type_at(&m, 0x3000), 0);
}

static uint8_t image[0x2000];

static void first_forward_record_wins(void **state)
{
	(void)state;
	struct cbb c;
	struct ent low = {0, 0x100000, SH_MEM_RAM}, high = {0, 0x200000, SH_MEM_RAM};
	struct sh_mem_range r[4];
	struct sh_memmap m;
	uint64_t found = 0;

	memset(image, 0, sizeof(image));
	cbb_begin(&c, image);
	cbb_fwd(&c, 0x1000);
	cbb_fwd(&c, 0x1800);
	cbb_end(&c);
	cb_table(image + 0x1000, &low, 1);
	cb_table(image + 0x1800, &high, 1);
	sh_memmap_init(&m, r, 4);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0, &m, &found), 0);
	assert_int_equal(found, 0x1000);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.range[0].end, 0x100000);
}

static void mb2_info_without_room_for_a_tag(void **state)
{
	(void)state;
	uint8_t info[16] = {0};
	struct sh_mem_range r[4];
	struct sh_memmap m;

	sh_memmap_init(&m, r, 4);
	/* The fixed part and 4 bytes: no tag header fits, so there is no memory-map tag. */
	le32(info, 12);
	assert_int_equal(sh_mb2_parse_info(info, 12, &m), SH_MM_ENOMEMTAG);
	assert_int_equal(m.n, 0);
}

static void e820_disabled_last_entry_ignored(void **state)
{
	(void)state;
	uint8_t buf[48] = {0};
	struct sh_mem_range r[4];
	struct sh_memmap m;

	/* Two 24-byte entries; the second's extended attributes have bit 0 clear (disabled). */
	le64(buf, 0x1000);
	le64(buf + 8, 0x9e000);
	le32(buf + 16, SH_MEM_RAM);
	le32(buf + 20, 1);
	le64(buf + 24, 0x100000);
	le64(buf + 32, 0x700000);
	le32(buf + 40, SH_MEM_RAM);
	le32(buf + 44, 0);
	sh_memmap_init(&m, r, 4);
	assert_int_equal(sh_e820_parse(buf, sizeof(buf), 24, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.range[0].start, 0x1000);
	assert_int_equal(m.range[0].end, 0x9f000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(null_heap_refused),
		cmocka_unit_test(stats_and_walk_arguments),
		cmocka_unit_test(region_too_small_for_its_slots),
		cmocka_unit_test(memory_type_names),
		cmocka_unit_test(memmap_null_arguments),
		cmocka_unit_test(e820_entry_size_checked),
		cmocka_unit_test(emit_into_short_buffers),
		cmocka_unit_test(region_info_arguments),
		cmocka_unit_test(map_outputs_checked),
		cmocka_unit_test(raw_entries_counted_without_storage),
		cmocka_unit_test(empty_and_reversed_inputs),
		cmocka_unit_test(first_forward_record_wins),
		cmocka_unit_test(mb2_info_without_room_for_a_tag),
		cmocka_unit_test(e820_disabled_last_entry_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
