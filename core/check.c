/* SPDX-License-Identifier: MIT */
/*
 * sh_check: the invariants of docs/DESIGN.md (I1-I7), written once and called by the unit
 * tests, the soak and every fuzz target after every step.
 *
 * Nothing read from the heap is trusted: a link is range-checked before it is followed and
 * every walk stops after as many steps as there are slots, so a corrupted heap yields a report,
 * never a hang or a stray read. The checks carry on after a failure where that is still safe,
 * so the failure count says how much is broken; the report keeps the first.
 *
 * Counting argument for I2: each slot carries the tag of its list. A singly linked walk that
 * meets only slots with tag X, ends within the bound and visits as many slots as carry tag X
 * has visited each of them exactly once; the same holds for the address chain (tags FREE and
 * LIVE), the hash (LIVE) and the free index (FREE). So every slot is on exactly one list.
 */

#include "harden.h"

void sh_check_fail(struct sh_check_report *rep, int inv, unsigned region, uint32_t slot,
		   uintptr_t block, const char *what)
{
	if (!rep)
		return;
	if (rep->failures++ == 0) {
		rep->invariant = inv;
		rep->region = region;
		rep->slot = slot;
		rep->block = block;
		rep->what = what;
	}
}

struct region_check {
	const struct sh_region *r;
	unsigned ri;
	struct sh_check_report *rep;
	unsigned failures;
	uint32_t tagged[3]; /* slots carrying each list tag */
	uint32_t walk_free, walk_live, walk_free_gran, walk_live_gran, walk_largest;
};

static bool fail(struct region_check *c, int inv, uint32_t slot, const char *what)
{
	uintptr_t a = 0;

	if (slot < c->r->nslots && sh_slot_at(c->r, slot)->list != SH_LIST_SPARE)
		a = c->r->arena + (uintptr_t)sh_slot_at(c->r, slot)->off * SH_GRANULE;
	sh_check_fail(c->rep, inv, c->ri, slot, a, what);
	c->failures++;
	return false;
}

/* I5 and the region's own geometry. Returns false if the region cannot be walked safely. */
static bool check_geometry(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uintptr_t slots = (uintptr_t)r->slots;
	size_t meta = sh_region_meta_bytes(r->nslots, r->end - r->base);

	if (r->arena % SH_GRANULE) {
		fail(c, SH_I5_ALIGNMENT, SH_NIL, "arena start is not granule aligned");
		return false;
	}
	if (meta == 0 || slots < r->base || r->nbuckets == 0 ||
	    (r->nbuckets & (r->nbuckets - 1)) || slots + meta > r->arena ||
	    (uintptr_t)r->buckets != slots + (uintptr_t)r->nslots * sizeof(struct sh_slot) ||
	    r->end - 1 < r->base || r->arena - r->base > r->end - r->base ||
	    (r->end - r->arena) / SH_GRANULE < r->ngran || r->ngran == 0) {
		fail(c, SH_I1_TILING, SH_NIL, "region geometry is inconsistent");
		return false;
	}
	return true;
}

static void count_tags(struct region_check *c)
{
	for (uint32_t i = 0; i < c->r->nslots; i++) {
		uint32_t t = sh_slot_at(c->r, i)->list;
		if (t > SH_LIST_LIVE) {
			fail(c, SH_I2_SLOTS, i, "slot carries no valid list tag");
			continue;
		}
		c->tagged[t]++;
	}
}

/* A spare slot describes no block and belongs to no structure: a stale field would mean it
 * was given back while something still used it. */
static bool blank(const struct sh_slot *s)
{
	return s->off == 0 && s->size == 0 && s->below == SH_NIL && s->above == SH_NIL &&
	       s->link[1] == SH_NIL;
}

static bool check_spare(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t n = 0;

	for (uint32_t i = r->spare; i != SH_NIL; i = sh_slot_at(r, i)->link[0]) {
		if (i >= r->nslots)
			return fail(c, SH_I2_SLOTS, i, "spare list link out of range");
		if (sh_slot_at(r, i)->list != SH_LIST_SPARE)
			return fail(c, SH_I2_SLOTS, i,
				    "spare list holds a slot of another list");
		if (!blank(sh_slot_at(r, i)))
			return fail(c, SH_I2_SLOTS, i, "spare slot still describes a block");
		if (++n > c->tagged[SH_LIST_SPARE])
			return fail(c, SH_I2_SLOTS, i, "spare list has a cycle");
	}
	if (n != c->tagged[SH_LIST_SPARE])
		fail(c, SH_I2_SLOTS, SH_NIL, "a spare slot is on no list");
	if (n != r->nspare)
		return fail(c, SH_I7_STATS, SH_NIL,
			    "spare slot counter disagrees with the spare list");
	return true;
}

/* I1 and I3: the address chain tiles the arena; no two free blocks touch. */
static bool check_tiling(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t expect = 0, prev = SH_NIL, n = 0;
	bool prev_free = false;

	for (uint32_t i = r->first; i != SH_NIL; prev = i, i = sh_slot_at(r, i)->above) {
		if (i >= r->nslots)
			return fail(c, SH_I1_TILING, i, "address chain link out of range");
		if (++n > r->nslots)
			return fail(c, SH_I1_TILING, i, "address chain has a cycle");
		const struct sh_slot *s = sh_slot_at(r, i);
		if (s->list == SH_LIST_SPARE)
			return fail(c, SH_I2_SLOTS, i, "spare slot found in the address chain");
		if (s->below != prev)
			return fail(c, SH_I1_TILING, i, "address chain links disagree");
		if (s->off != expect)
			return fail(c, SH_I1_TILING, i,
				    s->off < expect ? "blocks overlap" : "gap between blocks");
		if (s->size == 0 || s->size > r->ngran - s->off)
			return fail(c, SH_I1_TILING, i, "block runs past the arena end");
		bool is_free = s->list == SH_LIST_FREE;
		if (is_free && prev_free)
			fail(c, SH_I3_CONSOLIDATION, i, "two adjacent free blocks");
		if (is_free) {
			c->walk_free++;
			c->walk_free_gran += s->size;
			if (s->size > c->walk_largest)
				c->walk_largest = s->size;
		} else {
			c->walk_live++;
			c->walk_live_gran += s->size;
		}
		prev_free = is_free;
		expect = s->off + s->size;
	}
	if (expect != r->ngran)
		return fail(c, SH_I1_TILING, prev, "blocks do not cover the arena");
	if (c->walk_free != c->tagged[SH_LIST_FREE] || c->walk_live != c->tagged[SH_LIST_LIVE])
		return fail(c, SH_I2_SLOTS, SH_NIL,
			    "a block slot is missing from the address chain");
	return true;
}

static bool check_hash(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t n = 0;

	for (uint32_t b = 0; b < r->nbuckets; b++) {
		for (uint32_t i = r->buckets[b]; i != SH_NIL; i = sh_slot_at(r, i)->link[0]) {
			if (i >= r->nslots)
				return fail(c, SH_I4_HASH, i, "hash link out of range");
			if (sh_slot_at(r, i)->list != SH_LIST_LIVE)
				return fail(c, SH_I4_HASH, i,
					    "hash holds a slot that is not live");
			if (++n > c->tagged[SH_LIST_LIVE])
				return fail(c, SH_I4_HASH, i, "hash chain has a cycle");
			if (sh_bucket_of(r, sh_slot_at(r, i)->off) != b)
				fail(c, SH_I4_HASH, i, "live block is in the wrong bucket");
		}
	}
	if (n != c->tagged[SH_LIST_LIVE])
		return fail(c, SH_I4_HASH, SH_NIL, "a live block is missing from the hash");
	return true;
}

static void check_index(struct region_check *c)
{
	uint32_t nodes;
	unsigned f = sh_fs_check(c->r, c->ri, c->rep, &nodes);

	c->failures += f;
	if (f == 0 && nodes != c->tagged[SH_LIST_FREE])
		fail(c, SH_I2_SLOTS, SH_NIL, "a free block is missing from the free index");
	if (f == 0 && sh_fs_largest(c->r) != c->walk_largest)
		fail(c, SH_I6_INDEX, SH_NIL,
		     "free index largest block disagrees with the blocks");
}

static void check_counters(struct region_check *c)
{
	const struct sh_region *r = c->r;

	if (r->nfree != c->walk_free || r->nlive != c->walk_live ||
	    r->free_gran != c->walk_free_gran || r->live_gran != c->walk_live_gran)
		fail(c, SH_I7_STATS, SH_NIL, "block counters disagree with the blocks");
}

static unsigned check_region(const struct sh_region *r, unsigned ri,
			     struct sh_check_report *rep)
{
	struct region_check c;

	/* not an initialiser: on ARM that becomes a call to memset, which core/ lacks */
	sh_memset(&c, 0, sizeof(c));
	c.r = r;
	c.ri = ri;
	c.rep = rep;
	if (!check_geometry(&c))
		return c.failures;
	count_tags(&c);
	check_spare(&c);
	check_tiling(&c);
	check_hash(&c);
	check_index(&c);
	check_counters(&c);
	return c.failures;
}

int sh_check(const struct sh_heap *h, struct sh_check_report *r)
{
	struct sh_check_report local;
	unsigned failures = 0;

	if (!r)
		r = &local;
	sh_memset(r, 0, sizeof(*r));
	r->slot = SH_NIL;
	if (!h)
		return SH_EINVAL;
	if (h->nregions > SH_MAX_REGIONS) {
		sh_check_fail(r, SH_I1_TILING, 0, SH_NIL, 0, "region count out of range");
		return SH_ECORRUPT;
	}
	for (unsigned i = 0; i < h->nregions; i++) {
		const struct sh_region *g = &h->region[i];
		for (unsigned j = 0; j < i; j++)
			if (g->base - h->region[j].base <
				    h->region[j].end - h->region[j].base ||
			    h->region[j].base - g->base < g->end - g->base) {
				sh_check_fail(r, SH_I1_TILING, i, SH_NIL, g->base,
					      "regions overlap");
				failures++;
			}
		failures += check_region(g, i, r);
	}
	return failures ? SH_ECORRUPT : sh_hd_check(h, r);
}
