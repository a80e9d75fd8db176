/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests; see testutil.h. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

_Alignas(4096) unsigned char th_mem[TH_NBUF][TH_BUF_SIZE];

void th_reset(void)
{
	/* The heaps of earlier tests left their metadata and free blocks poisoned (ASan builds):
	 * the buffers are ours again. */
	th_unpoison(th_mem, sizeof(th_mem));
	memset(th_mem, TH_DIRT, sizeof(th_mem));
}

void th_init(struct sh_heap *h)
{
	memset(h, 0x5a, sizeof(*h));
	assert_int_equal(sh_init(h), 0);
}

static size_t round_gran(size_t n)
{
	return (n + GRAN - 1) / GRAN * GRAN;
}

size_t th_region_bytes(size_t ngran, size_t nslots)
{
	size_t size = ngran * GRAN, next;

	/* The metadata only grows with the size and is bounded, so this climbs to a fixed point. */
	while ((next = round_gran(sh_region_meta_bytes(nslots, size)) + ngran * GRAN) != size)
		size = next;
	return size;
}

unsigned char *th_add(struct sh_heap *h, unsigned buf, size_t ngran, size_t nslots)
{
	size_t meta = sh_region_meta_bytes(nslots, th_region_bytes(ngran, nslots));
	size_t below = round_gran(meta);
	unsigned char *arena = th_mem[buf] + TH_ARENA_OFF;
	unsigned idx = h->nregions;
	struct sh_region_info ri;

	assert_true(buf < TH_NBUF);
	assert_true(meta > 0);
	assert_true(below <= TH_ARENA_OFF);
	assert_true(ngran <= TH_MAX_GRAN);
	assert_int_equal(sh_add_region(h, arena - below, below + ngran * GRAN, nslots), 0);
	assert_int_equal(h->nregions, idx + 1);
	assert_int_equal(sh_region_info(h, idx, &ri), 0);
	assert_ptr_equal(ri.base, arena - below);
	assert_int_equal(ri.size, below + ngran * GRAN);
	assert_ptr_equal(ri.arena, arena);
	assert_int_equal(ri.arena_size, ngran * GRAN);
	assert_int_equal(ri.nslots, nslots);
	return arena;
}

void th_check_at(const struct sh_heap *h, const char *file, int line)
{
	struct sh_check_report r;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = sh_check(h, &r);
	if (rc != 0) {
		print_error(
			"sh_check returned %d: %u failure(s), first %s in region %u, slot %lu, "
			"block %#lx: %s\n",
			rc, r.failures, sh_invariant_name(r.invariant), r.region,
			(unsigned long)r.slot, (unsigned long)r.block, r.what ? r.what : "?");
		_fail(file, line);
	}
}

void *th_ck_ptr(const struct sh_heap *h, void *p, const char *file, int line)
{
	th_check_at(h, file, line);
	return p;
}

int th_ck_int(const struct sh_heap *h, int rc, const char *file, int line)
{
	th_check_at(h, file, line);
	return rc;
}

struct walk_ctx {
	struct sh_block_info *b;
	size_t n, cap;
};

static int walk_collect(const struct sh_block_info *b, void *ctx)
{
	struct walk_ctx *w = ctx;

	if (w->n < w->cap)
		w->b[w->n] = *b;
	w->n++;
	return 0;
}

static size_t walk_all(const struct sh_heap *h, struct sh_block_info *b, size_t cap)
{
	struct walk_ctx w = {b, 0, cap};

	assert_int_equal(sh_walk(h, walk_collect, &w), 0);
	return w.n;
}

static void print_listing(const struct sh_heap *h, const struct sh_block_info *b, size_t n)
{
	for (size_t i = 0; i < n && i < TH_MAX_BLOCKS; i++) {
		struct sh_region_info ri;
		long off = -1;

		if (sh_region_info(h, b[i].region, &ri) == 0)
			off = (long)(((uintptr_t)b[i].ptr - (uintptr_t)ri.arena) / GRAN);
		print_error("    {%u, %ld, %lu, %s}\n", b[i].region, off,
			    (unsigned long)(b[i].size / GRAN), b[i].live ? "LIVE" : "FREE");
	}
}

void th_expect_layout_at(const struct sh_heap *h, const struct th_blk *exp, size_t n,
			 const char *file, int line)
{
	struct sh_block_info got[TH_MAX_BLOCKS];
	struct sh_stats st;
	size_t ngot = walk_all(h, got, TH_MAX_BLOCKS);
	size_t live_bytes = 0, free_bytes = 0, live_blocks = 0, free_blocks = 0;
	size_t slots_total = 0, largest = 0;
	bool same = ngot == n;

	for (size_t i = 0; i < n && same; i++) {
		struct sh_region_info ri;

		if (sh_region_info(h, exp[i].region, &ri) != 0) {
			same = false;
			break;
		}
		same = got[i].region == exp[i].region &&
		       got[i].ptr == (void *)((unsigned char *)ri.arena + exp[i].off * GRAN) &&
		       got[i].size == exp[i].size * GRAN && got[i].live == exp[i].live;
	}
	if (!same) {
		print_error(
			"%s:%d: heap layout differs\n  expected (granules from the arena):\n",
			file, line);
		for (size_t i = 0; i < n; i++)
			print_error("    {%u, %lu, %lu, %s}\n", exp[i].region,
				    (unsigned long)exp[i].off, (unsigned long)exp[i].size,
				    exp[i].live ? "LIVE" : "FREE");
		print_error("  sh_walk reports:\n");
		print_listing(h, got, ngot);
		_fail(file, line);
	}

	for (size_t i = 0; i < n; i++) {
		if (exp[i].live) {
			live_bytes += exp[i].size * GRAN;
			live_blocks++;
		} else {
			free_bytes += exp[i].size * GRAN;
			free_blocks++;
			if (exp[i].size * GRAN > largest)
				largest = exp[i].size * GRAN;
		}
	}
	for (unsigned r = 0; r < h->nregions; r++) {
		struct sh_region_info ri;

		assert_int_equal(sh_region_info(h, r, &ri), 0);
		slots_total += ri.nslots;
	}
	sh_stats(h, &st);
	if (st.live_bytes != live_bytes || st.free_bytes != free_bytes ||
	    st.live_blocks != live_blocks || st.free_blocks != free_blocks ||
	    st.slots_total != slots_total ||
	    st.slots_spare != slots_total - live_blocks - free_blocks ||
	    st.largest_free != largest) {
		print_error("%s:%d: sh_stats disagrees with the layout\n"
			    "  field          expected  reported\n"
			    "  live_bytes   %10lu %9lu\n  free_bytes   %10lu %9lu\n"
			    "  live_blocks  %10lu %9lu\n  free_blocks  %10lu %9lu\n"
			    "  slots_total  %10lu %9lu\n  slots_spare  %10lu %9lu\n"
			    "  largest_free %10lu %9lu\n",
			    file, line, (unsigned long)live_bytes, (unsigned long)st.live_bytes,
			    (unsigned long)free_bytes, (unsigned long)st.free_bytes,
			    (unsigned long)live_blocks, (unsigned long)st.live_blocks,
			    (unsigned long)free_blocks, (unsigned long)st.free_blocks,
			    (unsigned long)slots_total, (unsigned long)st.slots_total,
			    (unsigned long)(slots_total - live_blocks - free_blocks),
			    (unsigned long)st.slots_spare, (unsigned long)largest,
			    (unsigned long)st.largest_free);
		_fail(file, line);
	}
	th_check_at(h, file, line);
}

void th_expect_counts_at(const struct sh_heap *h, size_t failed_allocs, size_t misuse,
			 const char *file, int line)
{
	struct sh_stats st;

	sh_stats(h, &st);
	if (st.failed_allocs != failed_allocs || st.misuse != misuse) {
		print_error(
			"%s:%d: failed_allocs %lu (expected %lu), misuse %lu (expected %lu)\n",
			file, line, (unsigned long)st.failed_allocs,
			(unsigned long)failed_allocs, (unsigned long)st.misuse,
			(unsigned long)misuse);
		_fail(file, line);
	}
}

void th_snap(const struct sh_heap *h, struct th_snap *s)
{
	memset(s, 0, sizeof(*s));
	s->n = walk_all(h, s->b, TH_MAX_BLOCKS);
	assert_true(s->n <= TH_MAX_BLOCKS);
	sh_stats(h, &s->st);
}

void th_expect_same_at(const struct sh_heap *h, const struct th_snap *before, const char *file,
		       int line)
{
	struct th_snap now;
	struct sh_stats a = before->st, b;
	bool same;

	th_snap(h, &now);
	b = now.st;
	a.misuse = b.misuse = 0;
	same = now.n == before->n && memcmp(&a, &b, sizeof(a)) == 0;
	for (size_t i = 0; i < now.n && same; i++)
		same = now.b[i].region == before->b[i].region &&
		       now.b[i].ptr == before->b[i].ptr && now.b[i].size == before->b[i].size &&
		       now.b[i].live == before->b[i].live;
	if (!same) {
		print_error("%s:%d: the heap changed\n  before:\n", file, line);
		print_listing(h, before->b, before->n);
		print_error("  after:\n");
		print_listing(h, now.b, now.n);
		_fail(file, line);
	}
	th_check_at(h, file, line);
}

void th_hook_fn(void *ctx, int code, const void *ptr)
{
	struct th_hook *k = ctx;

	k->calls++;
	k->code = code;
	k->ptr = ptr;
	k->ctx = ctx;
}

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131u + seed * 29u + (i >> 8)) & 0xffu);
}

void th_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = pattern(i, seed);
}

bool th_verify(const void *p, size_t n, unsigned seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != pattern(i, seed))
			return false;
	return true;
}

bool th_all_bytes(const void *p, size_t n, unsigned char c)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != c)
			return false;
	return true;
}

void th_unpoison(void *p, size_t n)
{
#ifdef TH_ASAN
	ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
	(void)p;
	(void)n;
#endif
}

void th_meta_open(const struct sh_heap *h)
{
	struct sh_region_info ri;

	for (unsigned i = 0; sh_region_info(h, i, &ri) == 0; i++)
		th_unpoison(ri.base,
			    (size_t)((unsigned char *)ri.arena - (unsigned char *)ri.base));
}
