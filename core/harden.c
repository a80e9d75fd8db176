/* SPDX-License-Identifier: MIT */
/*
 * Caller-bug detection (SH_HARDEN) and AddressSanitizer poisoning (SH_ASAN): the hooks of
 * harden.h. Neither option changes which blocks the policy picks; SH_HARDEN only changes rule
 * 1 (granules for n + 1 bytes, in heap.c) and the usable size (sh_usable_of).
 *
 * A block's bytes, SH_HARDEN:
 *
 *   live   | n bytes of the caller's | guard: SH_GUARD_BYTE up to the block's end |
 *   free   | SH_POISON_BYTE throughout                                            |
 *
 * The guard is verified when the block enters free or realloc (and by sh_check), the poison
 * when bytes are handed out again. Cost: O(block size) for each allocation, free and resize
 * in place (filling and verifying), O(arena) at sh_add_region; none of it follows a link.
 * Under SH_ASAN the metadata and free blocks are poisoned, live blocks unpoisoned whole.
 */
#include "harden.h"

#if SH_HD_ACTIVE

#define G ((size_t)SH_GRANULE)

#if SH_ASAN
/* The two calls of the ASan runtime (its interface header is a host header; core/ includes
 * none). Their names are the runtime's, reserved ones. */
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
void __asan_poison_memory_region(void const volatile *addr, size_t size);
/* NOLINTNEXTLINE(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp) */
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);

static void asan_poison(uintptr_t a, size_t n)
{
	if (n)
		__asan_poison_memory_region((const void *)a, n);
}

static void asan_unpoison(uintptr_t a, size_t n)
{
	if (n)
		__asan_unpoison_memory_region((const void *)a, n);
}
#else
static void asan_poison(uintptr_t a, size_t n)
{
	(void)a;
	(void)n;
}

static void asan_unpoison(uintptr_t a, size_t n)
{
	(void)a;
	(void)n;
}
#endif

static uintptr_t addr_of(const struct sh_region *r, uint32_t off)
{
	return r->arena + (uintptr_t)off * G;
}

#if SH_HARDEN
/* Offset from a of the first of the n bytes there that is not c, or SIZE_MAX. Whole words
 * while both ends allow it (blocks are granule aligned). */
typedef uintptr_t __attribute__((__may_alias__)) hd_word;

static size_t first_not(uintptr_t a, size_t n, unsigned char c)
{
	const unsigned char *b = (const unsigned char *)a;
	size_t i = 0;

	if (a % sizeof(hd_word) == 0) {
		hd_word w = (hd_word)c * (UINTPTR_MAX / 0xff);
		while (n - i >= sizeof(hd_word) && *(const hd_word *)(const void *)(b + i) == w)
			i += sizeof(hd_word);
	}
	for (; i < n; i++) {
		if (b[i] != c)
			return i;
	}
	return SIZE_MAX;
}

static void report(struct sh_heap *h, int code, uintptr_t p, size_t size, size_t bad)
{
	h->report.code = code;
	h->report.ptr = (const void *)p;
	h->report.size = size;
	h->report.bad = bad;
	if (h->hook)
		h->hook(h->hook_ctx, code, (const void *)p);
}

static void set_request(struct sh_slot *s, size_t n)
{
	/* n < the block's size, which is below 2^31 granules */
	s->rq_gran = (uint32_t)(n / G);
	s->rq_rem = (uint32_t)(n % G);
}

/* The block is unpoisoned when this runs: sh_memset is instrumented. */
static void guard_write(const struct sh_region *r, const struct sh_slot *s)
{
	size_t n = sh_usable_of(s);

	sh_memset((void *)(addr_of(r, sh_slot_off(s)) + n), SH_GUARD_BYTE,
		  (size_t)sh_slot_size(s) * G - n);
}

static void guard_verify(struct sh_heap *h, struct sh_region *r, uint32_t bi)
{
	const struct sh_slot *s = sh_slot_at(r, bi);
	uintptr_t a = addr_of(r, sh_slot_off(s));
	size_t n = sh_usable_of(s);
	size_t bad = first_not(a + n, (size_t)sh_slot_size(s) * G - n, SH_GUARD_BYTE);

	if (bad == SIZE_MAX)
		return;
	report(h, SH_EOVERRUN, a, n, n + bad);
	guard_write(r, s);
}
#endif

void sh_hd_region(struct sh_region *r)
{
	size_t n = (size_t)r->ngran * G;

#if SH_HARDEN
	/* The region is the heap's now, whatever its poisoning was before. */
	asan_unpoison(r->arena, n);
	sh_memset((void *)r->arena, SH_POISON_BYTE, n);
#endif
	asan_poison(r->base, r->arena - r->base);
	asan_poison(r->arena, n);
}

void *sh_hd_handout(struct sh_heap *h, void *p, size_t n)
{
	unsigned ri;
	uint32_t si;

	if (!p || !sh_find_live_slot(h, p, &ri, &si))
		return p;
	struct sh_region *r = &h->region[ri];
	struct sh_slot *s = sh_slot_at(r, si);
	size_t bytes = (size_t)sh_slot_size(s) * G;

#if SH_HARDEN
	size_t bad = first_not((uintptr_t)p, bytes, SH_POISON_BYTE);
	if (bad != SIZE_MAX)
		report(h, SH_EUSEAFTERFREE, (uintptr_t)p, n, bad);
#endif
	asan_unpoison((uintptr_t)p, bytes);
#if SH_HARDEN
	set_request(s, n);
	guard_write(r, s);
#else
	(void)n;
#endif
	return p;
}

void sh_hd_enter(struct sh_heap *h, unsigned ri, uint32_t bi)
{
#if SH_HARDEN
	guard_verify(h, &h->region[ri], bi);
#else
	(void)h;
	(void)ri;
	(void)bi;
#endif
}

void sh_hd_release(struct sh_heap *h, unsigned ri, uint32_t bi)
{
	struct sh_region *r = &h->region[ri];
	const struct sh_slot *s = sh_slot_at(r, bi);
	uintptr_t a = addr_of(r, sh_slot_off(s));
	size_t bytes = (size_t)sh_slot_size(s) * G;

#if SH_HARDEN
	guard_verify(h, r, bi);
	sh_memset((void *)a, SH_POISON_BYTE, bytes);
#endif
	asan_poison(a, bytes);
}

void sh_hd_resized(struct sh_heap *h, unsigned ri, uint32_t bi, uint32_t old_gran, size_t n)
{
	struct sh_region *r = &h->region[ri];
	struct sh_slot *s = sh_slot_at(r, bi);
	uintptr_t a = addr_of(r, sh_slot_off(s));
	size_t was = (size_t)old_gran * G, now = (size_t)sh_slot_size(s) * G;

	if (now > was) {
#if SH_HARDEN
		size_t bad = first_not(a + was, now - was, SH_POISON_BYTE);
		if (bad != SIZE_MAX)
			report(h, SH_EUSEAFTERFREE, a, n, was + bad);
#endif
		asan_unpoison(a + was, now - was);
	} else if (now < was) {
#if SH_HARDEN
		sh_memset((void *)(a + now), SH_POISON_BYTE, was - now);
#endif
		asan_poison(a + now, was - now);
	}
#if SH_HARDEN
	set_request(s, n);
	guard_write(r, s);
#else
	(void)h;
	(void)n;
#endif
}

#if SH_HARDEN
int sh_hd_check(const struct sh_heap *h, struct sh_check_report *rep)
{
	unsigned failures = 0;
	bool first = true;

	for (unsigned ri = 0; ri < h->nregions; ri++) {
		const struct sh_region *r = &h->region[ri];
		uint32_t lowest = SH_NIL;
		size_t lowest_bad = 0;

		/* I1-I7 hold, so every live slot's block lies inside the arena. */
		for (uint32_t i = 0; i < r->nslots; i++) {
			const struct sh_slot *s = sh_slot_at(r, i);
			size_t n = sh_usable_of(s), bytes = (size_t)sh_slot_size(s) * G, bad;

			if (sh_slot_list(s) != SH_LIST_LIVE)
				continue;
			bad = n >= bytes ? n
					 : first_not(addr_of(r, sh_slot_off(s)) + n, bytes - n,
						     SH_GUARD_BYTE);
			if (bad == SIZE_MAX)
				continue;
			failures++;
			if (lowest == SH_NIL ||
			    sh_slot_off(s) < sh_slot_off(sh_slot_at(r, lowest))) {
				lowest = i;
				lowest_bad = n >= bytes ? n : n + bad;
			}
		}
		if (lowest != SH_NIL && first && rep) {
			const struct sh_slot *s = sh_slot_at(r, lowest);

			sh_check_fail(rep, SH_I10_GUARD, ri, lowest, addr_of(r, sh_slot_off(s)),
				      "guard bytes after the requested size changed (overrun)");
			rep->size = sh_usable_of(s);
			rep->bad = lowest_bad;
			first = false;
		}
	}
	if (rep && failures)
		rep->failures = failures;
	return failures ? SH_EOVERRUN : SH_OK;
}
#endif

#else
/* Neither SH_HARDEN nor SH_ASAN: nothing to do (ISO C wants a declaration in every file). */
typedef int sh_harden_off;
#endif
