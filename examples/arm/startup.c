/* SPDX-License-Identifier: MIT */
/*
 * Start-up for a Cortex-M image: the vector table, a reset handler that copies .data, clears
 * .bss and calls main, fault handlers that report and stop, semihosting output and exit
 * (QEMU with -semihosting-config enable=on), and the memset/memcpy/memmove the compiler may
 * call on its own. No C library.
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

int main(void);
void reset_handler(void);

/* Semihosting: operation in r0, argument in r1, trap with BKPT 0xAB (ARMv7-M). */
static uintptr_t semihost(uintptr_t op, uintptr_t arg)
{
	register uintptr_t r0 __asm__("r0") = op;
	register uintptr_t r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

#define SYS_WRITE0 0x04u
#define SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u /* QEMU exits with status 0 */
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u    /* QEMU exits with status 1 */

void board_puts(const char *s)
{
	semihost(SYS_WRITE0, (uintptr_t)s);
}

void board_exit(int status)
{
	semihost(SYS_EXIT,
		 status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR);
	for (;;)
		__asm__ volatile("wfi");
}

static void fault_handler(void)
{
	board_puts("arm-selftest: FAIL: processor fault\n");
	board_exit(1);
}

void reset_handler(void)
{
	uint32_t *d = __data_start;
	const uint32_t *s = __data_load;

	while (d < __data_end) {
		*d++ = *s++;
		__asm__ volatile("" ::: "memory");
	}
	for (d = __bss_start; d < __bss_end; d++) {
		*d = 0;
		__asm__ volatile("" ::: "memory");
	}
	board_exit(main());
}

/* Initial stack pointer, reset, NMI, HardFault, MemManage, BusFault, UsageFault. */
__attribute__((section(".vectors"), used)) static void (*const vectors[])(void) = {
	(void (*)(void))(uintptr_t)__stack_top,
	reset_handler,
	fault_handler,
	fault_handler,
	fault_handler,
	fault_handler,
	fault_handler,
};

/* The empty asm keeps these loops from being turned back into calls to themselves. */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++) {
		d[i] = (unsigned char)c;
		__asm__ volatile("" ::: "memory");
	}
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s) {
		for (size_t i = 0; i < n; i++) {
			d[i] = s[i];
			__asm__ volatile("" ::: "memory");
		}
	} else {
		for (size_t i = n; i > 0; i--) {
			d[i - 1] = s[i - 1];
			__asm__ volatile("" ::: "memory");
		}
	}
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	return memmove(dst, src, n);
}
