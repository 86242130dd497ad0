/* SPDX-License-Identifier: Apache-2.0 */
/*
 * entry.S - the two hooks that cannot be written in C.
 *
 * vfork: the child runs on the parent's stack until it execs or exits, so no
 * C frame may span the system call.  As glibc does, the return address is
 * kept in a register (%rdi: the kernel keeps it per task) while the call is
 * made; C runs only before it (sp_vfork_pre) and after it (sp_vfork_post),
 * each on a frame of its own.
 *
 * syscall: a filter in front of libc's syscall().  Numbers startpath does not
 * record, and clones that would run a child on our stack (CLONE_VM without a
 * new stack: vfork-style), jump straight to the real function with every
 * register as the caller left it.  The rest jump to sp_syscall_hooked, which
 * sees syscall()'s own arguments.
 */
	.text

	.globl	vfork
	.type	vfork, @function
	.p2align 4
vfork:
	.cfi_startproc
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	call	sp_vfork_pre
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rdi
	movl	$58, %eax		/* SYS_vfork */
	syscall
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rip, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	movq	%rax, %rdi
	call	sp_vfork_post
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	vfork, .-vfork

	.globl	syscall
	.type	syscall, @function
	.p2align 4
syscall:
	.cfi_startproc
	cmpq	$512, %rdi
	jae	.Lpass
	leaq	sp_sys_interest(%rip), %rax
	btq	%rdi, (%rax)
	jnc	.Lpass
	cmpq	$56, %rdi		/* SYS_clone: rsi flags, rdx stack */
	je	.Lclone
	cmpq	$435, %rdi		/* SYS_clone3: rsi struct clone_args * */
	je	.Lclone3
	jmp	sp_syscall_hooked
.Lclone:
	testq	$0x100, %rsi		/* CLONE_VM */
	jz	sp_syscall_hooked
	testq	%rdx, %rdx
	jnz	sp_syscall_hooked
	jmp	.Lpass
.Lclone3:
	testq	%rsi, %rsi
	jz	.Lpass
	cmpq	$48, %rdx
	jb	.Lpass
	testq	$0x100, (%rsi)		/* flags */
	jz	sp_syscall_hooked
	cmpq	$0, 40(%rsi)		/* stack */
	jne	sp_syscall_hooked
.Lpass:
	movq	real_syscall(%rip), %rax
	testq	%rax, %rax
	jz	sp_syscall_hooked	/* not resolved yet: C resolves and passes */
	jmp	*%rax
	.cfi_endproc
	.size	syscall, .-syscall

	.section .note.GNU-stack,"",@progbits
