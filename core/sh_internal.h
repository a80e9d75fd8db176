/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the files of core/ (and by white-box tests): the slot layout, the free
 * index interface and small helpers. Nothing here is part of the public contract.
 *
 * A region in memory:
 *
 *   base                                          arena                             end
 *   | slots[nslots] | buckets[nbuckets] | index |pad| block | block | ... | block |
 *
 * The free index (not SH_LINEAR) is sized by sh_fs_bytes for the region's size in granules,
 * an upper bound on its arena.
 *
 * Offsets and sizes inside a region are kept in granules as uint32_t, so an arena holds up to
 * SH_MAX_ARENA_GRANULES granules and a slot is SH_SLOT_BYTES on every target:
 *
 *   default build   | off | size | link |          12 bytes
 *   SH_LINEAR       | off | size | link | prev |   16 bytes
 *
 * Offsets and sizes are below 2^31, so the top bit of each is free; together the two bits say
 * which list the slot is on (enum sh_list). A free slot carries neither bit, so code that holds
 * a free slot (the free index, heap.c's splits and merges) reads and writes its off and size
 * as they are; a slot of any other or of an unknown list goes through the accessors below. No
 * slot links its address neighbours: they are found through the free index (free blocks) and
 * the hash (live blocks), see heap.c.
 */
#ifndef SH_INTERNAL_H
#define SH_INTERNAL_H

#include "slotheap.h"

#ifndef SH_LINEAR
#define SH_LINEAR 0
#endif

#define SH_NIL UINT32_MAX  /* "no slot" in every link */
#define SH_TAG 0x80000000u /* the tag bit of off and of size */

/* Which list a slot is on: bit 0 is off's tag bit, bit 1 size's; 3 is no list. */
enum sh_list {
	SH_LIST_FREE = 0,
	SH_LIST_SPARE = 1,
	SH_LIST_LIVE = 2,
};

struct sh_slot {
	uint32_t off;  /* block start, granules from the arena start; tag bit: spare */
	uint32_t size; /* block size in granules, > 0; tag bit: live */
	/* spare list next (spare), hash chain next (live), next free block starting in the same
	 * leaf of the free index, or next free block (SH_LINEAR) */
	uint32_t link;
#if SH_LINEAR
	uint32_t prev; /* previous free block (SH_LINEAR) */
#endif
#if SH_HARDEN
	/* Live blocks: the size asked for, rq_gran * SH_GRANULE + rq_rem bytes (a request can
	 * exceed 32 bits; the guard bytes run from there to the block's end). */
	uint32_t rq_gran;
	uint32_t rq_rem;
#endif
};

_Static_assert(sizeof(struct sh_slot) == SH_SLOT_BYTES,
	       "a slot is SH_SLOT_BYTES on every target");
_Static_assert(
	SH_SLOT_BYTES - SH_SLOT_HARDEN_BYTES == (SH_LINEAR ? 16u : 12u),
	"the default build's slot is 12 bytes (SH_LINEAR 16); only SH_HARDEN adds to it");
_Static_assert(SH_MAX_SLOTS < UINT32_MAX, "SH_NIL is no slot index");
_Static_assert(SH_MAX_ARENA_GRANULES < SH_TAG, "offsets and sizes leave the tag bit free");
_Static_assert((SH_GRANULE & (SH_GRANULE - 1)) == 0, "SH_GRANULE is a power of two");
_Static_assert(SH_GRANULE >= 2 * sizeof(void *), "SH_GRANULE holds two pointers");
_Static_assert(SH_MAX_REGIONS >= 1 && SH_MAX_REGIONS <= 32, "region masks are 32 bits");
_Static_assert(SH_SLOTS_PER_BUCKET >= 1, "at least one slot per bucket");
_Static_assert((SH_MAX_ARENA_GRANULES >> SH_INDEX_LEAF_SHIFT) + 1 <=
		       (1u << (SH_INDEX_FAN_SHIFT * (SH_INDEX_LEVELS - 1))),
	       "SH_INDEX_LEVELS levels cover the largest arena");

static inline struct sh_slot *sh_slot_at(const struct sh_region *r, uint32_t i)
{
	return &r->slots[i];
}

/* A slot's block start and size, without the tag bits. */
static inline uint32_t sh_slot_off(const struct sh_slot *s)
{
	return s->off & ~SH_TAG;
}

static inline uint32_t sh_slot_size(const struct sh_slot *s)
{
	return s->size & ~SH_TAG;
}

static inline uint32_t sh_end_of(const struct sh_slot *s)
{
	return sh_slot_off(s) + sh_slot_size(s);
}

/* The list a slot is on (enum sh_list), or 3 for a slot whose tags name none. */
static inline uint32_t sh_slot_list(const struct sh_slot *s)
{
	return (s->off >> 31) | (s->size >> 31 << 1);
}

/* Set start or size, keeping the slot's list. */
static inline void sh_slot_set_off(struct sh_slot *s, uint32_t off)
{
	s->off = (s->off & SH_TAG) | off;
}

static inline void sh_slot_set_size(struct sh_slot *s, uint32_t size)
{
	s->size = (s->size & SH_TAG) | size;
}

/* Moves the slot to list l (the tag bits only: linking is the caller's). */
static inline void sh_slot_set_list(struct sh_slot *s, uint32_t l)
{
	s->off = (s->off & ~SH_TAG) | (l & 1u ? SH_TAG : 0);
	s->size = (s->size & ~SH_TAG) | (l & 2u ? SH_TAG : 0);
}

/* Usable size of live slot s: its block size, or in the SH_HARDEN build the size asked for. */
static inline size_t sh_usable_of(const struct sh_slot *s)
{
#if SH_HARDEN
	return (size_t)s->rq_gran * SH_GRANULE + s->rq_rem;
#else
	return (size_t)sh_slot_size(s) * SH_GRANULE;
#endif
}

static inline uint32_t sh_bucket_of(const struct sh_region *r, uint32_t off)
{
	/* Fibonacci hashing spreads consecutive granule offsets over the buckets. */
	return (uint32_t)(off * 2654435761u) & (r->nbuckets - 1);
}

/*
 * The free index: an address-ordered set of free blocks that answers "lowest-addressed free
 * block of at least n granules". freeset_index.c keeps a tree of maxima of fixed shape over
 * the arena (free blocks chained per leaf through link); freeset_linear.c (SH_LINEAR)
 * keeps the original sorted list. Callers keep the counters themselves.
 */

/* Bytes of index for an arena of at most ngran granules with nslots slots (0 when SH_LINEAR);
 * never decreases as ngran grows. */
size_t sh_fs_bytes(uint32_t ngran, uint32_t nslots);
/* Empties r's index, placing it at mem (sh_fs_bytes(sized, r->nslots) bytes, 4-byte aligned),
 * shaped for r->ngran <= sized granules with the leaf size chosen for sized. */
void sh_fs_init(struct sh_region *r, void *mem, uint32_t sized);
/* Lowest-addressed free block of at least gran granules, or SH_NIL. */
uint32_t sh_fs_first_fit(struct sh_region *r, uint32_t gran);
/* Offers free blocks to accept(), in address order, until it returns true; returns that block
 * or SH_NIL. Used by memalign, whose fit depends on the block's address as well as its size:
 * aligned starts are the granule offsets first + k * step (step a power of two), and the
 * index offers only blocks that hold gran granules from their first aligned start (the
 * SH_LINEAR list offers every block of at least gran). Not const: the index remembers where
 * the search ended (memalign's watermarks). */
typedef bool (*sh_fs_accept)(const struct sh_region *r, uint32_t i, void *ctx);
uint32_t sh_fs_scan(struct sh_region *r, uint32_t gran, uint64_t step, uint64_t first,
		    sh_fs_accept accept, void *ctx);
void sh_fs_insert(struct sh_region *r, uint32_t i);
void sh_fs_remove(struct sh_region *r, uint32_t i);
/* Block i changed its offset from old_off and/or its size from old_size without passing
 * another free block. */
void sh_fs_update(struct sh_region *r, uint32_t i, uint32_t old_off, uint32_t old_size);
/* The free blocks ending at off and starting at end (SH_NIL where there is none) around the
 * live block [off, end): one walk of the free list (SH_LINEAR) or of one leaf chain. */
void sh_fs_neighbours(struct sh_region *r, uint32_t off, uint32_t end, uint32_t *lo,
		      uint32_t *hi);
/* Free block starting exactly at granule offset off (off < r->ngran), or SH_NIL. */
uint32_t sh_fs_find(const struct sh_region *r, uint32_t off);
uint32_t sh_fs_largest(const struct sh_region *r);
/* I6: checks the index's own structure (shape, order, links, maxima); returns the number of
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
