/* SPDX-License-Identifier: MIT */
/*
 * Fake physical memory for the boot-call tests (tests/test_boot_loaders.c,
 * tests/test_cov_boot.c): physical [0, PHYS) maps onto the host buffer phys[] through a
 * translation hook that refuses, and counts in `outside`, anything outside it and, when
 * `split` is nonzero, any range that straddles split (as a hook mapping memory in separate
 * windows would). A read the boot calls should not make thus fails loudly. Static, so each
 * test program has its own copy; include it once per program.
 */
#ifndef SH_BOOTPHYS_H
#define SH_BOOTPHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "memmap.h"
#include "memmap_util.h"
#include "testutil.h"

#define PHYS 0x40000u
static uint8_t phys[PHYS] __attribute__((aligned(4096)));
static unsigned outside; /* translations refused */
static uint64_t split;	 /* nonzero: ranges straddling this address are refused */

/* Zeroes phys[] for the next boot. A heap an earlier boot placed there left its metadata and
 * free blocks poisoned (ASan builds; core/harden.h): the memory is ours again. */
static inline void phys_clear(void)
{
	th_unpoison(phys, sizeof(phys));
	memset(phys, 0, sizeof(phys));
}

static inline void *to_phys(void *ctx, uint64_t a, uint64_t size)
{
	(void)ctx;
	if (size == 0 || a >= PHYS || size > PHYS - a ||
	    (split != 0 && a < split && a + size > split)) {
		outside++;
		return NULL;
	}
	return phys + a;
}

/* RAM [0x1000, PHYS) as a multiboot v1 mmap buffer at phys+at; returns its length. */
static inline uint32_t put_mb1_mmap(uint32_t at)
{
	struct sh_mem_range ram = {0x1000, PHYS, SH_MEM_RAM};
	struct sh_memmap m = {&ram, 1, 1, 1};
	size_t len;

	assert_int_equal(sh_memmap_emit(SH_FMT_MB1, &m, phys + at, PHYS - at, &len), SH_MM_OK);
	return (uint32_t)len;
}

/* Whether the result lists [start, end) among the loader's own data. */
static inline bool loader_has(const struct sh_boot_result *res, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < res->nloader; i++)
		if (res->loader[i].start == start && res->loader[i].end == end)
			return true;
	return false;
}

#endif /* SH_BOOTPHYS_H */
