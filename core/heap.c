/* SPDX-License-Identifier: MIT */
/*
 * The allocator: regions, the slot lists, and the allocation policy of docs/DESIGN.md.
 *
 * Every block of a region's arena has a slot of 12 bytes: start, size and one link (16 with
 * SH_LINEAR). Free blocks are in the free index (freeset_*.c), live blocks in a hash keyed by
 * offset, spare slots on a stack. No slot links its address neighbours: free finds the free
 * blocks just below and just above a block in the index (sh_fs_neighbours: one leaf chain;
 * the SH_LINEAR build walks its list), realloc the one above (sh_fs_find at the block's end),
 * and sh_walk goes from each block to the next by address, looking it up in the hash or the
 * index.
 *
 * malloc (address-ordered first fit, split at the low end):
 *
 *   before  |<--------------- free f --------------->|
 *   after   |<-- live (new slot) -->|<-- free f ------>|   f keeps the remainder
 *
 * free (merge with free neighbours; merged-away slots become spare):
 *
 *   before  |  free lo  |  live b  |  free hi  |
 *   after   |<------------ free lo ----------->|     b and hi go back to the spare stack
 */

#include "harden.h"

static struct sh_slot *slot(const struct sh_region *r, uint32_t i)
{
	return sh_slot_at(r, i);
}

static uintptr_t block_addr(const struct sh_region *r, uint32_t off)
{
	return r->arena + (uintptr_t)off * SH_GRANULE;
}

static uint32_t buckets_for(size_t nslots)
{
	size_t need = (nslots + SH_SLOTS_PER_BUCKET - 1) / SH_SLOTS_PER_BUCKET;
	uint32_t b = 1;

	while (b < need)
		b <<= 1;
	return b;
}

/* Slot array and buckets. */
static size_t slot_bytes(size_t nslots)
{
	return nslots * sizeof(struct sh_slot) + (size_t)buckets_for(nslots) * sizeof(uint32_t);
}

size_t sh_region_meta_bytes(size_t nslots, size_t size)
{
	size_t g = size / SH_GRANULE;

	if (nslots == 0 || nslots > SH_MAX_SLOTS ||
	    nslots > (SIZE_MAX / 2) / (sizeof(struct sh_slot) + sizeof(uint32_t)))
		return 0;
	/* Past SH_MAX_ARENA_GRANULES the region is refused (SH_ETOOBIG) whatever its index. */
	return slot_bytes(nslots) +
	       sh_fs_bytes(g > SH_MAX_ARENA_GRANULES ? SH_MAX_ARENA_GRANULES : (uint32_t)g,
			   (uint32_t)nslots);
}

int sh_init(struct sh_heap *h)
{
	if (!h)
		return SH_EINVAL;
	sh_memset(h, 0, sizeof(*h));
	return SH_OK;
}

/* ---- slots: spare stack, hash, neighbours ---- */

static uint32_t off_of(const struct sh_slot *s)
{
	return sh_slot_off(s);
}

static uint32_t size_of(const struct sh_slot *s)
{
	return sh_slot_size(s);
}

/* Takes a spare slot and makes it describe [off, off + size) on list l (the caller links it). */
static uint32_t spare_take(struct sh_region *r, uint32_t off, uint32_t size, uint32_t l)
{
	uint32_t i = r->spare;
	struct sh_slot *s = slot(r, i);

	r->spare = s->link;
	r->nspare--;
	s->off = off;
	s->size = size;
	sh_slot_set_list(s, l);
	return i;
}

static void spare_give(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = slot(r, i);

	s->off = 0;
	s->size = 0;
	sh_slot_set_list(s, SH_LIST_SPARE);
#if SH_LINEAR
	s->prev = SH_NIL;
#endif
	s->link = r->spare;
	r->spare = i;
	r->nspare++;
}

static void hash_insert(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = slot(r, i);
	uint32_t *head = &r->buckets[sh_bucket_of(r, off_of(s))];

	sh_slot_set_list(s, SH_LIST_LIVE);
	s->link = *head;
	*head = i;
}

static uint32_t hash_find(const struct sh_region *r, uint32_t off)
{
	uint32_t i = r->buckets[sh_bucket_of(r, off)];

	while (i != SH_NIL && off_of(slot(r, i)) != off)
		i = slot(r, i)->link;
	return i;
}

static void hash_remove(struct sh_region *r, uint32_t i)
{
	uint32_t *link = &r->buckets[sh_bucket_of(r, off_of(slot(r, i)))];

	while (*link != i)
		link = &slot(r, *link)->link;
	*link = slot(r, i)->link;
}

/* The free block just above block s (starting at its end), or SH_NIL. */
static uint32_t free_above(const struct sh_region *r, const struct sh_slot *s)
{
	uint32_t end = sh_end_of(s);

	return end < r->ngran ? sh_fs_find(r, end) : SH_NIL;
}

/* ---- regions ---- */

static uintptr_t align_up(uintptr_t a, uintptr_t to)
{
	return (a + to - 1) & ~(to - 1);
}

/* Whether [b, b + size) meets a region. Sizes, not ends: a region that reaches the top of the
 * address space has end 0. An empty range meets a region only strictly inside it. */
static bool overlaps(const struct sh_heap *h, uintptr_t b, size_t size)
{
	for (unsigned i = 0; i < h->nregions; i++) {
		const struct sh_region *r = &h->region[i];
		if ((b - r->base < r->end - r->base && (size != 0 || b != r->base)) ||
		    r->base - b < size)
			return true;
	}
	return false;
}

static void region_format(struct sh_region *r, uintptr_t slots_at, uint32_t nslots, size_t size)
{
	r->slots = (struct sh_slot *)slots_at;
	r->buckets = (uint32_t *)(slots_at + (uintptr_t)nslots * sizeof(struct sh_slot));
	for (uint32_t b = 0; b < r->nbuckets; b++)
		r->buckets[b] = SH_NIL;
	r->spare = SH_NIL;
	r->nspare = 0;
	for (uint32_t i = nslots; i-- > 1;)
		spare_give(r, i);

	struct sh_slot *s = slot(r, 0);
	s->off = 0;
	s->size = r->ngran;
	r->last_freed = SH_NIL;
	size_t g = size / SH_GRANULE; /* what sh_region_meta_bytes sized the index for */
	sh_fs_init(r, r->buckets + r->nbuckets,
		   g > SH_MAX_ARENA_GRANULES ? SH_MAX_ARENA_GRANULES : (uint32_t)g);
	sh_fs_insert(r, 0);
	r->nfree = 1;
	r->free_gran = r->ngran;
	r->nlive = 0;
	r->live_gran = 0;
}

int sh_add_region(struct sh_heap *h, void *base, size_t size, size_t nslots)
{
	if (!h || !base || nslots == 0)
		return SH_EINVAL;
	if (h->nregions >= SH_MAX_REGIONS)
		return SH_ETOOMANY;

	/* The region's last byte must be addressable, not its end: a region may end exactly at
	 * the top of the address space, and e is then 0. Below, positions are offsets from b. */
	uintptr_t b = (uintptr_t)base;
	size_t meta = sh_region_meta_bytes(nslots, size);
	if (meta == 0 || (size != 0 && size - 1 > UINTPTR_MAX - b))
		return SH_ETOOBIG;
	uintptr_t e = b + size;
	if (overlaps(h, b, size))
		return SH_EOVERLAP;

	uintptr_t slots_at = align_up(b, _Alignof(struct sh_slot));
	if (slots_at < b || slots_at - b > size || size - (slots_at - b) < meta)
		return SH_ETOOSMALL;
	uintptr_t meta_end = slots_at + meta; /* at most the end: 0 for a region at the top */
	if (meta_end > UINTPTR_MAX - (SH_GRANULE - 1))
		return SH_ETOOSMALL;
	uintptr_t arena = align_up(meta_end, SH_GRANULE);
	if (arena - b >= size || (size - (arena - b)) / SH_GRANULE == 0)
		return SH_ETOOSMALL;
	if ((size - (arena - b)) / SH_GRANULE > SH_MAX_ARENA_GRANULES)
		return SH_ETOOBIG;

	struct sh_region *r = &h->region[h->nregions];
	sh_memset(r, 0, sizeof(*r));
	r->base = b;
	r->end = e;
	r->arena = arena;
	r->ngran = (uint32_t)((size - (arena - b)) / SH_GRANULE);
	r->nslots = (uint32_t)nslots;
	r->nbuckets = buckets_for(nslots);
	region_format(r, slots_at, (uint32_t)nslots, size);
	sh_hd_region(r);
	h->nregions++;
	return SH_OK;
}

/* ---- errors ---- */

static void *alloc_failed(struct sh_heap *h, int code)
{
	h->failed_allocs++;
	h->last_error = code;
	return NULL;
}

static int misuse(struct sh_heap *h, int code, const void *p)
{
	h->misuse++;
	h->last_error = code;
	if (h->hook)
		h->hook(h->hook_ctx, code, p);
	return code;
}

/* Rule 1: block size in granules. Requests larger than any arena map to UINT32_MAX, which no
 * block reaches. */
static int size_to_gran(size_t n, uint32_t *gran)
{
#if SH_HARDEN
	/* Rule 1 of the harden build: granules for n + 1 bytes, at least one guard byte. */
	if (n > SIZE_MAX - SH_GRANULE)
		return SH_EOVERFLOW;
	n++;
#endif
	if (n > SIZE_MAX - (SH_GRANULE - 1))
		return SH_EOVERFLOW;
	size_t g = (n + SH_GRANULE - 1) / SH_GRANULE;
	if (g == 0)
		g = 1;
	*gran = g > SH_MAX_ARENA_GRANULES ? UINT32_MAX : (uint32_t)g;
	return SH_OK;
}

/* ---- carving a live block out of a free one ---- */

static void *make_live(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = slot(r, i);

	hash_insert(r, i);
	r->nlive++;
	r->live_gran += size_of(s);
	r->free_gran -= size_of(s);
	return (void *)block_addr(r, off_of(s));
}

/* Takes [at, at + gran) out of free block fi. The caller has checked that it fits and that a
 * front gap (at > start) can have a spare slot. Rule 4 decides the tail. */
static void *carve(struct sh_region *r, uint32_t fi, uint32_t at, uint32_t gran)
{
	struct sh_slot *f = slot(r, fi);
	uint32_t tail = sh_end_of(f) - (at + gran);
	uint32_t li;

	if (at == f->off) {
		if (tail == 0 || r->spare == SH_NIL) {
			sh_fs_remove(r, fi);
			r->nfree--;
			return make_live(r, fi);
		}
		uint32_t old_size = f->size;
		li = spare_take(r, at, gran, SH_LIST_LIVE);
		f->off = at + gran;
		f->size = tail;
		sh_fs_update(r, fi, at, old_size);
		return make_live(r, li);
	}

	li = spare_take(r, at, gran, SH_LIST_LIVE);
	struct sh_slot *l = slot(r, li);
	uint32_t old_size = f->size;
	f->size = at - f->off;
	sh_fs_update(r, fi, f->off, old_size);
	if (tail) {
		if (r->spare == SH_NIL) {
			sh_slot_set_size(l, gran + tail);
		} else {
			uint32_t ti = spare_take(r, at + gran, tail, SH_LIST_FREE);
			sh_fs_insert(r, ti);
			r->nfree++;
		}
	}
	return make_live(r, li);
}

static void *malloc_gran(struct sh_heap *h, unsigned mask, uint32_t gran)
{
	for (unsigned i = 0; i < h->nregions; i++) {
		if (!(mask & (1u << i)))
			continue;
		struct sh_region *r = &h->region[i];
		uint32_t fi = sh_fs_first_fit(r, gran);
		if (fi != SH_NIL)
			return carve(r, fi, slot(r, fi)->off, gran);
	}
	return NULL;
}

void *sh_malloc_in(struct sh_heap *h, unsigned region_mask, size_t size)
{
	uint32_t gran;

	if (!h)
		return NULL;
	if (size_to_gran(size, &gran))
		return alloc_failed(h, SH_EOVERFLOW);
	void *p = sh_hd_handout(h, malloc_gran(h, region_mask, gran), size);
	return p ? p : alloc_failed(h, SH_ENOMEM);
}

void *sh_malloc(struct sh_heap *h, size_t size)
{
	return sh_malloc_in(h, SH_ALL_REGIONS, size);
}

void *sh_calloc(struct sh_heap *h, size_t n, size_t size)
{
	if (!h)
		return NULL;
	if (size && n > SIZE_MAX / size)
		return alloc_failed(h, SH_EOVERFLOW);
	void *p = sh_malloc(h, n * size);
	if (p)
		sh_memset(p, 0, sh_usable_size(h, p));
	return p;
}

/* Rule 6 for one free block: granule offset of its lowest align-aligned start that fits, or
 * UINT32_MAX. */
static uint32_t aligned_start(const struct sh_region *r, const struct sh_slot *f,
			      uintptr_t align, uint32_t gran)
{
	uintptr_t a = block_addr(r, f->off);
	uintptr_t mis = a & (align - 1);
	uintptr_t skip = mis ? align - mis : 0;

	if (skip > (uintptr_t)f->size * SH_GRANULE)
		return UINT32_MAX;
	uint32_t gap = (uint32_t)(skip / SH_GRANULE);
	if (f->size - gap < gran)
		return UINT32_MAX;
	return f->off + gap;
}

struct align_fit {
	uintptr_t align;
	uint32_t gran;
	uint32_t at; /* out: where the block starts */
};

/* A candidate fits if its aligned start leaves room and its front gap (if any) can get a slot. */
static bool accept_aligned(const struct sh_region *r, uint32_t i, void *ctx)
{
	struct align_fit *c = ctx;
	const struct sh_slot *f = slot(r, i);

	c->at = aligned_start(r, f, c->align, c->gran);
	return c->at != UINT32_MAX && (c->at == f->off || r->spare != SH_NIL);
}

void *sh_memalign(struct sh_heap *h, size_t align, size_t size)
{
	return sh_memalign_in(h, SH_ALL_REGIONS, align, size);
}

void *sh_memalign_in(struct sh_heap *h, unsigned region_mask, size_t align, size_t size)
{
	struct align_fit c;

	if (!h)
		return NULL;
	if (align == 0 || (align & (align - 1)))
		return alloc_failed(h, SH_EALIGN);
	if (size_to_gran(size, &c.gran))
		return alloc_failed(h, SH_EOVERFLOW);
	c.align = align < SH_GRANULE ? SH_GRANULE : (uintptr_t)align;

	for (unsigned i = 0; i < h->nregions; i++) {
		struct sh_region *r = &h->region[i];
		if (!(region_mask & (1u << i)))
			continue;
		/* Granule offsets whose address is a multiple of c.align: first + k * step. */
		uintptr_t mis = r->arena & (c.align - 1);
		uint32_t fi =
			sh_fs_scan(r, c.gran, c.align / SH_GRANULE,
				   (mis ? c.align - mis : 0) / SH_GRANULE, accept_aligned, &c);
		if (fi != SH_NIL)
			return sh_hd_handout(h, carve(r, fi, c.at, c.gran), size);
	}
	return alloc_failed(h, SH_ENOMEM);
}

/* ---- finding and freeing live blocks ---- */

/* Finds the live block starting at p, or says why p is not one. */
static int find_live(const struct sh_heap *h, const void *p, unsigned *ri, uint32_t *si)
{
	uintptr_t a = (uintptr_t)p;

	for (unsigned i = 0; i < h->nregions; i++) {
		const struct sh_region *r = &h->region[i];
		if (a < r->arena || a - r->arena >= (uintptr_t)r->ngran * SH_GRANULE)
			continue;
		uintptr_t d = a - r->arena;
		if (d % SH_GRANULE)
			return SH_EBADPTR;
		uint32_t off = (uint32_t)(d / SH_GRANULE);
		uint32_t s = hash_find(r, off);
		if (s != SH_NIL) {
			*ri = i;
			*si = s;
			return SH_OK;
		}
		return sh_fs_find(r, off) != SH_NIL ? SH_EDOUBLEFREE : SH_EBADPTR;
	}
	return SH_EFOREIGN;
}

#if SH_HD_ACTIVE
bool sh_find_live_slot(const struct sh_heap *h, const void *p, unsigned *ri, uint32_t *si)
{
	return find_live(h, p, ri, si) == SH_OK;
}
#endif

/* Rule 5: live block bi becomes free and merges with its free neighbours. */
static void release(struct sh_region *r, uint32_t bi)
{
	struct sh_slot *b = slot(r, bi);
	uint32_t off = off_of(b), size = size_of(b), lo, hi;

	/* One walk for both (the SH_LINEAR build walks its free list, the original design's
	 * cost). r->last_freed, set below, is the index's guess for the block below. */
	sh_fs_neighbours(r, off, off + size, &lo, &hi);

	hash_remove(r, bi);
	r->nlive--;
	r->live_gran -= size;
	r->free_gran += size;

	/* lo and hi are free (their off and size carry no tag). */
	if (lo != SH_NIL) {
		struct sh_slot *l = slot(r, lo);
		uint32_t old_size = l->size;
		l->size += size;
		spare_give(r, bi);
		if (hi != SH_NIL) {
			l->size += slot(r, hi)->size;
			sh_fs_remove(r, hi);
			spare_give(r, hi);
			r->nfree--;
		}
		sh_fs_update(r, lo, l->off, old_size);
		r->last_freed = lo;
	} else if (hi != SH_NIL) {
		struct sh_slot *u = slot(r, hi);
		uint32_t old_off = u->off, old_size = u->size;
		u->off = off;
		u->size += size;
		spare_give(r, bi);
		sh_fs_update(r, hi, old_off, old_size);
		r->last_freed = hi;
	} else {
		sh_slot_set_list(b, SH_LIST_FREE);
		sh_fs_insert(r, bi);
		r->nfree++;
		r->last_freed = bi;
	}
}

int sh_free(struct sh_heap *h, void *p)
{
	unsigned ri;
	uint32_t si;

	if (!h)
		return SH_EINVAL;
	if (!p)
		return SH_OK;
	int code = find_live(h, p, &ri, &si);
	if (code)
		return misuse(h, code, p);
	sh_hd_release(h, ri, si);
	release(&h->region[ri], si);
	return SH_OK;
}

size_t sh_usable_size(const struct sh_heap *h, const void *p)
{
	unsigned ri;
	uint32_t si;

	if (!h || !p || find_live(h, p, &ri, &si))
		return 0;
	return sh_usable_of(slot(&h->region[ri], si));
}

/* ---- realloc ---- */

/* Rule 7, shrink: the cut tail joins a free block above, or takes a spare slot, or stays. */
static void shrink_in_place(struct sh_region *r, uint32_t bi, uint32_t gran)
{
	struct sh_slot *b = slot(r, bi);
	uint32_t cut = size_of(b) - gran, ui;

	if (cut == 0)
		return;
	if ((ui = free_above(r, b)) != SH_NIL) {
		struct sh_slot *u = slot(r, ui);
		uint32_t old_off = u->off, old_size = u->size;
		u->off -= cut;
		u->size += cut;
		sh_fs_update(r, ui, old_off, old_size);
	} else if (r->spare != SH_NIL) {
		uint32_t ti = spare_take(r, off_of(b) + gran, cut, SH_LIST_FREE);
		sh_fs_insert(r, ti);
		r->nfree++;
	} else {
		return;
	}
	sh_slot_set_size(b, gran);
	r->live_gran -= cut;
	r->free_gran += cut;
}

/* Rule 7, grow: takes the low part of the free block ui just above; the caller checked it
 * suffices. */
static void grow_in_place(struct sh_region *r, uint32_t bi, uint32_t ui, uint32_t gran)
{
	struct sh_slot *b = slot(r, bi);
	struct sh_slot *u = slot(r, ui);
	uint32_t need = gran - size_of(b);

	if (u->size == need) {
		sh_fs_remove(r, ui);
		spare_give(r, ui);
		r->nfree--;
	} else {
		uint32_t old_off = u->off, old_size = u->size;
		u->off += need;
		u->size -= need;
		sh_fs_update(r, ui, old_off, old_size);
	}
	sh_slot_set_size(b, gran);
	r->live_gran += need;
	r->free_gran -= need;
}

void *sh_realloc(struct sh_heap *h, void *p, size_t size)
{
	return sh_realloc_in(h, SH_ALL_REGIONS, p, size);
}

void *sh_realloc_in(struct sh_heap *h, unsigned region_mask, void *p, size_t size)
{
	unsigned ri;
	uint32_t bi, gran;

	if (!h)
		return NULL;
	if (!p)
		return sh_malloc_in(h, region_mask, size);
	int code = find_live(h, p, &ri, &bi);
	if (code) {
		misuse(h, code, p);
		return NULL;
	}
	struct sh_region *r = &h->region[ri];
	sh_hd_enter(h, ri, bi);
	if (size == 0) {
		sh_hd_release(h, ri, bi);
		release(r, bi);
		return NULL;
	}
	if (size_to_gran(size, &gran))
		return alloc_failed(h, SH_EOVERFLOW);

	struct sh_slot *b = slot(r, bi);
	uint32_t old_size = size_of(b), ui;
	if (gran <= old_size) {
		shrink_in_place(r, bi, gran);
		sh_hd_resized(h, ri, bi, old_size, size);
		return p;
	}
	if ((ui = free_above(r, b)) != SH_NIL && slot(r, ui)->size >= gran - old_size) {
		grow_in_place(r, bi, ui, gran);
		sh_hd_resized(h, ri, bi, old_size, size);
		return p;
	}
	void *q = sh_hd_handout(h, malloc_gran(h, region_mask, gran), size);
	if (!q)
		return alloc_failed(h, SH_ENOMEM);
	/* Slots of live blocks never move, so bi still names p's block. (SH_HARDEN: the new
	 * block holds more than the old one's granules before its guard, so the copy spares it.) */
	sh_memcpy(q, p, (size_t)old_size * SH_GRANULE);
	sh_hd_release(h, ri, bi);
	release(r, bi);
	return q;
}

/* ---- reporting ---- */

int sh_last_error(const struct sh_heap *h)
{
	return h ? h->last_error : SH_EINVAL;
}

const struct sh_report *sh_last_report(const struct sh_heap *h)
{
	return h ? &h->report : NULL;
}

void sh_set_error_hook(struct sh_heap *h, sh_error_hook fn, void *ctx)
{
	if (!h)
		return;
	h->hook = fn;
	h->hook_ctx = ctx;
}

void sh_stats(const struct sh_heap *h, struct sh_stats *out)
{
	if (!out)
		return;
	sh_memset(out, 0, sizeof(*out));
	if (!h)
		return;
	for (unsigned i = 0; i < h->nregions; i++) {
		const struct sh_region *r = &h->region[i];
		size_t largest = (size_t)sh_fs_largest(r) * SH_GRANULE;
		out->live_bytes += (size_t)r->live_gran * SH_GRANULE;
		out->free_bytes += (size_t)r->free_gran * SH_GRANULE;
		out->live_blocks += r->nlive;
		out->free_blocks += r->nfree;
		out->slots_total += r->nslots;
		out->slots_spare += r->nspare;
		if (largest > out->largest_free)
			out->largest_free = largest;
	}
	out->failed_allocs = h->failed_allocs;
	out->misuse = h->misuse;
}

int sh_walk(const struct sh_heap *h, int (*fn)(const struct sh_block_info *b, void *ctx),
	    void *ctx)
{
	if (!h || !fn)
		return SH_EINVAL;
	/* By address: from offset 0 each block ends where the next starts, which is looked up
	 * in the hash (live) or the free index (free); at most nslots steps. */
	for (unsigned ri = 0; ri < h->nregions; ri++) {
		const struct sh_region *r = &h->region[ri];
		uint32_t off = 0;
		for (uint32_t steps = 0; off < r->ngran && steps < r->nslots; steps++) {
			uint32_t i = hash_find(r, off);
			bool live = i != SH_NIL;
			if (!live && (i = sh_fs_find(r, off)) == SH_NIL)
				break;
			const struct sh_slot *s = slot(r, i);
			struct sh_block_info b = {
				.region = ri,
				.ptr = (void *)block_addr(r, off),
				.size = (size_t)size_of(s) * SH_GRANULE,
				.live = live,
			};
			int rc = fn(&b, ctx);
			if (rc)
				return rc;
			off += size_of(s);
		}
	}
	return 0;
}

int sh_region_info(const struct sh_heap *h, unsigned idx, struct sh_region_info *out)
{
	if (!h || !out || idx >= h->nregions)
		return SH_EINVAL;
	const struct sh_region *r = &h->region[idx];
	out->base = (void *)r->base;
	out->size = r->end - r->base;
	out->arena = (void *)r->arena;
	out->arena_size = (size_t)r->ngran * SH_GRANULE;
	out->nslots = r->nslots;
	out->nbuckets = r->nbuckets;
	return SH_OK;
}
