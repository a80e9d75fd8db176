/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target ops_differential: the input is a heap layout and a sequence of operations in
 * the ops format (opdecode.h, fuzz/README.md). Every operation runs on the allocator and on
 * the reference model; the engine (diffheap.h) checks I1-I9 after every step and aborts with
 * a readable report on the first difference.
 */
#include <stddef.h>
#include <stdint.h>

#include "diffheap.h"
#include "opdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct diffheap *engine;
static struct ops_op ops[OPS_MAX_OPS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ops_layout layout;
	size_t n;

	if (!engine) {
		engine = dh_new(DH_OPS_POOL_BYTES);
		if (!engine)
			return 0;
	}
	n = ops_decode(data, size, &layout, ops, OPS_MAX_OPS);
	if (dh_setup(engine, &layout) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		dh_step(engine, &ops[i]);
	dh_finish(engine);
	return 0;
}
