/* SPDX-License-Identifier: MIT */
/*
 * Self-test image for bare-metal ARM (Cortex-M3 on QEMU's mps2-an385): a heap of two regions,
 * a static one in .bss and the RAM between the end of .bss and the stack, then the
 * allocation self-test of examples/selftest/. Prints the regions, the self-test's report and
 * a last line "arm-selftest: PASS" or "arm-selftest: FAIL ..."; QEMU's exit status is 0
 * only on PASS. Built with -DSELFTEST_BREAK_HEAP, the image damages one heap counter before
 * the run, so that make check-arm can see the FAIL path end the run with status 1.
 */
#include "board.h"
#include "selftest.h"

#ifndef SELFTEST_SEED
#define SELFTEST_SEED 20261206ul
#endif
#ifndef SELFTEST_OPS
#define SELFTEST_OPS 4000u
#endif

extern unsigned char __heap_start[], __heap_end[];

static struct sh_heap heap;
static unsigned char static_region[64 << 10] __attribute__((aligned(16)));

static char *put_u(char *p, unsigned long v)
{
	char t[12];
	unsigned k = 0;

	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*p++ = t[--k];
	return p;
}

static char *put_x(char *p, unsigned long v)
{
	*p++ = '0';
	*p++ = 'x';
	for (int s = 28; s >= 0; s -= 4)
		*p++ = "0123456789abcdef"[(v >> s) & 0xf];
	return p;
}

static char *put_s(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static void print_line(const char *s)
{
	board_puts(s);
	board_puts("\n");
}

static void print_region(unsigned idx)
{
	struct sh_region_info ri;
	char line[96], *p = line;

	if (sh_region_info(&heap, idx, &ri) != 0)
		return;
	p = put_s(p, "arm-selftest: region ");
	p = put_u(p, idx);
	p = put_s(p, " at ");
	p = put_x(p, (unsigned long)(uintptr_t)ri.base);
	p = put_s(p, ", ");
	p = put_u(p, ri.size);
	p = put_s(p, " bytes, arena ");
	p = put_u(p, ri.arena_size);
	p = put_s(p, " bytes, ");
	p = put_u(p, ri.nslots);
	p = put_s(p, " slots");
	*p = '\0';
	print_line(line);
}

static int fail(const char *what, int code)
{
	char line[96], *p = line;

	p = put_s(p, "arm-selftest: FAIL: ");
	p = put_s(p, what);
	p = put_s(p, ": ");
	p = put_s(p, sh_strerror(code));
	*p = '\0';
	print_line(line);
	return 1;
}

int main(void)
{
	size_t ext = (size_t)(__heap_end - __heap_start);
	int rc;

	print_line("arm-selftest: slotheap on a Cortex-M3 (mps2-an385)");
	sh_init(&heap);
	rc = sh_add_region(&heap, static_region, sizeof(static_region), 64);
	if (rc != SH_OK)
		return fail("static region", rc);
	rc = sh_add_region(&heap, __heap_start, ext, SH_DEFAULT_SLOTS);
	if (rc != SH_OK)
		return fail("RAM region", rc);
	print_region(0);
	print_region(1);
#ifdef SELFTEST_BREAK_HEAP
	print_line("arm-selftest: breaking the heap on purpose (SELFTEST_BREAK_HEAP)");
	heap.region[1].nlive++;
#endif
	rc = sh_selftest_run(&heap, SELFTEST_SEED, SELFTEST_OPS, print_line);
	print_line(rc == 0 ? "arm-selftest: PASS"
			   : "arm-selftest: FAIL (see the selftest line)");
	return rc == 0 ? 0 : 1;
}
