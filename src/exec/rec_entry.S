/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_entry.S - entry from a rewritten syscall site's stub into the static
 * recorder (rec.c).  As src/lib/raw_entry.S, but this thread's area is found
 * through %gs (the area's first word points to itself) instead of TLS.
 *
 * In: %r11 = where to go back to in the stub; the syscall's registers (pre)
 * or %rax = its result (post).  %rcx is scratch.  Nothing is written to the
 * program's stack; every register but %rax/%rcx/%r11 comes back as it was,
 * SSE state included, except argument registers the C side rewrote on
 * purpose (an exec redirected to the launcher).
 */
#include "rec.h"

/* The table the launcher reads: where things are in this image. */
	.section .text.entry, "ax"
	.globl	spx_table
spx_table:
	.quad	spx_conf - spx_table
	.quad	spx_entry_pre - spx_table
	.quad	spx_entry_post - spx_table
	.quad	spx_child_entry - spx_table
	.quad	spx_start - spx_table

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
	.globl	spx_entry_pre
	.type	spx_entry_pre, @function
	.p2align 4
spx_entry_pre:
	movq	%gs:0, %rcx
	cmpq	$0, SPX_A_BUSY(%rcx)
	jne	.Lbusy
	movq	$1, SPX_A_BUSY(%rcx)
	movq	%rsp, SPX_A_RSP(%rcx)
	movq	%r11, SPX_A_RET(%rcx)
	leaq	SPX_AREA_SIZE(%rcx), %rsp
	SAVE
	movq	%rsp, %rdi
	cld
	call	spx_pre
	movl	%eax, %r11d
	RESTORE
	movq	%gs:0, %rcx
	movq	SPX_A_RSP(%rcx), %rsp		/* off the area's stack */
	testl	%r11d, %r11d
	jz	1f
	movq	$0, SPX_A_BUSY(%rcx)		/* PASS, CLONEVM: not held across */
	testl	$4, %r11d
	jnz	.Lfree
1:	shlq	$2, %r11
	addq	SPX_A_RET(%rcx), %r11
	jmp	*%r11
.Lbusy:
	addq	$4 * SPX_ACT_PASS, %r11
	jmp	*%r11
	/* A thread's exit(2): the area goes back to the pool.  Nothing of it
	 * may be read once its bit is clear. */
.Lfree:
	movq	SPX_A_RET(%rcx), %r11
	addq	$4 * SPX_ACT_PASS, %r11
	movq	SPX_A_INDEX(%rcx), %rcx
	lock btrq %rcx, spx_conf+SPX_C_USED(%rip)
	jmp	*%r11
	.size	spx_entry_pre, .-spx_entry_pre

	.globl	spx_entry_post
	.type	spx_entry_post, @function
	.p2align 4
spx_entry_post:
	movq	%gs:0, %rcx
	movq	$1, SPX_A_BUSY(%rcx)
	movq	%rsp, SPX_A_RSP(%rcx)
	movq	%r11, SPX_A_RET(%rcx)
	leaq	SPX_AREA_SIZE(%rcx), %rsp
	SAVE
	movq	%rsp, %rdi
	cld
	call	spx_post
	RESTORE
	movq	%gs:0, %rcx
	movq	SPX_A_RSP(%rcx), %rsp
	movq	$0, SPX_A_BUSY(%rcx)
	movq	SPX_A_RET(%rcx), %r11
	jmp	*%r11
	.size	spx_entry_post, .-spx_entry_post

/*
 * The child of a clone that shares memory or gets a new stack, right after
 * the syscall: %rax = 0, %r11 = where the stub goes on, %gs still the
 * parent's area.  Take a free area (lock bts on conf.used; none left: area
 * 0, which records nothing), point %gs at it, then let C note the child.
 */
	.globl	spx_child_entry
	.type	spx_child_entry, @function
	.p2align 4
spx_child_entry:
	leaq	spx_conf+SPX_C_USED(%rip), %rcx
	movl	$1, %eax
1:	lock btsq %rax, (%rcx)
	jnc	2f
	incq	%rax
	cmpq	$SPX_NAREAS, %rax
	jb	1b
	xorl	%eax, %eax
2:	shlq	$SPX_AREA_SHIFT, %rax
	addq	spx_conf+SPX_C_AREAS(%rip), %rax
	testq	%rax, %rax
	jz	.Lnoarea
	movq	%gs:0, %rcx
	movq	%rcx, SPX_A_PARENT(%rax)
	movq	%r11, SPX_A_RET(%rax)
	movq	%rdi, SPX_A_SAVE+0(%rax)
	movq	%rsi, SPX_A_SAVE+8(%rax)
	movq	%rax, SPX_A_SELF(%rax)
	cmpl	$0, spx_conf+SPX_C_FSGSBASE(%rip)
	je	3f
	wrgsbase %rax
	jmp	4f
3:	movq	%rax, %rsi
	movl	$0x1001, %edi			/* ARCH_SET_GS */
	movl	$158, %eax			/* arch_prctl */
	syscall
4:	movq	%gs:0, %rcx
	movq	SPX_A_SAVE+0(%rcx), %rdi
	movq	SPX_A_SAVE+8(%rcx), %rsi
	cmpq	spx_conf+SPX_C_AREAS(%rip), %rcx
	je	5f				/* area 0: no stack of its own to share */
	movq	$1, SPX_A_BUSY(%rcx)
	movq	%rsp, SPX_A_RSP(%rcx)
	leaq	SPX_AREA_SIZE(%rcx), %rsp
	xorl	%eax, %eax
	SAVE
	movq	%gs:0, %rdi
	cld
	call	spx_child
	RESTORE
	movq	%gs:0, %rcx
	movq	SPX_A_RSP(%rcx), %rsp
	movq	$0, SPX_A_BUSY(%rcx)
5:	movq	SPX_A_RET(%rcx), %r11
	xorl	%eax, %eax
	jmp	*%r11
.Lnoarea:
	xorl	%eax, %eax
	jmp	*%r11
	.size	spx_child_entry, .-spx_child_entry

	.section .note.GNU-stack,"",@progbits
