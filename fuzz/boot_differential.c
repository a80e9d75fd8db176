/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target boot_differential: a fake memory table and boot configuration, then
 * operations, then optionally a run-time options string (bootdecode.h, fuzz/README.md). The
 * heap is built as a payload builds it (parse the table, apply the options with
 * sh_boot_options, place the heap, sh_boot_init), mapped onto a host buffer; the options are
 * checked against their model (bootopts_model.c), the placement against the reference
 * placement model, and then every operation runs on the allocator and the reference model
 * with the checks of the differential engine.
 */
#include <stddef.h>
#include <stdint.h>

#include "bootdecode.h"
#include "diffheap.h"
#include "opdecode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct diffheap *engine;
static struct boot_input input;
static struct ops_op ops[OPS_MAX_OPS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t used, n;

	if (!engine) {
		engine = dh_new(BOOT_POOL_BYTES);
		if (!engine)
			return 0;
	}
	used = boot_decode(data, size, &input);
	n = ops_decode_ops(data + used, boot_ops_bytes(data, size, used), ops, OPS_MAX_OPS);
	if (boot_setup(engine, &input) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		dh_step(engine, &ops[i]);
	dh_finish(engine);
	return 0;
}
