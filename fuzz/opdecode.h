/* SPDX-License-Identifier: MIT */
/*
 * The ops input format shared by the differential harnesses, the soak and sh-trace: bytes
 * become a heap layout plus a sequence of operations, and both have a text trace form, one
 * line each. The byte format is stable (the committed corpus depends on it); fuzz/README.md
 * documents it field by field.
 *
 * Bytes:   header(1) region(5) * nregions  op * n
 *   header   bits 0-1: nregions - 1; bit 2: place regions top-down; other bits ignored
 *   region   arena granules (u16 LE, modulo OPS_MAX_ARENA_GRAN + 1), slots (u8, 0 = invalid),
 *            misalign (low nibble) | tail (high nibble), gap before the region (u8, granules)
 *   op       opcode (u8, modulo OP_COUNT), then the fixed fields of that opcode; in the
 *            SH_HARDEN build only, opcode 0xfe is an overrun and 0xff a write into free
 *            memory (the default build reads them modulo OP_COUNT, as it always did)
 * Decoding never fails: a truncated op at the end is dropped.
 *
 * Text: '#' starts a comment; blank lines are ignored.
 *   layout [topdown]
 *   region arena=<bytes> slots=<n> [misalign=<m>] [tail=<t>] [gap=<granules>]
 *   malloc <size> | malloc_in <mask> <size> | calloc <n> <size> | realloc #<i> <size>
 *   memalign <align> <size> | free #<i> | free_ptr <kind> <i> <off>
 *   realloc_ptr <kind> <i> <off> <size> | usable <kind> <i> <off>
 *   overrun #<i> <k> <v> | write_freed <i> <at> <v>       (SH_HARDEN build only)
 * Text -> bytes -> text is the identity; bytes -> text -> bytes gives an input that runs
 * exactly the same operations.
 */
#ifndef OPDECODE_H
#define OPDECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slotheap.h"

#define OPS_MAX_REGIONS 4
#define OPS_MAX_ARENA_GRAN 16383u /* 256 KiB arenas with the default granule */
#define OPS_MAX_OPS 256		  /* ops decoded from one fuzz input */
#define OPS_HEADER_BYTES 1
#define OPS_REGION_BYTES 5

enum ops_kind {
	OP_MALLOC,	/* size */
	OP_MALLOC_IN,	/* mask, size */
	OP_CALLOC,	/* n, size */
	OP_REALLOC,	/* idx (live block), size */
	OP_MEMALIGN,	/* align, size */
	OP_FREE,	/* idx (live block) */
	OP_FREE_PTR,	/* pointer kind, idx, off */
	OP_REALLOC_PTR, /* pointer kind, idx, off, size */
	OP_USABLE,	/* pointer kind, idx, off */
	OP_COUNT,	/* opcodes of every build: the opcode byte modulo this */
	/* The SH_HARDEN build only: the caller's bugs that build detects. */
	OP_OVERRUN = OP_COUNT, /* idx (live block), off (k - 1), val: writes k bytes val,
				  val + 1, ... from the end of the request (cut at the block's
				  end) */
	OP_WRITE_FREED,	       /* idx (free block), at (u16), val: writes val at byte at %
				  size of free block idx % nfree */
	OP_KINDS
};
#define OPS_OPCODE_OVERRUN 0xfe
#define OPS_OPCODE_WRITE_FREED 0xff

/* How OP_*_PTR and OP_USABLE compute their pointer; idx and off refine it. */
enum ops_ptr {
	PTR_LIVE,     /* live block idx % nlive (NULL if none) */
	PTR_INTERIOR, /* inside live block idx: start + 1 + off % (size - 1) */
	PTR_STALE,    /* a recently freed pointer, idx % ring entries (NULL if none) */
	PTR_ARENA, /* region idx: arena + off * granule (may be any block, or past the end) */
	PTR_UNALIGNED, /* region idx: arena + off, unaligned when off % granule != 0 */
	PTR_META,      /* region idx: region base + off (slot array, outside the arena) */
	PTR_PAST,      /* region idx: arena end + off * granule */
	PTR_NULL,      /* NULL */
	PTR_HOST,      /* a host object that belongs to no heap, + off */
	PTR_COUNT
};

struct ops_region {
	uint32_t arena_gran; /* wanted arena size in granules (0 gives SH_ETOOSMALL) */
	uint32_t nslots;     /* 0 gives SH_EINVAL */
	uint8_t misalign;    /* bytes the region base sits above a granule boundary */
	uint8_t tail;	     /* extra bytes after the arena, too few for a granule */
	uint8_t gap;	     /* granules left unused before the region */
};

struct ops_layout {
	unsigned nregions;
	bool topdown; /* region 0 at the highest address */
	struct ops_region r[OPS_MAX_REGIONS];
};

struct ops_op {
	uint8_t kind; /* enum ops_kind */
	uint8_t ptr;  /* enum ops_ptr */
	uint8_t idx;
	uint8_t off;
	uint8_t val; /* the byte OP_OVERRUN and OP_WRITE_FREED write */
	unsigned mask;
	size_t n;     /* calloc count */
	size_t size;  /* request size; OP_WRITE_FREED: the offset into the free block */
	size_t align; /* memalign alignment */
};

/* Field codecs. Sizes are 3 bytes (24-bit value v, class v >> 22):
 *   0: v % 512   1: v & 0x3fffff   2: SIZE_MAX - (v & 0x3fffff)
 *   3: 2^(v % bits) + ((v >> 6) & 0xfff) - 2048   (near a power of two, may wrap)
 * Alignments are 1 byte a: a < 0xc0: 2^(a % 20); a < 0xe0: a - 0xc0 (often not a power of
 * two); else (SIZE_MAX / 2 + 1) >> (a & 31). Masks: 0xff is SH_ALL_REGIONS, else the byte. */
size_t ops_size_decode(uint32_t v);
bool ops_size_encode(size_t size, uint32_t *v);
size_t ops_align_decode(uint8_t a);
bool ops_align_encode(size_t align, uint8_t *a);

/* Bytes of op `kind` after its opcode byte. */
size_t ops_op_fields(unsigned kind);

/* Decodes data into *l and up to max_ops operations; returns the number of operations. */
size_t ops_decode(const uint8_t *data, size_t size, struct ops_layout *l, struct ops_op *ops,
		  size_t max_ops);

/* Decodes only the layout; returns the bytes it used (the ops start there). */
size_t ops_decode_layout(const uint8_t *data, size_t size, struct ops_layout *l);

/* Decodes operations only (no layout); returns their number. */
size_t ops_decode_ops(const uint8_t *data, size_t size, struct ops_op *ops, size_t max_ops);

/* Decodes one op at data; returns the bytes used, 0 if the input ends first. */
size_t ops_decode_op(const uint8_t *data, size_t size, struct ops_op *op);

/* Encodes into out (capacity cap); returns the length, 0 if it does not fit or a value has
 * no encoding. */
size_t ops_encode_layout(const struct ops_layout *l, uint8_t *out, size_t cap);
size_t ops_encode_op(const struct ops_op *op, uint8_t *out, size_t cap);

/* Text forms. ops_format_op writes one line without the newline. */
void ops_format_layout(const struct ops_layout *l, FILE *f);
int ops_format_op(const struct ops_op *op, char *buf, size_t cap);

/* Parsing a trace, line by line. Returns 1 for an op, 2 for a layout line (header or region
 * added to *l), 0 for a blank or comment line, -1 with a message in err for a bad line. */
int ops_parse_line(const char *line, struct ops_layout *l, struct ops_op *op, char *err,
		   size_t errcap);

const char *ops_kind_name(unsigned kind);
const char *ops_ptr_name(unsigned ptr);

#endif /* OPDECODE_H */
