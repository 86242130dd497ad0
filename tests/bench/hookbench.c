/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hookbench - ns per call of hooked functions; run once plain and once with
 * libstartpath.so preloaded (scripts/bench.sh alternates the two).
 * Prints "name ns" lines: the best of 7 rounds of N calls each.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A raw syscall site in this binary's own text, like Go's Syscall6: under
 * the library it is rewritten to pass through the raw-syscall filter. */
long raw6(long nr, long a1, long a2, long a3, long a4, long a5);
__asm__(".text\n.globl raw6\n.type raw6,@function\nraw6:\n"
	"  mov %rdi,%rax\n  mov %rsi,%rdi\n  mov %rdx,%rsi\n  mov %rcx,%rdx\n"
	"  mov %r8,%r10\n  mov %r9,%r8\n  syscall\n  ret\n.size raw6,.-raw6\n");

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define BENCH(name, n, expr) do { \
	double best = 1e18; \
	for (int r = 0; r < 15; r++) { \
		double t0 = now(); \
		for (long i = 0; i < (n); i++) \
			expr; \
		double t = (now() - t0) / (n); \
		if (t < best) \
			best = t; \
	} \
	printf("%-34s %8.1f\n", name, best); \
} while (0)

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;

	if (n <= 0) /* execbench's target: start, exit */
		return 0;

	/* Recorded: a failing umount2 (ENOENT) is a real, cheap syscall. */
	BENCH("umount2 (libc hook, recorded)", n, umount2("/startpath-bench/none", 0));
	BENCH("syscall(SYS_umount2) (recorded)", n,
	      syscall(SYS_umount2, "/startpath-bench/none", 0));
	/* Hooked but not recorded: mkdir outside the snapshot prefixes. */
	BENCH("mkdir (hook, prefix check only)", n, mkdir("/startpath-bench/none/x", 0755));
	/* Not hooked by number: the syscall() filter passes it through. */
	BENCH("syscall(SYS_getppid) (filtered)", n, syscall(SYS_getppid));
	BENCH("getppid (not hooked)", n, getppid());
	/* The rewritten site: getppid is filtered out (not recorded), umount2
	 * is recorded (enter and exit). */
	BENCH("raw site getppid (unrecorded)", n, raw6(SYS_getppid, 0, 0, 0, 0, 0));
	BENCH("raw site umount2 (recorded)", n,
	      raw6(SYS_umount2, (long)"/startpath-bench/none", 0, 0, 0, 0));
	return 0;
}
