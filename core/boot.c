/* SPDX-License-Identifier: MIT */
/*
 * Boot helper: a heap made of the payload's static region and an extended region placed at
 * the top of RAM by the memory map, plus the child table that keeps that region reserved
 * for a chained payload, and run-time overrides of the heap size and slot count.
 */
#include "mm_internal.h"

/* Identity translation for firmware: refuses what a pointer cannot address. */
static void *identity(uint64_t phys, uint64_t size)
{
	if (size == 0 || (uint64_t)(uintptr_t)phys != phys ||
	    size - 1 > (uint64_t)UINTPTR_MAX - phys)
		return NULL;
	return (void *)(uintptr_t)phys;
}

int sh_boot_init(struct sh_heap *h, const struct sh_memmap *map,
		 const struct sh_boot_config *cfg, struct sh_boot_result *res)
{
	struct sh_mem_range excl[1];
	const struct sh_mem_range *ex = NULL;
	size_t nex = 0;
	int rc;

	if (h == NULL || cfg == NULL || res == NULL)
		return SH_MM_EINVAL;
	res->have_static = false;
	res->have_extended = false;
	res->static_region = 0;
	res->extended_region = 0;
	res->place_error = SH_MM_OK;
	res->heap_error = SH_OK;
	if (map == NULL && cfg->static_base == NULL)
		return SH_MM_EINVAL;
	if (cfg->excl == NULL && cfg->nexcl > 0)
		return SH_MM_EINVAL;

	sh_init(h);
	if (cfg->static_base != NULL) {
		size_t slots = cfg->static_slots ? cfg->static_slots : SH_BOOT_STATIC_SLOTS;
		rc = sh_add_region(h, cfg->static_base, cfg->static_size, slots);
		if (rc != SH_OK) {
			res->heap_error = rc;
			return SH_MM_EHEAP;
		}
		res->have_static = true;
		res->static_region = h->nregions - 1;
	}
	if (map == NULL)
		return SH_MM_OK;

	uint64_t size = cfg->heap_size ? cfg->heap_size : (uint64_t)SH_DEFAULT_HEAP_SIZE;
	uint64_t limit = cfg->limit ? cfg->limit : SH_PLACE_LIMIT_4G;
	size_t nslots = cfg->nslots ? cfg->nslots : SH_DEFAULT_SLOTS;

	if (cfg->phys_to_ptr == NULL && cfg->static_base != NULL && cfg->nexcl == 0) {
		/* Identity mapping: the static region's address is physical; keep clear of it. */
		excl[0].start = (uint64_t)(uintptr_t)cfg->static_base;
		excl[0].end = mm_end(excl[0].start, cfg->static_size);
		excl[0].type = SH_MEM_RESERVED;
		ex = excl;
		nex = 1;
	} else {
		ex = cfg->excl;
		nex = cfg->nexcl;
	}

	rc = sh_place(map, size, limit, ex, nex, &res->place);
	uint64_t bytes = rc == SH_MM_OK ? res->place.end - res->place.start : 0;
	/* Always false where size_t has 64 bits; the test is for 32-bit targets. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (rc == SH_MM_OK && (uint64_t)(size_t)bytes != bytes)
		rc = SH_MM_ESIZE;
	if (rc != SH_MM_OK) {
		res->place_error = rc;
		return res->have_static ? SH_MM_OK : rc;
	}

	void *p = cfg->phys_to_ptr != NULL
			  ? cfg->phys_to_ptr(cfg->phys_ctx, res->place.start, bytes)
			  : identity(res->place.start, bytes);
	if (p == NULL) {
		res->place_error = SH_MM_EADDRESS;
		return SH_MM_EADDRESS;
	}
	rc = sh_add_region(h, p, (size_t)bytes, nslots);
	if (rc != SH_OK) {
		res->heap_error = rc;
		return SH_MM_EHEAP;
	}
	res->have_extended = true;
	res->extended_region = h->nregions - 1;
	return SH_MM_OK;
}

int sh_boot_child_map(const struct sh_memmap *map, const struct sh_boot_result *res,
		      const struct sh_mem_range *extra, size_t nextra, struct sh_memmap *out)
{
	struct mm_src s = {.kind = MM_SRC_PAINT};

	if (map == NULL || res == NULL || (map->range == NULL && map->n > 0) ||
	    (extra == NULL && nextra > 0) || out == NULL || out->range == NULL ||
	    out->cap == 0 || out->range == map->range)
		return SH_MM_EINVAL;
	s.a = map->range;
	s.na = map->n;
	s.b = extra;
	s.nb = nextra;
	s.btype = SH_MEM_RESERVED;
	if (res->have_extended) {
		s.one.start = res->place.start;
		s.one.end = res->place.end;
		s.has_one = true;
	}
	return mm_normalize(&s, out);
}

/* Parses an unsigned number (decimal or 0x hex) with an optional K/M/G suffix when
 * suffix is set. Returns false on a malformed or overflowing value. */
static bool parse_num(const char *s, size_t len, bool suffix, uint64_t *v)
{
	uint64_t x = 0, base = 10;
	size_t i = 0;
	unsigned shift = 0;

	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (suffix && len > i) {
		char c = s[len - 1];
		if (c == 'K' || c == 'k')
			shift = 10;
		else if (c == 'M' || c == 'm')
			shift = 20;
		else if (c == 'G' || c == 'g')
			shift = 30;
		if (shift != 0)
			len--;
	}
	if (i >= len)
		return false;
	for (; i < len; i++) {
		char c = s[i];
		uint64_t d;
		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (uint64_t)(c - 'a') + 10u;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (uint64_t)(c - 'A') + 10u;
		else
			return false;
		if (x > (base == 16 ? UINT64_MAX / 16 : UINT64_MAX / 10) ||
		    x * base > UINT64_MAX - d)
			return false;
		x = x * base + d;
	}
	if (shift != 0) {
		if (x > UINT64_MAX >> shift)
			return false;
		x <<= shift;
	}
	*v = x;
	return true;
}

static bool word_is(const char *w, size_t wl, const char *key, size_t *vlen)
{
	size_t k = 0;

	while (key[k] != '\0') {
		if (k >= wl || w[k] != key[k])
			return false;
		k++;
	}
	*vlen = wl - k;
	return true;
}

int sh_boot_options(const char *s, size_t len, struct sh_boot_config *cfg)
{
	size_t i = 0;
	int applied = 0;

	if (s == NULL || cfg == NULL)
		return -1;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\0'))
			i++;
		size_t b = i;
		while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\0')
			i++;
		const char *w = s + b;
		size_t wl = i - b, vl;
		uint64_t v;
		if (word_is(w, wl, "slotheap.size=", &vl)) {
			if (!parse_num(w + wl - vl, vl, true, &v) || v == 0)
				return -1;
			cfg->heap_size = v;
			applied++;
		} else if (word_is(w, wl, "slotheap.slots=", &vl)) {
			if (!parse_num(w + wl - vl, vl, false, &v) || v == 0 ||
			    (uint64_t)(size_t)v != v)
				return -1;
			cfg->nslots = (size_t)v;
			applied++;
		}
	}
	return applied;
}
