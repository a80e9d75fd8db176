/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target memmap_parse: the memory-table parsers, the normalizer, the table writers and
 * heap placement, checked against the placement model of ref/place_ref.c.
 *
 * Input format (stable): the whole input is one memory table, read by every parser in turn:
 * as a coreboot table at offset 0 of a memory image at physical address 0, as a memory image
 * whose table the header search finds (SH_FMT_CBIMAGE, forwards followed), as a multiboot v1
 * mmap buffer, as a multiboot2 memory-map tag, as multiboot2 boot information holding one,
 * and as e820 arrays of 20- and 24-byte entries. Seeds are
 * the sample maps written by `sh-memmap --emit` (scripts/gen-memmap-seeds.sh). The readable
 * form of an input is what `build/sh-memmap FILE --raw` prints.
 *
 * So that mutations get past the checksums, the coreboot reading also runs on a copy of the
 * input in which every "LBIO" header (at any offset) has both checksums recomputed, table
 * checksum first, as far as its table lies inside the input.
 *
 * Every reading is compared with the reference reader of ref/memmap_ref.c, which reads the
 * same bytes again by its own code: sh_memmap_raw must give the reference's reason code, or
 * the same entries (start, end, type, in table order); sh_memmap_parse must give the
 * reference's code and the map the reference derives from its entries by the definition of
 * normalization. The header search and sh_cb_parse are compared the same way (reason, the
 * table found, the map), from the search's result and from every "LBIO" header of the
 * checksum-fixed copy, with the image at physical 0 and at 0xf0000, and from a chain of
 * SH_CB_MAX_FORWARDS forward tables appended to the input that ends at each of those headers
 * (so that any forward of the input's table is tried at the hop limit). A difference aborts
 * with the format, the entry index and both values.
 *
 * For every parser that accepts the bytes it also checks that:
 *   - sh_memmap_raw and sh_memmap_parse agree on whether the table is malformed and why;
 *   - the normalized map is well formed: sorted, disjoint, non-empty ranges, known types,
 *     equal neighbours merged, n == total <= capacity (or SH_MM_EOVERFLOW with total > cap);
 *   - its type at every boundary of the raw entries is the model's (highest type wins,
 *     unknown types reserved), and SH_MM_ENORAM exactly when it has no RAM;
 *   - sh_place equals shref_place for several sizes, limits and exclusions;
 *   - writing the map in every format and parsing it back gives the same map;
 *   - the child map with the placed heap reserved differs from the map only there.
 * Any difference aborts with a message naming the format and the check.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "memmap_ref.h"
#include "place_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAP_CAP 64
#define RAW_CAP 1024
#define REF_MAX 64 /* the model is cubic: only maps this small are compared */
#define MAX_LBIO 8 /* tables read from each "LBIO" header of an input, at most */

static struct sh_mem_range map_r[MAP_CAP], back_r[MAP_CAP], child_r[MAP_CAP + 4];
static struct sh_mem_range raw[RAW_CAP];
static struct sh_mem_range ref_raw[RAW_CAP], ref_map[MAP_CAP];
static uint8_t emitted[SH_CBIMAGE_HIGH + 32 + 24 * MAP_CAP];
static uint8_t fixed[1 << 16];
static uint8_t chained[(1 << 16) + 16 + 48 * SH_CB_MAX_FORWARDS];
static const char *fmt_name;

static void die(const char *what, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "memmap_parse: format %s: %s (0x%llx vs 0x%llx)\n", fmt_name, what, a,
		b);
	abort();
}

static void check(bool ok, const char *what, unsigned long long a, unsigned long long b)
{
	if (!ok)
		die(what, a, b);
}

/* A difference from the reference reader: what, which entry or range, both values. */
static void die_ref(const char *what, size_t i, unsigned long long core, unsigned long long ref)
{
	fprintf(stderr,
		"memmap_parse: format %s: %s differs from the reference reader at index %zu: "
		"core 0x%llx, reference 0x%llx\n",
		fmt_name, what, i, core, ref);
	abort();
}

static void die_reason(const char *what, int core, int ref)
{
	fprintf(stderr, "memmap_parse: format %s: %s: core %d (%s), reference reader %d (%s)\n",
		fmt_name, what, core, sh_memmap_strerror(core), ref, sh_memmap_strerror(ref));
	abort();
}

static void same_range(const char *what, size_t i, const struct sh_mem_range *c,
		       const struct sh_mem_range *r)
{
	char field[96];

	snprintf(field, sizeof(field), "%s start", what);
	if (c->start != r->start)
		die_ref(field, i, c->start, r->start);
	snprintf(field, sizeof(field), "%s end", what);
	if (c->end != r->end)
		die_ref(field, i, c->end, r->end);
	snprintf(field, sizeof(field), "%s type", what);
	if (c->type != r->type)
		die_ref(field, i, c->type, r->type);
}

/* Core's raw reading (code rr, n entries in raw[]) against the reference's; returns the
 * reference's code and sets *rn to its entry count. */
static int compare_raw(enum sh_mm_format fmt, const uint8_t *data, size_t size, int rr,
		       size_t n, size_t *rn)
{
	int rf = mmref_raw(fmt, data, size, ref_raw, RAW_CAP, rn);
	if (rr != rf)
		die_reason("raw reading: reason code differs", rr, rf);
	if (rf != SH_MM_OK && rf != SH_MM_EOVERFLOW)
		return rf;
	if (n != *rn)
		die_ref("raw entry count", 0, n, *rn);
	for (size_t i = 0; i < n && i < RAW_CAP; i++)
		same_range("raw entry", i, &raw[i], &ref_raw[i]);
	return rf;
}

/* A normalized map (code rc) against the reference's normalization of its raw entries
 * ref_raw[0 .. rn) (raw reading code rf). */
static void compare_map(const struct sh_memmap *m, int rc, int rf, size_t rn)
{
	size_t total = 0;

	if (rf != SH_MM_OK && rf != SH_MM_EOVERFLOW) {
		if (rc != rf)
			die_reason("parse: reason code differs", rc, rf);
		return;
	}
	if (rn > RAW_CAP)
		return; /* more entries than were kept: only the count was compared */
	int want = mmref_normalize(ref_raw, rn, ref_map, m->cap, &total);
	if (rc != want)
		die_reason("normalized map: result code differs", rc, want);
	if (m->total != total)
		die_ref("normalized range count", 0, m->total, total);
	for (size_t i = 0; i < m->n && i < total; i++)
		same_range("normalized range", i, &m->range[i], &ref_map[i]);
}

static bool known_type(uint32_t t)
{
	return t == SH_MEM_RAM || t == SH_MEM_RESERVED || t == SH_MEM_ACPI || t == SH_MEM_NVS ||
	       t == SH_MEM_UNUSABLE || t == SH_MEM_TABLE;
}

static void check_well_formed(const struct sh_memmap *m, int rc)
{
	bool ram = false;
	check(m->n <= m->cap, "n > cap", m->n, m->cap);
	if (rc == SH_MM_EOVERFLOW)
		check(m->total > m->cap && m->n == m->cap, "overflow counts", m->total, m->n);
	else
		check(m->n == m->total, "n != total", m->n, m->total);
	for (size_t i = 0; i < m->n; i++) {
		const struct sh_mem_range *r = &m->range[i];
		check(r->start < r->end, "empty or inverted range", r->start, r->end);
		check(known_type(r->type), "type not normalized", i, r->type);
		ram = ram || r->type == SH_MEM_RAM;
		if (i > 0) {
			check(m->range[i - 1].end <= r->start, "unsorted or overlapping",
			      m->range[i - 1].end, r->start);
			check(m->range[i - 1].end != r->start ||
				      m->range[i - 1].type != r->type,
			      "equal neighbours not merged", r->start, r->type);
		}
	}
	if (rc == SH_MM_OK)
		check(ram, "SH_MM_OK without RAM", m->n, 0);
	if (rc == SH_MM_ENORAM)
		check(!ram, "SH_MM_ENORAM with RAM", m->n, 0);
}

static void check_types(const struct sh_memmap *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t pts[4] = {raw[i].start, raw[i].start - 1, raw[i].end, raw[i].end - 1};
		for (int k = 0; k < 4; k++) {
			uint32_t want = shref_mem_type_at(raw, n, pts[k]);
			check(sh_memmap_type_at(m, pts[k]) == want,
			      "type differs from the model", pts[k], want);
		}
	}
	for (size_t i = 0; i < m->n; i++)
		check(shref_mem_type_at(raw, n, m->range[i].start) == m->range[i].type,
		      "range type differs from the model", m->range[i].start, m->range[i].type);
}

static void check_place(const struct sh_memmap *m, size_t n)
{
	static const uint64_t sizes[] = {1,	    4096,      1u << 20,
					 16u << 20, 64u << 20, UINT64_C(5) << 30};
	static const uint64_t limits[] = {SH_PLACE_LIMIT_4G, SH_MEM_TOP, 1u << 20};
	struct sh_mem_range excl[2];
	size_t nexcl = 0;

	if (n > 0)
		excl[nexcl++] = raw[0];
	if (m->n > 0) {
		const struct sh_mem_range *top = &m->range[m->n - 1];
		excl[nexcl].start = top->start + (top->end - top->start) / 2;
		excl[nexcl].end = top->end;
		excl[nexcl++].type = SH_MEM_RESERVED;
	}
	for (size_t e = 0; e <= nexcl; e++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
				struct sh_placement pl;
				uint64_t a = 0;
				const struct sh_mem_range *ex = e ? excl : NULL;
				int rc = sh_place(m, sizes[s], limits[l], ex, e, &pl);
				int ra = shref_place(raw, n, sizes[s], limits[l], ex, e, &a);
				check(rc == ra, "sh_place and the model disagree on fitting",
				      (unsigned long long)rc, (unsigned long long)ra);
				if (rc == SH_MM_OK)
					check(pl.start == a, "sh_place differs from the model",
					      pl.start, a);
			}
		}
	}
}

static void check_round_trip(const struct sh_memmap *m, int want)
{
	static const enum sh_mm_format fmts[] = {SH_FMT_CBTABLE, SH_FMT_CBIMAGE, SH_FMT_MB2INFO,
						 SH_FMT_MB1,	 SH_FMT_MB2,	 SH_FMT_E820,
						 SH_FMT_E820_24};
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		struct sh_memmap b;
		size_t len;
		int rc = sh_memmap_emit(fmts[f], m, emitted, sizeof(emitted), &len);
		check(rc == SH_MM_OK, "emit failed", (unsigned long long)rc, f);
		sh_memmap_init(&b, back_r, MAP_CAP);
		rc = sh_memmap_parse(fmts[f], emitted, len, &b);
		check(rc == want, "emitted table parsed back with another code",
		      (unsigned long long)rc, (unsigned long long)want);
		check(b.n == m->n, "round trip changed the range count", b.n, m->n);
		for (size_t i = 0; i < m->n; i++)
			check(b.range[i].start == m->range[i].start &&
				      b.range[i].end == m->range[i].end &&
				      b.range[i].type == m->range[i].type,
			      "round trip changed a range", i, f);
	}
}

static void check_child(const struct sh_memmap *m)
{
	struct sh_placement pl;
	struct sh_memmap c;
	if (sh_place(m, 1u << 20, SH_MEM_TOP, NULL, 0, &pl) != SH_MM_OK)
		return;
	struct sh_mem_range heap = {pl.start, pl.end, SH_MEM_RAM};
	sh_memmap_init(&c, child_r, MAP_CAP + 4);
	int rc = sh_memmap_reserve(m, &heap, 1, &c);
	check(rc == SH_MM_OK || rc == SH_MM_ENORAM, "reserve failed", (unsigned long long)rc,
	      0);
	check_well_formed(&c, rc);
	for (size_t i = 0; i < m->n; i++) {
		uint64_t pts[2] = {m->range[i].start, m->range[i].end - 1};
		for (int k = 0; k < 2; k++) {
			bool in = pts[k] >= pl.start && pts[k] < pl.end;
			uint32_t want = in ? SH_MEM_RESERVED : m->range[i].type;
			check(sh_memmap_type_at(&c, pts[k]) == want, "child map type", pts[k],
			      want);
		}
	}
	check(sh_memmap_type_at(&c, pl.start) == SH_MEM_RESERVED, "heap not reserved", pl.start,
	      0);
	check(sh_memmap_type_at(&c, pl.end - 1) == SH_MEM_RESERVED, "heap not reserved",
	      pl.end - 1, 0);
}

static void run_format(enum sh_mm_format fmt, const char *name, const uint8_t *data,
		       size_t size)
{
	struct sh_memmap m;
	size_t n = 0;

	fmt_name = name;
	int rr = sh_memmap_raw(fmt, data, size, raw, RAW_CAP, &n);
	sh_memmap_init(&m, map_r, MAP_CAP);
	int rc = sh_memmap_parse(fmt, data, size, &m);
	check(rc == SH_MM_OK || (rc >= SH_MM_FIRST && rc < SH_MM_EFORMAT), "unexpected code",
	      (unsigned long long)rc, 0);
	size_t rn = 0;
	int rf = compare_raw(fmt, data, size, rr, n, &rn);
	compare_map(&m, rc, rf, rn);
	if (rr != SH_MM_OK && rr != SH_MM_EOVERFLOW) {
		check(rc == rr, "parse and raw disagree on the reason", (unsigned long long)rc,
		      (unsigned long long)rr);
		return;
	}
	check(rc == SH_MM_OK || rc == SH_MM_ENORAM || rc == SH_MM_EOVERFLOW,
	      "valid table rejected", (unsigned long long)rc, 0);
	check_well_formed(&m, rc);
	if (rr == SH_MM_EOVERFLOW || rc == SH_MM_EOVERFLOW)
		return;
	check(n <= RAW_CAP, "raw count", n, RAW_CAP);
	check_round_trip(&m, rc);
	if (n <= REF_MAX) {
		check_types(&m, n);
		check_place(&m, n);
	}
	check_child(&m);
}

/* sh_cb_parse of the table at physical table of the image data at base against the
 * reference: the same code, the same table holding the memory records, the same map. */
static void compare_cb(const uint8_t *data, size_t size, uint64_t base, uint64_t table)
{
	struct sh_memmap m;
	uint64_t found = 0, ref_found = 0;
	size_t rn = 0;

	sh_memmap_init(&m, map_r, MAP_CAP);
	int rc = sh_cb_parse(data, size, base, table, &m, &found);
	check(rc == SH_MM_OK || (rc >= SH_MM_FIRST && rc < SH_MM_EFORMAT), "unexpected code",
	      (unsigned long long)rc, 0);
	int rf = mmref_cb_raw(data, size, base, table, ref_raw, RAW_CAP, &rn, &ref_found);
	compare_map(&m, rc, rf, rn);
	if (rc == SH_MM_OK || rc == SH_MM_ENORAM || rc == SH_MM_EOVERFLOW) {
		check_well_formed(&m, rc);
		if (found != ref_found)
			die_ref("table holding the memory records", 0, found, ref_found);
	}
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The table at offset off of data read through SH_CB_MAX_FORWARDS forward tables placed
 * after the input, so that its own forward, if any, is one hop past the limit. */
static void compare_cb_at_hop_limit(const uint8_t *data, size_t size, size_t off)
{
	const size_t step = 48; /* a header and one 16-byte forward record, padded */
	size_t at = (size + 15) & ~(size_t)15;

	if (size > sizeof(fixed))
		return;
	memcpy(chained, data, size);
	memset(chained + size, 0, at - size);
	for (size_t k = 0; k < SH_CB_MAX_FORWARDS; k++) {
		uint8_t *p = chained + at + k * step;
		uint64_t to = k + 1 < SH_CB_MAX_FORWARDS ? at + (k + 1) * step : off;
		memset(p, 0, step);
		memcpy(p, "LBIO", 4);
		put32(p + 4, SH_CB_HEADER_BYTES);
		put32(p + 12, 16);
		put32(p + 20, 1);
		put32(p + 24, SH_CB_TAG_FORWARD);
		put32(p + 28, 16);
		put32(p + 32, (uint32_t)to);
		put32(p + 36, (uint32_t)(to >> 32));
		put32(p + 16, mmref_checksum(p + SH_CB_HEADER_BYTES, 16));
		put32(p + 8, mmref_checksum(p, SH_CB_HEADER_BYTES));
	}
	compare_cb(chained, at + SH_CB_MAX_FORWARDS * step, 0, at);
}

/* Copies data into fixed[] with every coreboot header's checksums made valid; returns
 * false when there is nothing to fix. */
static bool fix_checksums(const uint8_t *data, size_t size)
{
	bool any = false;
	if (size > sizeof(fixed))
		return false;
	memcpy(fixed, data, size);
	for (size_t off = 0; size >= SH_CB_HEADER_BYTES && off <= size - SH_CB_HEADER_BYTES;
	     off++) {
		uint8_t *p = fixed + off;
		if (memcmp(p, "LBIO", 4) != 0)
			continue;
		uint32_t hb = get32(p + 4), tb = get32(p + 12);
		size_t avail = size - off;
		if (hb <= avail && tb <= avail - hb)
			put32(p + 16, mmref_checksum(p + hb, tb));
		put32(p + 8, 0);
		put32(p + 8, mmref_checksum(p, SH_CB_HEADER_BYTES));
		any = true;
	}
	return any;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (data == NULL)
		return 0;
	fmt_name = "checksum";
	if (sh_cb_checksum(data, size) != mmref_checksum(data, size))
		die_ref("checksum of the whole input", 0, sh_cb_checksum(data, size),
			mmref_checksum(data, size));
	run_format(SH_FMT_CBTABLE, "cbtable", data, size);
	run_format(SH_FMT_MB1, "mb1", data, size);
	run_format(SH_FMT_MB2, "mb2", data, size);
	run_format(SH_FMT_E820, "e820", data, size);
	run_format(SH_FMT_E820_24, "e820-24", data, size);
	run_format(SH_FMT_CBIMAGE, "cbimage", data, size);
	run_format(SH_FMT_MB2INFO, "mb2info", data, size);

	if (fix_checksums(data, size)) {
		run_format(SH_FMT_CBTABLE, "cbtable (checksums fixed)", fixed, size);
		data = fixed;
	}

	/* The header search over the input as a memory image at physical 0 and at 0xf0000 (the
	 * BIOS window), the table it finds, and the tables at every "LBIO" header. */
	static const uint64_t bases[] = {0, 0xf0000};
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		uint64_t table = 0, ref_table = 0;
		fmt_name = b == 0 ? "cbtable search" : "cbtable search (image at 0xf0000)";
		int rc = sh_cb_find(data, size, bases[b], &table);
		int rf = mmref_cb_find(data, size, bases[b], &ref_table);
		if (rc != rf)
			die_reason("header search: reason code differs", rc, rf);
		if (rc == SH_MM_OK) {
			if (table != ref_table)
				die_ref("table found by the header search", 0, table,
					ref_table);
			check(table % 16 == 0 && table - bases[b] + SH_CB_HEADER_BYTES <= size,
			      "search result", table, size);
			compare_cb(data, size, bases[b], table);
		}
		fmt_name = b == 0 ? "cbtable at each LBIO"
				  : "cbtable at each LBIO (image at 0xf0000)";
		size_t tried = 0;
		for (size_t off = 0; size >= SH_CB_HEADER_BYTES &&
				     off <= size - SH_CB_HEADER_BYTES && tried < MAX_LBIO;
		     off++) {
			if (memcmp(data + off, "LBIO", 4) == 0) {
				compare_cb(data, size, bases[b], bases[b] + off);
				if (b == 0)
					compare_cb_at_hop_limit(data, size, off);
				tried++;
			}
		}
	}
	return 0;
}
