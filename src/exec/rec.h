/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec.h - the recorder that startpath-exec copies into a static process:
 * the layout its entry code (rec_entry.S), its C side (rec.c) and the
 * launcher (launcher.c) share.
 *
 * The recorder is freestanding and position-independent: no libc, no %fs
 * (the program's own runtime owns %fs).  Per-thread state lives in areas of
 * SPX_AREA_SIZE bytes found through %gs: each area starts with a pointer to
 * itself (so `mov %gs:0` yields it) and ends with the thread's private stack.
 * The launcher gives the main thread area 1; a clone that makes a thread or a
 * vfork child takes a free one (a bit in conf.used) before any of the
 * program's code runs in the child; a thread's exit(2) gives it back.
 * Area 0 is the fallback when all are taken: permanently busy, so calls of
 * such a thread pass through unrecorded.
 */
#ifndef SPX_REC_H
#define SPX_REC_H

#define SPX_AREA_SHIFT 16
#define SPX_AREA_SIZE  (1 << SPX_AREA_SHIFT)   /* 64 KiB: state, buffers, stack */
#define SPX_NAREAS     1024

/* Area offsets used by rec_entry.S. */
#define SPX_A_SELF  0
#define SPX_A_BUSY  8
#define SPX_A_RSP   16
#define SPX_A_RET   24
#define SPX_A_SAVE  32    /* 8 registers */
#define SPX_A_PARENT 96   /* child_entry: the area of the thread that cloned */
#define SPX_A_INDEX  104

/* spx_conf offsets used by rec_entry.S. */
#define SPX_C_AREAS    72
#define SPX_C_USED     80
#define SPX_C_FSGSBASE 228

/* Offsets in the recorder image's table (its first bytes). */
#define SPX_T_CONF  0
#define SPX_T_PRE   8
#define SPX_T_POST  16
#define SPX_T_CHILD 24
#define SPX_T_START 32

/* Actions, as in the dynamic case (src/lib/raw.h). */
#define SPX_ACT_NORMAL  0
#define SPX_ACT_PASS    1
#define SPX_ACT_CLONEVM 2

#ifndef __ASSEMBLER__
#include <stdint.h>

#define SPX_MAGIC 0x31434552585053ULL /* "SPXREC1" */
#define SPX_CARRY_MAX 12

struct spx_inflight {
	uint32_t on, call;
	uint32_t callid;
	int32_t tid;
	long nr;
	uint64_t flags;
	int exec_fd;        /* a redirected exec: the fd handed to the launcher */
};

struct spx_area {
	uint64_t self;
	uint64_t busy;
	uint64_t rsp;
	uint64_t ret;
	uint64_t save[8];
	uint64_t parent;
	uint64_t index;
	int32_t tid;
	int32_t clonevm_pending;
	uint64_t vfork_child;         /* index+1 of a vfork child's area, to free */
	uint32_t callid;
	int32_t pid;                  /* a vfork child's own pid; 0: conf.pid */
	struct spx_inflight cur, vfork;
	/* then: exec buffers, then the stack up to SPX_AREA_SIZE */
};
#define SPX_EXEC_PTRS 1024
#define SPX_EXEC_BUF  (16 * 1024)

/* Filled by the launcher before the jump; the recorder's only state besides
 * the areas. */
struct spx_conf {
	uint64_t magic;
	uint64_t interest[8];   /* syscall numbers the stubs send to C */
	uint64_t areas;         /* SPX_NAREAS areas */
	uint64_t used[SPX_NAREAS / 64];
	uint64_t ring;          /* the ring's header page (struct sp_ring_hdr) */
	uint64_t ring_size;
	int32_t pid;            /* getpid() of this process */
	int32_t fsgsbase;       /* wrgsbase usable */
	int32_t contained;      /* pivoted, chrooted or joined a mount ns */
	int32_t debug;
	int32_t said;
	int32_t pad;
	char dir[512];          /* STARTPATH_DIR */
	uint64_t dir_dev, dir_ino; /* as checked when the first ring was made */
	char launcher[512];     /* startpath-exec, for execs of static binaries */
	char target[512];       /* what /proc/self/exe means to the program */
	char prefixes[1024];    /* STARTPATH_PREFIXES */
	char carry[SPX_CARRY_MAX][640]; /* "NAME=value" kept in children's env */
	int32_t ncarry;
	int32_t exe_set;        /* /proc/self/exe names the program (spx_start) */
	int64_t exe_err;        /* else what prctl(PR_SET_MM_MAP) said, -errno */
	char log[512];          /* STARTPATH_LOG: messages to LOG.<pid> */
};

/* The launcher's last step, taken in the recorder's memory (spx_start):
 * the launcher's own file mappings are unmapped, /proc/self/exe is pointed
 * at the program where prctl(PR_SET_MM, PR_SET_MM_MAP) is allowed
 * (CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; the kernel refuses while any
 * mapping of the old exe remains), and the program's entry is jumped to
 * with the initial stack at sp.  Lives on the launcher's stack. */
#define SPX_UNMAP_MAX 16
struct spx_mm_map {          /* struct prctl_mm_map */
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};
struct spx_start {
	uint64_t unmap[SPX_UNMAP_MAX][2]; /* start, length */
	int32_t nunmap;
	int32_t exe_fd;              /* -1: leave /proc/self/exe alone */
	uint64_t sp, entry;
	struct spx_mm_map map;
};
#endif
#ifndef __ASSEMBLER__
/* Some programs' stderr is part of their answer: a containerd shim's
 * `start` output is parsed as its address, and go-runc parses the combined
 * output of `runc state` and `runc ps` as JSON.  Without STARTPATH_LOG, the
 * launcher, loader and recorder say nothing for containerd-shim*, runc and
 * crun rather than write there.  Freestanding. */
static inline int spx_name_is(const char *b, const char *want, int prefix)
{
	while (*want && *b == *want)
		b++, want++;
	return !*want && (prefix || !*b);
}

static inline int spx_stderr_is_reply(const char *path)
{
	const char *b = path;

	if (!path)
		return 0;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			b = p + 1;
	return spx_name_is(b, "containerd-shim", 1) || spx_name_is(b, "runc", 0) ||
	       spx_name_is(b, "crun", 0);
}
#endif

#endif
