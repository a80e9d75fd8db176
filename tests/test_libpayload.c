/* SPDX-License-Identifier: MIT */
/*
 * The libpayload-compatible calls (compat/libpayload/, built with SH_LP_PREFIXED so that
 * their names are sh_lp_test_malloc and so on) and the region-mask calls they rest on,
 * sh_memalign_in and sh_realloc_in, which are also compared with the reference model.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "shref.h"
#include "slotheap.h"
#include "slotheap_libpayload.h"

#define NORMAL_BYTES (64 * 1024)
#define DMA_BYTES (16 * 1024)

static uint8_t normal_mem[NORMAL_BYTES] __attribute__((aligned(4096)));
static uint8_t dma_mem[DMA_BYTES] __attribute__((aligned(4096)));
static struct sh_heap heap;

static bool in(const void *p, const uint8_t *base, size_t len)
{
	return (const uint8_t *)p >= base && (const uint8_t *)p < base + len;
}

static int setup(void **state)
{
	(void)state;
	sh_init(&heap);
	assert_int_equal(sh_add_region(&heap, normal_mem, sizeof(normal_mem), 64), SH_OK);
	sh_lp_attach(&heap);
	return 0;
}

static void test_before_attach(void **state)
{
	(void)state;
	sh_lp_attach(NULL);
	assert_null(sh_lp_test_malloc(10));
	assert_null(sh_lp_test_calloc(1, 10));
	assert_null(sh_lp_test_memalign(64, 10));
	assert_null(sh_lp_test_realloc(NULL, 10));
	assert_null(sh_lp_test_dma_malloc(10));
	sh_lp_test_free(normal_mem); /* ignored, nothing touched */
	sh_lp_test_init_dma_memory(dma_mem, DMA_BYTES);
	assert_int_equal(sh_lp_test_dma_initialized(), 0);
	assert_null(sh_lp_heap());
}

/* Before init_dma_memory: the DMA calls use the normal heap and every pointer is coherent. */
static void test_dma_uninitialized(void **state)
{
	(void)state;
	assert_int_equal(sh_lp_test_dma_initialized(), 0);
	assert_int_equal(sh_lp_dma_region(), -1);
	void *d = sh_lp_test_dma_malloc(100);
	void *a = sh_lp_test_dma_memalign(256, 100);
	assert_true(in(d, normal_mem, NORMAL_BYTES));
	assert_true(in(a, normal_mem, NORMAL_BYTES));
	assert_int_equal((uintptr_t)a % 256, 0);
	assert_int_equal(sh_lp_test_dma_coherent(d), 1);
	assert_int_equal(sh_lp_test_dma_coherent(&heap), 1);
	sh_lp_test_free(d);
	sh_lp_test_free(a);
}

/* After init_dma_memory the two heaps never hand out each other's memory, realloc keeps a
 * block in its own heap, and free takes blocks of both. */
static void test_dma_region(void **state)
{
	(void)state;
	sh_lp_test_init_dma_memory(dma_mem, DMA_BYTES);
	assert_int_equal(sh_lp_test_dma_initialized(), 1);
	assert_int_equal(sh_lp_dma_region(), 1);
	void *d = sh_lp_test_dma_malloc(1000);
	void *a = sh_lp_test_dma_memalign(1024, 1000);
	void *n = sh_lp_test_malloc(1000);
	void *m = sh_lp_test_memalign(1024, 1000);
	assert_true(in(d, dma_mem, DMA_BYTES) && in(a, dma_mem, DMA_BYTES));
	assert_true(in(n, normal_mem, NORMAL_BYTES) && in(m, normal_mem, NORMAL_BYTES));
	assert_int_equal((uintptr_t)a % 1024, 0);
	assert_int_equal((uintptr_t)m % 1024, 0);
	assert_int_equal(sh_lp_test_dma_coherent(d), 1);
	assert_int_equal(sh_lp_test_dma_coherent(a), 1);
	assert_int_equal(sh_lp_test_dma_coherent(n), 0);
	assert_int_equal(sh_lp_test_dma_coherent(dma_mem + DMA_BYTES), 0);
	/* the DMA heap runs out: no fall back to the normal heap */
	assert_null(sh_lp_test_dma_malloc(DMA_BYTES));
	/* the normal heap runs out: no fall back to the DMA heap */
	assert_null(sh_lp_test_malloc(NORMAL_BYTES));
	/* realloc that must move stays in its heap: fill the space above each block first */
	void *d2 = sh_lp_test_dma_malloc(100);
	memset(d, 0x5a, 1000);
	void *d3 = sh_lp_test_realloc(d, 4000);
	assert_non_null(d3);
	assert_true(in(d3, dma_mem, DMA_BYTES));
	assert_int_equal(((uint8_t *)d3)[999], 0x5a);
	void *n3 = sh_lp_test_realloc(n, 20000);
	assert_non_null(n3);
	assert_true(in(n3, normal_mem, NORMAL_BYTES));
	/* a second init_dma_memory changes nothing and is reported */
	sh_lp_test_init_dma_memory(normal_mem, 4096);
	assert_int_equal(sh_lp_last_error(), SH_EINVAL);
	assert_int_equal(sh_lp_dma_region(), 1);
	sh_lp_test_free(d2);
	sh_lp_test_free(d3);
	sh_lp_test_free(a);
	sh_lp_test_free(n3);
	sh_lp_test_free(m);
	struct sh_stats st;
	sh_stats(&heap, &st);
	assert_int_equal(st.live_blocks, 0);
	assert_int_equal(sh_check(&heap, NULL), 0);
}

/* DMA memory slotheap refuses (overlapping the heap, too small) is reported; DMA stays off. */
static void test_dma_refused(void **state)
{
	(void)state;
	sh_lp_test_init_dma_memory(normal_mem + 4096, 8192);
	assert_int_equal(sh_lp_last_error(), SH_EOVERLAP);
	assert_int_equal(sh_lp_test_dma_initialized(), 0);
	sh_lp_test_init_dma_memory(dma_mem, 32);
	assert_int_equal(sh_lp_last_error(), SH_ETOOSMALL);
	assert_int_equal(sh_lp_test_dma_initialized(), 0);
}

/* libpayload's answers for size 0 and NULL. */
static void test_zero_and_null(void **state)
{
	(void)state;
	assert_null(sh_lp_test_malloc(0));
	assert_null(sh_lp_test_memalign(64, 0));
	assert_null(sh_lp_test_dma_malloc(0));
	assert_null(sh_lp_test_calloc(0, 8));
	assert_null(sh_lp_test_calloc(8, 0));
	sh_lp_test_free(NULL);
	void *p = sh_lp_test_realloc(NULL, 100);
	assert_non_null(p);
	assert_null(sh_lp_test_realloc(p, 0)); /* frees p */
	struct sh_stats st;
	sh_stats(&heap, &st);
	assert_int_equal(st.live_blocks, 0);
	assert_int_equal(sh_lp_last_error(), 0);
}

/* Where slotheap is stricter than libpayload. */
static void test_stricter(void **state)
{
	(void)state;
	/* calloc checks the product for overflow, and zeroes */
	assert_null(sh_lp_test_calloc(SIZE_MAX / 2, 3));
	uint8_t *c = sh_lp_test_calloc(10, 100);
	assert_non_null(c);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(c[i], 0);
	/* realloc that cannot grow keeps the block as it was */
	memset(c, 0xa5, 1000);
	assert_null(sh_lp_test_realloc(c, 2 * NORMAL_BYTES));
	assert_int_equal(c[0], 0xa5);
	assert_int_equal(c[999], 0xa5);
	assert_int_equal(sh_usable_size(&heap, c), 1008);
	/* memalign with an alignment that is not a power of two */
	assert_null(sh_lp_test_memalign(48, 10));
	/* a bad free changes nothing and is reported: inside a block, twice, foreign */
	sh_lp_test_free(c + 16);
	assert_int_equal(sh_lp_last_error(), SH_EBADPTR);
	assert_int_equal(c[16], 0xa5);
	sh_lp_test_free(c);
	sh_lp_test_free(c);
	assert_int_equal(sh_lp_last_error(), SH_EDOUBLEFREE);
	int local;
	sh_lp_test_free(&local);
	assert_int_equal(sh_lp_last_error(), SH_EFOREIGN);
	assert_null(sh_lp_test_realloc(&local, 10));
	assert_int_equal(sh_lp_last_error(), SH_EFOREIGN);
	struct sh_stats st;
	sh_stats(&heap, &st);
	assert_int_equal(st.misuse, 4);
	assert_int_equal(sh_check(&heap, NULL), 0);
}

/* sh_memalign_in and sh_realloc_in against the reference model over two regions. */
static void test_mask_calls_match_model(void **state)
{
	static struct shref *m;
	(void)state;
	sh_init(&heap);
	assert_int_equal(sh_add_region(&heap, normal_mem, sizeof(normal_mem), 16), SH_OK);
	assert_int_equal(sh_add_region(&heap, dma_mem, sizeof(dma_mem), 16), SH_OK);
	m = shref_new();
	assert_non_null(m);
	for (unsigned i = 0; i < 2; i++) {
		struct sh_region_info ri;
		assert_int_equal(sh_region_info(&heap, i, &ri), 0);
		assert_int_equal(
			shref_add_region(m, (uintptr_t)ri.arena, ri.arena_size, ri.nslots), 0);
	}
	uint64_t seed = 7;
	void *live[32] = {0};
	for (unsigned step = 0; step < 4000; step++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		unsigned k = (unsigned)(seed >> 33) % 32,
			 mask = 1u + (unsigned)(seed >> 40) % 3;
		size_t n = 1 + (size_t)(seed >> 45) % 3000,
		       al = (size_t)1 << ((seed >> 20) % 10);
		void *p;
		uintptr_t q;
		if (live[k] == NULL && (seed >> 12) % 2) {
			p = sh_memalign_in(&heap, mask, al, n);
			q = shref_memalign_in(m, mask, al, n);
		} else {
			p = sh_realloc_in(&heap, mask, live[k], n);
			q = shref_realloc_in(m, mask, (uintptr_t)live[k], n);
		}
		assert_int_equal((uintptr_t)p, q);
		if (p != NULL || live[k] == NULL)
			live[k] = p;
		assert_int_equal(sh_check(&heap, NULL), 0);
	}
	shref_delete(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_before_attach, setup),
		cmocka_unit_test_setup(test_dma_uninitialized, setup),
		cmocka_unit_test_setup(test_dma_region, setup),
		cmocka_unit_test_setup(test_dma_refused, setup),
		cmocka_unit_test_setup(test_zero_and_null, setup),
		cmocka_unit_test_setup(test_stricter, setup),
		cmocka_unit_test(test_mask_calls_match_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
