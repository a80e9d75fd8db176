/* SPDX-License-Identifier: MIT */
/* Reference placement model: see place_ref.h. Obvious code, no cleverness. */
#include "place_ref.h"

#include <stdbool.h>

#define PAGE 4096u

static bool known_type(uint32_t t)
{
	return t == 1 || t == 2 || t == 3 || t == 4 || t == 5 || t == 16;
}

uint32_t shref_mem_type_at(const struct sh_mem_range *raw, size_t n, uint64_t addr)
{
	uint32_t best = 0;

	for (size_t i = 0; i < n; i++) {
		if (raw[i].start <= addr && addr < raw[i].end) {
			uint32_t t = known_type(raw[i].type) ? raw[i].type : 2;
			if (t > best)
				best = t;
		}
	}
	return best;
}

static bool overlaps(const struct sh_mem_range *r, uint64_t a, uint64_t b)
{
	return r->start < r->end && r->start < b && a < r->end;
}

/* Is every byte of [a, b) RAM, outside every exclusion? */
static bool all_ram(const struct sh_mem_range *raw, size_t n, const struct sh_mem_range *excl,
		    size_t nexcl, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < nexcl; i++) {
		if (overlaps(&excl[i], a, b))
			return false;
	}
	/* No byte may be covered by a non-RAM entry (it would win over RAM). */
	for (size_t i = 0; i < n; i++) {
		if (raw[i].type != 1 && overlaps(&raw[i], a, b))
			return false;
	}
	/* Every byte must be covered by some RAM entry: walk up through them. */
	uint64_t cur = a;
	while (cur < b) {
		uint64_t reach = cur;
		for (size_t i = 0; i < n; i++) {
			if (raw[i].type == 1 && raw[i].start <= cur && cur < raw[i].end &&
			    raw[i].end > reach)
				reach = raw[i].end;
		}
		if (reach == cur)
			return false;
		cur = reach;
	}
	return true;
}

static int round_size(uint64_t *size)
{
	if (*size == 0 || *size > UINT64_MAX - (PAGE - 1))
		return SH_MM_ESIZE;
	*size = (*size + PAGE - 1) / PAGE * PAGE;
	return 0;
}

/* Tries a footprint ending at the aligned-down value of boundary b. */
static bool try_end(const struct sh_mem_range *raw, size_t n, uint64_t size, uint64_t limit,
		    const struct sh_mem_range *excl, size_t nexcl, uint64_t b, uint64_t *start)
{
	uint64_t top = (b < limit ? b : limit) / PAGE * PAGE;
	if (top < size)
		return false;
	if (!all_ram(raw, n, excl, nexcl, top - size, top))
		return false;
	*start = top - size;
	return true;
}

int shref_place(const struct sh_mem_range *raw, size_t n, uint64_t size, uint64_t limit,
		const struct sh_mem_range *excl, size_t nexcl, uint64_t *start)
{
	if (round_size(&size) != 0)
		return SH_MM_ESIZE;
	bool found = false;
	uint64_t best = 0, s;
	/* Every candidate: try them all and keep the highest start that works. */
	if (try_end(raw, n, size, limit, excl, nexcl, limit, &s)) {
		best = s;
		found = true;
	}
	for (size_t i = 0; i < n + nexcl; i++) {
		const struct sh_mem_range *r = i < n ? &raw[i] : &excl[i - n];
		uint64_t b[2] = {r->start, r->end};
		for (int k = 0; k < 2; k++) {
			if (try_end(raw, n, size, limit, excl, nexcl, b[k], &s) &&
			    (!found || s > best)) {
				best = s;
				found = true;
			}
		}
	}
	if (!found)
		return SH_MM_ENOFIT;
	*start = best;
	return 0;
}

int shref_place_scan(const struct sh_mem_range *raw, size_t n, uint64_t size, uint64_t limit,
		     const struct sh_mem_range *excl, size_t nexcl, uint64_t *start)
{
	if (round_size(&size) != 0)
		return SH_MM_ESIZE;
	uint64_t hi = 0;
	for (size_t i = 0; i < n; i++) {
		if (raw[i].end > hi)
			hi = raw[i].end;
	}
	if (limit < hi)
		hi = limit;
	hi = hi / PAGE * PAGE;
	if (hi < size)
		return SH_MM_ENOFIT;
	for (uint64_t a = hi - size;; a -= PAGE) {
		if (all_ram(raw, n, excl, nexcl, a, a + size)) {
			*start = a;
			return 0;
		}
		if (a < PAGE)
			break;
	}
	return SH_MM_ENOFIT;
}
