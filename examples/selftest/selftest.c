/* SPDX-License-Identifier: MIT */
/*
 * The allocation self-test (selftest.h). Freestanding: no libc, its own PRNG (xorshift32) and
 * number formatting. Each block the test holds carries a tag; byte j of the block is a
 * function of the tag and j, so a block that another allocation overlaps, that realloc did
 * not copy, or that calloc did not zero is found when the block is next verified.
 */
#include "selftest.h"

struct entry {
	unsigned char *p; /* NULL: entry unused */
	size_t size;	  /* bytes asked for (and filled) */
	size_t usable;	  /* sh_usable_size when it was allocated */
	uint32_t tag;
};

struct line {
	char b[160];
	unsigned n;
};

struct state {
	struct sh_heap *h;
	void (*print)(const char *s);
	uint32_t rng;
	size_t cap; /* largest request */
	struct sh_stats base;
	struct entry e[SH_SELFTEST_SLOTS];
	unsigned long live, live_bytes; /* the test's own blocks */
	unsigned long n_malloc, n_calloc, n_memalign, n_realloc, n_free, n_nomem;
	unsigned long n_checks, peak_blocks, peak_bytes, verified;
	unsigned long call;
	const char *what; /* name of the call under test, for messages */
};

static uint32_t rnd(struct state *s)
{
	uint32_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->rng = x;
	return x;
}

static void put_c(struct line *l, char c)
{
	if (l->n < sizeof(l->b) - 1)
		l->b[l->n++] = c;
}

static void put_s(struct line *l, const char *str)
{
	while (*str)
		put_c(l, *str++);
}

static void put_u(struct line *l, unsigned long v)
{
	char t[3 * sizeof(v)];
	unsigned k = 0;

	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		put_c(l, t[--k]);
}

static void put_x(struct line *l, uintptr_t v)
{
	unsigned shift = 4 * (2 * sizeof(v) - 1);

	put_s(l, "0x");
	while (shift && (v >> shift) == 0)
		shift -= 4;
	for (;; shift -= 4) {
		put_c(l, "0123456789abcdef"[(v >> shift) & 0xf]);
		if (!shift)
			break;
	}
}

static void emit(const struct state *s, struct line *l)
{
	l->b[l->n] = '\0';
	if (s->print)
		s->print(l->b);
	l->n = 0;
}

/* Starts the FAIL line: "selftest: FAIL at call N (what): "; the caller adds the reason. */
static void fail_start(const struct state *s, struct line *l)
{
	l->n = 0;
	put_s(l, "selftest: FAIL at call ");
	put_u(l, s->call);
	put_s(l, " (");
	put_s(l, s->what);
	put_s(l, "): ");
}

static int fail(const struct state *s, const char *why, const void *p, unsigned long n)
{
	struct line l;

	fail_start(s, &l);
	put_s(&l, why);
	if (p) {
		put_s(&l, ", block ");
		put_x(&l, (uintptr_t)p);
	}
	put_s(&l, ", ");
	put_u(&l, n);
	emit(s, &l);
	return SH_ECORRUPT;
}

static unsigned char pattern(uint32_t tag, size_t j)
{
	uint32_t x = tag + (uint32_t)j * 0x9e3779b1u;

	return (unsigned char)(x ^ (x >> 11) ^ (x >> 24));
}

static void fill(struct entry *e)
{
	for (size_t j = 0; j < e->size; j++)
		e->p[j] = pattern(e->tag, j);
}

/* Checks the first n bytes of p against e's pattern. */
static int verify(struct state *s, const unsigned char *p, const struct entry *e, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (p[j] != pattern(e->tag, j))
			return fail(s, "contents changed, at byte", p, j);
	}
	s->verified += n;
	return 0;
}

static size_t largest_free(const struct state *s)
{
	struct sh_stats st;

	sh_stats(s->h, &st);
	return st.largest_free;
}

static size_t pick_size(struct state *s)
{
	uint32_t r = rnd(s);
	size_t lim;

	if ((r & 63) == 0)
		return 0;
	switch (r & 15) {
	case 10:
	case 11:
	case 12:
	case 13:
		lim = 1024;
		break;
	case 14:
		lim = 8192;
		break;
	case 15:
		lim = s->cap;
		break;
	default:
		lim = 128;
	}
	if (lim > s->cap)
		lim = s->cap;
	return 1 + rnd(s) % lim;
}

/* A NULL result is correct only as SH_ENOMEM and, where the policy promises a fit whenever a
 * free block is large enough (malloc, calloc, realloc), only when none was. */
static int check_null(struct state *s, size_t size, size_t largest, bool must_fit)
{
	int err = sh_last_error(s->h);

	if (err != SH_ENOMEM)
		return fail(s, "NULL without SH_ENOMEM, error code", NULL, (unsigned long)err);
	/* largest is a whole number of granules: size fits it iff its rounded size does */
	if (must_fit && (size ? size : SH_GRANULE) <= largest)
		return fail(s, "NULL although a free block was large enough, request", NULL,
			    size);
	s->n_nomem++;
	return 0;
}

/* Checks a new block of e->size bytes aligned to align, records it and fills it. */
static int take(struct state *s, struct entry *e, unsigned char *p, size_t align)
{
	size_t usable = sh_usable_size(s->h, p);

	if (align < SH_GRANULE)
		align = SH_GRANULE;
	if ((uintptr_t)p % align != 0)
		return fail(s, "block misaligned, alignment asked", p, align);
	if (usable < e->size || usable < SH_GRANULE)
		return fail(s, "usable size below the request, usable", p, usable);
	e->p = p;
	e->usable = usable;
	e->tag = rnd(s);
	s->live++;
	s->live_bytes += usable;
	fill(e);
	return 0;
}

static void drop(struct state *s, struct entry *e)
{
	s->live--;
	s->live_bytes -= e->usable;
	e->p = NULL;
}

static int do_alloc(struct state *s, struct entry *e)
{
	uint32_t r = rnd(s) % 10;
	size_t size = pick_size(s), largest = largest_free(s);
	unsigned char *p;

	if (r < 5) {
		s->what = "malloc";
		s->n_malloc++;
		p = sh_malloc(s->h, size);
	} else if (r < 6) {
		s->what = "realloc from NULL";
		s->n_realloc++;
		p = sh_realloc(s->h, NULL, size);
	} else if (r < 8) {
		size_t n = 1 + rnd(s) % 4;

		s->what = "calloc";
		s->n_calloc++;
		size = size / n * n;
		p = sh_calloc(s->h, n, size / n);
		if (p) {
			size_t usable = sh_usable_size(s->h, p);
			for (size_t j = 0; j < usable; j++) {
				if (p[j] != 0)
					return fail(s, "calloc block not zero, at byte", p, j);
			}
		}
	} else {
		size_t align = (size_t)1 << (rnd(s) % 13);

		s->what = "memalign";
		s->n_memalign++;
		p = sh_memalign(s->h, align, size);
		e->size = size;
		if (!p)
			return check_null(s, size, largest, false);
		return take(s, e, p, align);
	}
	e->size = size;
	if (!p)
		return check_null(s, size, largest, true);
	return take(s, e, p, SH_GRANULE);
}

static int do_release(struct state *s, struct entry *e)
{
	uint32_t r = rnd(s) % 20;
	unsigned char *old = e->p;
	int rc;

	s->what = "verify";
	rc = verify(s, e->p, e, e->size);
	if (rc)
		return rc;
	if (r < 10) {
		s->what = r < 9 ? "free" : "realloc to 0";
		if (r < 9) {
			s->n_free++;
			rc = sh_free(s->h, e->p);
			if (rc)
				return fail(s, "sh_free refused a live block, code", old,
					    (unsigned)rc);
		} else {
			s->n_realloc++;
			if (sh_realloc(s->h, e->p, 0) != NULL)
				return fail(s, "realloc to 0 returned a block", old, 0);
		}
		if (sh_usable_size(s->h, old) != 0)
			return fail(s, "freed block still live, usable size", old,
				    sh_usable_size(s->h, old));
		drop(s, e);
		return 0;
	}

	size_t size = pick_size(s), largest = largest_free(s);
	unsigned char *p;
	struct entry was = *e;

	if (size == 0)
		size = 1;
	s->what = size <= e->usable ? "realloc shrink" : "realloc grow";
	s->n_realloc++;
	p = sh_realloc(s->h, e->p, size);
	if (!p) {
		if (size <= e->usable)
			return fail(s, "shrink returned NULL, request", old, size);
		if (sh_usable_size(s->h, old) != e->usable)
			return fail(s, "failed realloc changed the block, usable size", old,
				    sh_usable_size(s->h, old));
		rc = check_null(s, size, largest, true);
		if (rc)
			return rc;
		return verify(s, old, e, e->size);
	}
	rc = verify(s, p, &was, size < was.size ? size : was.size);
	if (rc)
		return rc;
	if (p != old && sh_usable_size(s->h, old) != 0)
		return fail(s, "moved block's old copy still live", old, 0);
	drop(s, e);
	e->size = size;
	return take(s, e, p, SH_GRANULE);
}

/* sh_check and the test's own figures against sh_stats. */
static int check_heap(struct state *s)
{
	struct sh_check_report rep;
	struct sh_stats st;
	struct line l;

	s->n_checks++;
	if (sh_check(s->h, &rep) != 0) {
		fail_start(s, &l);
		put_s(&l, "sh_check: ");
		put_s(&l, sh_invariant_name(rep.invariant));
		put_s(&l, ": ");
		put_s(&l, rep.what ? rep.what : "?");
		put_s(&l, " (region ");
		put_u(&l, rep.region);
		put_s(&l, ")");
		emit(s, &l);
		return SH_ECORRUPT;
	}
	sh_stats(s->h, &st);
	if (st.live_blocks != s->base.live_blocks + s->live)
		return fail(s, "sh_stats live blocks differ from the test's, sh_stats says",
			    NULL, st.live_blocks);
	if (st.live_bytes != s->base.live_bytes + s->live_bytes)
		return fail(s, "sh_stats live bytes differ from the test's, sh_stats says",
			    NULL, st.live_bytes);
	if (st.misuse != s->base.misuse)
		return fail(s, "misuse reported, count", NULL, st.misuse);
	if (st.failed_allocs != s->base.failed_allocs + s->n_nomem)
		return fail(s, "failed allocations miscounted, sh_stats says", NULL,
			    st.failed_allocs);
	return 0;
}

static int finish(struct state *s)
{
	struct sh_stats st;
	struct line l;
	int rc;

	l.n = 0;
	s->what = "final free";
	for (unsigned i = 0; i < SH_SELFTEST_SLOTS; i++) {
		struct entry *e = &s->e[i];
		if (!e->p)
			continue;
		rc = verify(s, e->p, e, e->size);
		if (rc)
			return rc;
		rc = sh_free(s->h, e->p);
		if (rc)
			return fail(s, "sh_free refused a live block, code", e->p,
				    (unsigned)rc);
		s->n_free++;
		drop(s, e);
	}
	rc = check_heap(s);
	if (rc)
		return rc;
	sh_stats(s->h, &st);
	if (st.free_bytes != s->base.free_bytes || st.free_blocks != s->base.free_blocks ||
	    st.largest_free != s->base.largest_free || st.slots_spare != s->base.slots_spare)
		return fail(s, "heap not back to its first state, free bytes", NULL,
			    st.free_bytes);

	put_s(&l, "selftest: calls malloc ");
	put_u(&l, s->n_malloc);
	put_s(&l, ", calloc ");
	put_u(&l, s->n_calloc);
	put_s(&l, ", memalign ");
	put_u(&l, s->n_memalign);
	put_s(&l, ", realloc ");
	put_u(&l, s->n_realloc);
	put_s(&l, ", free ");
	put_u(&l, s->n_free);
	put_s(&l, "; ");
	put_u(&l, s->n_nomem);
	put_s(&l, " found no fit");
	emit(s, &l);
	put_s(&l, "selftest: ");
	put_u(&l, s->n_checks);
	put_s(&l, " heap checks, ");
	put_u(&l, s->verified);
	put_s(&l, " bytes verified, peak ");
	put_u(&l, s->peak_blocks);
	put_s(&l, " live blocks, ");
	put_u(&l, s->peak_bytes);
	put_s(&l, " live bytes");
	emit(s, &l);
	put_s(&l, "selftest: heap after: ");
	put_u(&l, st.free_bytes);
	put_s(&l, " bytes free in ");
	put_u(&l, st.free_blocks);
	put_s(&l, " blocks, ");
	put_u(&l, st.live_blocks);
	put_s(&l, " live blocks, slots ");
	put_u(&l, st.slots_total);
	put_s(&l, " (");
	put_u(&l, st.slots_spare);
	put_s(&l, " spare)");
	emit(s, &l);
	put_s(&l, "selftest: PASS");
	emit(s, &l);
	return 0;
}

/* Every field set one by one: a whole-struct initialiser may become a call to memset, which a
 * freestanding image need not have; the empty asm keeps the loop a loop. */
static void state_init(struct state *s, struct sh_heap *h, void (*print)(const char *s))
{
	s->h = h;
	s->print = print;
	s->rng = 1;
	s->cap = 1;
	for (unsigned i = 0; i < SH_SELFTEST_SLOTS; i++) {
		s->e[i].p = NULL;
		__asm__ volatile("" ::: "memory");
	}
	s->live = s->live_bytes = 0;
	s->n_malloc = s->n_calloc = s->n_memalign = s->n_realloc = s->n_free = s->n_nomem = 0;
	s->n_checks = s->peak_blocks = s->peak_bytes = s->verified = 0;
	s->call = 0;
	s->what = "start";
}

int sh_selftest_run(struct sh_heap *h, unsigned long seed, unsigned ops,
		    void (*print)(const char *s))
{
	struct state s;
	struct line l;
	uint32_t x = (uint32_t)seed ^ (uint32_t)((seed >> 16) >> 16);
	int rc;

	state_init(&s, h, print);
	l.n = 0;
	if (!h) {
		put_s(&l, "selftest: FAIL: no heap");
		emit(&s, &l);
		return SH_EINVAL;
	}
	x = x * 0x9e3779b9u + 0x7f4a7c15u;
	s.rng = x ? x : 1;
	sh_stats(h, &s.base);
	rc = check_heap(&s);
	if (rc)
		return rc;
	s.cap = s.base.largest_free / 16;
	if (s.cap > ((size_t)256 << 10))
		s.cap = (size_t)256 << 10;
	if (s.cap == 0)
		s.cap = 1;

	put_s(&l, "selftest: seed ");
	put_u(&l, seed);
	put_s(&l, ", ");
	put_u(&l, ops);
	put_s(&l, " calls, heap of ");
	put_u(&l, h->nregions);
	put_s(&l, " regions with ");
	put_u(&l, s.base.free_bytes);
	put_s(&l, " bytes free (largest ");
	put_u(&l, s.base.largest_free);
	put_s(&l, "), requests up to ");
	put_u(&l, s.cap);
	put_s(&l, " bytes");
	emit(&s, &l);
	if (s.base.largest_free == 0) {
		put_s(&l, "selftest: FAIL: the heap has no free memory");
		emit(&s, &l);
		return SH_ENOMEM;
	}

	for (s.call = 1; s.call <= ops; s.call++) {
		struct entry *e = &s.e[rnd(&s) % SH_SELFTEST_SLOTS];

		rc = e->p ? do_release(&s, e) : do_alloc(&s, e);
		if (rc)
			return rc;
		if (s.live > s.peak_blocks)
			s.peak_blocks = s.live;
		if (s.live_bytes > s.peak_bytes)
			s.peak_bytes = s.live_bytes;
		if (s.call % SH_SELFTEST_BATCH == 0 || s.call == ops) {
			rc = check_heap(&s);
			if (rc)
				return rc;
		}
	}
	s.call = ops;
	return finish(&s);
}
