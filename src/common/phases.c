/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.c - the code that applies a profile's phase rules (src/profiles).
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
 * shim's -id, conmon's -c, a CNI plugin's CNI_CONTAINERID), and of its
 * descendants (runc init, nsexec's children, an IPAM plugin); of the
 * processes that serve many containers (containerd, a pod's shim, dockerd)
 * only the calls about this one: its task or CRI directory, its snapshot
 * or docker layer (named by the rootfs mount that used it), its network
 * namespace, the process it started.  A `runc exec` is a start of its own.
 * A pod's sandbox map then takes in its containers' maps (pods_merge).
 */
#include "phases.h"
#include "pull.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP | 0x80 /* NEWTIME */)

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

/* ".../io.containerd.grpc.v1.cri/{sandboxes,containers}/<id>[/...]" -> id;
 * *sandbox set for a sandbox's. */
static const char *cri_dir_id(const char *path, char *buf, size_t len, int *sandbox)
{
	const char *p = path ? strstr(path, "/io.containerd.grpc.v1.cri/") : NULL;
	size_t n;

	if (!p)
		return NULL;
	p += 27;
	if (strncmp(p, "sandboxes/", 10) == 0)
		p += 10, *sandbox = 1;
	else if (strncmp(p, "containers/", 11) == 0)
		p += 11, *sandbox = 0;
	else
		return NULL;
	n = strcspn(p, "/");
	if (!n || n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static int is_rename(unsigned call)
{
	return call == SP_C_RENAMEAT || call == SP_C_RENAME || call == SP_C_RENAMEAT2;
}

static int is_umount(unsigned call)
{
	return call == SP_C_UMOUNT2 || call == SP_C_UMOUNT;
}

/* The process whose spans hold s. */
static const struct sp_proc *owner_proc(const struct sp_span *s, const struct sp_proc *procs,
					size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s >= procs[i].spans && s < procs[i].spans + procs[i].nspans)
			return &procs[i];
	return NULL;
}

/* The container whose rootfs was mounted from snapshot `sid` (an overlay
 * upper dir in it): the task directory of the mount's target, else the
 * mounting shim's -id. */
static const char *snapshot_owner(const char *sid, const struct sp_proc *procs, size_t n,
				  char *out, size_t outlen)
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
				return task_dir_id(s->nstr > 1 ? s->strs[1] : NULL, out, outlen)
					       ? out : sp_proc_container_id(&procs[i]);
		}
	}
	return NULL;
}

/* The sandbox whose CNI plugins were given network namespace `path`. */
static const char *netns_owner(const char *path, const struct sp_proc *procs, size_t n)
{
	for (size_t i = 0; path && i < n; i++) {
		const char *ns = sp_proc_env(&procs[i], "CNI_NETNS");

		if (ns && strcmp(ns, path) == 0)
			return sp_proc_container_id(&procs[i]);
	}
	return NULL;
}

/* The network namespace path of a mount (target) or umount (path), if it
 * is one that keeps a pod's namespace (".../netns/<name>"). */
static const char *netns_path(const struct sp_span *s)
{
	const char *t = s->call == SP_C_MOUNT ? (s->nstr > 1 ? s->strs[1] : NULL)
			: is_umount(s->call) ? (s->nstr > 0 ? s->strs[0] : NULL) : NULL;

	return t && strstr(t, "/netns/") ? t : NULL;
}

/* The process that pid became at or after t (a clone's child, an exec in a
 * vfork child): the one with that host pid loaded first from t on, within
 * a minute.  Pids are reused: a directory that keeps many starts holds
 * older processes with the same pid, and a lookup by pid alone finds them. */
static const struct sp_proc *proc_with_pid(int pid, uint64_t t, const struct sp_proc *procs,
					   size_t n)
{
	const struct sp_proc *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = &procs[i];

		if (p->host_pid != pid || p->forked || p->t_load_ns < t ||
		    p->t_load_ns - t > 60000000000ULL)
			continue;
		if (!best || p->t_load_ns < best->t_load_ns)
			best = p;
	}
	return best;
}

static const char *cid_of_pid(int pid, uint64_t t, const struct sp_proc *procs, size_t n)
{
	const struct sp_proc *p = proc_with_pid(pid, t, procs, n);

	return p ? sp_proc_container_id(p) : NULL;
}

/* containerd makes a pod's network namespace on one thread: unshare, the
 * bind mount that keeps it, setns back.  The namespace mount of thread tid
 * nearest to t (within 50 ms, after it if after). */
static const struct sp_span *netns_mount_near(const struct sp_proc *p, int tid, uint64_t t,
					      int after)
{
	const struct sp_span *best = NULL;

	for (size_t k = 0; k < p->nspans; k++) {
		const struct sp_span *m = &p->spans[k];

		if (m->tid != tid || m->call != SP_C_MOUNT || !netns_path(m))
			continue;
		if (after ? (m->t0 >= t && m->t0 - t < 50000000 && (!best || m->t0 < best->t0))
			  : (m->t1 <= t && t - m->t1 < 50000000 && (!best || m->t1 > best->t1)))
			best = m;
	}
	return best;
}

/* Docker: "<data-root>/containers/<id>[/...]" and
 * ".../layerdb/mounts/<id>[/...]" -> id. */
static const char *docker_dir_id(const char *path, char *buf, size_t len)
{
	static const char *const keys[] = { "/containers/", "/layerdb/mounts/", NULL };

	for (int k = 0; path && keys[k]; k++) {
		const char *p = strstr(path, keys[k]);
		size_t n;

		if (!p)
			continue;
		p += strlen(keys[k]);
		n = strcspn(p, "/");
		if (n == 64 && n < len) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

/* The container of docker's overlay2 layer <m> (".../overlay2/<m>[-init]"):
 * the one whose runc init bind-mounts <m>/merged (its rootfs) onto itself;
 * its container is that of the runtime it came from. */
static const char *docker_layer_owner(const char *path, const struct sp_proc *procs, size_t n)
{
	const char *p = path ? strstr(path, "/overlay2/") : NULL;
	char want[96];
	size_t l;

	if (!p)
		return NULL;
	p += 10;
	l = strcspn(p, "/");
	if (l >= 4 && l < 80 && strncmp(p + l - 5, "-init", 5) == 0)
		l -= 5;
	if (l < 16 || l >= 80)
		return NULL;
	snprintf(want, sizeof(want), "/overlay2/%.*s/merged", (int)l, p);
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *q = &procs[i];

		if (strcmp(sp_proc_role(q), "runc:init") != 0)
			continue;
		for (size_t k = 0; k < q->nspans; k++) {
			const struct sp_span *m = &q->spans[k];

			if (m->call == SP_C_MOUNT && m->nstr > 1 && m->strs[0] && m->strs[1] &&
			    strstr(m->strs[0], want) && strcmp(m->strs[0], m->strs[1]) == 0) {
				for (int up = 0; q && up < 8; up++, q = sp_proc_parent(procs, n, q))
					if (sp_proc_container_id(q))
						return sp_proc_container_id(q);
				return NULL;
			}
		}
	}
	return NULL;
}

/* The container of the process whose pid is in "/proc/<pid>/ns/net" (a
 * network namespace docker keeps by bind-mounting it), at time t. */
static const char *ns_pid_owner(const char *src, uint64_t t, const struct sp_proc *procs, size_t n)
{
	const struct sp_proc *best = NULL;
	int pid;

	if (!src || sscanf(src, "/proc/%d/ns/", &pid) != 1)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (procs[i].host_pid == pid && procs[i].t_load_ns <= t &&
		    (!best || procs[i].t_load_ns > best->t_load_ns))
			best = &procs[i];
	for (int up = 0; best && up < 8; up++, best = sp_proc_parent(procs, n, best))
		if (sp_proc_container_id(best))
			return sp_proc_container_id(best);
	return NULL;
}

const char *sp_containerd_call_cid(const struct sp_span *s, const struct sp_proc *procs,
				   size_t nprocs)
{
	static __thread char buf[128];
	char sid[64];
	const char *a = s->nstr > 0 ? s->strs[0] : NULL, *b = s->nstr > 1 ? s->strs[1] : NULL;
	const char *id;
	const struct sp_proc *p;
	int sandbox;

	if (sp_call_info(s->call)->cls & SP_CLS_CLONE)
		return s->ret_arg ? cid_of_pid((int)s->ret_arg, s->t0, procs, nprocs) : NULL;
	if (sp_call_info(s->call)->cls & SP_CLS_EXEC)
		return cid_of_pid(s->pid, s->t0, procs, nprocs); /* in the vfork child */
	if ((id = task_dir_id(a, buf, sizeof(buf))) || (id = task_dir_id(b, buf, sizeof(buf))) ||
	    (id = cri_dir_id(a, buf, sizeof(buf), &sandbox)) ||
	    (id = cri_dir_id(b, buf, sizeof(buf), &sandbox)))
		return id;
	if ((p = owner_proc(s, procs, nprocs)) && strcmp(sp_proc_role(p), "dockerd") == 0) {
		/* Docker's layers, records and the netns it keeps. */
		if ((id = docker_dir_id(a, buf, sizeof(buf))) || (id = docker_dir_id(b, buf, sizeof(buf))))
			return id;
		if (s->call == SP_C_MOUNT && (id = ns_pid_owner(a, s->t0, procs, nprocs)))
			return id;
		if ((id = docker_layer_owner(s->call == SP_C_MOUNT ? b : a, procs, nprocs)))
			return id;
	}
	if (netns_path(s) && (id = netns_owner(netns_path(s), procs, nprocs)))
		return id;
	if ((s->call == SP_C_UNSHARE && (s->arg[0] & CLONE_NEWNET)) ||
	    (s->call == SP_C_SETNS && s->arg[1] == CLONE_NEWNET)) {
		const struct sp_span *m;

		p = owner_proc(s, procs, nprocs);
		m = p ? netns_mount_near(p, s->tid, s->call == SP_C_UNSHARE ? s->t1 : s->t0,
					 s->call == SP_C_UNSHARE) : NULL;
		return m ? netns_owner(netns_path(m), procs, nprocs) : NULL;
	}
	if (s->call == SP_C_MOUNT && s->nstr > 4 && snapshot_id(s->strs[4], sid, sizeof(sid)))
		return snapshot_owner(sid, procs, nprocs, buf, sizeof(buf)); /* a temporary mount */
	if (is_umount(s->call) && a && (p = owner_proc(s, procs, nprocs))) {
		/* What was mounted there last before. */
		const struct sp_span *m = NULL;

		for (size_t k = 0; k < p->nspans; k++)
			if (p->spans[k].call == SP_C_MOUNT && p->spans[k].nstr > 1 &&
			    p->spans[k].strs[1] && strcmp(p->spans[k].strs[1], a) == 0 &&
			    p->spans[k].t0 <= s->t0)
				m = &p->spans[k];
		return m ? sp_containerd_call_cid(m, procs, nprocs) : NULL;
	}
	if (is_rename(s->call)) {
		/* new-NNN -> <sid>: the snapshot's final name */
		if (b && snapshot_id(b, sid, sizeof(sid)))
			return snapshot_owner(sid, procs, nprocs, buf, sizeof(buf));
	}
	if (s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) {
		char tmp[64];

		/* new-NNN: find its rename to learn the snapshot id. */
		if (!a || !snapshot_id(a, tmp, sizeof(tmp)) || strncmp(tmp, "new-", 4) != 0)
			return NULL;
		p = owner_proc(s, procs, nprocs);
		for (size_t k = 0; p && k < p->nspans; k++) {
			const struct sp_span *r = &p->spans[k];
			char from[64];

			if (is_rename(r->call) && r->nstr > 1 &&
			    snapshot_id(r->strs[0], from, sizeof(from)) && strcmp(from, tmp) == 0 &&
			    snapshot_id(r->strs[1], sid, sizeof(sid)))
				return snapshot_owner(sid, procs, nprocs, buf, sizeof(buf));
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
 * daemon; "runc" any runc process, "crun" any crun process. */
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
		    (l == 4 && strncmp(w, "runc", 4) == 0 && strncmp(role, "runc", 4) == 0) ||
		    (l == 4 && strncmp(w, "crun", 4) == 0 && strncmp(role, "crun", 4) == 0))
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
	if (a->path) {
		unsigned k = 0;

		while (k < s->nstr && !(s->strs[k] && strstr(s->strs[k], a->path)))
			k++;
		if (k == s->nstr)
			return 0;
	}
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
		snprintf(buf, len, "%s's %s %s call%s%s%s", role, pick,
			 a->call ? sp_call_info(a->call)->name : class_name(a->cls),
			 a->path ? " on a path with " : "", a->path ? a->path : "",
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

#define MAX_TOP 32

/* Room for n more phases in m. */
static int phases_room(struct sp_map *m, size_t n)
{
	struct sp_map_phase *g;

	if (m->nphases + n <= m->capphases)
		return 0;
	g = realloc(m->phases, (m->nphases + n + 8) * sizeof(*g));
	if (!g)
		return -1;
	memset(g + m->capphases, 0, (m->nphases + n + 8 - m->capphases) * sizeof(*g));
	m->phases = g;
	m->capphases = m->nphases + n + 8;
	return 0;
}

/* Build m from its events (sorted here).  m->procs must be allocated. */
static int map_from_events(struct ev *evs, size_t nev, const char *profile, uint64_t end_hint,
			   uint64_t ready, struct sp_map *m)
{
	const struct sp_profile *prof = sp_profile_by_name(profile);
	const struct sp_phase_rule *top[MAX_TOP];
	const struct ev *hit[MAX_TOP] = { 0 };
	size_t ntop = 0;
	uint64_t lo = 0;

	m->profile = profile;
	qsort(evs, nev, sizeof(*evs), ev_cmp);
	m->calls = malloc((nev ? nev : 1) * sizeof(*m->calls));
	if (!m->calls || !prof || phases_room(m, prof->nrules) < 0)
		return -1;
	for (size_t i = 0; i < nev; i++) {
		if (evs[i].kind == SP_AK_CALL)
			m->calls[m->ncalls++] = (struct sp_map_call){ evs[i].proc, evs[i].span };
		add_proc(m, evs[i].proc);
	}
	for (size_t r = 0; r < prof->nrules && ntop < MAX_TOP; r++)
		if (!prof->rules[r].parent)
			top[ntop++] = &prof->rules[r];
	/* FIRST anchors, forward; teardown phases from the last start phase found. */
	for (size_t i = 0; i < ntop; i++) {
		if (top[i]->start.pick != SP_FIRST)
			continue;
		hit[i] = find(&top[i]->start, evs, nev, lo, 0);
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

		ph->scope = -1;
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
	for (size_t r = 0; r < prof->nrules; r++) {
		const struct sp_phase_rule *rule = &prof->rules[r];
		struct sp_map_phase *ph, *par = NULL;
		const struct ev *s = NULL, *e = NULL;
		size_t at = 0;

		if (!rule->parent)
			continue;
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
		ph->scope = -1;
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
 * that pid loaded before it, the latest, since pids are reused).  A process
 * started in a running container (`runc exec`: docker exec, kubectl exec)
 * is a start of its own: "<id>/exec-<pid>", written in keys[i]. */
static void resolve_cids(const struct sp_proc *procs, size_t n, const char **cid,
			 char (*keys)[160])
{
	int changed = 1;

	for (size_t i = 0; i < n; i++) {
		cid[i] = sp_proc_container_id(&procs[i]);
		if (cid[i] && strcmp(sp_proc_role(&procs[i]), "runc:exec") == 0) {
			snprintf(keys[i], sizeof(keys[i]), "%s/exec-%d", cid[i],
				 procs[i].host_pid ? procs[i].host_pid : procs[i].pid);
			cid[i] = keys[i];
		}
	}
	/* podman run names no container: it is the one of the conmon it
	 * started. */
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *par;

		if (!cid[i] || strcmp(sp_proc_role(&procs[i]), "conmon") != 0 ||
		    !(par = sp_proc_parent(procs, n, &procs[i])) || cid[par - procs] ||
		    strcmp(sp_proc_comm(par), "podman") != 0)
			continue;
		cid[par - procs] = cid[i];
	}
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
	int crun = 0, shim = 0, runc = 0, conmon = 0, exec = 0;

	for (size_t i = 0; i < n; i++) {
		const char *role;

		if (!cid[i] || strcmp(cid[i], want) != 0)
			continue;
		role = sp_proc_role(&procs[i]);
		if (strncmp(role, "shim", 4) == 0)
			shim = 1;
		else if (strncmp(role, "crun", 4) == 0)
			crun = 1;
		else if (strcmp(role, "runc:create") == 0 || strcmp(role, "runc:run") == 0)
			runc = 1;
		else if (strcmp(role, "conmon") == 0)
			conmon = 1;
		else if (strcmp(role, "runc:exec") == 0)
			exec = 1;
	}
	if (exec)
		return "exec";
	return shim ? "containerd" : crun && conmon ? "podman-crun" : runc && conmon ? "podman"
	       : crun ? "crun" : runc ? "runc" : NULL;
}

/* containerd and a shim serve several containers (a pod's shim, all of the
 * pod's): their calls are placed one by one. */
static int is_service(const struct sp_proc *p)
{
	const char *role = sp_proc_role(p);

	return strcmp(role, "containerd") == 0 || strcmp(role, "shim") == 0 ||
	       strcmp(role, "dockerd") == 0;
}

/* The pod of container `want`: the id of the shim that ran its `runc
 * create`, when that is another container's (the sandbox's); else NULL. */
static const char *pod_of(const struct sp_proc *procs, size_t n, const char **cid,
			  const char *want)
{
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *par;

		if (!cid[i] || strcmp(cid[i], want) != 0 ||
		    strcmp(sp_proc_role(&procs[i]), "runc:create") != 0)
			continue;
		par = sp_proc_parent(procs, n, &procs[i]);
		if (par && strcmp(sp_proc_role(par), "shim") == 0 && cid[par - procs] &&
		    strcmp(cid[par - procs], want) != 0)
			return cid[par - procs];
	}
	return NULL;
}

/* Is `want` a pod's sandbox: CNI plugins were run for it, containerd made
 * its CRI sandbox directory, or it has containers? */
static int is_sandbox(const struct sp_proc *procs, size_t n, const char **cid, const char *want,
		      const char **pod)
{
	char buf[128];
	int sb;

	for (size_t i = 0; i < n; i++) {
		if (strncmp(sp_proc_role(&procs[i]), "cni:", 4) == 0 && cid[i] &&
		    strcmp(cid[i], want) == 0)
			return 1;
		if (pod[i] && strcmp(pod[i], want) == 0)
			return 1;
		if (strcmp(sp_proc_role(&procs[i]), "containerd") != 0)
			continue;
		for (size_t k = 0; k < procs[i].nspans; k++) {
			const struct sp_span *s = &procs[i].spans[k];

			if (s->call == SP_C_MKDIRAT && s->nstr &&
			    cri_dir_id(s->strs[0], buf, sizeof(buf), &sb) && sb &&
			    strcmp(buf, want) == 0)
				return 1;
		}
	}
	return 0;
}

/* Did dockerd make container `want`'s layers (a docker run)? */
static int docker_made(const struct sp_proc *procs, size_t n, const size_t *cbase,
		       const char **ccid, const char *want)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(sp_proc_role(&procs[i]), "dockerd") != 0)
			continue;
		for (size_t k = 0; k < procs[i].nspans; k++)
			if (ccid[cbase[i] + k] && strcmp(ccid[cbase[i] + k], want) == 0)
				return 1;
	}
	return 0;
}

/* ---- pods: the sandbox's map and its containers' as one ---- */

/* Bump storage for composed phase names. */
struct arena {
	char *buf;
	size_t used, cap;
};

static const char *arena_fmt(struct arena *a, const char *pre, const char *name)
{
	int n;

	if (!name)
		return NULL;
	n = snprintf(a->buf + a->used, a->cap - a->used, "%s%s", pre, name);
	if (n < 0 || (size_t)n >= a->cap - a->used)
		return name;
	a->used += (size_t)n + 1;
	return a->buf + a->used - n - 1;
}

static int proc_load_cmp(const void *x, const void *y)
{
	const struct sp_proc *a = *(const struct sp_proc *const *)x;
	const struct sp_proc *b = *(const struct sp_proc *const *)y;

	return a->t_load_ns < b->t_load_ns ? -1 : a->t_load_ns > b->t_load_ns;
}

static int call_cmp(const void *x, const void *y)
{
	const struct sp_map_call *a = x, *b = y;

	return a->span->t0 < b->span->t0 ? -1 : a->span->t0 > b->span->t0;
}

/* Append phase ph (of scope sc, names prefixed with pre) to out. */
static void put_phase(struct sp_map *out, const struct sp_map_phase *ph, int sc, const char *pre,
		      struct arena *ar)
{
	struct sp_map_phase *d = &out->phases[out->nphases++];

	*d = *ph;
	d->scope = sc;
	d->bottleneck = 0;
	d->name = arena_fmt(ar, pre, ph->name);
	d->parent = ph->parent ? arena_fmt(ar, pre, ph->parent) : NULL;
}

/* The CNI plugins of the sandbox, each a sub-span of cni_add: "bridge(eth0)",
 * from its start to its exit.  (Not of cni_del: StopPodSandbox and
 * RemovePodSandbox each run them, the same names twice.) */
static void put_cni(struct sp_map *out, const struct sp_map *sb, const char *phase,
		    const char *role, struct arena *ar)
{
	const struct sp_proc *list[64];
	size_t n = 0;
	const struct sp_map_phase *par = NULL;

	for (size_t i = 0; i < out->nphases; i++)
		if (out->phases[i].scope == 0 && strcmp(out->phases[i].name, phase) == 0)
			par = &out->phases[i];
	if (!par || !par->seen)
		return;
	for (size_t i = 0; i < sb->nprocs && n < 64; i++)
		if (strcmp(sp_proc_role(sb->procs[i]), role) == 0 && !sb->procs[i]->forked)
			list[n++] = sb->procs[i];
	qsort(list, n, sizeof(list[0]), proc_load_cmp);
	for (size_t i = 0; i < n; i++) {
		struct sp_map_phase *d = &out->phases[out->nphases++];
		const char *ifn = sp_proc_env(list[i], "CNI_IFNAME");
		char name[96];

		memset(d, 0, sizeof(*d));
		snprintf(name, sizeof(name), "%s(%s)", sp_proc_comm(list[i]), ifn ? ifn : "");
		d->name = arena_fmt(ar, "", name);
		d->parent = par->name;
		d->section = par->section;
		d->scope = 0;
		d->seen = 1;
		d->t0 = list[i]->t_load_ns;
		d->t1 = list[i]->exited && list[i]->t_exit_ns > d->t0 ? list[i]->t_exit_ns : d->t0;
		d->proc = list[i];
	}
}

/* The pod's name, from its CNI plugins' K8S_POD_NAME (CNI_ARGS). */
static void pod_name(const struct sp_map *sb, char *out, size_t len)
{
	for (size_t i = 0; i < sb->nprocs; i++) {
		const char *a = sp_proc_env(sb->procs[i], "CNI_ARGS"), *p;

		if (a && (p = strstr(a, "K8S_POD_NAME="))) {
			p += 13;
			snprintf(out, len, "%.*s", (int)strcspn(p, ";"), p);
			return;
		}
	}
}

/* Make sb (a "pod" map) the map of the whole pod: its phases, then each
 * container's (c[0..nc), by start) as "cN/<phase>", the teardowns last. */
static int pod_merge(struct sp_map *sb, struct sp_map **c, size_t nc)
{
	struct sp_map out = { 0 };
	struct arena ar = { 0 };
	size_t nph = sb->nphases + 128, ncalls = sb->ncalls;
	struct sp_map *all[1 + 64];
	size_t nall = 1;

	all[0] = sb;
	for (size_t i = 0; i < nc && nall < 65; i++)
		all[nall++] = c[i];
	for (size_t i = 1; i < nall; i++) {
		nph += all[i]->nphases;
		ncalls += all[i]->ncalls;
	}
	out.phases = calloc(nph, sizeof(*out.phases));
	out.capphases = nph;
	out.scopes = calloc(nall, sizeof(*out.scopes));
	ar.cap = nph * 2 * 64;
	ar.buf = malloc(ar.cap);
	out.calls = malloc((ncalls ? ncalls : 1) * sizeof(*out.calls));
	if (!out.phases || !out.scopes || !ar.buf || !out.calls) {
		free(out.phases);
		free(out.scopes);
		free(ar.buf);
		free(out.calls);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) /* the start, then the teardown */
		for (size_t k = 0; k < nall; k++) {
			char pre[24] = "";

			if (k)
				snprintf(pre, sizeof(pre), "c%zu/", k);
			for (size_t i = 0; i < all[k]->nphases; i++)
				if (!all[k]->phases[i].section == !pass)
					put_phase(&out, &all[k]->phases[i], (int)k, pre, &ar);
			if (k == 0 && !pass)
				put_cni(&out, sb, "cni_add", "cni:add", &ar);
		}
	/* Sub-spans follow their parent: the CNI plugins were appended after
	 * the sandbox's other phases; move each right after its parent's group. */
	for (size_t i = 0; i < out.nphases; i++) {
		struct sp_map_phase ph = out.phases[i];
		size_t at = 0;

		if (!ph.parent || ph.proc == NULL || ph.span)
			continue;
		for (size_t k = 0; k < i; k++)
			if (!out.phases[k].parent && out.phases[k].name == ph.parent)
				at = k + 1;
		if (!at)
			continue;
		while (at < i && out.phases[at].parent)
			at++;
		if (at == i)
			continue;
		memmove(&out.phases[at + 1], &out.phases[at], (i - at) * sizeof(ph));
		out.phases[at] = ph;
	}
	for (size_t k = 0; k < nall; k++) {
		struct sp_map_scope *sc = &out.scopes[k];
		int best = -1;

		snprintf(sc->label, sizeof(sc->label), k ? "c%zu" : "sandbox", k);
		snprintf(sc->id, sizeof(sc->id), "%s", all[k]->container_id);
		sc->t0 = all[k]->t0;
		sc->t1 = all[k]->t1;
		for (size_t i = 0; i < out.nphases; i++) {
			const struct sp_map_phase *ph = &out.phases[i];

			if (ph->scope == (int)k && ph->seen && !ph->parent && !ph->section &&
			    (best < 0 || ph->t1 - ph->t0 > out.phases[best].t1 - out.phases[best].t0))
				best = (int)i;
		}
		sc->bottleneck = best;
		if (sc->t0 && (!out.t0 || sc->t0 < out.t0))
			out.t0 = sc->t0;
		if (sc->t1 > out.t1)
			out.t1 = sc->t1;
		out.lost += k ? all[k]->lost : 0;
		out.nmissing += all[k]->nmissing;
		for (size_t i = 0; i < all[k]->ncalls; i++)
			out.calls[out.ncalls++] = all[k]->calls[i];
		for (size_t i = 0; k && i < all[k]->nprocs; i++) {
			size_t q = 0;

			while (q < sb->nprocs && sb->procs[q] != all[k]->procs[i])
				q++;
			if (q == sb->nprocs)
				sb->procs[sb->nprocs++] = all[k]->procs[i];
		}
	}
	{
		int best = -1;

		for (size_t i = 0; i < out.nphases; i++) {
			const struct sp_map_phase *ph = &out.phases[i];

			if (ph->seen && !ph->parent && !ph->section &&
			    (best < 0 || ph->t1 - ph->t0 > out.phases[best].t1 - out.phases[best].t0))
				best = (int)i;
		}
		if (best >= 0)
			out.phases[best].bottleneck = 1;
	}
	qsort(out.calls, out.ncalls, sizeof(*out.calls), call_cmp);
	out.nscopes = nall;
	out.names = ar.buf;
	out.lost += sb->lost;
	out.procs = sb->procs;
	out.nprocs = sb->nprocs;
	out.profile = sb->profile;
	out.ready_ns = sb->ready_ns;
	memcpy(out.container_id, sb->container_id, sizeof(out.container_id));
	pod_name(sb, out.name, sizeof(out.name));
	free(sb->phases);
	free(sb->calls);
	*sb = out;
	return 0;
}

/* Each "pod" map takes in its containers' maps (removed from maps). */
static int pods_merge(struct sp_map *maps, int *nmaps, const char **mpod)
{
	for (int i = 0; i < *nmaps; i++) {
		struct sp_map *c[64];
		size_t nc = 0;

		if (!maps[i].profile || strcmp(maps[i].profile, "pod") != 0)
			continue;
		for (int k = 0; k < *nmaps && nc < 64; k++)
			if (mpod[k] && strcmp(mpod[k], maps[i].container_id) == 0)
				c[nc++] = &maps[k];
		/* by start: maps are sorted */
		if (pod_merge(&maps[i], c, nc) < 0)
			return -1;
		for (size_t q = 0; q < nc; q++) {
			free(c[q]->phases);
			free(c[q]->calls);
			free(c[q]->procs);
			c[q]->phases = NULL;
			c[q]->calls = NULL;
			c[q]->procs = NULL;
			c[q]->profile = NULL; /* merged: dropped below */
		}
	}
	for (int i = 0, k = 0, n = *nmaps; i < n; i++) {
		if (!maps[i].profile) {
			(*nmaps)--;
			continue;
		}
		if (k != i) {
			maps[k] = maps[i];
			mpod[k] = mpod[i];
		}
		k++;
	}
	return 0;
}

/* ---- image pulls: a map of their own, or opening the start they made ---- */

/* An overlay mount record's first lowerdir, whole, in buf ("N:tail"
 * rebuilt against its upperdir: drop N components, add tail), or NULL. */
static const char *mount_lower0(const struct sp_span *s, char *buf, size_t len)
{
	const char *t = s->nstr > 5 ? s->strs[5] : NULL, *up = s->nstr > 4 ? s->strs[4] : NULL;
	char *e;
	unsigned long n;

	if (!t || !up || !*up || !*t)
		return NULL;
	n = strtoul(t, &e, 10);
	if (*e != ':' || snprintf(buf, len, "%s", up) >= (int)len)
		return NULL;
	while (n--) {
		char *sl = strrchr(buf, '/');

		if (!sl)
			return NULL;
		*sl = '\0';
	}
	if (strlen(buf) + 1 + strlen(e + 1) + 1 > len)
		return NULL;
	strcat(buf, "/");
	strcat(buf, e + 1);
	return buf;
}

/* When a start of m mounted `top` ("…/snapshots/<id>") as its rootfs
 * overlay's first lowerdir (the top layer of its image): that mount's
 * phase start, else 0.  A pod's containers each have one. */
static uint64_t map_mounts_layer(const struct sp_map *m, const char *top, int *scope)
{
	size_t tl = strlen(top);

	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		const char *n = strrchr(ph->name, '/'), *o;
		char buf[512];

		n = n ? n + 1 : ph->name;
		if (strcmp(n, "snapshot_mount") != 0 || !ph->span || ph->span->call != SP_C_MOUNT)
			continue;
		/* The record's lowerdir0_tail, else the options' lowerdir
		 * (when the options string was not truncated before it). */
		if (!(o = mount_lower0(ph->span, buf, sizeof(buf)))) {
			if (ph->span->nstr < 4 || !ph->span->strs[3] ||
			    !(o = strstr(ph->span->strs[3], "lowerdir=")))
				continue;
			o += 9;
		}
		if (strncmp(o, top, tl) == 0 && strncmp(o + tl, "/fs", 3) == 0 &&
		    (o[tl + 3] == ':' || o[tl + 3] == ',' || o[tl + 3] == '\0')) {
			*scope = ph->scope;
			return ph->t0;
		}
	}
	return 0;
}

static int pull_call_of(const struct sp_span *s)
{
	const char *a = s->nstr ? s->strs[0] : NULL, *b = s->nstr > 1 ? s->strs[1] : NULL;

	if (s->call == SP_C_CONNECT || s->call == SP_C_OPENAT)
		return 1;
	if ((s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR || is_rename(s->call)) && a &&
	    (strstr(a, "/ingest/") || strstr(a, "/snapshots/new-") || (b && strstr(b, "/blobs/"))))
		return 1;
	/* dockerd's: a layer's directory, its extraction, its commit and
	 * records, the image's and its tag's. */
	if ((s->call == SP_C_MKDIRAT || s->call == SP_C_MKDIR) && a && strstr(a, "/overlay2/") &&
	    !strstr(a, "-init"))
		return 1;
	if (is_rename(s->call) && b &&
	    (strstr(b, "/layerdb/sha256/") || strstr(b, "/distribution/") || strstr(b, "/imagedb/") ||
	     strstr(b, "repositories.json")))
		return 1;
	if ((sp_call_info(s->call)->cls & SP_CLS_EXEC) && s->nstr > 1 && b &&
	    strstr(b, "docker-untar"))
		return 1;
	return (s->call == SP_C_MOUNT || is_umount(s->call)) && b && strstr(b, "/tmpmounts/");
}

/* A phase name in names: "<container>/<base>[k]" in a pod's container
 * (pre), else "<base>[k]". */
static const char *pull_name(char *names, size_t *nn, const char *pre, const char *base, size_t k)
{
	char *o = names + *nn;
	int w = k ? snprintf(o, 48, "%s%s%s%zu", pre ? pre : "", pre ? "/" : "", base, k)
		  : snprintf(o, 48, "%s%s%s", pre ? pre : "", pre ? "/" : "", base);

	*nn += (size_t)w + 1;
	return o;
}

/* Add the pull's phases and calls to m, in time order; in a pod, to the
 * container (scope) whose image it pulled. */
static int pull_put(struct sp_map *m, const struct sp_pull *pl, int scope)
{
	size_t np = 0, nl = pl->nlayers, cap = 7 + 2 * nl;
	struct sp_map_phase *ph = calloc(cap, sizeof(*ph));
	char *names = malloc(cap * 48);
	const char *pre = scope > 0 && (size_t)scope < m->nscopes ? m->scopes[scope].label : NULL;
	const char *nres, *nfetch, *nunpack;
	const struct sp_proc *who[2] = { pl->client, pl->daemon };
	size_t nn = 0, ncalls = 0;
	uint64_t f0 = 0, f1 = 0, u0 = 0, u1 = 0;
	struct sp_map_call *calls;

	if (!ph || !names) {
		free(ph);
		free(names);
		return -1;
	}
	if (!pre)
		scope = -1;
	nres = pull_name(names, &nn, pre, "pull_resolve", 0);
	nfetch = pull_name(names, &nn, pre, "pull_fetch", 0);
	nunpack = pull_name(names, &nn, pre, "pull_unpack", 0);
#define PH(nm, par, a, b, pr, sp) \
	(ph[np] = (struct sp_map_phase){ .name = (nm), .parent = (par), .seen = 1, .t0 = (a), \
					  .t1 = (b), .proc = (pr), .span = (sp), .scope = scope }, &ph[np++])
	PH(nres, NULL, pl->t0, pl->resolve_t1, pl->resolve_proc, pl->resolve_span);
	if (pl->index.digest[0]) {
		struct sp_map_phase *x = PH(pull_name(names, &nn, pre, "fetch_index", 0), nres,
					    pl->index.t0, pl->index.t1,
					    pl->index.proc, pl->index.span);
		snprintf(x->digest, sizeof(x->digest), "%s", pl->index.digest);
		x->bytes = pl->index.size;
	}
	if (pl->manifest.digest[0]) {
		struct sp_map_phase *x = PH(pull_name(names, &nn, pre, "fetch_manifest", 0), nres,
					    pl->manifest.t0,
					    pl->manifest.t1, pl->manifest.proc, pl->manifest.span);
		snprintf(x->digest, sizeof(x->digest), "%s", pl->manifest.digest);
		x->bytes = pl->manifest.size;
	}
	for (size_t k = 0; k < nl; k++) {
		const struct sp_pull_layer *L = &pl->layers[k];

		if (L->fetched && (!f0 || L->f0 < f0))
			f0 = L->f0;
		if (L->fetched && L->f1 > f1)
			f1 = L->f1;
		if (L->unpacked && (!u0 || L->u0 < u0))
			u0 = L->u0;
		if (L->unpacked && L->u1 > u1)
			u1 = L->u1;
	}
	if (pl->config.digest[0] && pl->config.t1 > f1)
		f1 = pl->config.t1;
	if (pl->config.digest[0] && (!f0 || pl->config.t0 < f0))
		f0 = pl->config.t0;
	if (pl->docker && u0) {
		/* dockerd's downloads are not recorded: from the resolve to the
		 * first layer ready to apply. */
		f0 = pl->resolve_t1;
		f1 = u0;
	}
	{
		struct sp_map_phase *x = PH(nfetch, NULL, f0, f1, pl->daemon, NULL);

		if (!f0) {
			x->seen = 0;
			x->t0 = x->t1 = 0;
			snprintf(x->why, sizeof(x->why), "%s", pl->docker
				 ? "no layer was downloaded: dockerd had every layer of the image"
				 : "no layer was fetched: the image's layers were in the content store "
				   "already");
		} else if (pl->docker) {
			snprintf(x->why, sizeof(x->why), "%s", pl->why);
		}
	}
	if (pl->config.digest[0]) {
		struct sp_map_phase *x = PH(pull_name(names, &nn, pre, "fetch_config", 0), nfetch,
					    pl->config.t0, pl->config.t1,
					    pl->config.proc, pl->config.span);
		snprintf(x->digest, sizeof(x->digest), "%s", pl->config.digest);
		x->bytes = pl->config.size;
	}
	for (size_t k = 0; k < nl; k++) {
		const struct sp_pull_layer *L = &pl->layers[k];
		struct sp_map_phase *x;

		if (!L->fetched)
			continue;
		x = PH(pull_name(names, &nn, pre, "fetch_layer", k + 1), nfetch, L->f0, L->f1, L->fproc,
		       L->fspan);
		snprintf(x->digest, sizeof(x->digest), "%s", L->digest);
		x->bytes = L->size;
	}
	/* Between the last commit and the first unpack (ctr 1.6 unpacks
	 * after fetching: its progress display's last tick, up to 100 ms,
	 * then it reads the manifest and config to plan the unpack). */
	if (f1 && u0 > f1)
		PH(pull_name(names, &nn, pre, "pull_handoff", 0), NULL, f1, u0,
		   pl->client ? pl->client : pl->daemon, NULL);
	{
		struct sp_map_phase *x = PH(nunpack, NULL, u0, u1, pl->daemon, NULL);

		if (!u0) {
			x->seen = 0;
			x->t0 = x->t1 = 0;
			snprintf(x->why, sizeof(x->why), "%s", pl->docker
				 ? "no layer was applied: dockerd had every layer of the image"
				 : "no layer was unpacked (a fetch only, or every layer's snapshot existed)");
		} else if (pl->why[0] && !pl->docker) {
			snprintf(x->why, sizeof(x->why), "%s", pl->why);
		}
	}
	for (size_t k = 0; k < nl; k++) {
		const struct sp_pull_layer *L = &pl->layers[k];
		struct sp_map_phase *x;

		if (!L->unpacked)
			continue;
		x = PH(pull_name(names, &nn, pre, "unpack_layer", k + 1), nunpack, L->u0, L->u1, L->uproc,
		       L->uspan);
		snprintf(x->digest, sizeof(x->digest), "%s", L->digest);
		x->bytes = L->size;
		for (size_t q = 0; q < nl; q++)
			if (pl->layers[q].fetched && strcmp(pl->layers[q].digest, L->digest) == 0)
				x->bytes = pl->layers[q].size;
	}
#undef PH
	if (phases_room(m, np) < 0) {
		free(ph);
		free(names);
		return -1;
	}
	{
		/* In time order among the top-level phases of the start (a
		 * pod pulls between its sandbox and the container). */
		size_t at = 0;

		while (at < m->nphases && !m->phases[at].section &&
		       (m->phases[at].parent || !m->phases[at].seen || m->phases[at].t0 < pl->t0))
			at++;
		while (at > 0 && m->phases[at - 1].section)
			at--;
		memmove(m->phases + at + np, m->phases + at, (m->nphases - at) * sizeof(*ph));
		memcpy(m->phases + at, ph, np * sizeof(*ph));
		m->nphases += np;
		for (size_t k = 0; k < m->nscopes; k++)
			if (m->scopes[k].bottleneck >= (int)at)
				m->scopes[k].bottleneck += (int)np;
	}
	for (size_t i = 0; i < np; i++)
		if (!ph[i].parent && !ph[i].seen)
			m->nmissing++;
	free(ph);
	free(m->pull_names);
	m->pull_names = names;
	m->pulled = 1;
	if (!m->t0 || pl->t0 < m->t0)
		m->t0 = pl->t0;
	if (pl->t1 > m->t1)
		m->t1 = pl->t1;
	/* The bottleneck: the longest top-level phase, the pull's included;
	 * in a pod, of the container that pulled (its part opens with the
	 * pull). */
	{
		int b = -1;

		for (size_t i = 0; i < m->nphases; i++) {
			const struct sp_map_phase *x = &m->phases[i];

			if (x->parent || x->section || !x->seen || x->scope != scope)
				continue;
			if (b < 0 || x->t1 - x->t0 > m->phases[b].t1 - m->phases[b].t0)
				b = (int)i;
		}
		if (b >= 0 && m->phases[b].scope == scope && strstr(m->phases[b].name, "pull_")) {
			for (size_t i = 0; i < m->nphases; i++)
				if (m->phases[i].scope == scope)
					m->phases[i].bottleneck = 0;
			m->phases[b].bottleneck = 1;
		}
		if (scope > 0) {
			struct sp_map_scope *sc = &m->scopes[scope];

			if (pl->t0 < sc->t0)
				sc->t0 = pl->t0;
			if (b >= 0)
				sc->bottleneck = b;
		}
	}
	/* Its processes and calls. */
	{
		const struct sp_proc **pr = realloc(m->procs, (m->nprocs + 2 + 1) * sizeof(*pr));

		if (!pr)
			return -1;
		m->procs = pr;
		for (int w = 0; w < 2; w++) {
			int have = 0;

			for (size_t q = 0; who[w] && q < m->nprocs; q++)
				have |= m->procs[q] == who[w];
			if (who[w] && !have) {
				m->procs[m->nprocs++] = who[w];
				m->lost += who[w]->lost;
			}
		}
	}
	for (int w = 0; w < 2; w++)
		for (size_t k = 0; who[w] && k < who[w]->nspans; k++)
			ncalls += who[w]->spans[k].t0 >= pl->t0 && who[w]->spans[k].t0 <= pl->t1;
	calls = realloc(m->calls, (m->ncalls + ncalls + 1) * sizeof(*calls));
	if (!calls)
		return -1;
	m->calls = calls;
	for (int w = 0; w < 2; w++)
		for (size_t k = 0; who[w] && k < who[w]->nspans; k++) {
			const struct sp_span *s = &who[w]->spans[k];

			if (s->t0 >= pl->t0 && s->t0 <= pl->t1 && pull_call_of(s) &&
			    (w == 0 || s->call != SP_C_CONNECT || !pl->client))
				m->calls[m->ncalls++] = (struct sp_map_call){ who[w], s };
		}
	qsort(m->calls, m->ncalls, sizeof(*m->calls), call_cmp);
	return 0;
}

#define PULL_TIE_NS 30000000000ULL
/* A docker start does not name its image's layers in any recorded call
 * (its overlay's lowerdirs are overlay2/l/ links): the first start of the
 * same dockerd within this long after the pull is the one it made (docker
 * run of a missing image creates the container right after pulling) --
 * unless a traced client says otherwise: `docker pull` starts nothing, and
 * `docker run` ties only a start made before it exited. */
#define PULL_TIE_DOCKER_NS 2000000000ULL

static int map_has_proc(const struct sp_map *m, const struct sp_proc *p)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i] == p)
			return 1;
	return 0;
}

static int pulls_attach(const struct sp_proc *procs, size_t n, struct sp_map **maps, int *nmaps)
{
	struct sp_pull *pl;
	int np = sp_pulls_find(procs, n, &pl);

	if (np < 0)
		return -1;
	for (int i = 0; i < np; i++) {
		const struct sp_pull *p = &pl[i];
		struct sp_map *tie = NULL;
		char top[512];

		/* Only what came from a registry: an image import fills the
		 * content store the same way, with no connect. */
		if (!p->resolve_seen)
			continue;
		top[0] = '\0';
		for (size_t k = p->nlayers; k-- > 0;)
			if (p->layers[k].unpacked) {
				snprintf(top, sizeof(top), "%s", p->layers[k].snapshot);
				break;
			}
		uint64_t best = 0;
		int scope = -1;

		for (int k = 0; top[0] && k < *nmaps; k++) {
			struct sp_map *m = &(*maps)[k];
			int sc = -1;
			uint64_t t;

			if (p->docker) {
				t = !m->pulled && m->profile && strcmp(m->profile, "docker") == 0 &&
						    map_has_proc(m, p->daemon) && m->t0 >= p->t1 &&
						    m->t0 <= p->t1 + PULL_TIE_DOCKER_NS && !p->cli_pull_only &&
						    (!p->docker_cli || !p->docker_cli->exited ||
						     m->t0 <= p->docker_cli->t_exit_ns)
					    ? m->t0 : 0;
				if (t && (!tie || t < best))
					tie = m, best = t, scope = -1;
				continue;
			}
			t = m->pulled ? 0 : map_mounts_layer(m, top, &sc);

			/* The first start that mounts its top layer, within
			 * PULL_TIE_NS after the pull's end. */
			if (!t || t < p->t1 || t > p->t1 + PULL_TIE_NS)
				continue;
			if (!tie || t < best)
				tie = m, best = t, scope = sc;
		}
		if (!tie) {
			struct sp_map *g = realloc(*maps, (size_t)(*nmaps + 1) * sizeof(**maps));

			if (!g)
				goto fail;
			*maps = g;
			tie = &g[(*nmaps)++];
			memset(tie, 0, sizeof(*tie));
			tie->profile = "pull";
			snprintf(tie->container_id, sizeof(tie->container_id), "%.127s",
				 p->ref[0] ? p->ref : p->manifest.digest[0] ? p->manifest.digest
						    : p->image_id[0] ? p->image_id : "image");
			if (!(tie->procs = malloc(sizeof(*tie->procs))) ||
			    !(tie->calls = malloc(sizeof(*tie->calls))))
				goto fail;
		}
		if (pull_put(tie, p, scope) < 0)
			goto fail;
	}
	free(pl);
	for (int i = 1; i < *nmaps; i++)
		for (int k = i; k > 0 && map_cmp(&(*maps)[k - 1], &(*maps)[k]) > 0; k--) {
			struct sp_map t = (*maps)[k];

			(*maps)[k] = (*maps)[k - 1];
			(*maps)[k - 1] = t;
		}
	return 0;
fail:
	free(pl);
	return -1;
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
	char (*keys)[160] = calloc(nprocs ? nprocs : 1, sizeof(*keys));
	const char **pod = calloc(nprocs ? nprocs : 1, sizeof(*pod)); /* per process */
	const char **ccid = NULL; /* calls of containerd and the shims: their container */
	const char **mpod = NULL; /* per map: the pod of a pod's container */
	size_t *cbase = calloc(nprocs + 1, sizeof(*cbase)), ncc = 0;
	struct sp_map *maps = NULL;
	struct ev *evs = NULL;
	size_t cap = 0;
	int nmaps = 0;

	*out = NULL;
	if (!cid || !cbase || !pod || !keys)
		goto fail;
	/* Roles are a cache in each process, filled here from the whole set
	 * (the processes are otherwise left as they are). */
	sp_roles_assign((struct sp_proc *)procs, nprocs);
	resolve_cids(procs, nprocs, cid, keys);
	for (size_t i = 0; i < nprocs; i++) {
		cbase[i] = ncc;
		if (is_service(&procs[i]))
			ncc += procs[i].nspans;
		cap += procs[i].nspans + 2;
	}
	cbase[nprocs] = ncc;
	ccid = calloc(ncc ? ncc : 1, sizeof(*ccid));
	evs = malloc((cap ? cap : 1) * sizeof(*evs));
	if (!ccid || !evs)
		goto fail;
	for (size_t i = 0; i < nprocs; i++)
		if (is_service(&procs[i]))
			for (size_t k = 0; k < procs[i].nspans; k++) {
				const char *c = sp_containerd_call_cid(&procs[i].spans[k], procs, nprocs);

				/* A shim's call about no container in particular is
				 * its own container's. */
				if (!c)
					c = cid[i];
				/* c may be a thread-local buffer: keep the process's
				 * copy (a container without processes has no map). */
				for (size_t q = 0; c && q < nprocs; q++)
					if (cid[q] && strcmp(cid[q], c) == 0) {
						ccid[cbase[i] + k] = cid[q];
						break;
					}
			}
	for (size_t i = 0; i < nprocs; i++)
		if (cid[i])
			pod[i] = pod_of(procs, nprocs, cid, cid[i]);
	for (size_t i = 0; i < nprocs; i++) {
		const char *want = cid[i], *profile;
		struct sp_map *grown;
		const char **gpod;
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
		if (strcmp(profile, "containerd") == 0 && pod[i])
			profile = "pod-container";
		else if (strcmp(profile, "containerd") == 0 && docker_made(procs, nprocs, cbase, ccid, want))
			profile = "docker";
		else if (strcmp(profile, "containerd") == 0 && is_sandbox(procs, nprocs, cid, want, pod))
			profile = "pod";
		for (size_t k = 0; k < nprocs; k++) {
			int own = cid[k] && strcmp(cid[k], want) == 0;

			if (cbase[k + 1] > cbase[k] || is_service(&procs[k])) {
				const struct sp_proc *p = &procs[k];

				if (own && !p->forked)
					evs[nev++] = (struct ev){ p->t_load_ns, p->t_load_ns, SP_AK_LOAD, p,
								  NULL };
				if (own && p->exited)
					evs[nev++] = (struct ev){ p->t_exit_ns, p->t_exit_ns, SP_AK_PEXIT,
								  p, NULL };
				for (size_t q = 0; q < p->nspans; q++) {
					const char *c = ccid[cbase[k] + q];

					if (c && strcmp(c, want) == 0)
						evs[nev++] = (struct ev){ p->spans[q].t0, p->spans[q].t1,
									  SP_AK_CALL, p, &p->spans[q] };
				}
			} else if (own) {
				push_proc_events(evs, &nev, &procs[k]);
			}
		}
		grown = realloc(maps, (size_t)(nmaps + 1) * sizeof(*maps));
		if (!grown)
			goto fail;
		maps = grown;
		gpod = realloc(mpod, (size_t)(nmaps + 1) * sizeof(*mpod));
		if (!gpod)
			goto fail;
		mpod = gpod;
		mpod[nmaps] = strcmp(profile, "pod-container") == 0 ? pod[i] : NULL;
		memset(&maps[nmaps], 0, sizeof(maps[0]));
		maps[nmaps].procs = malloc((nprocs ? nprocs : 1) * sizeof(*maps[nmaps].procs));
		nmaps++;
		if (!maps[nmaps - 1].procs ||
		    map_from_events(evs, nev, profile, end_hint, ready, &maps[nmaps - 1]) < 0)
			goto fail;
		snprintf(maps[nmaps - 1].container_id, sizeof(maps[0].container_id), "%s", want);
	}
	/* In start order (the pod of each map moves with it). */
	for (int i = 1; i < nmaps; i++)
		for (int k = i; k > 0 && map_cmp(&maps[k - 1], &maps[k]) > 0; k--) {
			struct sp_map t = maps[k];
			const char *tp = mpod[k];

			maps[k] = maps[k - 1];
			maps[k - 1] = t;
			mpod[k] = mpod[k - 1];
			mpod[k - 1] = tp;
		}
	if (mpod && pods_merge(maps, &nmaps, mpod) < 0)
		goto fail;
	if (pulls_attach(procs, nprocs, &maps, &nmaps) < 0)
		goto fail;
	free(cid);
	free(keys);
	free(pod);
	free(ccid);
	free(mpod);
	free(cbase);
	free(evs);
	*out = maps;
	return nmaps;
fail:
	sp_maps_free(maps, nmaps);
	free(keys);
	free(cid);
	free(pod);
	free(ccid);
	free(mpod);
	free(cbase);
	free(evs);
	return -1;
}

void sp_map_release(struct sp_map *m)
{
	free(m->procs);
	free(m->calls);
	free(m->phases);
	free(m->scopes);
	free(m->names);
	free(m->pull_names);
	m->pull_names = NULL;
	m->procs = NULL;
	m->calls = NULL;
	m->phases = NULL;
	m->scopes = NULL;
	m->names = NULL;
}

void sp_maps_free(struct sp_map *maps, int n)
{
	for (int i = 0; i < n; i++)
		sp_map_release(&maps[i]);
	free(maps);
}
