/* SPDX-License-Identifier: MIT */
/*
 * sh-memmap: read a memory table, print its normalized map and where a heap would go.
 *
 *   sh-memmap FILE [--format auto|cbtable|cbimage|mb1|mb2|mb2info|e820|e820-24|csv|text]
 *                  [--heap SIZE]... [--limit ADDR] [--exclude START-END]... [--cap N]
 *                  [--base ADDR] [--raw] [--emit cbtable|cbimage|mb1|mb2|mb2info|e820|e820-24 -o OUT]
 *
 * FILE is a binary table (coreboot table or a memory image holding one, multiboot v1 mmap
 * buffer, multiboot2 memory-map tag, raw e820 array) or a text map: CSV lines
 * "start,end_exclusive,type" with # comments, or a boot-log excerpt (Linux BIOS-e820 lines
 * old and new, SeaBIOS, coreboot and multiboot printouts) whose "# format:" line says how
 * to read it. Sizes and addresses take 0x hex and K/M/G suffixes.
 *
 * Without --heap it places 1, 16 and 64 MiB and the default footprint. --emit writes the
 * normalized map as a binary table.
 *
 * Exit status: 0 the table was read and every heap asked for was placed; 1 the table is
 * rejected (its reason code is printed); 2 usage, file or memory error; 3 the table was read
 * but a heap asked for with --heap could not be placed (SH_MM_ENOFIT, say: no RAM below the
 * limit holds it), or, without --heap, the default footprint could not be placed (the 1, 16
 * and 64 MiB lines are for information).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"

#define MAX_HEAPS 16
#define MAX_EXCL 16

enum in_format {
	IN_AUTO,
	IN_CB,
	IN_CBIMAGE,
	IN_MB1,
	IN_MB2,
	IN_MB2INFO,
	IN_E820,
	IN_E820_24,
	IN_CSV,
	IN_TEXT
};

static const struct {
	const char *name;
	enum in_format fmt;
} in_names[] = {
	{"auto", IN_AUTO}, {"cbtable", IN_CB},	    {"cbimage", IN_CBIMAGE},
	{"mb1", IN_MB1},   {"mb2", IN_MB2},	    {"mb2info", IN_MB2INFO},
	{"e820", IN_E820}, {"e820-24", IN_E820_24}, {"csv", IN_CSV},
	{"text", IN_TEXT},
};

static const char *prog = "sh-memmap";

static void usage(FILE *to, int status)
{
	fprintf(to,
		"usage: %s FILE [--format "
		"auto|cbtable|cbimage|mb1|mb2|mb2info|e820|e820-24|csv|text]\n"
		"       [--heap SIZE]... [--limit ADDR] [--exclude START-END]... [--cap N]\n"
		"       [--base ADDR] [--raw] [--emit cbtable|cbimage|mb1|mb2|e820|e820-24 -o "
		"OUT]\n",
		prog);
	if (to == stdout)
		printf("\nPrints the normalized map (sorted, disjoint, non-RAM wins over RAM, "
		       "unknown\n"
		       "types reserved) and where each heap footprint goes: the top of the "
		       "highest\n"
		       "RAM range below the limit (default 4 GiB) that holds it, 4 KiB "
		       "aligned.\n"
		       "Without --heap: 1, 16, 64 MiB and the default footprint. --emit "
		       "writes the\n"
		       "normalized map as a binary table (cbimage: a memory image with a "
		       "forward table\n"
		       "at 0x500).\n"
		       "\nExit status: 0 table read and every heap placed; 1 table rejected "
		       "(reason\n"
		       "printed); 2 usage or file error; 3 table read but a heap given with "
		       "--heap\n"
		       "(without --heap: the default footprint) cannot be placed.\n");
	exit(status);
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno != 0 || end == s || s[0] == '-')
		return false;
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0) {
		end++;
		if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
			end += strlen(end);
		if (x > (UINT64_MAX >> shift))
			return false;
		x <<= shift;
	}
	if (*end != '\0')
		return false;
	*v = (uint64_t)x;
	return true;
}

static uint64_t arg_u64(const char *opt, const char *s)
{
	uint64_t v;
	if (s == NULL || !parse_u64(s, &v)) {
		fprintf(stderr, "%s: %s needs a number, got '%s'\n", prog, opt, s ? s : "");
		exit(2);
	}
	return v;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		exit(2);
	}
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap);
	for (;;) {
		if (buf == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(2);
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		exit(2);
	}
	fclose(f);
	*len = n;
	return buf;
}

/* --- text maps --------------------------------------------------------------------- */

struct rawlist {
	struct sh_mem_range *r;
	size_t n, cap;
};

static void raw_add(struct rawlist *l, uint64_t start, uint64_t end, uint32_t type)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->r = realloc(l->r, l->cap * sizeof(*l->r));
		if (l->r == NULL) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(2);
		}
	}
	l->r[l->n].start = start;
	l->r[l->n].end = end;
	l->r[l->n].type = type;
	l->n++;
}

static bool is_text(const unsigned char *b, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (b[i] == 0 || (b[i] < 32 && !isspace(b[i])) || b[i] == 0x7f)
			return false;
	}
	return true;
}

/* Reads a hex token (0x optional) at *p if it is a whole alphanumeric word. */
static bool hex_token(const char **p, uint64_t *v)
{
	const char *s = *p, *q;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	q = s;
	while (isxdigit((unsigned char)*q))
		q++;
	if (q == s || isalnum((unsigned char)*q) || q - s > 16)
		return false;
	char tmp[17];
	memcpy(tmp, s, (size_t)(q - s));
	tmp[q - s] = '\0';
	*v = strtoull(tmp, NULL, 16);
	*p = q;
	return true;
}

static uint32_t type_word(const char *rest)
{
	char low[128];
	size_t i;
	for (i = 0; i + 1 < sizeof(low) && rest[i] != '\0'; i++)
		low[i] = (char)tolower((unsigned char)rest[i]);
	low[i] = '\0';
	const char *eq = strchr(low, '=');
	if (eq != NULL)
		return (uint32_t)strtoul(eq + 1, NULL, 0);
	if (strstr(low, "unusable"))
		return 5;
	if (strstr(low, "usable") || strstr(low, "available") || strstr(low, "ram"))
		return 1;
	if (strstr(low, "acpi data"))
		return 3;
	if (strstr(low, "nvs"))
		return 4;
	if (strstr(low, "configuration tables"))
		return 16;
	if (strstr(low, "reserved"))
		return 2;
	return 0xffffffffu; /* unknown: the normalizer counts it as reserved */
}

/* Linux e820 logs (old and new), SeaBIOS, coreboot and multiboot printouts, CSV. */
static int parse_text(char *text, struct rawlist *out, bool csv_only)
{
	bool inclusive = false, base_len = false, csv = true;
	char *line, *save = NULL, pending[256] = "", joined[600];
	int bad = 0, lineno = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (line[0] == '#') {
			if (strstr(line, "# format:")) {
				csv = false;
				inclusive = strstr(line, "inclusive") != NULL;
				base_len = strstr(line, "base<TAB>length") != NULL;
			}
			continue;
		}
		if (pending[0] != '\0') {
			snprintf(joined, sizeof(joined), "%.255s %.255s", pending, line);
			line = joined;
			pending[0] = '\0';
		}
		size_t len = strlen(line);
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len >= 4 && strcmp(line + len - 4, "[mem") == 0) {
			/* wrapped in the log: the range is on the next line */
			snprintf(pending, sizeof(pending), "%.250s", line);
			continue;
		}
		if (len == 0)
			continue;
		if (csv || csv_only) {
			uint64_t s, e, t;
			char *a = strtok(line, ","), *b = strtok(NULL, ","),
			     *c = strtok(NULL, ",");
			if (!a || !b || !c || !parse_u64(a, &s) || !parse_u64(b, &e) ||
			    !parse_u64(c, &t) || t > UINT32_MAX) {
				fprintf(stderr, "%s: line %d: not start,end,type\n", prog,
					lineno);
				bad++;
				continue;
			}
			raw_add(out, s, e < s ? s : e, (uint32_t)t);
			continue;
		}
		const char *p = line;
		if (base_len) {
			uint64_t v[3];
			int k = 0;
			while (*p && k < 3) {
				if (isspace((unsigned char)*p)) {
					p++;
					continue;
				}
				if (!hex_token(&p, &v[k]))
					break;
				k++;
			}
			if (k == 3)
				raw_add(out, v[0],
					v[1] > SH_MEM_TOP - v[0] ? SH_MEM_TOP : v[0] + v[1],
					(uint32_t)v[2]);
			continue;
		}
		/* Find "X - Y" or "X-Y" with X, Y hex words. */
		for (; *p; p++) {
			uint64_t s, e;
			const char *q = p;
			if (p != line && isalnum((unsigned char)p[-1]))
				continue;
			if (!hex_token(&q, &s))
				continue;
			while (*q == ' ')
				q++;
			if (*q != '-')
				continue;
			q++;
			while (*q == ' ')
				q++;
			if (!hex_token(&q, &e))
				continue;
			if (inclusive)
				e = e == UINT64_MAX ? SH_MEM_TOP : e + 1;
			raw_add(out, s, e < s ? s : e, type_word(q));
			break;
		}
	}
	return bad;
}

/* --- binary tables ----------------------------------------------------------------- */

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static enum in_format detect(const unsigned char *b, size_t n)
{
	struct sh_mem_range tmp[1];
	size_t cnt;
	if (is_text(b, n))
		return IN_TEXT;
	if (n >= 4 && memcmp(b, "LBIO", 4) == 0)
		return IN_CB;
	if (n >= 16 && b[0] == 6 && b[1] == 0 && b[2] == 0 && b[3] == 0 &&
	    sh_memmap_raw(SH_FMT_MB2, b, n, tmp, 0, &cnt) != SH_MM_ESIGNATURE)
		return IN_MB2;
	if (n >= 16 && get32(b) == n && get32(b + 4) == 0) {
		int rc = sh_memmap_raw(SH_FMT_MB2INFO, b, n, tmp, 0, &cnt);
		if (rc == SH_MM_OK || rc == SH_MM_EOVERFLOW)
			return IN_MB2INFO;
	}
	if (n >= 24 && b[0] >= 20 && b[1] == 0 && b[2] == 0 && b[3] == 0) {
		int rc = sh_memmap_raw(SH_FMT_MB1, b, n, tmp, 0, &cnt);
		if (rc == SH_MM_OK || rc == SH_MM_EOVERFLOW)
			return IN_MB1;
	}
	uint64_t table;
	if (sh_cb_find(b, n, 0, &table) == SH_MM_OK)
		return IN_CBIMAGE;
	if (n % 24 == 0 && n > 0) {
		bool attrs = true;
		for (size_t i = 0; i < n; i += 24)
			attrs = attrs &&
				(b[i + 20] <= 1 && !b[i + 21] && !b[i + 22] && !b[i + 23]);
		if (attrs || n % 20 != 0)
			return IN_E820_24;
	}
	if (n % 20 == 0 && n > 0)
		return IN_E820;
	return IN_CBIMAGE; /* maybe a memory image: search it */
}

static enum sh_mm_format binary_format(enum in_format f)
{
	switch (f) {
	case IN_CB:
		return SH_FMT_CBTABLE;
	case IN_CBIMAGE:
		return SH_FMT_CBIMAGE;
	case IN_MB1:
		return SH_FMT_MB1;
	case IN_MB2:
		return SH_FMT_MB2;
	case IN_MB2INFO:
		return SH_FMT_MB2INFO;
	case IN_E820:
		return SH_FMT_E820;
	default:
		return SH_FMT_E820_24;
	}
}

static const char *in_name(enum in_format f)
{
	for (size_t i = 0; i < sizeof(in_names) / sizeof(in_names[0]); i++) {
		if (in_names[i].fmt == f)
			return in_names[i].name;
	}
	return "?";
}

static void print_map(const struct sh_memmap *m)
{
	printf("normalized map (%zu range%s):\n", m->n, m->n == 1 ? "" : "s");
	for (size_t i = 0; i < m->n; i++) {
		const struct sh_mem_range *r = &m->range[i];
		uint64_t sz = r->end - r->start;
		printf("  0x%016" PRIx64 "-0x%016" PRIx64 "  %-9s %10" PRIu64 " KiB\n",
		       r->start, r->end, sh_mem_type_name(r->type), sz >> 10);
	}
}

static void print_size(uint64_t size)
{
	if (size % (1u << 20) == 0)
		printf("%5" PRIu64 " MiB", size >> 20);
	else if (size % 1024 == 0)
		printf("%5" PRIu64 " KiB", size >> 10);
	else
		printf("%5" PRIu64 " B  ", size);
}

int main(int argc, char **argv)
{
	const char *file = NULL, *emit_path = NULL;
	enum in_format fmt = IN_AUTO;
	int emit = 0;
	uint64_t heaps[MAX_HEAPS], limit = SH_PLACE_LIMIT_4G, base = 0;
	size_t nheaps = 0, cap = 256, nexcl = 0;
	struct sh_mem_range excl[MAX_EXCL];
	bool raw = false, base_given = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--format") == 0 && v) {
			size_t k;
			for (k = 0; k < sizeof(in_names) / sizeof(in_names[0]); k++) {
				if (strcmp(v, in_names[k].name) == 0)
					break;
			}
			if (k == sizeof(in_names) / sizeof(in_names[0]))
				usage(stderr, 2);
			fmt = in_names[k].fmt;
			i++;
		} else if (strcmp(a, "--heap") == 0) {
			if (nheaps == MAX_HEAPS)
				usage(stderr, 2);
			heaps[nheaps++] = arg_u64(a, v);
			i++;
		} else if (strcmp(a, "--limit") == 0) {
			limit = arg_u64(a, v);
			i++;
		} else if (strcmp(a, "--base") == 0) {
			base = arg_u64(a, v);
			base_given = true;
			i++;
		} else if (strcmp(a, "--cap") == 0) {
			cap = (size_t)arg_u64(a, v);
			i++;
		} else if (strcmp(a, "--exclude") == 0 && v) {
			char buf[64];
			snprintf(buf, sizeof(buf), "%s", v);
			char *dash = strchr(buf, '-');
			if (dash == NULL || nexcl == MAX_EXCL)
				usage(stderr, 2);
			*dash = '\0';
			excl[nexcl].start = arg_u64(a, buf);
			excl[nexcl].end = arg_u64(a, dash + 1);
			excl[nexcl].type = SH_MEM_RESERVED;
			nexcl++;
			i++;
		} else if (strcmp(a, "--emit") == 0 && v) {
			if (strcmp(v, "cbtable") == 0)
				emit = SH_FMT_CBTABLE;
			else if (strcmp(v, "cbimage") == 0)
				emit = SH_FMT_CBIMAGE;
			else if (strcmp(v, "mb1") == 0)
				emit = SH_FMT_MB1;
			else if (strcmp(v, "mb2") == 0)
				emit = SH_FMT_MB2;
			else if (strcmp(v, "mb2info") == 0)
				emit = SH_FMT_MB2INFO;
			else if (strcmp(v, "e820") == 0)
				emit = SH_FMT_E820;
			else if (strcmp(v, "e820-24") == 0)
				emit = SH_FMT_E820_24;
			else
				usage(stderr, 2);
			i++;
		} else if (strcmp(a, "-o") == 0 && v) {
			emit_path = v;
			i++;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout, 0);
		} else if (strcmp(a, "--raw") == 0) {
			raw = true;
		} else if (a[0] == '-' && a[1] != '\0') {
			usage(stderr, 2);
		} else if (file == NULL) {
			file = a;
		} else {
			usage(stderr, 2);
		}
	}
	if (file == NULL || (emit != 0) != (emit_path != NULL) || cap == 0)
		usage(stderr, 2);

	size_t len;
	unsigned char *buf = read_file(file, &len), *emitted = NULL;
	char *text = NULL;
	struct sh_mem_range *ranges = calloc(cap, sizeof(*ranges));
	struct sh_memmap map;
	struct rawlist rl = {NULL, 0, 0};
	int rc = SH_MM_OK, status = 0;
	uint64_t found = 0;
	bool defaults = nheaps == 0;

	if (fmt == IN_AUTO)
		fmt = detect(buf, len);
	if (ranges == NULL) {
		status = 2;
		goto out;
	}
	sh_memmap_init(&map, ranges, cap);

	printf("%s: %s, %zu bytes\n", file, in_name(fmt), len);
	switch (fmt) {
	case IN_CSV:
	case IN_TEXT: {
		text = malloc(len + 1);
		if (text == NULL) {
			status = 2;
			goto out;
		}
		memcpy(text, buf, len);
		text[len] = '\0';
		if (parse_text(text, &rl, fmt == IN_CSV) != 0) {
			fprintf(stderr, "%s: %s: malformed text map\n", prog, file);
			status = 1;
			goto out;
		}
		rc = sh_memmap_normalize(rl.r, rl.n, &map);
		break;
	}
	case IN_CB:
	case IN_CBIMAGE: {
		uint64_t table = base;
		if (fmt == IN_CBIMAGE || len < 4 || memcmp(buf, "LBIO", 4) != 0 || base_given) {
			rc = sh_cb_find(buf, len, base, &table);
			if (rc != SH_MM_OK)
				break;
			printf("coreboot header found at 0x%" PRIx64 "\n", table);
		}
		rc = sh_cb_parse(buf, len, base, table, &map, &found);
		if (rc == SH_MM_OK && found != table)
			printf("forwarded to the table at 0x%" PRIx64 "\n", found);
		break;
	}
	default:
		rc = sh_memmap_parse(binary_format(fmt), buf, len, &map);
		break;
	}
	if (raw && fmt != IN_CSV && fmt != IN_TEXT && !base_given &&
	    (rc == SH_MM_OK || rc == SH_MM_ENORAM || rc == SH_MM_EOVERFLOW)) {
		size_t n = 0;
		enum sh_mm_format f = binary_format(fmt);
		if (fmt == IN_CB && (len < 4 || memcmp(buf, "LBIO", 4) != 0))
			f = SH_FMT_CBIMAGE;
		sh_memmap_raw(f, buf, len, NULL, 0, &n);
		rl.r = calloc(n ? n : 1, sizeof(*rl.r));
		if (rl.r == NULL) {
			status = 2;
			goto out;
		}
		sh_memmap_raw(f, buf, len, rl.r, n, &rl.n);
	}
	if (raw && rl.r != NULL) {
		printf("raw entries (%zu):\n", rl.n);
		for (size_t i = 0; i < rl.n; i++)
			printf("  0x%016" PRIx64 "-0x%016" PRIx64 "  type %" PRIu32 "\n",
			       rl.r[i].start, rl.r[i].end, rl.r[i].type);
	}
	if (rc == SH_MM_EOVERFLOW) {
		printf("rejected: %s (the map has %zu ranges, --cap is %zu)\n",
		       sh_memmap_strerror(rc), map.total, cap);
		status = 1;
		goto out;
	}
	if (rc != SH_MM_OK && rc != SH_MM_ENORAM) {
		printf("rejected: %s\n", sh_memmap_strerror(rc));
		status = 1;
		goto out;
	}
	print_map(&map);
	if (rc == SH_MM_ENORAM) {
		printf("rejected: %s\n", sh_memmap_strerror(rc));
		status = 1;
		goto out;
	}

	if (emit != 0) {
		size_t need = SH_CBIMAGE_HIGH + 64 + map.n * 24, outlen;
		emitted = malloc(need);
		if (emitted == NULL) {
			status = 2;
			goto out;
		}
		rc = sh_memmap_emit((enum sh_mm_format)emit, &map, emitted, need, &outlen);
		if (rc != SH_MM_OK) {
			printf("emit failed: %s\n", sh_memmap_strerror(rc));
			status = 1;
			goto out;
		}
		FILE *f = fopen(emit_path, "wb");
		if (f == NULL || fwrite(emitted, 1, outlen, f) != outlen || fclose(f) != 0) {
			fprintf(stderr, "%s: %s: cannot write\n", prog, emit_path);
			status = 2;
			goto out;
		}
		printf("wrote %zu bytes to %s\n", outlen, emit_path);
	}

	/* The highest RAM range below the limit, clipped at it. */
	printf("limit 0x%" PRIx64 "\n", limit);
	bool top = false;
	for (size_t i = map.n; i-- > 0;) {
		const struct sh_mem_range *r = &map.range[i];
		if (r->type == SH_MEM_RAM && r->start < limit) {
			printf("top RAM range: 0x%" PRIx64 "-0x%" PRIx64 "\n", r->start,
			       r->end < limit ? r->end : limit);
			top = true;
			break;
		}
	}
	if (!top)
		printf("top RAM range: -\n");
	if (nheaps == 0) {
		heaps[nheaps++] = 1u << 20;
		heaps[nheaps++] = 16u << 20;
		heaps[nheaps++] = 64u << 20;
		heaps[nheaps++] = SH_DEFAULT_HEAP_SIZE;
	}
	for (size_t i = 0; i < nheaps; i++) {
		struct sh_placement pl;
		rc = sh_place(&map, heaps[i], limit, excl, nexcl, &pl);
		printf("heap ");
		print_size(heaps[i]);
		if (rc == SH_MM_OK)
			printf(": 0x%" PRIx64 "-0x%" PRIx64 " in RAM range 0x%" PRIx64
			       "-0x%" PRIx64 "%s\n",
			       pl.start, pl.end, pl.ram_start, pl.ram_end,
			       defaults && i == 3 ? " (default footprint)" : "");
		else
			printf(": - (%s)%s\n", sh_memmap_strerror(rc),
			       defaults && i == 3 ? " (default footprint)" : "");
		/* Asked for: every --heap, or the default footprint alone. */
		if (rc != SH_MM_OK && (!defaults || i == 3))
			status = 3;
	}
out:
	free(buf);
	free(ranges);
	free(rl.r);
	free(text);
	free(emitted);
	return status;
}
