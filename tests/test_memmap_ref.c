/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the reference reader of memory tables (ref/memmap_ref.h): hand-made tables
 * of every format with the entries they must give, every reason code the reader returns,
 * the order of reasons where several apply, the header search and normalization by
 * definition. The reference is tested on its own here (no core/ calls), so that the fuzzer's
 * comparison of the two rests on a reader that is known to follow core/memmap.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "memmap_ref.h"
#include "memmap_util.h"

#define CAP 64
static struct sh_mem_range raw[CAP];
static uint8_t img[0x2000];

static void put_ent(uint8_t *p, const struct ent *e)
{
	le64(p, e->start);
	le64(p + 8, e->size);
	le32(p + 16, e->type);
}

static const struct ent three[] = {
	{0, 0x9f000, 1}, {0x100000, 0x7ff00000, 1}, {0xfec00000, 0x1000, 2}};

/* The builders of tests/memmap_util.h, but with the reference's checksum: cbb_end and
 * cb_fix_header there call core's. */
static void fix_header(uint8_t *p)
{
	le32(p + 8, 0);
	le32(p + 8, mmref_checksum(p, 24));
}

/* Writes the header, both checksums right; returns the table's length. */
static size_t ref_cb_end(struct cbb *c)
{
	uint32_t tb = (uint32_t)(c->off - 24);
	memcpy(c->p, "LBIO", 4);
	le32(c->p + 4, 24);
	le32(c->p + 12, tb);
	le32(c->p + 16, mmref_checksum(c->p + 24, tb));
	le32(c->p + 20, c->n);
	fix_header(c->p);
	return c->off;
}

static size_t ref_cb_table(uint8_t *p, const struct ent *e, size_t n)
{
	struct cbb c;
	cbb_begin(&c, p);
	cbb_mem(&c, e, n);
	return ref_cb_end(&c);
}

static int read_fmt(enum sh_mm_format fmt, const uint8_t *b, size_t len, size_t *n)
{
	return mmref_raw(fmt, b, len, raw, CAP, n);
}

static void expect(size_t i, uint64_t start, uint64_t end, uint32_t type)
{
	assert_int_equal(raw[i].start, start);
	assert_int_equal(raw[i].end, end);
	assert_int_equal(raw[i].type, type);
}

static void expect_three(size_t n)
{
	assert_int_equal(n, 3);
	expect(0, 0, 0x9f000, 1);
	expect(1, 0x100000, 0x80000000, 1);
	expect(2, 0xfec00000, 0xfec01000, 2);
}

/* --- the checksum ----------------------------------------------------------------------- */

static void test_checksum(void **state)
{
	(void)state;
	/* RFC 1071's example bytes; read as little-endian words they sum to 0xf2dd. */
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(mmref_checksum(b, sizeof(b)), 0x0d22);
	assert_int_equal(mmref_checksum(b, 0), 0xffff);
	static const uint8_t odd[] = {0x12, 0x34, 0x56}; /* 0x3412 + 0x0056 */
	assert_int_equal(mmref_checksum(odd, 3), (uint16_t)~0x3468);
	static const uint8_t ff[] = {0xff, 0xff, 0xff,
				     0xff, 0x01, 0x00}; /* carries fold back */
	assert_int_equal(mmref_checksum(ff, 6), (uint16_t)~0x0001);
	/* a header with its checksum field filled in sums to 0 */
	size_t len = ref_cb_table(img, three, 3);
	assert_int_equal(mmref_checksum(img, 24), 0);
	assert_int_equal(get32(img + 16), mmref_checksum(img + 24, len - 24));
}

/* --- good tables of every format ----------------------------------------------------- */

static void test_cbtable(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_OK);
	expect_three(n);
	/* trailing bytes after the table and records beyond table_entries are not read */
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len + 100, &n), SH_MM_OK);
	assert_int_equal(n, 3);
	/* two memory records and an unknown one: entries in table order */
	struct cbb c;
	const struct ent lo[] = {{0x1000, 0x1000, 7}};
	cbb_begin(&c, img);
	cbb_mem(&c, three + 2, 1);
	cbb_rec(&c, 0x40, 12, 12);
	cbb_mem(&c, lo, 1);
	len = ref_cb_end(&c);
	uint64_t found = 1;
	assert_int_equal(mmref_cb_raw(img, len, 0, 0, raw, CAP, &n, &found), SH_MM_OK);
	assert_int_equal(found, 0);
	assert_int_equal(n, 2);
	expect(0, 0xfec00000, 0xfec01000, 2);
	expect(1, 0x1000, 0x2000, 7);
	/* a memory record with no ranges counts as one */
	cbb_begin(&c, img);
	cbb_mem(&c, NULL, 0);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_OK);
	assert_int_equal(n, 0);
}

static void test_cb_image_base_and_odd_offset(void **state)
{
	(void)state;
	/* the image holds physical 0xf0000 on; the table sits at an odd address */
	size_t n;
	uint64_t found;
	memset(img, 0, sizeof(img));
	ref_cb_table(img + 0x103, three, 3);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0xf0000, 0xf0103, raw, CAP, &n, &found),
			 SH_MM_OK);
	expect_three(n);
	assert_int_equal(found, 0xf0103);
}

static void test_cb_forwards(void **state)
{
	(void)state;
	struct cbb c;
	size_t n;
	uint64_t found = 0;
	memset(img, 0, sizeof(img));
	/* coreboot's layout: a low table whose only record forwards to the real one */
	cbb_begin(&c, img + 0x500);
	cbb_fwd(&c, 0x1000);
	ref_cb_end(&c);
	ref_cb_table(img + 0x1000, three, 3);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x500, raw, CAP, &n, &found),
			 SH_MM_OK);
	assert_int_equal(found, 0x1000);
	expect_three(n);
	assert_int_equal(read_fmt(SH_FMT_CBIMAGE, img, sizeof(img), &n), SH_MM_OK);
	expect_three(n);
	/* memory and forward in one table: the forward wins; only the first forward counts */
	const struct ent other[] = {{0x5000, 0x1000, 1}};
	cbb_begin(&c, img + 0x100);
	cbb_mem(&c, other, 1);
	cbb_fwd(&c, 0x1000);
	cbb_fwd(&c, 0x700);
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, &found),
			 SH_MM_OK);
	assert_int_equal(found, 0x1000);
	expect_three(n);
}

static void test_mb1(void **state)
{
	(void)state;
	uint8_t b[128] = {0};
	size_t n;
	/* size 28 (8 bytes of padding that are not read), then size 20 */
	le32(b, 28);
	put_ent(b + 4, &three[0]);
	le32(b + 24, 0xffffffff);
	le32(b + 28, 0xffffffff);
	le32(b + 32, 20);
	put_ent(b + 36, &three[1]);
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 56, &n), SH_MM_OK);
	assert_int_equal(n, 2);
	expect(0, 0, 0x9f000, 1);
	expect(1, 0x100000, 0x80000000, 1);
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 0, &n), SH_MM_OK); /* empty buffer */
	assert_int_equal(n, 0);
}

static size_t mb2_tag(uint8_t *b, uint32_t esz, const struct ent *e, size_t n)
{
	size_t size = 16 + esz * n;
	memset(b, 0xee, size);
	le32(b, 6);
	le32(b + 4, (uint32_t)size);
	le32(b + 8, esz);
	le32(b + 12, 1);
	for (size_t i = 0; i < n; i++)
		put_ent(b + 16 + esz * i, &e[i]);
	return size;
}

static void test_mb2(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n, len = mb2_tag(b, 24, three, 3);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_OK);
	expect_three(n);
	/* entry_size 32, any entry_version, bytes after the tag ignored */
	len = mb2_tag(b, 32, three, 3);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len + 5, &n), SH_MM_OK);
	expect_three(n);
}

/* Boot information: header, a 13-byte cmdline tag (padded to 16), the mmap tag, end tag. */
static size_t mb2info(uint8_t *b)
{
	memset(b, 0, 256);
	le32(b + 8, 1);
	le32(b + 12, 13);
	memcpy(b + 16, "quiet", 5);
	size_t t = mb2_tag(b + 24, 24, three, 3);
	le32(b + 24 + t, 0);
	le32(b + 28 + t, 8);
	le32(b, (uint32_t)(24 + t + 8));
	return 24 + t + 8;
}

static void test_mb2info(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n, len = mb2info(b);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_OK);
	expect_three(n);
}

static void test_e820(void **state)
{
	(void)state;
	uint8_t b[128] = {0};
	size_t n;
	for (int i = 0; i < 3; i++)
		put_ent(b + 20 * i, &three[i]);
	assert_int_equal(read_fmt(SH_FMT_E820, b, 60, &n), SH_MM_OK);
	expect_three(n);
	/* 24-byte entries: attribute bit 0 clear means the entry is ignored */
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 3; i++) {
		put_ent(b + 24 * i, &three[i]);
		le32(b + 24 * i + 20, i == 1 ? 2u : 3u);
	}
	assert_int_equal(read_fmt(SH_FMT_E820_24, b, 72, &n), SH_MM_OK);
	assert_int_equal(n, 2);
	expect(1, 0xfec00000, 0xfec01000, 2);
	assert_int_equal(read_fmt(SH_FMT_E820, b, 0, &n), SH_MM_OK);
	assert_int_equal(n, 0);
}

static void test_clamp_and_empty_entries(void **state)
{
	(void)state;
	const struct ent e[] = {
		{UINT64_C(0xffffffffffff0000), 0x20000, 1}, /* passes 2^64 */
		{UINT64_C(0xfffffffffffff000), 0x1000, 2},  /* reaches 2^64 exactly */
		{UINT64_MAX, 5, 2},			    /* starts at the top */
		{0x1000, 0, 1},				    /* empty: kept in the raw list */
		{0x2000, UINT64_MAX, 3},
	};
	size_t n, len = ref_cb_table(img, e, 5);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_OK);
	assert_int_equal(n, 5);
	expect(0, UINT64_C(0xffffffffffff0000), SH_MEM_TOP, 1);
	expect(1, UINT64_C(0xfffffffffffff000), SH_MEM_TOP, 2);
	expect(2, SH_MEM_TOP, SH_MEM_TOP, 2);
	expect(3, 0x1000, 0x1000, 1);
	expect(4, 0x2000, SH_MEM_TOP, 3);
}

/* --- every reason code ---------------------------------------------------------------- */

static void test_einval_eformat(void **state)
{
	(void)state;
	uint8_t b[8] = {0};
	size_t n, total;
	uint64_t t;
	assert_int_equal(mmref_raw(SH_FMT_E820, NULL, 0, raw, CAP, &n), SH_MM_EINVAL);
	assert_int_equal(mmref_raw(SH_FMT_E820, b, 0, raw, CAP, NULL), SH_MM_EINVAL);
	assert_int_equal(mmref_raw(SH_FMT_E820, b, 0, NULL, 1, &n), SH_MM_EINVAL);
	assert_int_equal(mmref_cb_raw(NULL, 0, 0, 0, raw, CAP, &n, NULL), SH_MM_EINVAL);
	assert_int_equal(mmref_cb_find(NULL, 0, 0, &t), SH_MM_EINVAL);
	assert_int_equal(mmref_cb_find(b, 8, 0, NULL), SH_MM_EINVAL);
	assert_int_equal(mmref_normalize(NULL, 1, raw, CAP, &total), SH_MM_EINVAL);
	assert_int_equal(mmref_normalize(raw, 0, raw, CAP, NULL), SH_MM_EINVAL);
	assert_int_equal(mmref_raw((enum sh_mm_format)0, b, 8, raw, CAP, &n), SH_MM_EFORMAT);
	assert_int_equal(mmref_raw((enum sh_mm_format)8, b, 8, raw, CAP, &n), SH_MM_EFORMAT);
}

static void test_etruncated(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, 23, &n), SH_MM_ETRUNCATED);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, 0, &n), SH_MM_ETRUNCATED);
	assert_int_equal(mmref_cb_raw(img, len, 0x1000, 0x10, raw, CAP, &n, NULL),
			 SH_MM_ETRUNCATED); /* below the image */
	assert_int_equal(mmref_cb_raw(img, len, 0, len - 8, raw, CAP, &n, NULL),
			 SH_MM_ETRUNCATED); /* straddles its end */
	assert_int_equal(mmref_cb_raw(img, len, 0, UINT64_MAX, raw, CAP, &n, NULL),
			 SH_MM_ETRUNCATED);
	uint8_t b[256];
	len = mb2_tag(b, 24, three, 3);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, 15, &n), SH_MM_ETRUNCATED);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, 7, &n), SH_MM_ETRUNCATED);
	/* a type-6 tag in boot information is read as a buffer of its own size */
	len = mb2info(b);
	le32(b + 28, 12);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ETRUNCATED);
}

static void test_esignature(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	img[3] = 'X';
	fix_header(img);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ESIGNATURE);
	uint8_t b[256];
	len = mb2_tag(b, 24, three, 3);
	le32(b, 7);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_ESIGNATURE);
}

static void test_ehdrsize(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	le32(img + 4, 20);
	fix_header(img);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_EHDRSIZE);
	uint8_t b[256];
	len = mb2_tag(b, 24, three, 3);
	le32(b + 4, 15);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_EHDRSIZE);
	len = mb2info(b);
	le32(b, 7);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_EHDRSIZE);
}

static void test_ehdrchecksum_etblchecksum(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	img[20] ^= 1; /* table_entries edited, header checksum left as it was */
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_EHDRCHECKSUM);
	img[20] ^= 1;
	img[len - 1] ^= 0x10; /* a range's type */
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ETBLCHECKSUM);
	img[len - 1] ^= 0x10;
	le32(img + 16, get32(img + 16) | 0x10000); /* the field's upper half must be 0 */
	fix_header(img);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ETBLCHECKSUM);
}

static void test_etable_past_buffer(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len - 1, &n), SH_MM_ETABLE_PAST_BUFFER);
	le32(img + 4, UINT32_MAX); /* header_bytes huge */
	fix_header(img);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ETABLE_PAST_BUFFER);
	uint8_t b[256];
	len = mb2_tag(b, 24, three, 3);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len - 1, &n), SH_MM_ETABLE_PAST_BUFFER);
	len = mb2info(b);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len - 1, &n), SH_MM_ETABLE_PAST_BUFFER);
}

static void test_erecord_reasons(void **state)
{
	(void)state;
	struct cbb c;
	size_t n, len;
	/* shorter than its header */
	cbb_begin(&c, img);
	cbb_rec(&c, 0x99, 4, 8);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_SHORT);
	/* a forward record with no room for its address */
	cbb_begin(&c, img);
	cbb_rec(&c, SH_CB_TAG_FORWARD, 12, 12);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_SHORT);
	/* size not a multiple of 4; for a forward too, before its own minimum */
	cbb_begin(&c, img);
	cbb_rec(&c, 0x99, 10, 12);
	cbb_mem(&c, three, 3);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_ALIGN);
	cbb_begin(&c, img);
	cbb_rec(&c, SH_CB_TAG_FORWARD, 10, 16);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_ALIGN);
	/* a record running past table_bytes, even a forward shorter than 16 */
	cbb_begin(&c, img);
	cbb_mem(&c, three, 3);
	cbb_rec(&c, 0x99, 64, 16);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_PAST_TABLE);
	cbb_begin(&c, img);
	cbb_rec(&c, SH_CB_TAG_FORWARD, 12, 8);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_PAST_TABLE);
	/* table_entries promising more records than the table holds */
	len = ref_cb_table(img, three, 3);
	le32(img + 20, 2);
	fix_header(img);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERECORD_PAST_TABLE);
	/* multiboot2 boot information: a tag shorter than 8, a tag past total_size */
	uint8_t b[256];
	len = mb2info(b);
	le32(b + 12, 4);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ERECORD_SHORT);
	le32(b + 12, 200);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ERECORD_PAST_TABLE);
}

static void test_eranges_past_end(void **state)
{
	(void)state;
	struct cbb c;
	size_t n, len;
	cbb_begin(&c, img);
	uint8_t *q = cbb_rec(&c, SH_CB_TAG_MEMORY, 8 + 20 + 12, 8 + 20 + 12);
	put_ent(q, &three[0]);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ERANGES_PAST_END);
	uint8_t b[256] = {0};
	assert_int_equal(read_fmt(SH_FMT_E820, b, 30, &n), SH_MM_ERANGES_PAST_END);
	assert_int_equal(read_fmt(SH_FMT_E820_24, b, 40, &n), SH_MM_ERANGES_PAST_END);
	le32(b, 20);
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 22, &n), SH_MM_ERANGES_PAST_END);
	le32(b + 24, 20);
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 26, &n), SH_MM_ERANGES_PAST_END); /* 2 stray */
	le32(b, 0xfffffffc); /* 4 + size wraps in 32 bits */
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 48, &n), SH_MM_ERANGES_PAST_END);
	len = mb2_tag(b, 24, three, 3);
	le32(b + 4, (uint32_t)len - 8);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_ERANGES_PAST_END);
}

static void test_eentry_size(void **state)
{
	(void)state;
	uint8_t b[256] = {0};
	size_t n, len;
	le32(b, 16);
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 40, &n), SH_MM_EENTRY_SIZE);
	le32(b, 16); /* too small beats "past the end" for the same entry */
	assert_int_equal(read_fmt(SH_FMT_MB1, b, 10, &n), SH_MM_EENTRY_SIZE);
	len = mb2_tag(b, 24, three, 1);
	le32(b + 8, 20);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_EENTRY_SIZE);
	le32(b + 8, 28);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_EENTRY_SIZE);
	le32(b + 8, 0);
	assert_int_equal(read_fmt(SH_FMT_MB2, b, len, &n), SH_MM_EENTRY_SIZE);
}

static void test_eforward_outside(void **state)
{
	(void)state;
	struct cbb c;
	size_t n;
	memset(img, 0, sizeof(img));
	cbb_begin(&c, img + 0x500);
	cbb_fwd(&c, 0x10000000);
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x500, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	cbb_begin(&c, img + 0x500);
	cbb_fwd(&c, sizeof(img) - 8); /* the target's header would straddle the end */
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x500, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	cbb_begin(&c, img + 0x500);
	cbb_fwd(&c, 0x100); /* below an image that holds physical 0x400 on */
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0x400, 0x900, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	/* a target inside the image that is not a table is read as one */
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x500, raw, CAP, &n, NULL),
			 SH_MM_ESIGNATURE);
}

/* Tables 0x100 apart from 0x100: hops forwards, then a table with memory. */
static void forward_chain(unsigned hops)
{
	struct cbb c;
	unsigned i;
	memset(img, 0, sizeof(img));
	for (i = 0; i < hops; i++) {
		cbb_begin(&c, img + 0x100 * (i + 1));
		cbb_fwd(&c, 0x100 * (i + 2));
		ref_cb_end(&c);
	}
	cbb_begin(&c, img + 0x100 * (i + 1));
	cbb_mem(&c, three, 3);
	ref_cb_end(&c);
}

static void test_etoo_many_forwards(void **state)
{
	(void)state;
	size_t n;
	uint64_t found;
	for (unsigned hops = 0; hops <= SH_CB_MAX_FORWARDS + 2; hops++) {
		forward_chain(hops);
		int rc = mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, &found);
		if (hops <= SH_CB_MAX_FORWARDS) {
			assert_int_equal(rc, SH_MM_OK);
			assert_int_equal(found, 0x100 * (hops + 1));
			expect_three(n);
		} else {
			assert_int_equal(rc, SH_MM_ETOO_MANY_FORWARDS);
		}
	}
	/* at the limit the hop is refused before its target is looked at */
	struct cbb c;
	forward_chain(SH_CB_MAX_FORWARDS);
	cbb_begin(&c, img + 0x100 * (SH_CB_MAX_FORWARDS + 1));
	cbb_fwd(&c, 0x10000000);
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, NULL),
			 SH_MM_ETOO_MANY_FORWARDS);
}

static void test_eforward_loop(void **state)
{
	(void)state;
	struct cbb c;
	size_t n;
	memset(img, 0, sizeof(img));
	cbb_begin(&c, img + 0x100);
	cbb_fwd(&c, 0x100); /* to itself */
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_LOOP);
	/* a -> b -> c -> b */
	cbb_begin(&c, img + 0x100);
	cbb_fwd(&c, 0x200);
	ref_cb_end(&c);
	cbb_begin(&c, img + 0x200);
	cbb_fwd(&c, 0x300);
	ref_cb_end(&c);
	cbb_begin(&c, img + 0x300);
	cbb_fwd(&c, 0x200);
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_LOOP);
	/* a table forwarding to itself at the hop limit is a loop, not one hop too many */
	forward_chain(SH_CB_MAX_FORWARDS);
	cbb_begin(&c, img + 0x100 * (SH_CB_MAX_FORWARDS + 1));
	cbb_fwd(&c, 0x100 * (SH_CB_MAX_FORWARDS + 1));
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_raw(img, sizeof(img), 0, 0x100, raw, CAP, &n, NULL),
			 SH_MM_EFORWARD_LOOP);
}

static void test_header_search(void **state)
{
	(void)state;
	static uint8_t mem[0x100100];
	struct cbb c;
	uint64_t t = 0;
	size_t n;
	memset(mem, 0, sizeof(mem));
	assert_int_equal(mmref_cb_find(mem, sizeof(mem), 0, &t), SH_MM_ENOTFOUND);
	assert_int_equal(read_fmt(SH_FMT_CBIMAGE, mem, 0x1000, &n), SH_MM_ENOTFOUND);
	/* skipped: a signature with a bad checksum, header_bytes < 24, off a 16-byte step,
	 * beyond the low window */
	memcpy(mem + 0x40, "LBIO", 4);
	le32(mem + 0x44, 24);
	ref_cb_table(mem + 0x80, three, 3);
	le32(mem + 0x84, 20);
	fix_header(mem + 0x80);
	ref_cb_table(mem + 0x208, three, 3);
	ref_cb_table(mem + 0x1000, three, 3);
	assert_int_equal(mmref_cb_find(mem, sizeof(mem), 0, &t), SH_MM_ENOTFOUND);
	/* found: the first good header of the low window, then of the BIOS window */
	ref_cb_table(mem + 0xf0010, three, 3);
	assert_int_equal(mmref_cb_find(mem, sizeof(mem), 0, &t), SH_MM_OK);
	assert_int_equal(t, 0xf0010);
	cbb_begin(&c, mem + 0x500);
	cbb_fwd(&c, 0x1000);
	ref_cb_end(&c);
	assert_int_equal(mmref_cb_find(mem, sizeof(mem), 0, &t), SH_MM_OK);
	assert_int_equal(t, 0x500);
	assert_int_equal(read_fmt(SH_FMT_CBIMAGE, mem, 0x2000, &n), SH_MM_OK);
	expect_three(n);
	/* a header that passes the search but not the table checks: the table's reason */
	mem[0x500 + 24] ^= 1;
	assert_int_equal(read_fmt(SH_FMT_CBIMAGE, mem, 0x2000, &n), SH_MM_ETBLCHECKSUM);
	/* an image at an unaligned base: 16-byte steps of physical addresses */
	memset(img, 0, sizeof(img));
	ref_cb_table(img + 0x13, three, 3); /* physical 0xf0003 + 0x13 = 0xf0016: off a step */
	assert_int_equal(mmref_cb_find(img, sizeof(img), 0xf0003, &t), SH_MM_ENOTFOUND);
	ref_cb_table(img + 0x1d, three, 3); /* physical 0xf0020 */
	assert_int_equal(mmref_cb_find(img, sizeof(img), 0xf0003, &t), SH_MM_OK);
	assert_int_equal(t, 0xf0020);
	assert_int_equal(mmref_cb_find(img, 10, 0, &t), SH_MM_ENOTFOUND);
}

static void test_enomemtag(void **state)
{
	(void)state;
	struct cbb c;
	size_t n, len;
	cbb_begin(&c, img);
	cbb_rec(&c, 0x99, 16, 16);
	cbb_rec(&c, 0x25, 8, 8);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ENOMEMTAG);
	cbb_begin(&c, img);
	len = ref_cb_end(&c);
	assert_int_equal(read_fmt(SH_FMT_CBTABLE, img, len, &n), SH_MM_ENOMEMTAG);
	uint8_t b[256];
	len = mb2info(b);
	le32(b + 24, 99); /* no memory-map tag before the end tag */
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ENOMEMTAG);
	le32(b + 24, 6);
	le32(b + 8, 0); /* end tag first */
	le32(b + 12, 8);
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ENOMEMTAG);
	le32(b, 8); /* no tags at all */
	assert_int_equal(read_fmt(SH_FMT_MB2INFO, b, len, &n), SH_MM_ENOMEMTAG);
}

static void test_eoverflow_raw(void **state)
{
	(void)state;
	size_t n, len = ref_cb_table(img, three, 3);
	assert_int_equal(mmref_raw(SH_FMT_CBTABLE, img, len, raw, 2, &n), SH_MM_EOVERFLOW);
	assert_int_equal(n, 3);
	expect(1, 0x100000, 0x80000000, 1);
	assert_int_equal(mmref_raw(SH_FMT_CBTABLE, img, len, NULL, 0, &n), SH_MM_EOVERFLOW);
	assert_int_equal(n, 3);
}

/* --- normalization by definition --------------------------------------------------- */

static void test_normalize(void **state)
{
	(void)state;
	static struct sh_mem_range out[8];
	size_t total;
	const struct sh_mem_range in[] = {
		{0x300000, 0x302000, 2},	    /* splits the RAM below */
		{0x100000, 0x400000, 1},	    /* RAM */
		{0x301000, 0x303000, 99},	    /* unknown: reserved, merges with the 2 */
		{0, 0x9f000, 1},		    /* RAM */
		{0x9f000, 0xa0000, 1},		    /* touching RAM: merged */
		{0x500000, 0x500000, 4},	    /* empty: vanishes */
		{0x380000, 0x390000, 16},	    /* cbtable inside RAM */
		{0x3f0000, 0x500000, 3},	    /* ACPI over the RAM's end */
		{SH_MEM_TOP, SH_MEM_TOP, 2},	    /* empty at the top */
		{UINT64_C(1) << 40, SH_MEM_TOP, 5}, /* to the top */
	};
	const struct sh_mem_range want[] = {
		{0, 0xa0000, 1},	  {0x100000, 0x300000, 1},
		{0x300000, 0x303000, 2},  {0x303000, 0x380000, 1},
		{0x380000, 0x390000, 16}, {0x390000, 0x3f0000, 1},
		{0x3f0000, 0x500000, 3},  {UINT64_C(1) << 40, SH_MEM_TOP, 5},
	};
	assert_int_equal(mmref_normalize(in, 10, out, 8, &total), SH_MM_OK);
	assert_int_equal(total, 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(out[i].start, want[i].start);
		assert_int_equal(out[i].end, want[i].end);
		assert_int_equal(out[i].type, want[i].type);
	}
	/* the order of the entries does not matter */
	struct sh_mem_range rev[10];
	for (size_t i = 0; i < 10; i++)
		rev[i] = in[9 - i];
	memset(out, 0, sizeof(out));
	assert_int_equal(mmref_normalize(rev, 10, out, 8, &total), SH_MM_OK);
	assert_int_equal(out[3].start, 0x303000);
	/* too small an output: the lowest ranges, the whole count */
	assert_int_equal(mmref_normalize(in, 10, out, 3, &total), SH_MM_EOVERFLOW);
	assert_int_equal(total, 8);
	assert_int_equal(out[2].end, 0x303000);
	/* no RAM: the map is still complete */
	const struct sh_mem_range none[] = {{0x1000, 0x2000, 1}, {0, 0x10000, 2}};
	assert_int_equal(mmref_normalize(none, 2, out, 8, &total), SH_MM_ENORAM);
	assert_int_equal(total, 1);
	assert_int_equal(mmref_normalize(none, 0, out, 8, &total), SH_MM_ENORAM);
	assert_int_equal(total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_cbtable),
		cmocka_unit_test(test_cb_image_base_and_odd_offset),
		cmocka_unit_test(test_cb_forwards),
		cmocka_unit_test(test_mb1),
		cmocka_unit_test(test_mb2),
		cmocka_unit_test(test_mb2info),
		cmocka_unit_test(test_e820),
		cmocka_unit_test(test_clamp_and_empty_entries),
		cmocka_unit_test(test_einval_eformat),
		cmocka_unit_test(test_etruncated),
		cmocka_unit_test(test_esignature),
		cmocka_unit_test(test_ehdrsize),
		cmocka_unit_test(test_ehdrchecksum_etblchecksum),
		cmocka_unit_test(test_etable_past_buffer),
		cmocka_unit_test(test_erecord_reasons),
		cmocka_unit_test(test_eranges_past_end),
		cmocka_unit_test(test_eentry_size),
		cmocka_unit_test(test_eforward_outside),
		cmocka_unit_test(test_etoo_many_forwards),
		cmocka_unit_test(test_eforward_loop),
		cmocka_unit_test(test_header_search),
		cmocka_unit_test(test_enomemtag),
		cmocka_unit_test(test_eoverflow_raw),
		cmocka_unit_test(test_normalize),
	};
	return cmocka_run_group_tests_name("memmap_ref", tests, NULL, NULL);
}
