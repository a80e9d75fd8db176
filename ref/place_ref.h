/* SPDX-License-Identifier: MIT */
/*
 * The reference model of heap placement (docs/DESIGN.md, "Memory tables and heap placement"),
 * written to be checked by reading. It shares no code with core/: it works on the RAW
 * entries of a table (as sh_memmap_raw lists them, in any order, overlapping), not on the
 * normalized map, and decides every question byte by byte from the definitions:
 *
 *   - the type at an address is the highest (type, with unknown types counted as reserved)
 *     of the entries covering it, 0 if none does; an address is RAM when that type is 1;
 *   - a footprint of size bytes (rounded up to 4 KiB) may sit at a 4 KiB aligned address a
 *     when every byte of [a, a + size) is RAM, none is inside an exclusion, and
 *     a + size <= limit;
 *   - the answer is the highest such a.
 *
 * Types and codes come from the public header core/memmap.h.
 */
#ifndef PLACE_REF_H
#define PLACE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

/* The type of memory at addr by the definition above. O(n). */
uint32_t shref_mem_type_at(const struct sh_mem_range *raw, size_t n, uint64_t addr);

/*
 * Highest allowed footprint start, trying candidate footprint ends from the top: every
 * boundary of the entries and exclusions and the limit, aligned down to 4 KiB (the highest
 * allowed footprint always ends at one of them). Returns 0 with *start set, SH_MM_ESIZE
 * (size 0 or rounding overflows) or SH_MM_ENOFIT. O((n + e)^2 * n).
 */
int shref_place(const struct sh_mem_range *raw, size_t n, uint64_t size, uint64_t limit,
		const struct sh_mem_range *excl, size_t nexcl, uint64_t *start);

/*
 * The same answer by trying every 4 KiB aligned start from the top of
 * min(limit, highest entry end) down to 0: the plainest possible search, for small maps in
 * tests (cost proportional to the address range / 4 KiB). Same returns.
 */
int shref_place_scan(const struct sh_mem_range *raw, size_t n, uint64_t size, uint64_t limit,
		     const struct sh_mem_range *excl, size_t nexcl, uint64_t *start);

#endif /* PLACE_REF_H */
