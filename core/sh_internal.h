/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the files of core/ (and by white-box tests): the slot layout, the free
 * index interface and small helpers. Nothing here is part of the public contract.
 *
 * A region in memory:
 *
 *   base                                  arena                                     end
 *   | slots[nslots] | buckets[nbuckets] |pad| block | block | block | ... | block |
 *
 * Offsets and sizes inside a region are kept in granules as uint32_t, so a slot is 32 bytes
 * on every target and an arena holds up to UINT32_MAX granules.
 */
#ifndef SH_INTERNAL_H
#define SH_INTERNAL_H

#include "slotheap.h"

#define SH_NIL UINT32_MAX /* "no slot" in every link */

/* Which list a slot is on. */
enum sh_list {
	SH_LIST_SPARE = 0,
	SH_LIST_FREE = 1,
	SH_LIST_LIVE = 2,
};

struct sh_slot {
	uint32_t off;	/* block start, granules from the arena start */
	uint32_t size;	/* block size in granules, > 0 */
	uint32_t below; /* slot of the block just below (lower address), SH_NIL at the bottom */
	uint32_t above; /* slot of the block just above, SH_NIL at the top */
	/*
	 * link[0]: spare list next, hash chain next (live), left child (free tree) or next
	 *          free block (SH_LINEAR);
	 * link[1]: right child (free tree) or previous free block (SH_LINEAR).
	 */
	uint32_t link[2];
	uint32_t max; /* free tree: largest block size in this subtree */
	/* Packed so that a slot is 32 bytes and never straddles a cache line: slot indices fit
	 * 24 bits (SH_MAX_SLOTS) and an AVL tree of 2^24 nodes is at most 35 high. */
	unsigned int parent : 24; /* free tree: parent node, SH_PARENT_NIL at the root */
	unsigned int list : 2;	  /* enum sh_list */
	unsigned int height : 6;  /* free tree: AVL height of this subtree (a leaf is 1) */
};

_Static_assert(sizeof(struct sh_slot) == SH_SLOT_BYTES, "a slot is 32 bytes on every target");
_Static_assert(SH_MAX_SLOTS < (1u << 24),
	       "slot indices and SH_PARENT_NIL fit the parent field");
_Static_assert((SH_GRANULE & (SH_GRANULE - 1)) == 0, "SH_GRANULE is a power of two");
_Static_assert(SH_GRANULE >= 2 * sizeof(void *), "SH_GRANULE holds two pointers");
_Static_assert(SH_MAX_REGIONS >= 1 && SH_MAX_REGIONS <= 32, "region masks are 32 bits");
_Static_assert(SH_SLOTS_PER_BUCKET >= 1, "at least one slot per bucket");

/* AVL height bound for SH_MAX_SLOTS nodes: 1.4405 * log2(n + 2) is under 35. */
#define SH_MAX_HEIGHT 36

#define SH_PARENT_NIL 0xffffffu /* "no parent" in the 24-bit parent field */
_Static_assert(SH_MAX_HEIGHT < 64, "tree heights fit the height field");

static inline struct sh_slot *sh_slot_at(const struct sh_region *r, uint32_t i)
{
	return &r->slots[i];
}

static inline uint32_t sh_parent_of(const struct sh_slot *s)
{
	return s->parent == SH_PARENT_NIL ? SH_NIL : s->parent;
}

/* SH_NIL maps to SH_PARENT_NIL, which no slot index reaches. */
static inline void sh_set_parent(struct sh_slot *s, uint32_t p)
{
	s->parent = p & SH_PARENT_NIL;
}

static inline uint32_t sh_end_of(const struct sh_slot *s)
{
	return s->off + s->size;
}

static inline uint32_t sh_bucket_of(const struct sh_region *r, uint32_t off)
{
	/* Fibonacci hashing spreads consecutive granule offsets over the buckets. */
	return (uint32_t)(off * 2654435761u) & (r->nbuckets - 1);
}

/*
 * The free index: an address-ordered set of free blocks that answers "lowest-addressed free
 * block of at least n granules". freeset_tree.c keeps an AVL tree in the slots, each node
 * knowing the largest block in its subtree; freeset_linear.c (SH_LINEAR) keeps the original
 * sorted list. Callers keep every other field (phys links, counters) themselves.
 */

/* Lowest-addressed free block of at least gran granules, or SH_NIL. */
uint32_t sh_fs_first_fit(const struct sh_region *r, uint32_t gran);
/* Offers each free block of at least gran granules to accept(), in address order, until it
 * returns true; returns that block or SH_NIL. Used by memalign, whose fit depends on the
 * block's address as well as its size. */
typedef bool (*sh_fs_accept)(const struct sh_region *r, uint32_t i, void *ctx);
uint32_t sh_fs_scan(const struct sh_region *r, uint32_t gran, sh_fs_accept accept, void *ctx);
void sh_fs_insert(struct sh_region *r, uint32_t i);
void sh_fs_remove(struct sh_region *r, uint32_t i);
/* Block i changed its offset and/or size without changing its order among free blocks. */
void sh_fs_update(struct sh_region *r, uint32_t i);
#if SH_LINEAR
/* The free blocks ending at off and starting at end (SH_NIL where there is none), found by
 * walking the free list. */
void sh_fs_neighbours(const struct sh_region *r, uint32_t off, uint32_t end, uint32_t *lo,
		      uint32_t *hi);
#endif
/* Free block starting exactly at granule offset off, or SH_NIL. */
uint32_t sh_fs_find(const struct sh_region *r, uint32_t off);
uint32_t sh_fs_largest(const struct sh_region *r);
/* I6: checks the index's own structure (order, links, cached maxima); returns the number of
 * failures found, reports the first through *rep and counts the free blocks it holds in
 * *nodes. Visits at most r->nslots slots, whatever the links say. */
unsigned sh_fs_check(const struct sh_region *r, unsigned ri, struct sh_check_report *rep,
		     uint32_t *nodes);

/* Records a check failure (the first one fills the report). */
void sh_check_fail(struct sh_check_report *rep, int inv, unsigned region, uint32_t slot,
		   uintptr_t block, const char *what);

void sh_memset(void *dst, int c, size_t n);
void sh_memcpy(void *dst, const void *src, size_t n);

#endif /* SH_INTERNAL_H */
