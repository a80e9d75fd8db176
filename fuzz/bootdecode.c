/* SPDX-License-Identifier: MIT */
/*
 * The boot input format (bootdecode.h) and the heap a payload would build from it.
 */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bootdecode.h"
#include "memmap.h"
#include "place_ref.h"

#define PAGE 4096u
#define MAP_CAP 64
#define RAW_CAP 256
#define MODEL_MAX 64	  /* the placement model is cubic: compare only maps this small */
#define BOOT_OPTS_LINE 64 /* option bytes per text line at most */

static const char *const fmt_names[BOOT_NFORMATS + 1] = {
	"?", "cbtable", "mb1", "mb2", "e820", "e820_24", "cbimage", "mb2info",
};

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | get16(p + 2) << 16;
}

size_t boot_decode(const uint8_t *data, size_t size, struct boot_input *b)
{
	uint8_t h[BOOT_HEADER_BYTES];
	size_t len, at;

	/* A short input reads as if padded with zeros, so every input means something. */
	memset(h, 0, sizeof(h));
	memcpy(h, data, size < sizeof(h) ? size : sizeof(h));
	memset(b, 0, sizeof(*b));
	b->fmt = (uint8_t)(1 + h[0] % BOOT_NFORMATS);
	b->heap_pages = 1 + get16(h + 1) % BOOT_MAX_HEAP_PAGES;
	b->nslots = 1 + get16(h + 3) % 1024;
	b->limit = h[5];
	b->static_bytes = get16(h + 6) % (BOOT_MAX_STATIC + 1);
	b->static_slots = h[8];
	b->excl_page = get32(h + 9);
	b->excl_pages = get16(h + 13);
	len = get16(h + 15);
	if (size <= BOOT_HEADER_BYTES)
		return size;
	if (len > size - BOOT_HEADER_BYTES)
		len = size - BOOT_HEADER_BYTES;
	if (len > BOOT_MAX_TABLE)
		len = BOOT_MAX_TABLE;
	memcpy(b->table, data + BOOT_HEADER_BYTES, len);
	b->table_len = len;
	len += BOOT_HEADER_BYTES;
	/* The options section runs from the first marker after the table to the end. */
	at = len + boot_ops_bytes(data, size, len);
	if (at < size) {
		at += BOOT_OPTS_MARKER_LEN;
		b->has_opts = true;
		if (at < size)
			b->opts_flags =
				data[at++] & (BOOT_OPTS_DEFAULT_SIZE | BOOT_OPTS_DEFAULT_SLOTS);
		b->opts_len = size - at < BOOT_MAX_OPTS ? size - at : BOOT_MAX_OPTS;
		memcpy(b->opts, data + at, b->opts_len);
	}
	return len;
}

size_t boot_ops_bytes(const uint8_t *data, size_t size, size_t used)
{
	for (size_t i = used; i + BOOT_OPTS_MARKER_LEN <= size; i++) {
		if (memcmp(data + i, BOOT_OPTS_MARKER, BOOT_OPTS_MARKER_LEN) == 0)
			return i - used;
	}
	return size - used;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

size_t boot_encode(const struct boot_input *b, uint8_t *out, size_t cap)
{
	if (cap < BOOT_HEADER_BYTES + b->table_len || b->fmt < 1 || b->fmt > BOOT_NFORMATS ||
	    b->heap_pages < 1 || b->heap_pages > BOOT_MAX_HEAP_PAGES || b->nslots < 1 ||
	    b->nslots > 1024 || b->static_bytes > BOOT_MAX_STATIC || b->excl_pages > 0xffff ||
	    b->table_len > BOOT_MAX_TABLE)
		return 0;
	out[0] = (uint8_t)(b->fmt - 1);
	put16(out + 1, b->heap_pages - 1);
	put16(out + 3, b->nslots - 1);
	out[5] = b->limit;
	put16(out + 6, b->static_bytes);
	out[8] = b->static_slots;
	put16(out + 9, b->excl_page);
	put16(out + 11, b->excl_page >> 16);
	put16(out + 13, b->excl_pages);
	put16(out + 15, (uint32_t)b->table_len);
	memcpy(out + BOOT_HEADER_BYTES, b->table, b->table_len);
	return BOOT_HEADER_BYTES + b->table_len;
}

size_t boot_encode_opts(const struct boot_input *b, uint8_t *out, size_t cap)
{
	if (!b->has_opts)
		return 0;
	if (b->opts_len > BOOT_MAX_OPTS || cap < BOOT_OPTS_MARKER_LEN + 1 + b->opts_len)
		return (size_t)-1;
	memcpy(out, BOOT_OPTS_MARKER, BOOT_OPTS_MARKER_LEN);
	out[BOOT_OPTS_MARKER_LEN] = b->opts_flags;
	memcpy(out + BOOT_OPTS_MARKER_LEN + 1, b->opts, b->opts_len);
	return BOOT_OPTS_MARKER_LEN + 1 + b->opts_len;
}

/* Writes s[0 .. n) into out[cap] with the escapes of the options line; a text that does not
 * fit ends in "..." (only reports cut it). */
static void escape(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[8];

		if (c == '\\' || c == '"')
			snprintf(e, sizeof(e), "\\%c", c);
		else if (c == '\t')
			snprintf(e, sizeof(e), "\\t");
		else if (c == '\n')
			snprintf(e, sizeof(e), "\\n");
		else if (c == '\r')
			snprintf(e, sizeof(e), "\\r");
		else if (c < 0x20 || c > 0x7e)
			snprintf(e, sizeof(e), "\\x%02x", c);
		else
			snprintf(e, sizeof(e), "%c", c);
		if (k + strlen(e) + 4 > cap) {
			snprintf(out + k, cap - k, "...");
			return;
		}
		memcpy(out + k, e, strlen(e));
		k += strlen(e);
	}
	out[k] = 0;
}

/* White space or NUL: where option text may be cut for display. */
static bool word_break(char c)
{
	return c == 0 || strchr(" \t\n\r\v\f", c) != NULL;
}

/* The values the options start from: the header's, or 0 (the defaults) where a flag says. */
static uint64_t opts_heap_start(const struct boot_input *b)
{
	return b->has_opts && (b->opts_flags & BOOT_OPTS_DEFAULT_SIZE)
		       ? 0
		       : (uint64_t)b->heap_pages * PAGE;
}

static size_t opts_slots_start(const struct boot_input *b)
{
	return b->has_opts && (b->opts_flags & BOOT_OPTS_DEFAULT_SLOTS) ? 0 : b->nslots;
}

static uint64_t limit_of(uint8_t code)
{
	if (code == 0)
		return SH_PLACE_LIMIT_4G;
	if (code == 1)
		return SH_MEM_TOP;
	return (uint64_t)code << 24;
}

void boot_format(const struct boot_input *b, FILE *f)
{
	struct sh_mem_range raw[RAW_CAP];
	size_t n = 0;
	int rc;

	fprintf(f, "boot format=%s heap=%" PRIu32 " slots=%" PRIu32, fmt_names[b->fmt],
		b->heap_pages * PAGE, b->nslots);
	if (b->limit == 0)
		fprintf(f, " limit=4G");
	else if (b->limit == 1)
		fprintf(f, " limit=none");
	else
		fprintf(f, " limit=0x%" PRIx64, limit_of(b->limit));
	fprintf(f, " static=%" PRIu32 " static_slots=%u excl=0x%" PRIx64 "+0x%" PRIx64 "\n",
		b->static_bytes, b->static_slots, (uint64_t)b->excl_page * PAGE,
		(uint64_t)b->excl_pages * PAGE);
	rc = sh_memmap_raw((enum sh_mm_format)b->fmt, b->table, b->table_len, raw, RAW_CAP, &n);
	if (rc == 0) {
		fprintf(f, "# the table holds %zu entr%s:\n", n, n == 1 ? "y" : "ies");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "#   [0x%" PRIx64 ", 0x%" PRIx64 ") type %" PRIu32 " (%s)\n",
				raw[i].start, raw[i].end, raw[i].type,
				sh_mem_type_name(raw[i].type));
	} else {
		fprintf(f, "# the table is rejected: %s\n", sh_memmap_strerror(rc));
	}
	for (size_t i = 0; i < b->table_len; i += 32) {
		fprintf(f, "table");
		for (size_t k = i; k < b->table_len && k < i + 32; k++)
			fprintf(f, " %02x", b->table[k]);
		fputc('\n', f);
	}
	if (b->has_opts) {
		struct bootopts_want w;
		char text[4 * BOOT_OPTS_LINE + 8];
		size_t i = 0;

		bootopts_model(b->opts, b->opts_len, opts_heap_start(b), opts_slots_start(b),
			       &w);
		fprintf(f, "# sh_boot_options should return %d, leaving heap size %" PRIu64,
			w.rc, w.heap_size);
		fprintf(f, "%s and %zu slots%s\n", w.heap_size ? "" : " (the default)",
			w.nslots, w.nslots ? "" : " (the default)");
		do {
			/* Lines of at most BOOT_OPTS_LINE bytes, cut after a separator if one is
			 * in the second half (the parser joins them again); one line when empty. */
			size_t chunk = b->opts_len - i;

			if (chunk > BOOT_OPTS_LINE) {
				chunk = BOOT_OPTS_LINE;
				for (size_t k = BOOT_OPTS_LINE; k > BOOT_OPTS_LINE / 2; k--) {
					if (word_break(b->opts[i + k - 1])) {
						chunk = k;
						break;
					}
				}
			}
			escape(b->opts + i, chunk, text, sizeof(text));
			fprintf(f, "options%s%s \"%s\"\n",
				i == 0 && (b->opts_flags & BOOT_OPTS_DEFAULT_SIZE)
					? " default-size"
					: "",
				i == 0 && (b->opts_flags & BOOT_OPTS_DEFAULT_SLOTS)
					? " default-slots"
					: "",
				text);
			i += chunk;
		} while (i < b->opts_len);
	}
}

static bool num(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s == '-' || *s == 0)
		return false;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

static int boot_field(struct boot_input *b, const char *key, const char *val, char *err,
		      size_t errcap)
{
	uint64_t v = 0, w = 0;

	if (strcmp(key, "format") == 0) {
		for (uint8_t i = 1; i <= BOOT_NFORMATS; i++) {
			if (strcmp(val, fmt_names[i]) == 0) {
				b->fmt = i;
				return 0;
			}
		}
	} else if (strcmp(key, "heap") == 0) {
		if (num(val, &v) && v % PAGE == 0 && v >= PAGE &&
		    v <= BOOT_MAX_HEAP_PAGES * PAGE) {
			b->heap_pages = (uint32_t)(v / PAGE);
			return 0;
		}
	} else if (strcmp(key, "slots") == 0) {
		if (num(val, &v) && v >= 1 && v <= 1024) {
			b->nslots = (uint32_t)v;
			return 0;
		}
	} else if (strcmp(key, "limit") == 0) {
		if (strcmp(val, "4G") == 0) {
			b->limit = 0;
			return 0;
		}
		if (strcmp(val, "none") == 0) {
			b->limit = 1;
			return 0;
		}
		if (num(val, &v) && v % (1u << 24) == 0 && v >> 24 >= 2 && v >> 24 <= 255) {
			b->limit = (uint8_t)(v >> 24);
			return 0;
		}
	} else if (strcmp(key, "static") == 0) {
		if (num(val, &v) && v <= BOOT_MAX_STATIC) {
			b->static_bytes = (uint32_t)v;
			return 0;
		}
	} else if (strcmp(key, "static_slots") == 0) {
		if (num(val, &v) && v <= 255) {
			b->static_slots = (uint8_t)v;
			return 0;
		}
	} else if (strcmp(key, "excl") == 0) {
		char buf[64];
		char *plus;

		snprintf(buf, sizeof(buf), "%s", val);
		plus = strchr(buf, '+');
		if (plus) {
			*plus = 0;
			if (num(buf, &v) && num(plus + 1, &w) && v % PAGE == 0 &&
			    w % PAGE == 0 && v / PAGE <= UINT32_MAX && w / PAGE <= 0xffff) {
				b->excl_page = (uint32_t)(v / PAGE);
				b->excl_pages = (uint32_t)(w / PAGE);
				return 0;
			}
		}
	}
	snprintf(err, errcap, "bad boot field %s=%s", key, val);
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* options [default-size] [default-slots] "text" [# comment] */
static int parse_options(const char *p, struct boot_input *b, char *err, size_t errcap)
{
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "default-size", 12) == 0 && (p[12] == ' ' || p[12] == '\t')) {
			b->opts_flags |= BOOT_OPTS_DEFAULT_SIZE;
			p += 12;
		} else if (strncmp(p, "default-slots", 13) == 0 &&
			   (p[13] == ' ' || p[13] == '\t')) {
			b->opts_flags |= BOOT_OPTS_DEFAULT_SLOTS;
			p += 13;
		} else {
			break;
		}
	}
	if (*p++ != '"') {
		snprintf(err, errcap, "options: expected a quoted text");
		return -1;
	}
	b->has_opts = true;
	while (*p != '"') {
		char c = *p++;

		if (c == 0 || c == '\r' || c == '\n') {
			snprintf(err, errcap, "options: unterminated text");
			return -1;
		}
		if (c == '\\') {
			char e = *p++;
			int hi, lo;

			if (e == '\\' || e == '"') {
				c = e;
			} else if (e == 't') {
				c = '\t';
			} else if (e == 'n') {
				c = '\n';
			} else if (e == 'r') {
				c = '\r';
			} else if (e == 'x' && (hi = hex_digit(p[0])) >= 0 &&
				   (lo = hex_digit(p[1])) >= 0) {
				c = (char)(hi * 16 + lo);
				p += 2;
			} else {
				snprintf(err, errcap, "options: bad escape '\\%c'",
					 e ? e : '0');
				return -1;
			}
		}
		if (b->opts_len >= BOOT_MAX_OPTS) {
			snprintf(err, errcap, "options longer than %d bytes", BOOT_MAX_OPTS);
			return -1;
		}
		b->opts[b->opts_len++] = c;
	}
	p++;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p != 0 && *p != '#') {
		snprintf(err, errcap, "options: text after the closing quote");
		return -1;
	}
	return 2;
}

int boot_parse_line(const char *line, struct boot_input *b, char *err, size_t errcap)
{
	char buf[512];
	char *save = NULL, *w;

	if (errcap)
		err[0] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, "options", 7) == 0 && (line[7] == ' ' || line[7] == '\t'))
		return parse_options(line + 7, b, err, errcap);
	if (strncmp(line, "boot ", 5) != 0 && strncmp(line, "table ", 6) != 0 &&
	    strcmp(line, "table") != 0)
		return 0;
	if (strlen(line) >= sizeof(buf)) {
		snprintf(err, errcap, "line too long");
		return -1;
	}
	strcpy(buf, line);
	w = strtok_r(buf, " \t\r\n", &save);
	if (strcmp(w, "boot") == 0) {
		if (b->fmt == 0) {
			/* Defaults for fields a hand-written trace leaves out. */
			b->fmt = 4;
			b->heap_pages = 16;
			b->nslots = 64;
		}
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL && w[0] != '#') {
			char *eq = strchr(w, '=');

			if (!eq) {
				snprintf(err, errcap, "bad boot field '%s'", w);
				return -1;
			}
			*eq = 0;
			if (boot_field(b, w, eq + 1, err, errcap))
				return -1;
		}
		return 2;
	}
	while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL && w[0] != '#') {
		char *end;
		unsigned long x = strtoul(w, &end, 16);

		if (*end || x > 255 || strlen(w) > 2) {
			snprintf(err, errcap, "bad table byte '%s'", w);
			return -1;
		}
		if (b->table_len >= BOOT_MAX_TABLE) {
			snprintf(err, errcap, "table longer than %d bytes", BOOT_MAX_TABLE);
			return -1;
		}
		b->table[b->table_len++] = (uint8_t)x;
	}
	return 2;
}

/* The translation hook: the placed footprint lands in the pool, after the static region. */
struct mapping {
	unsigned char *host;
	size_t cap;
	unsigned calls;
	uint64_t phys, size;
};

static void *map_phys(void *ctx, uint64_t phys, uint64_t size)
{
	struct mapping *m = ctx;

	m->calls++;
	m->phys = phys;
	m->size = size;
	return size <= m->cap ? m->host : NULL;
}

/* What sh_add_region must answer for a region, by its header (the rule the engine applies to
 * the regions it adds itself). SH_ETOOBIG stands for any refusal: the header gives several
 * reasons for it and does not order them. */
static int region_want(const void *base, size_t size, size_t nslots, unsigned nregions)
{
	uintptr_t lo = (uintptr_t)base, pad;
	size_t meta = nslots ? sh_region_meta_bytes(nslots, size) : 0;

	if (nslots == 0)
		return SH_EINVAL;
	if (meta == 0)
		return SH_ETOOBIG;
	if (nregions >= SH_MAX_REGIONS)
		return SH_ETOOMANY;
	/* Sizes and offsets from lo, never end addresses: on a 32-bit host lo + meta may pass
	 * the top of the address space, and a region may end exactly there. */
	if (size != 0 && size - 1 > UINTPTR_MAX - lo)
		return SH_ETOOBIG;
	if (meta >= size)
		return SH_ETOOSMALL;
	pad = (SH_GRANULE - (lo + meta) % SH_GRANULE) % SH_GRANULE; /* arena alignment */
	if (size - meta < pad || size - meta - pad < SH_GRANULE)
		return SH_ETOOSMALL;
	return SH_OK;
}

static bool region_answer_ok(int got, int want)
{
	return got == want || (want == SH_ETOOBIG && got != SH_OK);
}

/* Runs sh_boot_options on the input's options and compares return and config with the model.
 * On a mismatch it names the word where the two first part: the end of the shortest prefix
 * of the text on which they disagree. */
static int check_options(struct diffheap *d, const struct boot_input *b,
			 struct sh_boot_config *cfg)
{
	struct sh_boot_config before, expect, probe;
	struct bootopts_want w, pw;
	char word[96], text[200], *copy;
	size_t at = b->opts_len, from, to;
	int rc;

	memcpy(&before, cfg, sizeof(before));
	bootopts_model(b->opts, b->opts_len, cfg->heap_size, cfg->nslots, &w);
	/* An exact-size copy, so that AddressSanitizer sees a read past the length. */
	copy = malloc(b->opts_len);
	if (copy == NULL && b->opts_len > 0)
		abort();
	if (b->opts_len > 0)
		memcpy(copy, b->opts, b->opts_len);
	rc = sh_boot_options(copy != NULL ? copy : "", b->opts_len, cfg);
	free(copy);
	memcpy(&expect, &before, sizeof(expect));
	expect.heap_size = w.heap_size;
	expect.nslots = w.nslots;
	if (rc == w.rc && memcmp(&expect, cfg, sizeof(expect)) == 0)
		return 0;

	for (size_t n = 1; n < b->opts_len; n++) {
		memcpy(&probe, &before, sizeof(probe));
		bootopts_model(b->opts, n, before.heap_size, before.nslots, &pw);
		if (sh_boot_options(b->opts, n, &probe) != pw.rc ||
		    probe.heap_size != pw.heap_size || probe.nslots != pw.nslots) {
			at = n;
			break;
		}
	}
	/* The word around the last byte of that prefix, cut at any white space or NUL. */
	for (from = at; from > 0 && !word_break(b->opts[from - 1]); from--)
		;
	for (to = at; to < b->opts_len && !word_break(b->opts[to]); to++)
		;
	escape(b->opts + from, to - from, word, sizeof(word));
	escape(b->opts, b->opts_len, text, sizeof(text));
	return dh_report(
		d, "boot options",
		"word \"%s\" of \"%s\": sh_boot_options returned %d, heap_size %" PRIu64
		", nslots %zu%s; model %d, heap_size %" PRIu64 ", nslots %zu",
		word, text, rc, cfg->heap_size, cfg->nslots,
		rc == w.rc && cfg->heap_size == w.heap_size && cfg->nslots == w.nslots
			? ", other fields changed"
			: "",
		w.rc, w.heap_size, w.nslots);
}

/* A placement the model found: the translation hook is asked for exactly that footprint,
 * then sh_boot_init fails where the header says (no pointer for it, a refused region) or adds
 * it. */
static int check_placed(struct diffheap *d, const struct sh_boot_result *res,
			const struct mapping *mp, int rc, uint64_t want_start, uint64_t foot,
			size_t nslots)
{
	int hw;

	if ((uint64_t)(size_t)foot != foot) {
		if (mp->calls != 0 || res->have_extended ||
		    res->extended_error != SH_MM_ESIZE || rc != SH_MM_ESIZE)
			return dh_report(
				d, "boot placement",
				"footprint of %" PRIu64 " bytes exceeds SIZE_MAX: sh_boot_init"
				" returned %s, extended_error %s",
				foot, sh_strerror(rc), sh_strerror(res->extended_error));
		return 0;
	}
	if (mp->calls != 1 || mp->phys != want_start || mp->size != foot)
		return dh_report(d, "boot placement",
				 "model places the %" PRIu64 "-byte footprint at 0x%" PRIx64
				 "; the translation hook was asked %u times, last for %" PRIu64
				 " bytes at 0x%" PRIx64 " (sh_boot_init: %s)",
				 foot, want_start, mp->calls, mp->size, mp->phys,
				 sh_memmap_strerror(rc));
	if (foot > mp->cap) {
		if (rc != SH_MM_EADDRESS || res->extended_error != SH_MM_EADDRESS ||
		    res->have_extended)
			return dh_report(d, "boot placement",
					 "the hook gives no pointer for %" PRIu64
					 " bytes: sh_boot_init returned %s, extended %d",
					 foot, sh_memmap_strerror(rc), res->have_extended);
		return 0;
	}
	hw = region_want(mp->host, (size_t)foot, nslots, res->have_static ? 1u : 0u);
	if (hw != SH_OK) {
		if (rc != res->extended_error || !region_answer_ok(res->extended_error, hw) ||
		    res->have_extended)
			return dh_report(
				d, "boot placement",
				"extended region of %" PRIu64 " bytes, %zu slots: "
				"sh_boot_init returned %s, extended_error %s; expected "
				"%s",
				foot, nslots, sh_strerror(rc), sh_strerror(res->extended_error),
				sh_strerror(hw));
		return 0;
	}
	if (rc != SH_MM_OK || !res->have_extended || res->place.start != want_start ||
	    res->place.end != want_start + foot)
		return dh_report(d, "boot placement",
				 "heap of %" PRIu64
				 " bytes, %zu slots: model places it at 0x%" PRIx64
				 ", sh_boot_init %s 0x%" PRIx64 " (%s)",
				 foot, nslots, want_start,
				 res->have_extended ? "at" : "did not place it,",
				 res->place.start, sh_memmap_strerror(rc));
	return 0;
}

/*
 * mb2info tables also go through sh_boot_multiboot2, as a multiboot2 payload receives them:
 * the information block at physical MB2_INFO_PHYS (the table bytes), the heap mapped into a
 * scratch pool of its own, no static region. The tag walk for the command line and modules
 * runs on the fuzzed bytes; the heap it builds must keep clear of the information block, of
 * every module and of the exclusion, lie in RAM of the map it returned, and pass sh_check.
 */
#define MB2_INFO_PHYS 0x10000u
struct mb2_mapping {
	const uint8_t *info;
	size_t len;
	unsigned char *pool;
	size_t cap;
};

static void *mb2_map(void *ctx, uint64_t phys, uint64_t size)
{
	struct mb2_mapping *m = ctx;

	if (phys >= MB2_INFO_PHYS && phys - MB2_INFO_PHYS <= m->len &&
	    size <= m->len - (phys - MB2_INFO_PHYS))
		return (void *)(uintptr_t)(m->info + (phys - MB2_INFO_PHYS));
	return size <= m->cap ? m->pool : NULL;
}

static bool overlaps(uint64_t s, uint64_t e, const struct sh_mem_range *r)
{
	return r->start < e && s < r->end && r->start < r->end;
}

static int check_mb2_loader(struct diffheap *d, const struct boot_input *b,
			    const struct sh_boot_config *base)
{
	static struct sh_heap h;
	static unsigned char pool[BOOT_MAX_HEAP_PAGES * PAGE];
	static struct sh_mem_range mapbuf[MAP_CAP];
	struct mb2_mapping mm = {b->table, b->table_len, pool, sizeof(pool)};
	struct sh_boot_config cfg = *base;
	struct sh_boot_result res;
	struct sh_memmap map;

	cfg.static_base = NULL;
	cfg.static_size = 0;
	cfg.phys_to_ptr = mb2_map;
	cfg.phys_ctx = &mm;
	sh_memmap_init(&map, mapbuf, MAP_CAP);
	/* The heap an earlier input built in pool left it poisoned (ASan builds): ours again. */
	dh_unpoison(pool, sizeof(pool));
	int rc = sh_boot_multiboot2(&h, SH_MB2_MAGIC, MB2_INFO_PHYS, &cfg, &map, &res);
	if ((rc == SH_MM_OK) != res.have_extended ||
	    (rc != SH_MM_OK && rc != res.extended_error))
		return dh_report(d, "boot multiboot2",
				 "returned %s, extended %d, extended_error %s", sh_strerror(rc),
				 res.have_extended, sh_strerror(res.extended_error));
	if (!res.have_extended)
		return 0;
	uint64_t s = res.place.start, e = res.place.end;
	if (res.nloader == 0 || res.loader[0].start != MB2_INFO_PHYS ||
	    res.loader[0].end != MB2_INFO_PHYS + get32(b->table))
		return dh_report(d, "boot multiboot2", "information block not kept clear");
	for (size_t i = 0; i < res.nloader; i++)
		if (overlaps(s, e, &res.loader[i]))
			return dh_report(d, "boot multiboot2",
					 "heap [0x%" PRIx64 ", 0x%" PRIx64
					 ") overlaps loader data [0x%" PRIx64 ", 0x%" PRIx64
					 ")",
					 s, e, res.loader[i].start, res.loader[i].end);
	for (size_t i = 0; i < cfg.nexcl; i++)
		if (overlaps(s, e, &cfg.excl[i]))
			return dh_report(d, "boot multiboot2", "heap overlaps the exclusion");
	/* The modules by a walk of the harness's own, up to the end tag or a malformed tag
	 * (the call stops there too; a module after the memory map still counts). */
	uint32_t total = get32(b->table);
	for (uint32_t off = 8; total <= b->table_len && total - off >= 8;) {
		uint32_t type = get32(b->table + off), size = get32(b->table + off + 4);
		if (type == 0 || size < 8 || size > total - off)
			break;
		if (type == 3 && size >= 16) {
			struct sh_mem_range mod = {get32(b->table + off + 8),
						   get32(b->table + off + 12), SH_MEM_RESERVED};
			if (overlaps(s, e, &mod))
				return dh_report(d, "boot multiboot2",
						 "heap [0x%" PRIx64 ", 0x%" PRIx64
						 ") overlaps module [0x%" PRIx64 ", 0x%" PRIx64
						 ")",
						 s, e, mod.start, mod.end);
		}
		if (size > total - off - 7)
			break;
		off += (size + 7) & ~7u;
	}
	for (uint64_t a = s; a < e; a += PAGE)
		if (sh_memmap_type_at(&map, a) != SH_MEM_RAM)
			return dh_report(d, "boot multiboot2",
					 "heap page 0x%" PRIx64 " is not RAM in the map", a);
	if (sh_check(&h, NULL) != 0)
		return dh_report(d, "boot multiboot2", "sh_check fails on the heap it built");
	return 0;
}

int boot_setup(struct diffheap *d, const struct boot_input *b)
{
	static struct sh_mem_range mapbuf[MAP_CAP], childbuf[MAP_CAP + 4], raw[RAW_CAP];
	struct sh_memmap map, child;
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_mem_range excl;
	struct mapping mp;
	size_t pool_bytes, nraw = 0, nslots;
	unsigned char *pool = dh_pool(d, &pool_bytes);
	uint64_t heap, foot, limit = limit_of(b->limit), want_start = 0;
	int prc, rc, want = -1;
	bool have_map;

	sh_memmap_init(&map, mapbuf, MAP_CAP);
	prc = sh_memmap_parse((enum sh_mm_format)b->fmt, b->table, b->table_len, &map);
	have_map = prc == SH_MM_OK || prc == SH_MM_ENORAM;

	memset(&cfg, 0, sizeof(cfg));
	memset(&res, 0, sizeof(res));
	cfg.static_base = b->static_bytes ? pool : NULL;
	cfg.static_size = b->static_bytes;
	cfg.static_slots = b->static_slots;
	cfg.heap_size = opts_heap_start(b);
	cfg.nslots = opts_slots_start(b);
	cfg.limit = b->limit == 0 ? 0 : limit;
	excl.start = (uint64_t)b->excl_page * PAGE;
	excl.end = excl.start + (uint64_t)b->excl_pages * PAGE;
	excl.type = SH_MEM_RESERVED;
	cfg.excl = b->excl_pages ? &excl : NULL;
	cfg.nexcl = b->excl_pages ? 1 : 0;
	mp.host = pool + ((b->static_bytes + PAGE - 1) / PAGE) * PAGE;
	mp.cap = pool_bytes - (size_t)(mp.host - pool);
	mp.calls = 0;
	mp.phys = mp.size = 0;
	cfg.phys_to_ptr = map_phys;
	cfg.phys_ctx = &mp;

	dh_begin(d, false);
	if (b->has_opts && check_options(d, b, &cfg) != 0)
		return -1;
	if (b->fmt == SH_FMT_MB2INFO && b->table_len >= 8 && check_mb2_loader(d, b, &cfg) != 0)
		return -1;
	heap = cfg.heap_size ? cfg.heap_size : (uint64_t)SH_DEFAULT_HEAP_SIZE;
	nslots = cfg.nslots ? cfg.nslots : SH_DEFAULT_SLOTS;
	foot = heap > UINT64_MAX - (PAGE - 1) ? 0 : (heap + PAGE - 1) / PAGE * PAGE;

	/* The model's answer, from the raw entries. */
	if (have_map &&
	    sh_memmap_raw((enum sh_mm_format)b->fmt, b->table, b->table_len, raw, RAW_CAP,
			  &nraw) == 0 &&
	    nraw <= MODEL_MAX)
		want = shref_place(raw, nraw, heap, limit, cfg.excl, cfg.nexcl, &want_start);

	rc = sh_boot_init(dh_heap_mut(d), have_map ? &map : NULL, &cfg, &res);

	if (!have_map && !b->static_bytes) {
		if (rc != SH_MM_EINVAL)
			return dh_report(
				d, "boot placement",
				"no map and no static region: sh_boot_init returned %s",
				sh_memmap_strerror(rc));
		return 1;
	}
	if (b->static_bytes) {
		/* The static region comes first; when it is refused nothing else happens. */
		size_t sslots = b->static_slots ? b->static_slots : SH_BOOT_STATIC_SLOTS;
		int sw = region_want(pool, b->static_bytes, sslots, 0);

		if (sw != SH_OK &&
		    (rc != res.static_error || !region_answer_ok(res.static_error, sw) ||
		     res.extended_error != SH_OK || res.have_static || res.have_extended ||
		     mp.calls != 0))
			return dh_report(d, "boot static region",
					 "static region of %" PRIu32
					 " bytes, %zu slots: sh_boot_init"
					 " returned %s, static_error %s; expected %s",
					 b->static_bytes, sslots, sh_strerror(rc),
					 sh_strerror(res.static_error), sh_strerror(sw));
		if (sw != SH_OK)
			return 1;
		if (!res.have_static)
			return dh_report(d, "boot static region",
					 "static region of %" PRIu32
					 " bytes, %zu slots not added (%s)",
					 b->static_bytes, sslots, sh_memmap_strerror(rc));
	}
	if (!have_map) {
		if (rc != SH_MM_OK || res.have_extended || mp.calls != 0)
			return dh_report(d, "boot placement",
					 "no map: sh_boot_init returned %s, extended %d",
					 sh_memmap_strerror(rc), res.have_extended);
	} else if (want == SH_MM_OK) {
		if (check_placed(d, &res, &mp, rc, want_start, foot, nslots) != 0)
			return -1;
	} else if (want > 0) {
		/* The model finds no place: nothing is mapped, and the reason is the model's. */
		if (mp.calls != 0 || res.have_extended || res.extended_error != want ||
		    rc != want)
			return dh_report(
				d, "boot placement",
				"model: %s; sh_boot_init returned %s, extended_error %s, "
				"extended %d",
				sh_strerror(want), sh_strerror(rc),
				sh_strerror(res.extended_error), res.have_extended);
	}
	if (res.have_extended) {
		struct sh_region_info ri;

		if (mp.calls == 0 || mp.phys != res.place.start ||
		    sh_region_info(dh_heap(d), res.extended_region, &ri) != 0 ||
		    (unsigned char *)ri.base != mp.host || ri.size != foot ||
		    ri.nslots != nslots)
			return dh_report(d, "boot placement",
					 "extended region %u is not the translated footprint"
					 " (%" PRIu64 " bytes at 0x%" PRIx64 ", %zu slots)",
					 res.extended_region, foot, res.place.start, nslots);
		/* The child table reserves the heap: no chained payload can take it again. */
		sh_memmap_init(&child, childbuf, MAP_CAP + 4);
		if (sh_boot_child_map(&map, &res, NULL, 0, &child) == 0 &&
		    (sh_memmap_type_at(&child, res.place.start) == SH_MEM_RAM ||
		     sh_memmap_type_at(&child, res.place.end - 1) == SH_MEM_RAM ||
		     sh_memmap_type_at(&map, res.place.start) != SH_MEM_RAM))
			return dh_report(d, "boot child table",
					 "child table leaves [0x%" PRIx64 ", 0x%" PRIx64
					 ") as RAM",
					 res.place.start, res.place.end);
	}
	if (res.have_static) {
		struct sh_region_info ri;

		if (sh_region_info(dh_heap(d), res.static_region, &ri) != 0 ||
		    (unsigned char *)ri.base != pool || ri.size != b->static_bytes)
			return dh_report(d, "boot placement",
					 "static region %u is not the %" PRIu32 " bytes given",
					 res.static_region, b->static_bytes);
	}
	if (!res.have_static && !res.have_extended)
		return 1;
	return dh_adopt(d) ? -1 : 0;
}
