/* SPDX-License-Identifier: MIT */
/*
 * The boot calls' argument checks, error returns and edge cases (core/memmap.h's contracts
 * for sh_boot_init, sh_boot_multiboot1, sh_boot_multiboot2, sh_boot_coreboot,
 * sh_mb1_info_map, sh_boot_child_map and sh_boot_options): bad arguments, refused
 * translations, command lines and tags at their limits, modules that are empty, loader data
 * at the top of RAM, no fit, and a coreboot table without RAM.
 *
 * Physical memory is the fake of tests/bootphys.h.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bootphys.h"

static struct sh_heap h;
static struct sh_mem_range ranges[32];

static void config(struct sh_boot_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->phys_to_ptr = to_phys;
	cfg->heap_size = 8192;
	cfg->nslots = 8;
	split = 0;
	outside = 0;
}

static bool overlaps(const struct sh_placement *p, uint64_t start, uint64_t end)
{
	return p->start < end && start < p->end;
}

/* A result without an extended region has an all-zero placement (memmap.h), whatever an
 * earlier call left in it. */
static void assert_no_placement(const struct sh_boot_result *res)
{
	static const struct sh_placement zero;

	assert_false(res->have_extended);
	assert_memory_equal(&res->place, &zero, sizeof(zero));
}

/* A multiboot v1 information structure at 0x1000 with an mmap at 0x1200 (RAM [0x1000,
 * PHYS)), the command line at 0x1100 and an empty module list at 0x1300. */
static uint32_t put_mb1(uint32_t flags, const char *cmdline)
{
	uint8_t *info = phys + 0x1000;

	phys_clear();
	le32(info, flags);
	strcpy((char *)phys + 0x1100, cmdline);
	le32(info + 16, 0x1100);
	le32(info + 20, 0);
	le32(info + 24, 0x1300);
	le32(info + 44, put_mb1_mmap(0x1200));
	le32(info + 48, 0x1200);
	return 0x1000;
}

/* Bytes of a NUL-free command line of n bytes at phys+at ('x' repeated). */
static void put_long_cmdline(uint32_t at, size_t n)
{
	memset(phys + at, 'x', n);
}

/* Every per-loader call refuses a NULL or storage-less argument with SH_MM_EINVAL and
 * leaves h untouched; so do sh_boot_init, sh_mb1_info_map and sh_boot_options. */
static void test_arguments(void **state)
{
	struct sh_boot_config cfg, noexcl;
	struct sh_boot_result res;
	struct sh_memmap map, nostore, nocap;
	struct sh_heap before;
	(void)state;

	config(&cfg);
	noexcl = cfg;
	noexcl.nexcl = 1; /* excl NULL with nexcl > 0 */
	sh_memmap_init(&map, ranges, 32);
	nostore = map;
	nostore.range = NULL;
	nocap = map;
	nocap.cap = 0;
	uint32_t info = put_mb1(SH_MB1_FLAG_MMAP, "");
	memset(&h, 0xa5, sizeof(h));
	memcpy(&before, &h, sizeof(h));

	for (int call = 0; call < 3; call++) {
		struct sh_heap *hs[] = {NULL, &h, &h, &h, &h, &h, &h};
		const struct sh_boot_config *cs[] = {&cfg, NULL, &noexcl, &cfg,
						     &cfg, &cfg, &cfg};
		struct sh_memmap *ms[] = {&map, &map, &map, NULL, &nostore, &nocap, &map};
		struct sh_boot_result *rs[] = {&res, &res, &res, &res, &res, &res, NULL};
		for (size_t k = 0; k < 7; k++) {
			int rc = call == 0   ? sh_boot_multiboot1(hs[k], SH_MB1_MAGIC, info,
								  cs[k], ms[k], rs[k])
				 : call == 1 ? sh_boot_multiboot2(hs[k], SH_MB2_MAGIC, info,
								  cs[k], ms[k], rs[k])
					     : sh_boot_coreboot(hs[k], cs[k], ms[k], rs[k]);
			if (rc != SH_MM_EINVAL)
				fail_msg("call %d, argument set %zu: %d", call, k, rc);
			assert_memory_equal(&h, &before, sizeof(h));
		}
	}
	/* sh_boot_init: no config, no result */
	assert_int_equal(sh_boot_init(&h, &map, NULL, &res), SH_MM_EINVAL);
	assert_int_equal(sh_boot_init(&h, &map, &cfg, NULL), SH_MM_EINVAL);
	assert_memory_equal(&h, &before, sizeof(h));

	struct sh_mb1_info mi = {.flags = SH_MB1_FLAG_MEM, .mem_lower = 639};
	assert_int_equal(sh_mb1_info_map(NULL, NULL, 0, &map), SH_MM_EINVAL);
	assert_int_equal(sh_mb1_info_map(&mi, NULL, 0, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_mb1_info_map(&mi, NULL, 0, &map), SH_MM_OK);
	assert_true(map.n >= 1 && map.range[0].end == 639 * 1024);

	assert_int_equal(sh_boot_options("slotheap.slots=4", 16, NULL), -1);
	assert_int_equal(sh_boot_options(NULL, 0, &cfg), -1);
}

/* sh_boot_child_map's argument checks, and a result without an extended region: the child
 * map is the map plus the extra ranges only. */
static void test_child_map(void **state)
{
	struct sh_mem_range r[] = {{0x1000, 0x20000, SH_MEM_RAM}};
	struct sh_memmap map = {r, 1, 1, 1};
	struct sh_mem_range extra = {0x4000, 0x5000, SH_MEM_RESERVED};
	struct sh_mem_range outr[8];
	struct sh_memmap out, nostore, nocap, same;
	struct sh_memmap noranges = {NULL, 1, 1, 1};
	struct sh_boot_result res;
	(void)state;

	memset(&res, 0, sizeof(res));
	sh_memmap_init(&out, outr, 8);
	nostore = out;
	nostore.range = NULL;
	nocap = out;
	nocap.cap = 0;
	same = out;
	same.range = r;
	assert_int_equal(sh_boot_child_map(NULL, &res, NULL, 0, &out), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, NULL, NULL, 0, &out), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&noranges, &res, NULL, 0, &out), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, &res, NULL, 1, &out), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, &res, NULL, 0, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, &res, NULL, 0, &nostore), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, &res, NULL, 0, &nocap), SH_MM_EINVAL);
	assert_int_equal(sh_boot_child_map(&map, &res, NULL, 0, &same), SH_MM_EINVAL);

	/* no extended region: only the extra range is reserved */
	res.have_extended = false;
	res.place.start = 0x8000;
	res.place.end = 0x9000;
	assert_int_equal(sh_boot_child_map(&map, &res, &extra, 1, &out), SH_MM_OK);
	assert_int_equal(out.n, 3);
	assert_true(out.range[0].start == 0x1000 && out.range[0].end == 0x4000 &&
		    out.range[0].type == SH_MEM_RAM);
	assert_true(out.range[1].start == 0x4000 && out.range[1].end == 0x5000 &&
		    out.range[1].type == SH_MEM_RESERVED);
	assert_true(out.range[2].start == 0x5000 && out.range[2].end == 0x20000 &&
		    out.range[2].type == SH_MEM_RAM);
	/* an empty map with no storage is allowed */
	struct sh_memmap empty = {NULL, 0, 0, 0};
	assert_int_equal(sh_boot_child_map(&empty, &res, &extra, 1, &out), SH_MM_ENORAM);
}

/* Multiboot v1 edge cases of the loader data. */
static void test_mb1_loader_data(void **state)
{
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	uint32_t info;
	(void)state;

	config(&cfg);
	sh_memmap_init(&map, ranges, 32);

	/* an empty command line and an empty module list: the NUL kept clear, no list */
	info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MODS | SH_MB1_FLAG_MMAP, "");
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(outside, 0);
	assert_int_equal(res.options, 0);
	assert_int_equal(res.nloader, 3); /* info, command line's NUL, mmap */
	assert_true(loader_has(&res, 0x1100, 0x1101));
	assert_true(res.have_extended);
	assert_true(res.place.end == PHYS);

	/* modules that are empty or reversed are not kept clear; one at the top of RAM is,
	 * so the heap goes below it */
	info = put_mb1(SH_MB1_FLAG_MODS | SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 20, 3);
	le32(phys + 0x1300, 0x30000); /* empty */
	le32(phys + 0x1304, 0x30000);
	le32(phys + 0x1310, 0x32000); /* reversed */
	le32(phys + 0x1314, 0x31000);
	le32(phys + 0x1320, PHYS - 0x1000); /* the last page of RAM */
	le32(phys + 0x1324, PHYS);
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.nloader, 4); /* info, list, top module, mmap */
	assert_true(loader_has(&res, 0x1300, 0x1330));
	assert_true(loader_has(&res, PHYS - 0x1000, PHYS));
	assert_true(res.place.end == PHYS - 0x1000);
	assert_int_equal(res.place.end - res.place.start, 8192);

	/* the mmap flag with a zero length: nothing to keep clear, and the parser's reason
	 * for an empty buffer */
	info = put_mb1(SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 44, 0);
	int want = sh_mb1_parse(phys + info, 0, &map);
	assert_int_not_equal(want, SH_MM_OK);
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res), want);
	assert_int_equal(res.extended_error, want);
	assert_int_equal(res.nloader, 1);

	/* an mmap buffer the translation refuses: SH_MM_EADDRESS, still kept clear */
	static uint8_t stat[16384] __attribute__((aligned(16)));
	cfg.static_base = stat;
	cfg.static_size = sizeof(stat);
	info = put_mb1(SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 48, PHYS - 8);
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_int_equal(outside, 1);
	assert_true(res.have_static);
	assert_no_placement(&res);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);
	assert_true(loader_has(&res, PHYS - 8, PHYS - 8 + get32(phys + info + 44)));
	assert_non_null(sh_malloc(&h, 100));
}

/* Multiboot v1 command lines at their limits. */
static void test_mb1_cmdline_limits(void **state)
{
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	uint32_t info;
	(void)state;

	config(&cfg);
	sh_memmap_init(&map, ranges, 32);

	/* longer than SH_BOOT_CMDLINE_MAX with no NUL: only the first SH_BOOT_CMDLINE_MAX
	 * bytes are read and kept clear; an option there applies */
	info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 16, 0x8000);
	put_long_cmdline(0x8000, SH_BOOT_CMDLINE_MAX + 64);
	memcpy(phys + 0x8000, "slotheap.slots=24 ", 18);
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, 1);
	assert_true(loader_has(&res, 0x8000, 0x8000 + SH_BOOT_CMDLINE_MAX + 1));
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 24);

	/* a command line running into the end of memory: what could be read is used */
	info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 16, PHYS - 17);
	memcpy(phys + PHYS - 17, "slotheap.slots=20", 17);
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(outside, 1);
	assert_int_equal(res.options, 1);
	assert_true(loader_has(&res, PHYS - 17, PHYS + 1));
	assert_true(res.place.end <= PHYS - 17);
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 20);

	/* a command line address the translation refuses outright: no options, its first
	 * byte still kept clear */
	info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 16, PHYS + 0x100);
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, 0);
	assert_true(loader_has(&res, PHYS + 0x100, PHYS + 0x101));

	/* a command line readable byte by byte but not as one range (it straddles two
	 * windows of the hook): kept clear, no options taken from it */
	info = put_mb1(SH_MB1_FLAG_CMDLINE | SH_MB1_FLAG_MMAP, "slotheap.slots=20");
	split = 0x1108;
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	split = 0;
	assert_int_equal(outside, 1);
	assert_int_equal(res.options, 0);
	assert_true(loader_has(&res, 0x1100, 0x1100 + 18));
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 8);
}

/* A multiboot2 block at 0x2000: tags (type, size, payload) laid out one after another,
 * each at an 8-byte aligned offset; returns the offset after the last one. */
static size_t mb2_tag(size_t off, uint32_t type, uint32_t size, const void *payload,
		      size_t plen)
{
	uint8_t *p = phys + 0x2000;
	le32(p + off, type);
	le32(p + off + 4, size);
	if (plen)
		memcpy(p + off + 8, payload, plen);
	return off + ((size + 7) & ~(size_t)7);
}

static size_t mb2_mmap(size_t off)
{
	struct sh_mem_range ram = {0x1000, PHYS, SH_MEM_RAM};
	struct sh_memmap m = {&ram, 1, 1, 1};
	size_t len;

	assert_int_equal(sh_memmap_emit(SH_FMT_MB2, &m, phys + 0x2000 + off, 1024, &len),
			 SH_MM_OK);
	return off + ((len + 7) & ~(size_t)7);
}

static void mb2_total(size_t total)
{
	le32(phys + 0x2000, (uint32_t)total);
	le32(phys + 0x2004, 0);
}

/* Multiboot2 tags at their limits. */
static void test_mb2_tags(void **state)
{
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	uint8_t mod[8];
	size_t off;
	(void)state;

	config(&cfg);
	sh_memmap_init(&map, ranges, 32);

	/* a command line without NUL that fills its tag, a short module tag (ignored), an
	 * empty and a reversed module (not kept clear), then the memory map, and no end tag:
	 * the walk stops at total_size */
	phys_clear();
	off = mb2_tag(8, 1, 8 + 16, "slotheap.slots=9", 16);
	le32(mod, 0x30000);
	le32(mod + 4, 0x31000);
	off = mb2_tag(off, 3, 12, mod, 4);
	le32(mod, 0x30000);
	le32(mod + 4, 0x30000);
	off = mb2_tag(off, 3, 16, mod, 8);
	le32(mod, 0x33000);
	le32(mod + 4, 0x32000);
	off = mb2_tag(off, 3, 16, mod, 8);
	off = mb2_mmap(off);
	mb2_total(off);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, 1);
	assert_int_equal(res.nloader, 1);
	assert_true(loader_has(&res, 0x2000, 0x2000 + off));
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, res.extended_region, &ri), 0);
	assert_int_equal(ri.nslots, 9);
	assert_true(res.place.end == PHYS);

	/* fewer than 8 bytes left after the last tag: the walk ends at total_size */
	phys_clear();
	off = mb2_mmap(8);
	mb2_total(off + 7);
	assert_int_equal(sh_mb2_parse_info(phys + 0x2000, off + 7, &map), SH_MM_OK);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.options, 0);
	assert_true(loader_has(&res, 0x2000, 0x2000 + off + 7));
	assert_true(res.have_extended && res.place.end == PHYS);

	/* a last tag whose padding would run past total_size: the walk stops there, and
	 * sh_mb2_parse_info names what is missing */
	phys_clear();
	mb2_tag(8, 1, 8 + 17, "slotheap.slots=11", 17);
	mb2_total(8 + 8 + 17);
	int want = sh_mb2_parse_info(phys + 0x2000, 8 + 8 + 17, &map);
	assert_int_equal(want, SH_MM_ENOMEMTAG);
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res), want);
	assert_int_equal(res.options, 1);
	assert_int_equal(res.extended_error, want);
	assert_true(loader_has(&res, 0x2000, 0x2000 + 8 + 8 + 17));

	/* malformed tags end the walk; the parser gives their reason */
	static const struct {
		uint32_t type, size;
		int rc;
	} bad[] = {
		{1, 4, SH_MM_ERECORD_SHORT},	      /* size below the tag header */
		{1, 0x100, SH_MM_ERECORD_PAST_TABLE}, /* runs past total_size */
		{0, 8, SH_MM_ENOMEMTAG},	      /* the end tag before any map */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		phys_clear();
		off = mb2_tag(8, bad[k].type, bad[k].size, NULL, 0);
		off = mb2_mmap(16);
		mb2_total(off);
		assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 0x2000, &cfg, &map, &res),
				 bad[k].rc);
		assert_int_equal(res.extended_error, bad[k].rc);
		assert_int_equal(res.options, 0);
		assert_true(loader_has(&res, 0x2000, 0x2000 + off));
	}

	/* an information block the translation refuses at its header: SH_MM_EADDRESS, and a
	 * static region is still built */
	static uint8_t stat[16384] __attribute__((aligned(16)));
	cfg.static_base = stat;
	cfg.static_size = sizeof(stat);
	outside = 0;
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, PHYS - 4, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_int_equal(outside, 1);
	assert_true(res.have_static);
	assert_no_placement(&res);
	assert_true(res.limit == 0); /* no placement was tried */
	assert_int_equal(res.nloader, 0);

	/* identity translation refuses a block past the end of the address space */
	cfg.phys_to_ptr = NULL;
	assert_int_equal(sh_boot_multiboot2(&h, SH_MB2_MAGIC, UINT64_MAX - 3, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_true(res.have_static);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);
}

/* Identity translation without a static region: the heap lands in host memory given as
 * RAM, translated by identity; too large a heap is SH_MM_ENOFIT. */
static void test_identity_no_static(void **state)
{
	static uint8_t ram[64 * 1024] __attribute__((aligned(4096)));
	uint64_t a = (uint64_t)(uintptr_t)ram;
	struct sh_mem_range r = {a, a + sizeof(ram), SH_MEM_RAM};
	struct sh_memmap m = {&r, 1, 1, 1};
	struct sh_boot_config cfg = {0};
	struct sh_boot_result res;
	(void)state;

	cfg.heap_size = 16384;
	cfg.nslots = 8;
	cfg.limit = SH_MEM_TOP;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_false(res.have_static);
	assert_true(res.have_extended);
	assert_true(res.place.end == a + sizeof(ram));
	/* the limit asked for, clipped to what a pointer reaches (4 GiB on a 32-bit host) */
	assert_true(
		res.limit ==
		((uint64_t)UINTPTR_MAX == UINT64_MAX ? SH_MEM_TOP : (uint64_t)UINTPTR_MAX + 1));
	void *p = sh_malloc(&h, 1000);
	assert_non_null(p);
	assert_true((uintptr_t)p >= (uintptr_t)ram &&
		    (uintptr_t)p < (uintptr_t)ram + sizeof(ram));
	assert_int_equal(sh_check(&h, NULL), 0);

	cfg.heap_size = sizeof(ram) * 2;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ENOFIT);
	assert_no_placement(&res);
	assert_int_equal(res.extended_error, SH_MM_ENOFIT);
}

/* coreboot: a table found in place at 0x500 (no forward) is kept clear once; a table without RAM
 * gives SH_MM_ENORAM with the table still kept clear; tables_end 0 means 4 GiB, read
 * through the hook; identity translation with too small a range is refused before any
 * read. */
static void test_coreboot_edges(void **state)
{
	struct ent ram[] = {{0x2000, PHYS - 0x2000, 1}, {0, 0x1000, 16}};
	struct ent none[] = {{0x2000, PHYS - 0x2000, 2}};
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_memmap map;
	(void)state;

	config(&cfg);
	cfg.tables_end = PHYS;
	sh_memmap_init(&map, ranges, 32);

	phys_clear();
	size_t len = cb_table(phys + 0x500, ram, 2);
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_OK);
	assert_int_equal(res.nloader, 1);
	assert_true(loader_has(&res, 0x500, 0x500 + len));
	assert_true(res.have_extended);
	assert_true(res.place.end == PHYS);
	assert_false(overlaps(&res.place, 0x500, 0x500 + len));

	phys_clear();
	len = cb_table(phys + 0x500, none, 1);
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_ENORAM);
	assert_int_equal(res.extended_error, SH_MM_ENORAM);
	assert_false(res.have_extended);
	assert_int_equal(res.nloader, 1);
	assert_true(loader_has(&res, 0x500, 0x500 + len));

	cfg.tables_end = 0;
	outside = 0;
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_EADDRESS);
	assert_int_equal(outside, 1);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);

	cfg.phys_to_ptr = NULL;
	cfg.tables_end = 16 + SH_CB_HEADER_BYTES;
	assert_int_equal(sh_boot_coreboot(&h, &cfg, &map, &res), SH_MM_EINVAL);
}

/* Option strings: G suffix, trailing separators, a hex digit below 'A'. */
static void test_options_edges(void **state)
{
	struct sh_boot_config cfg;
	(void)state;

	memset(&cfg, 0, sizeof(cfg));
	const char *s = "slotheap.size=1G slotheap.slots=0xF \t";
	assert_int_equal(sh_boot_options(s, strlen(s), &cfg), 2);
	assert_true(cfg.heap_size == GiB);
	assert_int_equal(cfg.nslots, 15);
	s = "slotheap.size=2g";
	assert_int_equal(sh_boot_options(s, strlen(s), &cfg), 1);
	assert_true(cfg.heap_size == 2 * GiB);
	s = "slotheap.size=0x1:";
	assert_int_equal(sh_boot_options(s, strlen(s), &cfg), -1);
	assert_true(cfg.heap_size == 2 * GiB);
}

/* sh_place's argument checks: NULL map or result, a map with entries and no storage; a
 * map with no entries and no storage has nothing to place in. */
static void test_place_args(void **state)
{
	struct sh_mem_range r = {0x1000, 0x20000, SH_MEM_RAM};
	struct sh_memmap m = {&r, 1, 1, 1};
	struct sh_memmap nostore = {NULL, 1, 1, 1};
	struct sh_memmap empty = {NULL, 0, 0, 0};
	struct sh_placement out;
	(void)state;

	assert_int_equal(sh_place(NULL, 4096, SH_MEM_TOP, NULL, 0, &out), SH_MM_EINVAL);
	assert_int_equal(sh_place(&m, 4096, SH_MEM_TOP, NULL, 0, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_place(&nostore, 4096, SH_MEM_TOP, NULL, 0, &out), SH_MM_EINVAL);
	assert_int_equal(sh_place(&empty, 4096, SH_MEM_TOP, NULL, 0, &out), SH_MM_ENOFIT);
	assert_int_equal(sh_place(&m, 4096, SH_MEM_TOP, NULL, 0, &out), SH_MM_OK);
	assert_true(out.start == 0x1f000 && out.end == 0x20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_child_map),
		cmocka_unit_test(test_mb1_loader_data),
		cmocka_unit_test(test_mb1_cmdline_limits),
		cmocka_unit_test(test_mb2_tags),
		cmocka_unit_test(test_identity_no_static),
		cmocka_unit_test(test_coreboot_edges),
		cmocka_unit_test(test_options_edges),
		cmocka_unit_test(test_place_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
