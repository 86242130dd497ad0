/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.h - one traced process as the CLI and the exit-time writer see it:
 * identity, life events and the calls it made as spans (enter..exit).
 * Built from ring records (sp_proc_from_ring) or from the per-process JSON
 * file (procjson.h).  Allocates; never used on the hook hot path.
 */
#ifndef SP_MODEL_H
#define SP_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "record.h"
#include "ring.h"

struct sp_span {
	unsigned call;
	int pid, tid;
	uint32_t callid;
	unsigned src, flags;
	uint64_t t0, t1;   /* t1 == t0 when the exit was not seen */
	int has_enter;     /* 0: the enter record was lost, t0 = t1 */
	int has_exit;      /* 0: no exit record (exec succeeded, killed) */
	int64_t result;
	int err;
	uint64_t arg[3];
	uint64_t ret_arg;  /* number learnt on return (child pid), 0 if none */
	unsigned nstr;
	char *strs[SP_MAX_STRS];
};

struct sp_mark {
	uint64_t t;
	int pid, tid;
	char *name;
};

struct sp_proc {
	uint64_t ring_id, parent_ring_id;
	int pid, host_pid, ppid;
	char *exe;
	int argc;
	char **argv;
	uint64_t t_load_ns, t_load_real_ns;
	int forked;        /* ring of a fork/clone child (no exec) */
	int exited;        /* a process-exit record exists */
	int64_t exit_status;
	uint64_t t_exit_ns;
	int execed;        /* the image exec'd (spans end at the exec) */
	int contained;     /* pivot_root/chroot succeeded in this image */
	uint64_t lost;     /* records lost (ring wrap, unfinished writes) */
	uint64_t orphans;  /* exits without their enter */
	uint64_t ring_head; /* records the ring had taken when this was built */
	const char *origin; /* "json" or "ring" */
	char *path;        /* file it was read from, if any */
	size_t nspans, capspans;
	struct sp_span *spans;
	size_t nmarks;
	struct sp_mark *marks;
	char *notes;       /* library messages, newline-separated, or NULL */
	const char *role;  /* what it does in a start (sp_roles_assign), or NULL */
	/* While records are added: the open spans by (tid, callid, call), an
	 * open-addressing table of span index + 1 (0: empty slot). */
	size_t *open, openmask, nopen;
};

/* Build a process from a mapped ring, waiting up to `settle` pauses for
 * records a live writer is finishing (sp_ring_read_wait; 0: no wait).  0, or
 * -1 (ENOMEM). */
int sp_proc_from_ring(const struct sp_ring *r, struct sp_proc *p, unsigned settle);

/* Append records to a process being built; then sp_proc_finish.  Each
 * record costs O(1) on average, whatever the records (an exit pairs with its
 * enter through a hash table, not a search). */
int sp_proc_add_record(struct sp_proc *p, const struct sp_record *rec);
void sp_proc_finish(struct sp_proc *p);

/* Append a span (copying its strings).  0 or -1 (ENOMEM). */
int sp_proc_add_span(struct sp_proc *p, const struct sp_span *s);

void sp_proc_free(struct sp_proc *p);

/* Basename of the executable (from exe, else argv[0]); never NULL. */
const char *sp_proc_comm(const struct sp_proc *p);

/* Duration of a span in ns (0 if its exit is unknown). */
static inline uint64_t sp_span_dur(const struct sp_span *s)
{
	return s->t1 > s->t0 ? s->t1 - s->t0 : 0;
}

#endif
