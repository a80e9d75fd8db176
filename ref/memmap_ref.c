/* SPDX-License-Identifier: MIT */
/* Reference reader of memory tables: see memmap_ref.h. Obvious code, no cleverness. */
#include "memmap_ref.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A view of bytes: p[0 .. len). Every read goes through get_le, which checks the bounds. */
struct bytes {
	const uint8_t *p;
	size_t len;
};

static void outside(size_t off, size_t width, size_t len)
{
	(void)fprintf(stderr,
		      "memmap_ref: read of %zu bytes at offset %zu of a %zu-byte view\n", width,
		      off, len);
	abort();
}

static uint64_t get_le(struct bytes b, size_t off, size_t width)
{
	uint64_t v = 0;

	if (off > b.len || width > b.len - off)
		outside(off, width, b.len);
	for (size_t i = 0; i < width; i++)
		v |= (uint64_t)b.p[off + i] << (8 * i);
	return v;
}

static uint32_t get32(struct bytes b, size_t off)
{
	return (uint32_t)get_le(b, off, 4);
}

static uint64_t get64(struct bytes b, size_t off)
{
	return get_le(b, off, 8);
}

/* The part [off, off + len) of b, which must lie inside it. */
static struct bytes part(struct bytes b, size_t off, size_t len)
{
	struct bytes r;

	if (off > b.len || len > b.len - off)
		outside(off, len, b.len);
	r.p = b.p + off;
	r.len = len;
	return r;
}

uint16_t mmref_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint64_t word = b[i];
		if (i + 1 < len)
			word |= (uint64_t)b[i + 1] << 8;
		sum += word;
	}
	/* one's-complement addition: carries out of bit 15 come back in at bit 0 */
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Where the raw entries go. */
struct sink {
	struct sh_mem_range *raw;
	size_t cap;
	size_t n;
};

static void add_entry(struct sink *s, uint64_t start, uint64_t length, uint32_t type)
{
	uint64_t end;

	if (length > SH_MEM_TOP - start)
		end = SH_MEM_TOP; /* start + length reaches or passes 2^64: clamped */
	else
		end = start + length;
	if (s->n < s->cap) {
		s->raw[s->n].start = start;
		s->raw[s->n].end = end;
		s->raw[s->n].type = type;
	}
	s->n++;
}

/* {u64 base, u64 length, u32 type} at the start of e. */
static void add_flat_entry(struct sink *s, struct bytes e)
{
	add_entry(s, get64(e, 0), get64(e, 8), get32(e, 16));
}

/* ---- coreboot ---------------------------------------------------------------------- */

/* The checks that need only the 24 header bytes. */
static int cb_header_reason(struct bytes h)
{
	if (memcmp(h.p, "LBIO", 4) != 0)
		return SH_MM_ESIGNATURE;
	if (get32(h, 4) < SH_CB_HEADER_BYTES)
		return SH_MM_EHDRSIZE;
	if (mmref_checksum(h.p, SH_CB_HEADER_BYTES) != 0)
		return SH_MM_EHDRCHECKSUM;
	return SH_MM_OK;
}

/* Is physical [addr, addr + need) inside the image at base? Its offset in *off. */
static bool in_image(uint64_t base, size_t len, uint64_t addr, size_t need, size_t *off)
{
	if (addr < base)
		return false;
	uint64_t rel = addr - base;
	if (rel > (uint64_t)len)
		return false;
	if ((uint64_t)len - rel < (uint64_t)need)
		return false;
	*off = (size_t)rel;
	return true;
}

/* One validated table: its records and what they hold. */
struct cb_table {
	struct bytes records; /* the table_bytes after the header */
	uint32_t entries;
	bool has_memory;
	bool has_forward;
	uint64_t forward; /* target of the first forward record */
};

/* Validates the table whose header is at the start of rest (rest runs to the image end). */
static int cb_read_table(struct bytes rest, struct cb_table *t)
{
	struct bytes h = part(rest, 0, SH_CB_HEADER_BYTES);
	int rc = cb_header_reason(h);
	if (rc != SH_MM_OK)
		return rc;
	uint32_t header_bytes = get32(h, 4);
	uint32_t table_bytes = get32(h, 12);
	uint32_t table_checksum = get32(h, 16);
	if (header_bytes > rest.len || table_bytes > rest.len - header_bytes)
		return SH_MM_ETABLE_PAST_BUFFER;
	t->records = part(rest, header_bytes, table_bytes);
	if (table_checksum != mmref_checksum(t->records.p, t->records.len))
		return SH_MM_ETBLCHECKSUM;
	t->entries = get32(h, 20);
	t->has_memory = false;
	t->has_forward = false;
	t->forward = 0;

	size_t pos = 0;
	for (uint32_t i = 0; i < t->entries; i++) {
		size_t left = t->records.len - pos;
		if (left < 8)
			return SH_MM_ERECORD_PAST_TABLE;
		uint32_t tag = get32(t->records, pos);
		uint32_t size = get32(t->records, pos + 4);
		if (size < 8)
			return SH_MM_ERECORD_SHORT;
		if (size % 4 != 0)
			return SH_MM_ERECORD_ALIGN;
		if (size > left)
			return SH_MM_ERECORD_PAST_TABLE;
		if (tag == SH_CB_TAG_MEMORY) {
			if ((size - 8) % SH_CB_RANGE_BYTES != 0)
				return SH_MM_ERANGES_PAST_END;
			t->has_memory = true;
		}
		if (tag == SH_CB_TAG_FORWARD) {
			if (size < 16)
				return SH_MM_ERECORD_SHORT;
			if (!t->has_forward)
				t->forward = get64(t->records, pos + 8);
			t->has_forward = true;
		}
		pos += size;
	}
	return SH_MM_OK;
}

/* The ranges of every memory record of a validated table, in table order. */
static void cb_collect(const struct cb_table *t, struct sink *s)
{
	size_t pos = 0;

	for (uint32_t i = 0; i < t->entries; i++) {
		uint32_t tag = get32(t->records, pos);
		uint32_t size = get32(t->records, pos + 4);
		if (tag == SH_CB_TAG_MEMORY) {
			for (size_t r = pos + 8; r < pos + size; r += SH_CB_RANGE_BYTES)
				add_flat_entry(s, part(t->records, r, SH_CB_RANGE_BYTES));
		}
		pos += size;
	}
}

static int cb_read(struct bytes img, uint64_t base, uint64_t table, struct sink *s,
		   uint64_t *found)
{
	uint64_t seen[SH_CB_MAX_FORWARDS + 1];
	size_t nseen = 0;
	uint64_t addr = table;

	for (;;) {
		size_t off;
		struct cb_table t;
		if (!in_image(base, img.len, addr, SH_CB_HEADER_BYTES, &off))
			return nseen == 0 ? SH_MM_ETRUNCATED : SH_MM_EFORWARD_OUTSIDE;
		int rc = cb_read_table(part(img, off, img.len - off), &t);
		if (rc != SH_MM_OK)
			return rc;
		if (!t.has_forward) {
			if (!t.has_memory)
				return SH_MM_ENOMEMTAG;
			cb_collect(&t, s);
			if (found != NULL)
				*found = addr;
			return SH_MM_OK;
		}
		seen[nseen++] = addr;
		for (size_t i = 0; i < nseen; i++) {
			if (seen[i] == t.forward)
				return SH_MM_EFORWARD_LOOP;
		}
		/* nseen tables read: the hop to the next one would be hop number nseen */
		if (nseen > SH_CB_MAX_FORWARDS)
			return SH_MM_ETOO_MANY_FORWARDS;
		addr = t.forward;
	}
}

int mmref_cb_find(const void *image, size_t len, uint64_t base, uint64_t *table)
{
	static const uint64_t windows[2][2] = {{0, 0x1000}, {0xf0000, 0x100000}};
	struct bytes img = {image, len};

	if (image == NULL || table == NULL)
		return SH_MM_EINVAL;
	for (int w = 0; w < 2; w++) {
		for (uint64_t a = windows[w][0]; a < windows[w][1]; a += 16) {
			size_t off;
			if (!in_image(base, len, a, SH_CB_HEADER_BYTES, &off))
				continue;
			if (cb_header_reason(part(img, off, SH_CB_HEADER_BYTES)) == SH_MM_OK) {
				*table = a;
				return SH_MM_OK;
			}
		}
	}
	return SH_MM_ENOTFOUND;
}

/* ---- multiboot, e820 ----------------------------------------------------------------- */

static int mb1_read(struct bytes b, struct sink *s)
{
	size_t pos = 0;

	while (pos < b.len) {
		if (b.len - pos < 4)
			return SH_MM_ERANGES_PAST_END;
		uint32_t size = get32(b, pos);
		if (size < 20)
			return SH_MM_EENTRY_SIZE;
		if (size > b.len - pos - 4)
			return SH_MM_ERANGES_PAST_END;
		add_flat_entry(s, part(b, pos + 4, 20));
		pos += 4 + (size_t)size;
	}
	return SH_MM_OK;
}

/* The multiboot2 memory-map tag at the start of b (b ends where the buffer or tag does). */
static int mb2_read(struct bytes b, struct sink *s)
{
	if (b.len < 16)
		return SH_MM_ETRUNCATED;
	if (get32(b, 0) != SH_MB2_TAG_MMAP)
		return SH_MM_ESIGNATURE;
	uint32_t size = get32(b, 4);
	uint32_t entry_size = get32(b, 8);
	if (size < 16)
		return SH_MM_EHDRSIZE;
	if (size > b.len)
		return SH_MM_ETABLE_PAST_BUFFER;
	if (entry_size < 24 || entry_size % 8 != 0)
		return SH_MM_EENTRY_SIZE;
	if ((size - 16) % entry_size != 0)
		return SH_MM_ERANGES_PAST_END;
	for (size_t pos = 16; pos < size; pos += entry_size)
		add_flat_entry(s, part(b, pos, 24));
	return SH_MM_OK;
}

static int mb2info_read(struct bytes b, struct sink *s)
{
	if (b.len < 8)
		return SH_MM_ETRUNCATED;
	uint32_t total = get32(b, 0);
	if (total < 8)
		return SH_MM_EHDRSIZE;
	if (total > b.len)
		return SH_MM_ETABLE_PAST_BUFFER;
	uint64_t pos = 8;
	while (total - pos >= 8) {
		uint32_t type = get32(b, (size_t)pos);
		uint32_t size = get32(b, (size_t)pos + 4);
		if (size < 8)
			return SH_MM_ERECORD_SHORT;
		if (size > total - pos)
			return SH_MM_ERECORD_PAST_TABLE;
		if (type == 0)
			break; /* the end tag */
		if (type == SH_MB2_TAG_MMAP)
			return mb2_read(part(b, (size_t)pos, size), s);
		uint64_t next =
			pos + ((size + UINT64_C(7)) / 8) * 8; /* tags are 8-byte aligned */
		if (next > total)
			break;
		pos = next;
	}
	return SH_MM_ENOMEMTAG;
}

static int e820_read(struct bytes b, size_t entry_size, struct sink *s)
{
	if (b.len % entry_size != 0)
		return SH_MM_ERANGES_PAST_END;
	for (size_t pos = 0; pos < b.len; pos += entry_size) {
		struct bytes e = part(b, pos, entry_size);
		if (entry_size == 24 && (get32(e, 20) & 1) == 0)
			continue; /* ACPI 3.0: attribute bit 0 clear means "ignore this entry" */
		add_flat_entry(s, e);
	}
	return SH_MM_OK;
}

/* ---- entry points ---------------------------------------------------------------------- */

static int finish(int rc, const struct sink *s, size_t *n)
{
	if (rc != SH_MM_OK) {
		*n = 0;
		return rc;
	}
	*n = s->n;
	return s->n > s->cap ? SH_MM_EOVERFLOW : SH_MM_OK;
}

int mmref_cb_raw(const void *image, size_t len, uint64_t base, uint64_t table,
		 struct sh_mem_range *raw, size_t cap, size_t *n, uint64_t *found)
{
	struct sink s = {raw, cap, 0};
	struct bytes img = {image, len};

	if (image == NULL || n == NULL || (raw == NULL && cap > 0))
		return SH_MM_EINVAL;
	return finish(cb_read(img, base, table, &s, found), &s, n);
}

int mmref_raw(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_mem_range *raw,
	      size_t cap, size_t *n)
{
	struct sink s = {raw, cap, 0};
	struct bytes b = {buf, len};
	uint64_t table;
	int rc;

	if (buf == NULL || n == NULL || (raw == NULL && cap > 0))
		return SH_MM_EINVAL;
	switch (fmt) {
	case SH_FMT_CBTABLE:
		rc = cb_read(b, 0, 0, &s, NULL);
		break;
	case SH_FMT_CBIMAGE:
		rc = mmref_cb_find(buf, len, 0, &table);
		if (rc == SH_MM_OK)
			rc = cb_read(b, 0, table, &s, NULL);
		break;
	case SH_FMT_MB1:
		rc = mb1_read(b, &s);
		break;
	case SH_FMT_MB2:
		rc = mb2_read(b, &s);
		break;
	case SH_FMT_MB2INFO:
		rc = mb2info_read(b, &s);
		break;
	case SH_FMT_E820:
		rc = e820_read(b, 20, &s);
		break;
	case SH_FMT_E820_24:
		rc = e820_read(b, 24, &s);
		break;
	default:
		rc = SH_MM_EFORMAT;
		break;
	}
	return finish(rc, &s, n);
}

/* ---- normalization by definition ------------------------------------------------------ */

static uint32_t normal_type(uint32_t t)
{
	if (t == SH_MEM_RAM || t == SH_MEM_RESERVED || t == SH_MEM_ACPI || t == SH_MEM_NVS ||
	    t == SH_MEM_UNUSABLE || t == SH_MEM_TABLE)
		return t;
	return SH_MEM_RESERVED;
}

/* Highest normalized type of the entries covering addr; 0 if none does. */
static uint32_t type_at(const struct sh_mem_range *raw, size_t n, uint64_t addr)
{
	uint32_t best = 0;

	for (size_t i = 0; i < n; i++) {
		if (raw[i].start <= addr && addr < raw[i].end &&
		    normal_type(raw[i].type) > best)
			best = normal_type(raw[i].type);
	}
	return best;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int mmref_normalize(const struct sh_mem_range *raw, size_t n, struct sh_mem_range *out,
		    size_t cap, size_t *total)
{
	if ((raw == NULL && n > 0) || (out == NULL && cap > 0) || total == NULL)
		return SH_MM_EINVAL;
	if (n > SIZE_MAX / (2 * sizeof(uint64_t)))
		return SH_MM_EINVAL;

	/* Every boundary of a non-empty entry, sorted: the type is constant between two. */
	uint64_t *cut = malloc(2 * n * sizeof(uint64_t) + 1);
	size_t ncut = 0;
	if (cut == NULL) {
		(void)fprintf(stderr, "memmap_ref: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if (raw[i].start < raw[i].end) {
			cut[ncut++] = raw[i].start;
			cut[ncut++] = raw[i].end;
		}
	}
	qsort(cut, ncut, sizeof(cut[0]), cmp_u64);

	struct sh_mem_range cur = {0, 0, 0};
	bool have = false, ram = false;
	size_t count = 0;
	for (size_t i = 0; i + 1 < ncut; i++) {
		if (cut[i] == cut[i + 1])
			continue;
		uint32_t t = type_at(raw, n, cut[i]);
		if (have && t == cur.type) {
			cur.end = cut[i + 1]; /* same type, touching: one range */
			continue;
		}
		if (have) {
			if (count < cap)
				out[count] = cur;
			count++;
		}
		have = t != 0;
		cur.start = cut[i];
		cur.end = cut[i + 1];
		cur.type = t;
		if (t == SH_MEM_RAM)
			ram = true;
	}
	if (have) {
		if (count < cap)
			out[count] = cur;
		count++;
	}
	free(cut);
	*total = count;
	if (count > cap)
		return SH_MM_EOVERFLOW;
	return ram ? SH_MM_OK : SH_MM_ENORAM;
}
