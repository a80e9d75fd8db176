/* SPDX-License-Identifier: MIT */
/*
 * Hooks of caller-bug detection (SH_HARDEN) and of AddressSanitizer poisoning (SH_ASAN) into
 * the allocator. heap.c calls them where a block changes hands: a region is added, a block
 * is handed out, a live block enters realloc, is released, or is resized in place. They are
 * implemented in harden.c; with neither option they are empty inline functions, so the
 * default build is what it was without them.
 *
 * SH_ASAN. Poisoning the metadata means that no instrumented code may read it, and the files
 * that own it (heap.c, check.c, freeset_*.c, harden.c) read it all the time. So those files
 * are compiled without ASan instrumentation (-fno-sanitize=address; UBSan stays) and told by
 * -DSH_ASAN=1 that the ASan runtime is there, which they cannot detect themselves once
 * uninstrumented. util.c (sh_memset, sh_memcpy: every byte core writes into a caller's block)
 * and the rest of core stay instrumented. A file that is instrumented and given SH_ASAN=1
 * is refused below: its own metadata accesses would trip ASan. Without SH_ASAN=1 an ASan build
 * works as before, only without core's poisoning.
 */
#ifndef SH_HARDEN_H
#define SH_HARDEN_H

#include "sh_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define SH_ASAN_INSTRUMENTED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SH_ASAN_INSTRUMENTED 1
#endif
#endif
#ifndef SH_ASAN_INSTRUMENTED
#define SH_ASAN_INSTRUMENTED 0
#endif
#ifndef SH_ASAN
#define SH_ASAN 0
#endif
#if SH_ASAN && SH_ASAN_INSTRUMENTED
#error "SH_ASAN=1 poisons the heap's metadata: compile this file with -fno-sanitize=address"
#endif

#define SH_HD_ACTIVE (SH_HARDEN || SH_ASAN)

#if SH_HD_ACTIVE
/* For harden.c: the region and slot of the live block starting at p (heap.c). */
bool sh_find_live_slot(const struct sh_heap *h, const void *p, unsigned *ri, uint32_t *si);
/* Region r was just formatted: fill its arena with SH_POISON_BYTE, poison metadata and arena. */
void sh_hd_region(struct sh_region *r);
/* p (NULL or a block just made live by malloc, memalign or a moving realloc) is handed out
 * for n bytes: verify it is untouched free memory, unpoison it, record n, write its guard.
 * Returns p. */
void *sh_hd_handout(struct sh_heap *h, void *p, size_t n);
/* realloc was given live block bi of region ri: verify its guard (report, rewrite). */
void sh_hd_enter(struct sh_heap *h, unsigned ri, uint32_t bi);
/* Live block bi is about to be released: verify its guard, fill it, poison it. */
void sh_hd_release(struct sh_heap *h, unsigned ri, uint32_t bi);
/* Live block bi was resized in place from old_gran granules, now for n bytes: verify and
 * unpoison what it grew into, or fill and poison what it gave up; record n, write the guard. */
void sh_hd_resized(struct sh_heap *h, unsigned ri, uint32_t bi, uint32_t old_gran, size_t n);
#else
static inline void sh_hd_region(struct sh_region *r)
{
	(void)r;
}
static inline void *sh_hd_handout(struct sh_heap *h, void *p, size_t n)
{
	(void)h;
	(void)n;
	return p;
}
static inline void sh_hd_enter(struct sh_heap *h, unsigned ri, uint32_t bi)
{
	(void)h;
	(void)ri;
	(void)bi;
}
static inline void sh_hd_release(struct sh_heap *h, unsigned ri, uint32_t bi)
{
	(void)h;
	(void)ri;
	(void)bi;
}
static inline void sh_hd_resized(struct sh_heap *h, unsigned ri, uint32_t bi, uint32_t old_gran,
				 size_t n)
{
	(void)h;
	(void)ri;
	(void)bi;
	(void)old_gran;
	(void)n;
}
#endif

#if SH_HARDEN
/* sh_check's guard pass (I10), run when I1-I7 hold: SH_EOVERRUN if some live block's guard
 * changed (their number in rep->failures, the lowest of the first region that has one in
 * the rest of *rep), else SH_OK. */
int sh_hd_check(const struct sh_heap *h, struct sh_check_report *rep);
#else
static inline int sh_hd_check(const struct sh_heap *h, struct sh_check_report *rep)
{
	(void)h;
	(void)rep;
	return SH_OK;
}
#endif

#endif /* SH_HARDEN_H */
