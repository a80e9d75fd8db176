/* SPDX-License-Identifier: MIT */
/*
 * The allocation policy alone, as a pool allocator for the churn test: the reference model
 * (ref/shref.h) given the whole pool as its arena and a slot for every granule, so that no
 * metadata takes pool space and no split ever lacks a slot. What it reaches is what
 * address-ordered first fit itself leaves usable on the workload, before any cost of an
 * implementation: the figure to hold a churn goal against. (It is an empirical ceiling, not
 * a theorem: a smaller arena fails no later on the same trace, but the live bytes at a
 * first failure need not be monotone.)
 *
 * The model only computes addresses; the blocks it hands out lie in the pool, so the driver
 * can still write into them. It is O(n) per call and is used by the churn test only.
 */
#include "bench.h"
#include "shref.h"

static struct shref *model;

static int policy_open(const struct bench_pool *pool)
{
	uintptr_t b = (uintptr_t)pool->base;
	uintptr_t a = (b + SH_GRANULE - 1) & ~(uintptr_t)(SH_GRANULE - 1);
	size_t size;

	if (pool->size < (size_t)(a - b) + SH_GRANULE)
		return -1;
	size = (pool->size - (size_t)(a - b)) / SH_GRANULE * SH_GRANULE;
	shref_delete(model);
	model = shref_new();
	if (model == NULL)
		return -1;
	return shref_add_region(model, a, size, size / SH_GRANULE);
}

static void *benchop_policy_malloc(size_t n)
{
	return (void *)shref_malloc(model, n);
}

static void benchop_policy_free(void *p)
{
	(void)shref_free(model, (uintptr_t)p);
}

static void *benchop_policy_realloc(void *p, size_t n)
{
	return (void *)shref_realloc(model, (uintptr_t)p, n);
}

static void *benchop_policy_memalign(size_t align, size_t n)
{
	return (void *)shref_memalign(model, align, n);
}

static size_t policy_meta(size_t nslots, size_t size)
{
	(void)nslots;
	(void)size;
	return 0;
}

static void policy_stats(struct bench_pool_stats *out)
{
	struct sh_stats st;

	shref_stats(model, &st);
	out->live_bytes = st.live_bytes;
	out->free_bytes = st.free_bytes;
	out->largest_free = st.largest_free;
	out->meta_bytes = 0;
	out->live_blocks = st.live_blocks;
	out->free_blocks = st.free_blocks;
	out->misuse = st.misuse;
}

static int policy_check(void)
{
	return 0;
}

const struct bench_alloc bench_policy = {
	.name = "policy-ceiling",
	.pool = true,
	.open = policy_open,
	.malloc = benchop_policy_malloc,
	.free = benchop_policy_free,
	.realloc = benchop_policy_realloc,
	.memalign = benchop_policy_memalign,
	.meta_bytes = policy_meta,
	.stats = policy_stats,
	.check = policy_check,
};
