/* SPDX-License-Identifier: Apache-2.0 */
/*
 * internal.h - what the parts of libstartpath.so share: process state,
 * per-thread state, the real_<fn> pointers and the recording entry points.
 * Everything here is hidden; only the hooks themselves are exported.
 */
#ifndef SP_LIB_INTERNAL_H
#define SP_LIB_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/mount.h>
#include "startpath.h"
#include "ring.h"
#include "record.h"
#include "sys.h"
#include "trust.h"
#include "rewrite.h"

#define SP_EXPORT __attribute__((visibility("default")))
#define SP_HIDDEN __attribute__((visibility("hidden")))
#define sp_likely(x) __builtin_expect(!!(x), 1)
#define sp_unlikely(x) __builtin_expect(!!(x), 0)

#define SP_HOOK(ret, name, params) extern SP_HIDDEN ret (*real_##name) params;
#include "hooks.def"
#undef SP_HOOK

/* Resolve every real_<fn> (idempotent, thread-safe enough: pointer stores). */
SP_HIDDEN void sp_resolve_all(void);
#define REAL(fn) (sp_likely(real_##fn != NULL) ? real_##fn : (sp_resolve_all(), real_##fn))

/* Per-thread state.  In a vfork child (or a CLONE_VM child without its own
 * TLS) this block is the parent's: `shared` says so and makes the recording
 * code ask the kernel for pid and tid instead of trusting the caches. */
struct sp_thread {
	int tid;
	int shared;
	int busy;               /* inside the library's own work: do not record */
	int making;             /* making the ring file */
	int in_init;            /* running the constructor */
	uint64_t clone_flags;   /* of this thread's last fork or clone */
	uint32_t callid;
	uint32_t vfork_callid;  /* the vfork whose exit the parent records */
#ifdef SP_SELFTIME
	unsigned cost_depth;
	uint8_t cost_where[8];
	uint64_t cost_t0;
#endif
};
extern SP_HIDDEN __thread struct sp_thread sp_t __attribute__((tls_model("initial-exec")));

/* Process state. */
struct sp_state {
	int init;              /* 0 none, 1 running, 2 done */
	int on;                /* recording */
	/* The ring file is made at the first record (a process that records
	 * nothing leaves no file): SP_RING_NONE until then, SP_RING_MAKING
	 * while one thread makes it, then SP_RING_READY (or recording stops). */
	int ring_state;
	int pid;               /* getpid() cache */
	int contained;         /* pivot_root/chroot/setns(mnt) succeeded */
	int debug;
	struct sp_ring ring;
	char dir[512];         /* absolute output directory */
	struct sp_trust_id dirid; /* dir as checked at load (trust.h) */
	uint64_t pidns;        /* inode of our pid namespace if /proc agrees with it */
	/* Our pid as the host's /proc sees it, if known without asking /proc
	 * (STARTPATH_PROC from the exec that started this image, or the
	 * parent's knowledge in a fork child), else 0. */
	int hp;
	int newpid_kids;       /* unshare(CLONE_NEWPID) or a setns: children elsewhere */
	uint64_t proc_ns;      /* a fork child's: its parent's pid namespace, /proc's */
	char procvar[80];      /* STARTPATH_PROC as it was at load */
	char base[64];         /* "<hostpid>-<tload>" of this ring */
	/* What the ring's header and first record will say, kept from load
	 * (or from the fork that made this process a child). */
	uint64_t t_start, t_start_real; /* load, or the fork */
	uint64_t parent_ring_id; /* a fork child's parent's ring, or 0 */
	int is_child;
	uint32_t argc;
	char args[SP_ARGS_MAX]; /* argv at load, NUL-separated (argc 0: ask /proc) */
	char libpath[512];
	char exe[SP_EXE_MAX];  /* /proc/self/exe at load, read once */
	/* "NAME=value" strings carried into children, NULL-terminated:
	 * LD_PRELOAD and every STARTPATH_* variable as they were at load. */
	const char *carry[24];
	char carrybuf[4096];
	char prefixes[1024];   /* ':'-separated mkdir/rename prefixes */
	int runtime;           /* a shim or runtime by name: never pulls (its
				  registry connects are not looked for) */
	int content;           /* containerd: its content store's blob opens
				  recorded (the layer an unpack applies) */
	/* Every other setting, read at load: nothing is read from the
	 * environment later (runc copies a container image's variables into
	 * its own environment before it runs hooks). */
	uint32_t ring_cap;     /* STARTPATH_RING, or 0: the default */
	int raw_off;           /* STARTPATH_RAW=0 */
	int no_redirect;       /* STARTPATH_NO_EXEC_REDIRECT */
	char launcher[600];    /* STARTPATH_EXEC, else next to the library */
	char cache[512];       /* STARTPATH_CACHE, or "": dir/.sites */
	uint64_t keep_age_s, keep_mb, keep_procs; /* STARTPATH_KEEP_* */
#ifdef SP_SELFTIME
	uint64_t cost[SP_COST_N];
#endif
};
extern SP_HIDDEN struct sp_state sp_s;

/* One hooked call in flight. */
struct sp_frame {
	uint32_t callid;
	uint16_t call;
	uint8_t src;
	uint8_t on;
};

/*
 * sp_enter: record the start of `call`; strs/nstr and args are its
 * arguments.  Returns 0 (and c->on = 0) when not recording.  sp_exit records
 * its end and restores errno to `err`.  Both: no malloc, no locks,
 * async-signal-safe, errno preserved.
 */
SP_HIDDEN int sp_enter(struct sp_frame *c, unsigned call, unsigned src,
		       const char *const *strs, unsigned nstr,
		       uint64_t a0, uint64_t a1, uint64_t a2);
SP_HIDDEN void sp_exit(struct sp_frame *c, long result, int err, uint64_t a0);

/* Size of the content store blob a rename just committed (its target
 * under .../blobs/sha256/), else 0.  errno preserved. */
SP_HIDDEN uint64_t sp_blob_size(int dfd, const char *to);

/* Record a process event (SP_K_PEXIT, SP_K_MARK, SP_K_NOTE...). */
SP_HIDDEN void sp_event(unsigned kind, long result, const char *text);

enum { SP_RING_NONE, SP_RING_MAKING, SP_RING_READY };

/* Lazily initialise if a hook runs before the constructor.  Returns sp_s.on. */
SP_HIDDEN int sp_ready(void);

/* /proc/self/exe of this image (read once). */
SP_HIDDEN const char *sp_exe(void);

/* In a child made by fork or clone without CLONE_VM: new pid, own ring. */
SP_HIDDEN void sp_child_init(void);

/* Before an exec that may succeed: mark the ring. */
SP_HIDDEN void sp_before_exec(void);
/* The exec failed: the image goes on. */
SP_HIDDEN void sp_exec_failed(void);

/* The process is exiting through a raw exit_group. */
SP_HIDDEN void sp_flush_exit(void);

/* Remove old files of processes that are gone (retention.c); dfd is the
 * checked output directory. */
SP_HIDDEN void sp_retention(int dfd);

/* The output directory, checked again (it must be the one checked at
 * load): an fd to close, or -1 (said once why). */
SP_HIDDEN int sp_open_dir(void);

/* Did a successful setns(fd, nstype) join a mount namespace (a mount ns
 * fd, a pidfd with CLONE_NEWNS, or nstype 0 on a mount ns fd)?  Every one
 * of them enters a container.  Async-signal-safe. */
SP_HIDDEN int sp_setns_enters(long fd, long nstype);

/* A pivot_root/chroot/setns(mnt) succeeded: stop writing host paths. */
SP_HIDDEN void sp_set_contained(void);

/* mount(2)'s data argument as a string to record, or NULL if it is none. */
SP_HIDDEN const char *sp_mount_opts(unsigned long flags, const void *data);

/* Fill strs with what an exec record keeps (path, argv[0..3], last arg);
 * returns argc.  No allocation. */
SP_HIDDEN unsigned sp_exec_strs(const char *path, char *const argv[], const char *strs[6]);

/* An exec of a static x86-64 program (which never loads the library) goes
 * through startpath-exec, unless contained: sp_static_target opens it and
 * returns the fd (not close-on-exec) if so, else -1; sp_launcher_argv builds
 * the launcher's argv in out (max entries), or NULL if it does not fit. */
SP_HIDDEN int sp_static_target(int dirfd, const char *path, int at_flags);
SP_HIDDEN char **sp_launcher_argv(int fd, const char *path, char *const argv[], char **out,
				  size_t max, char *fdbuf);

/* Fill the syscall() filter's bitmap (entry.S). */
SP_HIDDEN void sp_syscall_setup(void);

/* Environment for an exec: fills out/buf, returns envp to use. */
SP_HIDDEN char *const *sp_child_env(char *const envp[], char **out, size_t outcap,
				    char *buf, size_t buflen, int *added);

/* Say something once per `id` (bit index < 64), prefixed "startpath: ". */
SP_HIDDEN void sp_say_once(unsigned id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
SP_HIDDEN void sp_debug(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

enum sp_msg_id {
	SP_MSG_DIR, SP_MSG_RING, SP_MSG_JSON, SP_MSG_ENV, SP_MSG_CONFIG,
	SP_MSG_RESOLVE, SP_MSG_CHILD_RING, SP_MSG_ARGV, SP_MSG_CACHE,
};

/*
 * The timing build (make SELFTIME=1, -DSP_SELFTIME): every entry point
 * brackets its work with SP_COST_IN(where) ... SP_COST_OUT(); a nested
 * bracket pauses the outer one, so each nanosecond counts once, where it
 * was spent.  The totals go to the ring header's cost_ns[] (startpath.h)
 * as they grow.  In a normal build both are nothing.
 */
#ifdef SP_SELFTIME
SP_HIDDEN void sp_cost_in(unsigned where);
SP_HIDDEN void sp_cost_out(void);
SP_HIDDEN void sp_cost_reset(void);
#define SP_COST_IN(where) sp_cost_in(where)
#define SP_COST_OUT() sp_cost_out()
#else
#define SP_COST_IN(where) ((void)0)
#define SP_COST_OUT() ((void)0)
#endif

/* Raw syscall without touching errno (sys.h). */
#define sp_raw_syscall6 sp_sys6

#endif
