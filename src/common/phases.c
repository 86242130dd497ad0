/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.c - the phase rule table and the code that applies it.
 *
 * A top-level phase starts at its start anchor and ends at its end anchor if
 * it has one, else where the next phase starts.  FIRST anchors are searched
 * forward from the previous phase's start, in table order; LAST anchors then
 * backward from the next phase's start.  Sub-spans (pivot_root in
 * rootfs_setup) are one event inside their parent phase.  Phases of the
 * "teardown" section come after the start and are not part of its total.
 *
 * Which process does what (roles.c) is decided from behaviour and relations,
 * not file names.  Which calls belong to which container start: every call
 * of a process whose command line names the container (runtime ID, the
 * shim's -id),
 * and of its descendants (runc init, nsexec's children); of containerd,
 * which serves every container, only the calls about this one: its task
 * directory, its snapshot (the upper dir of the shim's overlay mount names
 * it), and the shim it started.
 */
#include "phases.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP | 0x80 /* NEWTIME */)

#define CALL(r, c, k, cond_, pick_, edge_) \
	{ SP_AK_CALL, r, c, k, cond_, pick_, edge_ }
#define LOAD(r) { SP_AK_LOAD, r, 0, 0, SP_COND_ANY, SP_FIRST, SP_AT_START }
#define PEXIT_LAST(r) { SP_AK_PEXIT, r, 0, 0, SP_COND_ANY, SP_LAST, SP_AT_START }
#define PEXIT_FIRST(r) { SP_AK_PEXIT, r, 0, 0, SP_COND_ANY, SP_FIRST, SP_AT_START }
#define NOEND { SP_AK_NONE, NULL, 0, 0, SP_COND_ANY, SP_FIRST, SP_AT_START }

const struct sp_phase_rule sp_phase_rules[] = {
	/* crun run / crun create+start: one C process and its clone child. */
	{ "crun", "runtime_create", NULL, NULL, LOAD("crun"), NOEND,
	  "crun starts: config, state dir, its own re-exec" },
	{ "crun", "namespace_setup", NULL, NULL,
	  CALL("crun", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_NS, SP_FIRST, SP_AT_START),
	  NOEND, "first clone/unshare with CLONE_NEW* flags" },
	{ "crun", "rootfs_setup", NULL, NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "first mount after the namespaces exist" },
	{ "crun", "pivot_root", "rootfs_setup", NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "crun", "task_start", NULL, NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of the last mount before the entrypoint's exec" },
	{ "crun", "process_exec", NULL, NULL,
	  CALL("crun", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  PEXIT_LAST("crun"),
	  "the entrypoint's execve, until the runtime exits (or a ready mark)" },

	/* runc driven directly: `runc run`, or `runc create` then `runc start`
	 * (scripts, podman/conmon).  The same names as below the shim. */
	{ "runc", "runtime_create", NULL, NULL, LOAD("runc:create|runc:run"), NOEND,
	  "`runc create` or `runc run` starts: config, state, cgroups" },
	{ "runc", "runtime_init", NULL, NULL,
	  CALL("runc:create|runc:run", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "its clone of `runc init` (/proc/self/exe)" },
	{ "runc", "namespace_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "runc init's nsexec: first clone/unshare/setns" },
	{ "runc", "rootfs_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc init's first mount in the new namespaces" },
	{ "runc", "pivot_root", "rootfs_setup", NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "runc", "task_start", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of runc init's last mount: create returns, `runc start` (run starts it itself)" },
	{ "runc", "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  PEXIT_LAST("runc:run|runc:start"),
	  "runc init's exec of the entrypoint, until `runc run` exits with the container, or "
	  "`runc start` returns (or a ready mark)" },
	{ "runc", "runtime_delete", NULL, "teardown",
	  LOAD("runc:delete"), PEXIT_FIRST("runc:delete"), "`runc delete`, start to exit" },

	/* containerd (1.6+), containerd-shim-runc-v2 and runc. */
	{ "containerd", "snapshot_prepare", NULL, NULL,
	  CALL("containerd", SP_CLS_DIR, SP_C_MKDIRAT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("containerd", SP_CLS_DIR, SP_C_RENAMEAT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "containerd's mkdirat of the snapshot's new-NNN directory, until its rename" },
	{ "containerd", "task_create", NULL, NULL,
	  CALL("containerd", SP_CLS_DIR, SP_C_RENAMEAT, SP_COND_ANY, SP_FIRST, SP_AT_END), NOEND,
	  "containerd after the snapshot: container record, task bundle, until the shim starts" },
	{ "containerd", "shim_start", NULL, NULL,
	  CALL("containerd", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "containerd's clone of `containerd-shim-runc-v2 ... -id ID start`" },
	{ "containerd", "snapshot_mount", NULL, NULL,
	  CALL("shim", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_START),
	  CALL("shim", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_END),
	  "the shim's overlay mount of the rootfs, until it returns" },
	{ "containerd", "runtime_create", NULL, NULL,
	  CALL("shim", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "the shim's clone of `runc create`" },
	{ "containerd", "runtime_init", NULL, NULL,
	  CALL("runc:create", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc create's clone of `runc init` (/proc/self/exe)" },
	{ "containerd", "namespace_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "runc init's nsexec: first clone/unshare/setns" },
	{ "containerd", "rootfs_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc init's first mount in the new namespaces" },
	{ "containerd", "pivot_root", "rootfs_setup", NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "containerd", "task_start", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of runc init's last mount: runc create returns, `runc start`" },
	{ "containerd", "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  { SP_AK_LOAD, "runc:delete", 0, 0, SP_COND_ANY, SP_FIRST, SP_AT_START },
	  "runc init's exec of the entrypoint, until `runc delete` (or a ready mark)" },
	{ "containerd", "runtime_delete", NULL, "teardown",
	  LOAD("runc:delete"), PEXIT_FIRST("runc:delete"), "`runc delete`, start to exit" },
	{ "containerd", "snapshot_unmount", NULL, "teardown",
	  CALL("shim", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_START),
	  CALL("shim", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_END),
	  "the shim's umount2 of the rootfs" },
};
const size_t sp_phase_nrules = sizeof(sp_phase_rules) / sizeof(sp_phase_rules[0]);

/* "<...>/io.containerd.runtime.v2.task/<ns>/<id>[/...]" -> id (in buf). */
static const char *task_dir_id(const char *path, char *buf, size_t len)
{
	const char *p = path ? strstr(path, "/io.containerd.runtime.v2.task/") : NULL;
	const char *ns, *id;
	size_t n;

	if (!p)
		return NULL;
	ns = p + 31;
	id = strchr(ns, '/');
	if (!id || !id[1])
		return NULL;
	id++;
	n = strcspn(id, "/");
	if (!n || n >= len)
		return NULL;
	memcpy(buf, id, n);
	buf[n] = '\0';
	return buf;
}

/* ".../snapshots/<sid>[/...]" -> sid. */
static const char *snapshot_id(const char *path, char *buf, size_t len)
{
	const char *p = path ? strstr(path, "/snapshots/") : NULL;
	size_t n;

	if (!p)
		return NULL;
	p += 11;
	n = strcspn(p, "/");
	if (!n || n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* The container whose shim mounted snapshot `sid` (its overlay upper dir). */
static const char *snapshot_owner(const char *sid, const struct sp_proc *procs, size_t n)
{
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		if (strcmp(sp_proc_role(&procs[i]), "shim") != 0)
			continue;
		for (size_t k = 0; k < procs[i].nspans; k++) {
			const struct sp_span *s = &procs[i].spans[k];
			const char *up = s->nstr > 4 ? s->strs[4] : NULL;

			if (s->call == SP_C_MOUNT && up && *up &&
			    snapshot_id(up, buf, sizeof(buf)) && strcmp(buf, sid) == 0)
				return sp_proc_container_id(&procs[i]);
		}
	}
	return NULL;
}

/* The shim that pid became at or after t (a clone's child, an exec in a
 * vfork child): the one with that host pid loaded first from t on, within
 * a minute.  Pids are reused: a directory that keeps many starts holds
 * older processes with the same pid, and a lookup by pid alone finds them. */
static const char *shim_with_pid(int pid, uint64_t t, const struct sp_proc *procs, size_t n)
{
	const struct sp_proc *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = &procs[i];

		if (p->host_pid != pid || strncmp(sp_proc_role(p), "shim", 4) != 0 ||
		    p->t_load_ns < t || p->t_load_ns - t > 60000000000ULL)
			continue;
		if (!best || p->t_load_ns < best->t_load_ns)
			best = p;
	}
	return best ? sp_proc_container_id(best) : NULL;
}

const char *sp_containerd_call_cid(const struct sp_span *s, const struct sp_proc *procs,
				   size_t nprocs)
{
	static __thread char buf[128];
	char sid[64];
	const char *a = s->nstr > 0 ? s->strs[0] : NULL, *b = s->nstr > 1 ? s->strs[1] : NULL;
	const char *id;

	if (sp_call_info(s->call)->cls & SP_CLS_CLONE)
		return s->ret_arg ? shim_with_pid((int)s->ret_arg, s->t0, procs, nprocs) : NULL;
	if (sp_call_info(s->call)->cls & SP_CLS_EXEC)
		return shim_with_pid(s->pid, s->t0, procs, nprocs); /* in the vfork child */
	if ((id = task_dir_id(a, buf, sizeof(buf))) || (id = task_dir_id(b, buf, sizeof(buf))))
		return id;
	if (s->call == SP_C_RENAMEAT || s->call == SP_C_RENAME || s->call == SP_C_RENAMEAT2) {
		/* new-NNN -> <sid>: the snapshot's final name */
		if (b && snapshot_id(b, sid, sizeof(sid)))
			return snapshot_owner(sid, procs, nprocs);
	}
	if (s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) {
		const struct sp_proc *p = NULL;
		char tmp[64];

		/* new-NNN: find its rename to learn the snapshot id. */
		if (!a || !snapshot_id(a, tmp, sizeof(tmp)) || strncmp(tmp, "new-", 4) != 0)
			return NULL;
		for (size_t i = 0; i < nprocs && !p; i++)
			if (s >= procs[i].spans && s < procs[i].spans + procs[i].nspans)
				p = &procs[i];
		for (size_t k = 0; p && k < p->nspans; k++) {
			const struct sp_span *r = &p->spans[k];
			char from[64];

			if ((r->call == SP_C_RENAMEAT || r->call == SP_C_RENAME ||
			     r->call == SP_C_RENAMEAT2) && r->nstr > 1 &&
			    snapshot_id(r->strs[0], from, sizeof(from)) && strcmp(from, tmp) == 0 &&
			    snapshot_id(r->strs[1], sid, sizeof(sid)))
				return snapshot_owner(sid, procs, nprocs);
		}
	}
	return NULL;
}

/* ---- events ---- */

struct ev {
	uint64_t t0, t1;
	enum sp_anchor_kind kind;
	const struct sp_proc *proc;
	const struct sp_span *span;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* want: a role, "*", or alternatives "a|b".  "shim" means the shim
 * daemon; "runc" any runc process. */
static int role_ok(const char *want, const struct sp_proc *p)
{
	const char *role;
	size_t rl;

	if (!want || strcmp(want, "*") == 0)
		return 1;
	role = sp_proc_role(p);
	rl = strlen(role);
	for (const char *w = want; *w;) {
		size_t l = strcspn(w, "|");

		if ((l == rl && strncmp(w, role, l) == 0) ||
		    (l == 4 && strncmp(w, "runc", 4) == 0 && strncmp(role, "runc", 4) == 0))
			return 1;
		w += l;
		if (*w == '|')
			w++;
	}
	return 0;
}

static int matches(const struct sp_anchor *a, const struct ev *e)
{
	const struct sp_span *s = e->span;

	if (a->kind != e->kind || !role_ok(a->role, e->proc))
		return 0;
	if (a->kind != SP_AK_CALL)
		return 1;
	if (a->call != SP_C_NONE && s->call != a->call)
		return 0;
	if (a->cls && !(sp_call_info(s->call)->cls & a->cls))
		return 0;
	switch (a->cond) {
	case SP_COND_NS:
		if (s->call == SP_C_SETNS)
			return 1;
		return (s->call == SP_C_CLONE || s->call == SP_C_CLONE3 ||
			s->call == SP_C_UNSHARE) && (s->arg[0] & NS_FLAGS);
	case SP_COND_CONTAINED:
		return (s->flags & SP_RF_CONTAINED) != 0;
	case SP_COND_OK:
		return s->has_exit && s->result >= 0;
	case SP_COND_OVERLAY:
		return s->nstr > 2 && s->strs[2] && strcmp(s->strs[2], "overlay") == 0;
	default:
		return 1;
	}
}

static uint64_t edge_time(const struct sp_anchor *a, const struct ev *e)
{
	return a->edge == SP_AT_END ? e->t1 : e->t0;
}

/* First match with time >= lo (and <= hi if hi), or last match in [lo, hi]. */
static const struct ev *find(const struct sp_anchor *a, const struct ev *evs, size_t n,
			     uint64_t lo, uint64_t hi)
{
	const struct ev *best = NULL;

	for (size_t i = 0; i < n; i++) {
		uint64_t t = edge_time(a, &evs[i]);

		if (t < lo || (hi && t > hi) || !matches(a, &evs[i]))
			continue;
		if (a->pick == SP_FIRST)
			return &evs[i];
		best = &evs[i];
	}
	return best;
}

/* ---- why a phase was not seen ---- */

/* A sentence cut at the buffer's end is fine here (gcc warns; clang has
 * no such warning). */
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static const char *class_name(unsigned cls)
{
	return cls == (SP_CLS_CLONE | SP_CLS_NS) ? "clone/unshare/setns"
	       : cls & SP_CLS_MOUNT ? "mount" : cls & SP_CLS_EXEC ? "exec"
	       : cls & SP_CLS_CLONE ? "clone" : cls & SP_CLS_NS ? "unshare/setns"
	       : cls & SP_CLS_DIR ? "mkdir/rename" : "";
}

/* What an anchor asks for, in words: "runc:init's first mount call". */
static void anchor_words(const struct sp_anchor *a, char *buf, size_t len)
{
	const char *role = a->role && strcmp(a->role, "*") ? a->role : "any process";
	const char *pick = a->pick == SP_FIRST ? "first" : "last";

	switch (a->kind) {
	case SP_AK_LOAD:
		snprintf(buf, len, "a %s process to start", role);
		break;
	case SP_AK_PEXIT:
		snprintf(buf, len, "a %s process to exit", role);
		break;
	default:
		snprintf(buf, len, "%s's %s %s call%s", role, pick,
			 a->call ? sp_call_info(a->call)->name : class_name(a->cls),
			 a->cond == SP_COND_NS ? " making namespaces"
			 : a->cond == SP_COND_CONTAINED ? " after the pivot"
			 : a->cond == SP_COND_OVERLAY ? " (overlay)"
			 : a->cond == SP_COND_OK ? " that succeeded" : "");
	}
}

/* Why no event matched a (not seen): no process in that role at all (a gap
 * in recording: not traced, or not recognised), processes but none of the
 * calls asked for (not recorded), or calls that do not fit the rule. */
static void explain(const struct sp_anchor *a, const struct ev *evs, size_t nev,
		    const struct sp_map *m, char *why, size_t len)
{
	char want[128];
	const struct sp_proc *who = NULL;
	size_t nrole = 0, ncls = 0;

	anchor_words(a, want, sizeof(want));
	for (size_t i = 0; i < m->nprocs; i++)
		if (role_ok(a->role, m->procs[i])) {
			nrole++;
			who = who ? who : m->procs[i];
		}
	if (!nrole) {
		snprintf(why, len, "expected %s: no %s process was recorded in this start (not "
			 "traced: static without startpath-exec, or not recording; or not "
			 "recognised as %s)", want, a->role, a->role);
		return;
	}
	if (a->kind != SP_AK_CALL) {
		snprintf(why, len, "expected %s: %zu %s process%s recorded, none %s here", want,
			 nrole, a->role, nrole == 1 ? "" : "es",
			 a->kind == SP_AK_LOAD ? "started" : "exited");
		return;
	}
	for (size_t i = 0; i < nev; i++)
		if (evs[i].kind == SP_AK_CALL && role_ok(a->role, evs[i].proc) &&
		    (!a->call || evs[i].span->call == a->call) &&
		    (!a->cls || (sp_call_info(evs[i].span->call)->cls & a->cls)))
			ncls++;
	if (!ncls)
		snprintf(why, len, "expected %s: %s (%s[%d]) recorded no %s call%s", want, a->role,
			 sp_proc_comm(who), who->host_pid ? who->host_pid : who->pid,
			 a->call ? sp_call_info(a->call)->name : class_name(a->cls),
			 a->cls & SP_CLS_DIR ? " (mkdir/rename are recorded only under "
					       "STARTPATH_PREFIXES or containerd's root and state)"
					     : "");
	else
		snprintf(why, len, "expected %s: %zu such call%s recorded, none fits the rule "
			 "(its condition or order): a gap in the rules", want, ncls,
			 ncls == 1 ? "" : "s");
}

#pragma GCC diagnostic pop

static int add_proc(struct sp_map *m, const struct sp_proc *p)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i] == p)
			return 0;
	m->procs[m->nprocs++] = p;
	m->lost += p->lost;
	return 0;
}

/* Build m from its events (sorted here).  m->procs must be allocated. */
static int map_from_events(struct ev *evs, size_t nev, const char *profile, uint64_t end_hint,
			   uint64_t ready, struct sp_map *m)
{
	const struct sp_phase_rule *top[SP_MAP_MAX_PHASES];
	const struct ev *hit[SP_MAP_MAX_PHASES] = { 0 };
	size_t ntop = 0;
	uint64_t lo = 0;

	m->profile = profile;
	qsort(evs, nev, sizeof(*evs), ev_cmp);
	m->calls = malloc((nev ? nev : 1) * sizeof(*m->calls));
	if (!m->calls)
		return -1;
	for (size_t i = 0; i < nev; i++) {
		if (evs[i].kind == SP_AK_CALL)
			m->calls[m->ncalls++] = (struct sp_map_call){ evs[i].proc, evs[i].span };
		add_proc(m, evs[i].proc);
	}
	for (size_t r = 0; r < sp_phase_nrules && ntop < SP_MAP_MAX_PHASES; r++)
		if (strcmp(sp_phase_rules[r].profile, profile) == 0 && !sp_phase_rules[r].parent)
			top[ntop++] = &sp_phase_rules[r];
	/* FIRST anchors, forward (teardown phases from the start's end). */
	for (size_t i = 0; i < ntop; i++) {
		if (top[i]->start.pick != SP_FIRST)
			continue;
		hit[i] = find(&top[i]->start, evs, nev, top[i]->section ? 0 : lo, 0);
		if (hit[i] && !top[i]->section)
			lo = edge_time(&top[i]->start, hit[i]);
	}
	/* LAST anchors, backward from the next phase found. */
	for (size_t i = 0; i < ntop; i++) {
		uint64_t from = 0, to = 0;

		if (top[i]->start.pick != SP_LAST)
			continue;
		for (size_t k = i; k-- > 0;)
			if (hit[k]) {
				from = edge_time(&top[k]->start, hit[k]);
				break;
			}
		for (size_t k = i + 1; k < ntop; k++)
			if (hit[k]) {
				to = edge_time(&top[k]->start, hit[k]);
				break;
			}
		hit[i] = find(&top[i]->start, evs, nev, from, to);
	}
	for (size_t i = 0; i < ntop; i++) {
		struct sp_map_phase *ph = &m->phases[m->nphases++];

		ph->name = top[i]->phase;
		ph->section = top[i]->section;
		ph->seen = hit[i] != NULL;
		if (!hit[i]) {
			if (!top[i]->section)
				m->nmissing++;
			explain(&top[i]->start, evs, nev, m, ph->why, sizeof(ph->why));
			continue;
		}
		ph->t0 = edge_time(&top[i]->start, hit[i]);
		ph->proc = hit[i]->proc;
		ph->span = hit[i]->span;
	}
	/* Ends: the end anchor, else the next seen phase's start, else end_hint. */
	for (size_t i = 0; i < ntop; i++) {
		struct sp_map_phase *ph = &m->phases[i];
		uint64_t end = 0;

		if (!ph->seen)
			continue;
		/* A readiness probe ends the entrypoint's phase: the service is up. */
		if (ready > ph->t0 && strcmp(ph->name, "process_exec") == 0) {
			end = ready;
			m->ready_ns = ready;
		}
		if (!end && top[i]->end.kind != SP_AK_NONE) {
			const struct ev *e = find(&top[i]->end, evs, nev, ph->t0, 0);

			if (e)
				end = edge_time(&top[i]->end, e);
		}
		for (size_t k = i + 1; !end && !top[i]->section && k < ntop; k++)
			if (m->phases[k].seen && !m->phases[k].section)
				end = m->phases[k].t0;
		if (!end && end_hint > ph->t0 && !top[i]->section)
			end = end_hint;
		ph->t1 = end > ph->t0 ? end : ph->t0;
		if (ph->section)
			continue;
		if (!m->t0 || ph->t0 < m->t0)
			m->t0 = ph->t0;
		if (ph->t1 > m->t1)
			m->t1 = ph->t1;
	}
	/* The bottleneck: the longest phase of the start. */
	{
		struct sp_map_phase *b = NULL;

		for (size_t i = 0; i < m->nphases; i++)
			if (m->phases[i].seen && !m->phases[i].section &&
			    (!b || m->phases[i].t1 - m->phases[i].t0 > b->t1 - b->t0))
				b = &m->phases[i];
		if (b)
			b->bottleneck = 1;
	}
	/* Sub-spans, placed right after their parent. */
	for (size_t r = 0; r < sp_phase_nrules; r++) {
		const struct sp_phase_rule *rule = &sp_phase_rules[r];
		struct sp_map_phase *ph, *par = NULL;
		const struct ev *s = NULL, *e = NULL;
		size_t at = 0;

		if (strcmp(rule->profile, profile) != 0 || !rule->parent)
			continue;
		if (m->nphases >= SP_MAP_MAX_PHASES)
			break;
		for (size_t i = 0; i < m->nphases; i++)
			if (!m->phases[i].parent && strcmp(m->phases[i].name, rule->parent) == 0)
				at = i + 1;
		if (!at)
			continue;
		while (at < m->nphases && m->phases[at].parent)
			at++;
		memmove(&m->phases[at + 1], &m->phases[at], (m->nphases - at) * sizeof(m->phases[0]));
		m->nphases++;
		ph = &m->phases[at];
		memset(ph, 0, sizeof(*ph));
		ph->name = rule->phase;
		ph->parent = rule->parent;
		par = &m->phases[at - 1];
		while (par->parent)
			par--;
		if (par->seen) {
			s = find(&rule->start, evs, nev, par->t0, par->t1);
			if (s)
				e = find(&rule->end, evs, nev, edge_time(&rule->start, s), par->t1);
		}
		if (s) {
			ph->seen = 1;
			ph->t0 = edge_time(&rule->start, s);
			ph->t1 = e ? edge_time(&rule->end, e) : ph->t0;
			ph->proc = s->proc;
			ph->span = s->span;
		} else if (!par->seen) {
			snprintf(ph->why, sizeof(ph->why), "its phase %s was not seen", par->name);
		} else {
			explain(&rule->start, evs, nev, m, ph->why, sizeof(ph->why));
		}
	}
	return 0;
}

static int push_proc_events(struct ev *evs, size_t *n, const struct sp_proc *p)
{
	if (!p->forked)
		evs[(*n)++] = (struct ev){ p->t_load_ns, p->t_load_ns, SP_AK_LOAD, p, NULL };
	if (p->exited)
		evs[(*n)++] = (struct ev){ p->t_exit_ns, p->t_exit_ns, SP_AK_PEXIT, p, NULL };
	for (size_t k = 0; k < p->nspans; k++)
		evs[(*n)++] = (struct ev){ p->spans[k].t0, p->spans[k].t1, SP_AK_CALL, p,
					   &p->spans[k] };
	return 0;
}

int sp_map_build(const struct sp_proc **group, size_t n, const char *profile,
		 uint64_t end_hint, struct sp_map *m)
{
	size_t cap = 0, nev = 0;
	struct ev *evs;
	int rc;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++)
		cap += group[i]->nspans + 2;
	evs = malloc((cap ? cap : 1) * sizeof(*evs));
	m->procs = malloc((n ? n : 1) * sizeof(*m->procs));
	if (!evs || !m->procs) {
		free(evs);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		push_proc_events(evs, &nev, group[i]);
	rc = map_from_events(evs, nev, profile, end_hint, 0, m);
	free(evs);
	return rc;
}

/* ---- finding the starts ---- */

static int map_cmp(const void *a, const void *b)
{
	const struct sp_map *x = a, *y = b;

	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

/* Container id of every process: its command line, else its parent's
 * (the ring it forked from, else the host parent pid: of the processes with
 * that pid loaded before it, the latest, since pids are reused). */
static void resolve_cids(const struct sp_proc *procs, size_t n, const char **cid)
{
	int changed = 1;

	for (size_t i = 0; i < n; i++)
		cid[i] = sp_proc_container_id(&procs[i]);
	for (int pass = 0; changed && pass < 16; pass++) {
		changed = 0;
		for (size_t i = 0; i < n; i++) {
			const struct sp_proc *parent = NULL;

			if (cid[i] || strcmp(sp_proc_role(&procs[i]), "containerd") == 0)
				continue;
			for (size_t k = 0; k < n; k++) {
				if (k == i)
					continue;
				if (procs[i].parent_ring_id) {
					if (procs[k].ring_id == procs[i].parent_ring_id) {
						parent = &procs[k];
						break;
					}
				} else if (procs[i].ppid && procs[k].host_pid == procs[i].ppid &&
					   procs[k].t_load_ns <= procs[i].t_load_ns &&
					   (!parent || procs[k].t_load_ns > parent->t_load_ns)) {
					parent = &procs[k];
				}
			}
			if (parent && cid[parent - procs]) {
				cid[i] = cid[parent - procs];
				changed = 1;
			}
		}
	}
}

static const char *profile_for(const struct sp_proc *procs, size_t n, const char **cid,
			       const char *want)
{
	int crun = 0, shim = 0, runc = 0;

	for (size_t i = 0; i < n; i++) {
		const char *role;

		if (!cid[i] || strcmp(cid[i], want) != 0)
			continue;
		role = sp_proc_role(&procs[i]);
		if (strncmp(role, "shim", 4) == 0)
			shim = 1;
		else if (strcmp(role, "crun") == 0)
			crun = 1;
		else if (strcmp(role, "runc:create") == 0 || strcmp(role, "runc:run") == 0)
			runc = 1;
	}
	return shim ? "containerd" : crun ? "crun" : runc ? "runc" : NULL;
}

int sp_maps_build(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
		  struct sp_map **out)
{
	return sp_maps_build_ready(procs, nprocs, end_hint, 0, out);
}

int sp_maps_build_ready(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
			uint64_t ready, struct sp_map **out)
{
	const char **cid = calloc(nprocs ? nprocs : 1, sizeof(*cid));
	const char **ccid = NULL; /* containerd calls: their container */
	size_t *cbase = calloc(nprocs + 1, sizeof(*cbase)), ncc = 0;
	struct sp_map *maps = NULL;
	struct ev *evs = NULL;
	size_t cap = 0;
	int nmaps = 0;

	*out = NULL;
	if (!cid || !cbase)
		goto fail;
	/* Roles are a cache in each process, filled here from the whole set
	 * (the processes are otherwise left as they are). */
	sp_roles_assign((struct sp_proc *)procs, nprocs);
	resolve_cids(procs, nprocs, cid);
	for (size_t i = 0; i < nprocs; i++) {
		cbase[i] = ncc;
		if (strcmp(sp_proc_role(&procs[i]), "containerd") == 0)
			ncc += procs[i].nspans;
		cap += procs[i].nspans + 2;
	}
	cbase[nprocs] = ncc;
	ccid = calloc(ncc ? ncc : 1, sizeof(*ccid));
	evs = malloc((cap ? cap : 1) * sizeof(*evs));
	if (!ccid || !evs)
		goto fail;
	for (size_t i = 0; i < nprocs; i++)
		if (strcmp(sp_proc_role(&procs[i]), "containerd") == 0)
			for (size_t k = 0; k < procs[i].nspans; k++) {
				const char *c = sp_containerd_call_cid(&procs[i].spans[k], procs, nprocs);

				/* c may be a thread-local buffer: keep the process's
				 * copy (a container without processes has no map). */
				for (size_t q = 0; c && q < nprocs; q++)
					if (cid[q] && strcmp(cid[q], c) == 0) {
						ccid[cbase[i] + k] = cid[q];
						break;
					}
			}
	for (size_t i = 0; i < nprocs; i++) {
		const char *want = cid[i], *profile;
		struct sp_map *grown;
		size_t nev = 0, seen_before = 0;

		if (!want)
			continue;
		for (size_t k = 0; k < i; k++)
			if (cid[k] && strcmp(cid[k], want) == 0)
				seen_before = 1;
		if (seen_before)
			continue;
		profile = profile_for(procs, nprocs, cid, want);
		if (!profile)
			continue;
		for (size_t k = 0; k < nprocs; k++) {
			if (cid[k] && strcmp(cid[k], want) == 0) {
				push_proc_events(evs, &nev, &procs[k]);
			} else if (cbase[k + 1] > cbase[k]) {
				for (size_t q = 0; q < procs[k].nspans; q++) {
					const char *c = ccid[cbase[k] + q];

					if (c && strcmp(c, want) == 0)
						evs[nev++] = (struct ev){ procs[k].spans[q].t0,
									  procs[k].spans[q].t1,
									  SP_AK_CALL, &procs[k],
									  &procs[k].spans[q] };
				}
			}
		}
		grown = realloc(maps, (size_t)(nmaps + 1) * sizeof(*maps));
		if (!grown)
			goto fail;
		maps = grown;
		memset(&maps[nmaps], 0, sizeof(maps[0]));
		maps[nmaps].procs = malloc((nprocs ? nprocs : 1) * sizeof(*maps[nmaps].procs));
		nmaps++;
		if (!maps[nmaps - 1].procs ||
		    map_from_events(evs, nev, profile, end_hint, ready, &maps[nmaps - 1]) < 0)
			goto fail;
		snprintf(maps[nmaps - 1].container_id, sizeof(maps[0].container_id), "%s", want);
	}
	if (nmaps > 1)
		qsort(maps, (size_t)nmaps, sizeof(*maps), map_cmp);
	free(cid);
	free(ccid);
	free(cbase);
	free(evs);
	*out = maps;
	return nmaps;
fail:
	sp_maps_free(maps, nmaps);
	free(cid);
	free(ccid);
	free(cbase);
	free(evs);
	return -1;
}

void sp_maps_free(struct sp_map *maps, int n)
{
	for (int i = 0; i < n; i++) {
		free(maps[i].procs);
		free(maps[i].calls);
	}
	free(maps);
}
