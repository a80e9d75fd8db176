/* SPDX-License-Identifier: MIT */
/*
 * The reference model of the slotheap policy (docs/DESIGN.md, rules 1-9 and the misuse
 * rules), written to be checked by reading rather than to be fast.
 *
 * Each region is a sorted array of blocks {start, size, live} tiling its arena; every search
 * is a linear scan over it. A region with nslots slots holds at most nslots blocks, so a
 * split or a new gap needs blocks < nslots ("a spare slot"), and a merge gives one back.
 * The model never touches the managed memory: it only computes addresses.
 *
 * Readings chosen where docs/DESIGN.md leaves room (each consistent with slotheap.h's
 * comments; they bind core/ too):
 *  - A pointer outside every arena (including a region's own metadata below its arena) is
 *    SH_EFOREIGN; inside an arena, the start of a free block is SH_EDOUBLEFREE, any other
 *    address that is not a block start is SH_EBADPTR.
 *  - realloc(NULL, n) is malloc(n) even for n == 0 (one granule), not a free of NULL.
 *  - realloc checks p before anything else: a bad p is misuse (not a failed allocation) even
 *    when n == 0 or bs would overflow. realloc(p, 0) of a live p frees it, returns 0, and is
 *    neither a failure nor a change of last_error.
 *  - realloc failures (SH_EOVERFLOW, SH_ENOMEM) count in failed_allocs like malloc's.
 *  - "The block above" in realloc is the next block of the same region, adjacent by tiling;
 *    a block at the top of its region has none. The moving case allocates by the malloc rules
 *    over every region (mask SH_ALL_REGIONS), with p still live, G-aligned only.
 *  - memalign checks the alignment before the size: memalign(3, SIZE_MAX) is SH_EALIGN.
 *    A block whose lowest aligned start leaves a gap that cannot get a spare slot is passed
 *    over whole: any higher aligned start in it would need a gap slot too. The gap takes its
 *    slot before the tail, so with one spare slot the allocation takes the tail.
 *  - calloc: n * size overflow is SH_EOVERFLOW, then the malloc rules apply to the product.
 *  - malloc_in: mask bits of regions that do not exist are ignored; no usable region means
 *    SH_ENOMEM.
 *  - shref_add_region also rejects (SH_EINVAL) a region beyond SH_MAX_REGIONS, an arena
 *    that wraps the address space (or ends exactly at its top) or that overlaps an arena
 *    already added; core/ refuses such regions, so they never reach the model.
 *  - usable_size of anything but a live block start is 0 and is not misuse.
 *
 * The SH_HARDEN build (docs/DESIGN.md, "The harden build"): rule 1 takes granules for n + 1
 * bytes and the usable size is n. The model keeps the set of addresses whose byte differs
 * from what the allocator keeps there, the guard byte in a live block's slack or the poison
 * byte in free memory ("dirty"), as the caller's writes (shref_overrun, shref_write_freed)
 * make them; the allocator's own fills clear them. Its reports, in call order:
 *  - free, realloc: the block's first dirty slack byte, SH_EOVERRUN (ptr, request, offset);
 *  - handing out a block (malloc, calloc, memalign, realloc moving): its first dirty byte,
 *    SH_EUSEAFTERFREE (ptr, request, offset); realloc growing in place: the first dirty byte
 *    of what it grows into, ptr the block being grown.
 */
#include "shref.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define G ((size_t)SH_GRANULE)

struct blk {
	uintptr_t start;
	size_t size;
	bool live;
#if SH_HARDEN
	size_t req; /* live: the bytes asked for; the guard fills the rest */
#endif
};

struct reg {
	uintptr_t arena;
	size_t size;
	size_t nslots;
	size_t n; /* blocks in b[], sorted by start, tiling [arena, arena + size) */
	size_t cap;
	struct blk *b;
};

struct shref {
	struct reg r[SH_MAX_REGIONS];
	unsigned nregions;
	int last_error;
	size_t failed_allocs;
	size_t misuse;
	struct sh_report rep[2]; /* reports of the last call (SH_HARDEN) */
	unsigned nrep;
	uintptr_t *dirty; /* sorted addresses of changed bytes (SH_HARDEN) */
	size_t ndirty, dcap;
};

/* ---- block array helpers ---- */

/* The array p of *cap elements of elem bytes, doubled (first elements if empty); the model
 * cannot go on without it, so running out of host memory aborts. */
static void *grow(void *p, size_t *cap, size_t elem, size_t first)
{
	size_t n = *cap ? 2 * *cap : first;
	void *q = realloc(p, n * elem);

	if (!q) {
		(void)fprintf(stderr, "shref: host out of memory\n");
		abort();
	}
	*cap = n;
	return q;
}

static void insert_blk(struct reg *r, size_t i, struct blk b)
{
	if (r->n == r->cap)
		r->b = grow(r->b, &r->cap, sizeof(*r->b), 8);
	memmove(&r->b[i + 1], &r->b[i], (r->n - i) * sizeof(*r->b));
	r->b[i] = b;
	r->n++;
}

static void erase_blk(struct reg *r, size_t i)
{
	memmove(&r->b[i], &r->b[i + 1], (r->n - i - 1) * sizeof(*r->b));
	r->n--;
}

static bool has_spare(const struct reg *r)
{
	return r->n < r->nslots;
}

static bool above_is_free(const struct reg *r, size_t i)
{
	return i + 1 < r->n && !r->b[i + 1].live;
}

/* Region whose arena holds p, or -1. */
static int region_of(const struct shref *m, uintptr_t p)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		if (p >= m->r[i].arena && p - m->r[i].arena < m->r[i].size)
			return (int)i;
	}
	return -1;
}

/* Index of the block starting at p in r, or r->n if none. */
static size_t block_at(const struct reg *r, uintptr_t p)
{
	size_t i;
	for (i = 0; i < r->n; i++) {
		if (r->b[i].start == p)
			break;
	}
	return i;
}

/* ---- results ---- */

static uintptr_t fail(struct shref *m, int code)
{
	m->failed_allocs++;
	m->last_error = code;
	return 0;
}

static int report_misuse(struct shref *m, int code)
{
	m->misuse++;
	m->last_error = code;
	return code;
}

/* Rule 1: bs = max(G, round_up(n, G)); false if that overflows. */
static bool block_size(size_t n, size_t *bs)
{
#if SH_HARDEN
	/* The harden build's rule 1: granules for n + 1 bytes (one guard byte at least). */
	if (n > SIZE_MAX - G)
		return false;
	n++;
#endif
	if (n > SIZE_MAX - (G - 1))
		return false;
	*bs = n == 0 ? G : (n + G - 1) / G * G;
	return true;
}

/* Classifies p (not 0): 0 if it starts a live block (its region and index in *ri, *bi),
 * else the misuse code. */
static int classify(const struct shref *m, uintptr_t p, unsigned *ri, size_t *bi)
{
	int r = region_of(m, p);
	if (r < 0)
		return SH_EFOREIGN;
	size_t i = block_at(&m->r[r], p);
	if (i == m->r[r].n)
		return SH_EBADPTR;
	if (!m->r[r].b[i].live)
		return SH_EDOUBLEFREE;
	*ri = (unsigned)r;
	*bi = i;
	return 0;
}

/* ---- SH_HARDEN: changed bytes and reports ---- */

#if SH_HARDEN
/* First index of m->dirty holding an address >= a. */
static size_t dirty_lower(const struct shref *m, uintptr_t a)
{
	size_t lo = 0, hi = m->ndirty;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->dirty[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void dirty_set(struct shref *m, uintptr_t a, bool changed)
{
	size_t i = dirty_lower(m, a);
	bool there = i < m->ndirty && m->dirty[i] == a;

	if (changed && !there) {
		if (m->ndirty == m->dcap)
			m->dirty = grow(m->dirty, &m->dcap, sizeof(*m->dirty), 16);
		memmove(&m->dirty[i + 1], &m->dirty[i], (m->ndirty - i) * sizeof(*m->dirty));
		m->dirty[i] = a;
		m->ndirty++;
	} else if (!changed && there) {
		memmove(&m->dirty[i], &m->dirty[i + 1],
			(m->ndirty - i - 1) * sizeof(*m->dirty));
		m->ndirty--;
	}
}

/* The lowest changed address in [lo, hi), or 0. */
static uintptr_t dirty_first(const struct shref *m, uintptr_t lo, uintptr_t hi)
{
	size_t i = dirty_lower(m, lo);

	return i < m->ndirty && m->dirty[i] < hi ? m->dirty[i] : 0;
}

/* The allocator wrote its own bytes over [lo, hi). */
static void dirty_clear(struct shref *m, uintptr_t lo, uintptr_t hi)
{
	size_t i = dirty_lower(m, lo), j = dirty_lower(m, hi);

	if (j == i)
		return;
	memmove(&m->dirty[i], &m->dirty[j], (m->ndirty - j) * sizeof(*m->dirty));
	m->ndirty -= j - i;
}

static void add_report(struct shref *m, int code, uintptr_t p, size_t size, size_t bad)
{
	if (m->nrep < 2)
		m->rep[m->nrep] = (struct sh_report){code, (const void *)p, size, bad};
	m->nrep++;
}

/* free and realloc verify the guard of live block b, which is then whole again. */
static void guard_check(struct shref *m, const struct blk *b)
{
	uintptr_t a = dirty_first(m, b->start + b->req, b->start + b->size);

	if (a)
		add_report(m, SH_EOVERRUN, b->start, b->req, a - b->start);
	dirty_clear(m, b->start + b->req, b->start + b->size);
}

/* Bytes [lo, hi) of the block at p are handed out for a request of n. */
static void handed(struct shref *m, uintptr_t p, size_t n, uintptr_t lo, uintptr_t hi)
{
	uintptr_t a = dirty_first(m, lo, hi);

	if (a)
		add_report(m, SH_EUSEAFTERFREE, p, n, a - p);
	dirty_clear(m, lo, hi);
}
#endif

/* A block p (0: none) was just taken by malloc, calloc, memalign or a moving realloc for n
 * bytes. Returns p. */
static uintptr_t hand_out(struct shref *m, uintptr_t p, size_t n)
{
#if SH_HARDEN
	unsigned ri;
	size_t bi;

	if (p == 0 || classify(m, p, &ri, &bi) != 0)
		return p;
	struct blk *b = &m->r[ri].b[bi];
	b->req = n;
	handed(m, p, n, b->start, b->start + b->size);
#else
	(void)m;
	(void)n;
#endif
	return p;
}

/* ---- policy ---- */

/* Rule 4: allocate bs bytes at the low end of free block i, splitting off the remainder if a
 * spare slot exists, else handing out the whole block. */
static uintptr_t take(struct reg *r, size_t i, size_t bs)
{
	struct blk *b = &r->b[i];
	if (b->size > bs && has_spare(r)) {
		struct blk rest = {.start = b->start + bs, .size = b->size - bs, .live = false};
		b->size = bs;
		insert_blk(r, i + 1, rest);
	}
	r->b[i].live = true;
	return r->b[i].start;
}

/* Rule 5: block i becomes free and merges with free neighbours (above first, then below). */
static void release(struct reg *r, size_t i)
{
	r->b[i].live = false;
	if (above_is_free(r, i)) {
		r->b[i].size += r->b[i + 1].size;
		erase_blk(r, i + 1);
	}
	if (i > 0 && !r->b[i - 1].live) {
		r->b[i - 1].size += r->b[i].size;
		erase_blk(r, i);
	}
}

/* Rules 2-4: first fit over the regions in mask, in index order. 0 if nothing fits. */
static uintptr_t first_fit(struct shref *m, unsigned mask, size_t bs)
{
	for (unsigned ri = 0; ri < m->nregions; ri++) {
		struct reg *r = &m->r[ri];
		if (!(mask & (1u << ri)))
			continue;
		for (size_t i = 0; i < r->n; i++) {
			if (!r->b[i].live && r->b[i].size >= bs)
				return take(r, i, bs);
		}
	}
	return 0;
}

struct shref *shref_new(void)
{
	return calloc(1, sizeof(struct shref));
}

void shref_delete(struct shref *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < SH_MAX_REGIONS; i++)
		free(m->r[i].b);
	free(m->dirty);
	free(m);
}

int shref_copy(struct shref *dst, const struct shref *src)
{
	if (dst->dcap < src->ndirty) {
		uintptr_t *nd = realloc(dst->dirty, src->ndirty * sizeof(*nd));
		if (!nd)
			return SH_ENOMEM;
		dst->dirty = nd;
		dst->dcap = src->ndirty;
	}
	if (src->ndirty)
		memcpy(dst->dirty, src->dirty, src->ndirty * sizeof(*dst->dirty));
	dst->ndirty = src->ndirty;
	dst->nrep = src->nrep;
	memcpy(dst->rep, src->rep, sizeof(dst->rep));
	for (unsigned i = 0; i < SH_MAX_REGIONS; i++) {
		struct reg *d = &dst->r[i];
		const struct reg *s = &src->r[i];

		if (d->cap < s->n) {
			struct blk *nb = realloc(d->b, s->n * sizeof(*nb));
			if (!nb)
				return SH_ENOMEM;
			d->b = nb;
			d->cap = s->n;
		}
		d->arena = s->arena;
		d->size = s->size;
		d->nslots = s->nslots;
		d->n = s->n;
		if (s->n)
			memcpy(d->b, s->b, s->n * sizeof(*d->b));
	}
	dst->nregions = src->nregions;
	dst->last_error = src->last_error;
	dst->failed_allocs = src->failed_allocs;
	dst->misuse = src->misuse;
	return 0;
}

int shref_add_region(struct shref *m, uintptr_t arena, size_t size, size_t nslots)
{
	if (!m || m->nregions >= SH_MAX_REGIONS || nslots == 0 || size == 0 || size % G != 0 ||
	    arena % G != 0 || size > UINTPTR_MAX - arena)
		return SH_EINVAL;
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct reg *o = &m->r[i];
		if (arena < o->arena + o->size && o->arena < arena + size)
			return SH_EINVAL;
	}
	struct reg *r = &m->r[m->nregions++];
	memset(r, 0, sizeof(*r));
	r->arena = arena;
	r->size = size;
	r->nslots = nslots;
	struct blk whole = {.start = arena, .size = size, .live = false};
	insert_blk(r, 0, whole);
	return 0;
}

uintptr_t shref_malloc_in(struct shref *m, unsigned region_mask, size_t size)
{
	size_t bs;
	if (!block_size(size, &bs))
		return fail(m, SH_EOVERFLOW);
	uintptr_t p = hand_out(m, first_fit(m, region_mask, bs), size);
	return p ? p : fail(m, SH_ENOMEM);
}

uintptr_t shref_malloc(struct shref *m, size_t size)
{
	return shref_malloc_in(m, SH_ALL_REGIONS, size);
}

/* Rule 8. */
uintptr_t shref_calloc(struct shref *m, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return fail(m, SH_EOVERFLOW);
	return shref_malloc(m, n * size);
}

/* Rule 6. A free block [start, end) is cut at the lowest align-multiple b with b + bs <= end:
 *
 *	start        b          b + bs        end
 *	|--- gap ----|--- bs ----|--- tail ----|
 *	 free, needs   live        rule 4 (take): needs another spare slot,
 *	 a spare slot              else the allocation keeps the tail
 */
uintptr_t shref_memalign(struct shref *m, size_t align, size_t size)
{
	return shref_memalign_in(m, SH_ALL_REGIONS, align, size);
}

uintptr_t shref_memalign_in(struct shref *m, unsigned region_mask, size_t align, size_t size)
{
	size_t bs;
	if (align == 0 || (align & (align - 1)) != 0)
		return fail(m, SH_EALIGN);
	if (align < G)
		align = G;
	if (!block_size(size, &bs))
		return fail(m, SH_EOVERFLOW);
	for (unsigned ri = 0; ri < m->nregions; ri++) {
		struct reg *r = &m->r[ri];
		if (!(region_mask & (1u << ri)))
			continue;
		for (size_t i = 0; i < r->n; i++) {
			struct blk *b = &r->b[i];
			if (b->live)
				continue;
			size_t gap = (size_t)((align - b->start % align) % align);
			if (gap > b->size || bs > b->size - gap)
				continue; /* no aligned start with room for bs */
			if (gap == 0)
				return hand_out(m, take(r, i, bs), size);
			if (!has_spare(r))
				continue; /* the front gap could get no slot */
			struct blk rest = {
				.start = b->start + gap, .size = b->size - gap, .live = false};
			b->size = gap;
			insert_blk(r, i + 1, rest);
			return hand_out(m, take(r, i + 1, bs), size);
		}
	}
	return fail(m, SH_ENOMEM);
}

/* Rule 5 and the misuse rules. */
int shref_free(struct shref *m, uintptr_t p)
{
	unsigned ri;
	size_t bi;
	if (p == 0)
		return 0;
	int code = classify(m, p, &ri, &bi);
	if (code)
		return report_misuse(m, code);
#if SH_HARDEN
	{
		const struct blk *b = &m->r[ri].b[bi];
		guard_check(m, b);
		dirty_clear(m, b->start, b->start + b->size); /* filled with the poison byte */
	}
#endif
	release(&m->r[ri], bi);
	return 0;
}

/* Rule 7. */
uintptr_t shref_realloc(struct shref *m, uintptr_t p, size_t size)
{
	return shref_realloc_in(m, SH_ALL_REGIONS, p, size);
}

uintptr_t shref_realloc_in(struct shref *m, unsigned region_mask, uintptr_t p, size_t size)
{
	unsigned ri;
	size_t bi, bs;
	if (p == 0)
		return shref_malloc_in(m, region_mask, size);
	int code = classify(m, p, &ri, &bi);
	if (code) {
		report_misuse(m, code);
		return 0;
	}
	struct reg *r = &m->r[ri];
#if SH_HARDEN
	guard_check(m, &r->b[bi]);
#endif
	if (size == 0) {
#if SH_HARDEN
		dirty_clear(m, r->b[bi].start, r->b[bi].start + r->b[bi].size);
#endif
		release(r, bi);
		return 0;
	}
	if (!block_size(size, &bs))
		return fail(m, SH_EOVERFLOW);
	struct blk *b = &r->b[bi];
	if (bs <= b->size) { /* shrink in place */
		size_t cut = b->size - bs;
#if SH_HARDEN
		b->req =
			size; /* a cut tail is filled with the poison byte: nothing dirty there */
#endif
		if (cut == 0)
			return p;
		if (above_is_free(r, bi)) {
			r->b[bi + 1].start -= cut;
			r->b[bi + 1].size += cut;
			b->size = bs;
		} else if (has_spare(r)) {
			struct blk tail = {.start = b->start + bs, .size = cut, .live = false};
			b->size = bs;
			insert_blk(r, bi + 1, tail);
		}
		return p;
	}
	if (above_is_free(r, bi) && r->b[bi + 1].size >= bs - b->size) { /* grow in place */
		size_t need = bs - b->size;
		struct blk *above = &r->b[bi + 1];
#if SH_HARDEN
		handed(m, p, size, b->start + b->size, b->start + bs);
		b->req = size;
#endif
		b->size = bs;
		if (above->size == need) {
			erase_blk(r, bi + 1);
		} else {
			above->start += need;
			above->size -= need;
		}
		return p;
	}
	uintptr_t q = first_fit(m, region_mask, bs); /* move: p is live, so not a candidate */
	if (!q)
		return fail(m, SH_ENOMEM);
	hand_out(m, q, size);
	bi = block_at(r, p); /* p's index may have moved if q was split below it */
#if SH_HARDEN
	dirty_clear(m, r->b[bi].start, r->b[bi].start + r->b[bi].size);
#endif
	release(r, bi);
	return q;
}

/* Rule 9. */
size_t shref_usable_size(const struct shref *m, uintptr_t p)
{
	unsigned ri;
	size_t bi;
	if (p == 0 || classify(m, p, &ri, &bi) != 0)
		return 0;
#if SH_HARDEN
	return m->r[ri].b[bi].req;
#else
	return m->r[ri].b[bi].size;
#endif
}

size_t shref_block_size(const struct shref *m, uintptr_t p)
{
	unsigned ri;
	size_t bi;
	if (p == 0 || classify(m, p, &ri, &bi) != 0)
		return 0;
	return m->r[ri].b[bi].size;
}

unsigned shref_reports(struct shref *m, struct sh_report *out, unsigned max)
{
	unsigned n = m->nrep;

	for (unsigned i = 0; i < n && i < max && i < 2; i++)
		out[i] = m->rep[i];
	m->nrep = 0;
	return n;
}

int shref_overrun(struct shref *m, uintptr_t p, size_t k, unsigned char v)
{
#if SH_HARDEN
	unsigned ri;
	size_t bi;
	if (p == 0 || classify(m, p, &ri, &bi) != 0)
		return SH_EINVAL;
	const struct blk *b = &m->r[ri].b[bi];
	if (k > b->size - b->req)
		k = b->size - b->req;
	for (size_t i = 0; i < k; i++) {
		unsigned char x = (unsigned char)(v + i);
		dirty_set(m, b->start + b->req + i, x != SH_GUARD_BYTE);
	}
	return 0;
#else
	(void)m;
	(void)p;
	(void)k;
	(void)v;
	return SH_EINVAL;
#endif
}

int shref_write_freed(struct shref *m, uintptr_t addr, unsigned char v)
{
#if SH_HARDEN
	int ri = region_of(m, addr);
	if (ri < 0)
		return SH_EINVAL;
	const struct reg *r = &m->r[ri];
	for (size_t i = 0; i < r->n; i++) {
		if (addr - r->b[i].start < r->b[i].size) {
			if (r->b[i].live)
				return SH_EINVAL;
			dirty_set(m, addr, v != SH_POISON_BYTE);
			return 0;
		}
	}
	return SH_EINVAL;
#else
	(void)m;
	(void)addr;
	(void)v;
	return SH_EINVAL;
#endif
}

size_t shref_check_guards(const struct shref *m, struct sh_report *first)
{
	size_t n = 0;

	memset(first, 0, sizeof(*first));
#if SH_HARDEN
	for (unsigned ri = 0; ri < m->nregions; ri++) {
		const struct reg *r = &m->r[ri];
		for (size_t i = 0; i < r->n; i++) {
			const struct blk *b = &r->b[i];
			uintptr_t a;
			if (!b->live ||
			    !(a = dirty_first(m, b->start + b->req, b->start + b->size)))
				continue;
			if (n++ == 0)
				*first = (struct sh_report){SH_EOVERRUN, (const void *)b->start,
							    b->req, a - b->start};
		}
	}
#else
	(void)m;
#endif
	return n;
}

int shref_last_error(const struct shref *m)
{
	return m->last_error;
}

void shref_stats(const struct shref *m, struct sh_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned ri = 0; ri < m->nregions; ri++) {
		const struct reg *r = &m->r[ri];
		out->slots_total += r->nslots;
		out->slots_spare += r->nslots - r->n;
		for (size_t i = 0; i < r->n; i++) {
			const struct blk *b = &r->b[i];
			if (b->live) {
				out->live_bytes += b->size;
				out->live_blocks++;
			} else {
				out->free_bytes += b->size;
				out->free_blocks++;
				if (b->size > out->largest_free)
					out->largest_free = b->size;
			}
		}
	}
	out->failed_allocs = m->failed_allocs;
	out->misuse = m->misuse;
}

size_t shref_block_count(const struct shref *m)
{
	size_t n = 0;
	for (unsigned ri = 0; ri < m->nregions; ri++)
		n += m->r[ri].n;
	return n;
}

int shref_block(const struct shref *m, size_t i, struct sh_block_info *out)
{
	for (unsigned ri = 0; ri < m->nregions; ri++) {
		const struct reg *r = &m->r[ri];
		if (i < r->n) {
			out->region = ri;
			out->ptr = (void *)r->b[i].start;
			out->size = r->b[i].size;
			out->live = r->b[i].live;
			return 0;
		}
		i -= r->n;
	}
	return SH_EINVAL;
}
