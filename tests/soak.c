/* SPDX-License-Identifier: MIT */
/*
 * Deterministic randomized differential soak: for each fixed seed, a stream of random heap
 * layouts (1-4 regions, arenas from one granule to 256 KiB, 1 to 255 slots, so slot
 * exhaustion is common) and random operations of every kind, run through the differential
 * engine (fuzz/diffheap.h): allocator and reference model side by side, sh_check and every
 * other check after every operation, contents verified.
 *
 *   soak [--ops N] [--seed S] [--trace-dir DIR]
 *
 * --ops sets the operations per seed, --seed runs one seed only (to replay a failure). On a
 * failure the engine prints its report, the soak writes the failing layout and operations as
 * a text trace DIR/soak-seed<S>.trace (run it with sh-trace run) and the seed's test fails.
 * Built twice: against the default core and, with -DSH_LINEAR=1, against the linear free
 * list build, which runs a smaller slice. Every layout ends by freeing every block and
 * checking that the heap is back to one free block per region with every other slot spare.
 *
 * --tiny is the fault-injection mode: arenas of 1-32 granules and 1-4 slots per region,
 * requests mostly under 128 bytes, so that running out of slots (whole blocks handed out,
 * memalign candidates skipped for want of a gap slot) and out of memory (failed
 * allocations) happen on most steps; the summary counts each.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "diffheap.h"
#include "opdecode.h"

#ifndef SH_LINEAR
#define SH_LINEAR 0
#endif
#if SH_LINEAR
#define SOAK_OPS_PER_SEED 60000
static const uint64_t soak_seeds[] = {101, 202, 303, 404};
#else
#define SOAK_OPS_PER_SEED 130000
static const uint64_t soak_seeds[] = {1, 2, 3, 5, 8, 13, 21, 34};
#endif
#define SOAK_TINY_OPS_PER_SEED 150000
#define NSEEDS (sizeof(soak_seeds) / sizeof(soak_seeds[0]))
#define EPISODE_MAX 6000

struct soak_run {
	uint64_t seed;
	size_t ops, layouts;
	double seconds;
	bool failed;
};

static size_t ops_per_seed = SOAK_OPS_PER_SEED;
static bool tiny;
static const char *trace_dir = ".";
static struct soak_run runs[NSEEDS];
static struct diffheap *engine;
static struct ops_op episode[EPISODE_MAX];

static uint64_t rng_next(uint64_t *s)
{
	/* splitmix64: tiny, and every seed gives an independent stream. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(rng_next(s) % n);
}

static void random_layout(uint64_t *s, struct ops_layout *l)
{
	static const unsigned nregions_pick[10] = {1, 1, 1, 1, 2, 2, 2, 3, 3, 4};

	memset(l, 0, sizeof(*l));
	l->nregions = nregions_pick[rng_below(s, 10)];
	l->topdown = rng_below(s, 2) == 1;
	for (unsigned i = 0; i < l->nregions; i++) {
		struct ops_region *r = &l->r[i];
		uint32_t c = rng_below(s, 100);

		if (c < 45)
			r->arena_gran = 1 + rng_below(s, 256);
		else if (c < 85)
			r->arena_gran = 1 + rng_below(s, 2048);
		else
			r->arena_gran = 1 + rng_below(s, OPS_MAX_ARENA_GRAN);
		c = rng_below(s, 100);
		if (c < 30)
			r->nslots = 1 + rng_below(s, 4);
		else if (c < 75)
			r->nslots = 5 + rng_below(s, 28);
		else
			r->nslots = 33 + rng_below(s, 223);
		if (rng_below(s, 4) == 0) {
			r->misalign = (uint8_t)rng_below(s, SH_GRANULE < 16 ? SH_GRANULE : 16);
			r->tail = (uint8_t)rng_below(s, SH_GRANULE < 16 ? SH_GRANULE : 16);
			r->gap = (uint8_t)rng_below(s, 256);
		}
		/* Now and then a region the heap must refuse. */
		c = rng_below(s, 100);
		if (c == 0)
			r->nslots = 0;
		else if (c == 1)
			r->arena_gran = 0;
	}
}

static void tiny_layout(uint64_t *s, struct ops_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->nregions = 1 + rng_below(s, 3);
	l->topdown = rng_below(s, 2) == 1;
	for (unsigned i = 0; i < l->nregions; i++) {
		l->r[i].arena_gran = 1 + rng_below(s, 32);
		l->r[i].nslots = 1 + rng_below(s, 4);
		l->r[i].gap = (uint8_t)rng_below(s, 4);
	}
}

static size_t random_size(uint64_t *s)
{
	uint32_t c = rng_below(s, 100);

	if (tiny && c < 90)
		return rng_below(s, 129);

	if (c < 55)
		return rng_below(s, 257);
	if (c < 82)
		return 257 + rng_below(s, 3840);
	if (c < 95)
		return rng_below(s, 65537);
	if (c < 99)
		return rng_below(s, 0x400000);
	/* Sizes near overflow, through the byte format's own classes. */
	return ops_size_decode((2u + rng_below(s, 2)) << 22 | rng_below(s, 0x400000));
}

static void random_op(uint64_t *s, unsigned free_bias, struct ops_op *op)
{
	uint32_t c = rng_below(s, 100);

	memset(op, 0, sizeof(*op));
	op->idx = (uint8_t)rng_next(s);
	op->off = (uint8_t)rng_next(s);
	if (c < free_bias) {
		op->kind = OP_FREE;
		return;
	}
	c = rng_below(s, 100);
	if (c < 38) {
		op->kind = OP_MALLOC;
		op->size = random_size(s);
	} else if (c < 48) {
		op->kind = OP_MALLOC_IN;
		op->mask = rng_below(s, 8) == 0 ? SH_ALL_REGIONS : rng_below(s, 16);
		op->size = random_size(s);
	} else if (c < 55) {
		op->kind = OP_CALLOC;
		op->n = rng_below(s, 20) == 0 ? random_size(s) : rng_below(s, 17);
		op->size = random_size(s) / (rng_below(s, 4) + 1);
	} else if (c < 72) {
		op->kind = OP_REALLOC;
		op->size = random_size(s);
	} else if (c < 82) {
		op->kind = OP_MEMALIGN;
		op->align = rng_below(s, 10) == 0 ? ops_align_decode((uint8_t)rng_next(s))
						  : (size_t)1 << rng_below(s, 13);
		op->size = random_size(s);
	} else if (c < 88) {
		op->kind = OP_FREE_PTR;
		op->ptr = (uint8_t)rng_below(s, PTR_COUNT);
	} else if (c < 92) {
		op->kind = OP_REALLOC_PTR;
		op->ptr = (uint8_t)rng_below(s, PTR_COUNT);
		op->size = random_size(s);
	} else {
		op->kind = OP_USABLE;
		op->ptr = (uint8_t)rng_below(s, PTR_COUNT);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_trace(uint64_t seed, const struct ops_layout *l, size_t n)
{
	char path[512], line[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/soak-seed%llu.trace", trace_dir,
		 (unsigned long long)seed);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		return;
	}
	fprintf(f, "# soak seed %llu: the failing layout and its operations\n",
		(unsigned long long)seed);
	ops_format_layout(l, f);
	for (size_t i = 0; i < n; i++) {
		ops_format_op(&episode[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	printf("soak: seed %llu failed; trace written to %s (sh-trace run %s)\n",
	       (unsigned long long)seed, path, path);
}

static void soak_seed(void **state)
{
	struct soak_run *run = *state;
	uint64_t s = run->seed;
	double t0 = now();
	char label[96];

	while (run->ops < ops_per_seed) {
		struct ops_layout l;
		size_t len = 500 + rng_below(&s, EPISODE_MAX - 500);
		unsigned free_bias = 25 + rng_below(&s, 30);

		/* Tiny heaps fill up within a few steps: shorter episodes, more layouts. */
		if (tiny)
			len /= 10;
		if (len > ops_per_seed - run->ops)
			len = ops_per_seed - run->ops;
		if (tiny)
			tiny_layout(&s, &l);
		else
			random_layout(&s, &l);
		snprintf(label, sizeof(label), "soak seed %llu, layout %zu",
			 (unsigned long long)run->seed, run->layouts);
		dh_set_label(engine, label);
		run->layouts++;
		if (dh_setup(engine, &l) != 0) {
			run->failed = true;
			write_trace(run->seed, &l, 0);
			fail_msg("soak seed %llu: region setup failed",
				 (unsigned long long)run->seed);
		}
		for (size_t i = 0; i < len; i++) {
			random_op(&s, free_bias, &episode[i]);
			if (dh_step(engine, &episode[i]) != 0) {
				run->failed = true;
				write_trace(run->seed, &l, i + 1);
				fail_msg("soak seed %llu: mismatch at op %zu of layout %zu",
					 (unsigned long long)run->seed, run->ops + i,
					 run->layouts - 1);
			}
		}
		run->ops += len;
		if (dh_drain(engine) != 0) {
			run->failed = true;
			write_trace(run->seed, &l, len);
			fail_msg("soak seed %llu: freeing every block of layout %zu failed",
				 (unsigned long long)run->seed, run->layouts - 1);
		}
		if (dh_finish(engine) != 0) {
			run->failed = true;
			write_trace(run->seed, &l, len);
			fail_msg("soak seed %llu: contents check failed at the end of layout "
				 "%zu",
				 (unsigned long long)run->seed, run->layouts - 1);
		}
	}
	run->seconds = now() - t0;
	printf("soak: seed %-4llu %8zu ops  %4zu layouts  %6.2f s\n",
	       (unsigned long long)run->seed, run->ops, run->layouts, run->seconds);
}

int main(int argc, char **argv)
{
	struct CMUnitTest tests[NSEEDS];
	char names[NSEEDS][32];
	size_t n = 0, total = 0, failed = 0;
	struct dh_counters c;
	long only = -1;
	bool ops_given = false;
	int rc;
	double t0 = now();

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
			ops_per_seed = strtoul(argv[++i], NULL, 0);
			ops_given = true;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			only = strtol(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--trace-dir") == 0 && i + 1 < argc) {
			trace_dir = argv[++i];
		} else if (strcmp(argv[i], "--tiny") == 0) {
			tiny = true;
			if (!ops_given)
				ops_per_seed = SOAK_TINY_OPS_PER_SEED;
		} else {
			fprintf(stderr, "usage: soak [--ops N] [--seed S] [--trace-dir DIR] "
					"[--tiny]\n");
			return 2;
		}
	}
	engine = dh_new(DH_OPS_POOL_BYTES);
	if (!engine)
		return 2;
	dh_set_abort(engine, false);
	for (size_t i = 0; i < NSEEDS; i++) {
		runs[i].seed = only >= 0 ? (uint64_t)only : soak_seeds[i];
		snprintf(names[n], sizeof(names[n]), "soak_seed_%llu",
			 (unsigned long long)runs[i].seed);
		tests[n] = (struct CMUnitTest){names[n], soak_seed, NULL, NULL, &runs[i]};
		n++;
		if (only >= 0)
			break;
	}
	printf("soak (%s free index%s): %zu seed%s x %zu ops\n", SH_LINEAR ? "linear" : "tree",
	       tiny ? ", tiny heaps" : "", n, n == 1 ? "" : "s", ops_per_seed);
	rc = _cmocka_run_group_tests(SH_LINEAR ? "soak_linear" : "soak", tests, n, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		total += runs[i].ops;
		failed += runs[i].failed;
	}
	dh_counters(engine, &c);
	printf("soak: allocations %zu ok, %zu failed (%zu whole blocks for want of a spare "
	       "slot);"
	       " %zu frees; %zu misuse reports; realloc %zu in place, %zu moved, %zu failed\n",
	       c.alloc_ok, c.alloc_failed, c.whole_block, c.frees, c.misuse, c.realloc_same,
	       c.realloc_moved, c.realloc_failed);
	printf("soak: %zu memalign calls skipped the first block with an aligned fit for want "
	       "of a "
	       "gap slot; %zu heaps emptied at the end, none leaked\n",
	       c.align_skipped, c.drains);
	printf("soak: %zu operations over %zu seeds, %zu mismatches, %.1f s\n", total, n,
	       failed, now() - t0);
	dh_delete(engine);
	return rc || failed ? 1 : 0;
}
