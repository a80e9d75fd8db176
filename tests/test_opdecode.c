/* SPDX-License-Identifier: MIT */
/*
 * The fuzz input format (fuzz/opdecode.h) is a contract with the committed corpus: these
 * tests pin known bytes to known operations and text, and check that every field codec and
 * the text form round-trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bootdecode.h"
#include "opdecode.h"

static uint64_t rng = 0x1234567u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Known bytes decode to known operations and text: the format must not drift. */
static void test_golden_bytes(void **state)
{
	static const uint8_t in[] = {
		0x04,			      /* 1 region, top-down */
		0x00, 0x01, 0x10, 0x53, 0x02, /* 256 granules, 16 slots, 3/5, gap 2 */
		0x00, 0x64, 0x00, 0x00,	      /* malloc 100 */
		0x04, 0x06, 0x30, 0x00, 0x00, /* memalign 64 48 */
		0x06, 0x01, 0x02, 0x05,	      /* free_ptr interior 2 5 */
		0x03, 0x01, 0x00, 0x00, 0x80, /* realloc #1 max */
		0x01, 0xff, 0x00, 0x10, 0x40, /* malloc_in all 4096 */
		0x02, 0x04, 0x00, 0x00, 0x19, 0x00, 0x00, /* calloc 4 25 */
		0x00, 0x01,				  /* half an op: dropped */
	};
	static const char *const text[] = {
		"malloc 100",	  "memalign 64 48",	"free_ptr interior 2 5",
		"realloc #1 max", "malloc_in all 4096",
	};
	struct ops_layout l;
	struct ops_op ops[8];
	char line[128];
	size_t n;

	(void)state;
	n = ops_decode(in, sizeof(in), &l, ops, 8);
	assert_int_equal(l.nregions, 1);
	assert_true(l.topdown);
	assert_int_equal(l.r[0].arena_gran, 256);
	assert_int_equal(l.r[0].nslots, 16);
	assert_int_equal(l.r[0].misalign, 3);
	assert_int_equal(l.r[0].tail, 5);
	assert_int_equal(l.r[0].gap, 2);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < 5; i++) {
		ops_format_op(&ops[i], line, sizeof(line));
		assert_string_equal(line, text[i]);
	}
	assert_int_equal(ops[3].size, SIZE_MAX);
	assert_int_equal(ops[5].kind, OP_CALLOC);
	assert_int_equal(ops[5].n, 4);
	assert_int_equal(ops[5].size, 0x19);
}

static void test_size_codec(void **state)
{
	(void)state;
	/* Every 24-bit field value: decode, encode, decode gives the same size. */
	for (uint32_t v = 0; v < (1u << 24); v += 1 + (v & 0xff)) {
		size_t s = ops_size_decode(v), s2;
		uint32_t w;

		assert_true(ops_size_encode(s, &w));
		s2 = ops_size_decode(w);
		assert_int_equal(s, s2);
	}
	assert_int_equal(ops_size_decode(0), 0);
	assert_int_equal(ops_size_decode(511), 511);
	assert_int_equal(ops_size_decode(1u << 22 | 0x3fffff), 0x3fffff);
	assert_int_equal(ops_size_decode(2u << 22), SIZE_MAX);
}

static void test_align_codec(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		size_t al = ops_align_decode((uint8_t)a);
		uint8_t b;

		assert_true(ops_align_encode(al, &b));
		assert_int_equal(ops_align_decode(b), al);
	}
	assert_int_equal(ops_align_decode(12), 4096);
	assert_int_equal(ops_align_decode(0xc3), 3);
	assert_int_equal(ops_align_decode(0xe0), SIZE_MAX / 2 + 1);
}

/* Random bytes -> ops -> bytes -> ops, and ops -> text -> ops, change nothing. */
static void test_round_trips(void **state)
{
	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint8_t in[256], out[512];
		struct ops_layout l, l2;
		struct ops_op a[64], b[64];
		size_t len = 1 + next() % sizeof(in), n, n2, pos;
		char text[160], err[160];

		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)next();
		n = ops_decode(in, len, &l, a, 64);
		if (l.nregions == 0)
			continue;
		pos = ops_encode_layout(&l, out, sizeof(out));
		assert_true(pos > 0);
		for (size_t i = 0; i < n; i++) {
			size_t k = ops_encode_op(&a[i], out + pos, sizeof(out) - pos);

			assert_true(k > 0);
			pos += k;
		}
		n2 = ops_decode(out, pos, &l2, b, 64);
		assert_int_equal(n, n2);
		assert_memory_equal(&l, &l2, sizeof(l));
		for (size_t i = 0; i < n; i++) {
			struct ops_op c;
			struct ops_layout dummy;

			assert_memory_equal(&a[i], &b[i], sizeof(a[i]));
			ops_format_op(&a[i], text, sizeof(text));
			memset(&dummy, 0, sizeof(dummy));
			assert_int_equal(ops_parse_line(text, &dummy, &c, err, sizeof(err)), 1);
			assert_memory_equal(&a[i], &c, sizeof(c));
		}
	}
}

static void test_text_errors(void **state)
{
	struct ops_layout l;
	struct ops_op op;
	char err[160];

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(ops_parse_line("# comment", &l, &op, err, sizeof(err)), 0);
	assert_int_equal(ops_parse_line("   ", &l, &op, err, sizeof(err)), 0);
	assert_int_equal(
		ops_parse_line("region arena=4096 slots=8 gap=3", &l, &op, err, sizeof(err)),
		2);
	assert_int_equal(l.nregions, 1);
	assert_int_equal(ops_parse_line("region arena=4095 slots=8", &l, &op, err, sizeof(err)),
			 -1);
	assert_int_equal(ops_parse_line("frobnicate 3", &l, &op, err, sizeof(err)), -1);
	assert_int_equal(ops_parse_line("malloc", &l, &op, err, sizeof(err)), -1);
	assert_int_equal(ops_parse_line("free #256", &l, &op, err, sizeof(err)), -1);
	assert_int_equal(ops_parse_line("free_ptr nowhere 0 0", &l, &op, err, sizeof(err)), -1);
	assert_int_equal(
		ops_parse_line("free #3 # trailing comment", &l, &op, err, sizeof(err)), 1);
	assert_int_equal(op.kind, OP_FREE);
	assert_int_equal(op.idx, 3);
}

/* Opcodes 0xfe and 0xff are the SH_HARDEN build's overrun and write into free memory; this
 * build reads them as it always did (modulo OP_COUNT: calloc and realloc, with their fields),
 * and refuses their text forms. */
static void test_harden_opcodes_elsewhere(void **state)
{
	const uint8_t ov[] = {0xfe, 1, 2, 3, 4, 5, 6}, wf[] = {0xff, 7, 8, 9, 10};
	struct ops_layout l;
	struct ops_op op;
	char err[128];
	uint8_t out[16];

	(void)state;
	assert_int_equal(ops_decode_op(ov, sizeof(ov), &op), 7);
	assert_int_equal(op.kind, SH_HARDEN ? OP_OVERRUN : OP_CALLOC);
	assert_int_equal(ops_decode_op(wf, sizeof(wf), &op), 5);
	assert_int_equal(op.kind, SH_HARDEN ? OP_WRITE_FREED : OP_REALLOC);
	memset(&l, 0, sizeof(l));
	if (SH_HARDEN) {
		assert_int_equal(ops_parse_line("overrun #2 3 0x41", &l, &op, err, sizeof(err)),
				 1);
		assert_int_equal(ops_encode_op(&op, out, sizeof(out)), 4);
		assert_int_equal(out[0], 0xfe);
	} else {
		assert_int_equal(ops_parse_line("overrun #2 3 0x41", &l, &op, err, sizeof(err)),
				 -1);
		assert_string_equal(err, "'overrun' needs the SH_HARDEN build");
		assert_int_equal(
			ops_parse_line("write_freed 0 5 0x11", &l, &op, err, sizeof(err)), -1);
		op = (struct ops_op){.kind = OP_OVERRUN};
		assert_int_equal(ops_encode_op(&op, out, sizeof(out)), 0);
	}
}

/* Boot inputs: bytes -> input -> bytes, and input -> text -> input, change nothing; every
 * other input ends in an options section (flags and text of any bytes, up to past the
 * limit), which must survive both trips too. */
static void test_boot_round_trips(void **state)
{
	static struct boot_input a, b, c;
	static uint8_t in[512 + BOOT_OPTS_MARKER_LEN + 1 + BOOT_MAX_OPTS + 64];
	static uint8_t out[BOOT_HEADER_BYTES + BOOT_MAX_TABLE + BOOT_OPTS_MARKER_LEN + 1 +
			   BOOT_MAX_OPTS];
	static char line[8 * BOOT_MAX_OPTS];

	int cut_checked = 0;

	(void)state;
	for (int round = 0; round < 300; round++) {
		size_t len = next() % 512, used, n, k, text = 0;
		char err[160];
		FILE *f = tmpfile();

		assert_non_null(f);
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)next();
		if (round % 2) {
			/* A table that ends before the operations, so that the marker follows. */
			if (len < BOOT_HEADER_BYTES)
				len = BOOT_HEADER_BYTES;
			size_t table = next() % (len - BOOT_HEADER_BYTES + 1);
			in[15] = (uint8_t)table;
			in[16] = (uint8_t)(table >> 8);
			text = round % 10 == 1 ? BOOT_MAX_OPTS + 64 : next() % 48;
			memcpy(in + len, BOOT_OPTS_MARKER, BOOT_OPTS_MARKER_LEN);
			len += BOOT_OPTS_MARKER_LEN;
			in[len++] = (uint8_t)next();
			for (size_t i = 0; i < text; i++)
				in[len++] =
					(uint8_t)(round % 4 == 1 ? 'a' + next() % 26 : next());
		}
		used = boot_decode(in, len, &a);
		assert_true(used <= len);
		/* The table may swallow the marker; otherwise the section is the text, cut. */
		if (a.has_opts && text > 0 &&
		    used + boot_ops_bytes(in, len, used) ==
			    len - BOOT_OPTS_MARKER_LEN - 1 - text) {
			assert_int_equal(a.opts_len,
					 text < BOOT_MAX_OPTS ? text : BOOT_MAX_OPTS);
			cut_checked++;
		}
		n = boot_encode(&a, out, sizeof(out));
		assert_int_equal(n, BOOT_HEADER_BYTES + a.table_len);
		k = boot_encode_opts(&a, out + n, sizeof(out) - n);
		assert_true(k != (size_t)-1);
		assert_int_equal(boot_decode(out, n + k, &b), n);
		assert_int_equal(boot_ops_bytes(out, n + k, n), 0);
		assert_memory_equal(&a, &b, sizeof(a));
		boot_format(&a, f);
		rewind(f);
		memset(&c, 0, sizeof(c));
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			assert_true(boot_parse_line(line, &c, err, sizeof(err)) >= 0);
		}
		fclose(f);
		assert_memory_equal(&a, &c, sizeof(a));
	}
	print_message("options sections checked against their text: %d\n", cut_checked);
	assert_true(cut_checked >= 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_bytes),
		cmocka_unit_test(test_size_codec),
		cmocka_unit_test(test_align_codec),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_boot_round_trips),
		cmocka_unit_test(test_harden_opcodes_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
