/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the unit tests (implemented in tests/util_heap.c, linked into every test
 * program). They build regions whose arena sits at a known, 4 KiB aligned address inside
 * static buffers, so that every test can state the exact layout the policy prescribes:
 *
 *   th_mem[i]:  | ... unused ... | metadata (slots, buckets, index) | arena: ngran gran. | ... |
 *                                                             ^ th_mem[i] + TH_ARENA_OFF
 *
 * Expected layouts are written in granules from the arena start, one struct th_blk per block,
 * e.g. EXPECT_LAYOUT(h, {0, 0, 1, LIVE}, {0, 1, 31, FREE}). EXPECT_LAYOUT also compares every
 * sh_stats figure that follows from the layout and runs sh_check. The T_* wrappers run an
 * allocator call and then sh_check, failing the test at the caller's line if it finds anything.
 */
#ifndef SH_TESTUTIL_H
#define SH_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "slotheap.h"

/* TH_ASAN: this test program is built with AddressSanitizer. */
#if defined(__SANITIZE_ADDRESS__)
#define TH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TH_ASAN 1
#endif
#endif
#ifdef TH_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define GRAN ((size_t)SH_GRANULE)

/* Static buffers the tests carve regions from; each is 4 KiB aligned. */
#define TH_NBUF 4
#define TH_ARENA_OFF ((size_t)32768) /* arena start inside a buffer: leaves room for metadata */
#define TH_BUF_SIZE (TH_ARENA_OFF + (size_t)65536)
#define TH_MAX_GRAN ((TH_BUF_SIZE - TH_ARENA_OFF) / GRAN)
#define TH_DIRT 0xa5 /* th_reset fills every buffer with this byte */

extern unsigned char th_mem[TH_NBUF][TH_BUF_SIZE];

/* Fills every buffer with TH_DIRT, so that nothing depends on what an earlier test left
 * (unpoisoning them first: in ASan builds core poisons what it does not hand out). */
void th_reset(void);

/* ASan builds: unpoison [p, p + n) (nothing otherwise). */
void th_unpoison(void *p, size_t n);
/* White-box tests that read or write a heap's metadata (slots, buckets, index) unpoison it
 * first: core poisons it in ASan builds (core/harden.h). */
void th_meta_open(const struct sh_heap *h);

/* sh_init(h), asserting success. */
void th_init(struct sh_heap *h);

/* Adds to h a region whose arena is exactly th_mem[buf] + TH_ARENA_OFF, ngran granules long,
 * with nslots slots (the region, th_region_bytes(ngran, nslots) long, starts its metadata
 * rounded up to a granule below the arena). Asserts success and the geometry sh_region_info reports; returns the arena. */
unsigned char *th_add(struct sh_heap *h, unsigned buf, size_t ngran, size_t nslots);

/* Size of a region whose arena is exactly ngran granules when its base is granule aligned:
 * the least size S with S = round_up(sh_region_meta_bytes(nslots, S), GRAN) + ngran * GRAN. */
size_t th_region_bytes(size_t ngran, size_t nslots);

/* Address of granule k of an arena. */
#define AT(arena, k) ((void *)((arena) + (size_t)(k)*GRAN))

/* One expected block: region index, offset and size in granules from the region's arena. */
struct th_blk {
	unsigned region;
	size_t off;
	size_t size;
	bool live;
};
#define LIVE true
#define FREE false

void th_expect_layout_at(const struct sh_heap *h, const struct th_blk *exp, size_t n,
			 const char *file, int line);
#define EXPECT_LAYOUT(h, ...)                                                                  \
	do {                                                                                   \
		const struct th_blk th_exp_[] = {__VA_ARGS__};                                 \
		th_expect_layout_at((h), th_exp_, sizeof(th_exp_) / sizeof(th_exp_[0]),        \
				    __FILE__, __LINE__);                                       \
	} while (0)

/* Asserts the counters of sh_stats that no layout implies. */
void th_expect_counts_at(const struct sh_heap *h, size_t failed_allocs, size_t misuse,
			 const char *file, int line);
#define EXPECT_COUNTS(h, failed, misuse)                                                       \
	th_expect_counts_at((h), (failed), (misuse), __FILE__, __LINE__)

/* sh_check(h) must return 0; otherwise the report is printed and the test fails. */
void th_check_at(const struct sh_heap *h, const char *file, int line);
#define CHECK_HEAP(h) th_check_at((h), __FILE__, __LINE__)

void *th_ck_ptr(const struct sh_heap *h, void *p, const char *file, int line);
int th_ck_int(const struct sh_heap *h, int rc, const char *file, int line);
#define T_MALLOC(h, n) th_ck_ptr((h), sh_malloc((h), (n)), __FILE__, __LINE__)
#define T_MALLOC_IN(h, m, n) th_ck_ptr((h), sh_malloc_in((h), (m), (n)), __FILE__, __LINE__)
#define T_CALLOC(h, n, s) th_ck_ptr((h), sh_calloc((h), (n), (s)), __FILE__, __LINE__)
#define T_REALLOC(h, p, n) th_ck_ptr((h), sh_realloc((h), (p), (n)), __FILE__, __LINE__)
#define T_MEMALIGN(h, a, n) th_ck_ptr((h), sh_memalign((h), (a), (n)), __FILE__, __LINE__)
#define T_FREE(h, p) th_ck_int((h), sh_free((h), (p)), __FILE__, __LINE__)

/* A full picture of a heap: its sh_walk listing and its stats. */
#define TH_MAX_BLOCKS 256
struct th_snap {
	size_t n;
	struct sh_block_info b[TH_MAX_BLOCKS];
	struct sh_stats st;
};
void th_snap(const struct sh_heap *h, struct th_snap *s);
/* The heap still shows the listing of *before and the same stats except the misuse count. */
void th_expect_same_at(const struct sh_heap *h, const struct th_snap *before, const char *file,
		       int line);
#define EXPECT_SAME(h, before) th_expect_same_at((h), (before), __FILE__, __LINE__)

/* Records calls of the error hook. */
struct th_hook {
	unsigned calls;
	int code;
	const void *ptr;
	void *ctx;
};
void th_hook_fn(void *ctx, int code, const void *ptr);

/* Writes / verifies a byte pattern depending on seed and position. */
void th_fill(void *p, size_t n, unsigned seed);
bool th_verify(const void *p, size_t n, unsigned seed);
bool th_all_bytes(const void *p, size_t n, unsigned char c);

#endif /* SH_TESTUTIL_H */
