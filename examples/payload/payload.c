/* SPDX-License-Identifier: MIT */
/*
 * Example payload: a freestanding 32-bit x86 program booted by a real loader. It takes the
 * memory map the loader hands over, builds its heap with one slotheap call per loader (a
 * static region in the image plus an extended region at the top of RAM below 4 GiB),
 * honours slotheap.size= and slotheap.slots= on the command line, runs the allocation
 * self-test through the libpayload-compatible calls' heap, writes a child memory table
 * with the heap reserved, prints all of it on COM1 and leaves through QEMU's isa-debug-exit
 * device (exit status 33 for PASS, 35 for FAIL).
 *
 * Loaders (docs/BOOT.md):
 *   multiboot v1   EAX = 0x2BADB002: sh_boot_multiboot1
 *   multiboot2     EAX = 0x36D76289: sh_boot_multiboot2
 *   coreboot       simulated: with "slotheap.cbsim" on a multiboot v1 command line the
 *                  payload first plays firmware: it writes the loader's map as a coreboot
 *                  table (the project's emitter, SH_FMT_CBIMAGE: a table at 0x500 that
 *                  forwards to one at 0x1000, both marked as coreboot table memory), forgets
 *                  everything else, and then boots as a coreboot payload does, by searching
 *                  low memory for the table: sh_boot_coreboot.
 *
 * The serial log is read by scripts/boot.py; its line formats are part of that contract.
 */
#include <stddef.h>
#include <stdint.h>

#include "memmap.h"
#include "selftest.h"
#include "slotheap.h"
#include "slotheap_libpayload.h"

#ifndef PAYLOAD_SELFTEST_OPS
#define PAYLOAD_SELFTEST_OPS 6000u
#endif
#ifndef PAYLOAD_SELFTEST_SEED
#define PAYLOAD_SELFTEST_SEED 20261206ul
#endif
#define STATIC_HEAP_BYTES (64u * 1024)
#define DMA_BYTES (256u * 1024)
#define MAP_CAP 64

void payload_main(uint32_t magic, uint32_t info);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

extern char __image_start[], __image_end[];

/* ---- the few C library functions the compiler may call ---- */

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;
	if (dp < sp) {
		while (n--)
			*dp++ = *sp++;
	} else {
		while (n--)
			dp[n] = sp[n];
	}
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	return memmove(d, s, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n--; x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

/* ---- port I/O, COM1, isa-debug-exit ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define COM1 0x3f8
#define DEBUG_EXIT 0xf4

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* divisor latch */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void putc_serial(char c)
{
	unsigned spin = 100000;
	while (!(inb(COM1 + 5) & 0x20) && --spin)
		;
	outb(COM1, (uint8_t)c);
}

static void puts_raw(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s);
	}
}

static void put_hex(uint64_t v, unsigned digits)
{
	char b[17];
	for (unsigned i = 0; i < digits; i++)
		b[i] = "0123456789abcdef"[(v >> (4 * (digits - 1 - i))) & 15];
	b[digits] = '\0';
	puts_raw("0x");
	puts_raw(b);
}

static void put_dec(uint32_t v)
{
	char b[11];
	unsigned i = sizeof(b) - 1;
	b[i] = '\0';
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_raw(b + i);
}

static void put_range(uint64_t s, uint64_t e)
{
	put_hex(s, 16);
	puts_raw(" ");
	put_hex(e, 16);
}

static void print_line(const char *s)
{
	puts_raw(s);
	puts_raw("\n");
}

static __attribute__((noreturn)) void finish(bool pass)
{
	print_line(pass ? "RESULT: PASS" : "RESULT: FAIL");
	outb(DEBUG_EXIT, pass ? 0x10 : 0x11); /* QEMU exits with (v << 1) | 1 */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- the payload ---- */

static struct sh_heap heap;
static uint8_t static_heap[STATIC_HEAP_BYTES] __attribute__((aligned(4096)));
static uint8_t dma_pool[DMA_BYTES] __attribute__((aligned(4096)));
static struct sh_mem_range ranges[MAP_CAP], child_ranges[MAP_CAP + 4];
static uint8_t child_table[4096];

static void print_map(const char *tag, const struct sh_memmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		puts_raw(tag);
		put_range(m->range[i].start, m->range[i].end);
		puts_raw(" ");
		print_line(sh_mem_type_name(m->range[i].type));
	}
}

/* Does the multiboot v1 command line hold the word w? */
static bool cmdline_has(uint32_t info, const char *w)
{
	struct sh_mb1_info mi;
	if (sh_mb1_read_info((const void *)(uintptr_t)info, SH_MB1_INFO_READ, &mi) != 0 ||
	    !(mi.flags & SH_MB1_FLAG_CMDLINE))
		return false;
	const char *s = (const char *)(uintptr_t)mi.cmdline;
	size_t wl = 0;
	while (w[wl])
		wl++;
	for (size_t i = 0; s[i]; i++) {
		if ((i == 0 || s[i - 1] == ' ') && memcmp(s + i, w, wl) == 0 &&
		    (s[i + wl] == '\0' || s[i + wl] == ' '))
			return true;
	}
	return false;
}

/*
 * Firmware for the simulated coreboot hand-off: the multiboot v1 map becomes a coreboot
 * table image (low table at SH_CBIMAGE_LOW forwarding to SH_CBIMAGE_HIGH) written into low
 * memory, with [SH_CBIMAGE_LOW, end of the image) marked as coreboot table memory.
 */
static bool write_coreboot_tables(uint32_t info)
{
	static uint8_t image[0x3000];
	static struct sh_mem_range raw[MAP_CAP + 1];
	struct sh_mb1_info mi;
	struct sh_memmap m;
	size_t len, n;

	sh_memmap_init(&m, ranges, MAP_CAP);
	if (sh_mb1_read_info((const void *)(uintptr_t)info, SH_MB1_INFO_READ, &mi) != 0 ||
	    sh_mb1_info_map(&mi, (const void *)(uintptr_t)mi.mmap_addr, mi.mmap_length, &m) !=
		    0)
		return false;
	for (n = 0; n < m.n; n++)
		raw[n] = m.range[n];
	raw[n].start = SH_CBIMAGE_LOW;
	raw[n].end = sizeof(image);
	raw[n].type = SH_MEM_TABLE;
	sh_memmap_init(&m, child_ranges, MAP_CAP + 4);
	if (sh_memmap_normalize(raw, n + 1, &m) != 0 ||
	    sh_memmap_emit(SH_FMT_CBIMAGE, &m, image, sizeof(image), &len) != 0)
		return false;
	/* Physical [SH_CBIMAGE_LOW, len): below it lie the real-mode vectors, left alone. */
	memcpy((void *)(uintptr_t)SH_CBIMAGE_LOW, image + SH_CBIMAGE_LOW, len - SH_CBIMAGE_LOW);
	puts_raw("cbsim: coreboot tables written at ");
	put_hex(SH_CBIMAGE_LOW, 8);
	puts_raw(" -> ");
	put_hex(SH_CBIMAGE_HIGH, 8);
	puts_raw(", ");
	put_dec((uint32_t)len);
	print_line(" bytes");
	return true;
}

void payload_main(uint32_t magic, uint32_t info)
{
	struct sh_mem_range image = {(uintptr_t)__image_start, (uintptr_t)__image_end,
				     SH_MEM_RESERVED};
	struct sh_boot_config cfg = {.static_base = static_heap,
				     .static_size = sizeof(static_heap),
				     .excl = &image,
				     .nexcl = 1};
	struct sh_boot_result res;
	struct sh_memmap map;
	const char *loader;
	int rc;
	bool ok = true;

	serial_init();
	print_line("");
	print_line("slotheap example payload");
	sh_memmap_init(&map, ranges, MAP_CAP);
	if (magic == SH_MB1_MAGIC && cmdline_has(info, "slotheap.cbsim")) {
		if (!write_coreboot_tables(info)) {
			print_line("cbsim: could not write the coreboot tables");
			finish(false);
		}
		loader = "coreboot";
		sh_memmap_init(&map, ranges, MAP_CAP);
		rc = sh_boot_coreboot(&heap, &cfg, &map, &res);
	} else if (magic == SH_MB1_MAGIC) {
		loader = "multiboot1";
		rc = sh_boot_multiboot1(&heap, magic, info, &cfg, &map, &res);
	} else if (magic == SH_MB2_MAGIC) {
		loader = "multiboot2";
		rc = sh_boot_multiboot2(&heap, magic, info, &cfg, &map, &res);
	} else {
		puts_raw("unknown loader magic ");
		put_hex(magic, 8);
		print_line("");
		finish(false);
	}

	puts_raw("loader: ");
	print_line(loader);
	print_map("map: ", &map);
	for (size_t i = 0; i < res.nloader; i++) {
		puts_raw("loader-data: ");
		put_range(res.loader[i].start, res.loader[i].end);
		print_line("");
	}
	puts_raw("image: ");
	put_range(image.start, image.end);
	print_line("");
	puts_raw("options: ");
	put_dec((uint32_t)(res.options < 0 ? 0 : res.options));
	print_line(res.options < 0 ? " (malformed option)" : " applied");
	puts_raw("boot: ");
	print_line(sh_strerror(rc));
	if (res.have_static) {
		puts_raw("static: ");
		put_range((uintptr_t)static_heap, (uintptr_t)static_heap + sizeof(static_heap));
		print_line("");
	}
	if (!res.have_extended) {
		puts_raw("heap: none (");
		puts_raw(sh_strerror(res.extended_error));
		print_line(")");
		ok = false;
	} else {
		struct sh_region_info ri;
		sh_region_info(&heap, res.extended_region, &ri);
		puts_raw("heap: ");
		put_range(res.place.start, res.place.end);
		puts_raw(" slots ");
		put_dec((uint32_t)ri.nslots);
		puts_raw(" limit ");
		put_hex(res.limit, 16);
		print_line("");
		puts_raw("heap-ram: ");
		put_range(res.place.ram_start, res.place.ram_end);
		print_line("");
	}
	if (rc != 0)
		ok = false;

	/* The libpayload calls over this heap, with a DMA region of its own (in the image,
	 * where a real payload would use memory its devices can reach uncached). */
	sh_lp_attach(&heap);
	void *dma_base = dma_pool;
	init_dma_memory(dma_base, DMA_BYTES);
	void *d = dma_memalign(64, 1000), *n = malloc(1000);
	bool lp_ok = dma_initialized() && d != NULL && n != NULL && dma_coherent(d) &&
		     !dma_coherent(n) && ((uintptr_t)d & 63) == 0;
	free(d);
	free(n);
	puts_raw("libpayload: dma ");
	put_range((uintptr_t)dma_base, (uintptr_t)dma_base + DMA_BYTES);
	print_line(lp_ok ? " ok" : " FAILED");
	ok = ok && lp_ok;

	/* The allocation self-test over every region (static, extended and DMA). */
	if (sh_selftest_run(&heap, PAYLOAD_SELFTEST_SEED, PAYLOAD_SELFTEST_OPS, print_line) !=
	    0)
		ok = false;

	/* Child table: the heap and the static region reserved, written as a coreboot table. */
	struct sh_memmap child;
	struct sh_mem_range extra = {(uintptr_t)static_heap,
				     (uintptr_t)static_heap + sizeof(static_heap),
				     SH_MEM_RESERVED};
	size_t clen = 0;
	sh_memmap_init(&child, child_ranges, MAP_CAP + 4);
	rc = sh_boot_child_map(&map, &res, &extra, 1, &child);
	if (rc == 0)
		rc = sh_memmap_emit(SH_FMT_CBTABLE, &child, child_table, sizeof(child_table),
				    &clen);
	print_map("child: ", &child);
	bool child_ok =
		rc == 0 && (!res.have_extended ||
			    (sh_memmap_type_at(&child, res.place.start) == SH_MEM_RESERVED &&
			     sh_memmap_type_at(&child, res.place.end - 1) == SH_MEM_RESERVED));
	puts_raw("child-table: ");
	put_dec((uint32_t)clen);
	puts_raw(" bytes, heap reserved: ");
	print_line(child_ok ? "yes" : "NO");
	ok = ok && child_ok;

	struct sh_stats st;
	sh_stats(&heap, &st);
	puts_raw("stats: live ");
	put_dec((uint32_t)st.live_blocks);
	puts_raw(" free-bytes ");
	put_dec((uint32_t)st.free_bytes);
	puts_raw(" largest ");
	put_dec((uint32_t)st.largest_free);
	puts_raw(" misuse ");
	put_dec((uint32_t)st.misuse);
	print_line("");
	finish(ok && sh_check(&heap, NULL) == 0);
}
