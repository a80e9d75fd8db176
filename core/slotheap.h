/* SPDX-License-Identifier: MIT */
/*
 * slotheap: a freestanding memory allocator with out-of-band metadata.
 *
 * A heap is a caller-provided `struct sh_heap` holding up to SH_MAX_REGIONS regions. Each
 * region's low end holds its slot array and hash buckets; the rest (the arena) is tiled by
 * blocks. Every block is described by one slot, and every slot is on exactly one list:
 * spare (unallocated), free (free blocks, address ordered) or the allocated hash (live blocks,
 * keyed by address). No metadata lives in the arena, so a caller that overruns a block cannot
 * corrupt the allocator.
 *
 * Policy (normative text in docs/DESIGN.md): sizes round up to the granule
 * SH_GRANULE (malloc(0) gets one granule); regions are tried in the order they were added;
 * within a region the lowest-addressed free block that fits is taken (address-ordered first
 * fit) and split at its low end; a remainder needs a spare slot, without one the whole block
 * is handed out; free merges at once with free neighbours.
 *
 * Costs, with G the granules of a region's arena, n its slots and R the number of regions:
 * the free index is a tree of maxima of fixed shape over the arena with leaves of 2^s
 * granules, s chosen per region by sh_add_region (6 <= s <= SH_INDEX_LEAF_SHIFT_MAX: the
 * least s that gives at most max(ceil(G / 2^SH_INDEX_LEAF_SHIFT_MAX), 2^floor(log2(n /
 * SH_INDEX_SLOTS_PER_LEAF))) leaves), and h = 1 + ceil(log16(G / 2^s)) levels (at most 8). A
 * leaf holds at most c = min(2^(s-1), n) free blocks (free blocks never touch), so malloc,
 * calloc, free and realloc are O(R + 16 h + c) whatever the number of blocks (free adds an
 * O(1) expected hash look-up); memalign walks the same index in address order from where
 * earlier searches of its alignment and size got to (watermarks: below them only a few
 * recorded exceptions can fit), passing over every entry whose maximum cannot hold the
 * request from the nearest aligned start: O(R + (k + E) (16 h + c)), k the leaves from the
 * watermark on that pass that test yet hold no fit (at most G / 2^s), E =
 * SH_INDEX_WM_EXCEPTIONS. Once memalign has been used in a region, free and realloc add
 * O(SH_INDEX_WM_CLASSES E) there to record a block that may now fit. The SH_LINEAR build keeps
 * the original
 * design, a sorted free list walked to find a fit and, on free, to find the free neighbours:
 * every one of those becomes O(R + n) with n the free blocks.
 *
 * Not thread-safe: callers serialise access to one heap.
 */
#ifndef SLOTHEAP_H
#define SLOTHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Build-time knobs; each may be overridden with -D. */
#ifndef SH_GRANULE
#define SH_GRANULE 16 /* block alignment and size unit: a power of two >= 2 * sizeof(void *) */
#endif
#ifndef SH_MAX_REGIONS
#define SH_MAX_REGIONS 8 /* regions per heap, at most 32 (region masks are unsigned) */
#endif
#ifndef SH_DEFAULT_SLOTS
#define SH_DEFAULT_SLOTS 1024 /* slot count used by the boot helper unless told otherwise */
#endif
#ifndef SH_DEFAULT_HEAP_SIZE
#define SH_DEFAULT_HEAP_SIZE (8u << 20) /* heap footprint used by the boot helper by default */
#endif
#ifndef SH_SLOTS_PER_BUCKET
/* Hash load: buckets = next power of two >= nslots / this. Only live blocks are hashed: with two
 * slots per live block a bucket holds at most two on average (docs/PERFORMANCE.md). */
#define SH_SLOTS_PER_BUCKET 4
#endif
#ifndef SH_HARDEN
#define SH_HARDEN 0 /* 1: caller-bug detection (guard bytes, poisoned free memory; see below) */
#endif

#define SH_ALL_REGIONS (~0u) /* region mask naming every region */

/* Bytes of one slot, on every target: block offset and size (their top bits tell the slot's
 * list) and one link, uint32_t each; the SH_LINEAR build adds the free list's back link (4
 * bytes), the SH_HARDEN build the requested size (8 bytes). */
#if defined(SH_LINEAR) && SH_LINEAR
#define SH_SLOT_BASE_BYTES 16u
#else
#define SH_SLOT_BASE_BYTES 12u
#endif
#if SH_HARDEN
#define SH_SLOT_HARDEN_BYTES 8u
#else
#define SH_SLOT_HARDEN_BYTES 0u
#endif
#define SH_SLOT_BYTES (SH_SLOT_BASE_BYTES + SH_SLOT_HARDEN_BYTES)
/* Most slots one region can have. */
#define SH_MAX_SLOTS 0xffffffu

/* Largest arena, in granules: offsets and sizes are 32-bit granule counts, and this bound
 * keeps offset + size from overflowing (32 GiB per region with 16-byte granules). */
#define SH_MAX_ARENA_GRANULES 0x7fffffffu

/* Shape of the free index (not SH_LINEAR): leaves of 2^s granules, s chosen per region by
 * sh_add_region between SH_INDEX_LEAF_SHIFT and SH_INDEX_LEAF_SHIFT_MAX (larger leaves where
 * the region has many bytes per slot: see sh_region_meta_bytes), levels of maxima with
 * SH_INDEX_FAN entries per group, at most SH_INDEX_LEVELS levels for the largest arena
 * (2^25 leaves: 2^25, 2^21, ..., 2, 1). */
#ifndef SH_INDEX_LEAF_SHIFT
#define SH_INDEX_LEAF_SHIFT 6
#endif
#define SH_INDEX_LEAF (1u << SH_INDEX_LEAF_SHIFT)
#define SH_INDEX_LEAF_SHIFT_MAX 12
#ifndef SH_INDEX_SLOTS_PER_LEAF
#define SH_INDEX_SLOTS_PER_LEAF 4 /* a region gets at most one leaf per this many slots */
#endif
/* memalign's watermarks (freeset_index.c), in regions of at least SH_INDEX_WM_MIN_GRAN
 * granules (smaller ones have none): alignments of 2^1 .. 2^SH_INDEX_WM_CLASSES
 * granules, SH_INDEX_WM_LEVELS thresholds (1, 2, 3, then four per octave), SH_INDEX_WM_EXCEPTIONS
 * exceptions of 3 words per class. */
#ifndef SH_INDEX_WM_MIN_GRAN
#define SH_INDEX_WM_MIN_GRAN 4096u
#endif
#define SH_INDEX_WM_CLASSES 12
#define SH_INDEX_WM_LEVELS 32
#define SH_INDEX_WM_EXCEPTIONS 8
#define SH_INDEX_WM_WORDS                                                                      \
	(SH_INDEX_WM_CLASSES * (SH_INDEX_WM_LEVELS + 3 * SH_INDEX_WM_EXCEPTIONS))
#ifndef SH_INDEX_FAN_SHIFT
#define SH_INDEX_FAN_SHIFT 4
#endif
#define SH_INDEX_FAN (1u << SH_INDEX_FAN_SHIFT)
/* Enough levels for the largest arena in the smallest leaves (8 for the defaults). */
#define SH_INDEX_LEVELS                                                                        \
	(1 + (31 - SH_INDEX_LEAF_SHIFT + SH_INDEX_FAN_SHIFT - 1) / SH_INDEX_FAN_SHIFT)

/* Error codes. 0 is success; every failure has its own code. */
enum sh_error {
	SH_OK = 0,
	SH_EINVAL = 1,	     /* NULL heap/pointer argument, zero slot count, bad region index */
	SH_ETOOSMALL = 2,    /* region cannot hold its slot array, buckets and one granule */
	SH_ETOOBIG = 3,	     /* region passes the top of the address space, or its arena exceeds
				SH_MAX_ARENA_GRANULES, or nslots > SH_MAX_SLOTS */
	SH_EOVERLAP = 4,     /* region overlaps one already added */
	SH_ETOOMANY = 5,     /* heap already has SH_MAX_REGIONS regions */
	SH_ENOMEM = 6,	     /* no free block fits (in the allowed regions) */
	SH_EOVERFLOW = 7,    /* size rounding or n * size overflows size_t */
	SH_EALIGN = 8,	     /* memalign alignment is not a power of two */
	SH_EFOREIGN = 9,     /* free/realloc of a pointer outside every arena of this heap */
	SH_EBADPTR = 10,     /* free/realloc of a pointer inside an arena that is not the start
				of any block (interior pointer, never allocated) */
	SH_EDOUBLEFREE = 11, /* free/realloc of the start of a free block: already freed */
	SH_ECORRUPT = 12,    /* sh_check found a broken invariant */
	SH_EOVERRUN = 13, /* SH_HARDEN: a guard byte after a block's requested size changed */
	SH_EUSEAFTERFREE = 14, /* SH_HARDEN: free memory changed before it was handed out */
};

/* Called on every detected misuse (free/realloc of a bad pointer) with its code and pointer,
 * and, in the SH_HARDEN build, on every caller bug caught (SH_EOVERRUN, SH_EUSEAFTERFREE)
 * with the block's address; sh_last_report() then gives the whole report. */
typedef void (*sh_error_hook)(void *ctx, int code, const void *ptr);

/*
 * Caller-bug detection (build with SH_HARDEN=1; off by default; docs/HARDENING.md):
 *
 *  - Rule 1 becomes "granules for n + 1 bytes": every block keeps at least one guard byte
 *    after the n bytes asked for, and all bytes from n to the block's end hold SH_GUARD_BYTE.
 *    The usable size of a live block is n (rule 9 variant): bytes past it are the guard.
 *    free and realloc verify the guard of the block they are given, sh_check those of every
 *    live block. A changed guard byte is reported as SH_EOVERRUN, ptr the block, size n, bad
 *    the offset from ptr of the first changed byte (so n <= bad < block size).
 *  - Free memory holds SH_POISON_BYTE: the whole arena at sh_add_region, every block as it
 *    is freed, every tail a shrinking realloc cuts off. Bytes are verified as they are
 *    handed out again (malloc, calloc, memalign, realloc moving or growing in place); a
 *    changed byte is reported as SH_EUSEAFTERFREE, ptr the block handed out (for a realloc
 *    growing in place, the block being grown), size the bytes asked for, bad the offset from
 *    ptr of the first changed byte.
 *
 * A report calls the error hook once (code and ptr) and records the whole report for
 * sh_last_report(); it changes neither sh_last_error() nor the misuse counter. The call then
 * completes exactly as it would have without the caller's bug, and returns what it would
 * have: free frees, realloc resizes, an allocation returns its block. The guard of a block
 * reported by realloc is rewritten, so each overrun is reported once; free memory handed out
 * becomes the caller's. The heap's own data is never in the arena, so it is intact after
 * any report. One call reports at most twice: a moving realloc first the old block's
 * overrun, then the new block's use after free.
 *
 * Under AddressSanitizer (a build that compiles core's metadata-owning files with
 * -fno-sanitize=address -DSH_ASAN=1, as the Makefile's sanitizer builds do), whatever the
 * heap does not hand out is poisoned: each region's metadata (slots, buckets, index) and the
 * free blocks of its arena. A live block is unpoisoned over its whole block size (at least its
 * usable size). Memory given to a heap stays poisoned when the heap is abandoned: unpoison it
 * (ASAN_UNPOISON_MEMORY_REGION) before using it for anything else.
 */
#define SH_GUARD_BYTE 0xfd  /* after the requested size, SH_HARDEN */
#define SH_POISON_BYTE 0xdd /* in free memory, SH_HARDEN */

/* One caller bug caught by the SH_HARDEN build. */
struct sh_report {
	int code;	 /* SH_EOVERRUN or SH_EUSEAFTERFREE (0: nothing reported yet) */
	const void *ptr; /* the block */
	size_t size;	 /* its requested size (the bytes asked for) */
	size_t bad;	 /* offset from ptr of the first byte found changed */
};

/* One region. The fields are the allocator's own: read them through sh_region_info(). */
struct sh_region {
	uintptr_t base;	     /* region start: slot array, then buckets */
	uintptr_t end;	     /* region end (exclusive), 0 if at the top of the address space */
	uintptr_t arena;     /* first arena byte, SH_GRANULE aligned */
	uint32_t ngran;	     /* arena size in granules */
	uint32_t nslots;     /* slots in the slot array */
	uint32_t nbuckets;   /* hash buckets, a power of two */
	uint32_t spare;	     /* head of the spare slot list */
	uint32_t free_root;  /* free list head when SH_LINEAR */
	uint32_t last_freed; /* slot of the free block the last free left (a guess, checked) */
	uint32_t nspare;     /* counters kept by every operation, checked by sh_check (I7) */
	uint32_t nfree;
	uint32_t nlive;
	uint32_t free_gran;
	uint32_t live_gran;
	struct sh_slot *slots;
	uint32_t *buckets;
	/* Free index (not SH_LINEAR), after the buckets: a chain head per leaf, then the maxima,
	 * level by level from the leaves up; where each level starts. */
	uint32_t *fs_head;
	uint32_t *fs_max;
	uint32_t *fs_wm;     /* memalign's watermarks, after the maxima */
	uint32_t fs_wm_used; /* the alignment classes they serve (bit k: 2^k granules) */
	uint32_t fs_nleaves;
	uint32_t fs_nlevels;
	uint32_t fs_tail;  /* the free block that ends the arena, kept out of the leaves */
	uint32_t fs_shift; /* leaves of 2^fs_shift granules */
	/* Where the last search stopped, so that the change that follows it need not walk the
	 * chain again: in leaf fs_hint_leaf's chain (SH_NIL: no hint), the block fs_hint_prev
	 * (SH_NIL: the chain's head) and, when not UINT32_MAX, the largest size from the head
	 * up to it. The position holds while that block stays chained; the size only until the
	 * next change of the index, which takes it. */
	uint32_t fs_hint_leaf;
	uint32_t fs_hint_prev;
	uint32_t fs_hint_max;
	uint32_t fs_level[SH_INDEX_LEVELS];
};

/* A heap. Complete so that it can live in static storage; initialise with sh_init(). */
struct sh_heap {
	struct sh_region region[SH_MAX_REGIONS];
	unsigned nregions;
	int last_error;
	size_t failed_allocs;
	size_t misuse;
	sh_error_hook hook;
	void *hook_ctx;
	struct sh_report report; /* the latest caller bug caught (SH_HARDEN) */
};

/* Returns the bytes of metadata at the low end of a region of size bytes with nslots slots
 * (slot array, buckets and, unless SH_LINEAR, the free index, sized for an arena of
 * g = size / SH_GRANULE granules: 4 bytes per leaf and per maximum for
 * L = min(ceil(g / 64), max(ceil(g / 2^SH_INDEX_LEAF_SHIFT_MAX), 2^floor(log2(nslots /
 * SH_INDEX_SLOTS_PER_LEAF)))) leaves, at least 1, and the levels above them, plus
 * 4 SH_INDEX_WM_WORDS bytes of memalign watermarks when g >= SH_INDEX_WM_MIN_GRAN), before the arena is aligned to SH_GRANULE: a region of size S
 * at base B has its arena at A = round_up(B + sh_region_meta_bytes(nslots, S), SH_GRANULE)
 * and round_down(B + S - A, SH_GRANULE) arena bytes. 0 if nslots is 0 or above
 * SH_MAX_SLOTS. Never decreases as size grows. */
size_t sh_region_meta_bytes(size_t nslots, size_t size);

/* Makes h an empty heap with no regions. Returns SH_EINVAL if h is NULL, else 0. O(1). */
int sh_init(struct sh_heap *h);

/* Adds [base, base + size) as region number h->nregions, with nslots slots (at least 1: the
 * whole arena starts as one free block, which takes one slot). The region's memory belongs to
 * the heap from now on. The region may end exactly at the top of the address space (its
 * last byte at UINTPTR_MAX). Returns 0, or SH_EINVAL (NULL h or base, nslots == 0),
 * SH_ETOOMANY, SH_ETOOBIG, SH_EOVERLAP, SH_ETOOSMALL; on failure h is unchanged. O(nslots). */
int sh_add_region(struct sh_heap *h, void *base, size_t size, size_t nslots);

/* Returns a block of at least size bytes (one granule for size 0), SH_GRANULE aligned, from
 * the first region that has a fitting block, or NULL (SH_EOVERFLOW, SH_ENOMEM; see
 * sh_last_error). The usable size may exceed the request when no spare slot was left. */
void *sh_malloc(struct sh_heap *h, size_t size);

/* As sh_malloc, but only from regions whose bit (1u << index) is set in region_mask. */
void *sh_malloc_in(struct sh_heap *h, unsigned region_mask, size_t size);

/* As sh_malloc(n * size), with the whole block zeroed. NULL with SH_EOVERFLOW if n * size
 * overflows. */
void *sh_calloc(struct sh_heap *h, size_t n, size_t size);

/* Resizes the live block p, in place when possible (shrink, or grow into a free block just
 * above), otherwise by allocating a new block, copying and freeing p. NULL p acts as malloc;
 * size 0 frees p and returns NULL. On failure returns NULL and p is untouched; if p is not a
 * live block the misuse is reported as by sh_free and NULL is returned. */
void *sh_realloc(struct sh_heap *h, void *p, size_t size);

/* As sh_realloc, but a block that must move (or p NULL) goes only to regions in region_mask;
 * resizing in place does not depend on the mask. */
void *sh_realloc_in(struct sh_heap *h, unsigned region_mask, void *p, size_t size);

/* Returns a block of at least size bytes whose address is a multiple of align (a power of
 * two; values below SH_GRANULE act as SH_GRANULE), or NULL (SH_EALIGN, SH_EOVERFLOW,
 * SH_ENOMEM). The gap below the block stays free; a free block whose gap could get no slot is
 * passed over. */
void *sh_memalign(struct sh_heap *h, size_t align, size_t size);

/* As sh_memalign, but only from regions whose bit is set in region_mask. */
void *sh_memalign_in(struct sh_heap *h, unsigned region_mask, size_t align, size_t size);

/* Frees the live block p and merges it with free neighbours. NULL is a no-op returning 0.
 * A pointer that is not the start of a live block is reported (error hook, misuse counter)
 * with SH_EFOREIGN, SH_EBADPTR or SH_EDOUBLEFREE, and the heap is left unchanged. */
int sh_free(struct sh_heap *h, void *p);

/* Returns the usable size of the live block p (its block size; in the SH_HARDEN build the size
 * asked for), or 0 if p is not live. */
size_t sh_usable_size(const struct sh_heap *h, const void *p);

/* Returns the code of the most recent failed allocation or misuse (0 if none yet). */
int sh_last_error(const struct sh_heap *h);

/* The latest overrun or use after free reported (SH_HARDEN build), all zero if none (always
 * so in the default build); valid until the next call on h. NULL if h is NULL. */
const struct sh_report *sh_last_report(const struct sh_heap *h);

/* Installs (or with NULL removes) the misuse hook. */
void sh_set_error_hook(struct sh_heap *h, sh_error_hook fn, void *ctx);

/* Figures for the whole heap, kept up to date by every call (O(R) to read). */
struct sh_stats {
	size_t live_bytes; /* sum of usable sizes of live blocks */
	size_t free_bytes; /* sum of free block sizes */
	size_t live_blocks;
	size_t free_blocks;
	size_t slots_total;  /* slots in all regions */
	size_t slots_spare;  /* on the unallocated lists (slots_live = live_blocks, slots_free =
				 free_blocks) */
	size_t largest_free; /* largest free block in any region */
	size_t failed_allocs; /* allocation calls that returned NULL for want of memory,
				 on overflow or on a bad alignment */
	size_t misuse;	      /* detected bad frees and reallocs */
};
void sh_stats(const struct sh_heap *h, struct sh_stats *out);

/* One block, as sh_walk reports it. */
struct sh_block_info {
	unsigned region;
	void *ptr;
	size_t size;
	bool live;
};

/* Calls fn for every block of every region, regions in index order, blocks in address order;
 * stops early when fn returns non-zero and returns that value, else 0. Each block is looked up
 * where the one below it ends, in the hash and the free index: O(blocks) expected, O(blocks x
 * free blocks) with SH_LINEAR. fn must not change the heap. */
int sh_walk(const struct sh_heap *h, int (*fn)(const struct sh_block_info *b, void *ctx),
	    void *ctx);

/* Geometry of region idx. Returns 0, or SH_EINVAL for a bad index. */
struct sh_region_info {
	void *base;
	size_t size;
	void *arena;
	size_t arena_size;
	size_t nslots;
	size_t nbuckets;
};
int sh_region_info(const struct sh_heap *h, unsigned idx, struct sh_region_info *out);

/* Invariants checked by sh_check (docs/DESIGN.md): */
enum sh_invariant {
	SH_I1_TILING = 1,	 /* blocks tile each arena: no gap, no overlap */
	SH_I2_SLOTS = 2,	 /* each slot on exactly one list; spare slots blank */
	SH_I3_CONSOLIDATION = 3, /* no two free blocks adjacent */
	SH_I4_HASH = 4,		 /* live blocks, and only they, in their address's bucket */
	SH_I5_ALIGNMENT = 5,	 /* starts and sizes are multiples of SH_GRANULE */
	SH_I6_INDEX = 6,	 /* the free index agrees with the free blocks */
	SH_I7_STATS = 7,	 /* counters agree with a full walk */
	SH_I10_GUARD = 10,	 /* SH_HARDEN: every live block's guard bytes are intact */
};

struct sh_check_report {
	unsigned failures; /* broken checks found (the walk carries on after the first) */
	int invariant;	   /* enum sh_invariant of the first failure, 0 if none */
	unsigned region;   /* region of the first failure */
	uint32_t slot;	   /* slot index involved, UINT32_MAX if none */
	uintptr_t block;   /* block address involved, 0 if none */
	const char *what;  /* one-line description of the first failure */
	size_t size;	   /* SH_I10_GUARD: the block's requested size */
	size_t bad;	   /* SH_I10_GUARD: offset from block of the first changed guard byte */
};

/* Walks every region and verifies invariants I1-I7 without trusting any link: every walk is
 * bounded, so a corrupted heap cannot make it loop or read outside the slot arrays. Returns 0
 * if all hold, else SH_ECORRUPT with the first failure in *r (r may be NULL). Always
 * compiled; O(slots + buckets + index entries) per region plus a hash and an index look-up
 * per block for the walk by address (with SH_LINEAR each of those walks the free list), no
 * recursion.
 * SH_HARDEN: when I1-I7 hold, it also verifies the guard bytes of every live block (O(slack
 * bytes)); if some changed it returns SH_EOVERRUN, *r naming SH_I10_GUARD, the lowest such
 * block of the first region that has one, its slot, requested size and first changed
 * byte, and failures the number of such blocks. It reports nothing through the hook and
 * changes nothing: the block stays reported until it is freed or reallocated. */
int sh_check(const struct sh_heap *h, struct sh_check_report *r);

/* Name of an error code or invariant, for messages ("SH_EBADPTR", "I3 consolidation").
 * sh_strerror names the codes of both families: these SH_E* codes (1 .. 63) and the
 * memory-table reason codes SH_MM_* of memmap.h (from 65 on, name and a one-line
 * explanation); "SH_E?" for anything else. Never NULL. */
const char *sh_strerror(int code);
const char *sh_invariant_name(int invariant);

#endif /* SLOTHEAP_H */
