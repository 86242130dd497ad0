/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.h - the phase model: which recorded events start and end each phase
 * of a container start.  The rules are data, one profile per runtime stack
 * (src/profiles/: crun, runc, containerd, pod); sp_maps_build finds the
 * container and pod starts in a set of processes and applies them.
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
	const char *path;   /* a call's path argument must contain this, or NULL */
};

struct sp_phase_rule {
	const char *phase;
	const char *parent;  /* NULL: a top-level phase; else a sub-span of it */
	const char *section; /* NULL: the start; "teardown": after it */
	struct sp_anchor start;
	struct sp_anchor end; /* SP_AK_NONE: the phase ends where the next begins */
	const char *doc;     /* one line: what marks it */
};

/* A runtime stack's rules, in phase order (sub-spans after their parent). */
struct sp_profile {
	const char *name;
	const char *doc;
	const struct sp_phase_rule *rules;
	size_t nrules;
};

/* Every profile (src/profiles/profiles.c), and one by name (or NULL). */
extern const struct sp_profile *const sp_profiles[];
extern const size_t sp_nprofiles;
const struct sp_profile *sp_profile_by_name(const char *name);

struct sp_map_phase {
	const char *name;        /* in a pod: "c1/process_exec" for a container's */
	const char *parent;      /* NULL for top-level */
	const char *section;     /* NULL or "teardown" */
	int seen;                /* its start anchor was found */
	uint64_t t0, t1;
	const struct sp_proc *proc; /* the process whose event starts it */
	const struct sp_span *span; /* that event, if a call */
	int bottleneck;
	int scope;               /* a pod's: index in scopes (0: the sandbox); else -1 */
	/* Not seen: what was expected and what was (not) recorded instead,
	 * one sentence (a gap in recording, or in the rules). */
	char why[256];
	/* An image pull's blob (fetch_*, unpack_layerN): its digest and
	 * size in bytes (0: not known), else "" and 0. */
	char digest[80];
	uint64_t bytes;
};

/* One call that belongs to a container start. */
struct sp_map_call {
	const struct sp_proc *proc;
	const struct sp_span *span;
};

/* A part of a pod's map: its sandbox, or one of its containers. */
struct sp_map_scope {
	char label[16];             /* "sandbox", "c1", "c2"... (start order) */
	char id[128];               /* sandbox or container id */
	uint64_t t0, t1;            /* its first phase start, last start phase end */
	int bottleneck;             /* index in phases of its longest phase, or -1 */
};

struct sp_map {
	char container_id[128];     /* a pod's: its sandbox id */
	char name[128];             /* a pod's name (from its CNI_ARGS), or "" */
	const char *profile;
	uint64_t t0, t1;            /* first phase start, last start phase end */
	size_t nphases, capphases;
	struct sp_map_phase *phases;
	size_t nscopes;             /* a pod's: sandbox, then its containers */
	struct sp_map_scope *scopes;
	char *names;                /* storage of composed phase names */
	const struct sp_proc **procs; /* the processes of this start */
	size_t nprocs;
	struct sp_map_call *calls;  /* its calls, by start time */
	size_t ncalls;
	uint64_t lost;
	size_t nmissing;            /* start phases not seen */
	uint64_t ready_ns;          /* readiness probe time that ended process_exec, or 0 */
	int pulled;                 /* opens with the pull of its image (pull_* phases) */
	char *pull_names;           /* storage of those phases' names */
};

/* Role of a process for the rules: "crun", "runc:create", "runc:run",
 * "runc:init", "runc:start", "runc:delete", "runc", "shim:start",
 * "shim:delete", "shim", "containerd", "cni:add", "cni:del", "cni:check",
 * else its command name (roles.c).
 * The role sp_roles_assign gave it, else the one its name and arguments
 * alone suggest. */
const char *sp_proc_role(const struct sp_proc *p);

/* Give every process its role from what the processes do and how they are
 * related (a runtime's re-exec as init, a shim's arguments, who spawned a
 * shim...), whatever their file names.  Fills p->role only. */
void sp_roles_assign(struct sp_proc *procs, size_t n);

/* The process p came from: the ring it forked from, else the image of its
 * parent pid loaded last before it (pids are reused); NULL if not traced. */
const struct sp_proc *sp_proc_parent(const struct sp_proc *procs, size_t n,
				     const struct sp_proc *p);

/* Container id named in a runtime's or shim's command line (a CNI
 * plugin's: CNI_CONTAINERID), or NULL. */
const char *sp_proc_container_id(const struct sp_proc *p);

/* Container id a call of containerd or of a shim is about (task or CRI
 * directory, snapshot, network namespace, the process it started), given
 * the other processes' calls; NULL if none. */
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
 * rules; sp_map_release(m) after. */
int sp_map_build(const struct sp_proc **group, size_t n, const char *profile,
		 uint64_t end_hint, struct sp_map *m);
void sp_map_release(struct sp_map *m);

/* Value of a traced process's environment variable recorded at load
 * ("env:NAME=value" marks: a CNI plugin's CNI_*), or NULL. */
const char *sp_proc_env(const struct sp_proc *p, const char *name);

#endif
