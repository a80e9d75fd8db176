/* SPDX-License-Identifier: MIT */
/*
 * sh_check, white-box: healthy heaps pass; then the metadata of a heap is corrupted through
 * sh_internal.h, one invariant at a time, and sh_check must return SH_ECORRUPT naming that
 * invariant, the region and (where one is involved) the slot and block. Each corruption also
 * adjusts whatever else it would break, so that only the invariant under test is violated.
 * Corrupted links that point out of range or form cycles must give a report, never a crash
 * or a hang (the tests run under ASan; the out-of-range values reach far past any mapping).
 *
 * Built twice: with the AVL free tree and with SH_LINEAR=1 (the sorted free list); the tests of
 * the index (I6) exist in both forms.
 */
#include <string.h>

#include "testutil.h"

#include "sh_internal.h"

#ifndef SH_LINEAR
#define SH_LINEAR 0
#endif

#define FAR_AWAY 0x7ffffff0u /* a slot index ~64 GiB past any slot array */

/* The tests poke at the metadata, which core poisons in ASan builds. */
static struct sh_region *reg(struct sh_heap *h, unsigned i)
{
	th_meta_open(h);
	return &h->region[i];
}

/* The slot of the block (free or live) starting at p. */
static uint32_t slot_of(const struct sh_heap *h, unsigned ri, const void *p)
{
	const struct sh_region *r = &h->region[ri];
	uintptr_t off = ((uintptr_t)p - r->arena) / GRAN;

	th_meta_open(h);
	for (uint32_t i = 0; i < r->nslots; i++)
		if (sh_slot_list(&r->slots[i]) != SH_LIST_SPARE &&
		    sh_slot_off(&r->slots[i]) == off)
			return i;
	fail_msg("no slot for block %p", p);
	return SH_NIL;
}

static uint32_t spare_tail(const struct sh_region *r)
{
	uint32_t i = r->spare;

	assert_int_not_equal(i, SH_NIL);
	while (r->slots[i].link != SH_NIL)
		i = r->slots[i].link;
	return i;
}

static void hash_unlink(struct sh_region *r, uint32_t i)
{
	uint32_t *link = &r->buckets[sh_bucket_of(r, sh_slot_off(&r->slots[i]))];

	while (*link != i) {
		assert_int_not_equal(*link, SH_NIL);
		link = &r->slots[*link].link;
	}
	*link = r->slots[i].link;
	r->slots[i].link = SH_NIL;
}

static void hash_push(struct sh_region *r, uint32_t i, uint32_t bucket)
{
	r->slots[i].link = r->buckets[bucket];
	r->buckets[bucket] = i;
}

/* The slots tagged free, in address order (no slot links its neighbours: sorted here). */
static unsigned free_blocks(const struct sh_region *r, uint32_t *out, unsigned cap)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < r->nslots; i++) {
		if (sh_slot_list(&r->slots[i]) != SH_LIST_FREE)
			continue;
		assert_true(n < cap);
		unsigned k = n++;
		while (k > 0 && r->slots[out[k - 1]].off > r->slots[i].off) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = i;
	}
	return n;
}

#if !SH_LINEAR
/* Entries of all levels of the index's maxima. */
static uint32_t index_entries(const struct sh_region *r)
{
	return r->fs_level[r->fs_nlevels - 1] + SH_INDEX_FAN;
}
#endif

/*
 * Rebuilds the free index from the slots tagged free, the slow way: with
 * SH_LINEAR the sorted list; otherwise each leaf's chain in address order, each leaf's
 * maximum, then each level's maxima from the level below (padding zero); the block that ends
 * the arena is the tail, apart.
 */
static void rebuild_index(struct sh_region *r)
{
	uint32_t f[256];
	unsigned n = free_blocks(r, f, 256);

#if SH_LINEAR
	r->free_root = n ? f[0] : SH_NIL;
	for (unsigned k = 0; k < n; k++) {
		r->slots[f[k]].link = k + 1 < n ? f[k + 1] : SH_NIL;
		r->slots[f[k]].prev = k > 0 ? f[k - 1] : SH_NIL;
	}
#else
	for (uint32_t j = 0; j < r->fs_nleaves; j++)
		r->fs_head[j] = SH_NIL;
	for (uint32_t j = 0; j < index_entries(r); j++)
		r->fs_max[j] = 0;
	for (uint32_t j = 0; r->fs_wm && j < SH_INDEX_WM_WORDS; j++)
		r->fs_wm[j] = 0;
	r->fs_wm_used = 0;
	r->fs_tail = SH_NIL;
	for (unsigned k = n; k-- > 0;) {
		struct sh_slot *s = &r->slots[f[k]];
		uint32_t leaf = s->off >> r->fs_shift;

		/* The block that ends the arena is the tail, on no chain. */
		if (s->off + s->size == r->ngran) {
			r->fs_tail = f[k];
			continue;
		}

		s->link = r->fs_head[leaf];
		r->fs_head[leaf] = f[k];
		if (s->size > r->fs_max[leaf])
			r->fs_max[leaf] = s->size;
	}
	for (uint32_t lv = 1; lv < r->fs_nlevels; lv++)
		for (uint32_t j = r->fs_level[lv - 1]; j < r->fs_level[lv]; j++) {
			uint32_t *up = &r->fs_max[r->fs_level[lv] +
						  (j - r->fs_level[lv - 1]) / SH_INDEX_FAN];
			if (r->fs_max[j] > *up)
				*up = r->fs_max[j];
		}
#endif
}

static void expect_report_at(const struct sh_heap *h, int inv, unsigned region,
			     const uint32_t *slots, const char *file, int line)
{
	struct sh_check_report rep;
	int rc;
	bool slot_ok = slots[0] == SH_NIL;

	memset(&rep, 0x5a, sizeof(rep));
	rc = sh_check(h, &rep);
	for (unsigned k = 0; slots[k] != SH_NIL; k++)
		slot_ok = slot_ok || rep.slot == slots[k];
	if (rc != SH_ECORRUPT || rep.invariant != inv || rep.region != region || !slot_ok ||
	    rep.failures == 0 || rep.what == NULL || rep.what[0] == 0) {
		print_error(
			"sh_check returned %d (%s); report: %u failure(s), first %d (%s) in "
			"region %u, slot %lu, block %#lx: %s\n"
			"expected SH_ECORRUPT, %d (%s) in region %u",
			rc, sh_strerror(rc), rep.failures, rep.invariant,
			sh_invariant_name(rep.invariant), rep.region, (unsigned long)rep.slot,
			(unsigned long)rep.block, rc == SH_ECORRUPT && rep.what ? rep.what : "",
			inv, sh_invariant_name(inv), region);
		if (slots[0] != SH_NIL) {
			print_error(", slot");
			for (unsigned k = 0; slots[k] != SH_NIL; k++)
				print_error(" %lu", (unsigned long)slots[k]);
		}
		print_error("\n");
		_fail(file, line);
	}
	/* A named block slot comes with its block's address. */
	if (rep.slot < h->region[region].nslots) {
		const struct sh_region *r = &h->region[region];

		th_meta_open(h);
		const struct sh_slot *s = &r->slots[rep.slot];

		if (slots[0] != SH_NIL && sh_slot_list(s) != SH_LIST_SPARE &&
		    rep.block != r->arena + sh_slot_off(s) * GRAN) {
			print_error("report names slot %lu but block %#lx, not %#lx\n",
				    (unsigned long)rep.slot, (unsigned long)rep.block,
				    (unsigned long)(r->arena + sh_slot_off(s) * GRAN));
			_fail(file, line);
		}
	}
	/* A slot out of range has no block: the checker must not have read one to name it. */
	if (rep.slot != SH_NIL && rep.slot >= h->region[region].nslots && rep.block != 0) {
		print_error("report names slot %lu, out of range, with block %#lx\n",
			    (unsigned long)rep.slot, (unsigned long)rep.block);
		_fail(file, line);
	}
	/* Without a report the answer is the same. */
	if (sh_check(h, NULL) != SH_ECORRUPT) {
		print_error("sh_check(h, NULL) does not report the corruption\n");
		_fail(file, line);
	}
}
static const uint32_t any_slot[] = {SH_NIL};
/* The first failure is the invariant inv in region; EXPECT_CORRUPT_AT also names one of the
 * slots listed. */
#define EXPECT_CORRUPT(h, inv, region)                                                         \
	expect_report_at((h), (inv), (region), any_slot, __FILE__, __LINE__)
#define EXPECT_CORRUPT_AT(h, inv, region, ...)                                                 \
	expect_report_at((h), (inv), (region), (const uint32_t[]){__VA_ARGS__, SH_NIL},        \
			 __FILE__, __LINE__)

/* For links that are merely broken (out of range, cycles): a report, no crash, no hang. */
static void expect_any_report_at(const struct sh_heap *h, const char *file, int line)
{
	struct sh_check_report rep;
	int rc = sh_check(h, &rep);

	if (rc != SH_ECORRUPT || rep.invariant < SH_I1_TILING || rep.invariant > SH_I7_STATS ||
	    rep.failures == 0 || rep.what == NULL) {
		print_error("sh_check returned %d, invariant %d, %u failure(s)\n", rc,
			    rep.invariant, rep.failures);
		_fail(file, line);
	}
}
#define EXPECT_ANY_CORRUPT(h) expect_any_report_at((h), __FILE__, __LINE__)

/* Region of 32 granules, 16 slots: [0,2) live, [2,4) live, [4,32) free. */
static unsigned char *two_live(struct sh_heap *h)
{
	unsigned char *a;

	th_reset();
	th_init(h);
	a = th_add(h, 0, 32, 16);
	assert_ptr_equal(T_MALLOC(h, 2 * GRAN), AT(a, 0));
	assert_ptr_equal(T_MALLOC(h, 2 * GRAN), AT(a, 2));
	EXPECT_LAYOUT(h, {0, 0, 2, LIVE}, {0, 2, 2, LIVE}, {0, 4, 28, FREE});
	return a;
}

/* Region of 32 granules, 16 slots, five free blocks: [0,1) [2,3) [4,5) [6,7) [8,32) free,
 * the granules between them live. */
static unsigned char *five_free(struct sh_heap *h)
{
	unsigned char *a;

	th_reset();
	th_init(h);
	a = th_add(h, 0, 32, 16);
	for (unsigned i = 0; i < 8; i++)
		assert_ptr_equal(T_MALLOC(h, GRAN), AT(a, i));
	for (unsigned i = 0; i < 8; i += 2)
		assert_int_equal(T_FREE(h, AT(a, i)), 0);
	EXPECT_LAYOUT(h, {0, 0, 1, FREE}, {0, 1, 1, LIVE}, {0, 2, 1, FREE}, {0, 3, 1, LIVE},
		      {0, 4, 1, FREE}, {0, 5, 1, LIVE}, {0, 6, 1, FREE}, {0, 7, 1, LIVE},
		      {0, 8, 24, FREE});
	return a;
}

/* ---- Healthy heaps --------------------------------------------------------------------- */

static void expect_healthy(const struct sh_heap *h)
{
	struct sh_check_report rep;

	memset(&rep, 0x5a, sizeof(rep));
	assert_int_equal(sh_check(h, &rep), 0);
	assert_int_equal(rep.failures, 0);
	assert_int_equal(rep.invariant, 0);
	assert_int_equal(rep.slot, UINT32_MAX);
	assert_int_equal(rep.block, 0);
	assert_int_equal(sh_check(h, NULL), 0);
}

static void test_healthy_heaps(void **state)
{
	struct sh_heap h;
	unsigned char *a, *b;

	(void)state;
	th_reset();
	th_init(&h);
	expect_healthy(&h);
	a = th_add(&h, 0, 32, 4);
	expect_healthy(&h);
	b = th_add(&h, 1, 64, 16);
	expect_healthy(&h);
	/* Slot exhaustion in region 0, splits, merges and memalign gaps in region 1. */
	for (unsigned i = 0; i < 4; i++)
		assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, i));
	expect_healthy(&h);
	assert_ptr_equal(T_MALLOC_IN(&h, 0x2u, 3 * GRAN), AT(b, 0));
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, GRAN), AT(b, 16));
	assert_int_equal(T_FREE(&h, AT(a, 1)), 0);
	assert_int_equal(T_FREE(&h, AT(a, 2)), 0);
	expect_healthy(&h);
	assert_ptr_equal(T_REALLOC(&h, AT(b, 0), 10 * GRAN), AT(b, 0));
	assert_int_equal(T_FREE(&h, AT(b, 16)), 0);
	expect_healthy(&h);
	/* A misuse report leaves the heap healthy. */
	assert_int_equal(sh_free(&h, AT(b, 1)), SH_EBADPTR);
	expect_healthy(&h);
	assert_int_equal(sh_check(NULL, NULL), SH_EINVAL);
}

/* Deterministic churn: every step leaves a heap that sh_check accepts. */
static void test_healthy_after_churn(void **state)
{
	struct sh_heap h;
	void *live[48];
	unsigned n = 0;
	uint32_t x = 12345;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, 256, 24);
	th_add(&h, 1, 128, 8);
	for (unsigned step = 0; step < 3000; step++) {
		x = x * 1103515245u + 12345u;
		unsigned op = (x >> 16) % 8, k = (x >> 8) % 48;
		size_t sz = (x >> 3) % (12 * GRAN);
		void *p;

		if (op < 3 && n < 48) {
			p = T_MALLOC(&h, sz);
			if (p)
				live[n++] = p;
		} else if (op == 3 && n < 48) {
			p = T_MEMALIGN(&h, GRAN << ((x >> 20) % 6), sz);
			if (p)
				live[n++] = p;
		} else if (op == 4 && n > 0) {
			k %= n;
			p = T_REALLOC(&h, live[k], sz);
			if (p) {
				live[k] = p;
			} else if (sz == 0) {
				n--;
				live[k] = live[n];
			}
		} else if (n > 0) {
			k %= n;
			assert_int_equal(T_FREE(&h, live[k]), 0);
			n--;
			live[k] = live[n];
		}
	}
	expect_healthy(&h);
}

/* The helper that rebuilds the index must itself produce a valid one. */
static void test_rebuilt_index_is_valid(void **state)
{
	struct sh_heap h;
	unsigned char *a = five_free(&h);

	(void)state;
	rebuild_index(reg(&h, 0));
	expect_healthy(&h);
	assert_ptr_equal(T_MALLOC(&h, 2 * GRAN), AT(a, 8));
	rebuild_index(reg(&h, 0));
	expect_healthy(&h);
}

/* ---- I1 tiling ------------------------------------------------------------------------- */

static void test_i1_overlap(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0)), s1 = slot_of(&h, 0, AT(a, 2));

	(void)state;
	sh_slot_set_size(&r->slots[s0], 3); /* [0,3) overlaps [2,4) */
	r->live_gran += 1;
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, s0, s1);
}

static void test_i1_gap(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0)), s1 = slot_of(&h, 0, AT(a, 2));

	(void)state;
	sh_slot_set_size(&r->slots[s0], 1); /* nothing covers [1,2) */
	r->live_gran -= 1;
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, s0, s1);
}

static void test_i1_block_past_arena_end(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t top;

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, 28 * GRAN), AT(a, 4));
	top = slot_of(&h, 0, AT(a, 4));
	sh_slot_set_size(&r->slots[top], sh_slot_size(&r->slots[top]) + 1);
	r->live_gran += 1;
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, top);
}

static void test_i1_arena_not_covered(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t top;

	(void)state;
	assert_ptr_equal(T_MALLOC(&h, 28 * GRAN), AT(a, 4));
	top = slot_of(&h, 0, AT(a, 4));
	sh_slot_set_size(&r->slots[top], sh_slot_size(&r->slots[top]) - 1); /* the last granule
										 belongs to no block */
	r->live_gran -= 1;
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, top);
}

/* The live block at the arena's start moved up one granule (hash and counters follow): nothing
 * starts the arena. */
static void test_i1_nothing_at_arena_start(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0));
	struct sh_check_report rep;

	(void)state;
	hash_unlink(r, s0);
	sh_slot_set_off(&r->slots[s0], 1);
	sh_slot_set_size(&r->slots[s0], 1);
	hash_push(r, s0, sh_bucket_of(r, 1));
	r->live_gran -= 1;
	EXPECT_CORRUPT(&h, SH_I1_TILING, 0);
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_string_equal(rep.what, "no block starts the arena");
}

/* sh_walk goes by address too; on a heap whose blocks do not tile it stops, within nslots
 * steps, instead of looping or reading past the slots. */
static int count_block(const struct sh_block_info *b, void *ctx)
{
	(void)b;
	(*(unsigned *)ctx)++;
	return 0;
}

static void test_walk_stops_on_broken_tiling(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0));
	unsigned n = 0;

	(void)state;
	sh_slot_set_size(&r->slots[s0], 1); /* nothing starts at granule 1 */
	assert_int_equal(sh_walk(&h, count_block, &n), 0);
	assert_int_equal(n, 1);
	sh_slot_set_size(&r->slots[s0], 0); /* the walk would stay at granule 0 */
	n = 0;
	assert_int_equal(sh_walk(&h, count_block, &n), 0);
	assert_int_equal(n, r->nslots);
}

/* A block that starts inside another is stepped over by the address walk: the walk then meets
 * fewer blocks than the slots describe. */
static void test_i1_block_inside_another(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0));
	struct sh_check_report rep;

	(void)state;
	sh_slot_set_size(&r->slots[s0], 4); /* [0,4) holds [2,4) */
	r->live_gran += 2;
	EXPECT_CORRUPT(&h, SH_I1_TILING, 0);
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_string_equal(rep.what, "blocks overlap: a block starts inside another");
}

/* A live and a free block at the same offset: each list is consistent on its own. */
static void test_i1_live_and_free_start_together(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s1 = slot_of(&h, 0, AT(a, 2)), s2 = slot_of(&h, 0, AT(a, 4));

	(void)state;
	/* The free block [4,32) claims to start at 2, as the live [2,4) does, and to end where
	 * it did; the index is rebuilt around it. */
	r->slots[s2].off = 2;
	r->slots[s2].size = 30;
	r->free_gran += 2;
	rebuild_index(r);
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, s1);
}

static void test_i1_regions_overlap(void **state)
{
	struct sh_heap h;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, 32, 8);
	th_add(&h, 1, 32, 8);
	/* Region 1 now claims to start inside region 0. */
	reg(&h, 1)->base = reg(&h, 0)->end - GRAN;
	EXPECT_CORRUPT(&h, SH_I1_TILING, 1);
}

/* Every pair of regions is compared, not only each with the first. */
static void test_i1_later_regions_overlap(void **state)
{
	struct sh_heap h;
	struct sh_check_report rep;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, 32, 8);
	th_add(&h, 1, 32, 8);
	th_add(&h, 2, 32, 8);
	CHECK_HEAP(&h);
	/* Region 2 claims to end inside region 1. */
	reg(&h, 2)->end = reg(&h, 1)->base + GRAN;
	reg(&h, 2)->base = reg(&h, 1)->base - GRAN;
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_int_equal(rep.invariant, SH_I1_TILING);
	assert_int_equal(rep.region, 2);
	assert_string_equal(rep.what, "regions overlap");
}

/* The geometry test names exactly this failure (the walks after it could report other things
 * under the same invariant). A region's end is stored modulo the address space (0 for a
 * region that ends at the top), so an end below its base or its arena is corrupt, as is an
 * arena that runs past the end or starts inside the metadata (every block would still be
 * consistent with it: only the geometry test sees it). */
static void test_i1_region_geometry(void **state)
{
	struct sh_heap h;
	struct sh_check_report rep;

	(void)state;
	for (unsigned k = 0; k < 6; k++) {
		struct sh_region *r;
		th_reset();
		th_init(&h);
		th_add(&h, 0, 32, 8);
		CHECK_HEAP(&h);
		r = reg(&h, 0);
		if (k == 0)
			r->end = 1;
		else if (k == 1)
			r->end = r->base;
		else if (k == 2)
			r->end = r->base - 1;
		else if (k == 3)
			r->end = r->arena - GRAN; /* the arena starts past the end */
		else if (k == 4)
			r->ngran++; /* the arena runs past the end */
		else
			r->arena -= GRAN; /* the arena starts inside the metadata */
		assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
		assert_int_equal(rep.invariant, SH_I1_TILING);
		assert_int_equal(rep.region, 0);
		assert_string_equal(rep.what, "region geometry is inconsistent");
	}
}

/* Sizes that would stall the address walk or send it far away give a report. */
static void test_i1_bad_sizes_do_not_crash(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0));

	(void)state;
	sh_slot_set_size(&r->slots[s0], 0);
	r->live_gran -= 2;
	EXPECT_CORRUPT_AT(&h, SH_I1_TILING, 0, s0);
	sh_slot_set_size(&r->slots[s0], SH_MAX_ARENA_GRANULES);
	EXPECT_ANY_CORRUPT(&h);
	sh_slot_set_size(&r->slots[s0], FAR_AWAY);
	EXPECT_ANY_CORRUPT(&h);
	/* A region count beyond the array. */
	h.nregions = SH_MAX_REGIONS + 3;
	EXPECT_ANY_CORRUPT(&h);
}

/* ---- I2 slot conservation -------------------------------------------------------------- */

static void test_i2_spare_list_cycle(void **state)
{
	struct sh_heap h;
	struct sh_region *r;

	(void)state;
	two_live(&h);
	r = reg(&h, 0);
	r->slots[spare_tail(r)].link = r->spare;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
	r->slots[r->spare].link = r->spare; /* a loop of one */
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
}

static void test_i2_slot_on_two_lists(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s1 = slot_of(&h, 0, AT(a, 2));

	(void)state;
	/* The spare list runs on into a live slot, which the hash holds too. */
	r->slots[spare_tail(r)].link = s1;
	EXPECT_CORRUPT_AT(&h, SH_I2_SLOTS, 0, s1);
}

static void test_i2_slot_lost(void **state)
{
	struct sh_heap h;
	struct sh_region *r;

	(void)state;
	two_live(&h);
	r = reg(&h, 0);
	/* The first spare slot is on no list; the counter follows, so only I2 is broken. */
	r->spare = r->slots[r->spare].link;
	r->nspare -= 1;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
}

static void test_i2_wrong_list_tag(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t s;

	(void)state;
	two_live(&h);
	r = reg(&h, 0);
	s = r->slots[r->spare].link;
	sh_slot_set_list(&r->slots[s], SH_LIST_FREE); /* on the spare list, tagged free */
	EXPECT_CORRUPT_AT(&h, SH_I2_SLOTS, 0, s);
	sh_slot_set_list(&r->slots[s], 3); /* no list at all */
	EXPECT_CORRUPT_AT(&h, SH_I2_SLOTS, 0, s);
}

static void test_i2_spare_slot_not_blank(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	struct sh_slot keep;
	uint32_t s;

	(void)state;
	two_live(&h);
	r = reg(&h, 0);
	s = r->slots[r->spare].link;
	keep = r->slots[s];
	/* Each field a spare slot must have cleared, set in turn (its tag stays spare). */
	for (unsigned field = 0; field < 2 + SH_LINEAR; field++) {
		struct sh_slot *t = &r->slots[s];
		switch (field) {
		case 0:
			sh_slot_set_off(t, 3);
			break;
		case 1:
			sh_slot_set_size(t, 1);
			break;
		default:
#if SH_LINEAR
			t->prev = 0;
#endif
			break;
		}
		assert_int_equal(sh_slot_list(t), SH_LIST_SPARE);
		EXPECT_CORRUPT_AT(&h, SH_I2_SLOTS, 0, s);
		r->slots[s] = keep;
		assert_int_equal(sh_check(&h, NULL), SH_OK);
	}
}

static void test_i2_spare_link_out_of_range(void **state)
{
	struct sh_heap h;
	struct sh_region *r;

	(void)state;
	two_live(&h);
	r = reg(&h, 0);
	r->slots[r->spare].link = r->nslots;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
	r->slots[r->spare].link = FAR_AWAY;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
	r->spare = FAR_AWAY;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
}

/* ---- I3 consolidation ------------------------------------------------------------------ */

/* Turns the live block at p into a free one without merging it, keeping hash, index and
 * counters consistent with that. */
static void make_free_unmerged(struct sh_heap *h, unsigned ri, void *p)
{
	struct sh_region *r = reg(h, ri);
	uint32_t s = slot_of(h, ri, p);

	hash_unlink(r, s);
	sh_slot_set_list(&r->slots[s], SH_LIST_FREE);
	r->nlive -= 1;
	r->live_gran -= sh_slot_size(&r->slots[s]);
	r->nfree += 1;
	r->free_gran += sh_slot_size(&r->slots[s]);
	rebuild_index(r);
}

static void test_i3_adjacent_free_blocks(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	uint32_t s1 = slot_of(&h, 0, AT(a, 2)), s2 = slot_of(&h, 0, AT(a, 4));

	(void)state;
	make_free_unmerged(&h, 0, AT(a, 2)); /* [2,4) free below the free [4,32) */
	EXPECT_CORRUPT_AT(&h, SH_I3_CONSOLIDATION, 0, s1, s2);
}

static void test_i3_three_free_in_a_row(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_check_report rep;
	uint32_t s0 = slot_of(&h, 0, AT(a, 0)), s1 = slot_of(&h, 0, AT(a, 2));

	(void)state;
	make_free_unmerged(&h, 0, AT(a, 0));
	make_free_unmerged(&h, 0, AT(a, 2));
	EXPECT_CORRUPT_AT(&h, SH_I3_CONSOLIDATION, 0, s0, s1);
	/* Both adjacencies are counted. */
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_true(rep.failures >= 2);
}

/* ---- I4 hash --------------------------------------------------------------------------- */

static void test_i4_live_block_in_wrong_bucket(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s1 = slot_of(&h, 0, AT(a, 2));
	uint32_t b = sh_bucket_of(r, sh_slot_off(&r->slots[s1]));

	(void)state;
	assert_true(r->nbuckets >= 2);
	hash_unlink(r, s1);
	hash_push(r, s1, (b + 1) & (r->nbuckets - 1));
	EXPECT_CORRUPT_AT(&h, SH_I4_HASH, 0, s1);
}

static void test_i4_live_block_missing_from_hash(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);

	(void)state;
	hash_unlink(r, slot_of(&h, 0, AT(a, 0)));
	EXPECT_CORRUPT(&h, SH_I4_HASH, 0);
}

static void test_i4_hash_link_out_of_range(void **state)
{
	struct sh_heap h;
	unsigned char *a = two_live(&h);
	struct sh_region *r = reg(&h, 0);
	uint32_t s0 = slot_of(&h, 0, AT(a, 0));
	uint32_t b = sh_bucket_of(r, sh_slot_off(&r->slots[s0]));

	(void)state;
	/* s0 heads its chain or follows another slot: either way its next link now points
	 * far away. */
	r->slots[s0].link = FAR_AWAY;
	EXPECT_CORRUPT(&h, SH_I4_HASH, 0);
	r->buckets[b] = r->nslots + 1;
	EXPECT_CORRUPT(&h, SH_I4_HASH, 0);
	/* A chain that loops. */
	r->buckets[b] = s0;
	r->slots[s0].link = s0;
	EXPECT_ANY_CORRUPT(&h);
}

/* ---- I5 alignment ---------------------------------------------------------------------- */

/*
 * Block starts and sizes are kept in granules from the arena start, so no slot can describe a
 * misaligned block: in this layout I5 comes down to the arena itself being granule aligned.
 * The test moves the arena start of region 1 down by half a granule (into the padding below
 * it, so that the arena still lies inside the region past its metadata). That memalign
 * results are aligned as asked cannot be seen afterwards (a block does not record the
 * alignment it was asked for); test_policy asserts it for every memalign call, and
 * test_i5_memalign_keeps_heap_valid below for a range of alignments.
 */
static void test_i5_arena_misaligned(void **state)
{
	struct sh_heap h;
	const size_t nslots = 8;
	const size_t meta = sh_region_meta_bytes(nslots, 4096);
	unsigned char *base = th_mem[1];
	struct sh_region_info ri;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, 32, 8);
	/* A start whose metadata ends 4 bytes past a granule boundary: 12 bytes of padding. */
	while (((uintptr_t)base + meta) % GRAN != 4)
		base++;
	assert_int_equal(sh_add_region(&h, base, 4096, nslots), 0);
	assert_int_equal(sh_region_info(&h, 1, &ri), 0);
	assert_true((uintptr_t)ri.arena - ((uintptr_t)base + meta) >= GRAN / 2);
	CHECK_HEAP(&h);
	reg(&h, 1)->arena -= GRAN / 2;
	EXPECT_CORRUPT(&h, SH_I5_ALIGNMENT, 1);
}

static void test_i5_memalign_keeps_heap_valid(void **state)
{
	struct sh_heap h;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, TH_MAX_GRAN, 32);
	for (size_t align = 1; align <= 4096; align *= 2) {
		void *p = T_MEMALIGN(&h, align, align + 1);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % (align < GRAN ? GRAN : align), 0);
		expect_healthy(&h);
	}
}

/* ---- I6 free index --------------------------------------------------------------------- */

#if !SH_LINEAR
/* A region of TH_MAX_GRAN granules (64 leaves, three levels) with free blocks in leaves 0, 1,
 * 5 and 40 and the last one from granule 2600 to the end; everything else live. Returns the
 * free blocks' slots in address order through f. */
static void spread_free(struct sh_heap *h, uint32_t f[5])
{
	static const size_t at[] = {3, 70, 330, 2560, 2600};
	unsigned char *a;
	struct sh_region *r;

	th_reset();
	th_init(h);
	/* Slots enough for leaves of SH_INDEX_LEAF granules (the region, metadata included, is
	 * about 80 leaves of them). */
	a = th_add(h, 0, TH_MAX_GRAN, 128 * SH_INDEX_SLOTS_PER_LEAF);
	r = reg(h, 0);
	assert_int_equal(r->fs_shift, SH_INDEX_LEAF_SHIFT);
	assert_int_equal(r->fs_nleaves, TH_MAX_GRAN / SH_INDEX_LEAF);
	assert_int_equal(r->fs_nlevels, 3);
	/* Live blocks up to 2600, split where the free ones go, then free those. */
	size_t prev = 0;
	for (unsigned k = 0; k < 5; k++) {
		if (at[k] > prev)
			assert_ptr_equal(T_MALLOC(h, (at[k] - prev) * GRAN), AT(a, prev));
		if (k < 4)
			assert_ptr_equal(T_MALLOC(h, 2 * GRAN), AT(a, at[k]));
		prev = at[k] + 2;
	}
	for (unsigned k = 0; k < 4; k++)
		assert_int_equal(T_FREE(h, AT(a, at[k])), 0);
	assert_int_equal(free_blocks(r, f, 5), 5);
	for (unsigned k = 0; k < 5; k++)
		assert_int_equal(r->slots[f[k]].off, at[k]);
	CHECK_HEAP(h);
}

/* Each level's maximum off by one either way is found; the level above is then wrong too,
 * or, at the root, the largest block. */
static void test_i6_index_max_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	for (uint32_t lv = 0; lv < r->fs_nlevels; lv++) {
		/* Leaf 5 (block f[2]) and its ancestors: entry 5, 0 and 0. */
		uint32_t *e = &r->fs_max[r->fs_level[lv] + (lv == 0 ? 5 : 0)];
		*e += 1;
		EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
		*e -= 2;
		EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
		*e += 1;
		CHECK_HEAP(&h);
	}
	/* The leaf maximum is reported at the leaf's first block. */
	r->fs_max[40] = 1;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, f[3]);
}

/* Between calls the search hint names a leaf's chain head or a free block chained in that
 * leaf, and holds no largest size: each way of breaking that is reported. */
static void test_i6_index_hint(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5], live = SH_NIL;

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	for (uint32_t i = 0; i < r->nslots && live == SH_NIL; i++)
		if (sh_slot_list(&r->slots[i]) == SH_LIST_LIVE)
			live = i;
	assert_int_not_equal(live, SH_NIL);
	uint32_t leaf = r->slots[f[2]].off >> r->fs_shift, t = r->fs_tail;
	assert_int_not_equal(t, SH_NIL);

	r->fs_hint_leaf = leaf; /* a chained block of its leaf, or the head: sound */
	r->fs_hint_prev = f[2];
	CHECK_HEAP(&h);
	r->fs_hint_prev = SH_NIL;
	CHECK_HEAP(&h);
	r->fs_hint_leaf = r->fs_nleaves; /* no such leaf */
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_leaf = leaf + 1; /* a block of another leaf */
	r->fs_hint_prev = f[2];
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_leaf = r->slots[t].off >> r->fs_shift; /* the tail, on no chain */
	r->fs_hint_prev = t;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_leaf = sh_slot_off(&r->slots[live]) >> r->fs_shift; /* a live block */
	r->fs_hint_prev = live;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_leaf = leaf; /* no such slot */
	r->fs_hint_prev = r->nslots;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_leaf = SH_NIL; /* a largest size left over from a call */
	r->fs_hint_max = 0;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_hint_max = UINT32_MAX;
	CHECK_HEAP(&h);
}

/* An entry past the last leaf, or past a level's last group, must stay zero. */
static void test_i6_index_padding_nonzero(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	/* Level 1 has 4 entries of which entries 4..15 are padding. */
	r->fs_max[r->fs_level[1] + 4] = 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_max[r->fs_level[1] + 4] = 0;
	r->fs_max[r->fs_level[2] + 15] = 7;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
}

/* Two independent faults, a wrong leaf maximum that its group's maximum hides and a nonzero
 * padding entry, are both counted: neither may cancel the other in the failure count. */
static void test_i6_index_two_faults_both_count(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	struct sh_check_report rep;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	/* Leaves 0, 1 and 5 each hold a block of 2 granules: group 0's maximum stays 2. */
	assert_int_equal(r->fs_max[0], 2);
	r->fs_max[0] = 1;
	r->fs_max[r->fs_level[1] + 4] = 1;
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_int_equal(rep.invariant, SH_I6_INDEX);
	assert_true(rep.failures >= 2);
}

/* The free block that ends the arena is kept apart as the tail: each way of getting that
 * wrong is reported. */
static void test_i6_index_tail_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	assert_int_equal(r->fs_tail, f[4]);
	r->fs_tail = r->nslots;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_tail = FAR_AWAY;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	/* A live slot, a free block that does not end the arena. */
	uint32_t live0 = slot_of(&h, 0, (void *)r->arena);
	r->fs_tail = live0;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, live0);
	r->fs_tail = f[3];
	EXPECT_ANY_CORRUPT(&h);
	/* No tail: the top free block is on no list of the index. */
	r->fs_tail = SH_NIL;
	EXPECT_CORRUPT(&h, SH_I2_SLOTS, 0);
	/* The top block chained after f[3], in the leaf where both start. */
	assert_int_equal(r->slots[f[3]].off / SH_INDEX_LEAF, 2600 / SH_INDEX_LEAF);
	r->slots[f[3]].link = f[4];
	r->slots[f[4]].link = SH_NIL;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, f[4]);
	rebuild_index(r);
	CHECK_HEAP(&h);
}

/* The index's shape is recomputed from the arena: any field that disagrees is reported. */
static void test_i6_index_geometry_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	r->fs_nlevels = 2;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_nlevels = 3;
	r->fs_level[1] += SH_INDEX_FAN;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_level[1] -= SH_INDEX_FAN;
	r->fs_nleaves--;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_nleaves++;
	r->fs_max++;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_max--;
	CHECK_HEAP(&h);
}

static void test_i6_index_order_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;

	(void)state;
	five_free(&h);
	r = reg(&h, 0);
	rebuild_index(r);
	/* The first two blocks of leaf 0's chain swapped: maxima still hold. */
	uint32_t a = r->fs_head[0], b = r->slots[a].link;
	r->slots[a].link = r->slots[b].link;
	r->slots[b].link = a;
	r->fs_head[0] = b;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, a);
}

/* A block on the wrong leaf's chain (with maxima made to agree) is reported. */
static void test_i6_index_wrong_leaf(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	/* f[1] (granule 70, leaf 1) moved to the end of leaf 0's chain. */
	r->fs_head[1] = SH_NIL;
	r->slots[f[0]].link = f[1];
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, f[1]);
}

/* A free block on no chain: the index counts fewer blocks than carry the free tag. */
static void test_i6_index_block_missing(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5];

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	r->fs_head[5] = SH_NIL;
	r->fs_max[5] = 0;
	EXPECT_ANY_CORRUPT(&h);
	rebuild_index(r);
	CHECK_HEAP(&h);
	r->fs_head[5] = SH_NIL;
	EXPECT_ANY_CORRUPT(&h);
}

/* memalign's watermarks: a search raises them past what it has seen, and a block freed below
 * them is still found (it becomes an exception). spread_free's arena is 4 KiB aligned, so
 * granule offsets that are multiples of 16 are 256-byte aligned: of the holes at 3, 70, 330
 * and 2560, only the last holds 2 granules at such an offset. */
static void test_memalign_watermark_sees_block_freed_below(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	struct sh_region_info ri;
	uint32_t f[5];
	unsigned char *a;

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	a = ri.arena;
	assert_int_equal((uintptr_t)a % 4096, 0);
	assert_non_null(r->fs_wm);
	assert_int_equal(r->fs_wm_used, 0);
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN), AT(a, 2560));
	assert_int_equal(r->fs_wm_used, 1u << 4);
	CHECK_HEAP(&h);
	/* The same request again: nothing below 2562 fits, the top block does. */
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN), AT(a, 2608));
	CHECK_HEAP(&h);
	/* Freeing [5, 70) makes one free block of [3, 72), which holds 16. */
	assert_int_equal(T_FREE(&h, AT(a, 5)), 0);
	CHECK_HEAP(&h);
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN), AT(a, 16));
	CHECK_HEAP(&h);
	/* The gap [3, 16) stayed free; a one-granule request at 32 bytes fits at 4 in it. */
	assert_ptr_equal(T_MEMALIGN(&h, 2 * GRAN, GRAN), AT(a, 4));
	CHECK_HEAP(&h);
}

/* The watermarks' exceptions: 8 per class; a ninth of more room pushes out the one of least
 * room, one of no more room than the least is given up itself, and a block that grows over an
 * exception joins it. Every result is still the lowest aligned fit. */
static void test_memalign_watermark_exceptions_full(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	unsigned char *a;

	(void)state;
	th_reset();
	th_init(&h);
	a = th_add(&h, 0, TH_MAX_GRAN, 512);
	r = reg(&h, 0);
	assert_non_null(r->fs_wm);
	assert_int_equal((uintptr_t)a % 4096, 0);
	/* 40 blocks of 16 granules, one of 64 at 640, one of 16 at 704 to keep it apart. */
	for (unsigned k = 0; k < 40; k++)
		assert_ptr_equal(T_MALLOC(&h, 16 * GRAN), AT(a, 16 * k));
	assert_ptr_equal(T_MALLOC(&h, 64 * GRAN), AT(a, 640));
	assert_ptr_equal(T_MALLOC(&h, 16 * GRAN), AT(a, 704));
	/* Nothing free below 720: the search raises class 4's watermarks to it. */
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN), AT(a, 720));
	CHECK_HEAP(&h);
	/* Eight blocks of room 16 below the watermarks fill the exceptions. */
	for (unsigned k = 0; k < 8; k++) {
		assert_int_equal(T_FREE(&h, AT(a, 32 * k)), 0);
		CHECK_HEAP(&h);
	}
	/* Room 64 pushes out one of room 16; another of room 16 is given up at once. */
	assert_int_equal(T_FREE(&h, AT(a, 640)), 0);
	CHECK_HEAP(&h);
	assert_int_equal(T_FREE(&h, AT(a, 256)), 0);
	CHECK_HEAP(&h);
	/* [0, 48) after this free: it grows over the exception of [32, 48). */
	assert_int_equal(T_FREE(&h, AT(a, 16)), 0);
	CHECK_HEAP(&h);
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN), AT(a, 0));
	CHECK_HEAP(&h);
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 64 * GRAN), AT(a, 640));
	CHECK_HEAP(&h);
	assert_ptr_equal(T_MEMALIGN(&h, 16 * GRAN, 16 * GRAN), AT(a, 16));
	CHECK_HEAP(&h);
}

/* Each class's check reads its own exceptions only: a sound exception of class 5 in use,
 * beside class 4 unused, passes, and does not count for class 4. */
static void test_i6_memalign_exceptions_per_class(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5], *exc;

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	CHECK_HEAP(&h);
	exc = r->fs_wm + SH_INDEX_WM_CLASSES * SH_INDEX_WM_LEVELS +
	      4 * 3 * SH_INDEX_WM_EXCEPTIONS;
	r->fs_wm_used |= 1u << 5; /* its watermarks all 0: nothing is passed over */
	exc[0] = 9;
	exc[1] = 10;
	exc[2] = 1;
	CHECK_HEAP(&h);
	r->fs_wm_used &= ~(1u << 5);
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	/* Class 5's exception covering the top block does not cover it for class 4, whose
	 * watermarks pass it. */
	uint32_t *w4 = r->fs_wm + 3 * SH_INDEX_WM_LEVELS;
	r->fs_wm_used |= 1u << 5 | 1u << 4;
	exc[0] = r->slots[r->fs_tail].off;
	exc[1] = r->ngran;
	exc[2] = r->ngran;
	CHECK_HEAP(&h);
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		w4[c] = r->ngran;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, r->fs_tail);
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		w4[c] = 0;
	r->fs_wm_used &= ~(1u << 5 | 1u << 4);
	exc[2] = 0;
	CHECK_HEAP(&h);
}

/* I6 on the watermarks: each kind of damage is reported. */
static void test_i6_memalign_watermarks_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[5], *w, *exc;

	(void)state;
	spread_free(&h, f);
	r = reg(&h, 0);
	assert_non_null(T_MEMALIGN(&h, 16 * GRAN, 2 * GRAN));
	CHECK_HEAP(&h);
	/* Class 4 (16 granules): its row, then its exceptions. */
	w = r->fs_wm + 3 * SH_INDEX_WM_LEVELS;
	exc = r->fs_wm + SH_INDEX_WM_CLASSES * SH_INDEX_WM_LEVELS +
	      3 * 3 * SH_INDEX_WM_EXCEPTIONS;
	/* A watermark above the top block, which has room at 16 granules. */
	uint32_t keep = w[0];
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		w[c] = r->ngran;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, r->fs_tail);
	/* ... unless an exception covers it with room enough. */
	exc[0] = r->slots[r->fs_tail].off;
	exc[1] = r->ngran;
	exc[2] = r->ngran;
	CHECK_HEAP(&h);
	exc[2] = 1;
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, r->fs_tail);
	exc[2] = 0;
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		w[c] = keep;
	CHECK_HEAP(&h);
	/* Out of order, past the arena. */
	w[0] = w[1] + 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	w[0] = keep;
	w[SH_INDEX_WM_LEVELS - 1] = r->ngran + 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	w[SH_INDEX_WM_LEVELS - 1] = keep;
	/* An exception that ends before it starts, one past the arena, one of a class not in
	 * use (class 5, the next row of exceptions). */
	exc[0] = 9;
	exc[1] = 9;
	exc[2] = 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	exc[1] = r->ngran + 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	exc[2] = 0;
	exc += 3 * SH_INDEX_WM_EXCEPTIONS;
	exc[0] = 9;
	exc[1] = 10;
	exc[2] = 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	exc[2] = 0;
	CHECK_HEAP(&h);
	/* A class not in use with a watermark; a class that does not exist in use. */
	r->fs_wm[0] = 1;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_wm[0] = 0;
	r->fs_wm[(SH_INDEX_WM_CLASSES - 1) * SH_INDEX_WM_LEVELS] = 1; /* the last class too */
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_wm[(SH_INDEX_WM_CLASSES - 1) * SH_INDEX_WM_LEVELS] = 0;
	r->fs_wm_used |= 1u << (SH_INDEX_WM_CLASSES + 1);
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_wm_used &= ~(1u << (SH_INDEX_WM_CLASSES + 1));
	/* The table elsewhere. */
	r->fs_wm++;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_wm--;
	CHECK_HEAP(&h);
	/* Class 1 (2 granules) in use: the hole [3, 5) gives 4; [70, 72), chained, has room 2
	 * there, and a watermark above it (the top block's start) misses it. */
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, 0, &ri), 0);
	assert_ptr_equal(T_MEMALIGN(&h, 2 * GRAN, GRAN), AT((unsigned char *)ri.arena, 4));
	CHECK_HEAP(&h);
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		r->fs_wm[c] = r->slots[r->fs_tail].off;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	for (unsigned c = 0; c < SH_INDEX_WM_LEVELS; c++)
		r->fs_wm[c] = 0;
	CHECK_HEAP(&h);
}

static void test_i6_index_links_do_not_crash(void **state)
{
	struct sh_heap h;
	struct sh_region *r;

	(void)state;
	unsigned char *a = five_free(&h);
	r = reg(&h, 0);
	uint32_t first = r->fs_head[0], second = r->slots[first].link;
	r->slots[first].link = FAR_AWAY;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->slots[first].link = r->nslots;
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->slots[first].link = second;
	CHECK_HEAP(&h);
	r->slots[second].link = first; /* a cycle */
	EXPECT_CORRUPT(&h, SH_I6_INDEX, 0);
	r->fs_head[0] = FAR_AWAY;
	EXPECT_ANY_CORRUPT(&h);
	/* A chain through a live slot. */
	rebuild_index(r);
	CHECK_HEAP(&h);
	r->slots[r->fs_head[0]].link = slot_of(&h, 0, AT(a, 1));
	EXPECT_ANY_CORRUPT(&h);
}
#else
static void test_i6_list_order_wrong(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[8];

	(void)state;
	five_free(&h);
	r = reg(&h, 0);
	assert_int_equal(free_blocks(r, f, 8), 5);
	/* Consistent links both ways, but f[1] before f[0]. */
	r->free_root = f[1];
	r->slots[f[1]].prev = SH_NIL;
	r->slots[f[1]].link = f[0];
	r->slots[f[0]].prev = f[1];
	r->slots[f[0]].link = f[2];
	r->slots[f[2]].prev = f[0];
	EXPECT_CORRUPT_AT(&h, SH_I6_INDEX, 0, f[0], f[1]);
}

static void test_i6_list_links_do_not_crash(void **state)
{
	struct sh_heap h;
	struct sh_region *r;
	uint32_t f[8];

	(void)state;
	five_free(&h);
	r = reg(&h, 0);
	assert_int_equal(free_blocks(r, f, 8), 5);
	r->slots[f[2]].link = FAR_AWAY;
	EXPECT_ANY_CORRUPT(&h);
	r->slots[f[2]].link = f[0]; /* a cycle */
	EXPECT_ANY_CORRUPT(&h);
	r->free_root = r->nslots;
	EXPECT_ANY_CORRUPT(&h);
}
#endif

/* ---- Neighbour look-ups ---------------------------------------------------------------- */

#if !SH_LINEAR
/* The free slot ending at off, or starting at it, found by scanning every slot. */
static uint32_t scan_free(const struct sh_region *r, uint32_t off, bool ending)
{
	for (uint32_t i = 0; i < r->nslots; i++) {
		const struct sh_slot *s = &r->slots[i];
		if (sh_slot_list(s) == SH_LIST_FREE && (ending ? sh_end_of(s) : s->off) == off)
			return i;
	}
	return SH_NIL;
}

/* sh_fs_neighbours and sh_fs_find, which free and realloc use instead of address links, agree
 * with a scan of every slot: the neighbours of each live block, and the block starting at each
 * block's start, one granule into it and at its end, over a churn
 * of small and large blocks, in a three-level index of 64-granule leaves (blocks of up to 300
 * granules reach across leaves and groups of leaves) and in one whose few slots give it leaves
 * of 2048 granules. */
static void neighbour_lookups_match_scan(size_t nslots, uint32_t nlevels, uint32_t shift)
{
	struct sh_heap h;
	void *live[96];
	unsigned n = 0;
	uint32_t x = 2026;

	th_reset();
	th_init(&h);
	th_add(&h, 0, TH_MAX_GRAN, nslots);
	struct sh_region *r = reg(&h, 0);
	assert_int_equal(r->fs_nlevels, nlevels);
	assert_int_equal(r->fs_shift, shift);
	for (unsigned step = 0; step < 1500; step++) {
		x = x * 1103515245u + 12345u;
		size_t sz = (x >> 8) % 4 ? (x >> 12) % (16 * GRAN) : (x >> 12) % (300 * GRAN);
		if ((x >> 4) % 5 < 3 && n < 96) {
			void *p = T_MALLOC(&h, sz);
			if (p)
				live[n++] = p;
		} else if (n > 0) {
			unsigned k = (x >> 16) % n;
			assert_int_equal(T_FREE(&h, live[k]), 0);
			live[k] = live[--n];
		}
		for (uint32_t i = 0; i < r->nslots; i++) {
			const struct sh_slot *s = &r->slots[i];
			if (sh_slot_list(s) == SH_LIST_SPARE)
				continue;
			uint32_t at[3] = {sh_slot_off(s), sh_slot_off(s) + 1, sh_end_of(s)};
			for (unsigned k = 0; k < 3; k++)
				if (at[k] < r->ngran)
					assert_int_equal(sh_fs_find(r, at[k]),
							 scan_free(r, at[k], false));
			if (sh_slot_list(s) != SH_LIST_LIVE)
				continue;
			uint32_t lo, hi;
			sh_fs_neighbours(r, at[0], at[2], &lo, &hi);
			assert_int_equal(lo, scan_free(r, at[0], true));
			assert_int_equal(hi, at[2] < r->ngran ? scan_free(r, at[2], false)
							      : SH_NIL);
		}
	}
	while (n > 0)
		assert_int_equal(T_FREE(&h, live[--n]), 0);
	assert_int_equal(r->nfree, 1);
	assert_int_not_equal(r->fs_tail, SH_NIL);
	CHECK_HEAP(&h);
}
static void test_neighbour_lookups_match_scan(void **state)
{
	(void)state;
	neighbour_lookups_match_scan(128 * SH_INDEX_SLOTS_PER_LEAF, 3, SH_INDEX_LEAF_SHIFT);
	neighbour_lookups_match_scan(6 * SH_INDEX_SLOTS_PER_LEAF, 2, 11);
}
#endif

/* ---- I7 statistics --------------------------------------------------------------------- */

/* Each counter off by one either way, with everything else intact. */
static void drift(uint32_t *(*counter)(struct sh_region *))
{
	struct sh_heap h;
	uint32_t *c;

	five_free(&h);
	c = counter(reg(&h, 0));
	*c += 1;
	EXPECT_CORRUPT(&h, SH_I7_STATS, 0);
	/* One broken counter is one failure: the count is exact, not merely nonzero. */
	struct sh_check_report rep;
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_int_equal(rep.failures, 1);
	*c -= 2;
	EXPECT_CORRUPT(&h, SH_I7_STATS, 0);
	*c += 1;
	CHECK_HEAP(&h);
}

static uint32_t *nspare_of(struct sh_region *r)
{
	return &r->nspare;
}

static uint32_t *nfree_of(struct sh_region *r)
{
	return &r->nfree;
}

static uint32_t *nlive_of(struct sh_region *r)
{
	return &r->nlive;
}

static uint32_t *free_gran_of(struct sh_region *r)
{
	return &r->free_gran;
}

static uint32_t *live_gran_of(struct sh_region *r)
{
	return &r->live_gran;
}

static void test_i7_spare_count_drift(void **state)
{
	(void)state;
	drift(nspare_of);
}

static void test_i7_free_count_drift(void **state)
{
	(void)state;
	drift(nfree_of);
}

static void test_i7_live_count_drift(void **state)
{
	(void)state;
	drift(nlive_of);
}

static void test_i7_free_bytes_drift(void **state)
{
	(void)state;
	drift(free_gran_of);
}

static void test_i7_live_bytes_drift(void **state)
{
	(void)state;
	drift(live_gran_of);
}

static void test_i7_names_region(void **state)
{
	struct sh_heap h;

	(void)state;
	th_reset();
	th_init(&h);
	th_add(&h, 0, 32, 8);
	th_add(&h, 1, 32, 8);
	th_add(&h, 2, 32, 8);
	assert_non_null(T_MALLOC_IN(&h, 0x4u, GRAN));
	reg(&h, 2)->live_gran = 7;
	EXPECT_CORRUPT(&h, SH_I7_STATS, 2);
}

/* ---- Reports --------------------------------------------------------------------------- */

static void test_first_failure_reported_all_counted(void **state)
{
	struct sh_heap h;
	struct sh_check_report rep;
	unsigned char *a;
	struct sh_region *r0;
	uint32_t s;

	(void)state;
	th_reset();
	th_init(&h);
	a = th_add(&h, 0, 32, 8);
	th_add(&h, 1, 32, 8);
	assert_ptr_equal(T_MALLOC(&h, GRAN), AT(a, 0));
	r0 = reg(&h, 0);
	s = slot_of(&h, 0, AT(a, 0));
	hash_unlink(r0, s);
	hash_push(r0, s, (sh_bucket_of(r0, 0) + 1) & (r0->nbuckets - 1));
	reg(&h, 1)->free_gran += 1;
	EXPECT_CORRUPT_AT(&h, SH_I4_HASH, 0, s);
	assert_int_equal(sh_check(&h, &rep), SH_ECORRUPT);
	assert_true(rep.failures >= 2);
	assert_string_not_equal(sh_invariant_name(rep.invariant), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_heaps),
		cmocka_unit_test(test_healthy_after_churn),
		cmocka_unit_test(test_rebuilt_index_is_valid),
		cmocka_unit_test(test_i1_overlap),
		cmocka_unit_test(test_i1_gap),
		cmocka_unit_test(test_i1_block_past_arena_end),
		cmocka_unit_test(test_i1_arena_not_covered),
		cmocka_unit_test(test_i1_nothing_at_arena_start),
		cmocka_unit_test(test_walk_stops_on_broken_tiling),
		cmocka_unit_test(test_i1_block_inside_another),
		cmocka_unit_test(test_i1_live_and_free_start_together),
		cmocka_unit_test(test_i1_regions_overlap),
		cmocka_unit_test(test_i1_later_regions_overlap),
		cmocka_unit_test(test_i1_region_geometry),
		cmocka_unit_test(test_i1_bad_sizes_do_not_crash),
		cmocka_unit_test(test_i2_spare_list_cycle),
		cmocka_unit_test(test_i2_slot_on_two_lists),
		cmocka_unit_test(test_i2_slot_lost),
		cmocka_unit_test(test_i2_wrong_list_tag),
		cmocka_unit_test(test_i2_spare_slot_not_blank),
		cmocka_unit_test(test_i2_spare_link_out_of_range),
		cmocka_unit_test(test_i3_adjacent_free_blocks),
		cmocka_unit_test(test_i3_three_free_in_a_row),
		cmocka_unit_test(test_i4_live_block_in_wrong_bucket),
		cmocka_unit_test(test_i4_live_block_missing_from_hash),
		cmocka_unit_test(test_i4_hash_link_out_of_range),
		cmocka_unit_test(test_i5_arena_misaligned),
		cmocka_unit_test(test_i5_memalign_keeps_heap_valid),
#if !SH_LINEAR
		cmocka_unit_test(test_i6_index_max_wrong),
		cmocka_unit_test(test_memalign_watermark_sees_block_freed_below),
		cmocka_unit_test(test_memalign_watermark_exceptions_full),
		cmocka_unit_test(test_i6_memalign_exceptions_per_class),
		cmocka_unit_test(test_i6_memalign_watermarks_wrong),
		cmocka_unit_test(test_i6_index_hint),
		cmocka_unit_test(test_i6_index_padding_nonzero),
		cmocka_unit_test(test_i6_index_two_faults_both_count),
		cmocka_unit_test(test_i6_index_tail_wrong),
		cmocka_unit_test(test_i6_index_geometry_wrong),
		cmocka_unit_test(test_i6_index_order_wrong),
		cmocka_unit_test(test_i6_index_wrong_leaf),
		cmocka_unit_test(test_i6_index_block_missing),
		cmocka_unit_test(test_i6_index_links_do_not_crash),
#else
		cmocka_unit_test(test_i6_list_order_wrong),
		cmocka_unit_test(test_i6_list_links_do_not_crash),
#endif
#if !SH_LINEAR
		cmocka_unit_test(test_neighbour_lookups_match_scan),
#endif
		cmocka_unit_test(test_i7_spare_count_drift),
		cmocka_unit_test(test_i7_free_count_drift),
		cmocka_unit_test(test_i7_live_count_drift),
		cmocka_unit_test(test_i7_free_bytes_drift),
		cmocka_unit_test(test_i7_live_bytes_drift),
		cmocka_unit_test(test_i7_names_region),
		cmocka_unit_test(test_first_failure_reported_all_counted),
	};

	return cmocka_run_group_tests_name(SH_LINEAR ? "check (SH_LINEAR)" : "check", tests,
					   NULL, NULL);
}
