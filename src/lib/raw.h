/* SPDX-License-Identifier: Apache-2.0 */
/*
 * raw.h - raw syscall capture: what the rewritten syscall sites, the entry
 * code in raw_entry.S and the C hooks in raw.c share.
 *
 * A rewritten site jumps to its stub; the stub filters the syscall number
 * and, for a recorded one, enters sp_raw_entry_pre / sp_raw_entry_post
 * (raw_entry.S) with its return address in %r11: %rcx and %r11 are free at
 * every syscall site, since the syscall instruction clobbers them.  The
 * entry code switches to this thread's private stack in sp_raw (TLS), saves
 * the argument registers and SSE state, and calls the C hook.
 */
#ifndef SP_RAW_H
#define SP_RAW_H

/* Actions sp_raw_pre returns: where the stub goes on (offsets of its three
 * syscall instructions, 4 bytes apart). */
#define SP_ACT_NORMAL  0 /* syscall, then sp_raw_entry_post */
#define SP_ACT_PASS    1 /* syscall, nothing recorded */
#define SP_ACT_CLONEVM 2 /* syscall; the child (rax 0) returns untouched */

/* Layout of the TLS area (raw_entry.S uses these offsets).  The area is
 * small: static TLS is zeroed for every thread a program creates, so the
 * private stack is mapped on a thread's first recorded call instead. */
#define SP_RAW_A_BUSY   0
#define SP_RAW_A_RSP    8
#define SP_RAW_A_RET    16
#define SP_RAW_A_TOP    24   /* private stack top, 0 until mapped */
#define SP_RAW_A_BASE   32   /* the mapping: env buffers, then the stack */
#define SP_RAW_A_SAVE   40   /* 8 registers while mapping it */
#define SP_RAW_MAP_SIZE (96 * 1024)
#define SP_RAW_ENV_AREA (40 * 1024)

#ifndef __ASSEMBLER__
#include <stdint.h>
#include "internal.h"

/* The registers the entry code saved, lowest address first. */
struct sp_raw_regs {
	uint8_t xmm[16][16];
	uint64_t pad;
	uint64_t r9, r8, r10, rdx, rsi, rdi, rax;
};

struct sp_raw_inflight {
	struct sp_frame f;
	long nr;
	uint64_t flags;
	int tid;   /* CLONE_VM clones: the parent's thread */
	int exec_fd; /* an exec sent through startpath-exec: the program's fd */
};

struct sp_raw_area {
	uint64_t busy;
	uint64_t saved_rsp;
	uint64_t ret;
	uint64_t top;
	uint64_t base;
	uint64_t save[8];
	int keyed;                     /* thread-exit destructor registered */
	int clonevm_pending;
	struct sp_raw_inflight cur;    /* the call between pre and post */
	struct sp_raw_inflight vfork;  /* a CLONE_VM clone: the child may record
					  calls of its own meanwhile */
};

extern SP_HIDDEN __thread struct sp_raw_area sp_raw __attribute__((tls_model("initial-exec")));

/* Syscall numbers the stubs send to C (bit per number, 512 bits). */
extern SP_HIDDEN uint64_t sp_raw_interest[8];

/* containerd: whether openat enters the stub.  A snapshot's prepare turns
 * it on; the first content store blob opened after it (the layer an unpack
 * applies) keeps it on, the second (the read that follows the last layer's
 * apply) or a task directory made (a container start) turns it off: a few
 * calls per start or per layer instead of every openat. */
enum { SP_OW_OFF, SP_OW_PREPARED, SP_OW_APPLYING };
SP_HIDDEN void sp_raw_openat_watch(int state);

SP_HIDDEN int sp_raw_pre(struct sp_raw_regs *r);
SP_HIDDEN void sp_raw_post(struct sp_raw_regs *r);
SP_HIDDEN void sp_raw_entry_pre(void);
SP_HIDDEN void sp_raw_entry_post(void);

/* Create the key whose destructor unmaps a thread's private stack. */
SP_HIDDEN void sp_raw_init_keys(void);

/* Does the main executable have syscall sites to rewrite, maybe?  (0:
 * none, or raw capture is off.)  Then sp_raw_setup finds and rewrites
 * them, with the plans cached in the checked directory dfd (constructor). */
SP_HIDDEN int sp_raw_wanted(void);
SP_HIDDEN void sp_raw_setup(int dfd);

#endif
#endif
