/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_proc.c - process creation and exit: fork, vfork (with entry.S),
 * glibc's clone wrapper, exit/_exit/_Exit, and syscall() for the numbers
 * startpath records (entry.S filters the rest out before any C runs).
 *
 * A child that gets its own copy of memory (fork, clone without CLONE_VM)
 * opens its own ring (sp_child_init).  A child that shares our memory
 * (vfork, CLONE_VM) must not touch process state: it only marks the shared
 * per-thread block so its records carry its own pid and tid.
 */
#include "internal.h"

#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/mount.h>

/* The first fields of struct clone_args (linux/sched.h), all __u64. */
struct clone3_head {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack;
};

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

extern char **environ;

SP_EXPORT pid_t fork(void)
{
	struct sp_frame c;
	pid_t pid;

	sp_enter(&c, SP_C_FORK, SP_SRC_LIBC, NULL, 0, 0, 0, 0);
	pid = REAL(fork)();
	if (pid == 0)
		return 0; /* pthread_atfork gave the child its ring */
	sp_exit(&c, pid, errno, pid > 0 ? (uint64_t)pid : 0);
	return pid;
}

/* ---- vfork: the register juggling is in entry.S ---- */

SP_HIDDEN void sp_vfork_pre(void)
{
	struct sp_frame c;

	sp_t.vfork_callid = 0;
	if (sp_enter(&c, SP_C_VFORK, SP_SRC_LIBC, NULL, 0, 0, 0, 0))
		sp_t.vfork_callid = c.callid;
}

SP_HIDDEN long sp_vfork_post(long rv)
{
	struct sp_frame c;

	if (rv == 0) {
		/* Child, on the parent's stack and TLS: flag, nothing else. */
		sp_t.shared = 1;
		return 0;
	}
	sp_t.shared = 0;
	c.on = sp_t.vfork_callid != 0;
	c.call = SP_C_VFORK;
	c.src = SP_SRC_LIBC;
	c.callid = sp_t.vfork_callid;
	if (rv < 0) {
		sp_exit(&c, -1, (int)-rv, 0);
		return -1;
	}
	sp_exit(&c, rv, errno, (uint64_t)rv);
	return rv;
}

/* ---- glibc's clone(fn, stack, flags, arg, ...) ---- */

struct clone_tramp {
	int (*fn)(void *);
	void *arg;
	long flags;
};

static int clone_child(void *p)
{
	struct clone_tramp *t = p;
	int (*fn)(void *) = t->fn;
	void *arg = t->arg;
	long flags = t->flags;

	if (!(flags & CLONE_VM))
		sp_child_init();
	else if (!(flags & CLONE_SETTLS))
		sp_t.shared = 1;
	return fn(arg);
}

SP_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	struct clone_tramp *t;
	struct sp_frame c;
	va_list ap;
	pid_t *ptid;
	void *tls;
	pid_t *ctid;
	int rc;

	va_start(ap, arg);
	ptid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, pid_t *);
	va_end(ap);
	if (!fn || !stack || !sp_ready())
		return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
	/* The trampoline's data lives at the top of the child's own stack, so
	 * it outlives this frame whatever the child and parent do. */
	t = (struct clone_tramp *)(((uintptr_t)stack - sizeof(*t)) & ~(uintptr_t)15);
	t->fn = fn;
	t->arg = arg;
	t->flags = flags;
	sp_enter(&c, SP_C_CLONE, SP_SRC_LIBC, NULL, 0, (unsigned)flags, 1, 0);
	rc = REAL(clone)(clone_child, t, flags, t, ptid, tls, ctid);
	sp_t.shared = 0;
	sp_exit(&c, rc, errno, rc > 0 ? (uint64_t)rc : 0);
	return rc;
}

/* ---- exit ---- */

SP_EXPORT void exit(int status)
{
	if (sp_ready()) {
		sp_event(SP_K_PEXIT, status, NULL);
		sp_flush_exit();
	}
	REAL(exit)(status);
	__builtin_unreachable();
}

SP_EXPORT void _exit(int status)
{
	if (sp_ready()) {
		sp_event(SP_K_PEXIT, status, NULL);
		sp_flush_exit();
	}
	REAL(_exit)(status);
	__builtin_unreachable();
}

SP_EXPORT void _Exit(int status)
{
	if (sp_ready()) {
		sp_event(SP_K_PEXIT, status, NULL);
		sp_flush_exit();
	}
	REAL(_Exit)(status);
	__builtin_unreachable();
}

/* ---- syscall() ---- */

/* Numbers entry.S sends to sp_syscall_hooked; filled by sp_syscall_setup. */
SP_HIDDEN uint64_t sp_sys_interest[8];

SP_HIDDEN void sp_syscall_setup(void)
{
	static const int nrs[] = {
		SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_clone, SYS_clone3,
		SYS_fork, SYS_execve, SYS_execveat, SYS_unshare, SYS_setns, SYS_fsopen,
		SYS_fsconfig, SYS_fsmount, SYS_move_mount, SYS_open_tree, SYS_mount_setattr,
		SYS_mkdir, SYS_mkdirat, SYS_rename, SYS_renameat, SYS_renameat2, SYS_exit_group,
	};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		__atomic_fetch_or(&sp_sys_interest[nrs[i] / 64], 1ULL << (nrs[i] % 64),
				  __ATOMIC_RELAXED);
}

#define PASS() REAL(syscall)(n, a1, a2, a3, a4, a5, a6)

static long sys_exec(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	char *out[2048];
	char buf[4096];
	struct sp_frame c;
	char *const *env;
	const char *path = (const char *)(n == SYS_execve ? a1 : a2);
	char *const *argv = (char *const *)(n == SYS_execve ? a2 : a3);
	const char *strs[6];
	unsigned argc = sp_exec_strs(path, argv, strs);
	int added;
	long rc;

	env = sp_child_env((char *const *)(n == SYS_execve ? a3 : a4), out, 2048, buf,
			   sizeof(buf), &added);
	sp_enter(&c, n == SYS_execve ? SP_C_EXECVE : SP_C_EXECVEAT, SP_SRC_SYSCALL, strs, 6,
		 argc, (uint64_t)added, n == SYS_execve ? 0 : (uint64_t)a1);
	sp_before_exec();
	if (n == SYS_execve)
		rc = REAL(syscall)(n, a1, a2, (long)env, a4, a5, a6);
	else
		rc = REAL(syscall)(n, a1, a2, a3, (long)env, a5, a6);
	sp_exec_failed();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

/*
 * Called by a jump from entry.S with syscall()'s own arguments (the 7th on
 * the stack, where the caller put it).  Returns what syscall() returns.
 */
SP_HIDDEN long sp_syscall_hooked(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	const uint64_t a[6] = { (uint64_t)a1, (uint64_t)a2, (uint64_t)a3, (uint64_t)a4,
				(uint64_t)a5, (uint64_t)a6 };
	struct sp_sysrec d;
	struct sp_frame c;
	unsigned call;
	uint64_t x0, x1;
	long rc;
	int err;

	if (!sp_ready() || sp_t.busy)
		return PASS();
	if (n == SYS_execve || n == SYS_execveat)
		return sys_exec(n, a1, a2, a3, a4, a5, a6);
	if (n == SYS_exit_group) {
		sp_event(SP_K_PEXIT, a1, NULL);
		return PASS();
	}
	if (sp_sys_decode(n, a, &d) < 0)
		return PASS();
	call = d.call;
	x0 = d.x[0];
	x1 = d.x[1];
	sp_enter(&c, call, SP_SRC_SYSCALL, d.strs, d.nstr, d.x[0], d.x[1], d.x[2]);
	rc = PASS();
	err = errno;
	if (rc == 0 && (call == SP_C_CLONE || call == SP_C_CLONE3 || call == SP_C_FORK)) {
		/* Child with its own memory (entry.S passed CLONE_VM without a
		 * new stack through untouched). */
		if (!(x0 & CLONE_VM))
			sp_child_init();
		else
			sp_t.shared = 1;
		errno = err;
		return 0;
	}
	if (rc == 0 && (call == SP_C_PIVOT_ROOT || call == SP_C_CHROOT ||
			(call == SP_C_SETNS && sp_setns_enters((long)x0, (long)x1))))
		sp_set_contained();
	sp_exit(&c, rc, err,
		rc > 0 && (call == SP_C_CLONE || call == SP_C_CLONE3 || call == SP_C_FORK)
			? (uint64_t)rc : 0);
	return rc;
}
