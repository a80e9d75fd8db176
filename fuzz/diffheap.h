/* SPDX-License-Identifier: MIT */
/*
 * The differential engine: one core heap (struct sh_heap on a host buffer) and one reference
 * model (struct shref) over the same arenas. Each operation runs on both; afterwards the
 * engine checks the invariants of docs/DESIGN.md:
 *   I1-I7  sh_check() is clean, and the public view agrees with itself: sh_walk tiles every
 *          arena with granule-aligned blocks, no two free blocks touch, sh_stats agrees with
 *          the walk;
 *   I8     the same pointer or failure, usable size, error code, misuse report and hook call
 *          as the model; sh_stats equal to shref_stats field by field; the sh_walk block list
 *          equal to the model's block list;
 *   I9     every live block carries a pattern derived from its id: the block an op touched
 *          plus a rotating sample are verified after every step, all blocks every
 *          DH_FULL_VERIFY steps and at dh_finish(); realloc keeps the common prefix, calloc
 *          memory is zero.
 * Under ASan the arena bytes of free blocks are poisoned: the allocator keeps nothing there,
 * so any access to them is a bug (a realloc copying too much, a calloc zeroing too far).
 * The engine also keeps its own list of live blocks, a third opinion: a free of a pointer it
 * knows to be live must succeed, one of a pointer it knows to be dead must be reported.
 *
 * On a failure it prints the step, the operation, the invariant and a dump of the heap
 * (regions, core and model block lists, statistics, slot use), then aborts, unless
 * dh_set_abort(d, false) asked for the failure to be returned instead.
 *
 * Cost per step: O(blocks + slots) for the checks, plus the bytes of the verified blocks.
 */
#ifndef DIFFHEAP_H
#define DIFFHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "opdecode.h"
#include "slotheap.h"

#define DH_FULL_VERIFY 64 /* steps between checks of every live block's contents */
#define DH_ROTATE 2	  /* live blocks verified per step besides the one touched */
#define DH_STALE 16	  /* recently freed pointers kept for PTR_STALE */

/* A pool that holds any layout of the ops format: arenas, up to 64 KiB of metadata each,
 * misalignment and gaps. */
#define DH_OPS_POOL_BYTES                                                                      \
	((size_t)OPS_MAX_REGIONS * (((size_t)OPS_MAX_ARENA_GRAN + 258) * SH_GRANULE + 65536))

struct diffheap;

/* A new engine with a host pool of pool_bytes for its regions; NULL if out of memory. */
struct diffheap *dh_new(size_t pool_bytes);
void dh_delete(struct diffheap *d);

/* A text prefixed to failure reports (a seed, a file name); copied. */
void dh_set_label(struct diffheap *d, const char *label);
/* abort() on failure (default) or make dh_step/dh_finish return -1. */
void dh_set_abort(struct diffheap *d, bool on);
/* Print each step's operation and results to f (NULL: quiet, the default). */
void dh_set_trace(struct diffheap *d, FILE *f);

/* Starts a new heap and model with no regions; regions are then placed in the pool bottom-up,
 * or top-down (region 0 highest). */
void dh_begin(struct diffheap *d, bool topdown);

/* Adds a region of size bytes with nslots slots, gap bytes past the previous one, its base
 * misalign bytes above a granule boundary. Checks that sh_add_region succeeds or fails as the
 * header predicts (SH_EINVAL, SH_ETOOSMALL) and that sh_region_info reports the promised
 * geometry; on success the model gets the same arena. Returns 0, 1 if the region was
 * (correctly) refused, -1 on a failure, -2 if the pool is too small. */
int dh_add_region(struct diffheap *d, size_t size, size_t nslots, size_t misalign, size_t gap);

/* Fault injection: built with -DDH_TINY (make fuzz TINY=1), dh_setup cuts every region of
 * a layout to at most DH_TINY_GRAN granules and DH_TINY_SLOTS slots, so that slots and memory
 * run out on most steps of any input. */
#define DH_TINY_GRAN 32
#define DH_TINY_SLOTS 4

/* dh_begin plus one dh_add_region per region of the layout (the region's size is its metadata,
 * padding, arena and tail). Returns 0 or -1. */
int dh_setup(struct diffheap *d, const struct ops_layout *l);

/* Bytes a region with this spec occupies (for callers that size pools). */
size_t dh_region_bytes(const struct ops_region *r);

/* For heaps built by someone else (the boot helper): the pool the engine's regions may use,
 * the heap to build (after dh_begin), and dh_adopt, which gives the model the same regions
 * (geometry from sh_region_info, checked against the header's promise) and installs the
 * engine's misuse hook again. dh_adopt returns 0 or -1. */
unsigned char *dh_pool(struct diffheap *d, size_t *bytes);
struct sh_heap *dh_heap_mut(struct diffheap *d);
int dh_adopt(struct diffheap *d);

/* Reports a failure found outside the engine in the engine's format (step, op, invariant,
 * heap dump); aborts unless dh_set_abort(d, false). Returns -1. */
int dh_report(struct diffheap *d, const char *invariant, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs one operation on both and checks everything. Returns 0 or -1 (only without abort). */
int dh_step(struct diffheap *d, const struct ops_op *op);

/* Frees every live block (one checked step each), then checks that nothing leaked: every
 * region is one free block again and every other slot spare. Returns 0 or -1. */
int dh_drain(struct diffheap *d);

/* Verifies every live block's contents; returns 0 or -1. */
int dh_finish(struct diffheap *d);

/* Under ASan core poisons each region's metadata (slots, buckets, index; SH_ASAN builds, see
 * core/harden.h): a reader of it unpoisons it first (poisoned false) and poisons it again
 * after (true). A no-op without ASan. */
void dh_meta_poison(const struct diffheap *d, bool poisoned);
/* Memory a heap built outside the engine was given (and is now abandoned): unpoisons it, as its
 * owner must before using it again. A no-op without ASan. */
void dh_unpoison(void *p, size_t n);

/* Prints regions, blocks of core and model, statistics and slot use. */
void dh_dump(struct diffheap *d, FILE *f);
/* Draws the regions, their blocks and slot use as an SVG picture. */
void dh_svg(struct diffheap *d, FILE *f, const char *title);

/* Snapshots, for searches that branch from a saved state (tests/exhaustive.c): the used part
 * of the pool (metadata and block contents), the heap, the model and the engine's own lists.
 * dh_restore puts an engine back exactly as it was saved (same pool, same regions); the
 * counters of dh_counters keep counting. dh_save and dh_restore return 0, or -1 if the host
 * is out of memory (the snapshot, or the engine, is then unusable). */
struct dh_snapshot;
struct dh_snapshot *dh_snapshot_new(void);
void dh_snapshot_delete(struct dh_snapshot *s);
int dh_save(const struct diffheap *d, struct dh_snapshot *s);
int dh_restore(struct diffheap *d, const struct dh_snapshot *s);

/* What the operations did, summed over every heap the engine ran since dh_new. */
struct dh_counters {
	size_t ops;
	size_t alloc_ok;     /* malloc, malloc_in, calloc, memalign, realloc(NULL) */
	size_t alloc_failed; /* ... returning NULL */
	size_t whole_block;  /* allocations larger than asked for: no spare slot for a split */
	size_t frees;	     /* successful frees, realloc(p, 0) included */
	size_t misuse;	     /* bad pointers reported by free and realloc */
	size_t realloc_same; /* realloc that kept its address */
	size_t realloc_moved;
	size_t realloc_failed;
	size_t align_skipped; /* memalign results past the first free block with an aligned fit
				 (its gap could get no slot), or none despite one */
	size_t drains; /* heaps emptied by dh_drain and found back in their first state */
};
void dh_counters(const struct diffheap *d, struct dh_counters *out);

size_t dh_steps(const struct diffheap *d);
size_t dh_live_count(const struct diffheap *d);
const struct sh_heap *dh_heap(const struct diffheap *d);
unsigned dh_region_count(const struct diffheap *d);

#endif /* DIFFHEAP_H */
