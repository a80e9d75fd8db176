/* SPDX-License-Identifier: MIT */
/*
 * The reference model: the allocation policy of docs/DESIGN.md written the obvious way, with no
 * code shared with core/. It never touches the memory it manages: it only computes which
 * addresses the policy hands out, so that every result of core/ can be predicted exactly.
 *
 * Each region is a sorted array of blocks {start, size, live}; every search is a linear scan.
 * Regions are given by their arena (start and size, as sh_region_info reports them) and their
 * slot count: a region with nslots slots can describe at most nslots blocks.
 *
 * Results use the codes and structures of the public header slotheap.h (SH_E*, struct
 * sh_stats, struct sh_block_info).
 */
#ifndef SHREF_H
#define SHREF_H

#include <stddef.h>
#include <stdint.h>

#include "slotheap.h"

struct shref;

/* A new empty model, or NULL if the host is out of memory. */
struct shref *shref_new(void);
void shref_delete(struct shref *m);

/* Makes dst a copy of src (for searches that branch from a saved state). Returns 0, or
 * SH_ENOMEM if the host is out of memory (dst is then partly copied: only delete it). */
int shref_copy(struct shref *dst, const struct shref *src);

/* Adds a region whose arena is [arena, arena + size) with nslots slots. size must be a
 * positive multiple of SH_GRANULE and arena SH_GRANULE aligned. Returns 0 or SH_EINVAL. */
int shref_add_region(struct shref *m, uintptr_t arena, size_t size, size_t nslots);

/* The allocation calls. Addresses are returned as uintptr_t, 0 for failure; on failure (and
 * on misuse) shref_last_error() gives the code the policy prescribes. */
uintptr_t shref_malloc(struct shref *m, size_t size);
uintptr_t shref_malloc_in(struct shref *m, unsigned region_mask, size_t size);
uintptr_t shref_calloc(struct shref *m, size_t n, size_t size);
uintptr_t shref_realloc(struct shref *m, uintptr_t p, size_t size);
uintptr_t shref_realloc_in(struct shref *m, unsigned region_mask, uintptr_t p, size_t size);
uintptr_t shref_memalign(struct shref *m, size_t align, size_t size);
uintptr_t shref_memalign_in(struct shref *m, unsigned region_mask, size_t align, size_t size);
int shref_free(struct shref *m, uintptr_t p);
size_t shref_usable_size(const struct shref *m, uintptr_t p);
int shref_last_error(const struct shref *m);

void shref_stats(const struct shref *m, struct sh_stats *out);

/* Caller-bug detection, the SH_HARDEN build (docs/DESIGN.md, "The harden build"): the model
 * tracks which bytes of the managed memory differ from what the allocator keeps there (the
 * guard byte after a live block's request, the poison byte in free memory) and predicts each
 * report. Without SH_HARDEN the model reports nothing and these calls do nothing.
 *
 * shref_reports: the reports (SH_EOVERRUN, SH_EUSEAFTERFREE) made since it was last called,
 * in order; returns their number, copies up to max (at most 2 are kept) and forgets them.
 * shref_overrun: the caller wrote k bytes, v, v + 1, ... (mod 256), from the end of the
 * request of live block p on; k is cut at the block's end. shref_write_freed: the caller wrote
 * v at addr, inside a free block. Both return 0, or SH_EINVAL if p is not live / addr not
 * free. shref_check_guards: the live blocks whose guard differs (what sh_check counts), the
 * lowest of the first region with one in *first (code SH_EOVERRUN). */
unsigned shref_reports(struct shref *m, struct sh_report *out, unsigned max);
int shref_overrun(struct shref *m, uintptr_t p, size_t k, unsigned char v);
int shref_write_freed(struct shref *m, uintptr_t addr, unsigned char v);
size_t shref_check_guards(const struct shref *m, struct sh_report *first);
/* The block size of the live block p (its usable size is smaller in SH_HARDEN), or 0. */
size_t shref_block_size(const struct shref *m, uintptr_t p);

/* Number of blocks in all regions, and block i of them in the order sh_walk reports blocks
 * (regions in index order, then address order). Returns 0, or SH_EINVAL for i out of range. */
size_t shref_block_count(const struct shref *m);
int shref_block(const struct shref *m, size_t i, struct sh_block_info *out);

#endif /* SHREF_H */
