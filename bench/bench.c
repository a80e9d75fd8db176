/* SPDX-License-Identifier: MIT */
/*
 * slotheap benchmark driver: the same deterministic workloads against every allocator in one
 * process, side by side, so that a noisy machine slows them all alike.
 *
 *   bench run [--quick] [--seed N] [--reps N] [--csv FILE] [--growth FILE]
 *       speed (median ns per call), latency at 100,000 live blocks, growth with the live block
 *       count, churn and fragmentation of the pool allocators, metadata per block.
 *   bench one ALLOC WORKLOAD STEPS [--seed N] [--peak]
 *       one run, for callgrind (instructions per call: run once with STEPS and once with 0)
 *       and for peak memory (--peak: every block fully written, peak RSS read back).
 *   bench list
 *
 * Every workload is a trace drawn from the seed before any allocator runs: block sizes,
 * which live block to replace, alignments. A window workload first allocates its window,
 * then runs untimed warm-up steps (one window's worth) so the heap reaches a steady state,
 * then the timed steps. Each step frees a random live block and allocates its successor
 * (realloc: resizes it). A call is one malloc, free, realloc or memalign.
 *
 * The linear build of slotheap costs O(free blocks) per call, so it runs a shorter prefix of
 * the same trace (LINEAR_BUDGET / live steps, at least 200): its ns per call is still a
 * steady-state median, only over fewer calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#include "bench.h"

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define LINEAR_BUDGET 20000000u /* linear build: steps x live blocks per run */
#define LAT_LIVE 100000u	/* live blocks of the latency workloads */

static const struct bench_alloc *const allocs[] = {
	&bench_slotheap, &bench_slotheap_linear, &bench_glibc, &bench_jemalloc, &bench_mimalloc,
};
#define NALLOCS (sizeof(allocs) / sizeof(allocs[0]))
static bool alloc_ok[NALLOCS];

/* ---------------------------------------------------------------- small helpers */

static void die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "bench: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory%s%s", "", "");
	return p;
}

/* splitmix64: small, fast, and the same sequence everywhere. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static size_t rnd_range(size_t lo, size_t hi)
{
	return lo + (size_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ticks(void)
{
#if HAVE_TSC
	_mm_lfence();
	return __rdtsc();
#else
	return now_ns();
#endif
}

static double ns_per_tick = 1.0;
static uint64_t tick_overhead;

/* Calibrates the time stamp counter against the monotonic clock and measures the cost of
 * one back-to-back pair of readings, which every latency sample then subtracts. */
static void calibrate_ticks(void)
{
	uint64_t t0 = now_ns(), c0 = ticks(), t1, c1, best = UINT64_MAX;
	int i;

	do {
		t1 = now_ns();
	} while (t1 - t0 < 50000000u);
	c1 = ticks();
	ns_per_tick = (double)(t1 - t0) / (double)(c1 - c0);
	for (i = 0; i < 10000; i++) {
		uint64_t a = ticks(), b = ticks();

		if (b - a < best)
			best = b - a;
	}
	tick_overhead = best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------------- output */

static FILE *csv;

static void put(const char *workload, const char *alloc, const char *metric, double value)
{
	if (csv != NULL)
		fprintf(csv, "%s,%s,%s,%.6g\n", workload, alloc, metric, value);
}

static void put_na(const char *workload, const char *alloc, const char *metric)
{
	if (csv != NULL)
		fprintf(csv, "%s,%s,%s,n/a\n", workload, alloc, metric);
}

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

/* ---------------------------------------------------------------- the pool */

/* One mapping, reserved once, of which each pool workload uses a prefix: both builds of
 * slotheap get exactly the same memory. */
static unsigned char *pool_mem;
static size_t pool_cap;

static void *pool_get(size_t size)
{
	if (size > pool_cap) {
		if (pool_mem != NULL)
			munmap(pool_mem, pool_cap);
		pool_mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (pool_mem == MAP_FAILED)
			die("cannot map a pool: %s%s", strerror(errno), "");
		pool_cap = size;
	}
	return pool_mem;
}

/* Slots for a workload that never has more than max_live live blocks: full consolidation
 * leaves at most one free block between two live ones, so 2 * max_live + 1 slots always
 * suffice (the +1 before doubling covers realloc's moment with old and new block live). */
static size_t slots_for_live(size_t max_live)
{
	return 2 * (max_live + 1) + 1;
}

/* Mean block size (in bytes, after rounding to 16-byte granules) of sizes uniform in lo..hi. */
static double mean_block(size_t lo, size_t hi)
{
	double sum = 0;
	size_t s;

	for (s = lo; s <= hi; s++)
		sum += (double)((s + 15) / 16 * 16);
	return sum / (double)(hi - lo + 1);
}

/* Slots for a pool filled until it fails: the pool full of average blocks, plus room for a
 * free hole beside every second one (POOL_SLOT_FACTOR times the average blocks that fit). The
 * churn test also sweeps the factor and reports every result. */
#define POOL_SLOT_FACTOR 1.5
static size_t slots_for_pool(size_t pool, size_t lo, size_t hi, double factor)
{
	return (size_t)(factor * (double)pool / mean_block(lo, hi)) + 1;
}

/* ---------------------------------------------------------------- workloads */

enum wkind {
	W_RANDOM,   /* free a random live block, malloc its successor */
	W_LIFO,	    /* malloc a batch, free it newest first */
	W_FIFO,	    /* malloc a batch, free it oldest first */
	W_REALLOC,  /* realloc a random live block to a new size */
	W_MEMALIGN, /* free a random live block, memalign its successor */
	W_MIXED,    /* 70% random, 20% realloc, 10% memalign */
};

struct workload {
	const char *name;
	const char *about;
	enum wkind kind;
	size_t live;   /* window (random kinds) or batch size (LIFO, FIFO) */
	size_t lo, hi; /* request sizes, uniform */
	size_t steps;  /* timed steps, or batches for LIFO and FIFO */
	size_t pool;   /* region size for pool allocators */
};

static struct workload workloads[] = {
	{"rand-small", "random malloc/free, 10,000 live, 8-512 B", W_RANDOM, 10000, 8, 512,
	 100000, 64 * MiB},
	{"rand-large", "random malloc/free, 10,000 live, 8-64 KiB", W_RANDOM, 10000, 8 * KiB,
	 64 * KiB, 100000, 1 * GiB},
	{"lifo", "batches of 100,000 malloc, freed newest first, 8-512 B", W_LIFO, 100000, 8,
	 512, 3, 64 * MiB},
	{"fifo", "batches of 100,000 malloc, freed oldest first, 8-512 B", W_FIFO, 100000, 8,
	 512, 3, 64 * MiB},
	{"realloc", "realloc a random block of 10,000 to 8-1024 B", W_REALLOC, 10000, 8, 1024,
	 100000, 64 * MiB},
	{"memalign", "random free/memalign, align 16-4096, 10,000 live, 8-512 B", W_MEMALIGN,
	 10000, 8, 512, 100000, 128 * MiB},
	{"lat-rand", "latency, random malloc/free, 100,000 live, 8-512 B", W_RANDOM, LAT_LIVE,
	 8, 512, 100000, 128 * MiB},
	{"lat-mixed", "latency, malloc/free/realloc/memalign, 100,000 live, 8-512 B", W_MIXED,
	 LAT_LIVE, 8, 512, 100000, 256 * MiB},
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))
#define NSPEED 6 /* the first NSPEED workloads are timed for speed */

static struct workload *find_workload(const char *name)
{
	size_t i;

	for (i = 0; i < NWORKLOADS; i++)
		if (strcmp(workloads[i].name, name) == 0)
			return &workloads[i];
	return NULL;
}

/* A workload's draws, made once and replayed for every allocator. */
struct trace {
	size_t nfill, nsteps;
	uint32_t *fill; /* initial sizes (window), or every size (LIFO, FIFO) */
	uint32_t *idx;	/* per step: live block to replace */
	uint32_t *size; /* per step: new size */
	uint8_t *aux;	/* per step: log2 alignment, or the operation for W_MIXED */
};

static bool is_batch(const struct workload *w)
{
	return w->kind == W_LIFO || w->kind == W_FIFO;
}

/* Warm-up steps before the timed ones: one window's worth. */
static size_t warm_steps(const struct workload *w)
{
	return is_batch(w) ? 0 : w->live;
}

static void trace_make(struct trace *t, const struct workload *w, size_t nsteps, uint64_t seed)
{
	size_t i;

	rng_state = seed;
	t->nfill = is_batch(w) ? w->live * w->steps : w->live;
	t->nsteps = is_batch(w) ? 0 : nsteps;
	t->fill = xmalloc(t->nfill * sizeof(*t->fill));
	t->idx = xmalloc(t->nsteps * sizeof(*t->idx));
	t->size = xmalloc(t->nsteps * sizeof(*t->size));
	t->aux = xmalloc(t->nsteps);
	for (i = 0; i < t->nfill; i++)
		t->fill[i] = (uint32_t)rnd_range(w->lo, w->hi);
	for (i = 0; i < t->nsteps; i++) {
		unsigned r = (unsigned)(rnd() % 100);

		t->idx[i] = (uint32_t)(rnd() % w->live);
		t->size[i] = (uint32_t)rnd_range(w->lo, w->hi);
		t->aux[i] = (uint8_t)(4 + rnd() % 9); /* alignment 16 .. 4096 */
		if (w->kind == W_MIXED)
			t->aux[i] = (uint8_t)(r < 70   ? W_RANDOM
					      : r < 90 ? W_REALLOC
						       : W_MEMALIGN);
	}
}

static void trace_free(struct trace *t)
{
	free(t->fill);
	free(t->idx);
	free(t->size);
	free(t->aux);
	memset(t, 0, sizeof(*t));
}

/* Timed steps for allocator a: all of them, except for the linear build (see top). */
static size_t steps_for(const struct bench_alloc *a, const struct workload *w, size_t steps)
{
	size_t cap;

	if (a != &bench_slotheap_linear || is_batch(w))
		return steps;
	cap = LINEAR_BUDGET / w->live;
	if (cap < 200)
		cap = 200;
	return steps < cap ? steps : cap;
}

/* Warm-up steps: always the full window, also for the linear build, whose cost per call
 * grows with the number of free blocks: a shorter warm-up would leave it fewer holes to scan
 * than in the steady state and flatter it. */
static size_t warm_for(const struct bench_alloc *a, const struct workload *w)
{
	(void)a;
	return warm_steps(w);
}

/* The linear build at 100,000 live blocks needs minutes per run: the latency workloads leave
 * it out (the growth curve shows it at that size). */
static bool skip_latency(const struct bench_alloc *a)
{
	return a == &bench_slotheap_linear;
}

struct run_out {
	size_t calls;	  /* timed calls */
	uint64_t ns;	  /* wall time of the timed calls */
	size_t peak_req;  /* peak of the requested bytes live at once */
	size_t peak_live; /* peak live block count */
	bool failed;	  /* an allocation returned NULL */
	size_t fail_step;
	struct bench_pool_stats end; /* pool allocators: state at the end */
	double chunk_median; /* median ns per call over chunks of CHUNK steps, 0 if too few */
};

/* Window workloads are timed in chunks of CHUNK steps as well as in total: one preemption
 * on a shared machine spoils one chunk, not the run, and the median chunk ignores it. */
#define CHUNK 250

static bool full_touch; /* write every byte of every block (peak memory runs) */

static inline void touch(void *p, size_t n)
{
	if (full_touch)
		memset(p, 0xa5, n);
	else
		*(volatile unsigned char *)p = (unsigned char)n;
}

/* Records latency samples when lat is not NULL (one per timed call). */
#define TIMED(lat, nlat, expr)                                                                 \
	do {                                                                                   \
		if (lat != NULL) {                                                             \
			uint64_t t0_ = ticks();                                                \
			expr;                                                                  \
			uint64_t d_ = ticks() - t0_;                                           \
			d_ = d_ > tick_overhead ? d_ - tick_overhead : 0;                      \
			lat[nlat++] = d_ > UINT32_MAX ? UINT32_MAX : (uint32_t)d_;             \
		} else {                                                                       \
			expr;                                                                  \
		}                                                                              \
	} while (0)

/* Runs workload w (trace t) on allocator a: warm untimed steps, then steps timed ones.
 * lat, if not NULL, receives one tick count per timed call. Returns 0, or -1 if the allocator
 * could not be opened. */
static int run(const struct bench_alloc *a, const struct workload *w, const struct trace *t,
	       size_t warm, size_t steps, uint32_t *lat, struct run_out *out)
{
	size_t nlive = w->live, i, s, nlat = 0, req = 0;
	void **live = xmalloc(nlive * sizeof(*live));
	uint32_t *lsize = xmalloc(nlive * sizeof(*lsize));
	struct bench_pool pool;
	uint64_t t0 = 0;
	size_t maxchunk = steps / CHUNK + 2, nchunk = 0;
	uint64_t *chunk_t = xmalloc(maxchunk * sizeof(*chunk_t));
	size_t *chunk_c = xmalloc(maxchunk * sizeof(*chunk_c));
	double *chunk_v = xmalloc(maxchunk * sizeof(*chunk_v));

	memset(out, 0, sizeof(*out));
	if (a->pool) {
		pool.base = pool_get(w->pool);
		pool.size = w->pool;
		pool.nslots = slots_for_live(w->live);
	}
	if (a->open(a->pool ? &pool : NULL) != 0) {
		free(live);
		free(lsize);
		free(chunk_t);
		free(chunk_c);
		free(chunk_v);
		return -1;
	}
#define FAIL(step)                                                                             \
	do {                                                                                   \
		out->failed = true;                                                            \
		out->fail_step = (step);                                                       \
		goto done;                                                                     \
	} while (0)
#define ACCOUNT(p, n)                                                                          \
	do {                                                                                   \
		req += (n);                                                                    \
		if (req > out->peak_req)                                                       \
			out->peak_req = req;                                                   \
	} while (0)

	if (is_batch(w)) {
		/* Every call is timed: batches of malloc, then the frees. The chunks of each
		 * phase have their own median, as mallocs and frees cost differently. */
		size_t per = w->live / CHUNK, nm = 0, nf = 0;
		double *cm = xmalloc((w->steps * per + 1) * sizeof(*cm));
		double *cf = xmalloc((w->steps * per + 1) * sizeof(*cf));
		uint64_t tc;

		t0 = now_ns();
		for (s = 0; s < w->steps; s++) {
			const uint32_t *sz = t->fill + s * w->live;

			tc = now_ns();
			for (i = 0; i < w->live; i++) {
				TIMED(lat, nlat, live[i] = a->malloc(sz[i]));
				if (live[i] == NULL) {
					free(cm);
					free(cf);
					FAIL(s * w->live + i);
				}
				touch(live[i], sz[i]);
				lsize[i] = sz[i];
				ACCOUNT(live[i], sz[i]);
				if ((i + 1) % CHUNK == 0) {
					uint64_t now = now_ns();

					cm[nm++] = (double)(now - tc) / CHUNK;
					tc = now;
				}
			}
			out->peak_live = w->live;
			tc = now_ns();
			for (i = 0; i < w->live; i++) {
				size_t k = w->kind == W_LIFO ? w->live - 1 - i : i;

				TIMED(lat, nlat, a->free(live[k]));
				req -= lsize[k];
				if ((i + 1) % CHUNK == 0) {
					uint64_t now = now_ns();

					cf[nf++] = (double)(now - tc) / CHUNK;
					tc = now;
				}
			}
			out->calls += 2 * w->live;
		}
		if (nm >= 3 && nf >= 3)
			out->chunk_median = (median(cm, nm) + median(cf, nf)) / 2;
		free(cm);
		free(cf);
		out->ns = now_ns() - t0;
		nlive = 0;
		goto done;
	}

	for (i = 0; i < nlive; i++) {
		live[i] = a->malloc(t->fill[i]);
		if (live[i] == NULL)
			FAIL(0);
		touch(live[i], t->fill[i]);
		lsize[i] = t->fill[i];
		ACCOUNT(live[i], t->fill[i]);
	}
	out->peak_live = nlive;
	for (s = 0; s < warm + steps; s++) {
		uint32_t j = t->idx[s], n = t->size[s];
		int kind = w->kind == W_MIXED ? t->aux[s] : (int)w->kind;
		uint32_t *l = s < warm ? NULL : lat;
		void *p;

		if (s == warm)
			t0 = now_ns();
		if (s >= warm && (s - warm) % CHUNK == 0 && nchunk < maxchunk) {
			chunk_t[nchunk] = now_ns();
			chunk_c[nchunk++] = out->calls;
		}
		if (kind == W_REALLOC) {
			TIMED(l, nlat, p = a->realloc(live[j], n));
			if (p == NULL)
				FAIL(s);
		} else {
			TIMED(l, nlat, a->free(live[j]));
			req -= lsize[j];
			live[j] = NULL;
			if (kind == W_MEMALIGN) {
				size_t al = (size_t)1 << t->aux[s];

				TIMED(l, nlat, p = a->memalign(al, n));
				if (p != NULL && ((uintptr_t)p & (al - 1)) != 0)
					die("%s: memalign returned a misaligned block%s",
					    a->name, "");
			} else {
				TIMED(l, nlat, p = a->malloc(n));
			}
			if (p == NULL)
				FAIL(s);
		}
		if (s >= warm)
			out->calls += kind == W_REALLOC ? 1 : 2;
		touch(p, n);
		if (kind == W_REALLOC)
			req -= lsize[j];
		live[j] = p;
		lsize[j] = n;
		ACCOUNT(p, n);
	}
	if (steps > 0)
		out->ns = now_ns() - t0;
	if (nchunk < maxchunk) {
		chunk_t[nchunk] = t0 + out->ns;
		chunk_c[nchunk++] = out->calls;
	}
	if (nchunk >= 4) {
		/* Whole chunks only: the last one may be short. */
		size_t nc = 0;

		for (i = 0; i + 1 < nchunk; i++)
			if (chunk_c[i + 1] > chunk_c[i])
				chunk_v[nc++] = (double)(chunk_t[i + 1] - chunk_t[i]) /
						(double)(chunk_c[i + 1] - chunk_c[i]);
		out->chunk_median = nc >= 3 ? median(chunk_v, nc) : 0;
	}
done:
	if (a->pool) {
		a->stats(&out->end);
		if (out->end.misuse != 0)
			die("%s: the allocator reported a bad free in %s", a->name, w->name);
		if (a->check() != 0)
			die("%s: heap check failed after %s", a->name, w->name);
	} else {
		for (i = 0; i < nlive; i++)
			if (live[i] != NULL)
				a->free(live[i]);
	}
	free(live);
	free(lsize);
	free(chunk_t);
	free(chunk_c);
	free(chunk_v);
	return 0;
#undef FAIL
#undef ACCOUNT
}

/* ---------------------------------------------------------------- speed */

struct opts {
	bool quick;
	uint64_t seed;
	unsigned reps;
	const char *csv_path;
	const char *growth_path;
};

/* A run's ns per call: its median chunk when it has enough of them, else its total. */
static double ns_per_call(const struct run_out *r)
{
	if (r->chunk_median > 0)
		return r->chunk_median;
	return r->calls ? (double)r->ns / (double)r->calls : 0;
}

/* Both builds implement one policy, so the same trace must leave the same heap: run the
 * default build on the prefix the linear build just ran and compare the end states. */
static void policy_check(const struct workload *w, const struct trace *t,
			 const struct workload *wq, size_t steps, const struct run_out *lin)
{
	const struct bench_alloc *a = &bench_slotheap_linear;
	struct run_out r;
	bool same;

	if (run(&bench_slotheap, wq, t, warm_for(a, w), steps_for(a, w, steps), NULL, &r) !=
		    0 ||
	    r.failed)
		return;
	/* The default build's free index takes room from the arena, so only the last free
	 * block differs: free bytes plus metadata are the same in both. */
	same = r.end.live_bytes == lin->end.live_bytes &&
	       r.end.free_bytes + r.end.meta_bytes ==
		       lin->end.free_bytes + lin->end.meta_bytes &&
	       r.end.free_blocks == lin->end.free_blocks;
	put(w->name, "slotheap-linear", "same_heap_as_slotheap", same);
	if (!same)
		progress("\n  %s: slotheap and slotheap-linear disagree on the same trace\n",
			 w->name);
}

static void bench_speed(const struct opts *o)
{
	size_t wi, k;
	unsigned rep;

	for (wi = 0; wi < NSPEED; wi++) {
		struct workload *w = &workloads[wi];
		size_t steps = o->quick ? w->steps / 5 : w->steps;
		double *v[NALLOCS];
		struct trace t;

		if (is_batch(w))
			steps = o->quick ? 1 : w->steps;
		{
			struct workload wq = *w;

			wq.steps = steps;
			trace_make(&t, &wq, warm_steps(w) + steps, o->seed + wi);
		}
		for (k = 0; k < NALLOCS; k++)
			v[k] = xmalloc(o->reps * sizeof(double));
		for (rep = 0; rep < o->reps; rep++) {
			progress("\r  speed    %-10s rep %u/%u ", w->name, rep + 1, o->reps);
			for (k = 0; k < NALLOCS; k++) {
				/* Rotate the order so no allocator always runs first. */
				size_t ai = (k + rep) % NALLOCS;
				const struct bench_alloc *a = allocs[ai];
				struct workload wq = *w;
				struct run_out r;

				v[ai][rep] = -1;
				if (!alloc_ok[ai])
					continue;
				if (is_batch(w))
					wq.steps = steps;
				if (run(a, &wq, &t, warm_for(a, w), steps_for(a, w, steps),
					NULL, &r) != 0 ||
				    r.failed) {
					progress("\n  %s failed in %s at step %zu\n", a->name,
						 w->name, r.fail_step);
					continue;
				}
				v[ai][rep] = ns_per_call(&r);
				progress("%s ", a->name);
				if (a == &bench_slotheap_linear && rep == 0 && alloc_ok[0])
					policy_check(w, &t, &wq, steps, &r);
				if (a->pool && rep == 0) {
					/* Slots in use at the end: one per live and per free block. */
					put(w->name, a->name, "end_live_blocks",
					    (double)r.end.live_blocks);
					put(w->name, a->name, "end_free_blocks",
					    (double)r.end.free_blocks);
					put(w->name, a->name, "end_meta_bytes",
					    (double)r.end.meta_bytes);
				}
			}
		}
		progress("\r  speed    %-10s done%40s\n", w->name, "");
		for (k = 0; k < NALLOCS; k++) {
			size_t n = 0;
			unsigned j;

			for (j = 0; j < o->reps; j++)
				if (v[k][j] >= 0)
					v[k][n++] = v[k][j];
			if (n == 0) {
				put_na(w->name, allocs[k]->name, "ns_per_call");
			} else {
				put(w->name, allocs[k]->name, "ns_per_call", median(v[k], n));
				put(w->name, allocs[k]->name, "ns_per_call_min", v[k][0]);
				put(w->name, allocs[k]->name, "reps", (double)n);
				put(w->name, allocs[k]->name, "timed_steps",
				    (double)steps_for(allocs[k], w, steps));
			}
			free(v[k]);
		}
		trace_free(&t);
	}
}

/* ---------------------------------------------------------------- latency */

static double pct(uint32_t *sorted, size_t n, double q)
{
	return (double)sorted[(size_t)(q * (double)(n - 1))] * ns_per_tick;
}

/* Per-call latency at 100,000 live blocks. The raw maximum catches every interrupt and
 * preemption on a shared machine, so a second figure filters them: each call of the
 * (deterministic) trace keeps its fastest time over the repetitions, and the maximum and
 * 99.9th percentile of those are reported as the "filtered" worst case. */
static void bench_latency(const struct opts *o)
{
	size_t wi, k;
	unsigned reps = o->quick ? 2 : 3, rep;

	for (wi = NSPEED; wi < NWORKLOADS; wi++) {
		const struct workload *w = &workloads[wi];
		size_t steps = o->quick ? w->steps / 5 : w->steps;
		struct trace t;

		trace_make(&t, w, warm_steps(w) + steps, o->seed + wi);
		for (k = 0; k < NALLOCS; k++) {
			const struct bench_alloc *a = allocs[k];
			size_t st = steps_for(a, w, steps), n = 0, i;
			uint32_t *best = xmalloc(2 * st * sizeof(*best));
			uint32_t *lat = xmalloc(2 * st * sizeof(*lat));
			double raw_max = 0, raw_p999 = 0;

			if (!alloc_ok[k] || skip_latency(a)) {
				put_na(w->name, a->name, "max_ns");
				free(best);
				free(lat);
				continue;
			}
			for (rep = 0; rep < reps; rep++) {
				struct run_out r;

				progress("\r  latency  %-10s %-16s rep %u/%u ", w->name,
					 a->name, rep + 1, reps);
				memset(lat, 0, 2 * st * sizeof(*lat));
				if (run(a, w, &t, warm_for(a, w), st, lat, &r) != 0 ||
				    r.failed) {
					progress("\n  %s failed in %s\n", a->name, w->name);
					n = 0;
					break;
				}
				n = r.calls;
				for (i = 0; i < n; i++)
					best[i] =
						rep == 0 || lat[i] < best[i] ? lat[i] : best[i];
				qsort(lat, n, sizeof(*lat), cmp_u32);
				if (pct(lat, n, 1.0) > raw_max)
					raw_max = pct(lat, n, 1.0);
				if (pct(lat, n, 0.999) > raw_p999)
					raw_p999 = pct(lat, n, 0.999);
			}
			if (n > 0) {
				qsort(best, n, sizeof(*best), cmp_u32);
				put(w->name, a->name, "max_ns_raw", raw_max);
				put(w->name, a->name, "p999_ns_raw", raw_p999);
				put(w->name, a->name, "max_ns", pct(best, n, 1.0));
				put(w->name, a->name, "p999_ns", pct(best, n, 0.999));
				put(w->name, a->name, "median_ns", pct(best, n, 0.5));
				put(w->name, a->name, "calls", (double)n);
			} else {
				put_na(w->name, a->name, "max_ns");
			}
			free(best);
			free(lat);
		}
		progress("\r  latency  %-10s done%40s\n", w->name, "");
		trace_free(&t);
	}
}

/* ---------------------------------------------------------------- growth */

static void bench_growth(const struct opts *o)
{
	static const size_t full[] = {100, 300, 1000, 3000, 10000, 30000, 100000};
	static const size_t quick[] = {100, 1000, 10000, 100000};
	const size_t *lives = o->quick ? quick : full;
	size_t nl = o->quick ? 4 : 7, li, k;
	unsigned reps = o->quick ? 1 : 3, rep;
	FILE *g = o->growth_path ? fopen(o->growth_path, "w") : NULL;

	if (o->growth_path && g == NULL)
		die("cannot write %s%s", o->growth_path, "");
	if (g != NULL) {
		fprintf(g, "# random malloc/free, 8-512 B: median ns per call against live "
			   "blocks\n");
		fprintf(g, "live");
		for (k = 0; k < NALLOCS; k++)
			fprintf(g, " %s", allocs[k]->name);
		fprintf(g, "\n");
	}
	for (li = 0; li < nl; li++) {
		struct workload w = workloads[0];
		size_t steps = o->quick ? 10000 : 50000;
		double v[NALLOCS][3];
		char name[32];
		struct trace t;

		w.live = lives[li];
		w.pool = 128 * MiB;
		snprintf(name, sizeof(name), "growth-%zu", w.live);
		trace_make(&t, &w, warm_steps(&w) + steps, o->seed + 100 + li);
		for (rep = 0; rep < reps; rep++) {
			for (k = 0; k < NALLOCS; k++) {
				size_t ai = (k + rep) % NALLOCS;
				struct run_out r;

				v[ai][rep] = -1;
				if (!alloc_ok[ai])
					continue;
				/* The linear build runs once at the largest sizes (seconds per run),
				 * and not at all above 10,000 live blocks in a quick run. */
				if (allocs[ai] == &bench_slotheap_linear && w.live >= 30000 &&
				    (rep > 0 || o->quick))
					continue;
				progress("\r  growth   %-7zu live  rep %u/%u %-16s ", w.live,
					 rep + 1, reps, allocs[ai]->name);
				if (run(allocs[ai], &w, &t, warm_for(allocs[ai], &w),
					steps_for(allocs[ai], &w, steps), NULL, &r) == 0 &&
				    !r.failed)
					v[ai][rep] = ns_per_call(&r);
			}
		}
		if (g != NULL)
			fprintf(g, "%zu", w.live);
		for (k = 0; k < NALLOCS; k++) {
			size_t n = 0;
			double m;

			for (rep = 0; rep < reps; rep++)
				if (v[k][rep] >= 0)
					v[k][n++] = v[k][rep];
			m = n > 0 ? median(v[k], n) : -1;

			if (m >= 0)
				put(name, allocs[k]->name, "ns_per_call", m);
			if (g != NULL) {
				if (m >= 0)
					fprintf(g, " %.2f", m);
				else
					fprintf(g, " NaN");
			}
		}
		if (g != NULL)
			fprintf(g, "\n");
		trace_free(&t);
	}
	progress("\r  growth   done%50s\n", "");
	if (g != NULL)
		fclose(g);
}

/* ---------------------------------------------------------------- churn, fragmentation */

struct churn_out {
	double req_share;    /* requested bytes live at the failure / pool size */
	double usable_share; /* usable bytes live at the failure / pool size */
	size_t live_blocks, steps;
};

/* Random malloc (52%) and free (48%) in a fresh pool until the first allocation fails. */
static void churn(const struct bench_alloc *a, size_t pool_size, size_t lo, size_t hi,
		  size_t nslots, uint64_t seed, struct churn_out *out)
{
	size_t cap = pool_size / lo + 1, n = 0, req = 0, steps = 0;
	void **live = xmalloc(cap * sizeof(*live));
	size_t *sz = xmalloc(cap * sizeof(*sz));
	struct bench_pool pool = {pool_get(pool_size), pool_size, nslots};
	struct bench_pool_stats st;

	rng_state = seed;
	if (a->open(&pool) != 0)
		die("%s cannot open a pool for the churn test%s", a->name, "");
	for (;; steps++) {
		if (n == 0 || rnd() % 100 < 52) {
			size_t s = rnd_range(lo, hi);
			void *p = a->malloc(s);

			if (p == NULL)
				break;
			if (n == cap)
				die("%s: churn overran its block table%s", a->name, "");
			touch(p, s);
			live[n] = p;
			sz[n++] = s;
			req += s;
		} else {
			size_t j = (size_t)(rnd() % n);

			a->free(live[j]);
			req -= sz[j];
			live[j] = live[--n];
			sz[j] = sz[n];
		}
	}
	a->stats(&st);
	if (a->check() != 0 || st.misuse != 0)
		die("%s: heap check failed in the churn test%s", a->name, "");
	out->req_share = (double)req / (double)pool_size;
	out->usable_share = (double)st.live_bytes / (double)pool_size;
	out->live_blocks = n;
	out->steps = steps;
	free(live);
	free(sz);
}

/* One churn run per seed (seed + 1000 on); *out gets the median of each figure. */
static void churn_seeds(const struct bench_alloc *a, size_t pool, size_t lo, size_t hi,
			size_t nslots, uint64_t seed, unsigned seeds, struct churn_out *out)
{
	double req[16], usable[16], blocks[16];
	unsigned si;

	for (si = 0; si < seeds; si++) {
		struct churn_out c;

		churn(a, pool, lo, hi, nslots, seed + 1000 + si, &c);
		req[si] = c.req_share;
		usable[si] = c.usable_share;
		blocks[si] = (double)c.live_blocks;
	}
	out->req_share = median(req, seeds);
	out->usable_share = median(usable, seeds);
	out->live_blocks = (size_t)median(blocks, seeds);
	out->steps = 0;
}

/* The same churn runs against the policy alone (bench/alloc_policy.c): no metadata in the
 * pool, never short of slots. What it reaches is the policy's own figure, the ceiling that an
 * implementation paying for metadata is held against. */
static void churn_ceiling(const char *name, size_t pool, size_t lo, size_t hi, uint64_t seed,
			  unsigned seeds)
{
	struct churn_out m;

	progress("\r  churn    %-10s %-16s            ", name, bench_policy.name);
	churn_seeds(&bench_policy, pool, lo, hi, 0, seed, seeds, &m);
	put(name, bench_policy.name, "live_share", m.req_share);
	put(name, bench_policy.name, "usable_share", m.usable_share);
}

static void bench_churn(const struct opts *o)
{
	static const struct {
		const char *name;
		size_t pool, lo, hi;
	} cases[] = {
		{"churn-256K", 256 * KiB, 8, 512},
		{"churn-64M", 64 * MiB, 8 * KiB, 64 * KiB},
	};
	static const double factors[] = {0.5, 0.75, 1.0, 1.25, 1.5, 2.0};
	unsigned seeds = o->quick ? 3 : 11;
	size_t ci, k, fi;

	for (ci = 0; ci < 2; ci++) {
		for (k = 0; k < NALLOCS; k++) {
			const struct bench_alloc *a = allocs[k];
			double best = -1, best_factor = 0;

			if (!a->pool) {
				put_na(cases[ci].name, a->name, "live_share");
				continue;
			}
			for (fi = 0; fi < sizeof(factors) / sizeof(factors[0]); fi++) {
				size_t nslots = slots_for_pool(cases[ci].pool, cases[ci].lo,
							       cases[ci].hi, factors[fi]);
				struct churn_out c;
				char metric[48];
				double m;

				progress("\r  churn    %-10s %-16s slots x%.2f ",
					 cases[ci].name, a->name, factors[fi]);
				churn_seeds(a, cases[ci].pool, cases[ci].lo, cases[ci].hi,
					    nslots, o->seed, seeds, &c);
				m = c.req_share;
				if (factors[fi] == POOL_SLOT_FACTOR) {
					put(cases[ci].name, a->name, "live_share", m);
					put(cases[ci].name, a->name, "usable_share",
					    c.usable_share);
					put(cases[ci].name, a->name, "live_blocks",
					    (double)c.live_blocks);
					put(cases[ci].name, a->name, "nslots", (double)nslots);
					put(cases[ci].name, a->name, "meta_bytes",
					    (double)a->meta_bytes(nslots, cases[ci].pool));
				}
				snprintf(metric, sizeof(metric), "live_share_slots_x%.2f",
					 factors[fi]);
				put(cases[ci].name, a->name, metric, m);
				if (m > best) {
					best = m;
					best_factor = factors[fi];
				}
			}
			put(cases[ci].name, a->name, "best_live_share", best);
			put(cases[ci].name, a->name, "best_slots_factor", best_factor);
		}
		churn_ceiling(cases[ci].name, cases[ci].pool, cases[ci].lo, cases[ci].hi,
			      o->seed, seeds);
	}
	progress("\r  churn    done%50s\n", "");
}

/* Fill a pool until the first failure, free every other block, then report the largest
 * block that can still be allocated and how much of the free memory a refill with the same
 * size distribution gets back. */
static void bench_frag(const struct opts *o)
{
	static const struct {
		const char *name;
		size_t pool, lo, hi;
	} cases[] = {
		{"frag-1M", 1 * MiB, 8, 512},
		{"frag-64M", 64 * MiB, 8 * KiB, 64 * KiB},
	};
	size_t ci, k;

	for (ci = 0; ci < 2; ci++) {
		for (k = 0; k < NALLOCS; k++) {
			const struct bench_alloc *a = allocs[k];
			size_t cap = cases[ci].pool / cases[ci].lo + 1, n = 0, i, got = 0;
			size_t nslots = slots_for_pool(cases[ci].pool, cases[ci].lo,
						       cases[ci].hi, POOL_SLOT_FACTOR);
			struct bench_pool pool = {pool_get(cases[ci].pool), cases[ci].pool,
						  nslots};
			struct bench_pool_stats st;
			size_t lo = 0, hi = cases[ci].pool;
			void **live;

			if (!a->pool) {
				put_na(cases[ci].name, a->name, "largest_share");
				put_na(cases[ci].name, a->name, "usable_share");
				continue;
			}
			progress("\r  frag     %-10s %-16s ", cases[ci].name, a->name);
			live = xmalloc(cap * sizeof(*live));
			rng_state = o->seed + 2000 + ci;
			if (a->open(&pool) != 0)
				die("%s cannot open a pool%s", a->name, "");
			for (;;) {
				size_t s = rnd_range(cases[ci].lo, cases[ci].hi);
				void *p = a->malloc(s);

				if (p == NULL)
					break;
				live[n++] = p;
			}
			for (i = 1; i < n; i += 2)
				a->free(live[i]);
			a->stats(&st);
			/* Largest allocatable: binary search; a block that fits is freed at once,
			 * which merges it back and leaves the heap as it was. */
			while (lo < hi) {
				size_t mid = lo + (hi - lo + 1) / 2;
				void *p = a->malloc(mid);

				if (p != NULL) {
					a->free(p);
					lo = mid;
				} else {
					hi = mid - 1;
				}
			}
			for (;;) {
				size_t s = rnd_range(cases[ci].lo, cases[ci].hi);
				void *p = a->malloc(s);

				if (p == NULL)
					break;
				got += s;
			}
			if (a->check() != 0)
				die("%s: heap check failed in the fragmentation test%s",
				    a->name, "");
			put(cases[ci].name, a->name, "free_bytes", (double)st.free_bytes);
			put(cases[ci].name, a->name, "largest_bytes", (double)lo);
			put(cases[ci].name, a->name, "largest_share",
			    (double)lo / (double)st.free_bytes);
			put(cases[ci].name, a->name, "usable_share",
			    (double)got / (double)st.free_bytes);
			free(live);
		}
	}
	progress("\r  frag     done%50s\n", "");
}

/* Metadata of the pool allocators: bytes per slot and per live block of rand-small. */
static void bench_meta(void)
{
	size_t k;

	for (k = 0; k < NALLOCS; k++) {
		const struct bench_alloc *a = allocs[k];
		size_t live = workloads[0].live, n = slots_for_live(live);

		if (!a->pool) {
			put_na("meta", a->name, "bytes_per_slot");
			continue;
		}
		/* Slot array, buckets and free index of rand-small's pool, per slot and per live
		 * block. */
		size_t meta = a->meta_bytes(n, workloads[0].pool);
		put("meta", a->name, "nslots", (double)n);
		put("meta", a->name, "bytes_per_slot", (double)meta / (double)n);
		put("meta", a->name, "bytes_per_live_block", (double)meta / (double)live);
		put("meta", a->name, "index_bytes_per_live_block",
		    (double)(meta - a->meta_bytes(n, 0)) / (double)live);
	}
}

/* ---------------------------------------------------------------- one run */

static size_t read_status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t v = 0, kl = strlen(key);

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, kl) == 0 && line[kl] == ':')
			v = (size_t)strtoull(line + kl + 1, NULL, 10);
	fclose(f);
	return v;
}

static const struct bench_alloc *find_alloc(const char *name)
{
	size_t k;

	for (k = 0; k < NALLOCS; k++)
		if (strcmp(allocs[k]->name, name) == 0)
			return allocs[k];
	return NULL;
}

/* bench one ALLOC WORKLOAD STEPS [--seed N] [--peak] */
static int cmd_one(int argc, char **argv)
{
	const struct bench_alloc *a;
	struct workload *w;
	struct run_out r;
	struct trace t;
	uint64_t seed = 1;
	bool peak = false;
	size_t steps, rss0 = 0, hwm;
	int i;

	if (argc < 5)
		die("usage: bench one ALLOC WORKLOAD STEPS [--seed N] [--peak]%s%s", "", "");
	a = find_alloc(argv[2]);
	w = find_workload(argv[3]);
	if (a == NULL || w == NULL)
		die("unknown allocator or workload: %s %s", argv[2], argv[3]);
	steps = (size_t)strtoull(argv[4], NULL, 10);
	for (i = 5; i < argc; i++) {
		if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--peak") == 0)
			peak = true;
		else
			die("unknown option %s%s", argv[i], "");
	}
	if (is_batch(w)) {
		/* STEPS counts batches here; 0 still has to open the allocator. */
		w->steps = steps;
		steps = 0;
	}
	trace_make(&t, w, warm_steps(w) + steps, seed);
	if (peak) {
		FILE *f = fopen("/proc/self/clear_refs", "w");

		full_touch = true;
		/* "5" resets the peak RSS to the current RSS (Linux 4.0 on). */
		if (f != NULL) {
			fputs("5", f);
			fclose(f);
		}
		rss0 = read_status_kib("VmRSS");
	}
	if (run(a, w, &t, warm_for(a, w), steps_for(a, w, steps), NULL, &r) != 0)
		die("%s is not available%s", a->name, "");
	if (r.failed)
		die("%s: an allocation failed in %s", a->name, w->name);
	hwm = read_status_kib("VmHWM");
	printf("calls=%zu\n", r.calls);
	printf("steps=%zu\n", steps_for(a, w, steps));
	if (peak) {
		printf("peak_rss_bytes=%zu\n", (hwm > rss0 ? hwm - rss0 : 0) * KiB);
		printf("peak_req_bytes=%zu\n", r.peak_req);
		printf("peak_live_blocks=%zu\n", r.peak_live);
	}
	trace_free(&t);
	return 0;
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr, "usage: bench run [--quick] [--seed N] [--reps N] [--csv FILE] "
			"[--growth FILE]\n"
			"       bench one ALLOC WORKLOAD STEPS [--seed N] [--peak]\n"
			"       bench list\n");
	exit(2);
}

static int cmd_run(int argc, char **argv)
{
	struct opts o = {.seed = 1, .reps = 7};
	bool reps_set = false;
	size_t k;
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			o.quick = true;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			o.seed = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			o.reps = (unsigned)strtoul(argv[++i], NULL, 10);
			reps_set = true;
		} else if (strcmp(argv[i], "--csv") == 0 && i + 1 < argc)
			o.csv_path = argv[++i];
		else if (strcmp(argv[i], "--growth") == 0 && i + 1 < argc)
			o.growth_path = argv[++i];
		else
			usage();
	}
	if (o.quick && !reps_set)
		o.reps = 3;
	if (o.reps < 1 || o.reps > 100)
		usage();
	csv = o.csv_path ? fopen(o.csv_path, "w") : stdout;
	if (csv == NULL)
		die("cannot write %s%s", o.csv_path, "");
	fprintf(csv, "workload,allocator,metric,value\n");
	calibrate_ticks();
	put("setup", "all", "seed", (double)o.seed);
	put("setup", "all", "reps", (double)o.reps);
	put("setup", "all", "rand_small_pool", (double)workloads[0].pool);
	put("setup", "all", "ns_per_tick", ns_per_tick);
	put("setup", "all", "tick_overhead_ns", (double)tick_overhead * ns_per_tick);
	for (k = 0; k < NALLOCS; k++) {
		struct bench_pool pool = {pool_get(MiB), MiB, 64};

		alloc_ok[k] = allocs[k]->open(allocs[k]->pool ? &pool : NULL) == 0;
		if (!alloc_ok[k])
			progress("  %s is not available: left out\n", allocs[k]->name);
		put("setup", allocs[k]->name, "available", alloc_ok[k]);
	}
	bench_speed(&o);
	bench_latency(&o);
	bench_growth(&o);
	bench_churn(&o);
	bench_frag(&o);
	bench_meta();
	if (csv != stdout)
		fclose(csv);
	return 0;
}

int main(int argc, char **argv)
{
	size_t k;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc, argv);
	if (strcmp(argv[1], "one") == 0)
		return cmd_one(argc, argv);
	if (strcmp(argv[1], "list") == 0) {
		printf("allocators:");
		for (k = 0; k < NALLOCS; k++)
			printf(" %s", allocs[k]->name);
		printf("\nworkloads:\n");
		for (k = 0; k < NWORKLOADS; k++)
			printf("  %-11s %s\n", workloads[k].name, workloads[k].about);
		return 0;
	}
	usage();
	return 2;
}
