/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.h - the phase model: which recorded events start and end each phase
 * of a container start.  The rules are data (sp_phase_rules in phases.c);
 * sp_maps_build finds the container starts in a set of processes and applies
 * them.
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
	SP_COND_OVERLAY,   /* an overlay mount */
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
	const char *profile; /* runtime stack the rule belongs to */
	const char *phase;
	const char *parent;  /* NULL: a top-level phase; else a sub-span of it */
	const char *section; /* NULL: the start; "teardown": after it */
	struct sp_anchor start;
	struct sp_anchor end; /* SP_AK_NONE: the phase ends where the next begins */
	const char *doc;     /* one line: what marks it */
};

extern const struct sp_phase_rule sp_phase_rules[];
extern const size_t sp_phase_nrules;

#define SP_MAP_MAX_PHASES 24

struct sp_map_phase {
	const char *name;
	const char *parent;      /* NULL for top-level */
	const char *section;     /* NULL or "teardown" */
	int seen;                /* its start anchor was found */
	uint64_t t0, t1;
	const struct sp_proc *proc; /* the process whose event starts it */
	const struct sp_span *span; /* that event, if a call */
	int bottleneck;
	/* Not seen: what was expected and what was (not) recorded instead,
	 * one sentence (a gap in recording, or in the rules). */
	char why[256];
};

/* One call that belongs to a container start. */
struct sp_map_call {
	const struct sp_proc *proc;
	const struct sp_span *span;
};

struct sp_map {
	char container_id[128];
	const char *profile;
	uint64_t t0, t1;            /* first phase start, last start phase end */
	size_t nphases;
	struct sp_map_phase phases[SP_MAP_MAX_PHASES];
	const struct sp_proc **procs; /* the processes of this start */
	size_t nprocs;
	struct sp_map_call *calls;  /* its calls, by start time */
	size_t ncalls;
	uint64_t lost;
	size_t nmissing;            /* start phases not seen */
	uint64_t ready_ns;          /* readiness probe time that ended process_exec, or 0 */
};

/* Role of a process for the rules: "crun", "runc:create", "runc:run",
 * "runc:init", "runc:start", "runc:delete", "runc", "shim:start",
 * "shim:delete", "shim", "containerd", else its command name (roles.c).
 * The role sp_roles_assign gave it, else the one its name and arguments
 * alone suggest. */
const char *sp_proc_role(const struct sp_proc *p);

/* Give every process its role from what the processes do and how they are
 * related (a runtime's re-exec as init, a shim's arguments, who spawned a
 * shim...), whatever their file names.  Fills p->role only. */
void sp_roles_assign(struct sp_proc *procs, size_t n);

/* Container id named in a runtime's or shim's command line, or NULL. */
const char *sp_proc_container_id(const struct sp_proc *p);

/* Container id a containerd call is about (task directory, snapshot, the
 * shim it started), given the shims' overlay mounts; NULL if none. */
const char *sp_containerd_call_cid(const struct sp_span *s, const struct sp_proc *procs,
				   size_t nprocs);

/*
 * Find the container starts in procs and build one map each, in start order.
 * end_hint (0 if none) ends the last phase when no rule's end anchor was seen
 * (e.g. the time `startpath run` saw its command end).  Returns the number of
 * maps (*out malloc'd, free with sp_maps_free), or -1.
 */
int sp_maps_build(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
		  struct sp_map **out);
/* The same, with the time a readiness probe first succeeded (0: none): it
 * ends process_exec. */
int sp_maps_build_ready(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
			uint64_t ready, struct sp_map **out);
void sp_maps_free(struct sp_map *maps, int n);

/* Build the map of `group` (all calls of these processes) with `profile`'s
 * rules; free m->procs and m->calls after. */
int sp_map_build(const struct sp_proc **group, size_t n, const char *profile,
		 uint64_t end_hint, struct sp_map *m);

#endif
