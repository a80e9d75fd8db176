/* SPDX-License-Identifier: MIT */
/*
 * Exhaustive small-scope check: every sequence of operations up to a depth, over every tiny
 * heap layout of a scope, through the differential engine (fuzz/diffheap.h: allocator and
 * reference model side by side, sh_check and every other check after every step, every live
 * block's contents verified after every step).
 *
 * The alphabet at a state with L live blocks: malloc of 1-5 granules, memalign of 1-5 granules
 * at 32 and 64 bytes (and one granule at 16), calloc of 2 granules, malloc_in of 1 and 2
 * granules into each region (layouts of several regions), free and realloc (to 1-5 granules)
 * of each live block, free of bad pointers (the start of the first free block, a double
 * free, or an unaligned arena address when there is none; the first address past the last
 * arena) and realloc of another (inside the last live block). Request sizes are odd and even
 * byte counts so rounding is exercised, plus a malloc whose rounding and a calloc whose product
 * overflows (to a value larger than either factor) and a memalign at 48 bytes.
 *
 * Search: depth-first from the empty heap of each layout, with state hashing: a state is the
 * allocator's whole metadata (each struct sh_region and its slot and bucket arrays; not the
 * heap-wide counters, which the engine compares with the model's at every step). A state
 * already explored with at least the remaining depth is not explored again: equal metadata
 * gives equal behaviour, so every sequence of length <= depth is covered. The depth grows
 * (iterative deepening) until the time runs out; a layout whose states reachable in d steps
 * are those reachable in d - 1 is closed: all of its reachable states, and every operation
 * from each, have been checked, for sequences of any length.
 *
 * The sequences covered are counted exactly from the state graph (N_0 = 1, N_r(s) = 1 +
 * sum over s's operations of N_{r-1}(next)); states are 64-bit hashes (a collision, odds
 * about n^2 / 2^65 for n states, would leave part of a state's subtree unexplored).
 *
 *   exhaustive [--seconds S] [--max-depth D] [--scope A|B|C] [--trace-dir DIR]
 *
 * On a failure the engine's report is printed, with the failing sequence as a text trace
 * (DIR/exhaustive.trace; `sh-trace run` replays it), and the program exits 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diffheap.h"
#include "opdecode.h"
#include "slotheap.h"

#define G ((size_t)SH_GRANULE)
#define MAX_DEPTH 64
#define MAX_OPS 128
#define POOL_BYTES (64u * 1024u)

/* A scope: every layout with nregions regions, each with an arena of 1..max_gran granules,
 * 1..max_slots slots and its arena at each of the 64-byte phases 0..phases-1 (in granules). */
struct scope {
	char name;
	unsigned nregions, max_gran, max_slots, phases;
	const char *what;
};

static const struct scope scopes[] = {
	{'A', 1, 12, 6, 4, "1 region, 1-12 granules, 1-6 slots, 4 arena phases"},
	{'B', 2, 6, 3, 1, "2 regions, 1-6 granules, 1-3 slots each"},
	{'C', 3, 4, 2, 1, "3 regions, 1-4 granules, 1-2 slots each"},
};
#define NSCOPES (sizeof(scopes) / sizeof(scopes[0]))

struct scope_result {
	unsigned layouts, closed, depth; /* depth: deepest complete pass */
	size_t states;			 /* distinct states over every layout, deepest pass */
	size_t steps;			 /* operations run, every pass */
	double sequences;	 /* sequences of length <= depth covered, deepest pass */
	size_t closed_states;	 /* states of the closed layouts */
	double closed_sequences; /* their sequences, up to the depth that closed them */
	double seconds;
	bool done; /* every layout closed */
	unsigned char *layout_closed;
};

/* ---- state table: hash -> explored depth, and the state graph for counting ---- */

struct state {
	uint64_t hash;
	int budget;	/* largest remaining depth it was explored with */
	uint32_t edges; /* first successor in edge[] (valid once budget > 0) */
	uint32_t nedges;
	double n[2]; /* counting scratch */
};

static struct state *st;
static size_t st_cap, st_count;
static uint32_t *slot_of; /* open addressing: index + 1 into st[], 0 = empty */
static size_t slot_cap;
static uint32_t *edge;
static size_t edge_count, edge_cap;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "exhaustive: out of host memory\n");
		exit(2);
	}
	return q;
}

static void table_clear(void)
{
	st_count = 0;
	edge_count = 0;
	if (slot_of)
		memset(slot_of, 0, slot_cap * sizeof(*slot_of));
}

static void table_grow(void)
{
	size_t cap = slot_cap ? slot_cap * 2 : 1u << 16;

	free(slot_of);
	slot_of = calloc(cap, sizeof(*slot_of));
	if (!slot_of) {
		fprintf(stderr, "exhaustive: out of host memory\n");
		exit(2);
	}
	slot_cap = cap;
	for (size_t i = 0; i < st_count; i++) {
		size_t k = (size_t)st[i].hash & (cap - 1);

		while (slot_of[k])
			k = (k + 1) & (cap - 1);
		slot_of[k] = (uint32_t)i + 1;
	}
}

/* Index of the state with this hash, added (budget -1) if new. */
static uint32_t table_find(uint64_t hash, bool *is_new)
{
	size_t k;

	if ((st_count + 1) * 2 > slot_cap)
		table_grow();
	k = (size_t)hash & (slot_cap - 1);
	while (slot_of[k]) {
		if (st[slot_of[k] - 1].hash == hash) {
			*is_new = false;
			return slot_of[k] - 1;
		}
		k = (k + 1) & (slot_cap - 1);
	}
	if (st_count == st_cap) {
		st_cap = st_cap ? st_cap * 2 : 4096;
		st = xrealloc(st, st_cap * sizeof(*st));
	}
	st[st_count] = (struct state){.hash = hash, .budget = -1};
	slot_of[k] = (uint32_t)st_count + 1;
	*is_new = true;
	return (uint32_t)st_count++;
}

static uint32_t edges_reserve(size_t n)
{
	if (edge_count + n > edge_cap) {
		edge_cap = (edge_count + n) * 2;
		edge = xrealloc(edge, edge_cap * sizeof(*edge));
	}
	edge_count += n;
	return (uint32_t)(edge_count - n);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9u;
	return h ^ (h >> 31);
}

static uint64_t hash_bytes(uint64_t h, const unsigned char *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h = mix(h, w);
	}
	for (; i < n; i++)
		h = mix(h, p[i]);
	return h;
}

static struct diffheap *eng;

/* The allocator's state: each region's own fields, slot array and buckets (read with the
 * metadata unpoisoned: core poisons it under ASan). */
static uint64_t state_hash(const struct sh_heap *h)
{
	uint64_t x = 0x243f6a8885a308d3u;

	dh_meta_poison(eng, false);
	for (unsigned i = 0; i < h->nregions; i++) {
		struct sh_region_info ri;

		sh_region_info(h, i, &ri);
		x = hash_bytes(x, (const unsigned char *)&h->region[i], sizeof(h->region[i]));
		x = hash_bytes(x, ri.base, sh_region_meta_bytes(ri.nslots, ri.size));
	}
	dh_meta_poison(eng, true);
	return x;
}

/* ---- the search ---- */

static struct dh_snapshot *snap[MAX_DEPTH + 1];
static struct ops_op path[MAX_DEPTH];
static struct ops_layout cur_layout;
static const char *trace_dir = ".";
static struct timespec t_start;
static double deadline;
static bool out_of_time;
static size_t steps_run;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t_start.tv_sec) +
	       (double)(t.tv_nsec - t_start.tv_nsec) / 1e9;
}

#define HALF_WORD ((size_t)1 << (sizeof(size_t) * 4))

static const size_t sizes[5] = {G, 2 * G - 1, 3 * G, 4 * G - 1, 5 * G};

struct first_free {
	uint8_t region, off;
};

static int first_free_cb(const struct sh_block_info *b, void *ctx)
{
	struct first_free *ff = ctx;
	struct sh_region_info ri;

	if (b->live)
		return 0;
	sh_region_info(dh_heap(eng), b->region, &ri);
	ff->region = (uint8_t)b->region;
	ff->off = (uint8_t)(((uintptr_t)b->ptr - (uintptr_t)ri.arena) / G);
	return 1;
}

/* The operations to try from the engine's current state. */
static size_t alphabet(struct ops_op *ops)
{
	const struct sh_heap *h = dh_heap(eng);
	size_t n = 0, nlive = dh_live_count(eng);
	struct first_free ff;

	for (unsigned k = 0; k < 5; k++)
		ops[n++] = (struct ops_op){.kind = OP_MALLOC, .size = sizes[k]};
	ops[n++] = (struct ops_op){.kind = OP_MEMALIGN, .align = 16, .size = G};
	for (size_t a = 32; a <= 64; a *= 2) {
		for (unsigned k = 0; k < 5; k++)
			ops[n++] = (struct ops_op){
				.kind = OP_MEMALIGN, .align = a, .size = sizes[k]};
	}
	ops[n++] = (struct ops_op){.kind = OP_CALLOC, .n = 2, .size = G - 3};
	/* Sizes whose rounding or product overflows. */
	ops[n++] = (struct ops_op){.kind = OP_MALLOC, .size = SIZE_MAX - G + 2};
	/* A product that wraps to more than either factor (2^64 + 2^33 + 1 on 64-bit hosts). */
	ops[n++] =
		(struct ops_op){.kind = OP_CALLOC, .n = HALF_WORD + 1, .size = HALF_WORD + 1};
	/* An alignment that is not a power of two. */
	ops[n++] = (struct ops_op){.kind = OP_MEMALIGN, .align = 48, .size = G};
	if (h->nregions > 1) {
		for (unsigned r = 0; r < h->nregions; r++) {
			ops[n++] = (struct ops_op){
				.kind = OP_MALLOC_IN, .mask = 1u << r, .size = G};
			ops[n++] = (struct ops_op){
				.kind = OP_MALLOC_IN, .mask = 1u << r, .size = 2 * G};
		}
	}
	for (size_t i = 0; i < nlive; i++) {
		ops[n++] = (struct ops_op){.kind = OP_FREE, .idx = (uint8_t)i};
		for (unsigned k = 0; k < 5; k++)
			ops[n++] = (struct ops_op){
				.kind = OP_REALLOC, .idx = (uint8_t)i, .size = sizes[k]};
	}
	/* Bad pointers: the first free block's start (a double free), else an unaligned arena
	 * address; and a pointer inside the last live block. */
	if (sh_walk(h, first_free_cb, &ff) != 0)
		ops[n++] = (struct ops_op){
			.kind = OP_FREE_PTR, .ptr = PTR_ARENA, .idx = ff.region, .off = ff.off};
	else
		ops[n++] = (struct ops_op){.kind = OP_FREE_PTR, .ptr = PTR_UNALIGNED, .off = 8};
	/* The first address past the last region's arena. */
	ops[n++] = (struct ops_op){
		.kind = OP_FREE_PTR, .ptr = PTR_PAST, .idx = (uint8_t)(h->nregions - 1)};
	if (nlive)
		ops[n++] = (struct ops_op){.kind = OP_REALLOC_PTR,
					   .ptr = PTR_INTERIOR,
					   .idx = (uint8_t)(nlive - 1),
					   .off = 7,
					   .size = G};
	return n;
}

static void write_trace(unsigned depth)
{
	char file[4096], line[128];
	FILE *f;

	snprintf(file, sizeof(file), "%s/exhaustive.trace", trace_dir);
	f = fopen(file, "w");
	for (int pass = 0; pass < 2; pass++) {
		FILE *o = pass ? stdout : f;

		if (!o)
			continue;
		fprintf(o, "# exhaustive: failing sequence (replay: sh-trace run %s)\n", file);
		ops_format_layout(&cur_layout, o);
		for (unsigned i = 0; i < depth; i++) {
			ops_format_op(&path[i], line, sizeof(line));
			fprintf(o, "%s\n", line);
		}
	}
	if (f)
		fclose(f);
	printf("exhaustive: FAILED after %u operations; trace in %s\n", depth, file);
}

/* Explores the engine's current state (reached by path[0, depth)) with `budget` operations
 * left. Returns the state's index, or -1 on a failure, -2 when out of time. */
static int64_t explore(unsigned depth, int budget)
{
	struct ops_op ops[MAX_OPS];
	size_t nops;
	bool is_new;
	uint32_t me = table_find(state_hash(dh_heap(eng)), &is_new), first;

	if (st[me].budget >= budget)
		return me;
	st[me].budget = budget;
	if (budget == 0)
		return me;
	if ((steps_run & 255) == 0 && now() > deadline) {
		out_of_time = true;
		return -2;
	}
	nops = alphabet(ops);
	if (dh_save(eng, snap[depth]) != 0) {
		fprintf(stderr, "exhaustive: out of host memory\n");
		exit(2);
	}
	first = edges_reserve(nops);
	st[me].edges = first;
	st[me].nedges = (uint32_t)nops;
	for (size_t i = 0; i < nops; i++) {
		int64_t child;

		if (i && dh_restore(eng, snap[depth]) != 0) {
			fprintf(stderr, "exhaustive: out of host memory\n");
			exit(2);
		}
		path[depth] = ops[i];
		steps_run++;
		if (dh_step(eng, &ops[i]) != 0 || dh_finish(eng) != 0) {
			write_trace(depth + 1);
			return -1;
		}
		child = explore(depth + 1, budget - 1);
		if (child < 0)
			return child;
		edge[first + i] = (uint32_t)child;
	}
	return me;
}

/* Sequences of length <= depth from the root (state 0), from the graph explore() built. */
static double count_sequences(int depth)
{
	for (size_t i = 0; i < st_count; i++)
		st[i].n[0] = 1;
	for (int r = 1; r <= depth; r++) {
		int cur = r & 1, prev = cur ^ 1;

		for (size_t i = 0; i < st_count; i++) {
			double n = 1;

			if (st[i].budget >= r) {
				for (uint32_t e = 0; e < st[i].nedges; e++)
					n += st[edge[st[i].edges + e]].n[prev];
			}
			st[i].n[cur] = n;
		}
	}
	return st_count ? st[0].n[depth & 1] : 0;
}

/* Layout number k of a scope: digits of k give each region's granules, slots and phase. */
static void make_layout(const struct scope *sc, unsigned k, struct ops_layout *l)
{
	size_t lo = 0;

	memset(l, 0, sizeof(*l));
	l->nregions = sc->nregions;
	for (unsigned i = 0; i < sc->nregions; i++) {
		struct ops_region *r = &l->r[i];
		unsigned phase;
		size_t arena, bytes, meta;

		r->arena_gran = 1 + k % sc->max_gran;
		k /= sc->max_gran;
		r->nslots = 1 + k % sc->max_slots;
		k /= sc->max_slots;
		phase = k % sc->phases;
		k /= sc->phases;
		/* The gap that puts the arena at granule `phase` of a 64-byte line (the pool is
		 * 4 KiB aligned; regions follow each other from its bottom). */
		bytes = dh_region_bytes(r);
		meta = bytes / G - r->arena_gran;
		arena = lo / G + meta;
		r->gap = (uint8_t)((phase + 4 - arena % 4) % 4);
		lo += (size_t)r->gap * G + bytes;
	}
}

static unsigned layout_count(const struct scope *sc)
{
	unsigned n = 1;

	for (unsigned i = 0; i < sc->nregions; i++)
		n *= sc->max_gran * sc->max_slots * sc->phases;
	return n;
}

/* One pass of a scope at one depth. Returns 0, 1 on a failure, 2 when out of time. */
static int run_pass(const struct scope *sc, struct scope_result *res, int depth)
{
	size_t states = res->closed_states;
	double seqs = res->closed_sequences;
	unsigned closed = 0;
	double t0 = now();

	for (unsigned k = 0; k < res->layouts; k++) {
		int64_t rc;
		size_t reached_before = 0;
		double n;

		if (res->layout_closed[k]) {
			closed++;
			continue;
		}
		make_layout(sc, k, &cur_layout);
		table_clear();
		if (dh_setup(eng, &cur_layout) != 0) {
			write_trace(0);
			return 1;
		}
		rc = explore(0, depth);
		if (rc == -1)
			return 1;
		if (rc == -2)
			return 2;
		/* States reached in fewer than depth steps still have budget > 0. */
		for (size_t i = 0; i < st_count; i++)
			reached_before += st[i].budget > 0;
		n = count_sequences(depth);
		states += st_count;
		seqs += n;
		if (reached_before == st_count) {
			res->layout_closed[k] = 1;
			res->closed_states += st_count;
			res->closed_sequences += n;
			closed++;
		}
	}
	res->depth = (unsigned)depth;
	res->states = states;
	res->sequences = seqs;
	res->closed = closed;
	res->seconds += now() - t0;
	res->done = closed == res->layouts;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: exhaustive [--seconds S] [--max-depth D] [--scope A|B|C]..."
			" [--trace-dir DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double seconds = 60;
	int max_depth = 12, rc = 0;
	bool want[NSCOPES] = {false};
	bool any = false;
	struct scope_result res[NSCOPES];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = strtod(argv[++i], NULL);
		} else if (!strcmp(argv[i], "--max-depth") && i + 1 < argc) {
			max_depth = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--scope") && i + 1 < argc) {
			const char *v = argv[++i];
			bool found = false;

			for (size_t k = 0; k < NSCOPES; k++) {
				if (v[0] == scopes[k].name && v[1] == 0)
					want[k] = found = any = true;
			}
			if (!found)
				usage();
		} else if (!strcmp(argv[i], "--trace-dir") && i + 1 < argc) {
			trace_dir = argv[++i];
		} else {
			usage();
		}
	}
	if (seconds <= 0 || max_depth < 1 || max_depth > MAX_DEPTH)
		usage();
	for (size_t k = 0; k < NSCOPES; k++)
		want[k] = want[k] || !any;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	deadline = seconds;
	eng = dh_new(POOL_BYTES);
	for (int i = 0; i <= MAX_DEPTH; i++)
		snap[i] = dh_snapshot_new();
	if (!eng || !snap[MAX_DEPTH]) {
		fprintf(stderr, "exhaustive: out of host memory\n");
		return 2;
	}
	dh_set_abort(eng, false);
	dh_set_label(eng, "exhaustive");
	memset(res, 0, sizeof(res));
	for (size_t k = 0; k < NSCOPES; k++) {
		res[k].layouts = layout_count(&scopes[k]);
		res[k].layout_closed = calloc(res[k].layouts, 1);
		if (!res[k].layout_closed) {
			fprintf(stderr, "exhaustive: out of host memory\n");
			return 2;
		}
	}
	printf("exhaustive: every operation sequence over tiny heaps, deepening until %.0f s\n",
	       seconds);
	for (int d = 1; d <= max_depth && !out_of_time && rc == 0; d++) {
		for (size_t k = 0; k < NSCOPES && !out_of_time && rc == 0; k++) {
			size_t before = steps_run;
			int r;

			if (!want[k] || res[k].done)
				continue;
			r = run_pass(&scopes[k], &res[k], d);
			res[k].steps += steps_run - before;
			if (r == 1)
				rc = 1;
			else if (r == 0)
				printf("  %c depth %2d: %6u/%u layouts closed, %9zu states, "
				       "%.3g sequences,"
				       " %.1f s\n",
				       scopes[k].name, d, res[k].closed, res[k].layouts,
				       res[k].states, res[k].sequences, now());
			fflush(stdout);
		}
	}
	if (rc)
		return 1;
	printf("\nexhaustive: summary (%.1f s, %zu operations run and checked)\n", now(),
	       steps_run);
	printf("  %-52s %7s %7s %6s %10s %10s\n", "scope", "layouts", "closed", "depth",
	       "states", "sequences");
	for (size_t k = 0; k < NSCOPES; k++) {
		if (!want[k])
			continue;
		printf("  %c %-50s %7u %7u %6u %10zu %10.3g\n", scopes[k].name, scopes[k].what,
		       res[k].layouts, res[k].closed, res[k].depth, res[k].states,
		       res[k].sequences);
	}
	printf("  (depth: every sequence of that many operations or fewer, on every layout;"
	       " closed: every reachable state explored, sequences of any length)\n");
	for (int i = 0; i <= MAX_DEPTH; i++)
		dh_snapshot_delete(snap[i]);
	for (size_t k = 0; k < NSCOPES; k++)
		free(res[k].layout_closed);
	dh_delete(eng);
	free(st);
	free(slot_of);
	free(edge);
	printf("exhaustive: no failure\n");
	return 0;
}
