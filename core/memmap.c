/* SPDX-License-Identifier: MIT */
/*
 * Memory maps: the normalizer, the multiboot and e820 parsers, the table writers and the
 * reason texts. coreboot tables are in cbtable.c, placement in place.c.
 *
 * Normalization is a sweep: starting at the lowest entry start, each step scans every entry
 * once to find the type at the current address (the highest type of the entries covering
 * it) and the next address where any entry starts or ends. The segment between the two has
 * one type; segments of equal type that touch are merged as they are written. Every step
 * moves to a strictly higher boundary, so there are at most 2n steps of O(n) each, and the
 * entries are read straight from the table: no scratch memory, and the result cannot depend
 * on the order of the entries.
 */
#include "mm_internal.h"

static uint32_t norm_type(uint32_t t)
{
	switch (t) {
	case SH_MEM_RAM:
	case SH_MEM_RESERVED:
	case SH_MEM_ACPI:
	case SH_MEM_NVS:
	case SH_MEM_UNUSABLE:
	case SH_MEM_TABLE:
		return t;
	default:
		return SH_MEM_RESERVED;
	}
}

const char *sh_mem_type_name(uint32_t type)
{
	switch (type) {
	case SH_MEM_RAM:
		return "RAM";
	case SH_MEM_RESERVED:
		return "reserved";
	case SH_MEM_ACPI:
		return "ACPI";
	case SH_MEM_NVS:
		return "NVS";
	case SH_MEM_UNUSABLE:
		return "unusable";
	case SH_MEM_TABLE:
		return "cbtable";
	default:
		return "type?";
	}
}

const char *sh_memmap_strerror(int code)
{
	switch (code) {
	case SH_MM_EINVAL:
		return "SH_MM_EINVAL: invalid argument";
	case SH_MM_ETRUNCATED:
		return "SH_MM_ETRUNCATED: buffer ends inside a table header";
	case SH_MM_ESIGNATURE:
		return "SH_MM_ESIGNATURE: bad signature (no LBIO / tag type not 6)";
	case SH_MM_EHDRSIZE:
		return "SH_MM_EHDRSIZE: header size field smaller than the header";
	case SH_MM_EHDRCHECKSUM:
		return "SH_MM_EHDRCHECKSUM: header checksum does not come to 0";
	case SH_MM_ETBLCHECKSUM:
		return "SH_MM_ETBLCHECKSUM: table checksum mismatch";
	case SH_MM_ETABLE_PAST_BUFFER:
		return "SH_MM_ETABLE_PAST_BUFFER: table runs past the buffer";
	case SH_MM_ERECORD_SHORT:
		return "SH_MM_ERECORD_SHORT: record size smaller than its header";
	case SH_MM_ERECORD_ALIGN:
		return "SH_MM_ERECORD_ALIGN: record size not a multiple of 4";
	case SH_MM_ERECORD_PAST_TABLE:
		return "SH_MM_ERECORD_PAST_TABLE: record runs past the table";
	case SH_MM_ERANGES_PAST_END:
		return "SH_MM_ERANGES_PAST_END: range list runs past its record, tag or buffer";
	case SH_MM_EENTRY_SIZE:
		return "SH_MM_EENTRY_SIZE: entry size too small or misaligned";
	case SH_MM_EFORWARD_OUTSIDE:
		return "SH_MM_EFORWARD_OUTSIDE: forward points outside the memory image";
	case SH_MM_ETOO_MANY_FORWARDS:
		return "SH_MM_ETOO_MANY_FORWARDS: too many forward hops";
	case SH_MM_EFORWARD_LOOP:
		return "SH_MM_EFORWARD_LOOP: forward leads back to a visited table";
	case SH_MM_ENOTFOUND:
		return "SH_MM_ENOTFOUND: no coreboot table header found";
	case SH_MM_ENOMEMTAG:
		return "SH_MM_ENOMEMTAG: table has no memory record (coreboot tag 1 / "
		       "multiboot2 tag 6)";
	case SH_MM_ENORAM:
		return "SH_MM_ENORAM: the map holds no RAM";
	case SH_MM_EOVERFLOW:
		return "SH_MM_EOVERFLOW: output buffer too small";
	case SH_MM_ESIZE:
		return "SH_MM_ESIZE: heap size zero or too large";
	case SH_MM_ENOFIT:
		return "SH_MM_ENOFIT: no RAM range below the limit holds the heap";
	case SH_MM_EADDRESS:
		return "SH_MM_EADDRESS: no pointer for the heap or the loader's data";
	case SH_MM_EFORMAT:
		return "SH_MM_EFORMAT: unknown table format";
	case SH_MM_EMAGIC:
		return "SH_MM_EMAGIC: not the loader's magic number";
	default:
		return sh_strerror(code);
	}
}

void sh_memmap_init(struct sh_memmap *m, struct sh_mem_range *buf, size_t cap)
{
	m->range = buf;
	m->cap = cap;
	m->n = 0;
	m->total = 0;
}

/* One entry {u64 base, u64 length, u32 type} at p. */
static void read_entry(const uint8_t *p, struct sh_mem_range *r)
{
	r->start = mm_rd64(p);
	r->end = mm_end(r->start, mm_rd64(p + 8));
	r->type = mm_rd32(p + 16);
}

bool mm_next(const struct mm_src *s, struct mm_cursor *c, struct sh_mem_range *r)
{
	switch (s->kind) {
	case MM_SRC_ARRAY:
	case MM_SRC_PAINT:
		if (c->off < s->na) {
			*r = s->a[c->off];
		} else if (s->kind == MM_SRC_PAINT && c->off - s->na < s->nb) {
			*r = s->b[c->off - s->na];
			r->type = s->btype;
		} else if (s->kind == MM_SRC_PAINT && s->has_one && c->off - s->na == s->nb) {
			*r = s->one;
			r->type = s->btype;
		} else {
			return false;
		}
		c->off++;
		r->end = r->end < r->start ? r->start : r->end;
		return true;
	case MM_SRC_FLAT:
		while (c->off < s->len && s->len - c->off >= s->esz) {
			const uint8_t *e = s->p + c->off;
			c->off += s->esz;
			if (s->attr && (mm_rd32(e + 20) & 1u) == 0)
				continue;
			read_entry(e, r);
			return true;
		}
		return false;
	case MM_SRC_MB1:
		if (c->off >= s->len)
			return false;
		read_entry(s->p + c->off + 4, r);
		c->off += 4 + (size_t)mm_rd32(s->p + c->off);
		return true;
	case MM_SRC_CB:
		for (;;) {
			if (c->rec_end != 0) {
				if (c->rec_end - c->off >= SH_CB_RANGE_BYTES) {
					read_entry(s->p + c->off, r);
					c->off += SH_CB_RANGE_BYTES;
					return true;
				}
				c->off = c->rec_end;
				c->rec_end = 0;
			}
			if (c->rec >= s->nrec)
				return false;
			uint32_t tag = mm_rd32(s->p + c->off);
			size_t size = (size_t)mm_rd32(s->p + c->off + 4);
			c->rec++;
			if (tag == SH_CB_TAG_MEMORY) {
				c->rec_end = c->off + size;
				c->off += 8;
			} else {
				c->off += size;
			}
		}
	}
	return false;
}

static void emit_range(struct sh_memmap *out, const struct sh_mem_range *r, bool *ram)
{
	if (out->total < out->cap)
		out->range[out->total] = *r;
	out->total++;
	if (r->type == SH_MEM_RAM)
		*ram = true;
}

int mm_normalize(const struct mm_src *s, struct sh_memmap *out)
{
	struct mm_cursor c = {0, 0, 0};
	struct sh_mem_range r, cur = {0, 0, 0};
	bool any = false, have = false, ram = false;
	uint64_t pos = 0;

	out->n = 0;
	out->total = 0;
	while (mm_next(s, &c, &r)) {
		if (r.start < r.end && (!any || r.start < pos)) {
			pos = r.start;
			any = true;
		}
	}
	while (any) {
		uint32_t t = 0;
		uint64_t next = SH_MEM_TOP;
		bool more = false;

		c.off = 0;
		c.rec_end = 0;
		c.rec = 0;
		while (mm_next(s, &c, &r)) {
			if (r.start >= r.end)
				continue;
			if (r.start <= pos && pos < r.end) {
				uint32_t nt = norm_type(r.type);
				t = nt > t ? nt : t;
			}
			if (r.start > pos && r.start <= next) {
				next = r.start;
				more = true;
			}
			if (r.end > pos && r.end <= next) {
				next = r.end;
				more = true;
			}
		}
		if (!more)
			break; /* nothing ends above pos, so nothing covers it */
		if (t == 0) {
			if (have)
				emit_range(out, &cur, &ram);
			have = false;
		} else if (have && cur.type == t) {
			cur.end = next;
		} else {
			if (have)
				emit_range(out, &cur, &ram);
			cur.start = pos;
			cur.end = next;
			cur.type = t;
			have = true;
		}
		pos = next;
	}
	if (have)
		emit_range(out, &cur, &ram);
	out->n = out->total < out->cap ? out->total : out->cap;
	if (out->total > out->cap)
		return SH_MM_EOVERFLOW;
	return ram ? SH_MM_OK : SH_MM_ENORAM;
}

int mm_collect(const struct mm_src *s, struct sh_mem_range *raw, size_t cap, size_t *n)
{
	struct mm_cursor c = {0, 0, 0};
	struct sh_mem_range r;
	size_t k = 0;

	while (mm_next(s, &c, &r)) {
		if (k < cap)
			raw[k] = r;
		k++;
	}
	*n = k;
	return k > cap ? SH_MM_EOVERFLOW : SH_MM_OK;
}

static bool out_ok(const struct sh_memmap *out)
{
	return out != NULL && out->range != NULL && out->cap > 0;
}

int sh_memmap_normalize(const struct sh_mem_range *raw, size_t n, struct sh_memmap *out)
{
	struct mm_src s;

	mm_src_init(&s, MM_SRC_ARRAY);
	s.a = raw;
	s.na = n;
	if (!out_ok(out) || (raw == NULL && n > 0))
		return SH_MM_EINVAL;
	return mm_normalize(&s, out);
}

static int mb1_src(const uint8_t *p, size_t len, struct mm_src *s)
{
	size_t off = 0;

	while (off < len) {
		if (len - off < 4)
			return SH_MM_ERANGES_PAST_END;
		uint32_t size = mm_rd32(p + off);
		if (size < 20)
			return SH_MM_EENTRY_SIZE;
		if ((size_t)size > len - off - 4)
			return SH_MM_ERANGES_PAST_END;
		off += 4 + (size_t)size;
	}
	s->kind = MM_SRC_MB1;
	s->p = p;
	s->len = len;
	return SH_MM_OK;
}

static int mb2_src(const uint8_t *p, size_t len, struct mm_src *s)
{
	if (len < 16)
		return SH_MM_ETRUNCATED;
	if (mm_rd32(p) != SH_MB2_TAG_MMAP)
		return SH_MM_ESIGNATURE;
	uint32_t size = mm_rd32(p + 4), esz = mm_rd32(p + 8);
	if (size < 16)
		return SH_MM_EHDRSIZE;
	if ((size_t)size > len)
		return SH_MM_ETABLE_PAST_BUFFER;
	if (esz < 24 || esz % 8 != 0)
		return SH_MM_EENTRY_SIZE;
	if ((size - 16) % esz != 0)
		return SH_MM_ERANGES_PAST_END;
	s->kind = MM_SRC_FLAT;
	s->p = p + 16;
	s->len = (size_t)size - 16;
	s->esz = esz;
	s->attr = false;
	return SH_MM_OK;
}

static int mb2info_src(const uint8_t *p, size_t len, struct mm_src *s)
{
	if (len < 8)
		return SH_MM_ETRUNCATED;
	uint32_t total = mm_rd32(p);
	if (total < 8)
		return SH_MM_EHDRSIZE;
	if ((size_t)total > len)
		return SH_MM_ETABLE_PAST_BUFFER;
	size_t off = 8;
	while (total - off >= 8) {
		uint32_t type = mm_rd32(p + off), size = mm_rd32(p + off + 4);
		if (size < 8)
			return SH_MM_ERECORD_SHORT;
		if ((size_t)size > total - off)
			return SH_MM_ERECORD_PAST_TABLE;
		if (type == 0)
			break;
		if (type == SH_MB2_TAG_MMAP)
			return mb2_src(p + off, size, s);
		/* tags start 8-byte aligned; past the last tag the walk ends */
		size_t step = ((size_t)size + 7) & ~(size_t)7;
		if (step > total - off)
			break;
		off += step;
	}
	return SH_MM_ENOMEMTAG;
}

static int e820_src(const uint8_t *p, size_t len, size_t esz, struct mm_src *s)
{
	if (esz != 20 && esz != 24)
		return SH_MM_EINVAL;
	if (len % esz != 0)
		return SH_MM_ERANGES_PAST_END;
	s->kind = MM_SRC_FLAT;
	s->p = p;
	s->len = len;
	s->esz = esz;
	s->attr = esz == 24;
	return SH_MM_OK;
}

/* Validates buf in format fmt and points s at its entries. */
static int format_src(enum sh_mm_format fmt, const uint8_t *p, size_t len, struct mm_src *s)
{
	switch (fmt) {
	case SH_FMT_CBTABLE:
		return mm_cb_resolve(p, len, 0, 0, s, NULL);
	case SH_FMT_MB1:
		return mb1_src(p, len, s);
	case SH_FMT_MB2:
		return mb2_src(p, len, s);
	case SH_FMT_E820:
		return e820_src(p, len, 20, s);
	case SH_FMT_E820_24:
		return e820_src(p, len, 24, s);
	case SH_FMT_MB2INFO:
		return mb2info_src(p, len, s);
	case SH_FMT_CBIMAGE: {
		uint64_t table;
		int rc = sh_cb_find(p, len, 0, &table);
		return rc != SH_MM_OK ? rc : mm_cb_resolve(p, len, 0, table, s, NULL);
	}
	}
	return SH_MM_EFORMAT;
}

int sh_mb1_parse(const void *buf, size_t len, struct sh_memmap *out)
{
	return sh_memmap_parse(SH_FMT_MB1, buf, len, out);
}

int sh_mb2_parse(const void *buf, size_t len, struct sh_memmap *out)
{
	return sh_memmap_parse(SH_FMT_MB2, buf, len, out);
}

int sh_mb2_parse_info(const void *buf, size_t len, struct sh_memmap *out)
{
	return sh_memmap_parse(SH_FMT_MB2INFO, buf, len, out);
}

int sh_e820_parse(const void *buf, size_t len, size_t entry_size, struct sh_memmap *out)
{
	if (entry_size != 20 && entry_size != 24)
		return SH_MM_EINVAL;
	return sh_memmap_parse(entry_size == 20 ? SH_FMT_E820 : SH_FMT_E820_24, buf, len, out);
}

int sh_memmap_parse(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_memmap *out)
{
	struct mm_src s;
	int rc;

	mm_src_init(&s, MM_SRC_ARRAY);
	if (!out_ok(out) || buf == NULL)
		return SH_MM_EINVAL;
	out->n = 0;
	out->total = 0;
	rc = format_src(fmt, buf, len, &s);
	return rc != SH_MM_OK ? rc : mm_normalize(&s, out);
}

int sh_memmap_raw(enum sh_mm_format fmt, const void *buf, size_t len, struct sh_mem_range *raw,
		  size_t cap, size_t *n)
{
	struct mm_src s;
	int rc;

	mm_src_init(&s, MM_SRC_ARRAY);
	if (buf == NULL || n == NULL || (raw == NULL && cap > 0))
		return SH_MM_EINVAL;
	*n = 0;
	rc = format_src(fmt, buf, len, &s);
	return rc != SH_MM_OK ? rc : mm_collect(&s, raw, cap, n);
}

int sh_memmap_reserve(const struct sh_memmap *in, const struct sh_mem_range *rs, size_t nrs,
		      struct sh_memmap *out)
{
	struct mm_src s;

	mm_src_init(&s, MM_SRC_PAINT);
	if (in == NULL || (in->range == NULL && in->n > 0) || (rs == NULL && nrs > 0) ||
	    !out_ok(out) || out->range == in->range)
		return SH_MM_EINVAL;
	s.a = in->range;
	s.na = in->n;
	s.b = rs;
	s.nb = nrs;
	s.btype = SH_MEM_RESERVED;
	return mm_normalize(&s, out);
}

uint32_t sh_memmap_type_at(const struct sh_memmap *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sh_mem_range *r = &m->range[mid];
		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return r->type;
	}
	return 0;
}

/* The table writers. */

static void put_entry(uint8_t *p, const struct sh_mem_range *r)
{
	mm_wr64(p, r->start);
	mm_wr64(p + 8, r->end - r->start);
	mm_wr32(p + 16, r->type);
}

/* Bytes of a table with a head-byte header and n entries of esz bytes; 0 if it overflows
 * size_t or limit. */
static size_t table_bytes(size_t head, size_t esz, size_t n, uint64_t limit)
{
	if (n > (SIZE_MAX - head) / esz)
		return 0;
	size_t total = head + n * esz;
	return (uint64_t)total > limit ? 0 : total;
}

/* Writes an LBIO header at h for the table_bytes of records already written after it: both
 * checksums come out right. */
static void put_cb_header(uint8_t *h, uint32_t table_bytes, uint32_t entries)
{
	h[0] = 'L';
	h[1] = 'B';
	h[2] = 'I';
	h[3] = 'O';
	mm_wr32(h + 4, SH_CB_HEADER_BYTES);
	mm_wr32(h + 8, 0);
	mm_wr32(h + 12, table_bytes);
	mm_wr32(h + 16, sh_cb_checksum(h + SH_CB_HEADER_BYTES, table_bytes));
	mm_wr32(h + 20, entries);
	mm_wr32(h + 8, sh_cb_checksum(h, SH_CB_HEADER_BYTES));
}

/* The SH_FMT_CBIMAGE layout: zeros, a forward table low, the real table high. */
static int emit_image(const struct sh_memmap *m, uint8_t *p, size_t cap, size_t *len)
{
	size_t tlen, i;
	int rc;

	if (cap < SH_CBIMAGE_HIGH)
		return SH_MM_EOVERFLOW;
	rc = sh_memmap_emit(SH_FMT_CBTABLE, m, p + SH_CBIMAGE_HIGH, cap - SH_CBIMAGE_HIGH,
			    &tlen);
	if (rc != SH_MM_OK)
		return rc;
	/* volatile: a plain zeroing loop may be turned into a call to memset */
	for (i = 0; i < SH_CBIMAGE_HIGH; i++)
		((volatile uint8_t *)p)[i] = 0;
	uint8_t *f = p + SH_CBIMAGE_LOW;
	mm_wr32(f + 24, SH_CB_TAG_FORWARD);
	mm_wr32(f + 28, 16);
	mm_wr64(f + 32, SH_CBIMAGE_HIGH);
	put_cb_header(f, 16, 1);
	*len = SH_CBIMAGE_HIGH + tlen;
	return SH_MM_OK;
}

/* Multiboot2 boot information: header, the memory-map tag, the end tag. */
static int emit_mb2info(const struct sh_memmap *m, uint8_t *p, size_t cap, size_t *len)
{
	size_t tlen;
	int rc;

	if (cap < 16)
		return SH_MM_EOVERFLOW;
	rc = sh_memmap_emit(SH_FMT_MB2, m, p + 8, cap - 16, &tlen);
	if (rc != SH_MM_OK)
		return rc;
	if (tlen > UINT32_MAX - 16) /* the tag is 16 + 24 n bytes: already 8-byte aligned */
		return SH_MM_EOVERFLOW;
	mm_wr32(p, (uint32_t)(tlen + 16));
	mm_wr32(p + 4, 0);
	mm_wr32(p + 8 + tlen, 0);
	mm_wr32(p + 12 + tlen, 8);
	*len = tlen + 16;
	return SH_MM_OK;
}

int sh_memmap_emit(enum sh_mm_format fmt, const struct sh_memmap *m, void *out, size_t cap,
		   size_t *len)
{
	uint8_t *p = out;
	size_t head, esz, total, i;

	if (m == NULL || (m->range == NULL && m->n > 0) || out == NULL || len == NULL)
		return SH_MM_EINVAL;
	*len = 0;
	if (fmt == SH_FMT_CBIMAGE)
		return emit_image(m, p, cap, len);
	if (fmt == SH_FMT_MB2INFO)
		return emit_mb2info(m, p, cap, len);
	switch (fmt) {
	case SH_FMT_CBTABLE:
		head = SH_CB_HEADER_BYTES + 8;
		esz = SH_CB_RANGE_BYTES;
		break;
	case SH_FMT_MB1:
		head = 0;
		esz = 24;
		break;
	case SH_FMT_MB2:
		head = 16;
		esz = 24;
		break;
	case SH_FMT_E820:
		head = 0;
		esz = 20;
		break;
	case SH_FMT_E820_24:
		head = 0;
		esz = 24;
		break;
	default:
		return SH_MM_EFORMAT;
	}
	total = table_bytes(head, esz, m->n, UINT32_MAX);
	if (total == 0 && m->n > 0)
		return SH_MM_EOVERFLOW;
	if (total > cap)
		return SH_MM_EOVERFLOW;
	for (i = 0; i < m->n; i++) {
		uint8_t *e = p + head + i * esz;
		if (fmt == SH_FMT_MB1) {
			mm_wr32(e, 20);
			e += 4;
		}
		put_entry(e, &m->range[i]);
		if (fmt == SH_FMT_MB2)
			mm_wr32(e + 20, 0);
		if (fmt == SH_FMT_E820_24)
			mm_wr32(e + 20, 1); /* ACPI 3.0: enabled */
	}
	if (fmt == SH_FMT_MB2) {
		mm_wr32(p, SH_MB2_TAG_MMAP);
		mm_wr32(p + 4, (uint32_t)total);
		mm_wr32(p + 8, 24);
		mm_wr32(p + 12, 0);
	} else if (fmt == SH_FMT_CBTABLE) {
		uint32_t tbytes = (uint32_t)(total - SH_CB_HEADER_BYTES);
		mm_wr32(p + 24, SH_CB_TAG_MEMORY);
		mm_wr32(p + 28, tbytes);
		put_cb_header(p, tbytes, 1);
	}
	*len = total;
	return SH_MM_OK;
}
