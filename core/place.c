/* SPDX-License-Identifier: MIT */
/*
 * Heap placement: the footprint goes at the top of the highest RAM range below the limit
 * that can hold it, with the exclusions cut out.
 *
 * RAM ranges are visited from the top of the map down. Inside one range (clipped at the
 * limit) the free pieces left by the exclusions are visited from the top down too:
 *
 *   ram_start                                                   ram_end (or limit)
 *   |======= piece =======|## excl ##|===== piece =====|#### excl ####|
 *                                     ^bot              ^top
 *
 * top is lowered past every exclusion covering the byte just below it; bot is the highest
 * exclusion end below top (or ram_start). The first piece with align_up(bot) + size <=
 * align_down(top) wins. Cost: O(n * e^2) for n ranges and e exclusions, no memory.
 */
#include "mm_internal.h"

#define ALIGN_MASK ((uint64_t)SH_PLACE_ALIGN - 1)

_Static_assert((SH_PLACE_ALIGN & (SH_PLACE_ALIGN - 1)) == 0, "SH_PLACE_ALIGN is a power of 2");

/* Highest free top <= hi not covered by an exclusion, lowered past covering exclusions. The
 * exclusion lists are walked as one set. */
static uint64_t piece_top(uint64_t lo, uint64_t hi, const struct mm_excl *ex, size_t nex)
{
	bool moved = true;

	while (moved && hi > lo) {
		moved = false;
		for (size_t l = 0; l < nex; l++) {
			for (size_t i = 0; i < ex[l].n; i++) {
				const struct sh_mem_range *e = &ex[l].r[i];
				if (e->start < hi && e->end >= hi && e->end > e->start) {
					hi = e->start;
					moved = true;
				}
			}
		}
	}
	return hi > lo ? hi : lo;
}

/* Bottom of the free piece ending at top (top - 1 is not excluded). */
static uint64_t piece_bot(uint64_t lo, uint64_t top, const struct mm_excl *ex, size_t nex)
{
	for (size_t l = 0; l < nex; l++) {
		for (size_t i = 0; i < ex[l].n; i++) {
			const struct sh_mem_range *e = &ex[l].r[i];
			if (e->end > lo && e->end < top && e->end > e->start)
				lo = e->end;
		}
	}
	return lo;
}

int sh_place(const struct sh_memmap *m, uint64_t size, uint64_t limit,
	     const struct sh_mem_range *excl, size_t nexcl, struct sh_placement *out)
{
	struct mm_excl ex = {excl, nexcl};

	if (excl == NULL && nexcl > 0)
		return SH_MM_EINVAL;
	return mm_place(m, size, limit, &ex, 1, out);
}

int mm_place(const struct sh_memmap *m, uint64_t size, uint64_t limit, const struct mm_excl *ex,
	     size_t nex, struct sh_placement *out)
{
	size_t i;

	if (m == NULL || out == NULL || (m->range == NULL && m->n > 0))
		return SH_MM_EINVAL;
	if (size == 0 || size > UINT64_MAX - ALIGN_MASK)
		return SH_MM_ESIZE;
	size = (size + ALIGN_MASK) & ~ALIGN_MASK;

	for (i = m->n; i-- > 0;) {
		const struct sh_mem_range *r = &m->range[i];
		uint64_t lo = r->start, hi = r->end < limit ? r->end : limit;

		if (r->type != SH_MEM_RAM || lo >= hi)
			continue;
		while (hi > lo) {
			uint64_t top = piece_top(lo, hi, ex, nex);
			if (top <= lo)
				break;
			uint64_t bot = piece_bot(lo, top, ex, nex);
			uint64_t atop = top & ~ALIGN_MASK;
			if (bot <= UINT64_MAX - ALIGN_MASK && atop >= size &&
			    atop - size >= ((bot + ALIGN_MASK) & ~ALIGN_MASK)) {
				out->start = atop - size;
				out->end = atop;
				out->ram_start = r->start;
				out->ram_end = r->end < limit ? r->end : limit;
				out->hole_start = bot;
				out->hole_end = top;
				return SH_MM_OK;
			}
			hi = bot;
		}
	}
	return SH_MM_ENOFIT;
}
