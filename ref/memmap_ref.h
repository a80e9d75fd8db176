/* SPDX-License-Identifier: MIT */
/*
 * The reference reader of memory tables: the same formats as core/memmap.h (coreboot tables
 * with forwards and the header search, multiboot v1, the multiboot2 memory-map tag and boot
 * information, raw e820 arrays), read again from the bytes by plain code that shares nothing
 * with core/. It exists to be compared with sh_memmap_raw and sh_memmap_parse: the same
 * reason code for a malformed table, the same raw entries for a good one, and the same
 * normalized map derived from them by the definition.
 *
 * How it reads (the contract of core/memmap.h, made concrete):
 *   - Every multi-byte field is read byte by byte, little-endian, by one helper that checks
 *     the field lies inside the buffer (and aborts if it does not: a bug of this reader).
 *   - A table is checked in the order its bytes are trusted: the framing a field describes
 *     is checked before the field is used, and within one header, record or entry the
 *     reasons come in the order the function's "Returns" list in core/memmap.h names them.
 *     Records and entries are checked in table order; the first failure is the answer.
 *   - coreboot: a table is header (signature, header_bytes >= 24, header checksum), then
 *     header_bytes + table_bytes inside the image, then the table checksum against the full
 *     32-bit table_checksum field, then exactly table_entries records, each: 8 bytes of
 *     record header left, size >= 8, size % 4 == 0, size inside the table, then by tag: a
 *     memory record holds a whole number of 20-byte ranges, a forward record is at least 16
 *     bytes. The first forward record of a table replaces the table by its target. Before a
 *     hop is taken: a target equal to any table read so far, the current one included, is a
 *     loop; a hop beyond SH_CB_MAX_FORWARDS is too many (a loop is reported first). A table
 *     header outside the image is SH_MM_ETRUNCATED for the first table and
 *     SH_MM_EFORWARD_OUTSIDE for a forward's target.
 *   - Header search: 16-byte steps of physical [0, 0x1000), then [0xf0000, 0x100000), at
 *     addresses whose 24 header bytes lie in the image; the first whose header passes the
 *     checks on those 24 bytes alone (signature, header_bytes >= 24, header checksum).
 *   - Raw entries: start, end = start + length clamped at SH_MEM_TOP, type as written; empty
 *     entries kept; disabled 24-byte e820 entries (attribute bit 0 clear) left out.
 *   - Normalization, by definition: the type of an address is the highest normalized type
 *     (unknown types count as reserved) of the non-empty entries covering it; the map lists
 *     the maximal runs of one non-zero type between consecutive entry boundaries.
 *
 * Types and reason codes are those of core/memmap.h. May use libc. Not fast: O(n^2).
 */
#ifndef MEMMAP_REF_H
#define MEMMAP_REF_H

#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

/* The coreboot / internet checksum of p[0 .. len): one's-complement sum of little-endian
 * 16-bit words (an odd last byte is a low half), complemented. */
uint16_t mmref_checksum(const void *p, size_t len);

/*
 * The raw entries of a table of format fmt in buf[0 .. len), with the contract of
 * sh_memmap_raw: in table order, up to cap of them in raw[], their count in *n. Returns 0,
 * SH_MM_EINVAL (NULL buf or n, NULL raw with cap > 0), SH_MM_EFORMAT, a reason code of the
 * format, or SH_MM_EOVERFLOW (*n then holds the number of entries).
 */
int mmref_raw(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_mem_range *raw,
	      size_t cap, size_t *n);

/*
 * coreboot table at physical address table of the image image[0 .. len) that holds
 * physical [base, base + len), forwards followed: the raw entries as mmref_raw gives them,
 * and in *found (if not NULL) the address of the table that held them. Same returns.
 */
int mmref_cb_raw(const void *image, size_t len, uint64_t base, uint64_t table,
		 struct sh_mem_range *raw, size_t cap, size_t *n, uint64_t *found);

/* The header search (see above) in the image image[0 .. len) at physical base. Returns 0
 * with *table set, SH_MM_EINVAL (NULL argument) or SH_MM_ENOTFOUND. */
int mmref_cb_find(const void *image, size_t len, uint64_t base, uint64_t *table);

/*
 * The normalized map of raw[0 .. n) by the definition above: up to cap ranges in out[],
 * the number of ranges of the whole map in *total. Returns SH_MM_EOVERFLOW when *total >
 * cap, else SH_MM_ENORAM when no range is RAM, else 0; SH_MM_EINVAL for NULL arguments.
 */
int mmref_normalize(const struct sh_mem_range *raw, size_t n, struct sh_mem_range *out,
		    size_t cap, size_t *total);

#endif /* MEMMAP_REF_H */
