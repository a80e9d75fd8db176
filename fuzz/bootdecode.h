/* SPDX-License-Identifier: MIT */
/*
 * The boot input format of the boot_differential target: a fake memory table and a boot
 * configuration, then operations in the ops format (opdecode.h). fuzz/README.md documents it.
 *
 * Bytes:
 *   0       table format: 1 + b % 7 (enum sh_mm_format: cbtable, mb1, mb2, e820, e820_24,
 *           cbimage, mb2info)
 *   1-2     extended heap footprint in 4 KiB pages: 1 + u16 % 256 (4 KiB .. 1 MiB)
 *   3-4     extended region slots: 1 + u16 % 1024
 *   5       placement limit: 0 = 4 GiB, 1 = none (2^64 - 1), n = n * 16 MiB
 *   6-7     static region bytes: u16 % 16385, 0 = no static region
 *   8       static region slots (0 = SH_BOOT_STATIC_SLOTS)
 *   9-12    one exclusion: start in 4 KiB pages (u32)
 *   13-14   exclusion length in 4 KiB pages (u16), 0 = no exclusion
 *   15-16   table length (u16), cut to the bytes that remain and to BOOT_MAX_TABLE
 *   17 ...  the table, then operations as in the ops format (at most OPS_MAX_OPS)
 *
 * Text (sh-trace text --boot), then one op per line as in the ops format:
 *   boot format=<cbtable|mb1|mb2|e820|e820_24|cbimage|mb2info> heap=<bytes> slots=<n> limit=<4G|none|bytes>
 *        static=<bytes> static_slots=<n> excl=<start>+<length>
 *   table <hex bytes> ...      (repeated lines are concatenated)
 */
#ifndef BOOTDECODE_H
#define BOOTDECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diffheap.h"
#include "opdecode.h"

#define BOOT_HEADER_BYTES 17
#define BOOT_MAX_TABLE 8192
#define BOOT_NFORMATS 7 /* enum sh_mm_format values 1 .. 7 */
#define BOOT_MAX_HEAP_PAGES 256
#define BOOT_MAX_STATIC 16384
/* Pool for the static region, the extended footprint and alignment slack. */
#define BOOT_POOL_BYTES ((size_t)BOOT_MAX_HEAP_PAGES * 4096 + BOOT_MAX_STATIC + 8192)

struct boot_input {
	uint8_t fmt;
	uint32_t heap_pages;
	uint32_t nslots;
	uint8_t limit;
	uint32_t static_bytes;
	uint8_t static_slots;
	uint32_t excl_page;
	uint32_t excl_pages;
	size_t table_len;
	uint8_t table[BOOT_MAX_TABLE];
};

/* Decodes the boot header and table; returns the bytes used (the ops follow). */
size_t boot_decode(const uint8_t *data, size_t size, struct boot_input *b);
/* Encodes the header and table; returns the length or 0 if cap is too small. */
size_t boot_encode(const struct boot_input *b, uint8_t *out, size_t cap);

/* Text form: boot_format prints the "boot" and "table" lines (with the table's raw entries
 * as comments); boot_parse_line returns 2 for a boot/table line, 0 for other lines, -1 with
 * a message for a bad boot/table line. */
void boot_format(const struct boot_input *b, FILE *f);
int boot_parse_line(const char *line, struct boot_input *b, char *err, size_t errcap);

/*
 * Builds the engine's heap the way a payload would: parses the table, runs sh_boot_init
 * with the static region at the start of the engine's pool and the extended region mapped
 * onto the pool by a translation hook, checks the placement against the reference model
 * (ref/place_ref.h) and the child table against the placement, then hands the regions to
 * the model (dh_adopt). Returns 0 when a heap exists to run operations on, 1 when the input
 * gives no heap (a malformed table and no static region, say), -1 on a failure (reported).
 */
int boot_setup(struct diffheap *d, const struct boot_input *b);

#endif /* BOOTDECODE_H */
