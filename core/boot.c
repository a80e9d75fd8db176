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

static const uint8_t *translate(const struct sh_boot_config *cfg, uint64_t phys, uint64_t size)
{
	return cfg->phys_to_ptr != NULL ? cfg->phys_to_ptr(cfg->phys_ctx, phys, size)
					: identity(phys, size);
}

/* Exclusive end of what a pointer can address, as a physical limit. */
static uint64_t ptr_reach(void)
{
	return (uint64_t)UINTPTR_MAX >= SH_MEM_TOP ? SH_MEM_TOP : (uint64_t)UINTPTR_MAX + 1;
}

static void result_reset(struct sh_boot_result *res)
{
	res->have_static = false;
	res->have_extended = false;
	res->static_region = 0;
	res->extended_region = 0;
	res->place.start = res->place.end = 0;
	res->place.ram_start = res->place.ram_end = 0;
	res->place.hole_start = res->place.hole_end = 0;
	res->limit = 0;
	res->static_error = SH_OK;
	res->extended_error = SH_OK;
	res->options = 0;
	res->nloader = 0;
}

/* Keeps [start, start + size) clear; past SH_BOOT_MAX_LOADER entries the last one grows to
 * span every further range, so nothing the loader owns is ever given out. */
static void loader_add(struct sh_boot_result *res, uint64_t start, uint64_t size)
{
	uint64_t end = mm_end(start, size);
	struct sh_mem_range *r;

	if (end <= start)
		return;
	if (res->nloader < SH_BOOT_MAX_LOADER) {
		r = &res->loader[res->nloader++];
		r->start = start;
		r->end = end;
		r->type = SH_MEM_RESERVED;
		return;
	}
	r = &res->loader[SH_BOOT_MAX_LOADER - 1];
	r->start = start < r->start ? start : r->start;
	r->end = end > r->end ? end : r->end;
}

/*
 * The common part of every boot call; arguments checked and res reset by the caller. map
 * NULL with map_error 0: no extended region asked for; map_error != 0: asked for, but the
 * map could not be had.
 */
static int build(struct sh_heap *h, const struct sh_memmap *map, int map_error,
		 const struct sh_boot_config *cfg, struct sh_boot_result *res)
{
	struct sh_mem_range stat;
	struct mm_excl ex[3];
	size_t nex = 0;
	int rc;

	sh_init(h);
	if (cfg->static_base != NULL) {
		size_t slots = cfg->static_slots ? cfg->static_slots : SH_BOOT_STATIC_SLOTS;
		rc = sh_add_region(h, cfg->static_base, cfg->static_size, slots);
		if (rc != SH_OK) {
			res->static_error = rc;
			return rc;
		}
		res->have_static = true;
		res->static_region = h->nregions - 1;
	}
	if (map_error != SH_MM_OK) {
		res->extended_error = map_error;
		return map_error;
	}
	if (map == NULL)
		return SH_MM_OK;

	uint64_t size = cfg->heap_size ? cfg->heap_size : (uint64_t)SH_DEFAULT_HEAP_SIZE;
	uint64_t limit = cfg->limit ? cfg->limit : SH_PLACE_LIMIT_4G;
	size_t nslots = cfg->nslots ? cfg->nslots : SH_DEFAULT_SLOTS;

	ex[nex].r = cfg->excl;
	ex[nex++].n = cfg->nexcl;
	ex[nex].r = res->loader;
	ex[nex++].n = res->nloader;
	if (cfg->phys_to_ptr == NULL) {
		/* Identity: the static region's address is physical, and a pointer reaches
		 * only so far. */
		if (limit > ptr_reach())
			limit = ptr_reach();
		if (cfg->static_base != NULL) {
			stat.start = (uint64_t)(uintptr_t)cfg->static_base;
			stat.end = mm_end(stat.start, cfg->static_size);
			stat.type = SH_MEM_RESERVED;
			ex[nex].r = &stat;
			ex[nex++].n = 1;
		}
	}
	res->limit = limit;

	rc = mm_place(map, size, limit, ex, nex, &res->place);
	uint64_t bytes = rc == SH_MM_OK ? res->place.end - res->place.start : 0;
	/* Always false where size_t has 64 bits; the test is for 32-bit targets. */
	/* cppcheck-suppress knownConditionTrueFalse */
	if (rc == SH_MM_OK && (uint64_t)(size_t)bytes != bytes)
		rc = SH_MM_ESIZE;
	if (rc == SH_MM_OK) {
		void *p = (void *)(uintptr_t)translate(cfg, res->place.start, bytes);
		rc = p == NULL ? SH_MM_EADDRESS : sh_add_region(h, p, (size_t)bytes, nslots);
	}
	if (rc != SH_OK) {
		res->extended_error = rc;
		return rc;
	}
	res->have_extended = true;
	res->extended_region = h->nregions - 1;
	return SH_MM_OK;
}

static bool config_ok(const struct sh_boot_config *cfg)
{
	return cfg != NULL && (cfg->excl != NULL || cfg->nexcl == 0);
}

int sh_boot_init(struct sh_heap *h, const struct sh_memmap *map,
		 const struct sh_boot_config *cfg, struct sh_boot_result *res)
{
	if (h == NULL || !config_ok(cfg) || res == NULL)
		return SH_MM_EINVAL;
	result_reset(res);
	if (map == NULL && cfg->static_base == NULL)
		return SH_MM_EINVAL;
	return build(h, map, SH_MM_OK, cfg, res);
}

int sh_mb1_read_info(const void *buf, size_t len, struct sh_mb1_info *out)
{
	const uint8_t *p = buf;

	if (buf == NULL || out == NULL)
		return SH_MM_EINVAL;
	if (len < SH_MB1_INFO_READ)
		return SH_MM_ETRUNCATED;
	out->flags = mm_rd32(p);
	out->mem_lower = mm_rd32(p + 4);
	out->mem_upper = mm_rd32(p + 8);
	out->cmdline = mm_rd32(p + 16);
	out->mods_count = mm_rd32(p + 20);
	out->mods_addr = mm_rd32(p + 24);
	out->mmap_length = mm_rd32(p + 44);
	out->mmap_addr = mm_rd32(p + 48);
	return SH_MM_OK;
}

int sh_mb1_info_map(const struct sh_mb1_info *info, const void *mmap, size_t len,
		    struct sh_memmap *out)
{
	struct sh_mem_range raw[2];

	if (info == NULL || out == NULL)
		return SH_MM_EINVAL;
	if (info->flags & SH_MB1_FLAG_MMAP)
		return sh_mb1_parse(mmap, len, out);
	if (!(info->flags & SH_MB1_FLAG_MEM))
		return SH_MM_ENOMEMTAG;
	raw[0].start = 0;
	raw[0].end = (uint64_t)info->mem_lower << 10;
	raw[0].type = SH_MEM_RAM;
	raw[1].start = UINT64_C(1) << 20;
	raw[1].end = raw[1].start + ((uint64_t)info->mem_upper << 10);
	raw[1].type = SH_MEM_RAM;
	return sh_memmap_normalize(raw, 2, out);
}

/* A NUL-terminated command line at phys: applies its options to c and keeps it clear. The
 * string is found byte by byte, so a hook is never asked for more than exists. */
static void cmdline_options(const struct sh_boot_config *cfg, uint64_t phys,
			    struct sh_boot_config *c, struct sh_boot_result *res)
{
	const uint8_t *b;
	size_t n = 0;

	while (n < SH_BOOT_CMDLINE_MAX && (b = translate(cfg, phys + n, 1)) != NULL && *b != 0)
		n++;
	loader_add(res, phys, (uint64_t)n + 1);
	b = n ? translate(cfg, phys, n) : NULL;
	if (b != NULL)
		res->options = sh_boot_options((const char *)b, n, c);
}

static bool boot_args_ok(const struct sh_heap *h, const struct sh_boot_config *cfg,
			 const struct sh_memmap *map, const struct sh_boot_result *res)
{
	return h != NULL && config_ok(cfg) && map != NULL && map->range != NULL &&
	       map->cap != 0 && res != NULL;
}

int sh_boot_multiboot1(struct sh_heap *h, uint32_t magic, uint64_t info,
		       const struct sh_boot_config *cfg, struct sh_memmap *map,
		       struct sh_boot_result *res)
{
	struct sh_boot_config c;
	struct sh_mb1_info mi;
	const uint8_t *p, *mm = NULL;
	int merr;

	if (!boot_args_ok(h, cfg, map, res))
		return SH_MM_EINVAL;
	result_reset(res);
	if (magic != SH_MB1_MAGIC)
		return SH_MM_EMAGIC;
	c = *cfg;
	p = translate(cfg, info, SH_MB1_INFO_READ);
	if (p == NULL)
		return build(h, NULL, SH_MM_EADDRESS, &c, res);
	sh_mb1_read_info(p, SH_MB1_INFO_READ, &mi);
	loader_add(res, info, SH_MB1_INFO_BYTES);
	merr = SH_MM_OK;
	if (mi.flags & SH_MB1_FLAG_CMDLINE)
		cmdline_options(cfg, mi.cmdline, &c, res);
	if (mi.flags & SH_MB1_FLAG_MODS) {
		/* The list, then each module {u32 mod_start, u32 mod_end, u32 string, u32 pad};
		 * the list is read through one translation, so a bogus count is refused
		 * rather than walked. */
		uint64_t lbytes = (uint64_t)mi.mods_count * 16;
		const uint8_t *e = lbytes ? translate(cfg, mi.mods_addr, lbytes) : p;
		loader_add(res, mi.mods_addr, lbytes);
		if (e == NULL)
			merr = SH_MM_EADDRESS;
		for (uint32_t i = 0; i < mi.mods_count && merr == SH_MM_OK; i++, e += 16) {
			uint32_t ms = mm_rd32(e), me = mm_rd32(e + 4);
			if (me > ms)
				loader_add(res, ms, me - ms);
		}
	}
	if (merr == SH_MM_OK && (mi.flags & SH_MB1_FLAG_MMAP)) {
		loader_add(res, mi.mmap_addr, mi.mmap_length);
		if (mi.mmap_length != 0) {
			mm = translate(cfg, mi.mmap_addr, mi.mmap_length);
			if (mm == NULL)
				merr = SH_MM_EADDRESS;
		}
	}
	if (merr == SH_MM_OK)
		merr = sh_mb1_info_map(&mi, mm != NULL ? mm : p,
				       mm != NULL ? mi.mmap_length : 0, map);
	return build(h, merr == SH_MM_OK ? map : NULL, merr, &c, res);
}

int sh_boot_multiboot2(struct sh_heap *h, uint32_t magic, uint64_t info,
		       const struct sh_boot_config *cfg, struct sh_memmap *map,
		       struct sh_boot_result *res)
{
	struct sh_boot_config c;
	const uint8_t *p;
	uint32_t total, off;
	int merr;

	if (!boot_args_ok(h, cfg, map, res))
		return SH_MM_EINVAL;
	result_reset(res);
	if (magic != SH_MB2_MAGIC)
		return SH_MM_EMAGIC;
	c = *cfg;
	p = translate(cfg, info, 8);
	if (p == NULL)
		return build(h, NULL, SH_MM_EADDRESS, &c, res);
	total = mm_rd32(p);
	if (total < 8)
		return build(h, NULL, SH_MM_EHDRSIZE, &c, res);
	p = translate(cfg, info, total);
	if (p == NULL)
		return build(h, NULL, SH_MM_EADDRESS, &c, res);
	loader_add(res, info, total);
	/* Command line (tag 1) and modules (tag 3); a malformed tag ends the walk here, and
	 * sh_mb2_parse_info names the fault if it stands before the memory map. */
	for (off = 8; total - off >= 8;) {
		uint32_t type = mm_rd32(p + off), size = mm_rd32(p + off + 4);
		if (type == 0 || size < 8 || size > total - off)
			break;
		if (type == 1) {
			size_t n = 0;
			while (n < size - 8 && p[off + 8 + n] != 0)
				n++;
			res->options = sh_boot_options((const char *)p + off + 8, n, &c);
		} else if (type == 3 && size >= 16) {
			uint32_t ms = mm_rd32(p + off + 8), me = mm_rd32(p + off + 12);
			if (me > ms)
				loader_add(res, ms, me - ms);
		}
		if (size > total - off - 7)
			break;
		off += (size + 7) & ~7u;
	}
	merr = sh_mb2_parse_info(p, total, map);
	return build(h, merr == SH_MM_OK ? map : NULL, merr, &c, res);
}

/* Header and records of the (validated) coreboot table at phys: [phys, phys + header_bytes
 * + table_bytes). */
static void cb_table_add(struct sh_boot_result *res, const uint8_t *img, uint64_t base,
			 uint64_t phys)
{
	const uint8_t *t = img + (size_t)(phys - base);

	loader_add(res, phys, (uint64_t)mm_rd32(t + 4) + mm_rd32(t + 12));
}

int sh_boot_coreboot(struct sh_heap *h, const struct sh_boot_config *cfg, struct sh_memmap *map,
		     struct sh_boot_result *res)
{
	const uint64_t base = 16;
	uint64_t end, table, found;
	const uint8_t *img;
	size_t len;
	int merr;

	if (!boot_args_ok(h, cfg, map, res))
		return SH_MM_EINVAL;
	result_reset(res);
	end = cfg->tables_end ? cfg->tables_end : SH_PLACE_LIMIT_4G;
	if (cfg->phys_to_ptr == NULL && end > ptr_reach())
		end = ptr_reach();
	if (end <= base + SH_CB_HEADER_BYTES)
		return SH_MM_EINVAL;
	len = end - base > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)(end - base);
	img = translate(cfg, base, len);
	if (img == NULL)
		return build(h, NULL, SH_MM_EADDRESS, cfg, res);
	merr = sh_cb_find(img, len, base, &table);
	found = table;
	if (merr == SH_MM_OK)
		merr = sh_cb_parse(img, len, base, table, map, &found);
	if (merr == SH_MM_OK || merr == SH_MM_ENORAM) {
		cb_table_add(res, img, base, table);
		if (found != table)
			cb_table_add(res, img, base, found);
	}
	return build(h, merr == SH_MM_OK ? map : NULL, merr, cfg, res);
}

int sh_boot_child_map(const struct sh_memmap *map, const struct sh_boot_result *res,
		      const struct sh_mem_range *extra, size_t nextra, struct sh_memmap *out)
{
	struct mm_src s;

	mm_src_init(&s, MM_SRC_PAINT);
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
