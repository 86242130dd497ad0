/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sys.h - a raw system call: no libc, no errno (the result is -errno).
 * What the library's hooks, the launcher's loader, the recorder, the patch
 * and the directory checks use where libc must not be called (before it is
 * initialised, inside a static program, in a vfork child, without touching
 * errno).
 */
#ifndef SP_SYS_H
#define SP_SYS_H

static inline long sp_sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
