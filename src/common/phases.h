/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.h - the phase model: which recorded events start and end each phase
 * of a container start.  The rules are data (sp_phase_rules in phases.c);
 * sp_map_build applies them to the processes of one container start.
 */
#ifndef SP_PHASES_H
#define SP_PHASES_H

#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* What an anchor matches. */
enum sp_anchor_kind {
	SP_AK_NONE = 0,
	SP_AK_LOAD,  /* a process image started (library loaded) */
	SP_AK_PEXIT, /* a process exited */
	SP_AK_CALL,  /* a recorded call */
};

/* Extra conditions on a call. */
enum sp_cond {
	SP_COND_ANY = 0,
	SP_COND_NS,        /* clone/unshare/setns creating or joining namespaces */
	SP_COND_CONTAINED, /* made after pivot_root/chroot (the entrypoint's exec) */
	SP_COND_OK,        /* succeeded */
};

enum sp_pick { SP_FIRST = 0, SP_LAST };
enum sp_edge { SP_AT_START = 0, SP_AT_END };

struct sp_anchor {
	enum sp_anchor_kind kind;
	const char *role;   /* process role (sp_proc_role), "*" for any */
	unsigned cls;       /* SP_CLS_* mask, 0 = any class */
	unsigned call;      /* one call, SP_C_NONE = any in cls */
	enum sp_cond cond;
	enum sp_pick pick;  /* FIRST after the previous phase's start, or LAST
			       before the next phase's start */
	enum sp_edge edge;  /* the event's start or end time */
};

struct sp_phase_rule {
	const char *profile; /* runtime stack the rule belongs to ("crun") */
	const char *phase;
	const char *parent;  /* NULL: a top-level phase; else a sub-span of it */
	struct sp_anchor start;
	struct sp_anchor end; /* sub-spans and the last phase only */
	const char *doc;     /* one line: what marks it */
};

extern const struct sp_phase_rule sp_phase_rules[];
extern const size_t sp_phase_nrules;

#define SP_MAP_MAX_PHASES 24

struct sp_map_phase {
	const char *name;
	const char *parent;      /* NULL for top-level */
	int seen;                /* its start anchor was found */
	uint64_t t0, t1;
	const struct sp_proc *proc; /* the process whose event starts it */
	const struct sp_span *span; /* that event, if a call */
	int bottleneck;
};

struct sp_map {
	char container_id[128];
	const char *profile;
	uint64_t t0, t1;            /* first phase start, last phase end */
	size_t nphases;
	struct sp_map_phase phases[SP_MAP_MAX_PHASES];
	const struct sp_proc **procs; /* the processes of this start */
	size_t nprocs;
	uint64_t lost;
	size_t nmissing;            /* top-level phases not seen */
};

/* Role of a process for the rules: "crun", "runc", "containerd-shim-runc-v2",
 * "containerd", else its command name. */
const char *sp_proc_role(const struct sp_proc *p);

/* Container id named in a runtime's command line, or NULL. */
const char *sp_proc_container_id(const struct sp_proc *p);

/*
 * Group procs by container id and build one map per container start, in
 * start order.  end_hint (0 if none) ends the last phase when no rule's end
 * anchor was seen (e.g. the time `startpath run` saw its command end).
 * Returns the number of maps (*out malloc'd, free with sp_maps_free), or -1.
 */
int sp_maps_build(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
		  struct sp_map **out);
void sp_maps_free(struct sp_map *maps, int n);

/* Build the map of `group` (procs of one start) with `profile`'s rules. */
int sp_map_build(const struct sp_proc **group, size_t n, const char *profile,
		 uint64_t end_hint, struct sp_map *m);

#endif
