/* SPDX-License-Identifier: MIT */
/*
 * Boot helper and child tables: a heap from a static region plus an extended region placed
 * by a real memory map, the placed physical range mapped onto a host buffer through the
 * translation hook; run-time overrides; the child table round trip (parse, reserve the heap,
 * write a coreboot table and an e820 array, parse again: the heap is reserved and nothing
 * else changed).
 */
#include "memmap_util.h"

#include "slotheap.h"

#define CAP 128

static struct sample samples[MAX_SAMPLES];
static size_t nsamples;

static int setup_samples(void **state)
{
	(void)state;
	nsamples = load_samples(samples, MAX_SAMPLES);
	return 0;
}

/* The host side of the translation: one buffer standing for the placed physical range. */
struct host_mem {
	uint8_t *buf;
	size_t len;
	uint64_t phys; /* what the helper asked for */
	uint64_t size;
	unsigned calls;
	bool refuse;
};

static void *to_host(void *ctx, uint64_t phys, uint64_t size)
{
	struct host_mem *hm = ctx;
	hm->calls++;
	hm->phys = phys;
	hm->size = size;
	if (hm->refuse || size > hm->len)
		return NULL;
	return hm->buf;
}

static uint8_t static_region[64 * 1024] __attribute__((aligned(4096)));

static void host_alloc(struct host_mem *hm, size_t len)
{
	memset(hm, 0, sizeof(*hm));
	hm->buf = aligned_alloc(4096, len);
	assert_non_null(hm->buf);
	hm->len = len;
}

static const struct sample *sample_named(const char *prefix)
{
	for (size_t i = 0; i < nsamples; i++) {
		if (strncmp(samples[i].name, prefix, strlen(prefix)) == 0)
			return &samples[i];
	}
	fail_msg("no sample %s", prefix);
	return NULL;
}

static void sample_map(const char *prefix, struct sh_memmap *m, struct sh_mem_range *r)
{
	const struct sample *s = sample_named(prefix);
	sh_memmap_init(m, r, CAP);
	assert_int_equal(sh_memmap_normalize(s->raw, s->n, m), SH_MM_OK);
}

static void test_boot_default_size(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	static struct sh_heap h;
	struct sh_memmap m;
	struct host_mem hm;
	struct sh_boot_result res;
	struct sh_boot_config cfg = {0};

	sample_map("01-", &m, r);
	host_alloc(&hm, SH_DEFAULT_HEAP_SIZE);
	cfg.static_base = static_region;
	cfg.static_size = sizeof(static_region);
	cfg.phys_to_ptr = to_host;
	cfg.phys_ctx = &hm;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_true(res.have_static && res.have_extended);
	assert_int_equal(res.static_region, 0);
	assert_int_equal(res.extended_region, 1);
	/* 8 MiB at the top of the highest RAM range below 4 GiB */
	assert_int_equal(res.place.end, 0x7ffdf000);
	assert_int_equal(res.place.end - res.place.start, SH_DEFAULT_HEAP_SIZE);
	assert_int_equal(hm.phys, res.place.start);
	assert_int_equal(hm.size, SH_DEFAULT_HEAP_SIZE);

	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, 1, &ri), SH_OK);
	assert_ptr_equal(ri.base, hm.buf);
	assert_int_equal(ri.size, SH_DEFAULT_HEAP_SIZE);
	assert_int_equal(ri.nslots, SH_DEFAULT_SLOTS);
	assert_int_equal(sh_region_info(&h, 0, &ri), SH_OK);
	assert_ptr_equal(ri.base, static_region);
	assert_int_equal(ri.nslots, SH_BOOT_STATIC_SLOTS);

	/* small allocations come from the static region first, big ones from the extension */
	uint8_t *a = sh_malloc(&h, 100);
	uint8_t *b = sh_malloc(&h, 4 * 1024 * 1024);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(a >= static_region && a < static_region + sizeof(static_region));
	assert_true(b >= hm.buf && b + 4 * 1024 * 1024 <= hm.buf + hm.len);
	memset(b, 0x5a, 4 * 1024 * 1024);
	assert_int_equal(sh_check(&h, NULL), SH_OK);
	assert_int_equal(sh_free(&h, b), SH_OK);
	assert_int_equal(sh_free(&h, a), SH_OK);
	free(hm.buf);
}

static void test_boot_overrides(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	static struct sh_heap h;
	struct sh_memmap m;
	struct host_mem hm;
	struct sh_boot_result res;
	struct sh_boot_config cfg = {0};
	const char opts[] = "console=ttyS0 slotheap.size=0x800K  slotheap.slots=300 quiet";

	assert_int_equal(sh_boot_options(opts, sizeof(opts) - 1, &cfg), 2);
	assert_int_equal(cfg.heap_size, 2 * MiB);
	assert_int_equal(cfg.nslots, 300);
	sample_map("19-", &m, r);
	host_alloc(&hm, 2 * MiB);
	cfg.phys_to_ptr = to_host;
	cfg.phys_ctx = &hm;
	cfg.limit = 0x1e000000; /* the exact 1 MiB range at the top no longer fits 2 MiB */
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_false(res.have_static);
	assert_true(res.have_extended);
	assert_int_equal(res.extended_region, 0);
	assert_int_equal(res.place.end, 0x1def0000);
	struct sh_region_info ri;
	assert_int_equal(sh_region_info(&h, 0, &ri), SH_OK);
	assert_int_equal(ri.nslots, 300);
	assert_int_equal(ri.size, 2 * MiB);
	/* a 1 MiB heap takes the exact 1 MiB range */
	cfg.heap_size = MiB;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_int_equal(res.place.start, 0x1df00000);
	free(hm.buf);
}

static int opt(const char *s, struct sh_boot_config *cfg)
{
	return sh_boot_options(s, strlen(s), cfg);
}

static void test_boot_options_parse(void **state)
{
	(void)state;
	struct sh_boot_config cfg = {0};
	assert_int_equal(opt("slotheap.size=1G", &cfg), 1);
	assert_int_equal(cfg.heap_size, GiB);
	assert_int_equal(opt("slotheap.size=64m", &cfg), 1);
	assert_int_equal(cfg.heap_size, 64 * MiB);
	assert_int_equal(opt("slotheap.size=12345", &cfg), 1);
	assert_int_equal(cfg.heap_size, 12345);
	assert_int_equal(opt("slotheap.size=0xAbC0", &cfg), 1);
	assert_int_equal(cfg.heap_size, 0xabc0);
	assert_int_equal(opt("slotheap.size=12345", &cfg), 1);
	assert_int_equal(cfg.heap_size, 12345);
	/* a leading zero is still decimal (only "0x" means another base): 010 is ten */
	assert_int_equal(opt("slotheap.size=010", &cfg), 1);
	assert_int_equal(cfg.heap_size, 10);
	assert_int_equal(opt("slotheap.size=0100K slotheap.slots=010", &cfg), 2);
	assert_int_equal(cfg.heap_size, 100 * 1024);
	assert_int_equal(cfg.nslots, 10);
	assert_int_equal(opt("slotheap.slots=0009", &cfg), 1);
	assert_int_equal(cfg.nslots, 9);
	assert_int_equal(opt("slotheap.size=0x010", &cfg), 1);
	assert_int_equal(cfg.heap_size, 16);
	assert_int_equal(opt("nothing here", &cfg), 0);
	assert_int_equal(opt("", &cfg), 0);
	/* the length bounds the read: the option is cut short */
	assert_int_equal(sh_boot_options("slotheap.size=64M", 15, &cfg), 1);
	assert_int_equal(cfg.heap_size, 6);
	/* malformed values leave the field alone */
	cfg.heap_size = 7;
	assert_int_equal(opt("slotheap.size=12x", &cfg), -1);
	assert_int_equal(opt("slotheap.size=", &cfg), -1);
	assert_int_equal(opt("slotheap.size=0", &cfg), -1);
	assert_int_equal(opt("slotheap.size=0x", &cfg), -1);
	assert_int_equal(opt("slotheap.size=99999999999999999999", &cfg), -1);
	assert_int_equal(opt("slotheap.size=17179869184G", &cfg), -1);
	assert_int_equal(opt("slotheap.slots=1K", &cfg), -1);
	assert_int_equal(cfg.heap_size, 7);
	assert_int_equal(sh_boot_options(NULL, 0, &cfg), -1);
}

static void test_boot_failures(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	static struct sh_heap h;
	struct sh_memmap m;
	struct host_mem hm;
	struct sh_boot_result res;
	struct sh_boot_config cfg = {0};

	sample_map("17-", &m, r);
	host_alloc(&hm, 16 * MiB);
	cfg.phys_to_ptr = to_host;
	cfg.phys_ctx = &hm;
	/* 16 MiB does not fit the duron's map: fatal without a static region ... */
	cfg.heap_size = 16 * MiB;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ENOFIT);
	assert_false(res.have_extended);
	assert_int_equal(hm.calls, 0);
	assert_int_equal(res.extended_error, SH_MM_ENOFIT);
	assert_int_equal(res.static_error, SH_OK);
	/* ... with one the payload keeps its static heap, and the return still says that the
	 * extended region is missing: 0 means every region asked for exists */
	cfg.static_base = static_region;
	cfg.static_size = sizeof(static_region);
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ENOFIT);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(res.extended_error, SH_MM_ENOFIT);
	assert_int_equal(res.static_error, SH_OK);
	assert_non_null(sh_malloc(&h, 1000));
	/* the translation refuses the range: the same fallback, the static heap is kept */
	cfg.heap_size = MiB;
	hm.refuse = true;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_EADDRESS);
	assert_int_equal(hm.phys, 0xeef000);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(res.extended_error, SH_MM_EADDRESS);
	assert_int_equal(h.nregions, 1);
	assert_non_null(sh_malloc(&h, 1000));
	hm.refuse = false;
	/* a static region too small for its own metadata: its own code, nothing else tried */
	cfg.static_size = 64;
	hm.calls = 0;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_ETOOSMALL);
	assert_int_equal(res.static_error, SH_ETOOSMALL);
	assert_int_equal(res.extended_error, SH_OK);
	assert_false(res.have_static);
	assert_int_equal(hm.calls, 0);
	/* an extended region too small for its slots: sh_add_region's code, static kept */
	cfg.static_size = sizeof(static_region);
	cfg.heap_size = 4096;
	cfg.nslots = 100000;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_ETOOSMALL);
	assert_int_equal(res.extended_error, SH_ETOOSMALL);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	/* a size that cannot be rounded */
	cfg.static_base = NULL;
	cfg.nslots = 0;
	cfg.heap_size = UINT64_MAX;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ESIZE);
	/* arguments */
	assert_int_equal(sh_boot_init(NULL, &m, &cfg, &res), SH_MM_EINVAL);
	assert_int_equal(sh_boot_init(&h, NULL, &cfg, &res), SH_MM_EINVAL);
	cfg.nexcl = 1;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_EINVAL);
	free(hm.buf);
}

/* Identity translation (no hook): the static region is kept out of the placement. The only
 * RAM in the map is the static region itself, so nothing is left for the extended region;
 * were the static region not excluded, the placement would land on it (and sh_add_region
 * would refuse the overlap). Nothing outside static_region is ever touched. */
static void test_boot_identity_excludes_static(void **state)
{
	(void)state;
	static struct sh_heap h;
	struct sh_boot_result res;
	struct sh_boot_config cfg = {0};
	uint64_t a = (uint64_t)(uintptr_t)static_region;
	struct sh_mem_range ram[] = {{a, a + sizeof(static_region), SH_MEM_RAM}};
	static struct sh_mem_range r[4];
	struct sh_memmap m;
	sh_memmap_init(&m, r, 4);
	assert_int_equal(sh_memmap_normalize(ram, 1, &m), SH_MM_OK);
	cfg.static_base = static_region;
	cfg.static_size = sizeof(static_region);
	cfg.heap_size = 4096;
	cfg.limit = SH_MEM_TOP;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_ENOFIT);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(res.extended_error, SH_MM_ENOFIT);
	/* without a map the static region alone makes the heap */
	assert_int_equal(sh_boot_init(&h, NULL, &cfg, &res), SH_MM_OK);
	assert_true(res.have_static);
	assert_false(res.have_extended);
	assert_int_equal(h.nregions, 1);
	assert_non_null(sh_malloc(&h, 1000));
}

static void test_boot_exclusions(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP];
	static struct sh_heap h;
	struct sh_memmap m;
	struct host_mem hm;
	struct sh_boot_result res;
	struct sh_boot_config cfg = {0};
	/* the payload image sits at the top of the apollolake's RAM below 4 GiB */
	const struct sh_mem_range payload[] = {{0x7a000000, 0x7a9fd000, SH_MEM_RESERVED}};

	sample_map("07-", &m, r);
	host_alloc(&hm, MiB);
	cfg.heap_size = MiB;
	cfg.excl = payload;
	cfg.nexcl = 1;
	cfg.phys_to_ptr = to_host;
	cfg.phys_ctx = &hm;
	assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
	assert_int_equal(res.place.end, 0x7a000000);
	assert_int_equal(res.place.hole_end, 0x7a000000);
	free(hm.buf);
}

/* parse -> boot -> child map -> emit -> parse: the heap is reserved, nothing else moved. */
static void check_child(const struct sh_memmap *orig, const struct sh_memmap *child,
			uint64_t hs, uint64_t he, const struct sh_mem_range *extra,
			size_t nextra)
{
	assert_normalized(child);
	/* compare at every boundary of both maps and of the heap */
	uint64_t pts[4 * CAP + 8];
	size_t np = 0;
	for (size_t i = 0; i < orig->n; i++) {
		pts[np++] = orig->range[i].start;
		pts[np++] = orig->range[i].end - 1;
	}
	for (size_t i = 0; i < child->n; i++) {
		pts[np++] = child->range[i].start;
		pts[np++] = child->range[i].end - 1;
	}
	pts[np++] = hs;
	pts[np++] = hs - 1;
	pts[np++] = he;
	pts[np++] = he - 1;
	for (size_t i = 0; i < np; i++) {
		uint64_t x = pts[i];
		uint32_t want = sh_memmap_type_at(orig, x);
		bool reserved = x >= hs && x < he;
		for (size_t k = 0; k < nextra; k++)
			reserved = reserved || (x >= extra[k].start && x < extra[k].end);
		if (reserved && want != 0 && want < SH_MEM_RESERVED)
			want = SH_MEM_RESERVED;
		if (reserved && want == 0)
			want = SH_MEM_RESERVED;
		assert_int_equal(sh_memmap_type_at(child, x), want);
	}
}

static void test_child_round_trip(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP], c[CAP], back[CAP];
	static uint8_t table[8192];
	static struct sh_heap h;
	static const enum sh_mm_format fmts[] = {SH_FMT_CBTABLE, SH_FMT_CBIMAGE, SH_FMT_MB2INFO,
						 SH_FMT_E820,	 SH_FMT_E820_24, SH_FMT_MB1,
						 SH_FMT_MB2};
	struct host_mem hm;
	host_alloc(&hm, MiB);
	for (size_t i = 0; i < nsamples; i++) {
		struct sh_memmap m, child, parsed;
		struct sh_boot_result res;
		struct sh_boot_config cfg = {0};
		size_t len;
		sh_memmap_init(&m, r, CAP);
		assert_int_equal(sh_memmap_normalize(samples[i].raw, samples[i].n, &m),
				 SH_MM_OK);
		/* first through a coreboot table, as a payload would see it */
		assert_int_equal(sh_memmap_emit(SH_FMT_CBTABLE, &m, table, sizeof(table), &len),
				 SH_MM_OK);
		assert_int_equal(sh_cb_parse(table, len, 0, 0, &m, NULL), SH_MM_OK);
		cfg.heap_size = MiB;
		cfg.phys_to_ptr = to_host;
		cfg.phys_ctx = &hm;
		assert_int_equal(sh_boot_init(&h, &m, &cfg, &res), SH_MM_OK);
		assert_true(res.have_extended);
		/* the static heap's physical range is passed as an extra range */
		const struct sh_mem_range extra[] = {{0x20000, 0x30000, SH_MEM_RAM}};
		sh_memmap_init(&child, c, CAP);
		assert_int_equal(sh_boot_child_map(&m, &res, extra, 1, &child), SH_MM_OK);
		check_child(&m, &child, res.place.start, res.place.end, extra, 1);
		assert_int_equal(sh_memmap_type_at(&child, res.place.start), SH_MEM_RESERVED);
		assert_true(child.n >= m.n + 1 && child.n <= m.n + 4);
		for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			assert_int_equal(
				sh_memmap_emit(fmts[f], &child, table, sizeof(table), &len),
				SH_MM_OK);
			sh_memmap_init(&parsed, back, CAP);
			assert_int_equal(sh_memmap_parse(fmts[f], table, len, &parsed),
					 SH_MM_OK);
			assert_int_equal(parsed.n, child.n);
			check_child(&m, &parsed, res.place.start, res.place.end, extra, 1);
		}
		/* a child without extras: only the heap changes */
		sh_memmap_init(&child, c, CAP);
		assert_int_equal(sh_boot_child_map(&m, &res, NULL, 0, &child), SH_MM_OK);
		check_child(&m, &child, res.place.start, res.place.end, NULL, 0);
		/* the child of the child places the next heap below this one */
		struct sh_placement pl;
		assert_int_equal(sh_place(&child, MiB, SH_PLACE_LIMIT_4G, NULL, 0, &pl),
				 SH_MM_OK);
		assert_true(pl.end <= res.place.start || pl.start >= res.place.end);
	}
	free(hm.buf);
}

static void test_child_overflow_and_args(void **state)
{
	(void)state;
	static struct sh_mem_range r[CAP], c[CAP];
	struct sh_memmap m, child;
	struct sh_boot_result res = {0};
	sample_map("01-", &m, r);
	res.have_extended = true;
	res.place.start = 0x7f000000;
	res.place.end = 0x7f100000;
	/* splitting a RAM range needs two more entries than the map has */
	sh_memmap_init(&child, c, m.n + 1);
	assert_int_equal(sh_boot_child_map(&m, &res, NULL, 0, &child), SH_MM_EOVERFLOW);
	assert_int_equal(child.total, m.n + 2);
	sh_memmap_init(&child, c, m.n + 2);
	assert_int_equal(sh_boot_child_map(&m, &res, NULL, 0, &child), SH_MM_OK);
	assert_int_equal(sh_boot_child_map(&m, &res, NULL, 0, &m), SH_MM_EINVAL);
	assert_int_equal(sh_memmap_reserve(&m, NULL, 1, &child), SH_MM_EINVAL);
	/* reserving everything leaves no RAM */
	const struct sh_mem_range all[] = {{0, SH_MEM_TOP, SH_MEM_RAM}};
	sh_memmap_init(&child, c, CAP);
	assert_int_equal(sh_memmap_reserve(&m, all, 1, &child), SH_MM_ENORAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_default_size),
		cmocka_unit_test(test_boot_overrides),
		cmocka_unit_test(test_boot_options_parse),
		cmocka_unit_test(test_boot_failures),
		cmocka_unit_test(test_boot_identity_excludes_static),
		cmocka_unit_test(test_boot_exclusions),
		cmocka_unit_test(test_child_round_trip),
		cmocka_unit_test(test_child_overflow_and_args),
	};
	return cmocka_run_group_tests_name("memmap_boot", tests, setup_samples, NULL);
}
