/* SPDX-License-Identifier: Apache-2.0 */
/*
 * raw_entry.S - entry from a rewritten syscall site's stub into C.
 *
 * In: %r11 = where to go back to in the stub, the syscall's registers as the
 * program set them (pre) or %rax = its result (post).  %rcx is scratch.
 * Nothing is ever written to the program's stack (a goroutine's stack is
 * small and Go's unwinder reads it): this thread's private stack in the TLS
 * area sp_raw is used instead.  A thread already inside (a signal handler
 * interrupting the C hook) gets SP_ACT_PASS.  X15 (Go's zero register),
 * R14 (Go's g) and every other register but %rax/%rcx/%r11 come back as
 * they were, except argument registers the C hook rewrote on purpose
 * (an exec's environment).
 */
#include "raw.h"

.macro AREA
	movq	sp_raw@gottpoff(%rip), %rcx
	addq	%fs:0, %rcx
.endm

.macro SAVE
	pushq	%rax
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%r10
	pushq	%r8
	pushq	%r9
	subq	$264, %rsp
	movdqu	%xmm0, 0(%rsp)
	movdqu	%xmm1, 16(%rsp)
	movdqu	%xmm2, 32(%rsp)
	movdqu	%xmm3, 48(%rsp)
	movdqu	%xmm4, 64(%rsp)
	movdqu	%xmm5, 80(%rsp)
	movdqu	%xmm6, 96(%rsp)
	movdqu	%xmm7, 112(%rsp)
	movdqu	%xmm8, 128(%rsp)
	movdqu	%xmm9, 144(%rsp)
	movdqu	%xmm10, 160(%rsp)
	movdqu	%xmm11, 176(%rsp)
	movdqu	%xmm12, 192(%rsp)
	movdqu	%xmm13, 208(%rsp)
	movdqu	%xmm14, 224(%rsp)
	movdqu	%xmm15, 240(%rsp)
.endm

.macro RESTORE
	movdqu	0(%rsp), %xmm0
	movdqu	16(%rsp), %xmm1
	movdqu	32(%rsp), %xmm2
	movdqu	48(%rsp), %xmm3
	movdqu	64(%rsp), %xmm4
	movdqu	80(%rsp), %xmm5
	movdqu	96(%rsp), %xmm6
	movdqu	112(%rsp), %xmm7
	movdqu	128(%rsp), %xmm8
	movdqu	144(%rsp), %xmm9
	movdqu	160(%rsp), %xmm10
	movdqu	176(%rsp), %xmm11
	movdqu	192(%rsp), %xmm12
	movdqu	208(%rsp), %xmm13
	movdqu	224(%rsp), %xmm14
	movdqu	240(%rsp), %xmm15
	addq	$264, %rsp
	popq	%r9
	popq	%r8
	popq	%r10
	popq	%rdx
	popq	%rsi
	popq	%rdi
	popq	%rax
.endm

	.text
	.globl	sp_raw_entry_pre
	.hidden	sp_raw_entry_pre
	.type	sp_raw_entry_pre, @function
	.p2align 4
sp_raw_entry_pre:
	AREA
	cmpq	$0, SP_RAW_A_BUSY(%rcx)
	jne	.Lbusy
	cmpq	$0, SP_RAW_A_TOP(%rcx)
	je	.Lmap
.Lmapped:
	movq	$1, SP_RAW_A_BUSY(%rcx)
	movq	%rsp, SP_RAW_A_RSP(%rcx)
	movq	%r11, SP_RAW_A_RET(%rcx)
	movq	SP_RAW_A_TOP(%rcx), %rsp
	SAVE
	movq	%rsp, %rdi
	cld
	call	sp_raw_pre
	movl	%eax, %r11d
	RESTORE
	AREA
	testl	%r11d, %r11d
	jz	1f
	movq	$0, SP_RAW_A_BUSY(%rcx)	/* PASS, CLONEVM: not held across */
1:	movq	SP_RAW_A_RSP(%rcx), %rsp
	shlq	$2, %r11
	addq	SP_RAW_A_RET(%rcx), %r11
	jmp	*%r11
.Lbusy:
	addq	$4 * SP_ACT_PASS, %r11
	jmp	*%r11
	/* This thread's first recorded call: map its private stack with a
	 * raw mmap, keeping every register in the TLS area meanwhile. */
.Lmap:
	movq	%rax, SP_RAW_A_SAVE+0(%rcx)
	movq	%rdi, SP_RAW_A_SAVE+8(%rcx)
	movq	%rsi, SP_RAW_A_SAVE+16(%rcx)
	movq	%rdx, SP_RAW_A_SAVE+24(%rcx)
	movq	%r10, SP_RAW_A_SAVE+32(%rcx)
	movq	%r8, SP_RAW_A_SAVE+40(%rcx)
	movq	%r9, SP_RAW_A_SAVE+48(%rcx)
	movq	%r11, SP_RAW_A_SAVE+56(%rcx)
	movl	$9, %eax			/* mmap */
	xorl	%edi, %edi
	movl	$SP_RAW_MAP_SIZE, %esi
	movl	$3, %edx			/* PROT_READ|PROT_WRITE */
	movl	$0x24022, %r10d			/* MAP_PRIVATE|ANONYMOUS|NORESERVE|STACK */
	movq	$-1, %r8
	xorl	%r9d, %r9d
	syscall
	AREA
	cmpq	$-4095, %rax
	jae	1f				/* no memory: pass this call through */
	movq	%rax, SP_RAW_A_BASE(%rcx)
	addq	$SP_RAW_MAP_SIZE, %rax
	movq	%rax, SP_RAW_A_TOP(%rcx)
1:	movq	SP_RAW_A_SAVE+0(%rcx), %rax
	movq	SP_RAW_A_SAVE+8(%rcx), %rdi
	movq	SP_RAW_A_SAVE+16(%rcx), %rsi
	movq	SP_RAW_A_SAVE+24(%rcx), %rdx
	movq	SP_RAW_A_SAVE+32(%rcx), %r10
	movq	SP_RAW_A_SAVE+40(%rcx), %r8
	movq	SP_RAW_A_SAVE+48(%rcx), %r9
	movq	SP_RAW_A_SAVE+56(%rcx), %r11
	cmpq	$0, SP_RAW_A_TOP(%rcx)
	jne	.Lmapped
	jmp	.Lbusy
	.size	sp_raw_entry_pre, .-sp_raw_entry_pre

	.globl	sp_raw_entry_post
	.hidden	sp_raw_entry_post
	.type	sp_raw_entry_post, @function
	.p2align 4
sp_raw_entry_post:
	AREA
	movq	$1, SP_RAW_A_BUSY(%rcx)
	movq	%rsp, SP_RAW_A_RSP(%rcx)
	movq	%r11, SP_RAW_A_RET(%rcx)
	movq	SP_RAW_A_TOP(%rcx), %rsp
	SAVE
	movq	%rsp, %rdi
	cld
	call	sp_raw_post
	RESTORE
	AREA
	movq	$0, SP_RAW_A_BUSY(%rcx)
	movq	SP_RAW_A_RSP(%rcx), %rsp
	movq	SP_RAW_A_RET(%rcx), %r11
	jmp	*%r11
	.size	sp_raw_entry_post, .-sp_raw_entry_post

	.section .note.GNU-stack,"",@progbits
