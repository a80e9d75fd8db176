/* SPDX-License-Identifier: MIT */
/*
 * Bytes <-> layout and operations <-> text trace, as opdecode.h and fuzz/README.md describe.
 * Every field has a fixed width, so a mutation of one byte changes one field of one op.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "opdecode.h"

#define SIZE_BITS (sizeof(size_t) * 8)
#define VAL_MASK 0x3fffffu

static const char *const kind_names[OP_KINDS] = {
	"malloc",   "malloc_in",   "calloc", "realloc", "memalign",    "free",
	"free_ptr", "realloc_ptr", "usable", "overrun", "write_freed",
};

static const char *const ptr_names[PTR_COUNT] = {
	"live", "interior", "stale", "arena", "unaligned", "meta", "past", "null", "host",
};

const char *ops_kind_name(unsigned kind)
{
	return kind < OP_KINDS ? kind_names[kind] : "?";
}

const char *ops_ptr_name(unsigned ptr)
{
	return ptr < PTR_COUNT ? ptr_names[ptr] : "?";
}

size_t ops_size_decode(uint32_t v)
{
	uint32_t val = v & VAL_MASK;

	switch ((v >> 22) & 3u) {
	case 0:
		return val % 512u;
	case 1:
		return val;
	case 2:
		return SIZE_MAX - val;
	default:
		/* Unsigned arithmetic wraps on purpose: small powers give sizes near SIZE_MAX. */
		return ((size_t)1 << (val % SIZE_BITS)) + ((val >> 6) & 0xfffu) - 2048u;
	}
}

bool ops_size_encode(size_t size, uint32_t *v)
{
	if (size < 512) {
		*v = (uint32_t)size;
		return true;
	}
	if (size <= VAL_MASK) {
		*v = (1u << 22) | (uint32_t)size;
		return true;
	}
	if (size >= SIZE_MAX - VAL_MASK) {
		*v = (2u << 22) | (uint32_t)(SIZE_MAX - size);
		return true;
	}
	for (uint32_t s = 0; s < SIZE_BITS; s++) {
		size_t delta = size - ((size_t)1 << s) + 2048u;

		if (delta <= 0xfffu) {
			*v = (3u << 22) | ((uint32_t)delta << 6) | s;
			return true;
		}
	}
	return false;
}

size_t ops_align_decode(uint8_t a)
{
	if (a < 0xc0)
		return (size_t)1 << (a % 20u);
	if (a < 0xe0)
		return (size_t)(a - 0xc0u);
	return (SIZE_MAX / 2 + 1) >> (a & 31u);
}

bool ops_align_encode(size_t align, uint8_t *a)
{
	for (unsigned s = 0; s < 20; s++) {
		if (align == (size_t)1 << s) {
			*a = (uint8_t)s;
			return true;
		}
	}
	if (align < 32) {
		*a = (uint8_t)(0xc0u + align);
		return true;
	}
	for (unsigned s = 0; s < 32; s++) {
		if (align == (SIZE_MAX / 2 + 1) >> s) {
			*a = (uint8_t)(0xe0u + s);
			return true;
		}
	}
	return false;
}

static unsigned mask_decode(uint8_t b)
{
	return b == 0xff ? SH_ALL_REGIONS : b;
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

size_t ops_op_fields(unsigned kind)
{
	switch (kind) {
	case OP_MALLOC:
		return 3;
	case OP_MALLOC_IN:
		return 4;
	case OP_CALLOC:
		return 6;
	case OP_REALLOC:
		return 4;
	case OP_MEMALIGN:
		return 4;
	case OP_FREE:
		return 1;
	case OP_FREE_PTR:
		return 3;
	case OP_REALLOC_PTR:
		return 6;
	case OP_USABLE:
		return 3;
	case OP_OVERRUN:
		return 3;
	case OP_WRITE_FREED:
		return 4;
	default:
		return 0;
	}
}

size_t ops_decode_layout(const uint8_t *data, size_t size, struct ops_layout *l)
{
	size_t pos = 0;

	memset(l, 0, sizeof(*l));
	if (size < OPS_HEADER_BYTES + OPS_REGION_BYTES) {
		/* Too short for a layout: one default region, so short inputs still run. */
		l->nregions = 1;
		l->r[0].arena_gran = 256;
		l->r[0].nslots = 16;
		return size;
	}
	l->nregions = (data[0] & 3u) + 1u;
	l->topdown = (data[0] & 4u) != 0;
	pos = OPS_HEADER_BYTES;
	for (unsigned i = 0; i < l->nregions; i++) {
		struct ops_region *r = &l->r[i];

		if (size - pos < OPS_REGION_BYTES) {
			l->nregions = i;
			break;
		}
		r->arena_gran = ((uint32_t)data[pos] | (uint32_t)data[pos + 1] << 8) %
				(OPS_MAX_ARENA_GRAN + 1);
		r->nslots = data[pos + 2];
		r->misalign = (uint8_t)((data[pos + 3] & 15u) % SH_GRANULE);
		r->tail = (uint8_t)((data[pos + 3] >> 4) % SH_GRANULE);
		r->gap = data[pos + 4];
		pos += OPS_REGION_BYTES;
	}
	return pos;
}

size_t ops_decode_op(const uint8_t *data, size_t size, struct ops_op *op)
{
	unsigned kind;
	size_t need;
	const uint8_t *f;

	if (size < 1)
		return 0;
	kind = data[0] % OP_COUNT;
#if SH_HARDEN
	if (data[0] == OPS_OPCODE_OVERRUN)
		kind = OP_OVERRUN;
	else if (data[0] == OPS_OPCODE_WRITE_FREED)
		kind = OP_WRITE_FREED;
#endif
	need = ops_op_fields(kind);
	if (size - 1 < need)
		return 0;
	f = data + 1;
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	switch (kind) {
	case OP_MALLOC:
		op->size = ops_size_decode(get24(f));
		break;
	case OP_MALLOC_IN:
		op->mask = mask_decode(f[0]);
		op->size = ops_size_decode(get24(f + 1));
		break;
	case OP_CALLOC:
		op->n = ops_size_decode(get24(f));
		op->size = ops_size_decode(get24(f + 3));
		break;
	case OP_REALLOC:
		op->idx = f[0];
		op->size = ops_size_decode(get24(f + 1));
		break;
	case OP_MEMALIGN:
		op->align = ops_align_decode(f[0]);
		op->size = ops_size_decode(get24(f + 1));
		break;
	case OP_FREE:
		op->idx = f[0];
		break;
	case OP_FREE_PTR:
	case OP_USABLE:
	case OP_REALLOC_PTR:
		op->ptr = (uint8_t)(f[0] % PTR_COUNT);
		op->idx = f[1];
		op->off = f[2];
		if (kind == OP_REALLOC_PTR)
			op->size = ops_size_decode(get24(f + 3));
		break;
	case OP_OVERRUN:
		op->idx = f[0];
		op->off = f[1];
		op->val = f[2];
		break;
	case OP_WRITE_FREED:
		op->idx = f[0];
		op->size = (size_t)f[1] | (size_t)f[2] << 8;
		op->val = f[3];
		break;
	default:
		break;
	}
	return 1 + need;
}

size_t ops_decode(const uint8_t *data, size_t size, struct ops_layout *l, struct ops_op *ops,
		  size_t max_ops)
{
	size_t pos = ops_decode_layout(data, size, l);

	return ops_decode_ops(data + pos, size - pos, ops, max_ops);
}

size_t ops_decode_ops(const uint8_t *data, size_t size, struct ops_op *ops, size_t max_ops)
{
	size_t pos = 0;
	size_t n = 0;

	while (n < max_ops) {
		size_t used = ops_decode_op(data + pos, size - pos, &ops[n]);

		if (used == 0)
			break;
		pos += used;
		n++;
	}
	return n;
}

size_t ops_encode_layout(const struct ops_layout *l, uint8_t *out, size_t cap)
{
	size_t need = OPS_HEADER_BYTES + l->nregions * OPS_REGION_BYTES;

	if (l->nregions < 1 || l->nregions > OPS_MAX_REGIONS || cap < need)
		return 0;
	out[0] = (uint8_t)((l->nregions - 1) | (l->topdown ? 4u : 0u));
	for (unsigned i = 0; i < l->nregions; i++) {
		const struct ops_region *r = &l->r[i];
		uint8_t *p = out + OPS_HEADER_BYTES + i * OPS_REGION_BYTES;

		if (r->arena_gran > OPS_MAX_ARENA_GRAN || r->nslots > 255 ||
		    r->misalign >= SH_GRANULE || r->tail >= SH_GRANULE || r->misalign > 15 ||
		    r->tail > 15)
			return 0;
		p[0] = (uint8_t)r->arena_gran;
		p[1] = (uint8_t)(r->arena_gran >> 8);
		p[2] = (uint8_t)r->nslots;
		p[3] = (uint8_t)(r->misalign | r->tail << 4);
		p[4] = r->gap;
	}
	return need;
}

size_t ops_encode_op(const struct ops_op *op, uint8_t *out, size_t cap)
{
	size_t need = 1 + ops_op_fields(op->kind);
	uint32_t v = 0, w = 0;
	uint8_t *f = out + 1;

	if (op->kind >= (SH_HARDEN ? OP_KINDS : OP_COUNT) || cap < need)
		return 0;
	out[0] = op->kind;
	switch (op->kind) {
	case OP_MALLOC:
		if (!ops_size_encode(op->size, &v))
			return 0;
		put24(f, v);
		break;
	case OP_MALLOC_IN:
		if (!ops_size_encode(op->size, &v) ||
		    (op->mask > 0xfe && op->mask != SH_ALL_REGIONS))
			return 0;
		f[0] = op->mask == SH_ALL_REGIONS ? 0xff : (uint8_t)op->mask;
		put24(f + 1, v);
		break;
	case OP_CALLOC:
		if (!ops_size_encode(op->n, &v) || !ops_size_encode(op->size, &w))
			return 0;
		put24(f, v);
		put24(f + 3, w);
		break;
	case OP_REALLOC:
		if (!ops_size_encode(op->size, &v))
			return 0;
		f[0] = op->idx;
		put24(f + 1, v);
		break;
	case OP_MEMALIGN:
		if (!ops_size_encode(op->size, &v) || !ops_align_encode(op->align, &f[0]))
			return 0;
		put24(f + 1, v);
		break;
	case OP_FREE:
		f[0] = op->idx;
		break;
	case OP_FREE_PTR:
	case OP_USABLE:
	case OP_REALLOC_PTR:
		if (op->ptr >= PTR_COUNT)
			return 0;
		f[0] = op->ptr;
		f[1] = op->idx;
		f[2] = op->off;
		if (op->kind == OP_REALLOC_PTR) {
			if (!ops_size_encode(op->size, &v))
				return 0;
			put24(f + 3, v);
		}
		break;
	case OP_OVERRUN:
		out[0] = OPS_OPCODE_OVERRUN;
		f[0] = op->idx;
		f[1] = op->off;
		f[2] = op->val;
		break;
	case OP_WRITE_FREED:
		if (op->size > 0xffff)
			return 0;
		out[0] = OPS_OPCODE_WRITE_FREED;
		f[0] = op->idx;
		f[1] = (uint8_t)op->size;
		f[2] = (uint8_t)(op->size >> 8);
		f[3] = op->val;
		break;
	default:
		return 0;
	}
	return need;
}

void ops_format_layout(const struct ops_layout *l, FILE *f)
{
	fprintf(f, "layout%s\n", l->topdown ? " topdown" : "");
	for (unsigned i = 0; i < l->nregions; i++) {
		const struct ops_region *r = &l->r[i];

		fprintf(f, "region arena=%" PRIu32 " slots=%" PRIu32,
			r->arena_gran * SH_GRANULE, r->nslots);
		if (r->misalign)
			fprintf(f, " misalign=%u", r->misalign);
		if (r->tail)
			fprintf(f, " tail=%u", r->tail);
		if (r->gap)
			fprintf(f, " gap=%u", r->gap);
		fputc('\n', f);
	}
}

/* Sizes close to SIZE_MAX read better as "max-N". */
static void format_size(size_t s, char *buf, size_t cap)
{
	if (s == SIZE_MAX)
		snprintf(buf, cap, "max");
	else if (s >= SIZE_MAX - VAL_MASK)
		snprintf(buf, cap, "max-%zu", SIZE_MAX - s);
	else
		snprintf(buf, cap, "%zu", s);
}

int ops_format_op(const struct ops_op *op, char *buf, size_t cap)
{
	char s[32], n[32];
	const char *name = ops_kind_name(op->kind);

	format_size(op->size, s, sizeof(s));
	switch (op->kind) {
	case OP_MALLOC:
		return snprintf(buf, cap, "%s %s", name, s);
	case OP_MALLOC_IN:
		if (op->mask == SH_ALL_REGIONS)
			return snprintf(buf, cap, "%s all %s", name, s);
		return snprintf(buf, cap, "%s 0x%x %s", name, op->mask, s);
	case OP_CALLOC:
		format_size(op->n, n, sizeof(n));
		return snprintf(buf, cap, "%s %s %s", name, n, s);
	case OP_REALLOC:
		return snprintf(buf, cap, "%s #%u %s", name, op->idx, s);
	case OP_MEMALIGN:
		format_size(op->align, n, sizeof(n));
		return snprintf(buf, cap, "%s %s %s", name, n, s);
	case OP_FREE:
		return snprintf(buf, cap, "%s #%u", name, op->idx);
	case OP_FREE_PTR:
	case OP_USABLE:
		return snprintf(buf, cap, "%s %s %u %u", name, ops_ptr_name(op->ptr), op->idx,
				op->off);
	case OP_REALLOC_PTR:
		return snprintf(buf, cap, "%s %s %u %u %s", name, ops_ptr_name(op->ptr),
				op->idx, op->off, s);
	case OP_OVERRUN:
		return snprintf(buf, cap, "%s #%u %u 0x%02x", name, op->idx, op->off + 1u,
				op->val);
	case OP_WRITE_FREED:
		return snprintf(buf, cap, "%s %u %zu 0x%02x", name, op->idx, op->size, op->val);
	default:
		return snprintf(buf, cap, "?");
	}
}

/* Line parsing: whitespace-separated words. */
#define MAX_WORDS 8

static int split(char *line, char **w)
{
	int n = 0;
	char *p = line;

	while (*p && n < MAX_WORDS) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			*p++ = 0;
		/* "#12" is a block index; '#' before anything else starts a comment. */
		if (!*p || (*p == '#' && (p[1] < '0' || p[1] > '9')))
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
	}
	if (*p == '#' && (p[1] < '0' || p[1] > '9'))
		*p = 0;
	return n;
}

static bool parse_num(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (strncmp(s, "max-", 4) == 0) {
		if (!parse_num(s + 4, out))
			return false;
		*out = SIZE_MAX - *out;
		return true;
	}
	if (strcmp(s, "max") == 0) {
		*out = SIZE_MAX;
		return true;
	}
	if (*s == '-' || *s == 0)
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > SIZE_MAX)
		return false;
	*out = (size_t)v;
	return true;
}

static bool parse_u8(const char *s, uint8_t *out)
{
	size_t v;

	if (*s == '#')
		s++;
	if (!parse_num(s, &v) || v > 255)
		return false;
	*out = (uint8_t)v;
	return true;
}

static int parse_region(char **w, int nw, struct ops_layout *l, char *err, size_t errcap)
{
	struct ops_region r = {0, 0, 0, 0, 0};
	bool have_arena = false, have_slots = false;

	if (l->nregions >= OPS_MAX_REGIONS) {
		snprintf(err, errcap, "more than %d regions", OPS_MAX_REGIONS);
		return -1;
	}
	for (int i = 1; i < nw; i++) {
		char *eq = strchr(w[i], '=');
		size_t v;

		if (!eq || !parse_num(eq + 1, &v)) {
			snprintf(err, errcap, "bad region field '%s'", w[i]);
			return -1;
		}
		*eq = 0;
		if (strcmp(w[i], "arena") == 0) {
			if (v % SH_GRANULE || v / SH_GRANULE > OPS_MAX_ARENA_GRAN) {
				snprintf(err, errcap, "arena must be a multiple of %d up to %u",
					 SH_GRANULE, OPS_MAX_ARENA_GRAN * SH_GRANULE);
				return -1;
			}
			r.arena_gran = (uint32_t)(v / SH_GRANULE);
			have_arena = true;
		} else if (strcmp(w[i], "slots") == 0 && v <= 255) {
			r.nslots = (uint32_t)v;
			have_slots = true;
		} else if (strcmp(w[i], "misalign") == 0 && v < SH_GRANULE && v < 16) {
			r.misalign = (uint8_t)v;
		} else if (strcmp(w[i], "tail") == 0 && v < SH_GRANULE && v < 16) {
			r.tail = (uint8_t)v;
		} else if (strcmp(w[i], "gap") == 0 && v <= 255) {
			r.gap = (uint8_t)v;
		} else {
			snprintf(err, errcap, "bad or out-of-range region field '%s'", w[i]);
			return -1;
		}
	}
	if (!have_arena || !have_slots) {
		snprintf(err, errcap, "region needs arena= and slots=");
		return -1;
	}
	l->r[l->nregions++] = r;
	return 2;
}

static int want_args(int nw, int n, const char *name, char *err, size_t errcap)
{
	if (nw == n + 1)
		return 0;
	snprintf(err, errcap, "%s takes %d argument%s", name, n, n == 1 ? "" : "s");
	return -1;
}

int ops_parse_line(const char *line, struct ops_layout *l, struct ops_op *op, char *err,
		   size_t errcap)
{
	char buf[512];
	char *w[MAX_WORDS];
	int nw;
	unsigned kind;
	size_t v;

	if (errcap)
		err[0] = 0;
	if (strlen(line) >= sizeof(buf)) {
		snprintf(err, errcap, "line too long");
		return -1;
	}
	strcpy(buf, line);
	nw = split(buf, w);
	if (nw == 0)
		return 0;
	if (strcmp(w[0], "layout") == 0) {
		l->topdown = nw > 1 && strcmp(w[1], "topdown") == 0;
		if (nw > 2 || (nw == 2 && !l->topdown)) {
			snprintf(err, errcap, "layout takes only 'topdown'");
			return -1;
		}
		return 2;
	}
	if (strcmp(w[0], "region") == 0)
		return parse_region(w, nw, l, err, errcap);
	for (kind = 0; kind < OP_KINDS; kind++) {
		if (strcmp(w[0], kind_names[kind]) == 0)
			break;
	}
	if (kind == OP_KINDS) {
		snprintf(err, errcap, "unknown operation '%s'", w[0]);
		return -1;
	}
	if (kind >= OP_COUNT && !SH_HARDEN) {
		snprintf(err, errcap, "'%s' needs the SH_HARDEN build", w[0]);
		return -1;
	}
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	switch (kind) {
	case OP_MALLOC:
		if (want_args(nw, 1, w[0], err, errcap) || !parse_num(w[1], &op->size))
			goto bad;
		break;
	case OP_MALLOC_IN:
		if (want_args(nw, 2, w[0], err, errcap) || !parse_num(w[2], &op->size))
			goto bad;
		if (strcmp(w[1], "all") == 0) {
			op->mask = SH_ALL_REGIONS;
		} else {
			if (!parse_num(w[1], &v) || v > 0xfe)
				goto bad;
			op->mask = (unsigned)v;
		}
		break;
	case OP_CALLOC:
		if (want_args(nw, 2, w[0], err, errcap) || !parse_num(w[1], &op->n) ||
		    !parse_num(w[2], &op->size))
			goto bad;
		break;
	case OP_REALLOC:
		if (want_args(nw, 2, w[0], err, errcap) || !parse_u8(w[1], &op->idx) ||
		    !parse_num(w[2], &op->size))
			goto bad;
		break;
	case OP_MEMALIGN:
		if (want_args(nw, 2, w[0], err, errcap) || !parse_num(w[1], &op->align) ||
		    !parse_num(w[2], &op->size))
			goto bad;
		break;
	case OP_FREE:
		if (want_args(nw, 1, w[0], err, errcap) || !parse_u8(w[1], &op->idx))
			goto bad;
		break;
	case OP_FREE_PTR:
	case OP_USABLE:
	case OP_REALLOC_PTR: {
		unsigned p;

		if (want_args(nw, kind == OP_REALLOC_PTR ? 4 : 3, w[0], err, errcap))
			goto bad;
		for (p = 0; p < PTR_COUNT; p++) {
			if (strcmp(w[1], ptr_names[p]) == 0)
				break;
		}
		if (p == PTR_COUNT || !parse_u8(w[2], &op->idx) || !parse_u8(w[3], &op->off))
			goto bad;
		op->ptr = (uint8_t)p;
		if (kind == OP_REALLOC_PTR && !parse_num(w[4], &op->size))
			goto bad;
		break;
	}
	case OP_OVERRUN:
		if (want_args(nw, 3, w[0], err, errcap) || !parse_u8(w[1], &op->idx) ||
		    !parse_num(w[2], &v) || v < 1 || v > 256 || !parse_u8(w[3], &op->val))
			goto bad;
		op->off = (uint8_t)(v - 1);
		break;
	case OP_WRITE_FREED:
		if (want_args(nw, 3, w[0], err, errcap) || !parse_u8(w[1], &op->idx) ||
		    !parse_num(w[2], &op->size) || op->size > 0xffff ||
		    !parse_u8(w[3], &op->val))
			goto bad;
		break;
	default:
		goto bad;
	}
	{
		/* Only values the byte format can carry, so every trace converts to bytes. */
		uint8_t tmp[16];

		if (ops_encode_op(op, tmp, sizeof(tmp)) == 0) {
			snprintf(err, errcap, "value has no byte encoding");
			return -1;
		}
	}
	return 1;
bad:
	if (!err[0] || strstr(err, "argument") == NULL)
		snprintf(err, errcap, "bad arguments for %s", w[0]);
	return -1;
}
