/* SPDX-License-Identifier: MIT */
/*
 * The allocator calls of libpayload (malloc, free, calloc, realloc, memalign, dma_malloc,
 * dma_memalign, init_dma_memory, dma_initialized, dma_coherent) over a slotheap heap, so a
 * libpayload payload can link this instead of libpayload's allocator unchanged.
 *
 * The heap: the payload builds it (sh_boot_multiboot1 and friends, or sh_add_region) and
 * hands it over with sh_lp_attach; every region it has then is the normal heap. The DMA
 * heap is its own region, added by init_dma_memory: from then on dma_malloc and
 * dma_memalign allocate only there and malloc, calloc, realloc and memalign never do (the
 * region masks of sh_malloc_in / sh_memalign_in keep the two apart). free and realloc take
 * a block of either heap.
 *
 * Semantics follow libpayload's where they are sound:
 *   - before init_dma_memory the DMA calls use the normal heap, dma_initialized() is 0 and
 *     dma_coherent() is 1 for every pointer (all memory is taken as coherent); afterwards
 *     dma_coherent(p) is 1 exactly for p inside the DMA region;
 *   - malloc(0), memalign(a, 0) and the DMA calls with size 0 return NULL; realloc(p, 0)
 *     frees p and returns NULL; realloc(NULL, n) is malloc(n); free(NULL) does nothing;
 *   - blocks are 16-byte aligned (SH_GRANULE); memalign takes any power of two.
 * Where slotheap is stricter (each case has a unit test, tests/test_libpayload.c):
 *   - realloc that cannot grow returns NULL and leaves the block as it was;
 *   - calloc checks nmemb * size for overflow and returns NULL;
 *   - memalign with an alignment that is not a power of two returns NULL;
 *   - a bad free (a pointer that is not a live block: foreign, inside a block, or freed
 *     twice) changes nothing and is reported: the heap's error hook is called and counted
 *     (sh_stats misuse), and sh_lp_last_error() gives its SH_E* code;
 *   - init_dma_memory a second time, or with memory slotheap refuses as a region (too
 *     small for its metadata, overlapping the heap, more than SH_MAX_REGIONS), changes
 *     nothing and is reported the same way (SH_EINVAL for the second call);
 *   - any call before sh_lp_attach returns NULL (frees are ignored), never touches memory.
 * Not thread safe, as libpayload's allocator is not.
 *
 * On a host, build with SH_LP_PREFIXED defined to get the names prefixed with sh_lp_test_
 * instead (so that the C library's malloc stays the process's).
 */
#ifndef SLOTHEAP_LIBPAYLOAD_H
#define SLOTHEAP_LIBPAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "slotheap.h"

#ifdef SH_LP_PREFIXED
#define SH_LP_NAME(n) sh_lp_test_##n
#else
#define SH_LP_NAME(n) n
#endif

#ifndef SH_LP_DMA_SLOTS
#define SH_LP_DMA_SLOTS 128 /* slots of the DMA region (at most size / 64 for small ones) */
#endif

void *SH_LP_NAME(malloc)(size_t size);
void SH_LP_NAME(free)(void *ptr);
void *SH_LP_NAME(calloc)(size_t nmemb, size_t size);
void *SH_LP_NAME(realloc)(void *ptr, size_t size);
void *SH_LP_NAME(memalign)(size_t align, size_t size);
void *SH_LP_NAME(dma_malloc)(size_t size);
void *SH_LP_NAME(dma_memalign)(size_t align, size_t size);
void SH_LP_NAME(init_dma_memory)(void *start, uint32_t size);
int SH_LP_NAME(dma_initialized)(void);
int SH_LP_NAME(dma_coherent)(const void *ptr);

/* Makes h the heap of the calls above (NULL: none); its regions are the normal heap and
 * any earlier DMA setting is forgotten. */
void sh_lp_attach(struct sh_heap *h);
/* The attached heap, or NULL. */
struct sh_heap *sh_lp_heap(void);
/* The SH_E* code of the last refused free, realloc or init_dma_memory, 0 if none. */
int sh_lp_last_error(void);
/* Region index of the DMA heap, or -1 before init_dma_memory. */
int sh_lp_dma_region(void);

#endif /* SLOTHEAP_LIBPAYLOAD_H */
