/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rawsys MODE: system calls made with inline `syscall` instructions in this
 * program's own text, the way Go makes them, so that libstartpath.so must
 * rewrite the sites to see them.  Each mode prints what it did; a run with
 * and without the library must print the same and exit the same.
 *   mount DIR   unshare(CLONE_NEWNS), mount a tmpfs on DIR, umount2
 *   vfork       Go-style vfork: clone(CLONE_VM|CLONE_VFORK) with no new
 *               stack; the child overwrites the stack below, then execs
 *               this program ("leaf") with an empty environment
 *   clonestack  clone(CLONE_VM) onto a new stack; the child exits at once
 *   clone3      fork-style clone3
 *   signal      SIGALRM every 200 us while vfork children sleep before exec;
 *               the handler makes a recorded raw call itself
 *   threads     8 threads x 1000 failing umount2
 *   leaf        exit 0
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* Raw syscalls, each a real instruction in this binary's text (asm
 * functions with .type/.size so startpath finds their bounds). */
long raw6(long nr, long a1, long a2, long a3, long a4, long a5);
__asm__(".text\n.globl raw6\n.type raw6,@function\nraw6:\n"
	"  mov %rdi,%rax\n  mov %rsi,%rdi\n  mov %rdx,%rsi\n  mov %rcx,%rdx\n"
	"  mov %r8,%r10\n  mov %r9,%r8\n  syscall\n  ret\n.size raw6,.-raw6\n");

long raw_umount2(const char *path);
__asm__(".globl raw_umount2\n.type raw_umount2,@function\nraw_umount2:\n"
	"  xor %esi,%esi\n  mov $166,%eax\n  syscall\n  ret\n.size raw_umount2,.-raw_umount2\n");

/* Go's os/exec child: clone(CLONE_VM|CLONE_VFORK|SIGCHLD) on the parent's
 * stack; the child scribbles over the stack below, optionally sleeps
 * (nanosleep(ts)), then execve(path, argv, envp) and exit(127). */
long vfork_exec(const char *path, char **argv, char **envp, const struct timespec *ts);
__asm__(".globl vfork_exec\n.type vfork_exec,@function\nvfork_exec:\n"
	"  push %rbx\n  push %r12\n  push %r13\n  push %r14\n"
	"  mov %rdi,%rbx\n  mov %rsi,%r12\n  mov %rdx,%r13\n  mov %rcx,%r14\n"
	"  mov $0x4111,%edi\n  xor %esi,%esi\n  xor %edx,%edx\n  xor %r10d,%r10d\n"
	"  xor %r8d,%r8d\n  mov $56,%eax\n  syscall\n"
	"  test %rax,%rax\n  jnz 2f\n"
	"  lea -512(%rsp),%rcx\n1: movq $0x5a5a5a5a,(%rcx)\n  add $8,%rcx\n"
	"  cmp %rsp,%rcx\n  jb 1b\n"
	"  test %r14,%r14\n  jz 3f\n  mov %r14,%rdi\n  xor %esi,%esi\n  mov $35,%eax\n  syscall\n"
	"3: mov %rbx,%rdi\n  mov %r12,%rsi\n  mov %r13,%rdx\n  mov $59,%eax\n  syscall\n"
	"  mov $127,%edi\n  mov $231,%eax\n  syscall\n"
	"2: pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n  ret\n"
	".size vfork_exec,.-vfork_exec\n");

/* clone(CLONE_VM|SIGCHLD) onto `stack`; the child exits(0) at once. */
long clone_stack(void *stack);
__asm__(".globl clone_stack\n.type clone_stack,@function\nclone_stack:\n"
	"  mov %rdi,%rsi\n  mov $0x111,%edi\n  xor %edx,%edx\n  xor %r10d,%r10d\n"
	"  xor %r8d,%r8d\n  mov $56,%eax\n  syscall\n"
	"  test %rax,%rax\n  jnz 1f\n"
	"  push $0\n  xor %edi,%edi\n  mov $60,%eax\n  syscall\n"
	"1: ret\n.size clone_stack,.-clone_stack\n");

struct clone_args_min {
	unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
		tls;
};

static char *self;

static int waitok(long pid)
{
	int st;

	return pid > 0 && waitpid((pid_t)pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	int saved = errno;

	(void)sig;
	alarms++;
	raw_umount2("/startpath-rawsys/in-handler");
	errno = saved;
}

static void *thread_main(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < 1000; i++)
		if (raw_umount2("/startpath-rawsys/none") != -ENOENT)
			bad++;
	return (void *)bad;
}

int main(int argc, char **argv)
{
	char *leaf[] = { argv[0], "leaf", NULL };
	char *empty[] = { NULL };
	const char *mode = argc > 1 ? argv[1] : "";

	self = argv[0];
	if (strcmp(mode, "leaf") == 0)
		return 0;
	if (strcmp(mode, "mount") == 0 && argc > 2) {
		long u = raw6(272, 0x20000, 0, 0, 0, 0); /* unshare(CLONE_NEWNS) */
		long p = raw6(165, 0, (long)"/", 0, 0x4000 | 0x40000, 0); /* MS_REC|MS_PRIVATE */
		long m = raw6(165, (long)"sptmp", (long)argv[2], (long)"tmpfs", 0, (long)"size=1m");
		long x = raw6(166, (long)argv[2], 0, 0, 0, 0);

		printf("unshare=%ld private=%ld mount=%ld umount2=%ld\n", u, p, m, x);
		return u || p || m || x;
	}
	if (strcmp(mode, "vfork") == 0) {
		int ok = 1;

		for (int i = 0; i < 5; i++)
			ok &= waitok(vfork_exec(self, leaf, empty, NULL));
		printf("vfork ok=%d\n", ok);
		return !ok;
	}
	if (strcmp(mode, "clonestack") == 0) {
		int ok = 1;
		char *stk = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		for (int i = 0; i < 5; i++)
			ok &= waitok(clone_stack(stk + 65536 - 64));
		printf("clonestack ok=%d\n", ok);
		return !ok;
	}
	if (strcmp(mode, "clone3") == 0) {
		struct clone_args_min ca;
		long pid;

		memset(&ca, 0, sizeof(ca));
		ca.exit_signal = SIGCHLD;
		pid = raw6(435, (long)&ca, sizeof(ca), 0, 0, 0);
		if (pid == 0)
			_exit(0);
		printf("clone3 ok=%d\n", waitok(pid));
		return 0;
	}
	if (strcmp(mode, "signal") == 0) {
		struct sigaction sa;
		struct itimerval it = { { 0, 200 }, { 0, 200 } };
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		int ok = 1;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_alarm;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
		for (int i = 0; i < 5; i++)
			ok &= waitok(vfork_exec(self, leaf, empty, &ts));
		it.it_value.tv_usec = it.it_interval.tv_usec = 0;
		setitimer(ITIMER_REAL, &it, NULL);
		printf("signal ok=%d alarms>0=%d\n", ok, alarms > 0);
		return !ok;
	}
	if (strcmp(mode, "threads") == 0) {
		pthread_t th[8];
		long bad = 0;

		for (int i = 0; i < 8; i++)
			pthread_create(&th[i], NULL, thread_main, NULL);
		for (int i = 0; i < 8; i++) {
			void *r;

			pthread_join(th[i], &r);
			bad += (long)r;
		}
		printf("threads bad=%ld\n", bad);
		return bad != 0;
	}
	fprintf(stderr, "usage: rawsys mount DIR|vfork|clonestack|clone3|signal|threads\n");
	return 2;
}
