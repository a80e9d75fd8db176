/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the memory-table tests (tests/test_memmap*.c): a coreboot table builder, the
 * sample maps of tests/data/memmaps/ with the expected answers read from its README.md, a
 * well-formedness check of normalized maps and a seeded random generator. All static
 * inline, so each test program takes what it uses.
 */
#ifndef SH_MEMMAP_UTIL_H
#define SH_MEMMAP_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memmap.h"
#include "place_ref.h"

#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)

static inline void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A raw table entry as firmware writes it: start and SIZE. */
struct ent {
	uint64_t start, size;
	uint32_t type;
};

/* coreboot table builder: header at p, records appended after it. */
struct cbb {
	uint8_t *p;
	size_t off; /* next record, from p */
	uint32_t n;
};

static inline void cbb_begin(struct cbb *b, uint8_t *p)
{
	b->p = p;
	b->off = SH_CB_HEADER_BYTES;
	b->n = 0;
}

/* A record with the given tag and size field, payload zeroed; returns the payload. */
static inline uint8_t *cbb_rec(struct cbb *b, uint32_t tag, uint32_t size, size_t bytes)
{
	uint8_t *r = b->p + b->off;
	memset(r, 0, bytes);
	le32(r, tag);
	le32(r + 4, size);
	b->off += bytes;
	b->n++;
	return r + 8;
}

static inline void cbb_mem(struct cbb *b, const struct ent *e, size_t n)
{
	uint32_t size = (uint32_t)(8 + 20 * n);
	uint8_t *q = cbb_rec(b, SH_CB_TAG_MEMORY, size, size);
	for (size_t i = 0; i < n; i++) {
		le64(q + 20 * i, e[i].start);
		le64(q + 20 * i + 8, e[i].size);
		le32(q + 20 * i + 16, e[i].type);
	}
}

static inline void cbb_fwd(struct cbb *b, uint64_t target)
{
	uint8_t *q = cbb_rec(b, SH_CB_TAG_FORWARD, 16, 16);
	le64(q, target);
}

/* Recomputes the header checksum after the header was edited. */
static inline void cb_fix_header(uint8_t *p)
{
	le32(p + 8, 0);
	le32(p + 8, sh_cb_checksum(p, SH_CB_HEADER_BYTES));
}

/* Writes the header with both checksums; returns the table's total size. */
static inline size_t cbb_end(struct cbb *b)
{
	uint8_t *p = b->p;
	uint32_t tb = (uint32_t)(b->off - SH_CB_HEADER_BYTES);
	memcpy(p, "LBIO", 4);
	le32(p + 4, SH_CB_HEADER_BYTES);
	le32(p + 12, tb);
	le32(p + 16, sh_cb_checksum(p + SH_CB_HEADER_BYTES, tb));
	le32(p + 20, b->n);
	cb_fix_header(p);
	return b->off;
}

/* A whole table with one memory record. */
static inline size_t cb_table(uint8_t *p, const struct ent *e, size_t n)
{
	struct cbb b;
	cbb_begin(&b, p);
	cbb_mem(&b, e, n);
	return cbb_end(&b);
}

/* Checks the promises of a normalized map: sorted, disjoint, non-empty, known types,
 * neighbours of equal type merged, n == total <= cap. */
static inline void assert_normalized(const struct sh_memmap *m)
{
	assert_true(m->n <= m->cap);
	assert_int_equal(m->n, m->total);
	for (size_t i = 0; i < m->n; i++) {
		const struct sh_mem_range *r = &m->range[i];
		assert_true(r->start < r->end);
		assert_true(r->type == SH_MEM_RAM || r->type == SH_MEM_RESERVED ||
			    r->type == SH_MEM_ACPI || r->type == SH_MEM_NVS ||
			    r->type == SH_MEM_UNUSABLE || r->type == SH_MEM_TABLE);
		if (i > 0) {
			assert_true(m->range[i - 1].end <= r->start);
			assert_false(m->range[i - 1].end == r->start &&
				     m->range[i - 1].type == r->type);
		}
	}
}

/* Checks the map against the model's type function at every boundary of the raw entries
 * (and the byte before it): the type function only changes there. */
static inline void assert_matches_raw(const struct sh_memmap *m, const struct sh_mem_range *raw,
				      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t pts[4] = {raw[i].start, raw[i].start - 1, raw[i].end, raw[i].end - 1};
		for (int k = 0; k < 4; k++) {
			uint32_t want = shref_mem_type_at(raw, n, pts[k]);
			uint32_t got = sh_memmap_type_at(m, pts[k]);
			if (want != got)
				print_error("address 0x%llx: model type %u, map type %u\n",
					    (unsigned long long)pts[k], want, got);
			assert_int_equal(want, got);
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		assert_int_equal(shref_mem_type_at(raw, n, m->range[i].start),
				 m->range[i].type);
		assert_int_equal(shref_mem_type_at(raw, n, m->range[i].end - 1),
				 m->range[i].type);
	}
}

/* Deterministic generator (xorshift64*). */
static inline uint64_t rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static inline uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return n == 0 ? 0 : rnd_next(s) % n;
}

/* --- the sample maps ---------------------------------------------------------------- */

#define SAMPLE_DIR "tests/data/memmaps"
#define MAX_SAMPLES 32
#define SAMPLE_MAX_ENTRIES 64

struct sample {
	char name[96];
	struct sh_mem_range raw[SAMPLE_MAX_ENTRIES]; /* from the CSV, as listed */
	size_t n;
	uint64_t top[2];    /* expected top RAM range below 4 GiB */
	bool fits[3];	    /* 1, 16, 64 MiB */
	uint64_t rng[3][2]; /* expected RAM range for each */
};

static inline bool parse_range(const char *s, uint64_t r[2])
{
	/* "0x100000–0x7ffdf000" (en dash) or "-" */
	char *end;
	r[0] = strtoull(s, &end, 16);
	if (end == s)
		return false;
	while (*end != '\0' && *end != 'x')
		end++;
	if (*end == '\0')
		return false;
	r[1] = strtoull(end - 1, NULL, 16);
	return true;
}

static inline void load_csv(struct sample *s)
{
	char path[160], line[256];
	snprintf(path, sizeof(path), SAMPLE_DIR "/%s.csv", s->name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (tests run from the repository root)", path);
	s->n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long a, b;
		unsigned t;
		if (line[0] == '#')
			continue;
		if (sscanf(line, "%llx,%llx,%u", &a, &b, &t) != 3)
			continue;
		assert_true(s->n < SAMPLE_MAX_ENTRIES);
		s->raw[s->n].start = a;
		s->raw[s->n].end = b;
		s->raw[s->n].type = t;
		s->n++;
	}
	fclose(f);
	assert_true(s->n > 0);
}

/* Reads the README's table of expected answers and each sample's CSV. */
static inline size_t load_samples(struct sample *out, size_t cap)
{
	FILE *f = fopen(SAMPLE_DIR "/README.md", "r");
	char line[512];
	size_t n = 0;
	if (f == NULL)
		fail_msg("cannot open " SAMPLE_DIR "/README.md (run from the repository root)");
	while (fgets(line, sizeof(line), f) != NULL) {
		char *cell[6];
		int k = 0;
		if (strncmp(line, "| ", 2) != 0 || line[2] < '0' || line[2] > '9')
			continue;
		for (char *tok = strtok(line + 1, "|"); tok && k < 6; tok = strtok(NULL, "|"))
			cell[k++] = tok;
		if (k < 5)
			continue;
		assert_true(n < cap);
		struct sample *s = &out[n];
		memset(s, 0, sizeof(*s));
		sscanf(cell[0], " %95s", s->name);
		assert_true(parse_range(cell[1], s->top));
		for (int j = 0; j < 3; j++)
			s->fits[j] = parse_range(cell[2 + j], s->rng[j]);
		load_csv(s);
		n++;
	}
	fclose(f);
	assert_true(n >= 11);
	return n;
}

#endif /* SH_MEMMAP_UTIL_H */
