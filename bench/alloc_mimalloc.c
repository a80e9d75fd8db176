/* SPDX-License-Identifier: MIT */
/*
 * mimalloc behind the benchmark's allocator table, through its mi_* API. Debian builds the
 * shared library with malloc overriding and ships no static one, so linking it would replace
 * glibc malloc for the whole process; it is opened with dlopen(RTLD_LOCAL) instead, which
 * keeps glibc the process's malloc, and mi_* are looked up in its own handle.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*aligned_fn)(size_t, size_t);

struct dl_lib {
	const char *file;
	void *handle;
	bool tried;
};

/* Looks sym up in lib into *fn (a function pointer of any type, fn_size bytes). */
static int dl_get(struct dl_lib *lib, const char *sym, void *fn, size_t fn_size)
{
	void *p = dlsym(lib->handle, sym);

	if (p == NULL) {
		fprintf(stderr, "bench: %s has no %s\n", lib->file, sym);
		return -1;
	}
	/* ISO C has no conversion from void * to a function pointer; copy the representation,
	 * as POSIX guarantees it works for dlsym results. */
	if (fn_size != sizeof(p))
		return -1;
	memcpy(fn, &p, sizeof(p));
	return 0;
}

static int dl_load(struct dl_lib *lib)
{
	if (!lib->tried) {
		lib->tried = true;
		lib->handle = dlopen(lib->file, RTLD_NOW | RTLD_LOCAL);
		if (lib->handle == NULL)
			fprintf(stderr, "bench: cannot open %s: %s\n", lib->file, dlerror());
	}
	return lib->handle != NULL ? 0 : -1;
}

/* mimalloc, through its mi_* API */

static struct dl_lib mi_lib = {.file = "libmimalloc.so.2"};
static malloc_fn mi_malloc;
static free_fn mi_free;
static realloc_fn mi_realloc;
static aligned_fn mi_malloc_aligned; /* (size, alignment) */

static int mi_open(const struct bench_pool *pool)
{
	(void)pool;
	if (mi_malloc != NULL)
		return 0;
	if (dl_load(&mi_lib) != 0 ||
	    dl_get(&mi_lib, "mi_malloc", &mi_malloc, sizeof(mi_malloc)) ||
	    dl_get(&mi_lib, "mi_free", &mi_free, sizeof(mi_free)) ||
	    dl_get(&mi_lib, "mi_realloc", &mi_realloc, sizeof(mi_realloc)) ||
	    dl_get(&mi_lib, "mi_malloc_aligned", &mi_malloc_aligned,
		   sizeof(mi_malloc_aligned))) {
		mi_malloc = NULL;
		return -1;
	}
	return 0;
}

static void *benchop_mi_malloc(size_t n)
{
	return mi_malloc(n);
}

static void benchop_mi_free(void *p)
{
	mi_free(p);
}

static void *benchop_mi_realloc(void *p, size_t n)
{
	return mi_realloc(p, n);
}

/* mi_malloc_aligned in Debian's mimalloc 2.0.9 returns blocks aligned only to their size
 * class when the size is a power of two no smaller than the alignment (it takes such sizes
 * to be naturally aligned, which they are not): ask one byte more in that case. The driver
 * checks the alignment of every result. */
static void *benchop_mi_memalign(size_t align, size_t n)
{
	if (n >= align && (n & (n - 1)) == 0)
		n++;
	return mi_malloc_aligned(n, align);
}

const struct bench_alloc bench_mimalloc = {
	.name = "mimalloc",
	.open = mi_open,
	.malloc = benchop_mi_malloc,
	.free = benchop_mi_free,
	.realloc = benchop_mi_realloc,
	.memalign = benchop_mi_memalign,
};
