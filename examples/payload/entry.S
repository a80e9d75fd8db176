/* SPDX-License-Identifier: MIT */
/*
 * Entry of the example payload: a multiboot v1 header (QEMU's -kernel, GRUB's "multiboot")
 * and a multiboot2 header (GRUB's "multiboot2") in one 32-bit image. Either loader enters
 * _start in 32-bit protected mode, flat segments, paging off, EAX = its magic number,
 * EBX = the physical address of its information block.
 */
	.section .multiboot, "a"
	.balign 4
mb1_header:
	.long 0x1BADB002		/* magic */
	.long 0x00000003		/* flags: modules page aligned, memory information */
	.long 0x100000000 - (0x1BADB002 + 0x00000003) /* checksum */

	.balign 8
mb2_header:
	.long 0xE85250D6		/* magic */
	.long 0			/* architecture: i386 protected mode */
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (0xE85250D6 + 0 + (mb2_header_end - mb2_header))
	.balign 8
	.short 0, 0			/* end tag */
	.long 8
mb2_header_end:

	.text
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movl $payload_stack_top, %esp
	pushl %ebx			/* info */
	pushl %eax			/* magic */
	call payload_main
1:	hlt
	jmp 1b

	.bss
	.balign 16
	.space 65536
payload_stack_top:

	.section .note.GNU-stack, "", @progbits
