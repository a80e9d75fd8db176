/* SPDX-License-Identifier: MIT */
/* What startup.c gives the self-test image: console output and exit, through semihosting. */
#ifndef SH_ARM_BOARD_H
#define SH_ARM_BOARD_H

#include <stddef.h>

/* Writes a NUL-terminated string to the host's console. */
void board_puts(const char *s);
/* Ends the run: QEMU exits with status 0 for status 0, else 1. Does not return. */
_Noreturn void board_exit(int status);

/* The compiler may emit calls to these even in freestanding code. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);

#endif /* SH_ARM_BOARD_H */
