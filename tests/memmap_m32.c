/* SPDX-License-Identifier: MIT */
/*
 * Memory tables on a 32-bit target (built -m32 by mk/30-memmap.mk, run by check-memmap):
 * 64-bit physical addresses survive parsing and writing; with identity translation the boot
 * helper clips placement at what a pointer reaches, so a raised limit falls back to RAM
 * below 4 GiB (a map whose low RAM is a buffer of this program, so the heap built there is
 * real); with a hook, a footprint size_t cannot describe is SH_MM_ESIZE, never truncated; a
 * heap that ends exactly at 4 GiB works (its low end is mapped first).
 * Plain C: it runs wherever gcc -m32 programs run, with or without a 32-bit cmocka.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "memmap.h"

static unsigned failed, passed;

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (cond) {                                                                    \
			passed++;                                                              \
		} else {                                                                       \
			failed++;                                                              \
			printf("memmap_m32: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
		}                                                                              \
	} while (0)

#define GiB (UINT64_C(1) << 30)

static unsigned refused;

/* A translation that maps nothing (and counts how often it was asked). */
static void *refuse(void *ctx, uint64_t phys, uint64_t size)
{
	(void)ctx;
	(void)phys;
	(void)size;
	refused++;
	return NULL;
}

int main(void)
{
	static const struct sh_mem_range raw[] = {
		{0x100000, 0x200000, SH_MEM_RAM},
		{4 * GiB, 12 * GiB, SH_MEM_RAM},
		{UINT64_C(0xfffffffffff00000), SH_MEM_TOP, SH_MEM_RESERVED},
	};
	static struct sh_mem_range r[16], b[16];
	static uint8_t table[8192];
	static struct sh_heap h;
	struct sh_memmap m, back;
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	size_t len;

	CHECK(sizeof(void *) == 4);
	sh_memmap_init(&m, r, 16);
	CHECK(sh_memmap_normalize(raw, 3, &m) == SH_MM_OK);
	CHECK(m.n == 3 && r[1].end == 12 * GiB && r[2].end == SH_MEM_TOP);

	/* 64-bit fields through every writer and parser */
	static const enum sh_mm_format fmts[] = {SH_FMT_CBTABLE, SH_FMT_CBIMAGE, SH_FMT_MB2INFO,
						 SH_FMT_MB1,	 SH_FMT_MB2,	 SH_FMT_E820,
						 SH_FMT_E820_24};
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		CHECK(sh_memmap_emit(fmts[f], &m, table, sizeof(table), &len) == SH_MM_OK);
		sh_memmap_init(&back, b, 16);
		CHECK(sh_memmap_parse(fmts[f], table, len, &back) == SH_MM_OK);
		CHECK(back.n == m.n && memcmp(&b[1].start, &r[1].start, 8) == 0 &&
		      b[1].end == r[1].end && b[2].start == r[2].start);
	}

	/* sh_place alone knows no pointer width: with no limit it picks RAM above 4 GiB */
	struct sh_placement pl;
	CHECK(sh_place(&m, 1u << 20, SH_MEM_TOP, NULL, 0, &pl) == SH_MM_OK);
	CHECK(pl.end == 12 * GiB);
	/* the boot helper with identity translation clips the limit at 4 GiB and falls back to
	 * the highest RAM a pointer reaches: here a buffer of this program */
	static uint8_t low[3u << 20];
	uint64_t lo = ((uint64_t)(uintptr_t)low + 4095) & ~UINT64_C(4095);
	const struct sh_mem_range reach[] = {
		{lo, lo + (2u << 20), SH_MEM_RAM},
		{4 * GiB, 12 * GiB, SH_MEM_RAM},
	};
	static struct sh_mem_range rr[8];
	struct sh_memmap mr;
	sh_memmap_init(&mr, rr, 8);
	CHECK(sh_memmap_normalize(reach, 2, &mr) == SH_MM_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.heap_size = 1u << 20;
	cfg.nslots = 64;
	cfg.limit = SH_MEM_TOP;
	CHECK(sh_boot_init(&h, &mr, &cfg, &res) == SH_MM_OK);
	CHECK(res.have_extended && res.limit == 4 * GiB);
	CHECK(res.place.start == lo + (1u << 20) && res.place.end == lo + (2u << 20));
	CHECK(sh_malloc(&h, 1000) != NULL && sh_check(&h, NULL) == 0);
	/* nothing below 4 GiB holds 5 GiB: no fit, rather than a truncated size */
	cfg.heap_size = 5 * GiB;
	CHECK(sh_boot_init(&h, &mr, &cfg, &res) == SH_MM_ENOFIT);
	CHECK(!res.have_extended && res.extended_error == SH_MM_ENOFIT);
	/* identity translation refuses what a pointer cannot hold: an information block at
	 * 5 GiB is SH_MM_EADDRESS, never read through a truncated pointer */
	cfg.heap_size = 1u << 20;
	sh_memmap_init(&back, b, 16);
	CHECK(sh_boot_multiboot2(&h, SH_MB2_MAGIC, 5 * GiB, &cfg, &back, &res) ==
	      SH_MM_EADDRESS);
	CHECK(!res.have_extended && res.extended_error == SH_MM_EADDRESS);
	cfg.heap_size = 5 * GiB;
	/* with a hook the limit is the caller's: a footprint larger than size_t can describe
	 * is SH_MM_ESIZE before the hook is asked */
	cfg.phys_to_ptr = refuse;
	CHECK(sh_boot_init(&h, &m, &cfg, &res) == SH_MM_ESIZE);
	CHECK(res.extended_error == SH_MM_ESIZE && refused == 0);
	cfg.heap_size = 1u << 20;
	CHECK(sh_boot_init(&h, &m, &cfg, &res) == SH_MM_EADDRESS);
	CHECK(refused == 1 && res.place.start == 12 * GiB - (1u << 20));
	/* with the default 4 GiB limit the low range is used: 1 MiB at [1 MiB, 2 MiB), and
	 * that is where the identity mapping would put it; only ask for the placement */
	CHECK(sh_place(&m, 1u << 20, SH_PLACE_LIMIT_4G, NULL, 0, &pl) == SH_MM_OK);
	CHECK(pl.start == 0x100000);
	/* a range straddling 4 GiB: the 4 GiB limit clips it below the 32-bit top */
	static const struct sh_mem_range straddle[] = {{3 * GiB, 5 * GiB, SH_MEM_RAM}};
	sh_memmap_init(&m, r, 16);
	CHECK(sh_memmap_normalize(straddle, 1, &m) == SH_MM_OK);
	CHECK(sh_place(&m, 1u << 20, SH_PLACE_LIMIT_4G, NULL, 0, &pl) == SH_MM_OK);
	CHECK(pl.end == 4 * GiB);

	/* ... and the heap there ends exactly at the top of the 32-bit address space: the
	 * region is added and works. Its low end (the slots, the first blocks) is really mapped
	 * at the address placement chose; the rest up to 2^32 is never touched (a 32-bit process
	 * may map up to 0xffffe000, and its stack lives up there). */
	memset(&cfg, 0, sizeof(cfg));
	cfg.heap_size = 64u << 20;
	void *top_map = mmap((void *)(uintptr_t)0xfc000000u, 1u << 20, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(top_map == (void *)(uintptr_t)0xfc000000u);
	if (top_map == (void *)(uintptr_t)0xfc000000u) {
		struct sh_region_info ri;
		struct sh_check_report rep;
		CHECK(sh_boot_init(&h, &m, &cfg, &res) == SH_MM_OK);
		CHECK(res.have_extended && res.place.start == 4 * GiB - (64u << 20) &&
		      res.place.end == 4 * GiB);
		CHECK(sh_region_info(&h, res.extended_region, &ri) == 0);
		CHECK(ri.base == top_map && ri.size == 64u << 20);
		CHECK((uintptr_t)ri.arena + ri.arena_size == 0);
		unsigned char *p = sh_malloc(&h, 4096), *q = sh_malloc(&h, 100);
		CHECK(p != NULL && q == p + 4096);
		if (p != NULL && q == p + 4096) {
			memset(p, 0x5a, 4096 + 100);
			CHECK(sh_free(&h, p) == 0 && sh_free(&h, q) == 0);
		}
		CHECK(sh_check(&h, &rep) == 0);
		munmap(top_map, 1u << 20);
	} else {
		printf("memmap_m32: cannot map 1 MiB at 0xfc000000: the heap at the top of the "
		       "address space was not tried\n");
		if (top_map != MAP_FAILED)
			munmap(top_map, 1u << 20);
	}

	printf("memmap_m32: %u checks passed, %u failed\n", passed, failed);
	return failed != 0;
}
