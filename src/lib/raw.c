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
#define RAW_ENVBUF (SP_RAW_ENV_AREA - RAW_ENV_MAX * sizeof(char *))

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

/* The first fields of struct clone_args (linux/sched.h). */
struct clone3_head {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack;
};

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
	return SP_ACT_NORMAL;
}

int sp_raw_pre(struct sp_raw_regs *r)
{
	struct sp_raw_inflight *in = &sp_raw.cur;
	const char *strs[5] = { 0 };
	char up[256];
	unsigned nstr = 0, call;
	uint64_t x0 = 0, x1 = 0, x2 = 0;
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
	switch (nr) {
	case SYS_mount:
		nstr = sp_mount_strs((const char *)r->rdi, (const char *)r->rsi, (const char *)r->rdx,
				     r->r10, (const void *)r->r8, strs, up, sizeof(up), &x1);
		call = SP_C_MOUNT;
		x0 = r->r10;
		break;
	case SYS_umount2:
		strs[0] = (const char *)r->rdi;
		nstr = 1;
		call = SP_C_UMOUNT2;
		x0 = r->rsi;
		break;
	case SYS_pivot_root:
		strs[0] = (const char *)r->rdi;
		strs[1] = (const char *)r->rsi;
		nstr = 2;
		call = SP_C_PIVOT_ROOT;
		break;
	case SYS_chroot:
		strs[0] = (const char *)r->rdi;
		nstr = 1;
		call = SP_C_CHROOT;
		break;
	case SYS_clone:
	case SYS_clone3:
	case SYS_vfork:
	case SYS_fork: {
		uint64_t flags = 0, stack = 0;

		if (nr == SYS_clone) {
			flags = r->rdi;
			stack = r->rsi;
			call = SP_C_CLONE;
		} else if (nr == SYS_clone3) {
			const struct clone3_head *ca = (const struct clone3_head *)r->rdi;

			if (ca && r->rsi >= sizeof(*ca)) {
				flags = ca->flags;
				stack = ca->stack;
			}
			call = SP_C_CLONE3;
		} else if (nr == SYS_vfork) {
			flags = CLONE_VM | CLONE_VFORK;
			call = SP_C_VFORK;
		} else {
			call = SP_C_FORK;
		}
		x0 = flags;
		x1 = stack != 0;
		in->flags = flags;
		if ((flags & CLONE_VM) || stack) {
			/* The child must leave the stub without C; the parent's
			 * post finds its call in sp_raw.vfork. */
			in = &sp_raw.vfork;
			in->nr = nr;
			in->flags = flags;
			act = SP_ACT_CLONEVM;
		}
		break;
	}
	case SYS_execve:
	case SYS_execveat:
		act = raw_exec(r, in);
		errno = saved;
		return in->f.on ? act : SP_ACT_PASS;
	case SYS_unshare:
		call = SP_C_UNSHARE;
		x0 = r->rdi;
		break;
	case SYS_setns:
		call = SP_C_SETNS;
		x0 = r->rdi;
		x1 = r->rsi;
		break;
	case SYS_fsopen:
		strs[0] = (const char *)r->rdi;
		nstr = 1;
		call = SP_C_FSOPEN;
		x0 = r->rsi;
		break;
	case SYS_fsconfig:
		strs[0] = (const char *)r->rdx;
		strs[1] = r->rsi == 1 ? (const char *)r->r10 : NULL;
		nstr = 2;
		call = SP_C_FSCONFIG;
		x0 = r->rdi;
		x1 = r->rsi;
		x2 = r->r8;
		break;
	case SYS_fsmount:
		call = SP_C_FSMOUNT;
		x0 = r->rdi;
		x1 = r->rsi;
		x2 = r->rdx;
		break;
	case SYS_move_mount:
		strs[0] = (const char *)r->rsi;
		strs[1] = (const char *)r->r10;
		nstr = 2;
		call = SP_C_MOVE_MOUNT;
		x0 = r->rdi;
		x1 = r->rdx;
		x2 = r->r8;
		break;
	case SYS_open_tree:
		strs[0] = (const char *)r->rsi;
		nstr = 1;
		call = SP_C_OPEN_TREE;
		x0 = r->rdi;
		x1 = r->rdx;
		break;
	case SYS_mount_setattr:
		strs[0] = (const char *)r->rsi;
		nstr = 1;
		call = SP_C_MOUNT_SETATTR;
		x0 = r->rdi;
		x1 = r->rdx;
		x2 = r->r10 && r->r8 >= 8 ? *(const uint64_t *)r->r10 : 0;
		break;
	case SYS_mkdir:
	case SYS_mkdirat:
		strs[0] = (const char *)(nr == SYS_mkdir ? r->rdi : r->rsi);
		if (!sp_prefix_match(strs[0]))
			return SP_ACT_PASS;
		nstr = 1;
		call = nr == SYS_mkdir ? SP_C_MKDIR : SP_C_MKDIRAT;
		x0 = nr == SYS_mkdir ? r->rsi : r->rdx;
		x1 = nr == SYS_mkdir ? 0 : r->rdi;
		break;
	case SYS_rename:
	case SYS_renameat:
	case SYS_renameat2:
		strs[0] = (const char *)(nr == SYS_rename ? r->rdi : r->rsi);
		strs[1] = (const char *)(nr == SYS_rename ? r->rsi : r->r10);
		if (!sp_prefix_match(strs[0]) && !sp_prefix_match(strs[1]))
			return SP_ACT_PASS;
		nstr = 2;
		call = nr == SYS_rename ? SP_C_RENAME : nr == SYS_renameat ? SP_C_RENAMEAT
						       : SP_C_RENAMEAT2;
		x0 = nr == SYS_renameat2 ? r->r8 : 0;
		break;
	case SYS_exit_group:
		sp_event(SP_K_PEXIT, (long)(int)r->rdi, NULL);
		sp_flush_exit();
		errno = saved;
		return SP_ACT_PASS;
	default:
		return SP_ACT_PASS;
	}
	sp_enter(&in->f, call, SP_SRC_RAW, strs, nstr, x0, x1, x2);
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

void sp_raw_post(struct sp_raw_regs *r)
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
	if (res == 0 && call == SP_C_SETNS && r->rsi == CLONE_NEWNS)
		sp_set_contained();
	if (call == SP_C_EXECVE || call == SP_C_EXECVEAT)
		sp_exec_failed();
	in->f.on = 1;
	sp_exit(&in->f, err ? -1 : res, err, res > 0 && is_clone(call) ? (uint64_t)res : 0);
	in->f.on = 0;
out:
	errno = saved;
}
