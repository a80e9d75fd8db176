/* SPDX-License-Identifier: MIT */
/*
 * Memory-table parsers: every sample map through every binary format and back, with the
 * placement answers of tests/data/memmaps/README.md; one test per reason code; hostile
 * tables whose checksums are valid; the header search and forward records.
 */
#include "memmap_util.h"

#define CAP 128

static struct sample samples[MAX_SAMPLES];
static size_t nsamples;

static int setup_samples(void **state)
{
	(void)state;
	nsamples = load_samples(samples, MAX_SAMPLES);
	return 0;
}

static const enum sh_mm_format all_formats[] = {SH_FMT_CBTABLE, SH_FMT_CBIMAGE, SH_FMT_MB2INFO,
						SH_FMT_MB1,	SH_FMT_MB2,	SH_FMT_E820,
						SH_FMT_E820_24};

/* Every sample: CSV -> normalized map -> each binary format -> parsed back; same map, raw
 * entries agree with the model, placement answers as the README says. */
static void test_samples_all_formats(void **state)
{
	(void)state;
	static const uint64_t sizes[3] = {1 * MiB, 16 * MiB, 64 * MiB};
	static struct sh_mem_range r0[CAP], r1[CAP], raw[CAP];
	static uint8_t buf[8192];

	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		struct sh_memmap m0, m1;
		sh_memmap_init(&m0, r0, CAP);
		assert_int_equal(sh_memmap_normalize(s->raw, s->n, &m0), SH_MM_OK);
		assert_normalized(&m0);
		assert_matches_raw(&m0, s->raw, s->n);

		/* The top RAM range below 4 GiB. */
		size_t t = m0.n;
		while (t-- > 0 &&
		       !(m0.range[t].type == SH_MEM_RAM && m0.range[t].end <= 4 * GiB))
			;
		assert_true(t < m0.n);
		assert_int_equal(m0.range[t].start, s->top[0]);
		assert_int_equal(m0.range[t].end, s->top[1]);

		for (size_t f = 0; f < sizeof(all_formats) / sizeof(all_formats[0]); f++) {
			size_t len, nraw;
			assert_int_equal(
				sh_memmap_emit(all_formats[f], &m0, buf, sizeof(buf), &len),
				SH_MM_OK);
			sh_memmap_init(&m1, r1, CAP);
			assert_int_equal(sh_memmap_parse(all_formats[f], buf, len, &m1),
					 SH_MM_OK);
			assert_int_equal(m1.n, m0.n);
			for (size_t j = 0; j < m0.n; j++) {
				assert_int_equal(r1[j].start, r0[j].start);
				assert_int_equal(r1[j].end, r0[j].end);
				assert_int_equal(r1[j].type, r0[j].type);
			}
			assert_int_equal(
				sh_memmap_raw(all_formats[f], buf, len, raw, CAP, &nraw),
				SH_MM_OK);
			assert_int_equal(nraw, m0.n);

			for (int k = 0; k < 3; k++) {
				struct sh_placement pl;
				uint64_t ref;
				int rc = sh_place(&m1, sizes[k], SH_PLACE_LIMIT_4G, NULL, 0,
						  &pl);
				int rrc = shref_place(s->raw, s->n, sizes[k], SH_PLACE_LIMIT_4G,
						      NULL, 0, &ref);
				if (!s->fits[k]) {
					assert_int_equal(rc, SH_MM_ENOFIT);
					assert_int_equal(rrc, SH_MM_ENOFIT);
					continue;
				}
				if (rc != SH_MM_OK)
					fail_msg("%s: %llu MiB: %s", s->name,
						 (unsigned long long)(sizes[k] >> 20),
						 sh_memmap_strerror(rc));
				assert_int_equal(pl.ram_start, s->rng[k][0]);
				assert_int_equal(pl.ram_end, s->rng[k][1]);
				/* At the top of that range, 4 KiB aligned. */
				assert_int_equal(pl.end, s->rng[k][1] & ~(uint64_t)4095);
				assert_int_equal(pl.end - pl.start, sizes[k]);
				assert_int_equal(pl.start % 4096, 0);
				assert_true(pl.start >= s->rng[k][0]);
				assert_int_equal(rrc, 0);
				assert_int_equal(ref, pl.start);
			}
		}
	}
}

/* The original boot-log quirks survive normalization as the README describes. */
static void test_sample_quirks(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	struct sh_memmap m;
	for (size_t i = 0; i < nsamples; i++) {
		const struct sample *s = &samples[i];
		sh_memmap_init(&m, r, CAP);
		assert_int_equal(sh_memmap_normalize(s->raw, s->n, &m), SH_MM_OK);
		if (strncmp(s->name, "13-", 3) == 0) {
			/* 34 entries, none overlapping or mergeable: more than 32. */
			assert_int_equal(s->n, 34);
			assert_int_equal(m.n, 34);
			assert_int_equal(m.range[0].start, 0x100);
		}
		if (strncmp(s->name, "09-", 3) == 0) {
			assert_int_equal(m.n, 2);
			assert_int_equal(m.range[0].start, 0x40000000);
			assert_int_equal(m.range[1].type, SH_MEM_TABLE);
		}
	}
}

/* Normalizing a 34-range map into 32 entries is refused, with the size it needs. */
static void test_overflow_real_map(void **state)
{
	(void)state;
	static struct sh_mem_range r[40];
	static uint8_t buf[4096];
	struct sh_memmap m;
	const struct sample *s = NULL;
	for (size_t i = 0; i < nsamples; i++) {
		if (samples[i].n == 34)
			s = &samples[i];
	}
	assert_non_null(s);
	sh_memmap_init(&m, r, 32);
	assert_int_equal(sh_memmap_normalize(s->raw, s->n, &m), SH_MM_EOVERFLOW);
	assert_int_equal(m.n, 32);
	assert_int_equal(m.total, 34);

	/* Also through a binary table. */
	struct sh_memmap full;
	size_t len;
	sh_memmap_init(&full, r, 40);
	assert_int_equal(sh_memmap_normalize(s->raw, s->n, &full), SH_MM_OK);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &full, buf, sizeof(buf), &len), SH_MM_OK);
	static struct sh_mem_range small[32];
	sh_memmap_init(&m, small, 32);
	assert_int_equal(sh_memmap_parse(SH_FMT_E820, buf, len, &m), SH_MM_EOVERFLOW);
	assert_int_equal(m.total, 34);
	/* And the writer refuses a buffer one byte short. */
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &full, buf, 34 * 20 - 1, &len),
			 SH_MM_EOVERFLOW);
}

/* --- checksum ------------------------------------------------------------------------- */

static void test_checksum_known_answers(void **state)
{
	(void)state;
	/* coreboot's low forward table from the apollolake log: one LB_TAG_FORWARD record
	 * pointing at 0x7ab34000, 0x10 bytes, "checksum 452b". */
	uint8_t fwd[16] = {0};
	le32(fwd, SH_CB_TAG_FORWARD);
	le32(fwd + 4, 16);
	le64(fwd + 8, 0x7ab34000);
	assert_int_equal(sh_cb_checksum(fwd, sizeof(fwd)), 0x452b);
	assert_int_equal(sh_cb_checksum(fwd, 0), 0xffff);
	const uint8_t odd[3] = {0x01, 0x02, 0x03}; /* words 0x0201, 0x0003 */
	assert_int_equal(sh_cb_checksum(odd, 3), (uint16_t) ~(0x0201 + 0x0003));
	const uint8_t carry[4] = {0xff, 0xff, 0x02, 0x00}; /* 0xffff + 2 -> 0x0002 */
	assert_int_equal(sh_cb_checksum(carry, 4), (uint16_t)~0x0002);
}

/* --- one test per reason code ------------------------------------------------------- */

static const struct ent simple[] = {
	{0, 0x9fc00, 1}, {0x100000, 0x7ff00000, 1}, {0xfffc0000, 0x40000, 2}};

static struct sh_mem_range outr[CAP];

static int parse_cb(const uint8_t *p, size_t len)
{
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	return sh_cb_parse(p, len, 0, 0, &m, NULL);
}

static void test_reason_einval(void **state)
{
	(void)state;
	uint8_t b[64] = {0};
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_memmap_parse(SH_FMT_E820, b, 40, NULL), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_parse(SH_FMT_E820, NULL, 40, &m), SH_MM_EINVAL);
	assert_int_equal(sh_e820_parse(b, 32, 16, &m), SH_MM_EINVAL);
	assert_int_equal(sh_cb_parse(NULL, 0, 0, 0, &m, NULL), SH_MM_EINVAL);
	sh_memmap_init(&m, outr, 0);
	assert_int_equal(sh_memmap_normalize(NULL, 0, &m), SH_MM_EINVAL);
	assert_int_equal(sh_place(NULL, 4096, SH_PLACE_LIMIT_4G, NULL, 0, NULL), SH_MM_EINVAL);
}

/* sh_memmap_raw: raw may be NULL only with cap 0 (then it only counts the entries). */
static void test_raw_null_array(void **state)
{
	(void)state;
	uint8_t b[40] = {0};
	size_t n = 99;
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, b, 0, NULL, 1, &n), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, b, 0, NULL, 2, &n), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, b, 0, NULL, 0, &n), SH_MM_OK);
	assert_int_equal(n, 0);
	le64(b + 8, 0x1000);
	le32(b + 16, SH_MEM_RAM);
	assert_int_equal(sh_memmap_raw(SH_FMT_E820, b, 40, NULL, 0, &n), SH_MM_EOVERFLOW);
	assert_int_equal(n, 2);
}

/* A parser that rejects its table leaves the map empty, not holding the previous result. */
static void test_rejected_table_empties_map(void **state)
{
	(void)state;
	uint8_t b[256] = {0};
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	le64(b + 8, 0x1000);
	le32(b + 16, SH_MEM_RAM);
	le64(b + 20, 0x2000);
	le64(b + 28, 0x1000);
	le32(b + 36, SH_MEM_RESERVED);
	static const enum sh_mm_format bad[] = {SH_FMT_E820, SH_FMT_MB1, SH_FMT_MB2,
						SH_FMT_CBTABLE, (enum sh_mm_format)99};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sh_memmap_parse(SH_FMT_E820, b, 40, &m), SH_MM_OK);
		assert_int_equal(m.n, 2);
		assert_int_equal(m.total, 2);
		int rc = sh_memmap_parse(bad[i], b, 39, &m);
		assert_true(rc != SH_MM_OK && rc != SH_MM_EINVAL && rc != SH_MM_EOVERFLOW &&
			    rc != SH_MM_ENORAM);
		assert_int_equal(m.n, 0);
		assert_int_equal(m.total, 0);
	}
	assert_int_equal(sh_e820_parse(b, 40, 20, &m), SH_MM_OK);
	assert_int_equal(sh_e820_parse(b, 39, 20, &m), SH_MM_ERANGES_PAST_END);
	assert_int_equal(m.total, 0);
	assert_int_equal(sh_e820_parse(b, 40, 20, &m), SH_MM_OK);
	assert_int_equal(sh_cb_parse(b, 39, 0, 0, &m, NULL), SH_MM_ESIGNATURE);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.total, 0);
	/* SH_MM_EINVAL leaves the map as it was */
	assert_int_equal(sh_e820_parse(b, 40, 20, &m), SH_MM_OK);
	assert_int_equal(sh_memmap_parse(SH_FMT_E820, NULL, 40, &m), SH_MM_EINVAL);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.total, 2);
}

/* A range count whose table size overflows size_t (the count times the entry size wraps to a
 * small number) is SH_MM_EOVERFLOW, decided before any range is read or byte written. */
static void test_emit_count_overflows_size(void **state)
{
	(void)state;
	struct sh_mem_range r[2] = {{0, 0x1000, SH_MEM_RAM}, {0x1000, 0x2000, SH_MEM_RESERVED}};
	uint8_t b[64];
	size_t len = 99;
	struct sh_memmap m = {r, 2, SIZE_MAX / 20 + 1, SIZE_MAX / 20 + 1};
	assert_int_equal(sh_memmap_emit(SH_FMT_E820, &m, b, sizeof(b), &len), SH_MM_EOVERFLOW);
	assert_int_equal(len, 0);
	m.n = m.total = SIZE_MAX / 24 + 1;
	assert_int_equal(sh_memmap_emit(SH_FMT_MB1, &m, b, sizeof(b), &len), SH_MM_EOVERFLOW);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820_24, &m, b, sizeof(b), &len),
			 SH_MM_EOVERFLOW);
}

static void test_reason_etruncated(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	assert_int_equal(parse_cb(b, 23), SH_MM_ETRUNCATED);
	assert_int_equal(parse_cb(b, 0), SH_MM_ETRUNCATED);
	assert_int_equal(parse_cb(b, len), SH_MM_OK);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_mb2_parse(b, 15, &m), SH_MM_ETRUNCATED);
	/* The table address below the image, or past its end. */
	assert_int_equal(sh_cb_parse(b, len, 0x1000, 0x10, &m, NULL), SH_MM_ETRUNCATED);
	assert_int_equal(sh_cb_parse(b, len, 0, len - 8, &m, NULL), SH_MM_ETRUNCATED);
	assert_int_equal(sh_cb_parse(b, len, 0, UINT64_MAX, &m, NULL), SH_MM_ETRUNCATED);
}

static void test_reason_esignature(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	b[3] = 'X';
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ESIGNATURE);
	uint8_t t[16 + 24] = {0};
	le32(t, 7);
	le32(t + 4, sizeof(t));
	le32(t + 8, 24);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_mb2_parse(t, sizeof(t), &m), SH_MM_ESIGNATURE);
}

static void test_reason_ehdrsize(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	le32(b + 4, 20);
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_EHDRSIZE);
	uint8_t t[16] = {0};
	le32(t, 6);
	le32(t + 4, 8);
	le32(t + 8, 24);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_mb2_parse(t, sizeof(t), &m), SH_MM_EHDRSIZE);
}

static void test_reason_ehdrchecksum(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	b[8] ^= 1;
	assert_int_equal(parse_cb(b, len), SH_MM_EHDRCHECKSUM);
	b[8] ^= 1;
	b[20] ^= 0x40; /* table_entries changed, header checksum not updated */
	assert_int_equal(parse_cb(b, len), SH_MM_EHDRCHECKSUM);
}

static void test_reason_etblchecksum(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	b[len - 1] ^= 0x10; /* last range's type */
	assert_int_equal(parse_cb(b, len), SH_MM_ETBLCHECKSUM);
	b[len - 1] ^= 0x10;
	le32(b + 16, get32(b + 16) | 0x10000); /* upper half of the field must be 0 */
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ETBLCHECKSUM);
}

static void test_reason_etable_past_buffer(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t len = cb_table(b, simple, 3);
	assert_int_equal(parse_cb(b, len - 1), SH_MM_ETABLE_PAST_BUFFER);
	le32(b + 12, UINT32_MAX);
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ETABLE_PAST_BUFFER);
	len = cb_table(b, simple, 3);
	le32(b + 4, UINT32_MAX); /* header_bytes huge */
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ETABLE_PAST_BUFFER);
	uint8_t t[16 + 24] = {0};
	le32(t, 6);
	le32(t + 4, sizeof(t) + 24);
	le32(t + 8, 24);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_mb2_parse(t, sizeof(t), &m), SH_MM_ETABLE_PAST_BUFFER);
}

static void test_reason_erecord_short(void **state)
{
	(void)state;
	uint8_t b[256];
	struct cbb c;
	cbb_begin(&c, b);
	cbb_rec(&c, 0x99, 4, 8);
	size_t len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_SHORT);
	cbb_begin(&c, b);
	cbb_rec(&c, SH_CB_TAG_FORWARD, 8, 8); /* no room for the address */
	len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_SHORT);
}

static void test_reason_erecord_align(void **state)
{
	(void)state;
	uint8_t b[256];
	struct cbb c;
	cbb_begin(&c, b);
	cbb_rec(&c, 0x99, 10, 12);
	cbb_mem(&c, simple, 3);
	size_t len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_ALIGN);
}

static void test_reason_erecord_past_table(void **state)
{
	(void)state;
	uint8_t b[256];
	struct cbb c;
	cbb_begin(&c, b);
	cbb_mem(&c, simple, 3);
	cbb_rec(&c, 0x99, 64, 16); /* says 64, table holds 16 */
	size_t len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_PAST_TABLE);
	/* table_entries claims one record more than the table holds */
	len = cb_table(b, simple, 3);
	le32(b + 20, 2);
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_PAST_TABLE);
	le32(b + 20, UINT32_MAX);
	cb_fix_header(b);
	assert_int_equal(parse_cb(b, len), SH_MM_ERECORD_PAST_TABLE);
}

static void test_reason_eranges_past_end(void **state)
{
	(void)state;
	uint8_t b[512];
	struct cbb c;
	cbb_begin(&c, b);
	uint8_t *q = cbb_rec(&c, SH_CB_TAG_MEMORY, 8 + 20 + 12, 8 + 20 + 12);
	le64(q, 0);
	le64(q + 8, 0x100000);
	le32(q + 16, 1);
	size_t len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ERANGES_PAST_END);

	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	memset(b, 0, sizeof(b));
	assert_int_equal(sh_e820_parse(b, 30, 20, &m), SH_MM_ERANGES_PAST_END);
	assert_int_equal(sh_e820_parse(b, 40, 24, &m), SH_MM_ERANGES_PAST_END);
	/* multiboot v1: entry size 20 but only 22 bytes follow it, or 2 stray bytes */
	le32(b, 20);
	assert_int_equal(sh_mb1_parse(b, 22, &m), SH_MM_ERANGES_PAST_END);
	le32(b + 24, 20);
	assert_int_equal(sh_mb1_parse(b, 26, &m), SH_MM_ERANGES_PAST_END);
	le32(b, UINT32_MAX);
	assert_int_equal(sh_mb1_parse(b, 48, &m), SH_MM_ERANGES_PAST_END);
	/* multiboot2: 40 bytes of entries with entry_size 24 */
	memset(b, 0, sizeof(b));
	le32(b, 6);
	le32(b + 4, 16 + 40);
	le32(b + 8, 24);
	assert_int_equal(sh_mb2_parse(b, 56, &m), SH_MM_ERANGES_PAST_END);
}

static void test_reason_eentry_size(void **state)
{
	(void)state;
	uint8_t b[128] = {0};
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	le32(b, 16);
	assert_int_equal(sh_mb1_parse(b, 40, &m), SH_MM_EENTRY_SIZE);
	le32(b, 0);
	assert_int_equal(sh_mb1_parse(b, 40, &m), SH_MM_EENTRY_SIZE);
	/* 19, one byte short of an entry, is refused for its size although 4 + 19 bytes fit */
	le32(b, 19);
	assert_int_equal(sh_mb1_parse(b, 24, &m), SH_MM_EENTRY_SIZE);
	memset(b, 0, sizeof(b));
	le32(b, 6);
	le32(b + 4, 16 + 40);
	le32(b + 8, 20);
	assert_int_equal(sh_mb2_parse(b, 56, &m), SH_MM_EENTRY_SIZE);
	le32(b + 8, 28);
	assert_int_equal(sh_mb2_parse(b, 56, &m), SH_MM_EENTRY_SIZE);
	le32(b + 8, 0);
	assert_int_equal(sh_mb2_parse(b, 56, &m), SH_MM_EENTRY_SIZE);
}

/* A memory image with tables at the given offsets; returns the image. */
static uint8_t image[0x2000];

static void test_reason_eforward_outside(void **state)
{
	(void)state;
	struct cbb c;
	memset(image, 0, sizeof(image));
	cbb_begin(&c, image + 0x500);
	cbb_fwd(&c, 0x10000000);
	cbb_end(&c);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x500, &m, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	/* A target whose header would straddle the end of the image. */
	cbb_begin(&c, image + 0x500);
	cbb_fwd(&c, sizeof(image) - 8);
	cbb_end(&c);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x500, &m, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	/* And one below the image base (the image holds physical 0x400 on). */
	cbb_begin(&c, image + 0x500);
	cbb_fwd(&c, 0x100);
	cbb_end(&c);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0x400, 0x900, &m, NULL),
			 SH_MM_EFORWARD_OUTSIDE);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x500, &m, NULL),
			 SH_MM_ESIGNATURE);
}

static void test_reason_etoo_many_forwards(void **state)
{
	(void)state;
	struct cbb c;
	struct sh_memmap m;
	memset(image, 0, sizeof(image));
	/* tables at 0x100, 0x200, ...: each forwards to the next; the last holds memory */
	for (unsigned hops = 1; hops <= SH_CB_MAX_FORWARDS + 1; hops++) {
		unsigned i;
		for (i = 0; i < hops; i++) {
			cbb_begin(&c, image + 0x100 * (i + 1));
			cbb_fwd(&c, 0x100 * (i + 2));
			cbb_end(&c);
		}
		cbb_begin(&c, image + 0x100 * (i + 1));
		cbb_mem(&c, simple, 3);
		cbb_end(&c);
		sh_memmap_init(&m, outr, CAP);
		uint64_t found = 0;
		int rc = sh_cb_parse(image, sizeof(image), 0, 0x100, &m, &found);
		if (hops <= SH_CB_MAX_FORWARDS) {
			assert_int_equal(rc, SH_MM_OK);
			assert_int_equal(found, 0x100 * (hops + 1));
			assert_int_equal(m.n, 3);
		} else {
			assert_int_equal(rc, SH_MM_ETOO_MANY_FORWARDS);
		}
	}
}

static void test_reason_eforward_loop(void **state)
{
	(void)state;
	struct cbb c;
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	memset(image, 0, sizeof(image));
	cbb_begin(&c, image + 0x100);
	cbb_fwd(&c, 0x100); /* to itself */
	cbb_end(&c);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x100, &m, NULL),
			 SH_MM_EFORWARD_LOOP);
	/* a -> b -> c -> b */
	cbb_begin(&c, image + 0x100);
	cbb_fwd(&c, 0x200);
	cbb_end(&c);
	cbb_begin(&c, image + 0x200);
	cbb_fwd(&c, 0x300);
	cbb_end(&c);
	cbb_begin(&c, image + 0x300);
	cbb_fwd(&c, 0x200);
	cbb_end(&c);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x100, &m, NULL),
			 SH_MM_EFORWARD_LOOP);
}

static void test_reason_enotfound(void **state)
{
	(void)state;
	uint64_t t = 0;
	memset(image, 0, sizeof(image));
	assert_int_equal(sh_cb_find(image, sizeof(image), 0, &t), SH_MM_ENOTFOUND);
	/* A signature with a bad header checksum is not a table. */
	memcpy(image + 0x40, "LBIO", 4);
	assert_int_equal(sh_cb_find(image, sizeof(image), 0, &t), SH_MM_ENOTFOUND);
	/* Not on a 16-byte step. */
	struct cbb c;
	cbb_begin(&c, image + 0x208);
	cbb_mem(&c, simple, 3);
	cbb_end(&c);
	assert_int_equal(sh_cb_find(image, sizeof(image), 0, &t), SH_MM_ENOTFOUND);
	/* Beyond the low 4 KiB window. */
	memset(image, 0, sizeof(image));
	cbb_begin(&c, image + 0x1000);
	cbb_mem(&c, simple, 3);
	cbb_end(&c);
	assert_int_equal(sh_cb_find(image, sizeof(image), 0, &t), SH_MM_ENOTFOUND);
	/* Image too small to hold any header. */
	assert_int_equal(sh_cb_find(image, 10, 0, &t), SH_MM_ENOTFOUND);
}

static void test_reason_enomemtag(void **state)
{
	(void)state;
	uint8_t b[256];
	struct cbb c;
	cbb_begin(&c, b);
	cbb_rec(&c, 0x99, 16, 16);
	cbb_rec(&c, 0x25, 8, 8);
	size_t len = cbb_end(&c);
	assert_int_equal(parse_cb(b, len), SH_MM_ENOMEMTAG);
	cbb_begin(&c, b);
	len = cbb_end(&c); /* no records at all */
	assert_int_equal(parse_cb(b, len), SH_MM_ENOMEMTAG);
}

static void test_reason_enoram(void **state)
{
	(void)state;
	uint8_t b[256];
	const struct ent none[] = {{0, 0x1000, 2}, {0x1000, 0x1000, 3}, {0x4000, 0, 1}};
	size_t len = cb_table(b, none, 3);
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_cb_parse(b, len, 0, 0, &m, NULL), SH_MM_ENORAM);
	assert_int_equal(m.n, 2); /* the map is still returned */
	assert_int_equal(sh_e820_parse(b, 0, 20, &m), SH_MM_ENORAM);
	assert_int_equal(m.n, 0);
	/* RAM entirely covered by reserved */
	const struct sh_mem_range raw[] = {{0x1000, 0x2000, 1}, {0, 0x10000, 2}};
	assert_int_equal(sh_memmap_normalize(raw, 2, &m), SH_MM_ENORAM);
	assert_int_equal(m.n, 1);
}

static void test_reason_eoverflow(void **state)
{
	(void)state;
	/* 40 alternating RAM / reserved ranges into a 32-entry map. */
	static struct ent e[40];
	static uint8_t b[1024];
	for (unsigned i = 0; i < 40; i++) {
		e[i].start = 0x100000 * (uint64_t)i;
		e[i].size = 0x100000;
		e[i].type = 1 + (i & 1);
	}
	size_t len = cb_table(b, e, 40);
	static struct sh_mem_range r[32];
	struct sh_memmap m;
	sh_memmap_init(&m, r, 32);
	assert_int_equal(sh_cb_parse(b, len, 0, 0, &m, NULL), SH_MM_EOVERFLOW);
	assert_int_equal(m.n, 32);
	assert_int_equal(m.total, 40);
	assert_int_equal(r[31].start, 31 * 0x100000);
	size_t n;
	assert_int_equal(sh_memmap_raw(SH_FMT_CBTABLE, b, len, outr, 10, &n), SH_MM_EOVERFLOW);
	assert_int_equal(n, 40);
	/* The same ranges merged into one fit. */
	for (unsigned i = 0; i < 40; i++)
		e[i].type = 1;
	len = cb_table(b, e, 40);
	sh_memmap_init(&m, r, 1);
	assert_int_equal(sh_cb_parse(b, len, 0, 0, &m, NULL), SH_MM_OK);
	assert_int_equal(m.n, 1);
	assert_int_equal(r[0].end, 40 * 0x100000);
}

static void test_reason_eformat(void **state)
{
	(void)state;
	uint8_t b[64] = {0};
	size_t len;
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_memmap_parse((enum sh_mm_format)99, b, sizeof(b), &m),
			 SH_MM_EFORMAT);
	assert_int_equal(sh_memmap_emit((enum sh_mm_format)0, &m, b, sizeof(b), &len),
			 SH_MM_EFORMAT);
	size_t n;
	assert_int_equal(sh_memmap_raw((enum sh_mm_format)8, b, sizeof(b), outr, CAP, &n),
			 SH_MM_EFORMAT);
}

static void test_strerror_names(void **state)
{
	(void)state;
	static const char *const names[] = {
		"SH_MM_EINVAL",
		"SH_MM_ETRUNCATED",
		"SH_MM_ESIGNATURE",
		"SH_MM_EHDRSIZE",
		"SH_MM_EHDRCHECKSUM",
		"SH_MM_ETBLCHECKSUM",
		"SH_MM_ETABLE_PAST_BUFFER",
		"SH_MM_ERECORD_SHORT",
		"SH_MM_ERECORD_ALIGN",
		"SH_MM_ERECORD_PAST_TABLE",
		"SH_MM_ERANGES_PAST_END",
		"SH_MM_EENTRY_SIZE",
		"SH_MM_EFORWARD_OUTSIDE",
		"SH_MM_ETOO_MANY_FORWARDS",
		"SH_MM_EFORWARD_LOOP",
		"SH_MM_ENOTFOUND",
		"SH_MM_ENOMEMTAG",
		"SH_MM_ENORAM",
		"SH_MM_EOVERFLOW",
		"SH_MM_ESIZE",
		"SH_MM_ENOFIT",
		"SH_MM_EADDRESS",
		"SH_MM_EFORMAT",
		"SH_MM_EMAGIC",
	};
	/* The reason codes are contiguous and apart from the allocator's codes. */
	assert_int_equal(SH_MM_LAST - SH_MM_FIRST + 1, (int)(sizeof(names) / sizeof(names[0])));
	assert_true((int)SH_MM_FIRST > (int)SH_ECORRUPT);
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++) {
		int code = SH_MM_FIRST + i;
		const char *s = sh_memmap_strerror(code);
		size_t l = strlen(names[i]);
		assert_int_equal(strncmp(s, names[i], l), 0);
		assert_int_equal(s[l], ':');
		/* one text whichever function is asked */
		assert_string_equal(sh_strerror(code), s);
	}
	/* the allocator's codes through either function */
	assert_string_equal(sh_memmap_strerror(SH_ETOOSMALL), "SH_ETOOSMALL");
	assert_string_equal(sh_memmap_strerror(0), "SH_OK");
	assert_string_equal(sh_memmap_strerror(-1), "SH_E?");
	assert_string_equal(sh_strerror(SH_MM_LAST + 1), "SH_E?");
	assert_string_equal(sh_strerror(SH_MM_FIRST - 1), "SH_E?");
	assert_string_equal(sh_mem_type_name(SH_MEM_TABLE), "cbtable");
	assert_string_equal(sh_mem_type_name(99), "type?");
}

/* --- hostile tables with valid checksums ---------------------------------------------- */

static int cb_map(const struct ent *e, size_t n, struct sh_memmap *m)
{
	static uint8_t b[4096];
	size_t len = cb_table(b, e, n);
	sh_memmap_init(m, outr, CAP);
	return sh_cb_parse(b, len, 0, 0, m, NULL);
}

static void expect_range(const struct sh_memmap *m, size_t i, uint64_t s, uint64_t e,
			 uint32_t t)
{
	assert_true(i < m->n);
	assert_int_equal(m->range[i].start, s);
	assert_int_equal(m->range[i].end, e);
	assert_int_equal(m->range[i].type, t);
}

static void test_hostile_overlaps(void **state)
{
	(void)state;
	struct sh_memmap m;
	/* reserved inside RAM; ACPI overlapping NVS (NVS, the higher number, wins); a coreboot
	 * table range over reserved (16 wins); RAM over RAM merges. */
	const struct ent e[] = {
		{0, 16 * MiB, 1},	 {4 * MiB, 4 * MiB, 2},	 {6 * MiB, 4 * MiB, 3},
		{9 * MiB, 2 * MiB, 4},	 {12 * MiB, 8 * MiB, 1}, {20 * MiB, 4 * MiB, 2},
		{22 * MiB, 1 * MiB, 16},
	};
	assert_int_equal(cb_map(e, 7, &m), SH_MM_OK);
	assert_normalized(&m);
	expect_range(&m, 0, 0, 4 * MiB, 1);
	expect_range(&m, 1, 4 * MiB, 6 * MiB, 2);
	expect_range(&m, 2, 6 * MiB, 9 * MiB, 3);
	expect_range(&m, 3, 9 * MiB, 11 * MiB, 4);
	expect_range(&m, 4, 11 * MiB, 20 * MiB, 1);
	expect_range(&m, 5, 20 * MiB, 22 * MiB, 2);
	expect_range(&m, 6, 22 * MiB, 23 * MiB, 16);
	expect_range(&m, 7, 23 * MiB, 24 * MiB, 2);
	assert_int_equal(m.n, 8);
}

static void test_hostile_unsorted_and_odd_types(void **state)
{
	(void)state;
	struct sh_memmap m;
	static struct sh_mem_range sorted[CAP];
	const struct ent e[] = {
		{0x100000, 0x100000, 1}, {0, 0x9f000, 1},	{0x300000, 0x1000, 0},
		{0x200000, 0x100000, 1}, {0x9f000, 0, 2},	{0x400000, 0x1000, 0xdead},
		{0x301000, 0x1000, 12},	 {0x500000, 0x1000, 7},
	};
	struct ent rev[8];
	for (int i = 0; i < 8; i++)
		rev[i] = e[7 - i];
	assert_int_equal(cb_map(e, 8, &m), SH_MM_OK);
	memcpy(sorted, outr, m.n * sizeof(outr[0]));
	size_t n = m.n;
	assert_normalized(&m);
	/* zero-length dropped; 0x100000..0x300000 merged; unknown types reserved, and the two
	 * touching unknown ranges merged */
	expect_range(&m, 0, 0, 0x9f000, 1);
	expect_range(&m, 1, 0x100000, 0x300000, 1);
	expect_range(&m, 2, 0x300000, 0x302000, 2);
	expect_range(&m, 3, 0x400000, 0x401000, 2);
	expect_range(&m, 4, 0x500000, 0x501000, 2);
	assert_int_equal(m.n, 5);
	assert_int_equal(cb_map(rev, 8, &m), SH_MM_OK);
	assert_int_equal(m.n, n);
	for (size_t j = 0; j < n; j++)
		expect_range(&m, j, sorted[j].start, sorted[j].end, sorted[j].type);
}

static void test_hostile_wrap(void **state)
{
	(void)state;
	struct sh_memmap m;
	const struct ent e[] = {
		{0x100000, 0x100000, 1},
		{UINT64_C(0xffffffffffff0000), 0x20000, 1},    /* wraps past 2^64: clamped */
		{UINT64_MAX, 5, 2},			       /* starts at the top: empty */
		{UINT64_C(0xfffffffffff00000), UINT64_MAX, 2}, /* huge size: clamped */
	};
	assert_int_equal(cb_map(e, 4, &m), SH_MM_OK);
	assert_normalized(&m);
	expect_range(&m, 0, 0x100000, 0x200000, 1);
	expect_range(&m, 1, UINT64_C(0xfffffffffff00000), SH_MEM_TOP, 2);
	assert_int_equal(m.n, 2);
	/* The raw list shows the clamp too. */
	static uint8_t b[512];
	size_t len = cb_table(b, e, 4), n;
	static struct sh_mem_range raw[8];
	assert_int_equal(sh_memmap_raw(SH_FMT_CBTABLE, b, len, raw, 8, &n), SH_MM_OK);
	assert_int_equal(n, 4);
	assert_int_equal(raw[1].end, SH_MEM_TOP);
	assert_int_equal(raw[2].end, SH_MEM_TOP);
	assert_int_equal(raw[2].start, SH_MEM_TOP);
	/* RAM reaching the top: placement with no limit stays below it, aligned. */
	const struct ent top[] = {{UINT64_C(0xffffffffff000000), UINT64_MAX, 1}};
	struct sh_placement pl;
	assert_int_equal(cb_map(top, 1, &m), SH_MM_OK);
	assert_int_equal(sh_place(&m, MiB, SH_MEM_TOP, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end, UINT64_C(0xfffffffffffff000));
	assert_int_equal(pl.start, UINT64_C(0xffffffffffeff000));
}

static void test_hostile_end_at_4g(void **state)
{
	(void)state;
	struct sh_memmap m;
	struct sh_placement pl;
	const struct ent e[] = {{0, 0x9f000, 1}, {3 * GiB, 1 * GiB, 1}};
	assert_int_equal(cb_map(e, 2, &m), SH_MM_OK);
	assert_int_equal(sh_place(&m, 64 * MiB, SH_PLACE_LIMIT_4G, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 4 * GiB);
	assert_int_equal(pl.start, 4 * GiB - 64 * MiB);
	assert_int_equal(pl.ram_end, 4 * GiB);
	/* A range crossing the limit is clipped at it. */
	const struct ent x[] = {{0, 0x9f000, 1}, {3 * GiB, 2 * GiB, 1}};
	assert_int_equal(cb_map(x, 2, &m), SH_MM_OK);
	assert_int_equal(sh_place(&m, 64 * MiB, SH_PLACE_LIMIT_4G, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 4 * GiB);
	assert_int_equal(pl.ram_start, 3 * GiB);
	assert_int_equal(pl.ram_end, 4 * GiB);
	/* The whole 2 GiB range fits under no limit, at its top. */
	assert_int_equal(sh_place(&m, 2 * GiB, SH_MEM_TOP, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.start, 3 * GiB);
	assert_int_equal(sh_place(&m, 2 * GiB, SH_PLACE_LIMIT_4G, NULL, 0, &pl), SH_MM_ENOFIT);
}

static void test_hostile_ram_above_limit(void **state)
{
	(void)state;
	struct sh_memmap m;
	struct sh_placement pl;
	const struct ent e[] = {{0, 0x1000, 2}, {4 * GiB, 4 * GiB, 1}};
	assert_int_equal(cb_map(e, 2, &m), SH_MM_OK);
	assert_int_equal(sh_place(&m, MiB, SH_PLACE_LIMIT_4G, NULL, 0, &pl), SH_MM_ENOFIT);
	assert_int_equal(sh_place(&m, MiB, SH_MEM_TOP, NULL, 0, &pl), SH_MM_OK);
	assert_int_equal(pl.end, 8 * GiB);
	uint64_t ref;
	static struct sh_mem_range raw[2];
	raw[0] = (struct sh_mem_range){0, 0x1000, 2};
	raw[1] = (struct sh_mem_range){4 * GiB, 8 * GiB, 1};
	assert_int_equal(shref_place(raw, 2, MiB, SH_PLACE_LIMIT_4G, NULL, 0, &ref),
			 SH_MM_ENOFIT);
}

static void test_hostile_many_records_and_forward_with_memory(void **state)
{
	(void)state;
	struct cbb c;
	struct sh_memmap m;
	static const struct ent lo[] = {{0, 0x9f000, 1}};
	static const struct ent hi[] = {{0x100000, 0x100000, 1}, {0x180000, 0x1000, 4}};
	memset(image, 0, sizeof(image));
	/* two memory records plus unknown records in between */
	cbb_begin(&c, image + 0x200);
	cbb_mem(&c, lo, 1);
	cbb_rec(&c, 0x40, 12, 12);
	cbb_mem(&c, hi, 2);
	cbb_end(&c);
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x200, &m, NULL), SH_MM_OK);
	assert_int_equal(m.n, 4);
	expect_range(&m, 2, 0x180000, 0x181000, 4);
	/* A table with memory and a forward: the forward wins (as a payload reads it). */
	cbb_begin(&c, image + 0x100);
	cbb_mem(&c, hi, 2);
	cbb_fwd(&c, 0x200);
	cbb_end(&c);
	uint64_t found;
	assert_int_equal(sh_cb_parse(image, sizeof(image), 0, 0x100, &m, &found), SH_MM_OK);
	assert_int_equal(found, 0x200);
	assert_int_equal(m.n, 4);
}

/* --- formats' own details ------------------------------------------------------------ */

static void test_unaligned_and_image_base(void **state)
{
	(void)state;
	/* The table at an odd address of an image that starts at 0xf0000. */
	static uint8_t img[0x10000 + 64];
	struct cbb c;
	struct sh_memmap m;
	uint64_t t;
	memset(img, 0, sizeof(img));
	cbb_begin(&c, img + 0x8003);
	cbb_mem(&c, simple, 3);
	cbb_end(&c);
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_cb_parse(img + 1, 0x10000, 0xf0000, 0xf8002, &m, NULL), SH_MM_OK);
	assert_int_equal(m.n, 3);
	/* The search finds it on a 16-byte step of physical memory only. */
	assert_int_equal(sh_cb_find(img + 3, 0x10000, 0xf0000, &t), SH_MM_OK);
	assert_int_equal(t, 0xf8000);
	assert_int_equal(sh_cb_find(img + 1, 0x10000, 0xf0000, &t), SH_MM_ENOTFOUND);
	/* An image starting inside the window at an unaligned base. */
	assert_int_equal(sh_cb_find(img + 3, 0x10000 - 8, 0xf0000, &t), SH_MM_OK);
	assert_int_equal(sh_cb_find(img + 0x8003 - 5, 0x100, 0xf7ffb, &t), SH_MM_OK);
	assert_int_equal(t, 0xf8000);
	/* A base on a 16-byte step is searched from itself; one just past a step, from the next. */
	assert_int_equal(sh_cb_find(img + 0x8003, 0x100, 0xf8000, &t), SH_MM_OK);
	assert_int_equal(t, 0xf8000);
	assert_int_equal(sh_cb_find(img + 0x8003 - 15, 0x100, 0xf7ff1, &t), SH_MM_OK);
	assert_int_equal(t, 0xf8000);
}

static void test_find_low_forward_like_coreboot(void **state)
{
	(void)state;
	/* coreboot: a forward table at 0x500 and the real table high in memory. */
	static uint8_t mem[0x110000];
	struct cbb c;
	struct sh_memmap m;
	uint64_t t, found;
	memset(mem, 0, sizeof(mem));
	cbb_begin(&c, mem + 0x500);
	cbb_fwd(&c, 0x104000);
	cbb_end(&c);
	cbb_begin(&c, mem + 0x104000);
	cbb_mem(&c, simple, 3);
	cbb_end(&c);
	assert_int_equal(sh_cb_find(mem, sizeof(mem), 0, &t), SH_MM_OK);
	assert_int_equal(t, 0x500);
	sh_memmap_init(&m, outr, CAP);
	assert_int_equal(sh_cb_parse(mem, sizeof(mem), 0, t, &m, &found), SH_MM_OK);
	assert_int_equal(found, 0x104000);
	assert_int_equal(m.n, 3);
	/* The header in the BIOS window when the low 4 KiB holds none. */
	memset(mem + 0x500, 0, 64);
	cbb_begin(&c, mem + 0xf0010);
	cbb_fwd(&c, 0x104000);
	cbb_end(&c);
	assert_int_equal(sh_cb_find(mem, sizeof(mem), 0, &t), SH_MM_OK);
	assert_int_equal(t, 0xf0010);
}

static void test_mb1_mb2_e820_details(void **state)
{
	(void)state;
	uint8_t b[256] = {0};
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	/* multiboot v1 entries larger than 20 bytes: size 28, then 20 */
	le32(b, 28);
	le64(b + 4, 0);
	le64(b + 12, 0x9f000);
	le32(b + 20, 1);
	le32(b + 24, 0xffffffff); /* padding: not read as data */
	le32(b + 32, 20);
	le64(b + 36, 0x100000);
	le64(b + 44, 0x100000);
	le32(b + 52, 1);
	assert_int_equal(sh_mb1_parse(b, 56, &m), SH_MM_OK);
	assert_int_equal(m.n, 2);
	expect_range(&m, 1, 0x100000, 0x200000, 1);
	/* multiboot2: entry_size 32, entry_version 1 */
	memset(b, 0, sizeof(b));
	le32(b, 6);
	le32(b + 4, 16 + 64);
	le32(b + 8, 32);
	le32(b + 12, 1);
	le64(b + 16, 0x1000);
	le64(b + 24, 0x1000);
	le32(b + 32, 1);
	le64(b + 48, 0x2000);
	le64(b + 56, 0x1000);
	le32(b + 64, 1);
	assert_int_equal(sh_mb2_parse(b, 16 + 64 + 7, &m), SH_MM_OK); /* padding after */
	assert_int_equal(m.n, 1);
	expect_range(&m, 0, 0x1000, 0x3000, 1);
	/* e820 with 24-byte entries: one disabled (attribute bit 0 clear) is ignored */
	memset(b, 0, sizeof(b));
	le64(b, 0);
	le64(b + 8, 0x100000);
	le32(b + 16, 1);
	le32(b + 20, 1);
	le64(b + 24, 0x1000);
	le64(b + 32, 0x1000);
	le32(b + 40, 2);
	le32(b + 44, 0);
	assert_int_equal(sh_e820_parse(b, 48, 24, &m), SH_MM_OK);
	assert_int_equal(m.n, 1);
	expect_range(&m, 0, 0, 0x100000, 1);
	/* read as 20-byte entries the same bytes are malformed */
	assert_int_equal(sh_e820_parse(b, 48, 20, &m), SH_MM_ERANGES_PAST_END);
}

/* Multiboot2 boot information: the memory-map tag among other tags, and its reasons. */
static void test_mb2_info(void **state)
{
	(void)state;
	uint8_t b[256] = {0};
	struct sh_memmap m;
	sh_memmap_init(&m, outr, CAP);
	/* header, a 13-byte cmdline tag (padded to 16), the mmap tag, the end tag */
	le32(b + 8, 1);
	le32(b + 12, 13);
	memcpy(b + 16, "quiet", 5);
	le32(b + 24, 6);
	le32(b + 28, 16 + 48);
	le32(b + 32, 24);
	le64(b + 40, 0);
	le64(b + 48, 0x9f000);
	le32(b + 56, 1);
	le64(b + 64, 0x100000);
	le64(b + 72, 0x100000);
	le32(b + 80, 3);
	le32(b + 88, 0);
	le32(b + 92, 8);
	le32(b, 96);
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_OK);
	assert_int_equal(m.n, 2);
	expect_range(&m, 1, 0x100000, 0x200000, 3);
	assert_int_equal(sh_mb2_parse_info(b, 95, &m), SH_MM_ETABLE_PAST_BUFFER);
	assert_int_equal(sh_mb2_parse_info(b, 7, &m), SH_MM_ETRUNCATED);
	le32(b, 4);
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_EHDRSIZE);
	le32(b, 96);
	le32(b + 12, 4); /* cmdline tag shorter than its header */
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_ERECORD_SHORT);
	le32(b + 12, 200); /* past total_size */
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_ERECORD_PAST_TABLE);
	le32(b + 12, 13);
	le32(b + 24, 99); /* no mmap tag before the end tag */
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_ENOMEMTAG);
	le32(b + 24, 6);
	le32(b + 32, 20); /* the tag's own reasons come through */
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_EENTRY_SIZE);
	le32(b + 32, 24);
	le32(b + 24, 0); /* end tag first */
	assert_int_equal(sh_mb2_parse_info(b, 96, &m), SH_MM_ENOMEMTAG);
}

static void test_emit_tables_are_valid(void **state)
{
	(void)state;
	static struct sh_mem_range r[3] = {
		{0, 0x9f000, 1}, {0x100000, 0x200000, 1}, {0x200000, 0x201000, 16}};
	struct sh_memmap m = {r, 3, 3, 3};
	uint8_t b[256];
	size_t len;
	assert_int_equal(sh_memmap_emit(SH_FMT_CBTABLE, &m, b, sizeof(b), &len), SH_MM_OK);
	assert_int_equal(len, 24 + 8 + 60);
	assert_memory_equal(b, "LBIO", 4);
	assert_int_equal(sh_cb_checksum(b, 24), 0);
	assert_int_equal(get32(b + 16), sh_cb_checksum(b + 24, len - 24));
	assert_int_equal(get32(b + 20), 1);
	assert_int_equal(sh_memmap_emit(SH_FMT_CBTABLE, &m, b, len - 1, &len), SH_MM_EOVERFLOW);
	assert_int_equal(sh_memmap_emit(SH_FMT_MB2, &m, b, sizeof(b), &len), SH_MM_OK);
	assert_int_equal(len, 16 + 72);
	assert_int_equal(get32(b + 4), len);
	assert_int_equal(sh_memmap_emit(SH_FMT_MB1, &m, b, sizeof(b), &len), SH_MM_OK);
	assert_int_equal(len, 72);
	assert_int_equal(get32(b + 24), 20);
	assert_int_equal(sh_memmap_emit(SH_FMT_E820_24, &m, b, sizeof(b), &len), SH_MM_OK);
	assert_int_equal(get32(b + 20), 1);
	/* an empty map makes an empty-but-valid table */
	struct sh_memmap e = {r, 3, 0, 0};
	assert_int_equal(sh_memmap_emit(SH_FMT_CBTABLE, &e, b, sizeof(b), &len), SH_MM_OK);
	assert_int_equal(len, 32);
	assert_int_equal(parse_cb(b, len), SH_MM_ENORAM);
}

/* Every capacity short of a table's length, near either end, gets SH_MM_EOVERFLOW and no
 * byte written past it (each buffer is exactly that big, so ASan sees a stray write). */
static void test_emit_short_capacity(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	struct sh_memmap m0;
	sh_memmap_init(&m0, r, CAP);
	assert_int_equal(sh_memmap_normalize(samples[0].raw, samples[0].n, &m0), SH_MM_OK);
	for (size_t f = 0; f < sizeof(all_formats) / sizeof(all_formats[0]); f++) {
		size_t need, len, big = 2 * MiB;
		uint8_t *full = malloc(big);
		assert_non_null(full);
		assert_int_equal(sh_memmap_emit(all_formats[f], &m0, full, big, &need),
				 SH_MM_OK);
		assert_int_equal(sh_memmap_emit(all_formats[f], &m0, full, need, &len),
				 SH_MM_OK);
		assert_int_equal(len, need);
		free(full);
		for (size_t cap = 0; cap < need; cap++) {
			if (cap == 64 && need > 128)
				cap = need - 64;
			uint8_t *b = malloc(cap ? cap : 1);
			assert_non_null(b);
			if (sh_memmap_emit(all_formats[f], &m0, b, cap, &len) !=
			    SH_MM_EOVERFLOW)
				fail_msg("format %d, capacity %zu of %zu: not SH_MM_EOVERFLOW",
					 (int)all_formats[f], cap, need);
			free(b);
		}
	}
}

/* A last tag whose padded size would pass the end of the boot information ends the walk:
 * nothing past total_size is read (the copy is exactly that big). */
static void test_mb2_info_unpadded_last_tag(void **state)
{
	(void)state;
	uint8_t *b = calloc(1, 21);
	struct sh_memmap m;
	assert_non_null(b);
	sh_memmap_init(&m, outr, CAP);
	le32(b, 21);
	le32(b + 8, 1); /* a 13-byte tag, the last thing in the table */
	le32(b + 12, 13);
	assert_int_equal(sh_mb2_parse_info(b, 21, &m), SH_MM_ENOMEMTAG);
	free(b);
}

/* Every truncation of a valid table of each format is rejected or parsed, never read past
 * (ASan would catch a read outside the exactly-sized copy). */
static void test_every_truncation(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	static uint8_t b[8192];
	struct sh_memmap m0, m;
	sh_memmap_init(&m0, r, CAP);
	assert_int_equal(sh_memmap_normalize(samples[0].raw, samples[0].n, &m0), SH_MM_OK);
	for (size_t f = 0; f < sizeof(all_formats) / sizeof(all_formats[0]); f++) {
		size_t len;
		assert_int_equal(sh_memmap_emit(all_formats[f], &m0, b, sizeof(b), &len),
				 SH_MM_OK);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, b, cut);
			sh_memmap_init(&m, outr, CAP);
			int rc = sh_memmap_parse(all_formats[f], copy, cut, &m);
			if (rc == SH_MM_OK)
				assert_normalized(&m);
			else
				assert_true(rc >= SH_MM_FIRST && rc <= SH_MM_EFORMAT);
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples_all_formats),
		cmocka_unit_test(test_sample_quirks),
		cmocka_unit_test(test_overflow_real_map),
		cmocka_unit_test(test_checksum_known_answers),
		cmocka_unit_test(test_reason_einval),
		cmocka_unit_test(test_raw_null_array),
		cmocka_unit_test(test_rejected_table_empties_map),
		cmocka_unit_test(test_emit_count_overflows_size),
		cmocka_unit_test(test_reason_etruncated),
		cmocka_unit_test(test_reason_esignature),
		cmocka_unit_test(test_reason_ehdrsize),
		cmocka_unit_test(test_reason_ehdrchecksum),
		cmocka_unit_test(test_reason_etblchecksum),
		cmocka_unit_test(test_reason_etable_past_buffer),
		cmocka_unit_test(test_reason_erecord_short),
		cmocka_unit_test(test_reason_erecord_align),
		cmocka_unit_test(test_reason_erecord_past_table),
		cmocka_unit_test(test_reason_eranges_past_end),
		cmocka_unit_test(test_reason_eentry_size),
		cmocka_unit_test(test_reason_eforward_outside),
		cmocka_unit_test(test_reason_etoo_many_forwards),
		cmocka_unit_test(test_reason_eforward_loop),
		cmocka_unit_test(test_reason_enotfound),
		cmocka_unit_test(test_reason_enomemtag),
		cmocka_unit_test(test_reason_enoram),
		cmocka_unit_test(test_reason_eoverflow),
		cmocka_unit_test(test_reason_eformat),
		cmocka_unit_test(test_strerror_names),
		cmocka_unit_test(test_hostile_overlaps),
		cmocka_unit_test(test_hostile_unsorted_and_odd_types),
		cmocka_unit_test(test_hostile_wrap),
		cmocka_unit_test(test_hostile_end_at_4g),
		cmocka_unit_test(test_hostile_ram_above_limit),
		cmocka_unit_test(test_hostile_many_records_and_forward_with_memory),
		cmocka_unit_test(test_unaligned_and_image_base),
		cmocka_unit_test(test_find_low_forward_like_coreboot),
		cmocka_unit_test(test_mb1_mb2_e820_details),
		cmocka_unit_test(test_mb2_info),
		cmocka_unit_test(test_emit_tables_are_valid),
		cmocka_unit_test(test_emit_short_capacity),
		cmocka_unit_test(test_mb2_info_unpadded_last_tag),
		cmocka_unit_test(test_every_truncation),
	};
	return cmocka_run_group_tests_name("memmap", tests, setup_samples, NULL);
}
