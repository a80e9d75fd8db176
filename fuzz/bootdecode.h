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
 * Optional options section, after the operations: the first BOOT_OPTS_MARKER after the
 * table ends the operations and starts it (inputs without the marker have no options and
 * decode as they always did):
 *   marker  BOOT_OPTS_MARKER_LEN bytes "\xffopts\xff"
 *   flags   bit 0: the heap size starts at 0 (SH_DEFAULT_HEAP_SIZE) instead of heap=,
 *           bit 1: the slot count starts at 0 (SH_DEFAULT_SLOTS) instead of slots=;
 *           other bits are ignored (a missing flags byte reads as 0)
 *   text    the rest of the input, at most BOOT_MAX_OPTS bytes (any bytes), given to
 *           sh_boot_options before sh_boot_init
 *
 * Text (sh-trace text --boot), then one op per line as in the ops format:
 *   boot format=<cbtable|mb1|mb2|e820|e820_24|cbimage|mb2info> heap=<bytes> slots=<n> limit=<4G|none|bytes>
 *        static=<bytes> static_slots=<n> excl=<start>+<length>
 *   table <hex bytes> ...      (repeated lines are concatenated)
 *   options [default-size] [default-slots] "<text>"
 *                              (C-like escapes \\ \" \t \n \r \xNN; repeated lines are
 *                              concatenated, the flags taken from any of them)
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
#define BOOT_OPTS_MARKER "\xffopts\xff"
#define BOOT_OPTS_MARKER_LEN 6
#define BOOT_MAX_OPTS 1024
#define BOOT_OPTS_DEFAULT_SIZE 1u  /* flags: heap size starts at 0 */
#define BOOT_OPTS_DEFAULT_SLOTS 2u /* flags: slot count starts at 0 */

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
	bool has_opts; /* an options section: sh_boot_options runs on opts[0 .. opts_len) */
	uint8_t opts_flags;
	size_t opts_len;
	char opts[BOOT_MAX_OPTS];
};

/* Decodes the boot header, the table and the options section; returns the bytes of header
 * and table (the ops follow, boot_ops_bytes of them). */
size_t boot_decode(const uint8_t *data, size_t size, struct boot_input *b);
/* Bytes of operations that follow the used bytes of header and table: up to the options
 * marker, or to the end of the input. */
size_t boot_ops_bytes(const uint8_t *data, size_t size, size_t used);
/* Encodes the header and table; returns the length or 0 if cap is too small. */
size_t boot_encode(const struct boot_input *b, uint8_t *out, size_t cap);
/* Encodes the options section (nothing without one), to follow the operations; returns its
 * length, or (size_t)-1 if cap is too small. */
size_t boot_encode_opts(const struct boot_input *b, uint8_t *out, size_t cap);

/* Text form: boot_format prints the "boot" and "table" lines (with the table's raw entries
 * as comments); boot_parse_line returns 2 for a boot/table line, 0 for other lines, -1 with
 * a message for a bad boot/table line. */
void boot_format(const struct boot_input *b, FILE *f);
int boot_parse_line(const char *line, struct boot_input *b, char *err, size_t errcap);

/*
 * Builds the engine's heap the way a payload would: parses the table, applies the options
 * (sh_boot_options, checked against bootopts_model), runs sh_boot_init
 * with the static region at the start of the engine's pool and the extended region mapped
 * onto the pool by a translation hook, checks the placement against the reference model
 * (ref/place_ref.h) and the child table against the placement, then hands the regions to
 * the model (dh_adopt). Returns 0 when a heap exists to run operations on, 1 when the input
 * gives no heap (a malformed table and no static region, say), -1 on a failure (reported).
 */
int boot_setup(struct diffheap *d, const struct boot_input *b);

/*
 * The model of sh_boot_options (fuzz/bootopts_model.c; the grammar is in its header comment):
 * what sh_boot_options(s, len, cfg) returns and leaves in cfg->heap_size and cfg->nslots when
 * they held heap_size and nslots before. The words that decided are given as offsets into s
 * for reports: word_* the malformed one (rc -1), size_* and slots_* the last applied option
 * of each kind (length 0: none).
 */
struct bootopts_want {
	int rc;
	uint64_t heap_size;
	size_t nslots;
	size_t word_at, word_len;
	size_t size_at, size_len;
	size_t slots_at, slots_len;
};
void bootopts_model(const char *s, size_t len, uint64_t heap_size, size_t nslots,
		    struct bootopts_want *want);

#endif /* BOOTDECODE_H */
