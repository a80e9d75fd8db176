/* SPDX-License-Identifier: MIT */
/*
 * jemalloc behind the benchmark's allocator table. Debian builds jemalloc without a symbol
 * prefix, so its malloc would replace glibc's for the whole process if linked as usual (and
 * its shared library cannot be opened late: it needs static TLS). This file is therefore
 * linked with libjemalloc_pic.a into one relocatable object in which every symbol but the
 * table is made local (see mk/60-bench.mk): the malloc called here is jemalloc's, the malloc
 * every other file calls stays glibc's.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/* jemalloc's control interface (declared here to keep its header's malloc declarations out). */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

static uint64_t thread_allocated(void)
{
	uint64_t v = 0;
	size_t len = sizeof(v);

	return mallctl("thread.allocated", &v, &len, NULL, 0) == 0 ? v : 0;
}

/* Proves that the malloc called here is jemalloc's: its per-thread byte count must grow. */
static int je_open(const struct bench_pool *pool)
{
	static int verdict = -2;

	(void)pool;
	if (verdict == -2) {
		uint64_t before = thread_allocated();
		void *volatile p = malloc(4000);

		verdict = thread_allocated() >= before + 4000 ? 0 : -1;
		free(p);
		if (verdict != 0)
			fprintf(stderr,
				"bench: malloc in alloc_jemalloc.c is not jemalloc's\n");
	}
	return verdict;
}

static void *benchop_je_malloc(size_t n)
{
	return malloc(n);
}

static void benchop_je_free(void *p)
{
	free(p);
}

static void *benchop_je_realloc(void *p, size_t n)
{
	return realloc(p, n);
}

static void *benchop_je_memalign(size_t align, size_t n)
{
	void *p = NULL;

	return posix_memalign(&p, align, n) == 0 ? p : NULL;
}

const struct bench_alloc bench_jemalloc = {
	.name = "jemalloc",
	.open = je_open,
	.malloc = benchop_je_malloc,
	.free = benchop_je_free,
	.realloc = benchop_je_realloc,
	.memalign = benchop_je_memalign,
};
