/* SPDX-License-Identifier: MIT */
/*
 * The differential engine (see diffheap.h). Layout of the host pool, bottom-up:
 *
 *   pool | gap | misalign | meta (slots, buckets, index) | pad | arena ..... | tail | gap | ...
 *                ^ region base                           ^ round_up(base + meta, G)
 *
 * Every live block the engine hands out holds the pattern of its id: a window of a
 * pseudo-random buffer starting at an offset derived from the id. realloc keeps the id, so
 * the moved prefix must still match. Under ASan free blocks are poisoned (see poison()).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diffheap.h"
#include "shref.h"

#if defined(__SANITIZE_ADDRESS__)
#define DH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DH_ASAN 1
#endif
#endif
#ifdef DH_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define G ((size_t)SH_GRANULE)

struct live {
	uintptr_t p;
	size_t usable;
	uint32_t id;
};

struct diffheap {
	unsigned char *pool;
	unsigned char *pattern; /* pool_bytes + PATTERN_SPAN pseudo-random bytes */
	size_t pool_bytes;
	size_t lo, hi; /* free part of the pool: [lo, hi) */
	bool topdown;

	struct sh_heap heap;
	struct shref *model;
	unsigned nregions;
	struct sh_region_info ri[SH_MAX_REGIONS];
	size_t slots_total;

	struct live *live;
	size_t nlive, live_cap;
	uint32_t next_id;
	size_t rotate;

	uintptr_t stale[DH_STALE];
	unsigned nstale, stale_next;

	struct sh_block_info *walk;
	size_t nwalk, walk_cap, walk_limit;
	bool walk_oom;

	int hook_calls, hook_code;
	const void *hook_ptr;
	struct sh_report caught[4]; /* SH_HARDEN: caller-bug reports of the current step */
	unsigned ncaught;

	size_t step;
	const struct ops_op *op;
	char label[160];
	bool abort_on_fail;
	FILE *trace;
	char result[256];
	struct dh_counters count;
};

/* The one-line result of a step, formatted only when steps are printed. */
#define RESULT(d, ...)                                                                         \
	do {                                                                                   \
		if ((d)->trace)                                                                \
			snprintf((d)->result, sizeof((d)->result), __VA_ARGS__);               \
	} while (0)

/* A host object that belongs to no heap, for PTR_HOST. */
static unsigned char host_object[512];

static int dh_fail(struct diffheap *d, const char *invariant, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int check_heap(struct diffheap *d);

/* ---- small helpers ---- */

/*
 * Under ASan the arena bytes of free blocks are poisoned: the allocator keeps no metadata
 * there, so it must never touch them. Only calloc (zeroing) and realloc (copying) write to
 * arena memory, and only into the block the model says they return, which is unpoisoned
 * just before the call. Blocks start on granule (>= 8 byte) boundaries, as ASan needs.
 */
static void poison(uintptr_t p, size_t n)
{
#ifdef DH_ASAN
	ASAN_POISON_MEMORY_REGION((void *)p, n);
#else
	(void)p;
	(void)n;
#endif
}

static void unpoison(uintptr_t p, size_t n)
{
#ifdef DH_ASAN
	ASAN_UNPOISON_MEMORY_REGION((void *)p, n);
#else
	(void)p;
	(void)n;
#endif
}

#ifdef DH_ASAN
/* The engine running an operation, so that a sanitizer report can name the step. */
static struct diffheap *dh_current;

static void asan_report(const char *report)
{
	struct diffheap *d = dh_current;
	char op[128] = "(setup)";

	(void)report;
	if (!d)
		return;
	if (d->op)
		ops_format_op(d->op, op, sizeof(op));
	/* Only formatted output here: the sanitizer is in the middle of its report. */
	fprintf(stderr,
		"\n==== slotheap differential failure ====\n%s%s%sstep: %zu\nop: %s\n"
		"invariant: memory safety (AddressSanitizer report above)\n"
		"==== end of report ====\n",
		d->label[0] ? "input: " : "", d->label, d->label[0] ? "\n" : "", d->step, op);
}
#endif

static uintptr_t round_up(uintptr_t v, uintptr_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uintptr_t round_down(uintptr_t v, uintptr_t a)
{
	return v & ~(a - 1);
}

static int region_of(const struct diffheap *d, uintptr_t p, bool *in_arena)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		uintptr_t base = (uintptr_t)d->ri[i].base, arena = (uintptr_t)d->ri[i].arena;

		if (p >= arena && p - arena < d->ri[i].arena_size) {
			*in_arena = true;
			return (int)i;
		}
		if (p >= base && p - base < d->ri[i].size) {
			*in_arena = false;
			return (int)i;
		}
	}
	return -1;
}

/* The region whose arena ends at most 64 KiB below p, for pointers just past an arena. */
static int region_past(const struct diffheap *d, uintptr_t p)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		uintptr_t end = (uintptr_t)d->ri[i].arena + d->ri[i].arena_size;

		if (p >= end && p - end < 65536)
			return (int)i;
	}
	return -1;
}

/* Pointers print relative to their arena, so reports do not depend on host addresses. */
static const char *fmt_ptr(const struct diffheap *d, uintptr_t p, char *buf, size_t cap)
{
	bool in_arena = false;
	int r;

	if (p == 0) {
		snprintf(buf, cap, "NULL");
		return buf;
	}
	r = region_of(d, p, &in_arena);
	if (r >= 0 && in_arena)
		snprintf(buf, cap, "r%d+0x%" PRIxPTR, r, p - (uintptr_t)d->ri[r].arena);
	else if (r >= 0)
		snprintf(buf, cap, "r%d.base+0x%" PRIxPTR, r, p - (uintptr_t)d->ri[r].base);
	else if ((r = region_past(d, p)) >= 0)
		snprintf(buf, cap, "r%d.end+0x%" PRIxPTR, r,
			 p - (uintptr_t)d->ri[r].arena - d->ri[r].arena_size);
	else if (p >= (uintptr_t)host_object &&
		 p < (uintptr_t)host_object + sizeof(host_object))
		snprintf(buf, cap, "host+0x%" PRIxPTR, p - (uintptr_t)host_object);
	else
		snprintf(buf, cap, "0x%" PRIxPTR, p);
	return buf;
}

static void stale_push(struct diffheap *d, uintptr_t p)
{
	d->stale[d->stale_next] = p;
	d->stale_next = (d->stale_next + 1) % DH_STALE;
	if (d->nstale < DH_STALE)
		d->nstale++;
}

static ptrdiff_t live_find(const struct diffheap *d, uintptr_t p)
{
	if (p == 0)
		return -1;
	for (size_t i = 0; i < d->nlive; i++) {
		if (d->live[i].p == p)
			return (ptrdiff_t)i;
	}
	return -1;
}

static void live_remove(struct diffheap *d, size_t i)
{
	/* Order is kept so that "#i" means the same block for every engine build. */
	memmove(&d->live[i], &d->live[i + 1], (d->nlive - i - 1) * sizeof(d->live[0]));
	d->nlive--;
}

static bool live_add(struct diffheap *d, uintptr_t p, size_t usable, uint32_t id)
{
	if (d->nlive == d->live_cap) {
		size_t cap = d->live_cap ? d->live_cap * 2 : 256;
		struct live *n = realloc(d->live, cap * sizeof(*n));

		if (!n)
			return false;
		d->live = n;
		d->live_cap = cap;
	}
	d->live[d->nlive++] = (struct live){p, usable, id};
	return true;
}

/* ---- contents (I9) ---- */

/*
 * The pattern of block id is a window of one pseudo-random source buffer, starting at an
 * offset derived from the id: filling is one memcpy and checking one memcmp, which the
 * sanitizers and the fuzzing runtime handle far faster than a loop over words.
 */
#define PATTERN_SPAN 4096

static size_t pattern_offset(uint32_t id)
{
	return (size_t)(((uint64_t)id * 2654435761u) % PATTERN_SPAN);
}

static void pattern_fill(const struct diffheap *d, uintptr_t p, size_t n, uint32_t id)
{
	memcpy((void *)p, d->pattern + pattern_offset(id), n);
}

/* Offset of the first byte that differs from the pattern, or SIZE_MAX. */
static size_t pattern_check(const struct diffheap *d, uintptr_t p, size_t n, uint32_t id)
{
	const unsigned char *b = (const unsigned char *)p,
			    *want = d->pattern + pattern_offset(id);

	if (memcmp(b, want, n) == 0)
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (b[i] != want[i])
			return i;
	}
	return SIZE_MAX;
}

/* True if the n bytes at p are all zero. */
static bool all_zero(uintptr_t p, size_t n)
{
	const unsigned char *b = (const unsigned char *)p;

	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static int verify_live(struct diffheap *d, size_t i, const char *why)
{
	const struct live *e = &d->live[i];
	size_t bad = pattern_check(d, e->p, e->usable, e->id);
	char b[48];

	if (bad == SIZE_MAX)
		return 0;
	return dh_fail(d, "I9 contents",
		       "%s: live block #%zu (id %" PRIu32
		       ") at %s, usable %zu: byte %zu changed",
		       why, i, e->id, fmt_ptr(d, e->p, b, sizeof(b)), e->usable, bad);
}

static int verify_all(struct diffheap *d)
{
	for (size_t i = 0; i < d->nlive; i++) {
		if (verify_live(d, i, "full contents check"))
			return -1;
	}
	return 0;
}

/* ---- failure reports ---- */

static void print_stats(FILE *f, const char *who, const struct sh_stats *s)
{
	fprintf(f,
		"  %-5s live %zu B in %zu blocks, free %zu B in %zu blocks, largest free %zu,"
		" slots %zu (spare %zu), failed allocs %zu, misuse %zu\n",
		who, s->live_bytes, s->live_blocks, s->free_bytes, s->free_blocks,
		s->largest_free, s->slots_total, s->slots_spare, s->failed_allocs, s->misuse);
}

static int walk_cb(const struct sh_block_info *b, void *ctx)
{
	struct diffheap *d = ctx;

	/* A corrupted heap must not make the walk run away: every block needs a slot. */
	if (d->nwalk >= d->walk_limit)
		return 1;
	if (d->nwalk == d->walk_cap) {
		size_t cap = d->walk_cap ? d->walk_cap * 2 : 512;
		struct sh_block_info *n = realloc(d->walk, cap * sizeof(*n));

		if (!n) {
			d->walk_oom = true;
			return 2;
		}
		d->walk = n;
		d->walk_cap = cap;
	}
	d->walk[d->nwalk++] = *b;
	return 0;
}

static int collect_walk(struct diffheap *d)
{
	d->nwalk = 0;
	d->walk_oom = false;
	d->walk_limit = d->slots_total + 1;
	return sh_walk(&d->heap, walk_cb, d);
}

static void fmt_block(const struct diffheap *d, const struct sh_block_info *b, char *buf,
		      size_t cap)
{
	uintptr_t arena = b->region < d->nregions ? (uintptr_t)d->ri[b->region].arena : 0;

	snprintf(buf, cap, "r%u +0x%06" PRIxPTR " %7zu %s", b->region,
		 (uintptr_t)b->ptr - arena, b->size, b->live ? "live" : "free");
}

void dh_dump(struct diffheap *d, FILE *f)
{
	struct sh_stats cs, ms;
	size_t nm = d->model ? shref_block_count(d->model) : 0;
	size_t n, shown = 0;
	int wr = collect_walk(d);

	fprintf(f, "heap: %u region%s\n", d->nregions, d->nregions == 1 ? "" : "s");
	for (unsigned i = 0; i < d->nregions; i++) {
		const struct sh_region_info *r = &d->ri[i];
		size_t live = 0, fr = 0;

		for (size_t k = 0; k < d->nwalk; k++) {
			if (d->walk[k].region == i) {
				if (d->walk[k].live)
					live++;
				else
					fr++;
			}
		}
		fprintf(f,
			"  region %u: size %zu, metadata %zu B, arena %zu B (%zu granules),"
			" base %% %zu = %zu\n",
			i, r->size, (size_t)((uintptr_t)r->arena - (uintptr_t)r->base),
			r->arena_size, r->arena_size / G, G, (size_t)((uintptr_t)r->base % G));
		fprintf(f,
			"            slots %zu: %zu live, %zu free, %zu spare; %zu buckets\n",
			r->nslots, live, fr, r->nslots >= live + fr ? r->nslots - live - fr : 0,
			r->nbuckets);
	}
	sh_stats(&d->heap, &cs);
	print_stats(f, "core", &cs);
	if (d->model) {
		shref_stats(d->model, &ms);
		print_stats(f, "model", &ms);
	}
	fprintf(f, "blocks (core walk%s | model):\n", wr ? " stopped early" : "");
	n = d->nwalk > nm ? d->nwalk : nm;
	for (size_t i = 0; i < n; i++) {
		char a[80] = "-", b[80] = "-";
		struct sh_block_info mb;
		bool same = false;

		if (i < d->nwalk)
			fmt_block(d, &d->walk[i], a, sizeof(a));
		if (i < nm && shref_block(d->model, i, &mb) == 0) {
			fmt_block(d, &mb, b, sizeof(b));
			same = i < d->nwalk && strcmp(a, b) == 0;
		}
		if (++shown > 400) {
			fprintf(f, "  ... %zu more\n", n - i);
			break;
		}
		fprintf(f, "  %4zu  %-32s | %s%s\n", i, a, same ? "same" : b,
			same ? "" : "  <<");
	}
	fprintf(f, "engine: %zu live blocks tracked, next id %" PRIu32 "\n", d->nlive,
		d->next_id);
}

static int dh_fail(struct diffheap *d, const char *invariant, const char *fmt, ...)
{
	char op[128] = "(setup)";
	va_list ap;

	if (d->op)
		ops_format_op(d->op, op, sizeof(op));
	fflush(stdout);
	fprintf(stderr, "\n==== slotheap differential failure ====\n");
	if (d->label[0])
		fprintf(stderr, "input: %s\n", d->label);
	fprintf(stderr, "step: %zu\nop: %s\ninvariant: %s\ndetail: ", d->step, op, invariant);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	dh_dump(d, stderr);
	fprintf(stderr, "==== end of report ====\n");
	fflush(stderr);
	if (d->abort_on_fail)
		abort();
	return -1;
}

/* ---- setup ---- */

struct diffheap *dh_new(size_t pool_bytes)
{
	struct diffheap *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pool_bytes = round_up(pool_bytes, 4096);
	d->pool = aligned_alloc(4096, pool_bytes);
	if (!d->pool) {
		free(d);
		return NULL;
	}
	d->pattern = malloc(pool_bytes + PATTERN_SPAN);
	if (!d->pattern) {
		free(d->pool);
		free(d);
		return NULL;
	}
	for (size_t i = 0, x = 0x2545f491u; i < pool_bytes + PATTERN_SPAN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d->pattern[i] = (unsigned char)(x >> 24);
	}
	d->pool_bytes = pool_bytes;
	d->abort_on_fail = true;
#ifdef DH_ASAN
	__asan_set_error_report_callback(asan_report);
#endif
	return d;
}

void dh_delete(struct diffheap *d)
{
	if (!d)
		return;
	if (d->model)
		shref_delete(d->model);
	free(d->live);
	free(d->walk);
	free(d->pattern);
	free(d->pool);
	free(d);
}

void dh_set_label(struct diffheap *d, const char *label)
{
	snprintf(d->label, sizeof(d->label), "%s", label ? label : "");
}

void dh_set_abort(struct diffheap *d, bool on)
{
	d->abort_on_fail = on;
}

void dh_set_trace(struct diffheap *d, FILE *f)
{
	d->trace = f;
}

static void hook(void *ctx, int code, const void *ptr)
{
	struct diffheap *d = ctx;

	/* Caller bugs the SH_HARDEN build catches are compared with the model's reports after
	 * the step; the hook also sees misuse, which check_misuse_hook compares. */
	if (code == SH_EOVERRUN || code == SH_EUSEAFTERFREE) {
		const struct sh_report *r = sh_last_report(&d->heap);

		if (d->ncaught < 4)
			d->caught[d->ncaught] = *r;
		if (r->code != code || r->ptr != ptr)
			d->caught[d->ncaught < 4 ? d->ncaught : 3].code = -1; /* disagree */
		d->ncaught++;
		return;
	}
	d->hook_calls++;
	d->hook_code = code;
	d->hook_ptr = ptr;
}

void dh_begin(struct diffheap *d, bool topdown)
{
	if (d->model)
		shref_delete(d->model);
	d->model = shref_new();
	if (!d->model) {
		fprintf(stderr, "diffheap: out of host memory\n");
		abort();
	}
	sh_init(&d->heap);
	sh_set_error_hook(&d->heap, hook, d);
	unpoison((uintptr_t)d->pool, d->pool_bytes);
	d->topdown = topdown;
	d->lo = 0;
	d->hi = d->pool_bytes;
	d->nregions = 0;
	d->slots_total = 0;
	d->nlive = 0;
	d->next_id = 0;
	d->rotate = 0;
	d->nstale = 0;
	d->stale_next = 0;
	d->step = 0;
	d->op = NULL;
}

size_t dh_region_bytes(const struct ops_region *r)
{
	size_t want = (size_t)r->arena_gran * G + r->tail, size = want, next;

	/* The metadata grows with the region (the free index covers it), so the size is the
	 * least fixed point of size = meta(size) + pad + arena + tail: each step can only grow,
	 * and meta is bounded. */
	for (;;) {
		size_t meta = r->nslots ? sh_region_meta_bytes(r->nslots, size) : 0;
		size_t pad = (size_t)(round_up(r->misalign + meta, G) - (r->misalign + meta));
		next = meta + pad + want;
		if (next == size)
			return size;
		size = next;
	}
}

int dh_add_region(struct diffheap *d, size_t size, size_t nslots, size_t misalign, size_t gap)
{
	uintptr_t pool = (uintptr_t)d->pool, base, arena;
	size_t off, meta;
	int want, got;
	struct sh_region_info info;

	if (d->topdown) {
		if (d->hi < gap + size + misalign + G)
			return -2;
		off = (size_t)round_down(d->hi - gap - size - misalign, G) + misalign;
		if (off + size > d->hi - gap)
			off -= G;
		d->hi = off;
	} else {
		off = (size_t)round_up(d->lo, G) + gap + misalign;
		if (off > d->pool_bytes || d->pool_bytes - off < size)
			return -2;
		d->lo = off + size;
	}
	base = pool + off;

	/* What the header promises for this region. */
	meta = nslots ? sh_region_meta_bytes(nslots, size) : 0;
	arena = round_up(base + meta, G);
	if (nslots == 0)
		want = SH_EINVAL;
	else if (meta == 0)
		want = SH_ETOOBIG;
	else if (d->nregions == SH_MAX_REGIONS)
		want = SH_ETOOMANY;
	else if (arena > base + size || base + size - arena < G)
		want = SH_ETOOSMALL;
	else
		want = SH_OK;

	got = sh_add_region(&d->heap, (void *)base, size, nslots);
	if (got != want && !(want == SH_ETOOBIG && got != SH_OK))
		return dh_fail(d, "region setup",
			       "sh_add_region(size %zu, %zu slots) returned %s, expected %s",
			       size, nslots, sh_strerror(got), sh_strerror(want));
	if (got != SH_OK)
		return 1;
	if (sh_region_info(&d->heap, d->nregions, &info) != 0)
		return dh_fail(d, "region setup", "sh_region_info(%u) failed", d->nregions);
	if ((uintptr_t)info.base != base || info.size != size ||
	    (uintptr_t)info.arena != arena ||
	    info.arena_size != round_down(base + size - arena, G) || info.nslots != nslots ||
	    info.nbuckets == 0 || (info.nbuckets & (info.nbuckets - 1)) != 0)
		return dh_fail(
			d, "region setup",
			"region %u geometry: arena at base+%zu size %zu slots %zu buckets %zu;"
			" expected base+%zu size %zu slots %zu",
			d->nregions, (size_t)((uintptr_t)info.arena - base), info.arena_size,
			info.nslots, info.nbuckets, (size_t)(arena - base),
			(size_t)round_down(base + size - arena, G), nslots);
	got = shref_add_region(d->model, arena, info.arena_size, nslots);
	if (got != 0)
		return dh_fail(d, "region setup", "shref_add_region refused region %u: %s",
			       d->nregions, sh_strerror(got));
	poison(arena, info.arena_size);
	d->ri[d->nregions++] = info;
	d->slots_total += nslots;
	return 0;
}

unsigned char *dh_pool(struct diffheap *d, size_t *bytes)
{
	*bytes = d->pool_bytes;
	return d->pool;
}

struct sh_heap *dh_heap_mut(struct diffheap *d)
{
	return &d->heap;
}

int dh_adopt(struct diffheap *d)
{
	sh_set_error_hook(&d->heap, hook, d);
	d->nregions = 0;
	d->slots_total = 0;
	for (unsigned i = 0; i < SH_MAX_REGIONS; i++) {
		struct sh_region_info info;
		uintptr_t base, arena;
		size_t meta;
		int rc;

		if (sh_region_info(&d->heap, i, &info) != 0)
			break;
		base = (uintptr_t)info.base;
		meta = sh_region_meta_bytes(info.nslots, info.size);
		arena = round_up(base + meta, G);
		if (meta == 0 || (uintptr_t)info.arena != arena ||
		    info.arena_size != round_down(base + info.size - arena, G) ||
		    info.arena_size == 0)
			return dh_fail(
				d, "region setup",
				"region %u geometry: %zu bytes, %zu slots, arena at base+%zu"
				" size %zu; expected base+%zu size %zu",
				i, info.size, info.nslots,
				(size_t)((uintptr_t)info.arena - base), info.arena_size,
				(size_t)(arena - base),
				(size_t)round_down(base + info.size - arena, G));
		rc = shref_add_region(d->model, arena, info.arena_size, info.nslots);
		if (rc != 0)
			return dh_fail(d, "region setup",
				       "shref_add_region refused region %u: %s", i,
				       sh_strerror(rc));
		d->ri[d->nregions++] = info;
		d->slots_total += info.nslots;
	}
	/* Everything is free in a new heap: poison what the walk reports free. */
	if (collect_walk(d) == 0) {
		for (size_t k = 0; k < d->nwalk; k++) {
			if (!d->walk[k].live)
				poison((uintptr_t)d->walk[k].ptr, d->walk[k].size);
		}
	}
	return check_heap(d);
}

int dh_report(struct diffheap *d, const char *invariant, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dh_fail(d, invariant, "%s", msg);
}

int dh_setup(struct diffheap *d, const struct ops_layout *l)
{
#ifdef DH_TINY
	/* Fault-injection build: every region cut to a few granules and slots. */
	struct ops_layout tl = *l;

	for (unsigned i = 0; i < tl.nregions; i++) {
		if (tl.r[i].arena_gran)
			tl.r[i].arena_gran = 1 + (tl.r[i].arena_gran - 1) % DH_TINY_GRAN;
		if (tl.r[i].nslots)
			tl.r[i].nslots = 1 + (tl.r[i].nslots - 1) % DH_TINY_SLOTS;
	}
	l = &tl;
#endif
	dh_begin(d, l->topdown);
	for (unsigned i = 0; i < l->nregions; i++) {
		const struct ops_region *r = &l->r[i];
		int rc = dh_add_region(d, dh_region_bytes(r), r->nslots, r->misalign,
				       (size_t)r->gap * G);

		if (rc == -2) {
			fprintf(stderr,
				"diffheap: pool of %zu bytes too small for the layout\n",
				d->pool_bytes);
			abort();
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- checks after every step ---- */

static int check_heap(struct diffheap *d)
{
	struct sh_check_report rep;
	struct sh_stats cs, ms, ws;
	size_t nm, region_end_idx = 0;
	int rc;
	char b1[80], b2[80];

	memset(&rep, 0, sizeof(rep));
	rc = sh_check(&d->heap, &rep);
	if (rc == SH_EOVERRUN || (rc == 0 && SH_HARDEN)) {
		/* SH_HARDEN: live blocks whose guard the caller changed, as the model says. */
		struct sh_report want;
		size_t n = shref_check_guards(d->model, &want);

		if (rc == 0 ? n != 0
			    : rep.invariant != SH_I10_GUARD || rep.failures != n ||
				      rep.block != (uintptr_t)want.ptr ||
				      rep.size != want.size || rep.bad != want.bad)
			return dh_fail(
				d, "caller-bug report (sh_check)",
				"sh_check: %s, %u overrun block%s, first %s size %zu byte %zu;"
				" model: %zu, first %s size %zu byte %zu",
				sh_strerror(rc), rc ? rep.failures : 0,
				rc && rep.failures == 1 ? "" : "s",
				fmt_ptr(d, rc ? rep.block : 0, b1, sizeof(b1)),
				rc ? rep.size : 0, rc ? rep.bad : 0, n,
				fmt_ptr(d, (uintptr_t)want.ptr, b2, sizeof(b2)), want.size,
				want.bad);
		rc = 0;
	}
	if (rc != 0)
		return dh_fail(d, sh_invariant_name(rep.invariant),
			       "sh_check: %s (region %u, slot %" PRIu32
			       ", block %s), %u failure%s",
			       rep.what ? rep.what : "?", rep.region, rep.slot,
			       fmt_ptr(d, rep.block, b1, sizeof(b1)), rep.failures,
			       rep.failures == 1 ? "" : "s");

	rc = collect_walk(d);
	if (d->walk_oom) {
		fprintf(stderr, "diffheap: out of host memory\n");
		abort();
	}
	if (rc != 0)
		return dh_fail(d, "I2 slots", "sh_walk reports more blocks than the %zu slots",
			       d->slots_total);

	/* I1, I3, I5 from the public view: blocks tile each arena in order. */
	memset(&ws, 0, sizeof(ws));
	for (unsigned r = 0; r < d->nregions; r++) {
		uintptr_t cur = (uintptr_t)d->ri[r].arena;
		uintptr_t end = cur + d->ri[r].arena_size;
		bool prev_free = false;

		for (; region_end_idx < d->nwalk && d->walk[region_end_idx].region == r;
		     region_end_idx++) {
			const struct sh_block_info *b = &d->walk[region_end_idx];

			if ((uintptr_t)b->ptr != cur || b->size == 0 || b->size % G ||
			    b->size > end - cur)
				return dh_fail(
					d, "I1 tiling",
					"walk block %zu (%s) does not continue the tiling at"
					" %s",
					region_end_idx, (fmt_block(d, b, b1, sizeof(b1)), b1),
					fmt_ptr(d, cur, b2, sizeof(b2)));
			if (!b->live && prev_free)
				return dh_fail(
					d, "I3 consolidation",
					"walk block %zu (%s) is free and so is the one below",
					region_end_idx, (fmt_block(d, b, b1, sizeof(b1)), b1));
			prev_free = !b->live;
			cur += b->size;
			if (b->live) {
				ws.live_bytes += b->size;
				ws.live_blocks++;
			} else {
				ws.free_bytes += b->size;
				ws.free_blocks++;
				if (b->size > ws.largest_free)
					ws.largest_free = b->size;
			}
		}
		if (cur != end)
			return dh_fail(d, "I1 tiling",
				       "region %u: blocks end at %s, arena at %s", r,
				       fmt_ptr(d, cur, b1, sizeof(b1)),
				       fmt_ptr(d, end, b2, sizeof(b2)));
	}
	if (region_end_idx != d->nwalk)
		return dh_fail(d, "I1 tiling", "walk block %zu names region %u, out of order",
			       region_end_idx, d->walk[region_end_idx].region);

	/* I8: the block lists agree. */
	nm = shref_block_count(d->model);
	for (size_t i = 0; i < d->nwalk || i < nm; i++) {
		struct sh_block_info mb;

		if (i >= nm || i >= d->nwalk || shref_block(d->model, i, &mb) != 0 ||
		    mb.region != d->walk[i].region || mb.ptr != d->walk[i].ptr ||
		    mb.size != d->walk[i].size || mb.live != d->walk[i].live) {
			if (i < d->nwalk)
				fmt_block(d, &d->walk[i], b1, sizeof(b1));
			else
				snprintf(b1, sizeof(b1), "none");
			if (i < nm && shref_block(d->model, i, &mb) == 0)
				fmt_block(d, &mb, b2, sizeof(b2));
			else
				snprintf(b2, sizeof(b2), "none");
			return dh_fail(
				d, "I8 differential (blocks)",
				"block %zu: core %s, model %s (core %zu blocks, model %zu)", i,
				b1, b2, d->nwalk, nm);
		}
	}

	/* I7 and I8: statistics agree with the walk and with the model. */
	sh_stats(&d->heap, &cs);
	shref_stats(d->model, &ms);
	ws.slots_total = d->slots_total;
	ws.slots_spare = d->slots_total - d->nwalk;
#define SAME(field, other, who)                                                                \
	do {                                                                                   \
		if (cs.field != other.field)                                                   \
			return dh_fail(d, who, "sh_stats." #field " is %zu, expected %zu",     \
				       cs.field, other.field);                                 \
	} while (0)
	SAME(live_bytes, ws, "I7 statistics (walk)");
	SAME(free_bytes, ws, "I7 statistics (walk)");
	SAME(live_blocks, ws, "I7 statistics (walk)");
	SAME(free_blocks, ws, "I7 statistics (walk)");
	SAME(largest_free, ws, "I7 statistics (walk)");
	SAME(slots_total, ws, "I7 statistics (walk)");
	SAME(slots_spare, ws, "I2 slots (spare count)");
	SAME(live_bytes, ms, "I8 differential (stats)");
	SAME(free_bytes, ms, "I8 differential (stats)");
	SAME(live_blocks, ms, "I8 differential (stats)");
	SAME(free_blocks, ms, "I8 differential (stats)");
	SAME(slots_total, ms, "I8 differential (stats)");
	SAME(slots_spare, ms, "I8 differential (stats)");
	SAME(largest_free, ms, "I8 differential (stats)");
	SAME(failed_allocs, ms, "I8 differential (stats)");
	SAME(misuse, ms, "I8 differential (stats)");
#undef SAME

	/* The engine's own list of live blocks is the walk's. */
	if (ws.live_blocks != d->nlive)
		return dh_fail(d, "I8 differential (live set)",
			       "the heap has %zu live blocks, the engine handed out %zu",
			       ws.live_blocks, d->nlive);
	for (size_t i = 0; i < d->nlive; i++) {
		size_t u = sh_usable_size(&d->heap, (void *)d->live[i].p);

		if (u != d->live[i].usable)
			return dh_fail(
				d, "I8 differential (live set)",
				"live block #%zu at %s: sh_usable_size %zu, expected %zu", i,
				fmt_ptr(d, d->live[i].p, b1, sizeof(b1)), u, d->live[i].usable);
	}
	return 0;
}

/* ---- operations ---- */

static uintptr_t op_pointer(struct diffheap *d, const struct ops_op *op)
{
	const struct sh_region_info *r = d->nregions ? &d->ri[op->idx % d->nregions] : NULL;
	const struct live *e = d->nlive ? &d->live[op->idx % d->nlive] : NULL;

	switch (op->ptr) {
	case PTR_LIVE:
		return e ? e->p : 0;
	case PTR_INTERIOR:
		if (!e)
			return 0;
		return e->p + 1 + (e->usable > 1 ? op->off % (e->usable - 1) : 0);
	case PTR_STALE:
		return d->nstale ? d->stale[op->idx % d->nstale] : 0;
	case PTR_ARENA:
		return r ? (uintptr_t)r->arena + (uintptr_t)op->off * G : 0;
	case PTR_UNALIGNED:
		return r ? (uintptr_t)r->arena + op->off : 0;
	case PTR_META:
		return r ? (uintptr_t)r->base + op->off : 0;
	case PTR_PAST:
		return r ? (uintptr_t)r->arena + r->arena_size + (uintptr_t)op->off * G : 0;
	case PTR_HOST:
		return (uintptr_t)host_object + op->off;
	case PTR_NULL:
	default:
		return 0;
	}
}

static int check_error_codes(struct diffheap *d, const char *call)
{
	int ce = sh_last_error(&d->heap), me = shref_last_error(d->model);

	if (ce != me)
		return dh_fail(d, "I8 differential (error code)",
			       "%s: sh_last_error %s, model %s", call, sh_strerror(ce),
			       sh_strerror(me));
	return 0;
}

/* Rule 1: the block a request of req bytes needs (the harden build: one guard byte more). */
static size_t policy_block(size_t req)
{
	if (SH_HARDEN)
		return req / G * G + G;
	return req > G ? (req + G - 1) / G * G : G;
}

/* Checks a fresh block (malloc, calloc, memalign, realloc of NULL) and records it. */
static int check_new_block(struct diffheap *d, const char *call, uintptr_t c, uintptr_t m,
			   size_t req, bool req_known, size_t align, bool zeroed)
{
	char b1[48], b2[48];
	size_t cu, mu;
	bool in_arena = false;

	if (c != m)
		return dh_fail(d, "I8 differential (result)", "%s: core returned %s, model %s",
			       call, fmt_ptr(d, c, b1, sizeof(b1)),
			       fmt_ptr(d, m, b2, sizeof(b2)));
	if (check_error_codes(d, call))
		return -1;
	if (c == 0) {
		d->count.alloc_failed++;
		RESULT(d, "NULL (%s)", sh_strerror(sh_last_error(&d->heap)));
		return 0;
	}
	d->count.alloc_ok++;
	cu = sh_usable_size(&d->heap, (void *)c);
	mu = shref_usable_size(d->model, m);
	if (cu != mu)
		return dh_fail(d, "I8 differential (usable size)",
			       "%s at %s: core %zu, model %zu", call,
			       fmt_ptr(d, c, b1, sizeof(b1)), cu, mu);
	if (region_of(d, c, &in_arena) < 0 || !in_arena)
		return dh_fail(d, "I1 tiling", "%s returned %s, outside every arena", call,
			       fmt_ptr(d, c, b1, sizeof(b1)));
	if (c % G || (align > G && c % align) || (!SH_HARDEN && (cu % G || cu == 0)) ||
	    (SH_HARDEN && cu != req) || (req_known && cu < req))
		return dh_fail(d, "I5 alignment",
			       "%s returned %s usable %zu for %zu bytes aligned to %zu", call,
			       fmt_ptr(d, c, b1, sizeof(b1)), cu, req, align);
	if (live_find(d, c) >= 0)
		return dh_fail(d, "I8 differential (live set)",
			       "%s returned %s, which is already live", call,
			       fmt_ptr(d, c, b1, sizeof(b1)));
	unpoison(c, cu);
	if (zeroed && !all_zero(c, cu)) {
		const unsigned char *p = (const unsigned char *)c;
		size_t i = 0;

		while (p[i] == 0)
			i++;
		return dh_fail(d, "I9 contents",
			       "calloc block %s: byte %zu of %zu is 0x%02x, not 0",
			       fmt_ptr(d, c, b1, sizeof(b1)), i, cu, p[i]);
	}
	if (req_known && shref_block_size(d->model, m) > policy_block(req))
		d->count.whole_block++;
	pattern_fill(d, c, cu, d->next_id);
	if (!live_add(d, c, cu, d->next_id)) {
		fprintf(stderr, "diffheap: out of host memory\n");
		abort();
	}
	d->next_id++;
	RESULT(d, "%s usable %zu", fmt_ptr(d, c, b1, sizeof(b1)), cu);
	return 0;
}

static int check_misuse_hook(struct diffheap *d, const char *call, int rc, uintptr_t p)
{
	char b1[48];

	if (rc == 0 && d->hook_calls == 0)
		return 0;
	if (rc != 0 && d->hook_calls == 1 && d->hook_code == rc && (uintptr_t)d->hook_ptr == p)
		return 0;
	return dh_fail(d, "misuse report",
		       "%s(%s) reported %s but the error hook saw %d call%s (last code %s)",
		       call, fmt_ptr(d, p, b1, sizeof(b1)), sh_strerror(rc), d->hook_calls,
		       d->hook_calls == 1 ? "" : "s", sh_strerror(d->hook_code));
}

static int do_free(struct diffheap *d, uintptr_t p)
{
	ptrdiff_t e = live_find(d, p);
	int cr = sh_free(&d->heap, (void *)p);
	int mr = shref_free(d->model, p);
	char b1[48];

	if (cr != mr)
		return dh_fail(d, "I8 differential (result)", "free(%s): core %s, model %s",
			       fmt_ptr(d, p, b1, sizeof(b1)), sh_strerror(cr), sh_strerror(mr));
	if (check_error_codes(d, "free") || check_misuse_hook(d, "free", cr, p))
		return -1;
	if ((cr == 0) != (p == 0 || e >= 0))
		return dh_fail(d, "misuse report", "free(%s) of a %s block returned %s",
			       fmt_ptr(d, p, b1, sizeof(b1)), e >= 0 ? "live" : "non-live",
			       sh_strerror(cr));
	if (e >= 0) {
		poison(p, d->live[e].usable);
		live_remove(d, (size_t)e);
		stale_push(d, p);
		d->count.frees++;
	} else if (cr != 0) {
		d->count.misuse++;
	}
	RESULT(d, "free(%s): %s", fmt_ptr(d, p, b1, sizeof(b1)), sh_strerror(cr));
	return 0;
}

static int do_realloc(struct diffheap *d, uintptr_t p, size_t size)
{
	ptrdiff_t e = live_find(d, p);
	uintptr_t c, m;
	char b1[48], b2[48];
	struct live old;
	size_t cu, mu, keep;

	if (p == 0) {
		c = (uintptr_t)sh_realloc(&d->heap, NULL, size);
		m = shref_realloc(d->model, 0, size);
		return check_new_block(d, "realloc(NULL)", c, m, size, true, G, false);
	}
	/* The model first: the block it returns may be written by the allocator's copy. */
	m = shref_realloc(d->model, p, size);
	if (m)
		unpoison(m, shref_usable_size(d->model, m));
	c = (uintptr_t)sh_realloc(&d->heap, (void *)p, size);
	if (c != m)
		return dh_fail(d, "I8 differential (result)",
			       "realloc: core returned %s, model %s",
			       fmt_ptr(d, c, b1, sizeof(b1)), fmt_ptr(d, m, b2, sizeof(b2)));
	if (check_error_codes(d, "realloc"))
		return -1;
	if (e < 0) {
		int code = sh_last_error(&d->heap);

		if (c != 0 || code < SH_EFOREIGN || code > SH_EDOUBLEFREE)
			return dh_fail(d, "misuse report",
				       "realloc of non-live %s returned %s, error %s",
				       fmt_ptr(d, p, b1, sizeof(b1)),
				       fmt_ptr(d, c, b2, sizeof(b2)), sh_strerror(code));
		if (check_misuse_hook(d, "realloc", code, p))
			return -1;
		d->count.misuse++;
		RESULT(d, "%s -> NULL (%s)", fmt_ptr(d, p, b1, sizeof(b1)), sh_strerror(code));
		return 0;
	}
	if (check_misuse_hook(d, "realloc", 0, p))
		return -1;
	old = d->live[e];
	if (size == 0) {
		if (c != 0)
			return dh_fail(d, "I8 differential (result)",
				       "realloc(p, 0) returned %s",
				       fmt_ptr(d, c, b1, sizeof(b1)));
		poison(p, old.usable);
		live_remove(d, (size_t)e);
		stale_push(d, p);
		d->count.frees++;
		RESULT(d, "%s -> NULL (freed)", fmt_ptr(d, p, b1, sizeof(b1)));
		return 0;
	}
	if (c == 0) {
		d->count.realloc_failed++;
		RESULT(d, "%s -> NULL (%s), block kept", fmt_ptr(d, p, b1, sizeof(b1)),
		       sh_strerror(sh_last_error(&d->heap)));
		return verify_live(d, (size_t)e, "after a failed realloc");
	}
	cu = sh_usable_size(&d->heap, (void *)c);
	mu = shref_usable_size(d->model, m);
	if (cu != mu)
		return dh_fail(d, "I8 differential (usable size)",
			       "realloc to %s: core %zu, model %zu",
			       fmt_ptr(d, c, b1, sizeof(b1)), cu, mu);
	if (c % G || (SH_HARDEN ? cu != size : cu % G || cu < size))
		return dh_fail(d, "I5 alignment",
			       "realloc returned %s usable %zu for %zu bytes",
			       fmt_ptr(d, c, b1, sizeof(b1)), cu, size);
	if (c != p && live_find(d, c) >= 0)
		return dh_fail(d, "I8 differential (live set)",
			       "realloc returned %s, which is already live",
			       fmt_ptr(d, c, b1, sizeof(b1)));
	keep = old.usable < size ? old.usable : size;
	{
		size_t bad = pattern_check(d, c, keep, old.id);

		if (bad != SIZE_MAX)
			return dh_fail(
				d, "I9 contents",
				"realloc %s (usable %zu) -> %s (usable %zu): byte %zu of the"
				" %zu-byte common prefix changed",
				fmt_ptr(d, p, b1, sizeof(b1)), old.usable,
				fmt_ptr(d, c, b2, sizeof(b2)), cu, bad, keep);
	}
	if (c != p)
		poison(p, old.usable);
	else if (cu < old.usable && !SH_HARDEN) /* (SH_HARDEN: still the block's guard) */
		poison(c + cu, old.usable - cu);
	unpoison(c, cu);
	pattern_fill(d, c, cu, old.id);
	d->live[e].p = c;
	d->live[e].usable = cu;
	if (c != p) {
		stale_push(d, p);
		d->count.realloc_moved++;
	} else {
		d->count.realloc_same++;
	}
	RESULT(d, "%s -> %s usable %zu", fmt_ptr(d, p, b2, sizeof(b2)),
	       fmt_ptr(d, c, b1, sizeof(b1)), cu);
	return 0;
}

/* Start of the first free block (model's view, before the call) with room for an align-aligned
 * block of size bytes, or 0: memalign takes that block unless its gap cannot get a slot, so a
 * result elsewhere means candidates were skipped. */
static uintptr_t first_aligned_fit(const struct diffheap *d, size_t align, size_t size,
				   size_t *block_size)
{
	struct sh_block_info b;
	size_t need;

	/* (a size above half the address space fits no pool, and rounding it cannot overflow;
	 * the bound is written so that it holds for a 32-bit size_t too) */
	if (align == 0 || (align & (align - 1)) != 0 || size > SIZE_MAX / 2)
		return 0;
	align = align < G ? G : align;
	need = size ? (size + G - 1) & ~(G - 1) : G;
	for (size_t i = 0; shref_block(d->model, i, &b) == 0; i++) {
		uintptr_t p = (uintptr_t)b.ptr, a = round_up(p, align);

		if (!b.live && a >= p && a - p <= b.size && b.size - (a - p) >= need) {
			*block_size = b.size;
			return p;
		}
	}
	return 0;
}

/* SH_HARDEN: the caller's bugs the step's call reported are the model's, in order. */
static int check_caught(struct diffheap *d)
{
	struct sh_report want[2];
	unsigned n = shref_reports(d->model, want, 2);
	char b1[48], b2[48];

	if (n > 2 || d->ncaught > 4)
		return dh_fail(d, "caller-bug report",
			       "%u reports from core, %u from the model", d->ncaught, n);
	for (unsigned i = 0; i < n || i < d->ncaught; i++) {
		const struct sh_report *c = i < d->ncaught ? &d->caught[i] : NULL;
		const struct sh_report *m = i < n ? &want[i] : NULL;

		if (!c || !m || c->code != m->code || c->ptr != m->ptr || c->size != m->size ||
		    c->bad != m->bad)
			return dh_fail(
				d, "caller-bug report",
				"report %u: core %s %s size %zu byte %zu, model %s %s size %zu"
				" byte %zu (core %u reports, model %u)",
				i, c ? sh_strerror(c->code) : "none",
				fmt_ptr(d, c ? (uintptr_t)c->ptr : 0, b1, sizeof(b1)),
				c ? c->size : 0, c ? c->bad : 0,
				m ? sh_strerror(m->code) : "none",
				fmt_ptr(d, m ? (uintptr_t)m->ptr : 0, b2, sizeof(b2)),
				m ? m->size : 0, m ? m->bad : 0, d->ncaught, n);
	}
	return 0;
}

/* SH_HARDEN ops: the caller writes where it should not, past ASan's poisoning of free memory
 * (core poisons it: these writes are what a caller without ASan does). */
static void wild_write(uintptr_t a, unsigned char v)
{
#ifdef DH_ASAN
	uintptr_t w = a & ~(uintptr_t)7;
	bool poisoned = __asan_address_is_poisoned((void *)a) != 0;

	if (poisoned)
		unpoison(w, 8);
	*(volatile unsigned char *)a = v;
	if (poisoned)
		poison(w, 8);
#else
	*(volatile unsigned char *)a = v;
#endif
}

static int do_overrun(struct diffheap *d, const struct ops_op *op, ptrdiff_t *touched)
{
	const struct live *e;
	size_t bs, k;
	char b1[48];

	if (!d->nlive) {
		RESULT(d, "no live block");
		return 0;
	}
	*touched = (ptrdiff_t)(op->idx % d->nlive);
	e = &d->live[*touched];
	bs = shref_block_size(d->model, e->p);
	if (bs <= e->usable)
		return dh_fail(d, "caller-bug report", "live block %s: block %zu, usable %zu",
			       fmt_ptr(d, e->p, b1, sizeof(b1)), bs, e->usable);
	k = (size_t)op->off + 1 < bs - e->usable ? (size_t)op->off + 1 : bs - e->usable;
	for (size_t i = 0; i < k; i++)
		wild_write(e->p + e->usable + i, (unsigned char)(op->val + i));
	if (shref_overrun(d->model, e->p, k, op->val) != 0)
		return dh_fail(d, "caller-bug report", "the model refused the overrun of %s",
			       fmt_ptr(d, e->p, b1, sizeof(b1)));
	RESULT(d, "%zu byte%s past %s + %zu", k, k == 1 ? "" : "s",
	       fmt_ptr(d, e->p, b1, sizeof(b1)), e->usable);
	return 0;
}

static int do_write_freed(struct diffheap *d, const struct ops_op *op)
{
	struct sh_block_info b;
	size_t nfree = 0, want;
	uintptr_t a;
	char b1[48];

	for (size_t i = 0; shref_block(d->model, i, &b) == 0; i++)
		nfree += !b.live;
	if (!nfree) {
		RESULT(d, "no free block");
		return 0;
	}
	want = op->idx % nfree;
	for (size_t i = 0; shref_block(d->model, i, &b) == 0; i++) {
		if (!b.live && want-- == 0)
			break;
	}
	a = (uintptr_t)b.ptr + op->size % b.size;
	wild_write(a, op->val);
	if (shref_write_freed(d->model, a, op->val) != 0)
		return dh_fail(d, "caller-bug report", "the model refused the write at %s",
			       fmt_ptr(d, a, b1, sizeof(b1)));
	RESULT(d, "0x%02x at %s", op->val, fmt_ptr(d, a, b1, sizeof(b1)));
	return 0;
}

static int run_op(struct diffheap *d, const struct ops_op *op, ptrdiff_t *touched)
{
	uintptr_t c, m, p;
	size_t req = 0;
	bool req_known = true;
	int rc;

	*touched = -1;
	switch (op->kind) {
	case OP_MALLOC:
		c = (uintptr_t)sh_malloc(&d->heap, op->size);
		m = shref_malloc(d->model, op->size);
		return check_new_block(d, "malloc", c, m, op->size, true, G, false);
	case OP_MALLOC_IN: {
		bool in_arena = false;
		int r;

		c = (uintptr_t)sh_malloc_in(&d->heap, op->mask, op->size);
		m = shref_malloc_in(d->model, op->mask, op->size);
		rc = check_new_block(d, "malloc_in", c, m, op->size, true, G, false);
		if (rc || c == 0)
			return rc;
		r = region_of(d, c, &in_arena);
		if (r < 0 || r >= 32 || !(op->mask & (1u << r)))
			return dh_fail(d, "I8 differential (region mask)",
				       "malloc_in(0x%x) returned a block of region %d",
				       op->mask, r);
		return 0;
	}
	case OP_CALLOC:
		if (op->n && op->size > SIZE_MAX / op->n)
			req_known = false;
		else
			req = op->n * op->size;
		/* The model first: the allocator zeroes the block it returns. */
		m = shref_calloc(d->model, op->n, op->size);
		if (m)
			unpoison(m, shref_usable_size(d->model, m));
		c = (uintptr_t)sh_calloc(&d->heap, op->n, op->size);
		if (!req_known && (c || m || sh_last_error(&d->heap) != SH_EOVERFLOW))
			return dh_fail(d, "I8 differential (result)",
				       "calloc(%zu, %zu) overflows but returned %s / error %s",
				       op->n, op->size, c ? "a block" : "NULL",
				       sh_strerror(sh_last_error(&d->heap)));
		return check_new_block(d, "calloc", c, m, req, req_known, G, true);
	case OP_MEMALIGN: {
		size_t cand_size = 0;
		uintptr_t cand = first_aligned_fit(d, op->align, op->size, &cand_size);

		c = (uintptr_t)sh_memalign(&d->heap, op->align, op->size);
		m = shref_memalign(d->model, op->align, op->size);
		if (cand && (m < cand || m - cand >= cand_size))
			d->count.align_skipped++;
		return check_new_block(d, "memalign", c, m, op->size, true,
				       op->align > G ? op->align : G, false);
	}
	case OP_REALLOC:
	case OP_REALLOC_PTR: {
		ptrdiff_t e;
		size_t before = d->nlive;

		if (op->kind == OP_REALLOC)
			p = d->nlive ? d->live[op->idx % d->nlive].p : 0;
		else
			p = op_pointer(d, op);
		e = live_find(d, p);
		rc = do_realloc(d, p, op->size);
		if (e >= 0 && d->nlive == before)
			*touched = e;
		return rc;
	}
	case OP_FREE:
		return do_free(d, d->nlive ? d->live[op->idx % d->nlive].p : 0);
	case OP_FREE_PTR:
		return do_free(d, op_pointer(d, op));
	case OP_USABLE: {
		ptrdiff_t e;
		size_t cu, mu, want;
		char b1[48];

		p = op_pointer(d, op);
		e = live_find(d, p);
		cu = sh_usable_size(&d->heap, (void *)p);
		mu = shref_usable_size(d->model, p);
		want = e >= 0 ? d->live[e].usable : 0;
		if (cu != mu || cu != want)
			return dh_fail(d, "I8 differential (usable size)",
				       "usable_size(%s): core %zu, model %zu, engine %zu",
				       fmt_ptr(d, p, b1, sizeof(b1)), cu, mu, want);
		RESULT(d, "usable(%s) = %zu", fmt_ptr(d, p, b1, sizeof(b1)), cu);
		*touched = e;
		return 0;
	}
	case OP_OVERRUN:
		if (SH_HARDEN)
			return do_overrun(d, op, touched);
		return dh_fail(d, "input", "overrun in a build without SH_HARDEN");
	case OP_WRITE_FREED:
		if (SH_HARDEN)
			return do_write_freed(d, op);
		return dh_fail(d, "input", "write_freed in a build without SH_HARDEN");
	default:
		return dh_fail(d, "input", "unknown op kind %u", op->kind);
	}
}

int dh_step(struct diffheap *d, const struct ops_op *op)
{
	ptrdiff_t touched;
	size_t before = d->nlive;

	d->op = op;
#ifdef DH_ASAN
	dh_current = d;
#endif
	d->hook_calls = 0;
	d->hook_code = 0;
	d->hook_ptr = NULL;
	d->ncaught = 0;
	d->result[0] = 0;
	d->count.ops++;
	if (run_op(d, op, &touched) || check_caught(d))
		return -1;
	if (d->trace) {
		char line[128];

		ops_format_op(op, line, sizeof(line));
		fprintf(d->trace, "%5zu  %-40s -> %s\n", d->step, line, d->result);
		for (unsigned i = 0; i < d->ncaught && i < 4; i++) {
			char b1[48];

			fprintf(d->trace, "%5s  %-40s    reported %s %s size %zu byte %zu\n",
				"", "", sh_strerror(d->caught[i].code),
				fmt_ptr(d, (uintptr_t)d->caught[i].ptr, b1, sizeof(b1)),
				d->caught[i].size, d->caught[i].bad);
		}
	}
	if (check_heap(d))
		return -1;
	/* I9: the block just allocated or moved, plus a rotating sample, every step. */
	if (touched < 0 && d->nlive > before)
		touched = (ptrdiff_t)d->nlive - 1;
	if (touched >= 0 && (size_t)touched < d->nlive &&
	    verify_live(d, (size_t)touched, "touched"))
		return -1;
	if (d->nlive) {
		for (unsigned k = 0; k < DH_ROTATE; k++) {
			d->rotate = (d->rotate + 1) % d->nlive;
			if (verify_live(d, d->rotate, "rotating check"))
				return -1;
		}
	}
	d->step++;
	if (d->step % DH_FULL_VERIFY == 0 && verify_all(d))
		return -1;
	d->op = NULL;
	return 0;
}

int dh_drain(struct diffheap *d)
{
	struct ops_op op = {.kind = OP_FREE};
	struct sh_stats st;
	size_t arena = 0;

	while (d->nlive) {
		if (dh_step(d, &op) != 0)
			return -1;
	}
	for (unsigned i = 0; i < d->nregions; i++)
		arena += d->ri[i].arena_size;
	sh_stats(&d->heap, &st);
	if (st.live_blocks || st.live_bytes || st.free_blocks != d->nregions ||
	    st.free_bytes != arena || st.slots_spare != d->slots_total - d->nregions)
		return dh_fail(
			d, "leak",
			"after freeing every block: %zu live blocks (%zu bytes), %zu free "
			"blocks of %zu bytes, %zu spare slots; expected 0, %u free blocks of "
			"%zu bytes, %zu spare slots",
			st.live_blocks, st.live_bytes, st.free_blocks, st.free_bytes,
			st.slots_spare, d->nregions, arena, d->slots_total - d->nregions);
	d->count.drains++;
	return 0;
}

int dh_finish(struct diffheap *d)
{
	d->op = NULL;
	return verify_all(d);
}

void dh_counters(const struct diffheap *d, struct dh_counters *out)
{
	*out = d->count;
}

size_t dh_steps(const struct diffheap *d)
{
	return d->step;
}

size_t dh_live_count(const struct diffheap *d)
{
	return d->nlive;
}

const struct sh_heap *dh_heap(const struct diffheap *d)
{
	return &d->heap;
}

unsigned dh_region_count(const struct diffheap *d)
{
	return d->nregions;
}

/* ---- snapshots ---- */

struct dh_snapshot {
	unsigned char *bytes; /* pool[0, lo) then pool[hi, pool_bytes) */
	size_t cap;
	size_t lo, hi;
	bool topdown;
	struct sh_heap heap;
	struct shref *model;
	unsigned nregions;
	struct sh_region_info ri[SH_MAX_REGIONS];
	size_t slots_total;
	struct live *live;
	size_t nlive, live_cap;
	uint32_t next_id;
	size_t rotate;
	uintptr_t stale[DH_STALE];
	unsigned nstale, stale_next;
	size_t step;
};

struct dh_snapshot *dh_snapshot_new(void)
{
	struct dh_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->model = shref_new();
	if (!s->model) {
		free(s);
		return NULL;
	}
	return s;
}

void dh_snapshot_delete(struct dh_snapshot *s)
{
	if (!s)
		return;
	shref_delete(s->model);
	free(s->live);
	free(s->bytes);
	free(s);
}

/* The used part of the pool is copied whole, so its poisoning is lifted first and put back
 * on the free blocks (as the model lists them) afterwards. */
static void unpoison_used(const struct diffheap *d, size_t lo, size_t hi)
{
	unpoison((uintptr_t)d->pool, lo);
	unpoison((uintptr_t)d->pool + hi, d->pool_bytes - hi);
}

void dh_unpoison(void *p, size_t n)
{
	unpoison((uintptr_t)p, n);
}

void dh_meta_poison(const struct diffheap *d, bool poisoned)
{
	for (unsigned i = 0; i < d->nregions; i++) {
		uintptr_t base = (uintptr_t)d->ri[i].base;
		size_t n = (size_t)((uintptr_t)d->ri[i].arena - base);

		if (poisoned)
			poison(base, n);
		else
			unpoison(base, n);
	}
}

/* Free blocks and metadata, as core leaves them. */
static void poison_free_blocks(const struct diffheap *d)
{
	struct sh_block_info b;

	dh_meta_poison(d, true);

	for (size_t i = 0; shref_block(d->model, i, &b) == 0; i++) {
		if (!b.live)
			poison((uintptr_t)b.ptr, b.size);
	}
}

int dh_save(const struct diffheap *d, struct dh_snapshot *s)
{
	size_t used = d->lo + (d->pool_bytes - d->hi);

	if (s->cap < used) {
		unsigned char *b = realloc(s->bytes, used);

		if (!b)
			return -1;
		s->bytes = b;
		s->cap = used;
	}
	if (s->live_cap < d->nlive) {
		struct live *l = realloc(s->live, d->nlive * sizeof(*l));

		if (!l)
			return -1;
		s->live = l;
		s->live_cap = d->nlive;
	}
	if (shref_copy(s->model, d->model) != 0)
		return -1;
	unpoison_used(d, d->lo, d->hi);
	memcpy(s->bytes, d->pool, d->lo);
	memcpy(s->bytes + d->lo, d->pool + d->hi, d->pool_bytes - d->hi);
	poison_free_blocks(d);
	s->lo = d->lo;
	s->hi = d->hi;
	s->topdown = d->topdown;
	s->heap = d->heap;
	s->nregions = d->nregions;
	memcpy(s->ri, d->ri, sizeof(s->ri));
	s->slots_total = d->slots_total;
	if (d->nlive)
		memcpy(s->live, d->live, d->nlive * sizeof(*s->live));
	s->nlive = d->nlive;
	s->next_id = d->next_id;
	s->rotate = d->rotate;
	memcpy(s->stale, d->stale, sizeof(s->stale));
	s->nstale = d->nstale;
	s->stale_next = d->stale_next;
	s->step = d->step;
	return 0;
}

int dh_restore(struct diffheap *d, const struct dh_snapshot *s)
{
	if (d->live_cap < s->nlive) {
		struct live *l = realloc(d->live, s->nlive * sizeof(*l));

		if (!l)
			return -1;
		d->live = l;
		d->live_cap = s->nlive;
	}
	if (shref_copy(d->model, s->model) != 0)
		return -1;
	unpoison_used(d, d->lo > s->lo ? d->lo : s->lo, d->hi < s->hi ? d->hi : s->hi);
	memcpy(d->pool, s->bytes, s->lo);
	memcpy(d->pool + s->hi, s->bytes + s->lo, d->pool_bytes - s->hi);
	d->lo = s->lo;
	d->hi = s->hi;
	d->topdown = s->topdown;
	d->heap = s->heap;
	d->nregions = s->nregions;
	memcpy(d->ri, s->ri, sizeof(d->ri));
	d->slots_total = s->slots_total;
	if (s->nlive)
		memcpy(d->live, s->live, s->nlive * sizeof(*d->live));
	d->nlive = s->nlive;
	d->next_id = s->next_id;
	d->rotate = s->rotate;
	memcpy(d->stale, s->stale, sizeof(d->stale));
	d->nstale = s->nstale;
	d->stale_next = s->stale_next;
	d->step = s->step;
	d->op = NULL;
	poison_free_blocks(d);
	return 0;
}

/* ---- picture ---- */

void dh_svg(struct diffheap *d, FILE *f, const char *title)
{
	const int width = 960, left = 110, bar = 36, row = 96;
	int height = 60 + (int)d->nregions * row;
	size_t k = 0;

	collect_walk(d);
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
		" font-family=\"monospace\" font-size=\"12\">\n",
		left + width + 20, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"10\" y=\"20\">%s</text>\n", title ? title : "slotheap");
	fprintf(f, "<text x=\"10\" y=\"38\" fill=\"#555\">blocks: blue live, green free;"
		   " slots: blue live, green free, grey spare</text>\n");
	for (unsigned r = 0; r < d->nregions; r++) {
		const struct sh_region_info *ri = &d->ri[r];
		int y = 50 + (int)r * row;
		size_t live = 0, fr = 0;
		double scale = (double)width / (double)ri->arena_size;

		fprintf(f, "<text x=\"10\" y=\"%d\">region %u</text>\n", y + 22, r);
		fprintf(f, "<text x=\"10\" y=\"%d\" fill=\"#555\">%zu B</text>\n", y + 38,
			ri->arena_size);
		fprintf(f,
			"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
			" stroke=\"black\"/>\n",
			left, y, width, bar);
		for (; k < d->nwalk && d->walk[k].region == r; k++) {
			const struct sh_block_info *b = &d->walk[k];
			double x = (double)((uintptr_t)b->ptr - (uintptr_t)ri->arena) * scale;
			double w = (double)b->size * scale;

			if (b->live)
				live++;
			else
				fr++;
			fprintf(f,
				"<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\""
				" fill=\"%s\" stroke=\"white\" stroke-width=\"0.5\">"
				"<title>+0x%zx %zu B %s</title></rect>\n",
				left + x, y, w > 0.5 ? w : 0.5, bar,
				b->live ? "#4a7fd0" : "#74c476",
				(size_t)((uintptr_t)b->ptr - (uintptr_t)ri->arena), b->size,
				b->live ? "live" : "free");
		}
		{
			double sw = (double)width / (double)(ri->nslots ? ri->nslots : 1);
			size_t spare = ri->nslots >= live + fr ? ri->nslots - live - fr : 0;

			fprintf(f,
				"<rect x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"12\" "
				"fill=\"#4a7fd0\"/>"
				"<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"12\" "
				"fill=\"#74c476\"/>"
				"<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"12\" "
				"fill=\"#bbb\"/>\n",
				left, y + bar + 6, (double)live * sw, left + (double)live * sw,
				y + bar + 6, (double)fr * sw, left + (double)(live + fr) * sw,
				y + bar + 6, (double)spare * sw);
			fprintf(f,
				"<text x=\"%d\" y=\"%d\" fill=\"#555\">slots %zu: %zu live, "
				"%zu free,"
				" %zu spare</text>\n",
				left, y + bar + 32, ri->nslots, live, fr, spare);
		}
	}
	fprintf(f, "</svg>\n");
}
