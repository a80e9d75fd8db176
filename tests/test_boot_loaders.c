/* SPDX-License-Identifier: MIT */
/*
 * The per-loader boot calls (sh_boot_multiboot1, sh_boot_multiboot2, sh_boot_coreboot) and
 * the result contract of sh_boot_init: loader data kept clear, the caller's exclusions and
 * the static region kept clear together, options from the command line, one code family.
 *
 * Physical memory is a host buffer: physical [0, PHYS) maps onto phys[] by a translation
 * hook that refuses anything outside it, so a read the calls should not make fails loudly.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "memmap.h"
#include "memmap_util.h"

#define PHYS 0x40000u
static uint8_t phys[PHYS] __attribute__((aligned(4096)));
static unsigned outside; /* translations asked for outside phys[] */

static void *to_phys(void *ctx, uint64_t a, uint64_t size)
{
	(void)ctx;
	if (size == 0 || a >= PHYS || size > PHYS - a) {
		outside++;
		return NULL;
	}
	return phys + a;
}

static struct sh_heap h;
static struct sh_mem_range ranges[32];

static void config(struct sh_boot_config *cfg, const struct sh_mem_range *image)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->phys_to_ptr = to_phys;
	cfg->heap_size = 8192;
	cfg->nslots = 8;
	cfg->excl = image;
	cfg->nexcl = image != NULL;
}

/* RAM [0x1000, PHYS) as a multiboot v1 mmap buffer at phys+at; returns its length. */
static uint32_t put_mb1_mmap(uint32_t at)
{
	struct sh_mem_range ram = {0x1000, PHYS, SH_MEM_RAM};
	struct sh_memmap m = {&ram, 1, 1, 1};
	size_t len;

	assert_int_equal(sh_memmap_emit(SH_FMT_MB1, &m, phys + at, PHYS - at, &len), SH_MM_OK);
	return (uint32_t)len;
}

static bool loader_has(const struct sh_boot_result *res, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < res->nloader; i++)
		if (res->loader[i].start == start && res->loader[i].end == end)
			return true;
	return false;
}

/* A multiboot v1 boot as QEMU hands it over: info, command line, mmap, two modules. */
static uint32_t put_mb1(uint32_t flags, const char *cmdline)
{
	uint8_t *info = phys + 0x1000;

	memset(phys, 0, sizeof(phys));
	le32(info, flags);
	le32(info + 4, 639);  /* mem_lower KiB */
	le32(info + 8, 4096); /* mem_upper: 4 MiB above 1 MiB */
	strcpy((char *)phys + 0x1100, cmdline);
	le32(info + 16, 0x1100);
	le32(info + 20, 2);
	le32(info + 24, 0x1300);
	le32(phys + 0x1300, 0x3c000); /* module 0 [0x3c000, 0x3e000) */
	le32(phys + 0x1304, 0x3e000);
	le32(phys + 0x1310, 0x20000); /* module 1 [0x20000, 0x21000) */
	le32(phys + 0x1314, 0x21000);
	le32(info + 44, put_mb1_mmap(0x1200));
	le32(info + 48, 0x1200);
	return 0x1000;
}

static void test_mb1_full(void **state)
{
	struct sh_mem_range image = {0x38000, 0x3a000, SH_MEM_RESERVED};
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	(void)state;

	config(&cfg, &image);
	sh_memmap_init(&map, ranges, 32);
	uint32_t info = put_mb1(SH_MB1_FLAG_MEM | SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MODS |
					SH_MB1_FLAG_MMAP,
				"quiet slotheap.size=16K slotheap.slots=32");
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(outside, 0);
	assert_true(res.have_extended);
	assert_false(res.have_static);
	assert_int_equal(res.options, 2);
	/* the caller's config is not changed; the copy is */
	assert_int_equal(cfg.heap_size, 8192);
	/* 16 KiB: [0x3e000, PHYS) and [0x3a000, 0x3c000) are 8 KiB pieces (module 0, the image),
	 * so the heap goes below the image */
	assert_true(res.place.start == 0x34000 && res.place.end == 0x38000);
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 32);
	assert_int_equal(res.nloader, 6);
	assert_true(loader_has(&res, 0x1000, 0x1000 + SH_MB1_INFO_BYTES));
	assert_true(loader_has(&res, 0x1100, 0x1100 + strlen((char *)phys + 0x1100) + 1));
	assert_true(loader_has(&res, 0x1300, 0x1320));
	assert_true(loader_has(&res, 0x3c000, 0x3e000));
	assert_true(loader_has(&res, 0x20000, 0x21000));
	assert_true(loader_has(&res, 0x1200, 0x1200 + get32(phys + 0x1000 + 44)));
	assert_int_equal(map.n, 1);
	assert_non_null(sh_malloc(&h, 1000));
	assert_int_equal(sh_check(&h, NULL), 0);
}

/* Without the mmap (flags bit 6) the mem_lower / mem_upper fields give the map; without
 * either the reason is SH_MM_ENOMEMTAG, and a static region is still built. */
static void test_mb1_fallbacks(void **state)
{
	static uint8_t stat[16384] __attribute__((aligned(16)));
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	(void)state;

	config(&cfg, NULL);
	sh_memmap_init(&map, ranges, 32);
	uint32_t info = put_mb1(SH_MB1_FLAG_MEM, "");
	/* mem_upper describes RAM from 1 MiB on, which phys[] does not hold: refused there */
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_int_equal(map.n, 2);
	assert_true(map.range[0].start == 0 && map.range[0].end == 639 * 1024);
	assert_true(map.range[1].start == MiB && map.range[1].end == 5 * MiB);
	assert_int_equal(res.options, 0);
	assert_int_equal(res.nloader, 1);

	cfg.static_base = stat;
	cfg.static_size = sizeof(stat);
	info = put_mb1(0, "");
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_ENOMEMTAG);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(res.extended_error, SH_MM_ENOMEMTAG);
	assert_non_null(sh_malloc(&h, 100));

	/* the wrong magic touches nothing */
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB2_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EMAGIC);
	assert_false(res.have_static);
	/* the information block outside memory */
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, PHYS - 8, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_true(res.have_static);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);
	/* arguments */
	assert_int_equal(sh_boot_multiboot1(NULL, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EINVAL);
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, NULL, &res),
			 SH_MM_EINVAL);
	cfg.nexcl = 1;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EINVAL);
}

/* A malformed option is reported and the boot goes on with what came before it. */
static void test_mb1_bad_option(void **state)
{
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	(void)state;

	config(&cfg, NULL);
	sh_memmap_init(&map, ranges, 32);
	uint32_t info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MMAP,
				"slotheap.slots=16 slotheap.size=12Q");
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, -1);
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 16);
	assert_int_equal(ri.size, 8192);
	assert_true(res.place.end == PHYS);
}

/* More modules than SH_BOOT_MAX_LOADER entries: the last entry spans the rest. */
static void test_mb1_many_modules(void **state)
{
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	(void)state;

	config(&cfg, NULL);
	sh_memmap_init(&map, ranges, 32);
	uint32_t info = put_mb1(SH_MB1_FLAG_MODS | SH_MB1_FLAG_MMAP, "");
	const uint32_t n = SH_BOOT_MAX_LOADER + 4;
	le32(phys + info + 20, n);
	le32(phys + info + 24, 0x1400);
	for (uint32_t i = 0; i < n; i++) {
		le32(phys + 0x1400 + 16 * i, 0x30000 + 0x800 * i);
		le32(phys + 0x1404 + 16 * i, 0x30000 + 0x800 * i + 0x100);
	}
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.nloader, SH_BOOT_MAX_LOADER);
	const struct sh_mem_range *last = &res.loader[SH_BOOT_MAX_LOADER - 1];
	assert_true(last->end >= 0x30000 + 0x800 * (n - 1) + 0x100);
	/* the heap stays above every module */
	assert_true(res.place.start >= 0x30000 + 0x800 * (n - 1) + 0x100);
	for (uint32_t i = 0; i < n; i++)
		assert_true(res.place.end <= 0x30000 + 0x800 * i ||
			    res.place.start >= 0x30000 + 0x800 * i + 0x100);
}

static void test_mb1_read_info(void **state)
{
	uint8_t b[SH_MB1_INFO_READ];
	struct sh_mb1_info mi;
	(void)state;

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	assert_int_equal(sh_mb1_read_info(b, sizeof(b), &mi), SH_MM_OK);
	assert_int_equal(mi.flags, 0x03020100u);
	assert_int_equal(mi.mem_upper, 0x0b0a0908u);
	assert_int_equal(mi.cmdline, 0x13121110u);
	assert_int_equal(mi.mods_addr, 0x1b1a1918u);
	assert_int_equal(mi.mmap_length, 0x2f2e2d2cu);
	assert_int_equal(mi.mmap_addr, 0x33323130u);
	assert_int_equal(sh_mb1_read_info(b, sizeof(b) - 1, &mi), SH_MM_ETRUNCATED);
	assert_int_equal(sh_mb1_read_info(NULL, sizeof(b), &mi), SH_MM_EINVAL);
	assert_int_equal(sh_mb1_read_info(b, sizeof(b), NULL), SH_MM_EINVAL);
	mi.flags = 0;
	struct sh_memmap map;
	sh_memmap_init(&map, ranges, 32);
	assert_int_equal(sh_mb1_info_map(&mi, NULL, 0, &map), SH_MM_ENOMEMTAG);
}

/* Multiboot2: command line and module tags before the memory map, the whole block kept
 * clear. */
static void test_mb2(void **state)
{
	struct sh_mem_range ram = {0x1000, PHYS, SH_MEM_RAM};
	struct sh_memmap m = {&ram, 1, 1, 1};
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	size_t len, off = 8;
	uint8_t *p = phys + 0x2000;
	(void)state;

	memset(phys, 0, sizeof(phys));
	const char *cl = "slotheap.size=0x3000";
	le32(p + off, 1);
	le32(p + off + 4, (uint32_t)(8 + strlen(cl) + 1));
	strcpy((char *)p + off + 8, cl);
	off += (8 + strlen(cl) + 1 + 7) & ~(size_t)7;
	le32(p + off, 3);
	le32(p + off + 4, 17);
	le32(p + off + 8, 0x3d000);
	le32(p + off + 12, 0x3f000);
	off += 24;
	assert_int_equal(sh_memmap_emit(SH_FMT_MB2, &m, p + off, 1024, &len), SH_MM_OK);
	off += (len + 7) & ~(size_t)7;
	le32(p + off, 0);
	le32(p + off + 4, 8);
	off += 8;
	le32(p, (uint32_t)off);

	config(&cfg, NULL);
	sh_memmap_init(&map, ranges, 32);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, 1);
	assert_int_equal(res.nloader, 2);
	assert_true(loader_has(&res, 0x2000, 0x2000 + off));
	assert_true(loader_has(&res, 0x3d000, 0x3f000));
	/* 12 KiB: [0x3f000, PHYS) is 4 KiB, so below the module */
	assert_true(res.place.start == 0x3a000 && res.place.end == 0x3d000);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB1_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_EMAGIC);
	/* a total size past memory, and one below its own header */
	le32(p, PHYS);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	le32(p, 4);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_EHDRSIZE);
	assert_int_equal(res.extended_error, SH_MM_EHDRSIZE);
}

/* coreboot: the table found by the search forwards to the real one; both are kept clear. */
static void test_coreboot(void **state)
{
	struct sh_mem_range r[] = {{0, 0x2000, SH_MEM_TABLE}, {0x2000, PHYS, SH_MEM_RAM}};
	struct sh_memmap m = {r, 2, 2, 2};
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	size_t len;
	(void)state;

	memset(phys, 0, sizeof(phys));
	assert_int_equal(sh_memmap_emit(SH_FMT_CBIMAGE, &m, phys, PHYS, &len), SH_MM_OK);
	config(&cfg, NULL);
	cfg.tables_end = PHYS;
	sh_memmap_init(&map, ranges, 32);
	outside = 0;
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_OK);
	assert_int_equal(outside, 0);
	assert_int_equal(res.nloader, 2);
	assert_int_equal(res.loader[0].start, SH_CBIMAGE_LOW);
	assert_int_equal(res.loader[1].start, SH_CBIMAGE_HIGH);
	assert_int_equal(res.loader[1].end, len);
	assert_int_equal(map.n, 2);
	assert_true(res.place.end == PHYS);
	/* no table: the search's reason */
	memset(phys, 0, sizeof(phys));
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_ENOTFOUND);
	assert_int_equal(res.extended_error, SH_MM_ENOTFOUND);
	/* memory the hook cannot give */
	cfg.tables_end = PHYS + 1;
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_EADDRESS);
	cfg.tables_end = 20;
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_EINVAL);
}

/* Identity translation: passing exclusions no longer turns off keeping the static region
 * clear. The only RAM is the static region itself. */
static void test_excl_keeps_static_clear(void **state)
{
	static uint8_t stat[64 * 1024] __attribute__((aligned(4096)));
	uint64_t a = (uint64_t)(uintptr_t)stat;
	struct sh_mem_range ram = {a, a + sizeof(stat), SH_MEM_RAM};
	struct sh_mem_range other = {0x1000, 0x2000, SH_MEM_RESERVED};
	struct sh_memmap m = {&ram, 1, 1, 1};
	struct sh_boot_config cfg = {0};
	struct sh_boot_result res;
	(void)state;

	cfg.static_base = stat;
	cfg.static_size = sizeof(stat);
	cfg.heap_size = 4096;
	cfg.limit = SH_MEM_TOP; /* host addresses may lie above 4 GiB */
	cfg.nslots = 8;
	cfg.excl = &other;
	cfg.nexcl = 1;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ENOFIT);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	/* half of it as static: the heap goes in the other half */
	cfg.static_size = sizeof(stat) / 2;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_true(res.place.start >= a + sizeof(stat) / 2);
	assert_true(res.place.end == a + sizeof(stat));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mb1_full),
		cmocka_unit_test(test_mb1_fallbacks),
		cmocka_unit_test(test_mb1_bad_option),
		cmocka_unit_test(test_mb1_many_modules),
		cmocka_unit_test(test_mb1_read_info),
		cmocka_unit_test(test_mb2),
		cmocka_unit_test(test_coreboot),
		cmocka_unit_test(test_excl_keeps_static_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
