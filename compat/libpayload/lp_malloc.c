/* SPDX-License-Identifier: MIT */
/*
 * libpayload's allocator calls over slotheap (slotheap_libpayload.h says what each promises
 * and where it is stricter than libpayload). The normal heap is every region the attached
 * heap had at sh_lp_attach; the DMA heap is the region init_dma_memory adds. Each call
 * passes the mask of its own heap, so neither heap ever hands out the other's memory.
 */
#include "slotheap_libpayload.h"

static struct sh_heap *heap;
static unsigned normal_mask;
static int dma_region = -1;
static uintptr_t dma_lo, dma_hi;
static int last_error;

static unsigned alloc_mask(bool dma)
{
	return dma && dma_region >= 0 ? 1u << dma_region : normal_mask;
}

/* The heap whose region holds p: a block moves only within its own heap. */
static unsigned mask_of(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	return dma_region >= 0 && a >= dma_lo && a < dma_hi ? 1u << dma_region : normal_mask;
}

void sh_lp_attach(struct sh_heap *h)
{
	heap = h;
	normal_mask = 0;
	if (h != NULL)
		for (unsigned i = 0; i < h->nregions; i++)
			normal_mask |= 1u << i;
	dma_region = -1;
	dma_lo = dma_hi = 0;
	last_error = 0;
}

struct sh_heap *sh_lp_heap(void)
{
	return heap;
}

int sh_lp_last_error(void)
{
	return last_error;
}

int sh_lp_dma_region(void)
{
	return dma_region;
}

void *SH_LP_NAME(malloc)(size_t size)
{
	return heap != NULL && size != 0 ? sh_malloc_in(heap, alloc_mask(false), size) : NULL;
}

void *SH_LP_NAME(memalign)(size_t align, size_t size)
{
	return heap != NULL && size != 0 ? sh_memalign_in(heap, alloc_mask(false), align, size)
					 : NULL;
}

void *SH_LP_NAME(dma_malloc)(size_t size)
{
	return heap != NULL && size != 0 ? sh_malloc_in(heap, alloc_mask(true), size) : NULL;
}

void *SH_LP_NAME(dma_memalign)(size_t align, size_t size)
{
	return heap != NULL && size != 0 ? sh_memalign_in(heap, alloc_mask(true), align, size)
					 : NULL;
}

void *SH_LP_NAME(calloc)(size_t nmemb, size_t size)
{
	if (heap == NULL || nmemb == 0 || size == 0)
		return NULL;
	if (nmemb > SIZE_MAX / size)
		return NULL;
	unsigned char *p = sh_malloc_in(heap, alloc_mask(false), nmemb * size);
	if (p != NULL)
		for (size_t i = 0; i < nmemb * size; i++)
			p[i] = 0;
	return p;
}

void SH_LP_NAME(free)(void *ptr)
{
	if (heap == NULL || ptr == NULL)
		return;
	int rc = sh_free(heap, ptr);
	if (rc != SH_OK)
		last_error = rc;
}

void *SH_LP_NAME(realloc)(void *ptr, size_t size)
{
	if (heap == NULL)
		return NULL;
	if (ptr == NULL)
		return SH_LP_NAME(malloc)(size);
	struct sh_stats st;
	sh_stats(heap, &st);
	size_t before = st.misuse;
	void *q = sh_realloc_in(heap, mask_of(ptr), ptr, size);
	sh_stats(heap, &st);
	if (st.misuse != before)
		last_error = sh_last_error(heap);
	return q;
}

void SH_LP_NAME(init_dma_memory)(void *start, uint32_t size)
{
	size_t slots = SH_LP_DMA_SLOTS;
	int rc;

	if (heap == NULL)
		return;
	if (dma_region >= 0) {
		last_error = SH_EINVAL;
		return;
	}
	if (slots > size / 64u)
		slots = size / 64u ? size / 64u : 1;
	rc = sh_add_region(heap, start, size, slots);
	if (rc != SH_OK) {
		last_error = rc;
		return;
	}
	dma_region = (int)heap->nregions - 1;
	dma_lo = (uintptr_t)start;
	dma_hi = dma_lo + size;
}

int SH_LP_NAME(dma_initialized)(void)
{
	return dma_region >= 0;
}

int SH_LP_NAME(dma_coherent)(const void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;

	return dma_region < 0 || (a >= dma_lo && a < dma_hi);
}
