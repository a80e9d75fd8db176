/* SPDX-License-Identifier: MIT */
/*
 * Allocation self-test for payloads and firmware images: freestanding, calls nothing but
 * slotheap and the caller's print function, so the same code runs on a host, in a boot
 * payload and on a bare-metal board.
 */
#ifndef SH_SELFTEST_H
#define SH_SELFTEST_H

#include "slotheap.h"

/* Live blocks the test tracks at a time (its table lives on the stack, about 16 bytes each). */
#ifndef SH_SELFTEST_SLOTS
#define SH_SELFTEST_SLOTS 64
#endif
/* Operations between two full heap checks (sh_check). */
#ifndef SH_SELFTEST_BATCH
#define SH_SELFTEST_BATCH 64
#endif

/*
 * Runs `ops` allocator calls on h, chosen by a small PRNG seeded with `seed` (the same seed and
 * heap give the same calls): malloc, calloc, memalign, realloc (grow, shrink, from NULL, to 0)
 * and free over a table of up to SH_SELFTEST_SLOTS live blocks. Block sizes are scaled to the
 * heap's free memory at the start. After every call it checks what the policy promises:
 * results are granule aligned (memalign: aligned as asked), usable sizes cover the request,
 * calloc blocks read zero, a failure is SH_ENOMEM and happens only when no free block could
 * hold the request (for malloc, calloc and realloc, which must then leave the block
 * untouched); every block's contents, filled with a pattern of its own, are verified before
 * it is resized or freed. sh_check runs after every SH_SELFTEST_BATCH calls, and the live
 * block and byte counts sh_stats reports are compared with the test's own. At the end every
 * block is freed and the heap's figures must equal those it started with (blocks the caller
 * holds in h stay untouched throughout).
 *
 * print (may be NULL for silence) receives whole lines without the newline: the settings,
 * the call counts, the statistics and a last line "selftest: PASS" or "selftest: FAIL ...",
 * which says which call failed and why.
 *
 * Returns 0 on PASS; SH_EINVAL if h is NULL; SH_ENOMEM if h has no free memory to test
 * with; SH_ECORRUPT on any failed check (the heap may then be left with blocks allocated).
 * O(ops * (R + log n + block size)) plus O(slots) per batch.
 */
int sh_selftest_run(struct sh_heap *h, unsigned long seed, unsigned ops,
		    void (*print)(const char *s));

#endif /* SH_SELFTEST_H */
