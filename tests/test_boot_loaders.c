/* SPDX-License-Identifier: MIT */
/*
 * The per-loader boot calls (sh_boot_multiboot1, sh_boot_multiboot2, sh_boot_coreboot) and
 * the result contract of sh_boot_init: loader data kept clear, the caller's exclusions and
 * the static region kept clear together, options from the command line, one code family.
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
#include "place_ref.h"

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

/* A multiboot v1 boot as QEMU hands it over: info, command line, mmap, two modules. */
static uint32_t put_mb1(uint32_t flags, const char *cmdline)
{
	uint8_t *info = phys + 0x1000;

	phys_clear();
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
	/* a module count whose list runs past memory: refused, not walked */
	info = put_mb1(SH_MB1_FLAG_MODS | SH_MB1_FLAG_MMAP, "");
	le32(phys + info + 20, 0x10000000);
	outside = 0;
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_EADDRESS);
	assert_int_equal(outside, 1);
	assert_true(res.have_static);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);
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

/* Whether some loader entry of res covers [start, end). */
static bool loader_covers(const struct sh_boot_result *res, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < res->nloader; i++)
		if (res->loader[i].start <= start && res->loader[i].end >= end)
			return true;
	return false;
}

/* More modules than SH_BOOT_MAX_LOADER entries: the last entry spans the rest, whichever
 * order they come in (here from the highest address down, so the last entry must grow
 * downwards). */
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
		le32(phys + 0x1400 + 16 * i, 0x30000 + 0x800 * (n - 1 - i));
		le32(phys + 0x1404 + 16 * i, 0x30000 + 0x800 * (n - 1 - i) + 0x100);
	}
	assert_int_equal(sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res),
			 SH_MM_OK);
	assert_int_equal(res.nloader, SH_BOOT_MAX_LOADER);
	for (uint32_t i = 0; i < n; i++)
		assert_true(
			loader_covers(&res, 0x30000 + 0x800 * i, 0x30000 + 0x800 * i + 0x100));
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

	phys_clear();
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
	/* basic memory information (tag 4) as GRUB gives it: KiB below 1 MiB and above it, not
	 * addresses of anything to keep clear */
	le32(p + off, 4);
	le32(p + off + 4, 16);
	le32(p + off + 8, 639);
	le32(p + off + 12, 0xff00);
	off += 16;
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

	phys_clear();
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
	phys_clear();
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

/*
 * Generated boots against the reference placement model (ref/place_ref.h): random memory
 * maps, information blocks, command lines and modules at random places in phys[]; the
 * loader's data the test itself laid out, the caller's exclusion and the raw map entries go
 * to shref_place, whose answer the boot call must give (or its reason for no fit). Fixed
 * seed; the failing iteration and seed are printed.
 */
struct layout {
	uint64_t seed;
	uint32_t next; /* next free byte for loader structures */
	struct sh_mem_range raw[8];
	size_t nraw;
	struct sh_mem_range loader[16];
	size_t nloader;
	uint64_t heap;
};

static uint32_t lay_take(struct layout *l, uint32_t len, uint32_t align)
{
	uint32_t at = (l->next + (uint32_t)rnd_below(&l->seed, 512) + align - 1) & ~(align - 1);
	l->next = at + len;
	assert_true(l->next <= PHYS);
	return at;
}

static void lay_loader(struct layout *l, uint64_t start, uint64_t len)
{
	if (len == 0)
		return;
	l->loader[l->nloader].start = start;
	l->loader[l->nloader].end = start + len;
	l->loader[l->nloader++].type = SH_MEM_RESERVED;
}

/* Random raw entries: mostly RAM, some reserved and ACPI, overlapping at will. */
static void lay_map(struct layout *l)
{
	static const uint32_t types[] = {1, 1, 1, 2, 3, 7};
	l->nraw = 1 + (size_t)rnd_below(&l->seed, 5);
	for (size_t i = 0; i < l->nraw; i++) {
		uint64_t a = rnd_below(&l->seed, PHYS), b = rnd_below(&l->seed, PHYS + 1);
		l->raw[i].start = a < b ? a : b;
		l->raw[i].end = a < b ? b : a + 1;
		l->raw[i].type = types[rnd_below(&l->seed, 6)];
	}
}

/* A command line, sometimes with a size option; returns its length. */
static size_t lay_cmdline(struct layout *l, char *out)
{
	size_t n = 0;
	if (rnd_below(&l->seed, 2)) {
		l->heap = 4096 * (1 + rnd_below(&l->seed, 16));
		n = (size_t)sprintf(out, "quiet slotheap.size=%uK", (unsigned)(l->heap >> 10));
	} else {
		n = (size_t)sprintf(out, "console=ttyS0");
	}
	return n;
}

static void check_against_model(struct layout *l, const struct sh_mem_range *image, int rc,
				const struct sh_boot_result *res, unsigned iter)
{
	struct sh_mem_range ex[17];
	uint64_t want_start = 0;
	size_t nex = 0;

	ex[nex++] = *image;
	for (size_t i = 0; i < l->nloader; i++)
		ex[nex++] = l->loader[i];
	int want =
		shref_place(l->raw, l->nraw, l->heap, SH_PLACE_LIMIT_4G, ex, nex, &want_start);
	/* the loader ranges the call kept clear are the ones laid out */
	if (res->nloader != l->nloader)
		fail_msg("iteration %u: %zu loader ranges kept clear, %zu laid out", iter,
			 res->nloader, l->nloader);
	for (size_t i = 0; i < l->nloader; i++)
		if (!loader_has(res, l->loader[i].start, l->loader[i].end))
			fail_msg("iteration %u: loader range [%#llx, %#llx) not kept clear",
				 iter, (unsigned long long)l->loader[i].start,
				 (unsigned long long)l->loader[i].end);
	if (want == SH_MM_OK) {
		if (rc != SH_MM_OK || !res->have_extended || res->place.start != want_start)
			fail_msg("iteration %u: model places %llu bytes at %#llx; boot call: "
				 "%s, "
				 "at %#llx",
				 iter, (unsigned long long)l->heap,
				 (unsigned long long)want_start, sh_strerror(rc),
				 (unsigned long long)res->place.start);
	} else if (rc != want || res->have_extended || res->extended_error != want) {
		fail_msg("iteration %u: model %s, boot call %s", iter, sh_strerror(want),
			 sh_strerror(rc));
	}
}

static void test_mb1_generated(void **state)
{
	(void)state;
	for (unsigned iter = 0; iter < 3000; iter++) {
		struct layout l = {.seed = 0x5eed0000u + iter, .heap = 8192};
		struct sh_mem_range image;
		struct sh_boot_config cfg;
		struct sh_boot_result res;
		struct sh_memmap map;
		char cl[64];

		phys_clear();
		l.next = (uint32_t)rnd_below(&l.seed, PHYS / 2);
		lay_map(&l);
		uint32_t info = lay_take(&l, SH_MB1_INFO_BYTES, 4);
		uint32_t flags = SH_MB1_FLAG_MMAP;
		lay_loader(&l, info, SH_MB1_INFO_BYTES);
		if (rnd_below(&l.seed, 2)) {
			size_t n = lay_cmdline(&l, cl);
			uint32_t at = lay_take(&l, (uint32_t)n + 1, 1);
			memcpy(phys + at, cl, n + 1);
			le32(phys + info + 16, at);
			flags |= SH_MB1_FLAG_CMDLINE;
			lay_loader(&l, at, n + 1);
		}
		uint32_t nmods = (uint32_t)rnd_below(&l.seed, 4);
		if (nmods) {
			uint32_t at = lay_take(&l, 16 * nmods, 4);
			le32(phys + info + 20, nmods);
			le32(phys + info + 24, at);
			flags |= SH_MB1_FLAG_MODS;
			lay_loader(&l, at, 16 * nmods);
			for (uint32_t i = 0; i < nmods; i++) {
				uint32_t ms = (uint32_t)rnd_below(&l.seed, PHYS);
				uint32_t ml = 1 + (uint32_t)rnd_below(&l.seed, 0x4000);
				le32(phys + at + 16 * i, ms);
				le32(phys + at + 16 * i + 4, ms + ml);
				lay_loader(&l, ms, ml);
			}
		}
		uint32_t mm = lay_take(&l, 24 * (uint32_t)l.nraw, 4);
		for (size_t i = 0; i < l.nraw; i++) {
			uint8_t *e = phys + mm + 24 * i;
			le32(e, 20);
			le64(e + 4, l.raw[i].start);
			le64(e + 12, l.raw[i].end - l.raw[i].start);
			le32(e + 20, l.raw[i].type);
		}
		le32(phys + info + 44, 24 * (uint32_t)l.nraw);
		le32(phys + info + 48, mm);
		lay_loader(&l, mm, 24 * l.nraw);
		le32(phys + info, flags);

		uint64_t ia = rnd_below(&l.seed, PHYS - 0x2000);
		image.start = ia;
		image.end = ia + 1 + rnd_below(&l.seed, 0x2000);
		image.type = SH_MEM_RESERVED;
		config(&cfg, &image);
		cfg.heap_size = 8192;
		sh_memmap_init(&map, ranges, 32);
		int rc = sh_boot_multiboot1(&h, SH_MB1_MAGIC, info, &cfg, &map, &res);
		if (rc == SH_MM_ENORAM)
			continue;
		check_against_model(&l, &image, rc, &res, iter);
		if (res.have_extended)
			assert_int_equal(sh_check(&h, NULL), 0);
	}
}

static void test_mb2_generated(void **state)
{
	(void)state;
	for (unsigned iter = 0; iter < 3000; iter++) {
		struct layout l = {.seed = 0xb00f0000u + iter, .heap = 8192};
		struct sh_boot_config cfg;
		struct sh_boot_result res;
		struct sh_memmap map;
		struct sh_mem_range image = {0, 0, SH_MEM_RESERVED};
		char cl[64];

		phys_clear();
		l.next = (uint32_t)rnd_below(&l.seed, PHYS / 2);
		lay_map(&l);
		uint32_t info = lay_take(&l, 1024, 8);
		uint8_t *p = phys + info;
		uint32_t off = 8;
		if (rnd_below(&l.seed, 2)) {
			size_t n = lay_cmdline(&l, cl);
			le32(p + off, 1);
			le32(p + off + 4, 8 + (uint32_t)n + 1);
			memcpy(p + off + 8, cl, n + 1);
			off += (8 + (uint32_t)n + 1 + 7) & ~7u;
		}
		uint32_t nmods = (uint32_t)rnd_below(&l.seed, 4);
		for (uint32_t i = 0; i < nmods; i++) {
			uint32_t ms = (uint32_t)rnd_below(&l.seed, PHYS);
			uint32_t ml = 1 + (uint32_t)rnd_below(&l.seed, 0x4000);
			le32(p + off, 3);
			le32(p + off + 4, 17);
			le32(p + off + 8, ms);
			le32(p + off + 12, ms + ml);
			off += 24;
			lay_loader(&l, ms, ml);
		}
		le32(p + off, 6);
		le32(p + off + 4, 16 + 24 * (uint32_t)l.nraw);
		le32(p + off + 8, 24);
		for (size_t i = 0; i < l.nraw; i++) {
			uint8_t *e = p + off + 16 + 24 * i;
			le64(e, l.raw[i].start);
			le64(e + 8, l.raw[i].end - l.raw[i].start);
			le32(e + 16, l.raw[i].type);
		}
		off += 16 + 24 * (uint32_t)l.nraw;
		le32(p + off, 0);
		le32(p + off + 4, 8);
		off += 8;
		le32(p, off);
		/* the block first, as sh_boot_multiboot2 lists it */
		memmove(&l.loader[1], &l.loader[0], l.nloader * sizeof(l.loader[0]));
		l.nloader++;
		l.loader[0].start = info;
		l.loader[0].end = info + off;
		l.loader[0].type = SH_MEM_RESERVED;

		config(&cfg, &image);
		cfg.nexcl = 0;
		cfg.heap_size = 8192;
		sh_memmap_init(&map, ranges, 32);
		int rc = sh_boot_multiboot2(&h, SH_MB2_MAGIC, info, &cfg, &map, &res);
		if (rc == SH_MM_ENORAM)
			continue;
		check_against_model(&l, &image, rc, &res, iter);
		if (res.have_extended)
			assert_int_equal(sh_check(&h, NULL), 0);
	}
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
		cmocka_unit_test(test_mb1_generated),
		cmocka_unit_test(test_mb2_generated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
