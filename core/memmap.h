/* SPDX-License-Identifier: MIT */
/*
 * Memory tables and heap placement: read the firmware's memory map, find where a large heap
 * can live, set the heap up, and hand a chained payload a table in which that heap is
 * reserved.
 *
 * Parsers (coreboot tables, multiboot v1 memory map, multiboot2 memory-map tag, raw e820
 * arrays) check every length, count and pointer against the buffer they were given and reject
 * a malformed table with a named reason (enum sh_mm_error); they never read outside that
 * buffer and never allocate. All multi-byte fields are read byte by byte, little-endian, so
 * a table may sit at any alignment. Physical addresses are uint64_t on every target.
 *
 * Every parser returns one NORMALIZED map:
 *   - ranges sorted by address, non-overlapping, none empty;
 *   - known types are kept (SH_MEM_RAM .. SH_MEM_UNUSABLE, SH_MEM_TABLE); any other type
 *     becomes SH_MEM_RESERVED;
 *   - where entries overlap, the highest type number wins (as the Linux e820 sanitizer
 *     does); RAM is type 1, so every non-RAM type wins over RAM;
 *   - adjacent ranges of the same type are merged;
 *   - an entry whose end would reach or pass 2^64 is CLAMPED to end at SH_MEM_TOP
 *     (2^64 - 1): the last byte of the address space cannot be described by an exclusive
 *     end and is never usable RAM anyway. Zero-length entries (also those starting at
 *     SH_MEM_TOP) vanish.
 * The result depends only on the set of entries, not on their order. Normalization is a
 * sweep over the entries' boundaries: O(n^2) for n entries, no scratch memory.
 *
 * Placement (sh_place) puts a heap footprint (arena, slot array, buckets and free index) at the
 * top of the highest RAM range below a limit that can hold it, 4 KiB aligned.
 *
 * Nothing here uses libc: only <stddef.h>, <stdint.h>, <stdbool.h>.
 */
#ifndef SH_MEMMAP_H
#define SH_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotheap.h"

/* Normalized range types (the e820 / multiboot / coreboot numbering). */
#define SH_MEM_RAM 1u	   /* usable RAM */
#define SH_MEM_RESERVED 2u /* reserved; also every type not listed here */
#define SH_MEM_ACPI 3u	   /* ACPI tables, reclaimable */
#define SH_MEM_NVS 4u	   /* ACPI NVS */
#define SH_MEM_UNUSABLE 5u /* bad memory */
#define SH_MEM_TABLE 16u   /* coreboot tables (LB_MEM_TABLE) */

#define SH_MEM_TOP UINT64_MAX /* highest representable exclusive end; see clamping above */

/* Build-time knobs. */
#ifndef SH_CB_MAX_FORWARDS
#define SH_CB_MAX_FORWARDS 4 /* LB_TAG_FORWARD hops followed before giving up */
#endif
#ifndef SH_PLACE_ALIGN
#define SH_PLACE_ALIGN 4096u /* footprint start and size alignment (a power of two) */
#endif
#define SH_PLACE_LIMIT_4G (UINT64_C(1) << 32) /* default placement limit: 32-bit payloads */

/* coreboot table layout. */
#define SH_CB_HEADER_BYTES                                                                     \
	24u /* "LBIO", header_bytes, header_checksum, table_bytes,
				  table_checksum, table_entries: six 32-bit fields */
#define SH_CB_TAG_MEMORY 0x01u
#define SH_CB_TAG_FORWARD 0x11u
#define SH_CB_RANGE_BYTES 20u /* {u64 start, u64 size, u32 type} */
#define SH_MB2_TAG_MMAP 6u

/*
 * Reason codes. 0 is success; each failure has its own code. They are numbered from
 * SH_MM_BASE + 1 on, apart from the allocator's SH_E* codes (slotheap.h, 1 .. 63), so that
 * one int can carry a code of either family without ambiguity and sh_strerror names both.
 */
#define SH_MM_BASE 64
enum sh_mm_error {
	SH_MM_OK = 0,
	SH_MM_EINVAL =
		SH_MM_BASE + 1, /* NULL argument, zero capacity, e820 entry size not 20/24 */
	SH_MM_ETRUNCATED =
		SH_MM_BASE + 2, /* the buffer ends inside a table header or tag header */
	SH_MM_ESIGNATURE =
		SH_MM_BASE + 3, /* no "LBIO" signature / multiboot2 tag type is not 6 */
	SH_MM_EHDRSIZE = SH_MM_BASE + 4,     /* header_bytes < 24 / multiboot2 tag size < 16 */
	SH_MM_EHDRCHECKSUM = SH_MM_BASE + 5, /* coreboot header checksum does not come to 0 */
	SH_MM_ETBLCHECKSUM =
		SH_MM_BASE + 6, /* coreboot table checksum differs from table_checksum */
	SH_MM_ETABLE_PAST_BUFFER =
		SH_MM_BASE + 7, /* header_bytes + table_bytes (or multiboot2 tag size)
					 runs past the buffer */
	SH_MM_ERECORD_SHORT =
		SH_MM_BASE + 8, /* record size smaller than its 8-byte header, or than
					 the fixed part of a forward record (16 bytes) */
	SH_MM_ERECORD_ALIGN = SH_MM_BASE + 9, /* record size not a multiple of 4 */
	SH_MM_ERECORD_PAST_TABLE =
		SH_MM_BASE + 10, /* a record (or table_entries records) runs past
					  table_bytes */
	SH_MM_ERANGES_PAST_END =
		SH_MM_BASE + 11, /* a range list is not a whole number of entries: it runs
					past its record, tag or buffer */
	SH_MM_EENTRY_SIZE =
		SH_MM_BASE + 12, /* multiboot v1 entry size < 20; multiboot2 entry_size
					< 24 or not a multiple of 8 */
	SH_MM_EFORWARD_OUTSIDE =
		SH_MM_BASE + 13, /* LB_TAG_FORWARD points outside the memory image */
	SH_MM_ETOO_MANY_FORWARDS =
		SH_MM_BASE + 14, /* more than SH_CB_MAX_FORWARDS forward hops */
	SH_MM_EFORWARD_LOOP =
		SH_MM_BASE + 15, /* a forward leads back to a table already visited */
	SH_MM_ENOTFOUND =
		SH_MM_BASE + 16, /* header search found no table with a valid header */
	SH_MM_ENOMEMTAG = SH_MM_BASE + 17, /* coreboot table without LB_TAG_MEMORY or forward;
					  multiboot2 information without a type-6 tag */
	SH_MM_ENORAM = SH_MM_BASE + 18, /* the map holds no RAM at all (map still returned) */
	SH_MM_EOVERFLOW = SH_MM_BASE + 19, /* output buffer too small: the map or emitted table
					  needs more room than the caller gave */
	SH_MM_ESIZE = SH_MM_BASE + 20,	   /* heap size 0, or rounding it up to SH_PLACE_ALIGN
					  overflows, or it exceeds what the target can map */
	SH_MM_ENOFIT = SH_MM_BASE + 21,	  /* no RAM range below the limit holds the footprint */
	SH_MM_EADDRESS = SH_MM_BASE + 22, /* the translation hook gave no pointer for the
					  placed heap or for loader data; identity
					  translation of loader data a pointer cannot reach */
	SH_MM_EFORMAT = SH_MM_BASE + 23,  /* unknown enum sh_mm_format value */
	SH_MM_EMAGIC = SH_MM_BASE + 24,	  /* the loader's magic number is not the one the
					    sh_boot_multiboot1/2 call expects */
};

#define SH_MM_FIRST SH_MM_EINVAL /* lowest and highest reason codes */
#define SH_MM_LAST SH_MM_EMAGIC

/* The same text as sh_strerror (slotheap.h), which names the codes of both families: for a
 * reason code its name and a one-line explanation. Never NULL. Kept for existing callers. */
const char *sh_memmap_strerror(int code);
/* Short name of a normalized type ("RAM", "reserved", "ACPI", "NVS", "unusable",
 * "cbtable"); "type?" for anything else. */
const char *sh_mem_type_name(uint32_t type);

/* A range [start, end) of one type. In a normalized map end > start. */
struct sh_mem_range {
	uint64_t start;
	uint64_t end; /* exclusive */
	uint32_t type;
};

/*
 * A map: the caller owns the array. Outputs fill range[0 .. n) (n <= cap) and set total to
 * the number of ranges the whole result has; total > cap means SH_MM_EOVERFLOW was returned
 * and only the lowest cap ranges are in range[]. Never silently truncated.
 */
struct sh_memmap {
	struct sh_mem_range *range;
	size_t cap;
	size_t n;
	size_t total;
};

/* Makes m an empty map over buf[cap]. */
void sh_memmap_init(struct sh_memmap *m, struct sh_mem_range *buf, size_t cap);

/* Table formats understood by the generic entry points. */
enum sh_mm_format {
	SH_FMT_CBTABLE =
		1,	 /* coreboot table: LBIO header at offset 0 of an image at address 0 */
	SH_FMT_MB1 = 2,	 /* multiboot v1 mmap buffer (mmap_addr, mmap_length) */
	SH_FMT_MB2 = 3,	 /* multiboot2 memory-map tag (type 6) */
	SH_FMT_E820 = 4, /* raw e820 array, 20-byte entries */
	SH_FMT_E820_24 = 5, /* raw e820 array, 24-byte entries (ACPI 3.0 extended attributes) */
	SH_FMT_CBIMAGE = 6, /* memory image at address 0: the table the header search finds */
	SH_FMT_MB2INFO = 7, /* multiboot2 boot information: its memory-map tag */
};

/* Layout of a memory image written as SH_FMT_CBIMAGE, as coreboot leaves memory: a table
 * at SH_CBIMAGE_LOW holding only a forward record to the real table at SH_CBIMAGE_HIGH,
 * every other byte below it zero. */
#define SH_CBIMAGE_LOW 0x500u
#define SH_CBIMAGE_HIGH 0x1000u

/* Normalizes n raw ranges (any order, overlaps, unknown types, empty ranges allowed;
 * end is exclusive) into out. Returns 0, SH_MM_EINVAL (NULL out/raw with n > 0, cap 0),
 * SH_MM_EOVERFLOW, or SH_MM_ENORAM (no RAM; the map is still complete in out). O(n^2). */
int sh_memmap_normalize(const struct sh_mem_range *raw, size_t n, struct sh_memmap *out);

/*
 * coreboot tables in a physical-memory image: image[0 .. len) holds physical addresses
 * [base, base + len).
 *
 * sh_cb_parse: reads the table whose LBIO header is at physical address table, follows
 * LB_TAG_FORWARD (at most SH_CB_MAX_FORWARDS hops, each target inside the image, no table
 * visited twice), checks both checksums (the header's 16-bit one's-complement internet
 * checksum over its 24 bytes, the checksum field included, must come to 0; the checksum of
 * the table_bytes after the header must equal table_checksum), walks exactly table_entries
 * records, and normalizes every LB_TAG_MEMORY range. A table with a forward record is
 * replaced by its target (the first forward record wins). Before a hop is taken, a target
 * already visited (the current table included) is SH_MM_EFORWARD_LOOP, which wins over
 * SH_MM_ETOO_MANY_FORWARDS at the hop limit; a target outside the image is
 * SH_MM_EFORWARD_OUTSIDE below the limit (at the limit the target is not looked at). Each
 * record's size is checked (SH_MM_ERECORD_SHORT for less than its 8-byte header,
 * SH_MM_ERECORD_ALIGN, SH_MM_ERECORD_PAST_TABLE) before what its tag needs (whole 20-byte
 * ranges, a 16-byte forward record). *found, if not NULL, gets the
 * address of the table that held the memory records. Returns 0 or a reason code:
 * SH_MM_EINVAL, SH_MM_ETRUNCATED, SH_MM_ESIGNATURE, SH_MM_EHDRSIZE, SH_MM_EHDRCHECKSUM,
 * SH_MM_ETABLE_PAST_BUFFER, SH_MM_ETBLCHECKSUM, SH_MM_ERECORD_SHORT, SH_MM_ERECORD_ALIGN,
 * SH_MM_ERECORD_PAST_TABLE, SH_MM_ERANGES_PAST_END, SH_MM_EFORWARD_OUTSIDE,
 * SH_MM_ETOO_MANY_FORWARDS, SH_MM_EFORWARD_LOOP, SH_MM_ENOMEMTAG, SH_MM_EOVERFLOW,
 * SH_MM_ENORAM. O(table_bytes * hops + n^2).
 */
int sh_cb_parse(const void *image, size_t len, uint64_t base, uint64_t table,
		struct sh_memmap *out, uint64_t *found);

/* The search a payload does for the coreboot header: 16-byte steps through physical
 * [0, 0x1000) and then [0xf0000, 0x100000), as far as the image covers them. The first
 * address holding "LBIO", a header inside the image, header_bytes >= 24 and a valid header
 * checksum is stored in *table. Returns 0, SH_MM_EINVAL or SH_MM_ENOTFOUND. Reads nothing outside the image. */
int sh_cb_find(const void *image, size_t len, uint64_t base, uint64_t *table);

/* The coreboot / IP checksum: 16-bit one's-complement sum of little-endian 16-bit words
 * (an odd last byte is the low half of a word), complemented. */
uint16_t sh_cb_checksum(const void *buf, size_t len);

/* Multiboot v1: buf is the mmap buffer; each entry is {u32 size, u64 base_addr, u64 length,
 * u32 type}, where size does not count itself, must be >= 20 and may be larger (the next
 * entry starts size + 4 bytes on). Returns 0, SH_MM_EINVAL, SH_MM_EENTRY_SIZE (checked
 * before whether the entry fits), SH_MM_ERANGES_PAST_END, SH_MM_EOVERFLOW, SH_MM_ENORAM. */
int sh_mb1_parse(const void *buf, size_t len, struct sh_memmap *out);

/* Multiboot2: buf holds the memory-map tag {u32 type = 6, u32 size, u32 entry_size,
 * u32 entry_version, entries...}; entries are {u64 base_addr, u64 length, u32 type,
 * u32 reserved} at entry_size steps (>= 24, a multiple of 8; any entry_version is accepted,
 * since later versions only grow entries). The tag size must fit in len. Returns 0,
 * SH_MM_EINVAL, SH_MM_ETRUNCATED, SH_MM_ESIGNATURE, SH_MM_EHDRSIZE,
 * SH_MM_ETABLE_PAST_BUFFER, SH_MM_EENTRY_SIZE, SH_MM_ERANGES_PAST_END, SH_MM_EOVERFLOW,
 * SH_MM_ENORAM. */
int sh_mb2_parse(const void *buf, size_t len, struct sh_memmap *out);

/* Multiboot2 boot information (what the loader passes in EBX): {u32 total_size, u32
 * reserved} and tags {u32 type, u32 size, ...} at 8-byte aligned offsets up to the end tag
 * (type 0). Finds the first memory-map tag and parses it as sh_mb2_parse does. total_size
 * must fit in len. Returns 0, SH_MM_EINVAL, SH_MM_ETRUNCATED (len < 8), SH_MM_EHDRSIZE
 * (total_size < 8), SH_MM_ETABLE_PAST_BUFFER, SH_MM_ERECORD_SHORT (tag size < 8),
 * SH_MM_ERECORD_PAST_TABLE (a tag runs past total_size), SH_MM_ENOMEMTAG (also when fewer
 * than 8 bytes, or only padding, are left before total_size), or what sh_mb2_parse returns
 * for the memory-map tag, read as a buffer of the tag's own size (so a tag of 8-15 bytes is
 * SH_MM_ETRUNCATED here). */
int sh_mb2_parse_info(const void *buf, size_t len, struct sh_memmap *out);

/* Raw e820 array of entry_size (20 or 24) byte entries {u64 base, u64 length, u32 type
 * [, u32 extended attributes]}. With 24-byte entries an entry whose attribute bit 0
 * ("enabled", ACPI 3.0) is clear is ignored. len must be a multiple of entry_size. Returns 0,
 * SH_MM_EINVAL, SH_MM_ERANGES_PAST_END, SH_MM_EOVERFLOW, SH_MM_ENORAM. */
int sh_e820_parse(const void *buf, size_t len, size_t entry_size, struct sh_memmap *out);

/* Generic entry point: parses buf in the given format into out (cbtable: image at address
 * 0, header at offset 0; cbimage: image at address 0, header found by sh_cb_find). Returns
 * what the format's parser returns (and sh_cb_find's SH_MM_ENOTFOUND), or SH_MM_EFORMAT. */
int sh_memmap_parse(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_memmap *out);

/* The raw entries of a table, validated exactly as sh_memmap_parse does, in table order and
 * NOT normalized: types as written, ends clamped at SH_MEM_TOP, empty entries kept; only
 * what the format itself says to ignore is left out (disabled 24-byte e820 entries). Stores
 * up to cap entries in raw[] and their count in *n. Returns 0, a structural reason code, or
 * SH_MM_EOVERFLOW (*n then holds the number needed). Used by the models and tools that
 * check normalization independently (ref/place_ref.h, fuzz/memmap_parse.c). */
int sh_memmap_raw(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_mem_range *raw,
		  size_t cap, size_t *n);

/* Writes map m as a table of format fmt into out[0 .. cap) and its length into *len:
 * cbtable: a 24-byte LBIO header (both checksums valid, table_entries 1) and one
 * LB_TAG_MEMORY record; cbimage: the layout described at SH_CBIMAGE_LOW; mb2info: boot
 * information holding the mb2 tag and an end tag; mb1: 24-byte entries with size 20; mb2: one type-6 tag with
 * entry_size 24, entry_version 0; e820 / e820_24: 20- or 24-byte entries (attributes 1).
 * Types are written as they are in m. Returns 0, SH_MM_EINVAL, SH_MM_EFORMAT or
 * SH_MM_EOVERFLOW (out too small or the table would exceed 32-bit sizes). O(n). */
int sh_memmap_emit(enum sh_mm_format fmt, const struct sh_memmap *m, void *out, size_t cap,
		   size_t *len);

/* The child table of a chained payload: out = in with each of rs[0 .. nrs) painted
 * SH_MEM_RESERVED (by the normalization rule: RAM becomes reserved, higher types stay).
 * in and out must not share storage. Returns 0, SH_MM_EINVAL, SH_MM_EOVERFLOW, SH_MM_ENORAM.
 * O((in->n + nrs)^2). */
int sh_memmap_reserve(const struct sh_memmap *in, const struct sh_mem_range *rs, size_t nrs,
		      struct sh_memmap *out);

/* Type of the normalized map at address addr (0 if no range covers it). O(log n). */
uint32_t sh_memmap_type_at(const struct sh_memmap *m, uint64_t addr);

/* Where sh_place put a footprint. */
struct sh_placement {
	uint64_t start; /* footprint [start, end), both SH_PLACE_ALIGN aligned */
	uint64_t end;
	uint64_t ram_start; /* the normalized RAM range holding it, clipped at the limit */
	uint64_t ram_end;
	uint64_t hole_start; /* the part of that range left by the exclusions that holds it */
	uint64_t hole_end;
};

/*
 * Chooses where a heap footprint of size bytes (arena, slot array, buckets and free index
 * together) goes. The slot count does not enter: it and the size decide how the footprint is
 * split between metadata (sh_region_meta_bytes) and arena, which sh_add_region checks
 * (SH_ETOOSMALL) when the region is added.
 * The size is rounded up to SH_PLACE_ALIGN; RAM ranges of the normalized map m are
 * clipped at limit (exclusive; SH_PLACE_LIMIT_4G for 32-bit payloads, SH_MEM_TOP for none),
 * the exclusions excl[0 .. nexcl) (any order, may overlap, any type) are cut out of them, and the
 * footprint goes at the top of the highest remaining piece that holds it: start =
 * align_down(piece end) - size, provided start >= align_up(piece start). Returns 0 with *out
 * filled, SH_MM_EINVAL (NULL m/out, or excl NULL with nexcl > 0), SH_MM_ESIZE (size 0 or
 * rounding overflows) or SH_MM_ENOFIT. O(n * nexcl^2).
 */
int sh_place(const struct sh_memmap *m, uint64_t size, uint64_t limit,
	     const struct sh_mem_range *excl, size_t nexcl, struct sh_placement *out);

/*
 * Boot helper: builds a heap from a small static region and an extended region placed by
 * the memory map. One call per loader does the whole job for a payload:
 *
 *	multiboot v1 (EAX, EBX at entry):  sh_boot_multiboot1(&heap, eax, ebx, &cfg, &map, &res)
 *	multiboot2   (EAX, EBX at entry):  sh_boot_multiboot2(&heap, eax, ebx, &cfg, &map, &res)
 *	coreboot (table search):           sh_boot_coreboot(&heap, &cfg, &map, &res)
 *	any other map the caller parsed:   sh_boot_init(&heap, &map, &cfg, &res)
 *
 * with, for example,
 *
 *	extern char _heap[], _eheap[], _start[], _end[];    (linker script)
 *	static struct sh_mem_range ranges[64];
 *	struct sh_mem_range image = {(uintptr_t)_start, (uintptr_t)_end, SH_MEM_RESERVED};
 *	struct sh_boot_config cfg = {.static_base = _heap,
 *				     .static_size = (size_t)(_eheap - _heap),
 *				     .excl = &image, .nexcl = 1};
 *	sh_memmap_init(&map, ranges, 64);
 *
 * What placement keeps clear of. The extended region never overlaps
 *   - the caller's exclusions cfg->excl (the payload image, say),
 *   - the static region, when translation is the identity (its address is then physical;
 *     with a translation hook it is not, and the caller lists its physical range in excl),
 *   - the loader's data, added by the per-loader calls: the information block, the memory
 *     map buffer, the command line, the module list and every module (multiboot); the
 *     coreboot tables that were read (coreboot). They are listed in res->loader.
 * These sets are unioned: passing excl never turns any of the others off.
 *
 * Pointer width. With identity translation the placement limit is also clipped to what a
 * pointer can address (4 GiB on a 32-bit target), so a payload that raises cfg->limit
 * falls back to the highest RAM it can reach instead of failing; res->limit is the limit
 * that was used. With a hook the hook decides (a refusal is SH_MM_EADDRESS).
 *
 * Translation: physical addresses become pointers through phys_to_ptr (NULL: identity, as
 * on firmware; a range a uintptr_t cannot address is refused, never truncated). The
 * per-loader calls read the loader's data through the same translation. Tests map physical
 * ranges onto host buffers with their own hook.
 */
typedef void *(*sh_phys_to_ptr)(void *ctx, uint64_t phys, uint64_t size);

struct sh_boot_config {
	void *static_base; /* static region (e.g. from linker symbols); NULL: none */
	size_t static_size;
	size_t static_slots;		 /* 0: SH_BOOT_STATIC_SLOTS */
	uint64_t heap_size;		 /* extended footprint; 0: SH_DEFAULT_HEAP_SIZE */
	size_t nslots;			 /* extended region slots; 0: SH_DEFAULT_SLOTS */
	uint64_t limit;			 /* placement limit; 0: SH_PLACE_LIMIT_4G */
	const struct sh_mem_range *excl; /* physical ranges to keep clear of (payload image,
					    ...), in addition to the static region and the
					    loader's data; any order, may overlap */
	size_t nexcl;
	sh_phys_to_ptr phys_to_ptr; /* NULL: identity */
	void *phys_ctx;
	uint64_t tables_end; /* sh_boot_coreboot: the table search and the forwards read
				physical [16, tables_end) through the translation; 0: 4 GiB */
};

#ifndef SH_BOOT_STATIC_SLOTS
#define SH_BOOT_STATIC_SLOTS 64 /* slots of the static region unless told otherwise */
#endif
#ifndef SH_BOOT_MAX_LOADER
#define SH_BOOT_MAX_LOADER                                                                     \
	12 /* loader ranges kept clear of one by one; further modules are
				 folded into the last entry, which then spans them all */
#endif
#ifndef SH_BOOT_CMDLINE_MAX
#define SH_BOOT_CMDLINE_MAX 4096 /* bytes of a loader's command line read for options */
#endif

#define SH_MB1_MAGIC 0x2BADB002u /* EAX at a multiboot v1 entry */
#define SH_MB2_MAGIC 0x36D76289u /* EAX at a multiboot2 entry */
#define SH_MB1_INFO_BYTES 116u	 /* the whole v1 information structure (all fields) */
#define SH_MB1_INFO_READ 52u	 /* the part sh_mb1_read_info decodes (up to mmap_addr) */

/* The fields of the multiboot v1 information structure that placement needs. Each is
 * meaningful only when its flags bit is set (the specification's rule). */
struct sh_mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;	/* bit 0: KiB below 640 KiB and above 1 MiB */
	uint32_t cmdline;		/* bit 2: physical address of a NUL-terminated string */
	uint32_t mods_count, mods_addr; /* bit 3: module list, 16-byte entries */
	uint32_t mmap_length, mmap_addr; /* bit 6: memory-map buffer (sh_mb1_parse) */
};
#define SH_MB1_FLAG_MEM (1u << 0)
#define SH_MB1_FLAG_CMDLINE (1u << 2)
#define SH_MB1_FLAG_MODS (1u << 3)
#define SH_MB1_FLAG_MMAP (1u << 6)

/* Decodes the first SH_MB1_INFO_READ bytes of a multiboot v1 information structure
 * (byte by byte, little-endian). Returns 0, SH_MM_EINVAL (NULL buf/out) or SH_MM_ETRUNCATED
 * (len < SH_MB1_INFO_READ). O(1). */
int sh_mb1_read_info(const void *buf, size_t len, struct sh_mb1_info *out);

/* The map of a multiboot v1 information structure: the memory map when flags bit 6 is set
 * (buf = the mmap buffer, as sh_mb1_parse reads it), else, when bit 0 is set, RAM
 * [0, mem_lower KiB) and [1 MiB, 1 MiB + mem_upper KiB) (buf unused). Returns what
 * sh_mb1_parse returns, or SH_MM_ENOMEMTAG when neither bit is set. */
int sh_mb1_info_map(const struct sh_mb1_info *info, const void *mmap, size_t len,
		    struct sh_memmap *out);

struct sh_boot_result {
	bool have_static;   /* static region added, as region static_region */
	bool have_extended; /* extended region added, as region extended_region */
	unsigned static_region;
	unsigned extended_region;
	struct sh_placement place; /* valid when have_extended, else all zero */
	uint64_t limit;	  /* the placement limit used (after the pointer-width clip), 0 when no
			  * placement was tried */
	int static_error; /* 0, or why the static region asked for is missing: the SH_E*
			       code sh_add_region gave */
	int extended_error; /* 0, or why the extended region is missing: the map's reason
			       code, SH_MM_ENOFIT, SH_MM_ESIZE, SH_MM_EADDRESS, or the SH_E*
			       code sh_add_region gave */
	int options;	    /* per-loader calls: options applied from the command line, -1
			       at a malformed one (those before it stay applied, the boot goes
			       on), 0 without a command line */
	size_t nloader;	    /* loader ranges kept clear of: loader[0 .. nloader) */
	struct sh_mem_range loader[SH_BOOT_MAX_LOADER];
};

/*
 * Initialises h (sh_init), adds the static region (if any) as region 0, then places the
 * extended region with sh_place(map, heap_size, limit, exclusions as above) and adds it
 * with nslots slots.
 *
 * Returns 0 exactly when every region asked for exists: the static region when static_base
 * is set, the extended region when map is not NULL. Otherwise it returns the first reason
 * one is missing, which is also in res->static_error or res->extended_error. A missing
 * extended region never costs the static one: whatever the reason (no fit, size, address,
 * sh_add_region), have_static stays true, so the heap is usable exactly when have_static
 * or have_extended is set. When the static region is refused nothing else is tried.
 * SH_MM_EINVAL (NULL h/cfg/res, neither a map nor a static region, excl NULL with
 * nexcl > 0) leaves h untouched. O(map->n * nexcl^2 + nslots).
 */
int sh_boot_init(struct sh_heap *h, const struct sh_memmap *map,
		 const struct sh_boot_config *cfg, struct sh_boot_result *res);

/*
 * Multiboot v1: magic and info are EAX and EBX at the entry. Checks the magic
 * (SH_MM_EMAGIC), reads the information structure (flags bit 6: memory map; else bit 0:
 * mem_lower/mem_upper), applies slotheap.size= and slotheap.slots= from the command line
 * (bit 2; a copy of cfg is changed, never cfg itself), keeps the loader's data clear and
 * builds the heap as sh_boot_init does, the map going to map. When the map cannot be read
 * (SH_MM_EADDRESS for data a pointer cannot reach, the parser's reason code) the static
 * region is still added and that reason is returned as extended_error. Returns as
 * sh_boot_init does, SH_MM_EMAGIC or SH_MM_EINVAL (NULL argument, map without storage).
 */
int sh_boot_multiboot1(struct sh_heap *h, uint32_t magic, uint64_t info,
		       const struct sh_boot_config *cfg, struct sh_memmap *map,
		       struct sh_boot_result *res);

/* Multiboot2: the same for the boot information at info (tags: memory map 6, command line
 * 1, modules 3); the whole information block is kept clear, and every module. */
int sh_boot_multiboot2(struct sh_heap *h, uint32_t magic, uint64_t info,
		       const struct sh_boot_config *cfg, struct sh_memmap *map,
		       struct sh_boot_result *res);

/* coreboot: searches for the table (sh_cb_find) and reads it (sh_cb_parse, forwards
 * followed) in physical [16, tables_end) (a null pointer cannot be formed, so a header at
 * address 0 is not found), keeps the tables read clear (header and records of the table
 * found by the search and of the one holding the memory records), and builds the heap as
 * sh_boot_init does. There is no command line: cfg's values are used. */
int sh_boot_coreboot(struct sh_heap *h, const struct sh_boot_config *cfg, struct sh_memmap *map,
		     struct sh_boot_result *res);

/*
 * Child table for a chained payload: out = map with the placed extended region of res and
 * the extra ranges (e.g. the static heap's physical range) reserved. Write it out with
 * sh_memmap_emit. Returns what sh_memmap_reserve returns.
 */
int sh_boot_child_map(const struct sh_memmap *map, const struct sh_boot_result *res,
		      const struct sh_mem_range *extra, size_t nextra, struct sh_memmap *out);

/*
 * Run-time overrides from a command line or option string: recognises the words
 * "slotheap.size=N" and "slotheap.slots=N" anywhere in s[0 .. len) and sets the fields of
 * cfg. Words are separated by space, tab, newline or NUL (a carriage return belongs to its
 * word, so strip CRLF line ends first). N is decimal or hex after "0x" or "0X" (either case
 * of digits); the size may end in K, M or G (or k, m, g). A size or slot count of 0 is
 * malformed.
 * Other words are ignored. Returns the number of options applied, or -1 at the first
 * malformed or overflowing value: options before it stay applied, that one and any after it
 * are not.
 */
int sh_boot_options(const char *s, size_t len, struct sh_boot_config *cfg);

#endif /* SH_MEMMAP_H */
