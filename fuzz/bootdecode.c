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
#define MODEL_MAX 64 /* the placement model is cubic: compare only maps this small */

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
	size_t len;

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
	return BOOT_HEADER_BYTES + len;
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

int boot_parse_line(const char *line, struct boot_input *b, char *err, size_t errcap)
{
	char buf[512];
	char *save = NULL, *w;

	if (errcap)
		err[0] = 0;
	while (*line == ' ' || *line == '\t')
		line++;
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

int boot_setup(struct diffheap *d, const struct boot_input *b)
{
	static struct sh_mem_range mapbuf[MAP_CAP], childbuf[MAP_CAP + 4], raw[RAW_CAP];
	struct sh_memmap map, child;
	struct sh_boot_config cfg;
	struct sh_boot_result res;
	struct sh_mem_range excl;
	struct mapping mp;
	size_t pool_bytes, nraw = 0;
	unsigned char *pool = dh_pool(d, &pool_bytes);
	uint64_t heap = (uint64_t)b->heap_pages * PAGE, limit = limit_of(b->limit),
		 want_start = 0;
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
	cfg.heap_size = heap;
	cfg.nslots = b->nslots;
	cfg.limit = b->limit == 0 ? 0 : limit;
	excl.start = (uint64_t)b->excl_page * PAGE;
	excl.end = excl.start + (uint64_t)b->excl_pages * PAGE;
	excl.type = SH_MEM_RESERVED;
	cfg.excl = b->excl_pages ? &excl : NULL;
	cfg.nexcl = b->excl_pages ? 1 : 0;
	mp.host = pool + ((b->static_bytes + PAGE - 1) / PAGE) * PAGE;
	mp.cap = pool_bytes - (size_t)(mp.host - pool);
	mp.calls = 0;
	cfg.phys_to_ptr = map_phys;
	cfg.phys_ctx = &mp;

	/* The model's answer, from the raw entries. */
	if (have_map &&
	    sh_memmap_raw((enum sh_mm_format)b->fmt, b->table, b->table_len, raw, RAW_CAP,
			  &nraw) == 0 &&
	    nraw <= MODEL_MAX)
		want = shref_place(raw, nraw, heap, limit, cfg.excl, cfg.nexcl, &want_start);

	dh_begin(d, false);
	rc = sh_boot_init(dh_heap_mut(d), have_map ? &map : NULL, &cfg, &res);

	if (!have_map && !b->static_bytes) {
		if (rc != SH_MM_EINVAL)
			return dh_report(
				d, "boot placement",
				"no map and no static region: sh_boot_init returned %s",
				sh_memmap_strerror(rc));
		return 1;
	}
	if (want == SH_MM_OK && rc != SH_MM_EHEAP &&
	    (!res.have_extended || res.place.start != want_start ||
	     res.place.end != want_start + heap))
		return dh_report(d, "boot placement",
				 "heap of %" PRIu64 " bytes: model places it at 0x%" PRIx64
				 ", sh_boot_init %s 0x%" PRIx64 " (%s)",
				 heap, want_start,
				 res.have_extended ? "at" : "did not place it,",
				 res.place.start,
				 sh_memmap_strerror(res.have_extended ? rc : res.place_error));
	if (want > 0 && (res.have_extended ||
			 (b->static_bytes && res.place_error != want && rc == SH_MM_OK) ||
			 (!b->static_bytes && rc != want)))
		return dh_report(
			d, "boot placement",
			"model: %s; sh_boot_init returned %s, place_error %s, extended %d",
			sh_memmap_strerror(want), sh_memmap_strerror(rc),
			sh_memmap_strerror(res.place_error), res.have_extended);
	if (res.have_extended) {
		struct sh_region_info ri;

		if (mp.calls == 0 || mp.phys != res.place.start ||
		    sh_region_info(dh_heap(d), res.extended_region, &ri) != 0 ||
		    (unsigned char *)ri.base != mp.host || ri.size != heap)
			return dh_report(d, "boot placement",
					 "extended region %u is not the translated footprint"
					 " (%" PRIu64 " bytes at 0x%" PRIx64 ")",
					 res.extended_region, heap, res.place.start);
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
