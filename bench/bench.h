/* SPDX-License-Identifier: MIT */
/*
 * The benchmark driver's view of an allocator: a small table of functions, one per allocator,
 * so that every workload runs the same code against each of them.
 *
 * Pool allocators (slotheap and its linear build) get one region from the driver, the same
 * memory for both builds; host allocators (glibc, jemalloc, mimalloc) get their memory from
 * the system. Every wrapper function is named benchop_<allocator>_<call> so that callgrind can
 * count the instructions spent inside allocator calls alone (--toggle-collect='benchop_*').
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The region handed to a pool allocator. */
struct bench_pool {
	void *base;
	size_t size;
	size_t nslots;
};

/* What a pool allocator can say about its own state. */
struct bench_pool_stats {
	size_t live_bytes;   /* usable bytes of live blocks */
	size_t free_bytes;   /* bytes in free blocks */
	size_t largest_free; /* largest free block */
	size_t meta_bytes;   /* slot array, buckets and free index */
	size_t live_blocks;
	size_t free_blocks;
	size_t misuse; /* bad frees the allocator detected: must stay 0 */
};

struct bench_alloc {
	const char *name;
	bool pool; /* draws from a driver-provided region (else from the host) */
	/* Prepares a fresh, empty allocator. pool is NULL for host allocators. Returns 0, or
	 * non-zero when the allocator is not available (a message says why). */
	int (*open)(const struct bench_pool *pool);
	void *(*malloc)(size_t n);
	void (*free)(void *p);
	void *(*realloc)(void *p, size_t n);
	void *(*memalign)(size_t align, size_t n);
	/* Pool allocators only, NULL otherwise. */
	/* metadata of a region of size bytes with nslots slots */
	size_t (*meta_bytes)(size_t nslots, size_t size);
	void (*stats)(struct bench_pool_stats *out);
	int (*check)(void); /* full invariant check: 0 if the heap is consistent */
};

extern const struct bench_alloc bench_slotheap;
extern const struct bench_alloc bench_slotheap_linear;
extern const struct bench_alloc bench_glibc;
extern const struct bench_alloc bench_jemalloc;
extern const struct bench_alloc bench_mimalloc;
/* The policy alone (the reference model, no metadata in the pool): churn ceiling only. */
extern const struct bench_alloc bench_policy;

#endif /* BENCH_H */
