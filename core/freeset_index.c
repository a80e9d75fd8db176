/* SPDX-License-Identifier: MIT */
/*
 * The free index: a tree of maxima of fixed shape over the arena (after R. P. Brent's
 * segment-tree first fit, widened). The arena is cut into leaves of 2^fs_shift granules;
 * each leaf keeps the chain of the free blocks that start in it (address ordered, through
 * their slots' link) and the size of the largest of them. Chained slots are free, whose off
 * and size carry no tag bits (sh_internal.h): they are read as they are. Above the leaves, each level
 * keeps the maximum of every SH_INDEX_FAN entries of the level below, up to a single root:
 *
 *   level 2 (root)   [        max        ]
 *   level 1          [ max | max | ... ]       one entry per 16 leaves
 *   level 0          [ m | m | m | ... | m ]   one entry per leaf (64 granules or more)
 *   leaf chains       b->b   -   b   ...       free blocks starting in each leaf
 *
 * First fit descends from the root, taking in each group the first entry of at least n
 * granules, then walks that leaf's chain to its first block of at least n: the lowest
 * address that fits. An update changes one or two leaf chains, recomputes those leaves'
 * maxima and carries each change up until an entry comes out unchanged.
 *
 * The free block that ends the arena (the top of the heap) is kept apart, in fs_tail, on no
 * chain and in no maximum: it lies above every other free block, so first fit and memalign
 * try it last, and carving from it or freeing onto it (all that batch allocation does)
 * changes no leaf.
 *
 * memalign walks the same entries in address order, depth first, and passes over an entry
 * whose maximum is under the request plus the least gap to an aligned start that any block
 * starting in its range must leave (aligned_search). It starts where earlier searches of the
 * same alignment class and size got to: below that watermark only the blocks recorded since
 * (exceptions) can fit, and those are tried first (see "Watermarks" below).
 *
 * Leaf size. A region's leaves are 2^s granules, s fixed by sh_add_region from the region's
 * size in granules g and its slot count n (leaf_shift): the least s >= 6 that cuts g into at
 * most L = min(ceil(g / 64), max(ceil(g / 2^SH_INDEX_LEAF_SHIFT_MAX), 2^floor(log2(n /
 * SH_INDEX_SLOTS_PER_LEAF)))) leaves. A region with few bytes per slot keeps leaves of 64
 * granules; one with many (a large pool provisioned for its use) gets larger leaves, so the
 * index costs about 2 * 4 bytes per SH_INDEX_SLOTS_PER_LEAF slots instead of 0.8 % of the
 * arena. L never decreases as g grows, and the index is sized for L leaves, so
 * sh_region_meta_bytes never decreases with the region's size.
 *
 * Bounds, with G the arena's granules, leaves of 2^s granules and h = 1 + ceil(log16(G /
 * 2^s)) levels (h <= 8 for the largest arena): free blocks never touch, so a leaf starts at
 * most c = min(2^(s-1), nslots) of them. First fit reads at most 16 (h - 1) entries and c
 * slots; insert, remove and update walk at most two leaf chains (2 c slots) and recompute at
 * most 2 (h - 1) groups of 16 entries. None depends on the number of blocks. Memory: 4 bytes
 * per leaf for the chain head and 4 per maximum, each level padded to whole groups
 * (sh_fs_bytes): under 0.9 % of the arena with 16-byte granules at most, and about
 * 8 / SH_INDEX_SLOTS_PER_LEAF bytes per slot where the slots bound the leaves; regions of at
 * least SH_INDEX_WM_MIN_GRAN granules add SH_INDEX_WM_WORDS words of memalign watermarks
 * (2,688 bytes).
 */

#include "sh_internal.h"

#if !SH_LINEAR

#define FAN SH_INDEX_FAN
/* x86-64 (SSE2 is in its base instruction set) reads a group of 16 entries in four vectors;
 * other targets and other group sizes loop. */
#if defined(__SSE2__) && SH_INDEX_FAN == 16
#define SSE2_GROUPS 1
#else
#define SSE2_GROUPS 0
#endif
#define NODE(r, i) sh_slot_at(r, i)

static uint32_t leaf_of(const struct sh_region *r, uint32_t off)
{
	return off >> r->fs_shift;
}

static uint32_t groups(uint32_t n)
{
	return (n + FAN - 1) / FAN;
}

/* ceil(n / 2^s). */
static uint32_t ceil_shift(uint32_t n, unsigned s)
{
	return (uint32_t)(((uint64_t)n + ((uint64_t)1 << s) - 1) >> s);
}

/* Leaves the index of an arena of at most ngran granules with nslots slots is sized for: one
 * per SH_INDEX_LEAF granules, but no more than the largest power of two at most nslots /
 * SH_INDEX_SLOTS_PER_LEAF (at least 1), and no fewer than one per 2^SH_INDEX_LEAF_SHIFT_MAX
 * granules. Never decreases as ngran grows. */
static uint32_t leaf_budget(uint32_t ngran, uint32_t nslots)
{
	uint32_t fine = ceil_shift(ngran, SH_INDEX_LEAF_SHIFT);
	uint32_t coarse = ceil_shift(ngran, SH_INDEX_LEAF_SHIFT_MAX);
	uint32_t want = 1, q = nslots / SH_INDEX_SLOTS_PER_LEAF;

	while (want <= q / 2)
		want <<= 1;
	want = want < coarse ? coarse : want;
	want = want > fine ? fine : want;
	return want ? want : 1;
}

/* The leaf shift of such an arena: the least that keeps its leaves within the budget. */
static unsigned leaf_shift(uint32_t ngran, uint32_t nslots)
{
	uint32_t budget = leaf_budget(ngran, nslots);
	unsigned s = SH_INDEX_LEAF_SHIFT;

	while (ceil_shift(ngran, s) > budget)
		s++;
	return s;
}

/* The index's shape for the given leaves: levels and where each level starts among the
 * maxima; returns the number of maxima (every level padded to whole groups). */
static uint32_t shape(uint32_t leaves, uint32_t *nlevels, uint32_t level[SH_INDEX_LEVELS])
{
	uint32_t n = leaves, total = 0, lv = 0;

	for (;;) {
		level[lv++] = total;
		total += groups(n) * FAN;
		if (n == 1)
			break;
		n = groups(n);
	}
	*nlevels = lv;
	return total;
}

/* Leaves of r's index: its arena in leaves of 2^fs_shift granules, at least one. */
static uint32_t leaves_of(const struct sh_region *r, unsigned shift)
{
	uint32_t n = ceil_shift(r->ngran, shift);

	return n ? n : 1;
}

size_t sh_fs_bytes(uint32_t ngran, uint32_t nslots)
{
	uint32_t nlevels, level[SH_INDEX_LEVELS], leaves = leaf_budget(ngran, nslots);
	uint32_t maxima = shape(leaves, &nlevels, level);

	return ((size_t)leaves + maxima +
		(ngran >= SH_INDEX_WM_MIN_GRAN ? SH_INDEX_WM_WORDS : 0)) *
	       sizeof(uint32_t);
}

void sh_fs_init(struct sh_region *r, void *mem, uint32_t sized)
{
	r->fs_shift = leaf_shift(sized, r->nslots);

	uint32_t leaves = leaves_of(r, r->fs_shift);
	uint32_t maxima = shape(leaves, &r->fs_nlevels, r->fs_level);

	r->fs_head = mem;
	r->fs_max = r->fs_head + leaves;
	r->fs_wm = sized >= SH_INDEX_WM_MIN_GRAN ? r->fs_max + maxima : NULL;
	r->fs_nleaves = leaves;
	r->fs_tail = SH_NIL;
	r->fs_wm_used = 0;
	r->fs_hint_leaf = SH_NIL; /* no hint: fs_hint_prev means nothing */
	r->fs_hint_max = UINT32_MAX;
	for (uint32_t j = 0; j < leaves; j++)
		r->fs_head[j] = SH_NIL;
	for (uint32_t j = 0; j < maxima; j++)
		r->fs_max[j] = 0;
	for (uint32_t j = 0; r->fs_wm && j < SH_INDEX_WM_WORDS; j++)
		r->fs_wm[j] = 0;
}

/* The group of FAN entries at level lv that holds entry j. */
static uint32_t *group_of(const struct sh_region *r, uint32_t lv, uint32_t j)
{
	return r->fs_max + r->fs_level[lv] + (j & ~(uint32_t)(FAN - 1));
}

#if SSE2_GROUPS
/* x86-64 (SSE2 is in its base instruction set): the maximum of a group of 16 in four vectors.
 * Entries are at most SH_MAX_ARENA_GRANULES, so signed compares order them. */
#include <emmintrin.h>

static __m128i max4(__m128i a, __m128i b)
{
	__m128i gt = _mm_cmpgt_epi32(a, b);

	return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}

static uint32_t group_max(const uint32_t *g)
{
	const __m128i *v = (const __m128i *)(const void *)g;
	__m128i m = max4(max4(_mm_loadu_si128(v), _mm_loadu_si128(v + 1)),
			 max4(_mm_loadu_si128(v + 2), _mm_loadu_si128(v + 3)));

	m = max4(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
	m = max4(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32_t)_mm_cvtsi128_si32(m);
}
#else
static uint32_t group_max(const uint32_t *g)
{
	uint32_t m = 0;

	for (unsigned k = 0; k < FAN; k++)
		m = g[k] > m ? g[k] : m;
	return m;
}
#endif

/* Index in group g of its first entry of at least gran from entry from (<= FAN) on, FAN if
 * none. */
#if SSE2_GROUPS
static unsigned first_at_least(const uint32_t *g, unsigned from, uint32_t gran)
{
	/* Entries are below 2^31: a signed compare with gran - 1 is exact up to gran = 2^31, and
	 * no entry reaches a larger gran. */
	if (gran > SH_TAG)
		return FAN;
	const __m128i *v = (const __m128i *)(const void *)g;
	__m128i t = _mm_set1_epi32((int)(gran - 1));
	/* Sixteen compares packed into sixteen bytes, one mask bit per entry. */
	__m128i lo = _mm_packs_epi32(_mm_cmpgt_epi32(_mm_loadu_si128(v), t),
				     _mm_cmpgt_epi32(_mm_loadu_si128(v + 1), t));
	__m128i hi = _mm_packs_epi32(_mm_cmpgt_epi32(_mm_loadu_si128(v + 2), t),
				     _mm_cmpgt_epi32(_mm_loadu_si128(v + 3), t));
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(lo, hi)) & (~0u << from);

	return m ? (unsigned)__builtin_ctz(m) : FAN;
}
#else
static unsigned first_at_least(const uint32_t *g, unsigned from, uint32_t gran)
{
	unsigned k = from;

	while (k < FAN && g[k] < gran)
		k++;
	return k;
}
#endif

/* Leaf j's maximum becomes m: carries the change up while it changes the level above. */
static void set_leaf_max(struct sh_region *r, uint32_t j, uint32_t m)
{
	uint32_t *e = r->fs_max + j, old = *e;

	for (uint32_t lv = 1;; lv++) {
		if (m == old)
			return;
		*e = m;
		if (lv == r->fs_nlevels)
			return;
		uint32_t up = *(e = r->fs_max + r->fs_level[lv] + (j >> SH_INDEX_FAN_SHIFT));
		/* The parent changes only if m exceeds it or old was its maximum. */
		if (m <= up && old < up)
			return;
		uint32_t next = m > up ? m : group_max(group_of(r, lv - 1, j));
		old = up;
		m = next;
		j >>= SH_INDEX_FAN_SHIFT;
	}
}

/* The largest of m and the blocks of a chain from slot i on. */
static uint32_t scan_from(const struct sh_region *r, uint32_t i, uint32_t m)
{
	for (; i != SH_NIL; i = NODE(r, i)->link)
		if (NODE(r, i)->size > m)
			m = NODE(r, i)->size;
	return m;
}

/* Largest block in leaf j's chain. */
static uint32_t leaf_scan(const struct sh_region *r, uint32_t j)
{
	return scan_from(r, r->fs_head[j], 0);
}

/*
 * The search hint. A first fit or a neighbour look-up walks one chain to a position, and
 * the change that follows (carving the block found, freeing the block looked at) acts at that
 * position: the hint saves walking there again. It names a block of leaf fs_hint_leaf's chain
 * (fs_hint_prev, or the head for SH_NIL) and stays true while that block stays chained:
 * inserting and removing others keeps it in place. fs_hint_max, the largest size up to it,
 * only holds until the next change, which takes it.
 */
static void hint_set(struct sh_region *r, uint32_t j, uint32_t prev, uint32_t m)
{
	r->fs_hint_leaf = j;
	r->fs_hint_prev = prev;
	r->fs_hint_max = m;
}

/* Takes fs_hint_max (UINT32_MAX: not known), which only the change after the walk may use. */
static uint32_t hint_take_max(struct sh_region *r)
{
	uint32_t m = r->fs_hint_max;

	r->fs_hint_max = UINT32_MAX;
	return m;
}

/* Whether the hint names a position of leaf j's chain before block i, which starts (or
 * started, before the change being made to it) at off. */
static bool hint_before(const struct sh_region *r, uint32_t j, uint32_t i, uint32_t off)
{
	uint32_t p = r->fs_hint_prev;

	return r->fs_hint_leaf == j && (p == SH_NIL || (p != i && NODE(r, p)->off < off));
}

/* Where a walk of leaf j's chain for block i at offset off may start: the hinted position
 * when it lies before, else the head. */
static uint32_t *walk_start(struct sh_region *r, uint32_t j, uint32_t i, uint32_t off)
{
	uint32_t p = r->fs_hint_prev;

	return hint_before(r, j, i, off) && p != SH_NIL ? &NODE(r, p)->link : &r->fs_head[j];
}

/* Links slot i into leaf j's chain in address order. */
static void chain_in(struct sh_region *r, uint32_t j, uint32_t i)
{
	struct sh_slot *s = NODE(r, i);
	uint32_t *link = walk_start(r, j, i, s->off);

	while (*link != SH_NIL && NODE(r, *link)->off < s->off)
		link = &NODE(r, *link)->link;
	s->link = *link;
	*link = i;
	if (s->size > r->fs_max[j])
		set_leaf_max(r, j, s->size);
}

/*
 * Unlinks slot i, which started at off with size size, from leaf j's chain. below is the
 * largest size before i when the hint knew it (UINT32_MAX if not): then the new maximum is
 * found by scanning only the blocks after i. A block just before i at least as large as i
 * keeps the maximum at least at i's size: free merges a block into the one below it after
 * growing that one, whose own update follows (heap.c's release).
 */
static void chain_out(struct sh_region *r, uint32_t j, uint32_t i, uint32_t off, uint32_t size,
		      uint32_t below)
{
	bool hinted = hint_before(r, j, i, off);
	uint32_t p = hinted ? r->fs_hint_prev : SH_NIL;
	uint32_t *link = p != SH_NIL ? &NODE(r, p)->link : &r->fs_head[j];

	if (!hinted || *link != i)
		below = UINT32_MAX;
	while (*link != i) {
		p = *link;
		link = &NODE(r, p)->link;
	}
	*link = NODE(r, i)->link;
	NODE(r, i)->link = SH_NIL;
	if (r->fs_hint_prev == i)
		r->fs_hint_leaf = SH_NIL;
	if (size != r->fs_max[j])
		return;
	if (p != SH_NIL && NODE(r, p)->size >= size)
		set_leaf_max(r, j, NODE(r, p)->size);
	else
		set_leaf_max(r, j,
			     below != UINT32_MAX ? scan_from(r, *link, below)
						 : leaf_scan(r, j));
}

#define WM_ROW (SH_INDEX_WM_LEVELS)
#define WM_EXC (SH_INDEX_WM_EXCEPTIONS)

/* floor(log2 x), x > 0. */
static unsigned floor_log2(uint32_t x)
{
	unsigned n = 0;

	for (unsigned b = 16; b; b >>= 1)
		if (x >> b) {
			x >>= b;
			n += b;
		}
	return n;
}

/* Watermark levels: the thresholds are 1, 2, 3, then four per octave (4, 5, 6, 7, 8, 10, 12,
 * 14, 16, 20, ...), the last one WM_ROW - 1. The level of n >= 1 is that of the largest
 * threshold at most n. */
static unsigned wm_level(uint32_t n)
{
	unsigned e = floor_log2(n);
	unsigned c = e < 2 ? n - 1 : 4 * (e - 2) + ((n >> (e - 2)) & 3) + 3;

	return c < WM_ROW ? c : WM_ROW - 1;
}

/* The threshold of level c. */
static uint32_t wm_threshold(unsigned c)
{
	return c < 3 ? c + 1 : (4u + (c - 3) % 4) << ((c - 3) / 4);
}

/* The level of the smallest threshold at least n (WM_ROW if none). */
static unsigned wm_level_up(uint32_t n)
{
	unsigned c = wm_level(n);

	return wm_threshold(c) >= n ? c : c + 1;
}

/* The watermarks of class k (1 .. SH_INDEX_WM_CLASSES). */
static uint32_t *wm_row(const struct sh_region *r, unsigned k)
{
	return r->fs_wm + (k - 1) * WM_ROW;
}

/* Class k's exceptions, WM_EXC of {start, end, room}; room 0 marks an empty one. */
static uint32_t *wm_exc(const struct sh_region *r, unsigned k)
{
	return r->fs_wm + SH_INDEX_WM_CLASSES * WM_ROW + (k - 1) * WM_EXC * 3;
}

/* Granules from granule offset off up to the next multiple of 2^k granules in address. */
static uint32_t wm_gap(const struct sh_region *r, uint32_t off, unsigned k)
{
	return (0u - ((uint32_t)(r->arena / SH_GRANULE) + off)) & ((1u << k) - 1);
}

/* Lowers the watermarks w of the thresholds up to room to off. */
static void wm_lower(uint32_t *w, uint32_t off, uint32_t room)
{
	for (unsigned c = wm_level(room); w[c] > off; c--) {
		w[c] = off;
		if (c == 0)
			break;
	}
}

/* Blocks of room up to room may now start in [e, x), below class k's watermarks: an exception
 * joins one it overlaps or takes an empty entry; when all are taken, the one of least room
 * (the new one included) goes back to the searched part: the watermarks up to its room come
 * down to its start, which costs only the searches for that little. */
static void wm_except(struct sh_region *r, unsigned k, uint32_t e, uint32_t x, uint32_t room)
{
	uint32_t *t = wm_exc(r, k), *empty = NULL, *least = NULL;

	for (uint32_t *q = t; q < t + 3 * WM_EXC; q += 3) {
		if (q[2] == 0) {
			empty = empty ? empty : q;
		} else if (q[0] < x && e < q[1]) {
			q[0] = q[0] < e ? q[0] : e;
			q[1] = q[1] > x ? q[1] : x;
			q[2] = q[2] > room ? q[2] : room;
			return;
		} else if (!least || q[2] < least[2]) {
			least = q;
		}
	}
	if (!empty) {
		if (room <= least[2]) {
			wm_lower(wm_row(r, k), e, room);
			return;
		}
		wm_lower(wm_row(r, k), least[0], least[2]);
		empty = least;
	}
	empty[0] = e;
	empty[1] = x;
	empty[2] = room;
}

/* The free block [off, off + size) is new or has grown: every class in use (fs_wm_used, bit
 * k; callers test it first) whose watermark it passes records it. */
static void wm_note(struct sh_region *r, uint32_t off, uint32_t size)
{
	uint32_t used = r->fs_wm_used;

	for (unsigned k = 1; k <= SH_INDEX_WM_CLASSES && (used >> k); k++) {
		uint32_t gap = wm_gap(r, off, k);
		if (gap >= size)
			return; /* no room here, nor at any larger alignment */
		if (((used >> k) & 1) && off < wm_row(r, k)[wm_level(size - gap)])
			wm_except(r, k, off, off + size, size - gap);
	}
}

/* Whether block s ends the arena: then it is the tail, on no chain. */
static bool ends_arena(const struct sh_region *r, const struct sh_slot *s)
{
	return s->off + s->size == r->ngran;
}

void sh_fs_insert(struct sh_region *r, uint32_t i)
{
	struct sh_slot *s = NODE(r, i);

	hint_take_max(r);
	sh_slot_set_list(s, SH_LIST_FREE);
	if (r->fs_wm_used)
		wm_note(r, s->off, s->size);
	if (ends_arena(r, s))
		r->fs_tail = i;
	else
		chain_in(r, leaf_of(r, s->off), i);
}

void sh_fs_remove(struct sh_region *r, uint32_t i)
{
	uint32_t below = hint_take_max(r);
	const struct sh_slot *s = NODE(r, i);

	if (i == r->fs_tail)
		r->fs_tail = SH_NIL;
	else
		chain_out(r, leaf_of(r, s->off), i, s->off, s->size, below);
}

/*
 * Block i moved from old_off and/or resized from old_size, without passing another free
 * block. In the same leaf only the maximum can change; otherwise the block leaves one chain
 * (as its last block when it moved up, its first when it moved down) for another.
 */
void sh_fs_update(struct sh_region *r, uint32_t i, uint32_t old_off, uint32_t old_size)
{
	struct sh_slot *s = NODE(r, i);
	uint32_t from = leaf_of(r, old_off), to = leaf_of(r, s->off), below = hint_take_max(r);

	/* A block that reaches outside its former self may have gained room. */
	if (r->fs_wm_used && (s->off < old_off || sh_end_of(s) > old_off + old_size))
		wm_note(r, s->off, s->size);

	/* The tail changes no leaf while it stays the tail: carving from the top of the heap and
	 * freeing onto it cost no index update. */
	if (i == r->fs_tail) {
		if (!ends_arena(r, s)) {
			r->fs_tail = SH_NIL;
			chain_in(r, to, i);
		}
		return;
	}
	if (ends_arena(r, s)) {
		chain_out(r, from, i, old_off, old_size, below);
		r->fs_tail = i;
		return;
	}
	if (from != to) {
		chain_out(r, from, i, old_off, old_size, below);
		chain_in(r, to, i);
	} else if (s->size > r->fs_max[to]) {
		set_leaf_max(r, to, s->size);
	} else if (old_size == r->fs_max[to] && s->size < old_size) {
		/* Rescan the leaf, or only the blocks after i when the hint sits just before it
		 * (it knows the largest size before). */
		bool next = below != UINT32_MAX && hint_before(r, to, i, old_off) &&
			    *walk_start(r, to, i, old_off) == i;
		set_leaf_max(r, to,
			     next ? scan_from(r, s->link, below > s->size ? below : s->size)
				  : leaf_scan(r, to));
	}
}

/* From entry j of level lv, whose maximum is at least gran, down to the first leaf below it
 * that holds a block of at least gran. */
static uint32_t descend(const struct sh_region *r, uint32_t lv, uint32_t j, uint32_t gran)
{
	while (lv-- > 0) {
		j <<= SH_INDEX_FAN_SHIFT;
		j += first_at_least(r->fs_max + r->fs_level[lv] + j, 0, gran);
	}
	return j;
}

/* The first block of at least gran in leaf j's chain, SH_NIL if none; the hint names the
 * block before it and the largest size up to there. */
static uint32_t leaf_fit(struct sh_region *r, uint32_t j, uint32_t gran)
{
	uint32_t i = r->fs_head[j], prev = SH_NIL, m = 0;

	while (i != SH_NIL && NODE(r, i)->size < gran) {
		m = NODE(r, i)->size > m ? NODE(r, i)->size : m;
		prev = i;
		i = NODE(r, i)->link;
	}
	hint_set(r, j, prev, m);
	return i;
}

uint32_t sh_fs_first_fit(struct sh_region *r, uint32_t gran)
{
	uint32_t top = r->fs_nlevels - 1;

	if (r->fs_max[r->fs_level[top]] >= gran)
		return leaf_fit(r, descend(r, top, 0, gran), gran);
	/* The tail lies above every chained block. */
	if (r->fs_tail != SH_NIL && NODE(r, r->fs_tail)->size >= gran)
		return r->fs_tail;
	return SH_NIL;
}

/*
 * memalign's search. Aligned starts are the offsets first + k * step (step a power of two);
 * a block at off fits if its size is at least gran plus its gap, (first - off) mod step.
 * Entries are visited in address order, but one is passed over when its maximum is under
 * gran, or under gran plus the least gap of any block starting in its range: a range
 * [lo, hi) that holds an aligned start may have a block with no gap, one that holds none
 * only blocks whose aligned start is the next one after it, at least (next - (hi - 1)) on.
 *
 * Watermarks. A block's room at alignment 2^k is its size less its gap there (0 if the gap
 * is the whole block): the most granules an aligned start in it can have. Maxima of sizes
 * cannot skip the blocks whose room is short (at a large alignment, nearly all of them), so
 * the search keeps, per alignment class k (2^1 .. 2^SH_INDEX_WM_CLASSES granules) in use,
 * watermarks W[k][c] for SH_INDEX_WM_LEVELS thresholds t(c) (1, 2, 3, then four per octave;
 * W non-decreasing in c) and up to SH_INDEX_WM_EXCEPTIONS exceptions {e, x, m}, with the
 * invariant
 *
 *   a free block with room p >= 1 at 2^k starts at or above W[k][c], c the level of the
 *   largest threshold at most p, or inside an exception's [e, x) with m >= p.
 *
 * A search for gran tries the exceptions with m >= gran below W[k][c] (c the level of the
 * largest threshold at most gran) in address order, then the index from that watermark on:
 * nothing else below it can hold gran. When it has seen the first block with room for gran
 * at A (accepted or not; the arena's size if none), nothing below A has room for gran: it
 * raises W[k][c] to A for every c whose threshold is at least gran, and lowers m to gran - 1
 * in the exceptions below A. A block only loses room when it shrinks, moves up inside itself
 * or goes: a part of a block has no more room than the block. So the only events that can
 * break the invariant are a block that becomes free or grows (wm_note): in every class in use
 * whose watermark it passes it becomes an exception (joined to one it overlaps; when all are
 * taken, the one of least room is given up and the watermarks up to its room come down to its
 * start). A region that never sees memalign has no class in use and pays one test per such
 * event. Regions under SH_INDEX_WM_MIN_GRAN granules have no watermarks (their table would
 * outweigh them) and search from the start.
 */
struct aligned_walk {
	const struct sh_region *r;
	uint32_t gran;
	uint64_t step, first;
	sh_fs_accept accept;
	void *ctx;
	uint32_t from, to; /* the search covers blocks starting in [from, to) */
	uint32_t roomy;	   /* offset of the first block seen with room for gran, else SH_NIL */
};

static uint64_t least_fit(const struct aligned_walk *w, uint64_t lo, uint64_t hi)
{
	uint64_t next = lo <= w->first
				? w->first
				: w->first + ((lo - w->first + w->step - 1) & ~(w->step - 1));

	return next < hi ? w->gran : w->gran + (next - (hi - 1));
}

/* Whether block i has room for the request; the first such block is recorded. */
static bool aligned_room(struct aligned_walk *w, uint32_t i)
{
	const struct sh_slot *s = NODE(w->r, i);
	uint64_t gap = (w->first - s->off) & (w->step - 1);

	if (s->size < w->gran + gap)
		return false;
	if (w->roomy == SH_NIL)
		w->roomy = s->off;
	return true;
}

/* The group of FAN entries of level lv starting at entry j, depth first, from w->from on; at
 * most SH_INDEX_LEVELS deep. Returns the accepted block or SH_NIL. */
static uint32_t aligned_search(struct aligned_walk *w, uint32_t lv, uint32_t j)
{
	const struct sh_region *r = w->r;
	const uint32_t *g = r->fs_max + r->fs_level[lv] + j;
	unsigned shift = r->fs_shift + SH_INDEX_FAN_SHIFT * lv;
	uint32_t skip = (w->from >> shift) - j; /* entries wholly below w->from */

	/* Padding entries are 0, under any gran: the scan never leaves the level. */
	for (unsigned k = first_at_least(g, (w->from >> shift) > j ? skip : 0, w->gran);
	     k < FAN; k = first_at_least(g, k + 1, w->gran)) {
		uint64_t lo = (uint64_t)(j + k) << shift;
		if (lo >= w->to)
			return SH_NIL;
		if (g[k] < least_fit(w, lo, lo + ((uint64_t)1 << shift)))
			continue;
		if (lv > 0) {
			uint32_t i = aligned_search(w, lv - 1, (j + k) << SH_INDEX_FAN_SHIFT);
			if (i != SH_NIL)
				return i;
			continue;
		}
		for (uint32_t i = r->fs_head[j + k]; i != SH_NIL; i = NODE(r, i)->link) {
			uint32_t off = NODE(r, i)->off;
			if (off >= w->to)
				return SH_NIL;
			if (off >= w->from && aligned_room(w, i) && w->accept(r, i, w->ctx))
				return i;
		}
	}
	return SH_NIL;
}

/* Class k's exceptions that may hold gran below from, in address order; returns how many. */
static unsigned wm_candidates(const struct sh_region *r, unsigned k, uint32_t gran,
			      uint32_t from, const uint32_t *out[WM_EXC])
{
	const uint32_t *t = wm_exc(r, k);
	unsigned n = 0;

	for (const uint32_t *q = t; q < t + 3 * WM_EXC; q += 3) {
		if (q[2] < gran || q[0] >= from)
			continue;
		unsigned at = n++;
		for (; at > 0 && out[at - 1][0] > q[0]; at--)
			out[at] = out[at - 1];
		out[at] = q;
	}
	return n;
}

/* After a search for gran in class k that saw the first block with room for it at a. */
static void wm_learn(struct sh_region *r, unsigned k, uint32_t gran, uint32_t a)
{
	uint32_t *row = wm_row(r, k), *t = wm_exc(r, k);

	for (unsigned c = wm_level_up(gran); c < WM_ROW; c++)
		row[c] = row[c] > a ? row[c] : a;
	for (uint32_t *q = t; q < t + 3 * WM_EXC; q += 3)
		if (q[2] >= gran && q[1] <= a)
			q[2] = gran - 1;
	r->fs_wm_used |= 1u << k;
}

uint32_t sh_fs_scan(struct sh_region *r, uint32_t gran, uint64_t step, uint64_t first,
		    sh_fs_accept accept, void *ctx)
{
	struct aligned_walk w = {r, gran, step, first, accept, ctx, 0, UINT32_MAX, SH_NIL};
	unsigned k = floor_log2((uint32_t)(step < ((uint64_t)1 << 31) ? step : 1));
	uint32_t top = r->fs_nlevels - 1, t = r->fs_tail, i = SH_NIL;
	bool cached =
		r->fs_wm && k >= 1 && k <= SH_INDEX_WM_CLASSES && first == wm_gap(r, 0, k);

	if (cached) {
		const uint32_t *exc[WM_EXC];
		uint32_t from = wm_row(r, k)[wm_level(gran)];
		unsigned n = wm_candidates(r, k, gran, from, exc);
		for (unsigned e = 0; e < n && i == SH_NIL; e++) {
			w.from = exc[e][0];
			w.to = exc[e][1] < from ? exc[e][1] : from;
			i = aligned_search(&w, top, 0);
		}
		w.from = from;
		w.to = UINT32_MAX;
	}
	if (i == SH_NIL)
		i = aligned_search(&w, top, 0);
	if (i == SH_NIL && t != SH_NIL && aligned_room(&w, t) && accept(r, t, ctx))
		i = t;
	if (cached)
		wm_learn(r, k, gran, w.roomy != SH_NIL ? w.roomy : r->ngran);
	return i;
}

uint32_t sh_fs_find(const struct sh_region *r, uint32_t off)
{
	uint32_t i = r->fs_head[leaf_of(r, off)];

	if (r->fs_tail != SH_NIL && NODE(r, r->fs_tail)->off == off)
		return r->fs_tail;

	while (i != SH_NIL && NODE(r, i)->off < off)
		i = NODE(r, i)->link;
	return i != SH_NIL && NODE(r, i)->off == off ? i : SH_NIL;
}

uint32_t sh_fs_largest(const struct sh_region *r)
{
	uint32_t m = r->fs_max[r->fs_level[r->fs_nlevels - 1]];

	if (r->fs_tail != SH_NIL && NODE(r, r->fs_tail)->size > m)
		m = NODE(r, r->fs_tail)->size;
	return m;
}

/* ---- I6: the index against the free blocks ---- */

static unsigned index_fail(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
			   uint32_t i, const char *what)
{
	uintptr_t a =
		i < r->nslots ? r->arena + (uintptr_t)sh_slot_off(NODE(r, i)) * SH_GRANULE : 0;

	sh_check_fail(rep, SH_I6_INDEX, ri, i, a, what);
	return 1;
}

/* Leaf j's chain: slots in range, free, starting in leaf j, in address order. Returns the
 * failures (0 or 1) and adds the blocks to *nodes and their maximum to *m. */
static unsigned check_leaf(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
			   uint32_t j, uint32_t *nodes, uint32_t *m)
{
	bool have_prev = false;
	uint32_t prev = 0;

	*m = 0;
	for (uint32_t i = r->fs_head[j]; i != SH_NIL; i = NODE(r, i)->link) {
		if (i >= r->nslots)
			return index_fail(r, ri, rep, i, "free index link out of range");
		if (++*nodes > r->nslots)
			return index_fail(r, ri, rep, i, "free index chain has a cycle");
		const struct sh_slot *s = NODE(r, i);
		if (sh_slot_list(s) != SH_LIST_FREE)
			return index_fail(r, ri, rep, i,
					  "free index holds a slot that is not free");
		if (leaf_of(r, s->off) != j)
			return index_fail(r, ri, rep, i,
					  "free block chained in the wrong leaf");
		if (ends_arena(r, s))
			return index_fail(r, ri, rep, i,
					  "the block that ends the arena is chained");
		if (have_prev && s->off <= prev)
			return index_fail(r, ri, rep, i, "free index out of address order");
		have_prev = true;
		prev = s->off;
		*m = s->size > *m ? s->size : *m;
	}
	return 0;
}

/* The search hint: between calls it names the head or a chained block of its leaf, and its
 * maximum has been taken (the chains are sound when this runs, so a free block other than the
 * tail is on its leaf's chain). */
static unsigned check_hint(const struct sh_region *r, unsigned ri, struct sh_check_report *rep)
{
	uint32_t p = r->fs_hint_prev;

	if (r->fs_hint_max != UINT32_MAX)
		return index_fail(r, ri, rep, p, "free index hint outlived its call");
	if (r->fs_hint_leaf == SH_NIL || p == SH_NIL)
		return r->fs_hint_leaf == SH_NIL || r->fs_hint_leaf < r->fs_nleaves
			       ? 0
			       : index_fail(r, ri, rep, p, "free index hint names no leaf");
	if (p >= r->nslots || sh_slot_list(NODE(r, p)) != SH_LIST_FREE || p == r->fs_tail ||
	    leaf_of(r, NODE(r, p)->off) != r->fs_hint_leaf)
		return index_fail(r, ri, rep, p < r->nslots ? p : SH_NIL,
				  "free index hint names a block off its chain");
	return 0;
}

/* Whether free block s has its place under class k's watermarks and exceptions. */
static bool wm_holds(const struct sh_region *r, unsigned k, const struct sh_slot *s)
{
	uint32_t gap = wm_gap(r, s->off, k), room = s->size - gap;
	const uint32_t *t = wm_exc(r, k);

	if (gap >= s->size || s->off >= wm_row(r, k)[wm_level(room)])
		return true;
	for (const uint32_t *q = t; q < t + 3 * WM_EXC; q += 3)
		if (q[0] <= s->off && s->off < q[1] && q[2] >= room)
			return true;
	return false;
}

/* memalign's watermarks: only classes in use have any; rows non-decreasing and within the
 * arena; exceptions within it; and the invariant for every free block (the chains are sound
 * when this runs). */
static unsigned check_watermarks(const struct sh_region *r, unsigned ri,
				 struct sh_check_report *rep)
{
	if (r->fs_wm_used & ~(r->fs_wm ? ((1u << SH_INDEX_WM_CLASSES) - 1) << 1 : 0))
		return index_fail(r, ri, rep, SH_NIL, "watermarks of an unknown class in use");
	if (!r->fs_wm)
		return 0;
	for (unsigned k = 1; k <= SH_INDEX_WM_CLASSES; k++) {
		const uint32_t *w = wm_row(r, k), *t = wm_exc(r, k);
		bool used = (r->fs_wm_used >> k) & 1;
		for (unsigned c = 0; c < WM_ROW; c++)
			if ((!used && w[c] != 0) || w[c] > r->ngran ||
			    (c > 0 && w[c] < w[c - 1]))
				return index_fail(r, ri, rep, SH_NIL,
						  "memalign watermark out of order or range");
		for (const uint32_t *q = t; q < t + 3 * WM_EXC; q += 3)
			if (q[2] != 0 && (!used || q[0] >= q[1] || q[1] > r->ngran))
				return index_fail(r, ri, rep, SH_NIL,
						  "memalign exception out of range");
		if (!used)
			continue;
		if (r->fs_tail != SH_NIL && !wm_holds(r, k, NODE(r, r->fs_tail)))
			return index_fail(r, ri, rep, r->fs_tail,
					  "free block below a memalign watermark it passes");
		for (uint32_t j = 0; j < r->fs_nleaves; j++)
			for (uint32_t i = r->fs_head[j]; i != SH_NIL; i = NODE(r, i)->link)
				if (!wm_holds(r, k, NODE(r, i)))
					return index_fail(r, ri, rep, i,
							  "free block below a memalign "
							  "watermark it passes");
	}
	return 0;
}

unsigned sh_fs_check(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
		     uint32_t *nodes)
{
	uintptr_t size = r->end - r->base; /* also for a region that ends at the top */
	uint32_t sized = size / SH_GRANULE > SH_MAX_ARENA_GRANULES
				 ? SH_MAX_ARENA_GRANULES
				 : (uint32_t)(size / SH_GRANULE);
	unsigned shift = leaf_shift(sized, r->nslots);
	uint32_t nlevels, level[SH_INDEX_LEVELS], n = 0, m, leaves = leaves_of(r, shift);
	uint32_t maxima = shape(leaves, &nlevels, level);
	unsigned failures = 0;

	*nodes = 0;
	if (r->fs_shift != shift || r->fs_nleaves != leaves || r->fs_nlevels != nlevels ||
	    r->fs_head != (uint32_t *)(r->buckets + r->nbuckets) ||
	    r->fs_max != r->fs_head + leaves ||
	    r->fs_wm != (sized >= SH_INDEX_WM_MIN_GRAN ? r->fs_max + maxima : NULL) ||
	    (uintptr_t)(r->fs_max + maxima + (r->fs_wm ? SH_INDEX_WM_WORDS : 0)) > r->arena)
		return index_fail(r, ri, rep, SH_NIL, "free index geometry is inconsistent");
	for (uint32_t lv = 0; lv < nlevels; lv++)
		if (r->fs_level[lv] != level[lv])
			return index_fail(r, ri, rep, SH_NIL,
					  "free index geometry is inconsistent");

	uint32_t t = r->fs_tail;
	if (t != SH_NIL) {
		if (t >= r->nslots)
			return index_fail(r, ri, rep, t, "free index tail out of range");
		if (sh_slot_list(NODE(r, t)) != SH_LIST_FREE)
			return index_fail(r, ri, rep, t, "free index tail is not free");
		if (!ends_arena(r, NODE(r, t)))
			return index_fail(r, ri, rep, t,
					  "free index tail does not end the arena");
		n++;
	}
	for (uint32_t j = 0; j < leaves; j++) {
		if (check_leaf(r, ri, rep, j, &n, &m))
			return 1;
		if (r->fs_max[j] != m)
			failures += index_fail(r, ri, rep, r->fs_head[j],
					       "free index leaf maximum is wrong");
	}
	/* Each entry above the leaves is its group's maximum; padding entries are zero. */
	uint32_t count = leaves;
	for (uint32_t lv = 0; lv < nlevels; lv++) {
		const uint32_t *e = r->fs_max + level[lv];
		uint32_t padded = groups(count) * FAN;
		for (uint32_t j = count; j < padded; j++)
			if (e[j] != 0)
				failures += index_fail(r, ri, rep, SH_NIL,
						       "free index padding is not zero");
		if (lv + 1 < nlevels)
			for (uint32_t g = 0; g < groups(count); g++)
				if (r->fs_max[level[lv + 1] + g] !=
				    group_max(e + (size_t)g * FAN))
					failures += index_fail(r, ri, rep, SH_NIL,
							       "free index maximum disagrees "
							       "with the level below");
		count = groups(count);
	}
	*nodes = n;
	return failures + check_hint(r, ri, rep) + check_watermarks(r, ri, rep);
}

/* 1 + the position of the last non-zero entry among g[0 .. k), 0 if they are all zero. */
static unsigned last_nonzero(const uint32_t *g, unsigned k)
{
	if (k > 0 && g[k - 1] != 0) /* the usual case: the entry just before */
		return k;
#if SSE2_GROUPS
	const __m128i *v = (const __m128i *)(const void *)g;
	__m128i z = _mm_setzero_si128();
	unsigned zero = 0;

	for (unsigned q = 0; q < FAN / 4; q++)
		zero |= (unsigned)_mm_movemask_ps(
				_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128(v + q), z)))
			<< (4 * q);
	unsigned live = ~zero & ((1u << k) - 1);
	return live ? 32u - (unsigned)__builtin_clz(live) : 0;
#else
	while (k > 0 && g[k - 1] == 0)
		k--;
	return k;
#endif
}

/* Whether entry j of level lv cannot hold the block below off: even its largest block, started
 * at the range's last granule, would end before off. */
static bool falls_short(const struct sh_region *r, uint32_t lv, uint32_t j, uint32_t off)
{
	unsigned shift = r->fs_shift + SH_INDEX_FAN_SHIFT * lv;

	return (uint64_t)r->fs_max[r->fs_level[lv] + j] + (((uint64_t)j + 1) << shift) <= off;
}

/* The last block of leaf j's chain. */
static uint32_t leaf_last(const struct sh_region *r, uint32_t j)
{
	uint32_t last = SH_NIL;

	for (uint32_t i = r->fs_head[j]; i != SH_NIL; i = NODE(r, i)->link)
		last = i;
	return last;
}

/* The block below off past leaf j (= leaf(off - 1), which starts none below off) and the leaf
 * before it: the nearest earlier leaf that holds a block, found through the maxima (an entry
 * is 0 exactly when no block starts in its range). Climb while the group holds no non-zero
 * entry before ours, then descend through the last non-zero entry of each group; an entry
 * that falls short of off ends the search. */
static uint32_t below_far(const struct sh_region *r, uint32_t off, uint32_t j)
{
	uint32_t lv = 0;

	/* No chained block at all (the heap is live up to the tail): nothing below. */
	if (r->fs_max[r->fs_level[r->fs_nlevels - 1]] == 0)
		return SH_NIL;
	for (;;) {
		unsigned k = last_nonzero(group_of(r, lv, j), j & (FAN - 1));
		if (k > 0) {
			j = (j & ~(uint32_t)(FAN - 1)) + k - 1;
			break;
		}
		if (++lv == r->fs_nlevels)
			return SH_NIL;
		j >>= SH_INDEX_FAN_SHIFT;
	}
	for (;;) {
		if (falls_short(r, lv, j, off))
			return SH_NIL;
		if (lv-- == 0)
			break;
		j <<= SH_INDEX_FAN_SHIFT;
		j += last_nonzero(r->fs_max + r->fs_level[lv] + j, FAN) - 1;
	}
	return leaf_last(r, j);
}

/* i if it is a block that ends at off, else SH_NIL. */
static uint32_t ending_at(const struct sh_region *r, uint32_t i, uint32_t off)
{
	return i != SH_NIL && NODE(r, i)->off + NODE(r, i)->size == off ? i : SH_NIL;
}

/* The chained block with the highest start below off, where leaf j = leaf(off - 1) starts
 * none: the leaf before, or below_far. */
static uint32_t last_before_leaf(const struct sh_region *r, uint32_t off, uint32_t j)
{
	if ((j & (FAN - 1)) == 0 || r->fs_max[j - 1] == 0)
		return below_far(r, off, j);
	return falls_short(r, 0, j - 1, off) ? SH_NIL : leaf_last(r, j - 1);
}

/* The block below off when leaf j = leaf(off - 1) starts none below off. Blocks freed in
 * address order each merge with the free block the one before left (heap.c's last_freed): a
 * free slot that ends at off is the one (free blocks never overlap), found without the
 * search of last_before_leaf. A slot of another list carries a tag bit in its start or its
 * size, so its raw end lies past every arena and never matches. */
static uint32_t below_leaf(const struct sh_region *r, uint32_t off, uint32_t j)
{
	uint32_t c = r->last_freed;

	if (c < r->nslots && NODE(r, c)->off + NODE(r, c)->size == off)
		return c;
	return last_before_leaf(r, off, j);
}

/* The free block starting at end when chained block i is the only one that can: i, or the
 * tail. */
static uint32_t starting_at(const struct sh_region *r, uint32_t i, uint32_t end)
{
	if (i != SH_NIL && NODE(r, i)->off == end)
		return i;
	return r->fs_tail != SH_NIL && NODE(r, r->fs_tail)->off == end ? r->fs_tail : SH_NIL;
}

/*
 * Both free neighbours of the live block [off, end) in one walk. Free blocks neither touch
 * nor overlap, so only the free block with the highest start below off can end at off (never
 * the tail, which lies above every other): the last one of leaf(off - 1)'s chain below off,
 * or when that leaf starts none, the last of the leaf before it or below_far. When end lies
 * in the same leaf, the next block of the chain is the only one that can start at end.
 * When end lies in a later leaf, the live block covers that leaf up to end, so only its head
 * can. The walk's position becomes the hint: freeing inserts the block there, or removes
 * the block above from just after it. At most two leaf chains and 2 (h - 1) groups of maxima
 * are read.
 */
void sh_fs_neighbours(struct sh_region *r, uint32_t off, uint32_t end, uint32_t *lo,
		      uint32_t *hi)
{
	uint32_t last = SH_NIL, j;

	*lo = SH_NIL;
	*hi = SH_NIL;
	if (off == 0) {
		if (end < r->ngran)
			*hi = starting_at(r, r->fs_head[leaf_of(r, end)], end);
		return;
	}
	j = leaf_of(r, off - 1);
	uint32_t *link = &r->fs_head[j];
	while (*link != SH_NIL && NODE(r, *link)->off < off) {
		last = *link;
		link = &NODE(r, last)->link;
	}
	hint_set(r, j, last, UINT32_MAX);
	if (end < r->ngran)
		*hi = starting_at(r, leaf_of(r, end) == j ? *link : r->fs_head[leaf_of(r, end)],
				  end);
	*lo = ending_at(r, last != SH_NIL ? last : below_leaf(r, off, j), off);
}

#endif /* !SH_LINEAR */
