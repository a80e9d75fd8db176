/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target ops_differential: the input is a heap layout and a sequence of operations in
 * the ops format (opdecode.h, fuzz/README.md). Every operation runs on the allocator and on
 * the reference model; the engine (diffheap.h) checks I1-I9 after every step and aborts with
 * a readable report on the first difference.
 *
 * In the fault-injection build (-DDH_TINY, make fuzz TINY=1) every region is tiny, each input
 * ends by freeing every block and checking that nothing leaked (dh_drain), and the counts of
 * exhausted slots and memory are printed at exit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diffheap.h"
#include "opdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct diffheap *engine;
static struct ops_op ops[OPS_MAX_OPS];

#ifdef DH_TINY
static void print_counts(void)
{
	struct dh_counters c;

	dh_counters(engine, &c);
	printf("ops_differential (tiny heaps): %zu ops; allocations %zu ok, %zu failed, %zu "
	       "whole "
	       "blocks for want of a spare slot; %zu memalign calls skipped a block for want "
	       "of a "
	       "gap slot; %zu heaps emptied at the end, none leaked\n",
	       c.ops, c.alloc_ok, c.alloc_failed, c.whole_block, c.align_skipped, c.drains);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ops_layout layout;
	size_t n;

	if (!engine) {
		engine = dh_new(DH_OPS_POOL_BYTES);
		if (!engine)
			return 0;
#ifdef DH_TINY
		atexit(print_counts);
#endif
	}
	n = ops_decode(data, size, &layout, ops, OPS_MAX_OPS);
	if (dh_setup(engine, &layout) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		dh_step(engine, &ops[i]);
#ifdef DH_TINY
	dh_drain(engine);
#endif
	dh_finish(engine);
	return 0;
}
