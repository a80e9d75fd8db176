/* SPDX-License-Identifier: MIT */
/*
 * glibc malloc behind the benchmark's allocator table. glibc stays the process's malloc; the
 * other host allocators are kept out of its way (see alloc_jemalloc.c, alloc_mimalloc.c).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "bench.h"

static int gl_open(const struct bench_pool *pool)
{
	(void)pool;
	return 0;
}

static void *benchop_gl_malloc(size_t n)
{
	return malloc(n);
}

static void benchop_gl_free(void *p)
{
	free(p);
}

static void *benchop_gl_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void *benchop_gl_memalign(size_t align, size_t n)
{
	void *p = NULL;

	return posix_memalign(&p, align, n) == 0 ? p : NULL;
}

const struct bench_alloc bench_glibc = {
	.name = "glibc",
	.open = gl_open,
	.malloc = benchop_gl_malloc,
	.free = benchop_gl_free,
	.realloc = benchop_gl_realloc,
	.memalign = benchop_gl_memalign,
};
