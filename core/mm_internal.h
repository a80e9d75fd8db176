/* SPDX-License-Identifier: MIT */
/*
 * Internals of the memory-table code (core/memmap.c, core/cbtable.c): byte-wise
 * little-endian access and the entry source that the normalizer sweeps over. Not public.
 */
#ifndef SH_MM_INTERNAL_H
#define SH_MM_INTERNAL_H

#include "memmap.h"
#include "sh_internal.h" /* sh_memset */

static inline uint32_t mm_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t mm_rd64(const uint8_t *p)
{
	return (uint64_t)mm_rd32(p) | (uint64_t)mm_rd32(p + 4) << 32;
}

static inline void mm_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void mm_wr64(uint8_t *p, uint64_t v)
{
	mm_wr32(p, (uint32_t)v);
	mm_wr32(p + 4, (uint32_t)(v >> 32));
}

/* Exclusive end of [start, start + size), clamped at SH_MEM_TOP (see memmap.h). */
static inline uint64_t mm_end(uint64_t start, uint64_t size)
{
	return size > SH_MEM_TOP - start ? SH_MEM_TOP : start + size;
}

/* Where a validated table's entries are. */
enum mm_src_kind {
	MM_SRC_ARRAY = 1, /* a[0 .. na): struct sh_mem_range */
	MM_SRC_FLAT,  /* p[0 .. len): fixed esz-byte {u64 base, u64 length, u32 type, ...} */
	MM_SRC_MB1,   /* p[0 .. len): multiboot v1 size-prefixed entries */
	MM_SRC_CB,    /* p[0 .. len): nrec coreboot records */
	MM_SRC_PAINT, /* a[0 .. na) then b[0 .. nb) with type btype */
};

struct mm_src {
	enum mm_src_kind kind;
	const uint8_t *p;
	size_t len;
	size_t esz;
	bool attr; /* FLAT: 24-byte e820 entries, skip those with attribute bit 0 clear */
	uint32_t nrec;
	const struct sh_mem_range *a;
	size_t na;
	const struct sh_mem_range *b;
	size_t nb;
	uint32_t btype;
	struct sh_mem_range one;
	bool has_one;
};

/* An empty source of that kind. A call, not an initialiser: on some targets (ARM) the compiler
 * turns the zeroing of a structure this large into a call to memset, which core/ lacks. */
static inline void mm_src_init(struct mm_src *s, enum mm_src_kind kind)
{
	sh_memset(s, 0, sizeof(*s));
	s->kind = kind;
}

struct mm_cursor {
	size_t off;	/* next byte (FLAT, MB1, CB) or index (ARRAY, PAINT) */
	size_t rec_end; /* CB: end of the memory record being read, 0 outside one */
	uint32_t rec;	/* CB: records consumed */
};

/* Next entry of a validated source, in table order, end clamped; false at the end. */
bool mm_next(const struct mm_src *s, struct mm_cursor *c, struct sh_mem_range *r);

/* Normalizes the entries of s into out (the rules of memmap.h). */
int mm_normalize(const struct mm_src *s, struct sh_memmap *out);

/* Copies the raw entries of s into raw[0 .. cap); *n gets the count. */
int mm_collect(const struct mm_src *s, struct sh_mem_range *raw, size_t cap, size_t *n);

/* Validates the coreboot table at physical table in the image, follows forwards, and
 * points s at the final table's records. */
int mm_cb_resolve(const uint8_t *img, size_t len, uint64_t base, uint64_t table,
		  struct mm_src *s, uint64_t *found);

/* Exclusion lists of one placement: every range of every list is kept clear of. */
struct mm_excl {
	const struct sh_mem_range *r;
	size_t n;
};

/* sh_place over the union of nex exclusion lists (each r non-NULL or n == 0). */
int mm_place(const struct sh_memmap *m, uint64_t size, uint64_t limit, const struct mm_excl *ex,
	     size_t nex, struct sh_placement *out);

#endif /* SH_MM_INTERNAL_H */
