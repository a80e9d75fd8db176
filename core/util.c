/* SPDX-License-Identifier: MIT */
/* Byte helpers of our own (core/ links against nothing) and the names of codes. */

#include "memmap.h"
#include "sh_internal.h"

/*
 * Plain loops would be recognised by the compiler and turned back into calls to memset and
 * memcpy, which a freestanding core must not depend on; the empty asm hides the loop's
 * meaning from that pattern matcher without costing anything. Blocks are granule aligned,
 * so the loops move whole words when both ends allow it (the may_alias type makes such
 * accesses legal whatever the caller stored there) and bytes for the rest.
 */
typedef uintptr_t __attribute__((__may_alias__)) sh_word;

static bool word_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & (sizeof(sh_word) - 1)) == 0;
}

void sh_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	size_t i = 0;

	if (word_aligned(d, d)) {
		sh_word w = (sh_word)(unsigned char)c * (UINTPTR_MAX / 0xff);
		for (; n - i >= sizeof(sh_word); i += sizeof(sh_word)) {
			*(sh_word *)(void *)(d + i) = w;
			__asm__ volatile("" ::: "memory");
		}
	}
	for (; i < n; i++) {
		d[i] = (unsigned char)c;
		__asm__ volatile("" ::: "memory");
	}
}

void sh_memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	size_t i = 0;

	if (word_aligned(d, s)) {
		for (; n - i >= sizeof(sh_word); i += sizeof(sh_word)) {
			*(sh_word *)(void *)(d + i) = *(const sh_word *)(const void *)(s + i);
			__asm__ volatile("" ::: "memory");
		}
	}
	for (; i < n; i++) {
		d[i] = s[i];
		__asm__ volatile("" ::: "memory");
	}
}

const char *sh_strerror(int code)
{
	if (code >= SH_MM_FIRST && code <= SH_MM_LAST)
		return sh_memmap_strerror(code);
	switch (code) {
	case SH_OK:
		return "SH_OK";
	case SH_EINVAL:
		return "SH_EINVAL";
	case SH_ETOOSMALL:
		return "SH_ETOOSMALL";
	case SH_ETOOBIG:
		return "SH_ETOOBIG";
	case SH_EOVERLAP:
		return "SH_EOVERLAP";
	case SH_ETOOMANY:
		return "SH_ETOOMANY";
	case SH_ENOMEM:
		return "SH_ENOMEM";
	case SH_EOVERFLOW:
		return "SH_EOVERFLOW";
	case SH_EALIGN:
		return "SH_EALIGN";
	case SH_EFOREIGN:
		return "SH_EFOREIGN";
	case SH_EBADPTR:
		return "SH_EBADPTR";
	case SH_EDOUBLEFREE:
		return "SH_EDOUBLEFREE";
	case SH_ECORRUPT:
		return "SH_ECORRUPT";
	case SH_EOVERRUN:
		return "SH_EOVERRUN";
	case SH_EUSEAFTERFREE:
		return "SH_EUSEAFTERFREE";
	default:
		return "SH_E?";
	}
}

const char *sh_invariant_name(int invariant)
{
	static const char *const names[] = {
		"none",	   "I1 tiling",	   "I2 slot conservation", "I3 consolidation",
		"I4 hash", "I5 alignment", "I6 free index",	   "I7 statistics",
	};

	if (invariant == SH_I10_GUARD)
		return "I10 guard bytes";
	if (invariant < 0 || invariant > SH_I7_STATS)
		return "I?";
	return names[invariant];
}
