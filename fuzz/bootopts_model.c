/* SPDX-License-Identifier: MIT */
/*
 * The model of sh_boot_options (core/memmap.h), written from its header comment and its unit
 * tests (tests/test_memmap_boot.c), sharing no code with core/. It first cuts the text into
 * words, then reads the words left to right:
 *
 *   word   := "slotheap.size=" size | "slotheap.slots=" count | anything else (ignored)
 *   size   := number [K | M | G | k | m | g]      (times 2^10, 2^20, 2^30)
 *   count  := number                              (no suffix)
 *   number := decimal digits | "0x" hex digits    (hex digits in either case)
 *
 * A value that does not match, is 0, or does not fit (the size in 64 bits after the suffix,
 * the count in size_t) is malformed: the call returns -1 there. Each option read before it
 * stays applied; the field it names keeps its value. Otherwise the call returns how many
 * options it applied, a later option overriding an earlier one.
 *
 * The header leaves these points open; the model reads them as the allocator does, so that a
 * mismatch always means a misparse of something the header does say:
 *   - "separated by blanks": space, tab, newline and NUL separate words; any other byte,
 *     carriage return included, belongs to a word;
 *   - "0X" introduces hex as "0x" does;
 *   - the first malformed value ends the scan: options after it are not applied;
 *   - a count of 0 is malformed, as a size of 0 is.
 */
#include <stdint.h>
#include <string.h>

#include "bootdecode.h"

static const char size_key[] = "slotheap.size=";
static const char slots_key[] = "slotheap.slots=";

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

static int digit_value(char c, unsigned base)
{
	int v = -1;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = 10 + (c - 'a');
	else if (c >= 'A' && c <= 'F')
		v = 10 + (c - 'A');
	return v >= 0 && (unsigned)v < base ? v : -1;
}

/* Reads text[0 .. n) as a number in 64 bits; false if it is not one or does not fit. */
static bool read_number(const char *text, size_t n, uint64_t *out)
{
	unsigned base = 10;
	uint64_t x = 0;

	if (n >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
		base = 16;
		text += 2;
		n -= 2;
	}
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = digit_value(text[i], base);

		if (d < 0)
			return false;
		if (x > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		x = x * base + (uint64_t)d;
	}
	*out = x;
	return true;
}

static bool read_size(const char *text, size_t n, uint64_t *out)
{
	uint64_t unit = 1, x;

	if (n > 0) {
		switch (text[n - 1]) {
		case 'K':
		case 'k':
			unit = UINT64_C(1) << 10;
			break;
		case 'M':
		case 'm':
			unit = UINT64_C(1) << 20;
			break;
		case 'G':
		case 'g':
			unit = UINT64_C(1) << 30;
			break;
		default:
			break;
		}
	}
	if (unit != 1)
		n--;
	if (!read_number(text, n, &x) || x == 0 || x > UINT64_MAX / unit)
		return false;
	*out = x * unit;
	return true;
}

static bool read_count(const char *text, size_t n, size_t *out)
{
	uint64_t x;

	if (!read_number(text, n, &x) || x == 0 || x > SIZE_MAX)
		return false;
	*out = (size_t)x;
	return true;
}

static bool has_key(const char *w, size_t n, const char *key, size_t keylen)
{
	return n >= keylen && memcmp(w, key, keylen) == 0;
}

void bootopts_model(const char *s, size_t len, uint64_t heap_size, size_t nslots,
		    struct bootopts_want *want)
{
	size_t pos = 0;

	memset(want, 0, sizeof(*want));
	want->heap_size = heap_size;
	want->nslots = nslots;
	while (pos < len) {
		size_t start, n;
		const char *w;

		if (is_separator(s[pos])) {
			pos++;
			continue;
		}
		start = pos;
		while (pos < len && !is_separator(s[pos]))
			pos++;
		w = s + start;
		n = pos - start;
		if (has_key(w, n, size_key, sizeof(size_key) - 1)) {
			size_t k = sizeof(size_key) - 1;

			if (!read_size(w + k, n - k, &want->heap_size)) {
				want->rc = -1;
				want->word_at = start;
				want->word_len = n;
				return;
			}
			want->size_at = start;
			want->size_len = n;
			want->rc++;
		} else if (has_key(w, n, slots_key, sizeof(slots_key) - 1)) {
			size_t k = sizeof(slots_key) - 1;

			if (!read_count(w + k, n - k, &want->nslots)) {
				want->rc = -1;
				want->word_at = start;
				want->word_len = n;
				return;
			}
			want->slots_at = start;
			want->slots_len = n;
			want->rc++;
		}
	}
}
