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
 * Counting argument for I2: each slot carries the tag of its list (the top bits of its off and
 * size). A singly linked walk that meets only slots with tag X and ends within the bound
 * visits no slot twice (a repeat would be a cycle, which never ends); if it visits as many
 * slots as carry tag X, it has visited each of them exactly once. The spare list (SPARE), the
 * hash (LIVE) and the free index (FREE: its leaf chains, each holding only blocks that start
 * in its leaf, and the top block, which no chain may hold) are checked so. Each slot has one
 * link, so no slot can be on two lists whose walks all passed: every slot is on exactly one.
 *
 * I1 by the address walk: from offset 0, the block starting at the end of the previous one is
 * looked up in the hash and in the index (both already checked, so the look-ups follow only
 * checked links), until the arena ends; offsets only grow, so no block is met twice, and at
 * most nslots steps are taken. A block that the walk steps over (it starts inside another)
 * is never met: the walk then counts fewer blocks than carry the FREE and LIVE tags.
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
	uint32_t tagged[3];		       /* slots carrying each list tag */
	uint64_t tag_free_gran, tag_live_gran; /* sizes of the slots of each tag, summed */
};

static bool fail(struct region_check *c, int inv, uint32_t slot, const char *what)
{
	uintptr_t a = 0;

	if (slot < c->r->nslots && sh_slot_list(sh_slot_at(c->r, slot)) != SH_LIST_SPARE)
		a = c->r->arena + (uintptr_t)sh_slot_off(sh_slot_at(c->r, slot)) * SH_GRANULE;
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

/* Counts the slots of each tag and sums the blocks they describe (for I7), in 64 bits: a
 * corrupted size must not wrap the sums into agreement. */
static void count_tags(struct region_check *c)
{
	uint64_t gran[3] = {0, 0, 0};

	for (uint32_t i = 0; i < c->r->nslots; i++) {
		const struct sh_slot *s = sh_slot_at(c->r, i);
		uint32_t t = sh_slot_list(s);
		if (t > SH_LIST_LIVE) {
			fail(c, SH_I2_SLOTS, i, "slot carries no valid list tag");
			continue;
		}
		c->tagged[t]++;
		gran[t] += sh_slot_size(s);
	}
	c->tag_free_gran = gran[SH_LIST_FREE];
	c->tag_live_gran = gran[SH_LIST_LIVE];
}

/* A spare slot describes no block and belongs to no structure: a stale field would mean it
 * was given back while something still used it. */
static bool blank(const struct sh_slot *s)
{
#if SH_LINEAR
	if (s->prev != SH_NIL)
		return false;
#endif
	return sh_slot_off(s) == 0 && sh_slot_size(s) == 0;
}

static bool check_spare(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t n = 0;

	for (uint32_t i = r->spare; i != SH_NIL; i = sh_slot_at(r, i)->link) {
		if (i >= r->nslots)
			return fail(c, SH_I2_SLOTS, i, "spare list link out of range");
		if (sh_slot_list(sh_slot_at(r, i)) != SH_LIST_SPARE)
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

static bool check_hash(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t n = 0;

	for (uint32_t b = 0; b < r->nbuckets; b++) {
		for (uint32_t i = r->buckets[b]; i != SH_NIL; i = sh_slot_at(r, i)->link) {
			if (i >= r->nslots)
				return fail(c, SH_I4_HASH, i, "hash link out of range");
			if (sh_slot_list(sh_slot_at(r, i)) != SH_LIST_LIVE)
				return fail(c, SH_I4_HASH, i,
					    "hash holds a slot that is not live");
			if (++n > c->tagged[SH_LIST_LIVE])
				return fail(c, SH_I4_HASH, i, "hash chain has a cycle");
			if (sh_bucket_of(r, sh_slot_off(sh_slot_at(r, i))) != b)
				return fail(c, SH_I4_HASH, i,
					    "live block is in the wrong bucket");
		}
	}
	if (n != c->tagged[SH_LIST_LIVE])
		return fail(c, SH_I4_HASH, SH_NIL, "a live block is missing from the hash");
	return true;
}

static bool check_index(struct region_check *c)
{
	uint32_t nodes;
	unsigned f = sh_fs_check(c->r, c->ri, c->rep, &nodes);

	c->failures += f;
	if (f)
		return false;
	/* The index's structure holds, so it holds each free block once (the counting argument):
	 * its largest block, which sh_stats reports, is the largest free block. */
	if (nodes != c->tagged[SH_LIST_FREE])
		return fail(c, SH_I2_SLOTS, SH_NIL,
			    "a free block is missing from the free index");
	return true;
}

/* The live block starting at off, through the hash, which check_hash found sound: every link
 * in range, every chain ending. */
static uint32_t live_at(const struct region_check *c, uint32_t off)
{
	const struct sh_region *r = c->r;
	uint32_t i = r->buckets[sh_bucket_of(r, off)];

	while (i != SH_NIL && sh_slot_off(sh_slot_at(r, i)) != off)
		i = sh_slot_at(r, i)->link;
	return i;
}

/* I1 and I3 by the address walk (see the top of the file). Each step meets a slot that starts
 * at off, and off only grows, so no slot is met twice: at most nslots steps. */
static bool check_tiling(struct region_check *c)
{
	const struct sh_region *r = c->r;
	uint32_t off = 0, prev = SH_NIL, met = 0;
	bool prev_free = false;

	while (off < r->ngran) {
		uint32_t li = live_at(c, off), fi = sh_fs_find(r, off);
		if (li == SH_NIL && fi == SH_NIL)
			return fail(c, SH_I1_TILING, prev,
				    prev == SH_NIL
					    ? "no block starts the arena"
					    : "no block starts where the one below ends");
		if (li != SH_NIL && fi != SH_NIL)
			return fail(c, SH_I1_TILING, li,
				    "a live and a free block start together");
		uint32_t i = li != SH_NIL ? li : fi, size = sh_slot_size(sh_slot_at(r, i));
		if (size == 0 || size > r->ngran - off)
			return fail(c, SH_I1_TILING, i,
				    size ? "block runs past the arena end" : "block of size 0");
		bool is_free = fi != SH_NIL;
		if (is_free && prev_free)
			fail(c, SH_I3_CONSOLIDATION, i, "two adjacent free blocks");
		met++;
		prev_free = is_free;
		prev = i;
		off += size;
	}
	/* The walk meets no slot of another tag, so meeting fewer than carry FREE and LIVE means
	 * some block started inside another. */
	if (met != c->tagged[SH_LIST_FREE] + c->tagged[SH_LIST_LIVE])
		return fail(c, SH_I1_TILING, SH_NIL,
			    "blocks overlap: a block starts inside another");
	return true;
}

static void check_counters(struct region_check *c)
{
	const struct sh_region *r = c->r;

	if (r->nfree != c->tagged[SH_LIST_FREE] || r->nlive != c->tagged[SH_LIST_LIVE] ||
	    r->free_gran != c->tag_free_gran || r->live_gran != c->tag_live_gran)
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
	/* The address walk looks blocks up in the hash and the index: only once both passed. */
	bool hash_ok = check_hash(&c);
	if (check_index(&c) && hash_ok)
		check_tiling(&c);
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
