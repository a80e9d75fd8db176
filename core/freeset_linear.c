/* SPDX-License-Identifier: MIT */
/*
 * SH_LINEAR: the original design's free index, a list of free blocks sorted by address
 * (link next, prev previous; this build's slot keeps the back link, 16 bytes). Every search and insertion walks the list, and so does
 * free to find the free neighbours it merges with: O(n) with n free blocks. Kept as a build
 * option so benchmarks can show the difference and the fuzzers can hold both builds to the
 * same policy.
 */

#include "sh_internal.h"

#if SH_LINEAR

#define NEXT(r, i) (sh_slot_at(r, i)->link)
#define PREV(r, i) (sh_slot_at(r, i)->prev)

/* The walk every search but first fit makes: the first free block at or above granule offset
 * off (SH_NIL if none), and through *prev the one before it (SH_NIL if none). */
static uint32_t first_at_or_above(const struct sh_region *r, uint32_t off, uint32_t *prev)
{
	uint32_t i = r->free_root;

	*prev = SH_NIL;
	while (i != SH_NIL && sh_slot_at(r, i)->off < off) {
		*prev = i;
		i = NEXT(r, i);
	}
	return i;
}

void sh_fs_insert(struct sh_region *r, uint32_t i)
{
	uint32_t prev, next = first_at_or_above(r, sh_slot_off(sh_slot_at(r, i)), &prev);

	sh_slot_set_list(sh_slot_at(r, i), SH_LIST_FREE);
	NEXT(r, i) = next;
	PREV(r, i) = prev;
	if (next != SH_NIL)
		PREV(r, next) = i;
	if (prev != SH_NIL)
		NEXT(r, prev) = i;
	else
		r->free_root = i;
}

void sh_fs_remove(struct sh_region *r, uint32_t i)
{
	uint32_t prev = PREV(r, i), next = NEXT(r, i);

	if (prev != SH_NIL)
		NEXT(r, prev) = next;
	else
		r->free_root = next;
	if (next != SH_NIL)
		PREV(r, next) = prev;
	PREV(r, i) = SH_NIL;
}

void sh_fs_update(struct sh_region *r, uint32_t i, uint32_t old_off, uint32_t old_size)
{
	(void)r;
	(void)i;
	(void)old_off;
	(void)old_size;
}

size_t sh_fs_bytes(uint32_t ngran, uint32_t nslots)
{
	(void)ngran;
	(void)nslots;
	return 0;
}

void sh_fs_init(struct sh_region *r, void *mem, uint32_t sized)
{
	(void)mem;
	(void)sized;
	r->free_root = SH_NIL;
}

uint32_t sh_fs_scan(struct sh_region *r, uint32_t gran, uint64_t step, uint64_t first,
		    sh_fs_accept accept, void *ctx)
{
	uint32_t i = r->free_root;

	(void)step;
	(void)first;

	while (i != SH_NIL && (sh_slot_at(r, i)->size < gran || !accept(r, i, ctx)))
		i = NEXT(r, i);
	return i;
}

uint32_t sh_fs_first_fit(struct sh_region *r, uint32_t gran)
{
	uint32_t i = r->free_root;

	while (i != SH_NIL && sh_slot_at(r, i)->size < gran)
		i = NEXT(r, i);
	return i;
}

void sh_fs_neighbours(struct sh_region *r, uint32_t off, uint32_t end, uint32_t *lo,
		      uint32_t *hi)
{
	uint32_t prev, i = first_at_or_above(r, off, &prev);

	*lo = prev != SH_NIL && sh_end_of(sh_slot_at(r, prev)) == off ? prev : SH_NIL;
	*hi = i != SH_NIL && sh_slot_at(r, i)->off == end ? i : SH_NIL;
}

uint32_t sh_fs_find(const struct sh_region *r, uint32_t off)
{
	uint32_t prev, i = first_at_or_above(r, off, &prev);

	return i != SH_NIL && sh_slot_at(r, i)->off == off ? i : SH_NIL;
}

uint32_t sh_fs_largest(const struct sh_region *r)
{
	uint32_t best = 0;

	for (uint32_t i = r->free_root; i != SH_NIL; i = NEXT(r, i))
		if (sh_slot_at(r, i)->size > best)
			best = sh_slot_at(r, i)->size;
	return best;
}

unsigned sh_fs_check(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
		     uint32_t *nodes)
{
	uint32_t prev = SH_NIL, n = 0;

	*nodes = 0;
	for (uint32_t i = r->free_root; i != SH_NIL; prev = i, i = NEXT(r, i)) {
		const char *what = NULL;
		if (i >= r->nslots)
			what = "free list link out of range";
		else if (++n > r->nslots)
			what = "free list has a cycle";
		else if (sh_slot_list(sh_slot_at(r, i)) != SH_LIST_FREE)
			what = "free list holds a slot that is not free";
		else if (PREV(r, i) != prev)
			what = "free list back link disagrees";
		else if (prev != SH_NIL && sh_slot_at(r, i)->off <= sh_slot_at(r, prev)->off)
			what = "free list out of address order";
		if (what) {
			uintptr_t a =
				i < r->nslots
					? r->arena + (uintptr_t)sh_slot_off(sh_slot_at(r, i)) *
							     SH_GRANULE
					: 0;
			sh_check_fail(rep, SH_I6_INDEX, ri, i, a, what);
			return 1;
		}
	}
	*nodes = n;
	return 0;
}

#endif /* SH_LINEAR */
