/* SPDX-License-Identifier: MIT */
/*
 * slotheap behind the benchmark's allocator table. This file is built twice: once against the
 * default library and once with -DBENCH_SH_LINEAR=1 against the SH_LINEAR library. Each copy
 * is linked with its own library into one relocatable object whose only global symbol is its
 * table (see mk/60-bench.mk), so both builds' sh_* functions live side by side in one binary.
 */
#include "bench.h"
#include "slotheap.h"

#if BENCH_SH_LINEAR
#define SHB_TABLE bench_slotheap_linear
#define SHB_NAME "slotheap-linear"
#else
#define SHB_TABLE bench_slotheap
#define SHB_NAME "slotheap"
#endif

static struct sh_heap heap;

static int sh_bench_open(const struct bench_pool *pool)
{
	if (pool == NULL || sh_init(&heap) != SH_OK)
		return -1;
	return sh_add_region(&heap, pool->base, pool->size, pool->nslots);
}

static void *benchop_sh_malloc(size_t n)
{
	return sh_malloc(&heap, n);
}

static void benchop_sh_free(void *p)
{
	(void)sh_free(&heap, p);
}

static void *benchop_sh_realloc(void *p, size_t n)
{
	return sh_realloc(&heap, p, n);
}

static void *benchop_sh_memalign(size_t align, size_t n)
{
	return sh_memalign(&heap, align, n);
}

static size_t sh_meta(size_t nslots, size_t size)
{
	return sh_region_meta_bytes(nslots, size);
}

static void sh_bench_stats(struct bench_pool_stats *out)
{
	struct sh_stats st;
	struct sh_region_info ri;
	size_t meta = 0;
	unsigned i;

	sh_stats(&heap, &st);
	for (i = 0; sh_region_info(&heap, i, &ri) == SH_OK; i++)
		meta += ri.size - ri.arena_size;
	out->live_bytes = st.live_bytes;
	out->free_bytes = st.free_bytes;
	out->largest_free = st.largest_free;
	out->meta_bytes = meta;
	out->live_blocks = st.live_blocks;
	out->free_blocks = st.free_blocks;
	out->misuse = st.misuse;
}

static int sh_bench_check(void)
{
	return sh_check(&heap, NULL);
}

const struct bench_alloc SHB_TABLE = {
	.name = SHB_NAME,
	.pool = true,
	.open = sh_bench_open,
	.malloc = benchop_sh_malloc,
	.free = benchop_sh_free,
	.realloc = benchop_sh_realloc,
	.memalign = benchop_sh_memalign,
	.meta_bytes = sh_meta,
	.stats = sh_bench_stats,
	.check = sh_bench_check,
};
