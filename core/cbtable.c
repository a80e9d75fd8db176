/* SPDX-License-Identifier: MIT */
/*
 * coreboot tables: header search, validation, forward records and the checksum.
 *
 * A table is a 24-byte header
 *
 *   "LBIO" | header_bytes | header_checksum | table_bytes | table_checksum | table_entries
 *
 * followed, header_bytes after its start, by table_bytes of records {u32 tag, u32 size,
 * payload}, size counting the 8-byte record header. The header checksum is chosen so that
 * the internet checksum of the 24 header bytes, that field included, is 0; table_checksum
 * is the internet checksum of the table_bytes. coreboot keeps a small table low in memory
 * whose only record is LB_TAG_FORWARD, pointing at the real table higher up.
 *
 * Everything is checked against the memory image before it is read; forwards are followed
 * at most SH_CB_MAX_FORWARDS times and never back to a table already seen.
 */
#include "mm_internal.h"

uint16_t sh_cb_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		sum += (i & 1) != 0 ? (uint32_t)p[i] << 8 : (uint32_t)p[i];
		if (sum > 0xffffu)
			sum = (sum & 0xffffu) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static bool is_lbio(const uint8_t *p)
{
	return p[0] == 'L' && p[1] == 'B' && p[2] == 'I' && p[3] == 'O';
}

/* Offset of physical [addr, addr + need) in the image, or false if it is not all inside. */
static bool image_offset(size_t len, uint64_t base, uint64_t addr, size_t need, size_t *off)
{
	if (addr < base || addr - base > (uint64_t)len)
		return false;
	*off = (size_t)(addr - base);
	return len - *off >= need;
}

/* Checks the records of one table; sets *fwd / *target for the first forward record. */
static int walk_records(const uint8_t *tp, size_t tb, uint32_t n, bool *fwd, uint64_t *target,
			bool *mem)
{
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (tb - off < 8)
			return SH_MM_ERECORD_PAST_TABLE;
		uint32_t tag = mm_rd32(tp + off), size = mm_rd32(tp + off + 4);
		if (size < 8)
			return SH_MM_ERECORD_SHORT;
		if (size % 4 != 0)
			return SH_MM_ERECORD_ALIGN;
		if ((size_t)size > tb - off)
			return SH_MM_ERECORD_PAST_TABLE;
		if (tag == SH_CB_TAG_MEMORY) {
			if ((size - 8) % SH_CB_RANGE_BYTES != 0)
				return SH_MM_ERANGES_PAST_END;
			*mem = true;
		} else if (tag == SH_CB_TAG_FORWARD) {
			if (size < 16)
				return SH_MM_ERECORD_SHORT;
			if (!*fwd)
				*target = mm_rd64(tp + off + 8);
			*fwd = true;
		}
		off += size;
	}
	return SH_MM_OK;
}

int mm_cb_resolve(const uint8_t *img, size_t len, uint64_t base, uint64_t table,
		  struct mm_src *s, uint64_t *found)
{
	uint64_t visited[SH_CB_MAX_FORWARDS + 1];
	unsigned hops = 0, j;

	for (;;) {
		size_t off;
		if (!image_offset(len, base, table, SH_CB_HEADER_BYTES, &off))
			return hops == 0 ? SH_MM_ETRUNCATED : SH_MM_EFORWARD_OUTSIDE;
		const uint8_t *p = img + off;
		size_t avail = len - off;
		if (!is_lbio(p))
			return SH_MM_ESIGNATURE;
		uint32_t hb = mm_rd32(p + 4), tb = mm_rd32(p + 12), n = mm_rd32(p + 20);
		if (hb < SH_CB_HEADER_BYTES)
			return SH_MM_EHDRSIZE;
		if (sh_cb_checksum(p, SH_CB_HEADER_BYTES) != 0)
			return SH_MM_EHDRCHECKSUM;
		if ((size_t)hb > avail || (size_t)tb > avail - hb)
			return SH_MM_ETABLE_PAST_BUFFER;
		const uint8_t *tp = p + hb;
		if (mm_rd32(p + 16) != sh_cb_checksum(tp, tb))
			return SH_MM_ETBLCHECKSUM;

		bool fwd = false, mem = false;
		uint64_t target = 0;
		int rc = walk_records(tp, tb, n, &fwd, &target, &mem);
		if (rc != SH_MM_OK)
			return rc;
		if (fwd) {
			visited[hops] = table;
			for (j = 0; j <= hops; j++) {
				if (visited[j] == target)
					return SH_MM_EFORWARD_LOOP;
			}
			if (hops == SH_CB_MAX_FORWARDS)
				return SH_MM_ETOO_MANY_FORWARDS;
			hops++;
			table = target;
			continue;
		}
		if (!mem)
			return SH_MM_ENOMEMTAG;
		s->kind = MM_SRC_CB;
		s->p = tp;
		s->len = tb;
		s->nrec = n;
		if (found != NULL)
			*found = table;
		return SH_MM_OK;
	}
}

int sh_cb_parse(const void *image, size_t len, uint64_t base, uint64_t table,
		struct sh_memmap *out, uint64_t *found)
{
	struct mm_src s;
	int rc;

	mm_src_init(&s, MM_SRC_ARRAY);
	if (image == NULL || out == NULL || out->range == NULL || out->cap == 0)
		return SH_MM_EINVAL;
	out->n = 0;
	out->total = 0;
	rc = mm_cb_resolve(image, len, base, table, &s, found);
	return rc != SH_MM_OK ? rc : mm_normalize(&s, out);
}

int sh_cb_find(const void *image, size_t len, uint64_t base, uint64_t *table)
{
	static const uint64_t windows[2][2] = {{0, 0x1000}, {0xf0000, 0x100000}};
	const uint8_t *img = image;
	unsigned w;

	if (image == NULL || table == NULL)
		return SH_MM_EINVAL;
	for (w = 0; w < 2; w++) {
		uint64_t a = windows[w][0], hi = windows[w][1];
		if (a < base) {
			if (base >= hi)
				continue;
			a = (base + 15) & ~(uint64_t)15;
		}
		for (; a < hi; a += 16) {
			size_t off;
			if (!image_offset(len, base, a, SH_CB_HEADER_BYTES, &off))
				break;
			if (is_lbio(img + off) &&
			    mm_rd32(img + off + 4) >= SH_CB_HEADER_BYTES &&
			    sh_cb_checksum(img + off, SH_CB_HEADER_BYTES) == 0) {
				*table = a;
				return SH_MM_OK;
			}
		}
	}
	return SH_MM_ENOTFOUND;
}
