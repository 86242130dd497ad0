/* SPDX-License-Identifier: Apache-2.0 */
/*
 * raw.c - the C side of raw syscall capture: what a rewritten syscall site
 * records before (sp_raw_pre) and after (sp_raw_post) the kernel runs it.
 * Runs on the thread's private stack (raw_entry.S) with the program's
 * registers saved in *r; everything it records goes through the same
 * sp_enter/sp_exit as the libc hooks, with src = SP_SRC_RAW.
 *
 * vfork-style clones (CLONE_VM without a new stack, as Go's os/exec makes
 * them): the child runs on the parent's stack and TLS until it execs, so
 * pre keeps what the parent's post needs in sp_raw.vfork (not on any
 * stack), marks the TLS as shared, and lets the child's own calls record;
 * the child leaves the stub without entering C.
 */
#include "raw.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>

SP_HIDDEN __thread struct sp_raw_area sp_raw __attribute__((tls_model("initial-exec")));
SP_HIDDEN uint64_t sp_raw_interest[8];

_Static_assert(offsetof(struct sp_raw_area, busy) == SP_RAW_A_BUSY, "busy");
_Static_assert(offsetof(struct sp_raw_area, saved_rsp) == SP_RAW_A_RSP, "rsp");
_Static_assert(offsetof(struct sp_raw_area, ret) == SP_RAW_A_RET, "ret");
_Static_assert(offsetof(struct sp_raw_area, top) == SP_RAW_A_TOP, "top");
_Static_assert(offsetof(struct sp_raw_area, base) == SP_RAW_A_BASE, "base");
_Static_assert(offsetof(struct sp_raw_area, save) == SP_RAW_A_SAVE, "save");
_Static_assert(offsetof(struct sp_raw_regs, r9) == 264, "regs");

/* Environment buffers for a raw exec, at the bottom of the thread's private
 * mapping: the envp handed to the kernel must outlive the C hook, and a
 * vfork child must not allocate. */
#define RAW_ENV_MAX 2048
#define RAW_ENVBUF (8 * 1024)
#define RAW_ARGV_MAX 1024
#define RAW_ARGV_OFF (RAW_ENV_MAX * sizeof(char *) + RAW_ENVBUF)
#define RAW_FDBUF_OFF (RAW_ARGV_OFF + RAW_ARGV_MAX * sizeof(char *))
_Static_assert(RAW_FDBUF_OFF + 56 <= SP_RAW_ENV_AREA, "raw exec buffers");

static pthread_key_t stack_key;
static int stack_key_ok;

/* Thread exit: give the private mapping back. */
static void stack_free(void *base)
{
	if (base)
		munmap(base, SP_RAW_MAP_SIZE);
}

void sp_raw_init_keys(void)
{
	stack_key_ok = pthread_key_create(&stack_key, stack_free) == 0;
}

static int openat_state;

void sp_raw_openat_watch(int state)
{
	uint64_t bit = 1ULL << (SYS_openat % 64);

	__atomic_store_n(&openat_state, state, __ATOMIC_RELAXED);
	if (state != SP_OW_OFF)
		__atomic_fetch_or(&sp_raw_interest[SYS_openat / 64], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&sp_raw_interest[SYS_openat / 64], ~bit, __ATOMIC_RELAXED);
}

static int is_clone(unsigned call)
{
	return call == SP_C_CLONE || call == SP_C_CLONE3 || call == SP_C_FORK ||
	       call == SP_C_VFORK;
}

static int raw_exec(struct sp_raw_regs *r, struct sp_raw_inflight *in)
{
	int at = r->rax == SYS_execveat;
	const char *path = (const char *)(at ? r->rsi : r->rdi);
	char *const *argv = (char *const *)(at ? r->rdx : r->rsi);
	char *const *envp = (char *const *)(at ? r->r10 : r->rdx);
	char *const *env;
	const char *strs[6];
	unsigned argc = sp_exec_strs(path, argv, strs);
	int added;

	char **raw_env = (char **)sp_raw.base;
	char *raw_envbuf = (char *)sp_raw.base + RAW_ENV_MAX * sizeof(char *);

	env = sp_child_env(envp, raw_env, RAW_ENV_MAX, raw_envbuf, RAW_ENVBUF, &added);
	if (env != envp) {
		if (at)
			r->r10 = (uint64_t)env;
		else
			r->rdx = (uint64_t)env;
	}
	sp_enter(&in->f, at ? SP_C_EXECVEAT : SP_C_EXECVE, SP_SRC_RAW, strs, 6, argc,
		 (uint64_t)added, at ? r->rdi : 0);
	sp_before_exec();
	/* A static program: through startpath-exec (an execve of it). */
	in->exec_fd = -1;
	if (in->f.on) {
		int fd = sp_static_target(at ? (int)r->rdi : AT_FDCWD, path, at ? (int)r->r8 : 0);
		char **largv = (char **)((char *)sp_raw.base + RAW_ARGV_OFF);
		char *fdbuf = (char *)sp_raw.base + RAW_FDBUF_OFF;
		char *fdp = fdbuf + 16;

		if (fd >= 0) {
			const char *p = path;

			if (at && (!path || !*path)) {
				snprintf(fdp, 40, "/proc/self/fd/%d", (int)r->rdi);
				p = fdp;
			}
			if (sp_launcher_argv(fd, p, argv, largv, RAW_ARGV_MAX, fdbuf)) {
				in->exec_fd = fd;
				r->rdx = at ? r->r10 : r->rdx;
				r->rax = SYS_execve;
				r->rdi = (uint64_t)largv[0];
				r->rsi = (uint64_t)largv;
			} else {
				sp_raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
			}
		}
	}
	return SP_ACT_NORMAL;
}

static int raw_pre(struct sp_raw_regs *r)
{
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	struct sp_raw_inflight *in = &sp_raw.cur;
	struct sp_sysrec d;
	long nr = (long)r->rax;
	int saved = errno, act = SP_ACT_NORMAL;

	in->f.on = 0;
	in->nr = nr;
	in->flags = 0;
	if (!sp_raw.keyed && !sp_t.shared) {
		sp_raw.keyed = 1;
		if (stack_key_ok)
			pthread_setspecific(stack_key, (void *)sp_raw.base);
	}
	if (!__atomic_load_n(&sp_s.on, __ATOMIC_ACQUIRE) || sp_t.busy)
		return SP_ACT_PASS;
	if (nr == SYS_execve || nr == SYS_execveat) {
		act = raw_exec(r, in);
		errno = saved;
		return in->f.on ? act : SP_ACT_PASS;
	}
	if (nr == SYS_exit_group) {
		sp_event(SP_K_PEXIT, (long)(int)r->rdi, NULL);
		sp_flush_exit();
		errno = saved;
		return SP_ACT_PASS;
	}
	if (sp_sys_decode(nr, a, &d) < 0)
		return SP_ACT_PASS;
	if (is_clone(d.call) && ((d.x[0] & CLONE_VM) || d.x[1])) {
		/* The child must leave the stub without C; the parent's post
		 * finds its call in sp_raw.vfork (the child may record calls of
		 * its own meanwhile). */
		in = &sp_raw.vfork;
		in->nr = nr;
		act = SP_ACT_CLONEVM;
	}
	in->flags = d.x[0];
	if (d.call == SP_C_OPENAT)
		sp_raw_openat_watch(__atomic_load_n(&openat_state, __ATOMIC_RELAXED) == SP_OW_PREPARED
					    ? SP_OW_APPLYING : SP_OW_OFF);
	sp_enter(&in->f, d.call, SP_SRC_RAW, d.strs, d.nstr, d.x[0], d.x[1], d.x[2]);
	if (!in->f.on) {
		errno = saved;
		return SP_ACT_PASS;
	}
	if (act == SP_ACT_CLONEVM) {
		in->tid = (int)sp_raw_syscall6(SYS_gettid, 0, 0, 0, 0, 0, 0);
		sp_raw.clonevm_pending = 1;
		if ((in->flags & CLONE_VM) && !(in->flags & CLONE_SETTLS))
			sp_t.shared = 1; /* the child runs on this TLS */
	}
	errno = saved;
	return act;
}

static void raw_post(struct sp_raw_regs *r)
{
	long res = (long)r->rax;
	struct sp_raw_inflight *in = &sp_raw.cur;
	int saved = errno, err = res < 0 && res > -4096 ? (int)-res : 0;
	unsigned call;

	if (sp_raw.clonevm_pending &&
	    sp_raw_syscall6(SYS_gettid, 0, 0, 0, 0, 0, 0) == sp_raw.vfork.tid) {
		/* Back in the parent of a CLONE_VM clone (not in its child,
		 * which shares this TLS and may have calls of its own). */
		sp_raw.clonevm_pending = 0;
		sp_t.shared = 0;
		in = &sp_raw.vfork;
	}
	if (!in->f.on)
		goto out;
	in->f.on = 0;
	call = in->f.call;
	if (res == 0 && is_clone(call)) {
		/* Child with a copy of our memory: its own ring. */
		sp_child_init();
		goto out;
	}
	if (res == 0 && (call == SP_C_PIVOT_ROOT || call == SP_C_CHROOT))
		sp_set_contained();
	if (res == 0 && call == SP_C_SETNS && sp_setns_enters((long)r->rdi, (long)r->rsi))
		sp_set_contained();
	if (call == SP_C_EXECVE || call == SP_C_EXECVEAT) {
		sp_exec_failed();
		if (in->exec_fd >= 0)
			sp_raw_syscall6(SYS_close, in->exec_fd, 0, 0, 0, 0, 0);
		in->exec_fd = -1;
	}
	if (res == 0 && sp_s.content && (call == SP_C_MKDIRAT || call == SP_C_MKDIR)) {
		const char *p = (const char *)(call == SP_C_MKDIR ? r->rdi : r->rsi);

		if (strstr(p, "/snapshots/new-"))
			sp_raw_openat_watch(SP_OW_PREPARED); /* its layer's open may follow */
		else if (strstr(p, "/io.containerd.runtime.v2.task/"))
			sp_raw_openat_watch(SP_OW_OFF); /* a container start, not a pull */
	}
	in->f.on = 1;
	if (res == 0 && (call == SP_C_RENAME || call == SP_C_RENAMEAT || call == SP_C_RENAMEAT2))
		sp_exit(&in->f, 0, 0, call == SP_C_RENAME ? sp_blob_size(AT_FDCWD, (const char *)r->rsi)
							 : sp_blob_size((int)r->rdx, (const char *)r->r10));
	else
		sp_exit(&in->f, err ? -1 : res, err, res > 0 && is_clone(call) ? (uint64_t)res : 0);
	in->f.on = 0;
out:
	errno = saved;
}

int sp_raw_pre(struct sp_raw_regs *r)
{
	int act;

	SP_COST_IN(SP_COST_CALLS);
	act = raw_pre(r);
	SP_COST_OUT();
	return act;
}

void sp_raw_post(struct sp_raw_regs *r)
{
	SP_COST_IN(SP_COST_CALLS);
	raw_post(r);
	SP_COST_OUT();
}
