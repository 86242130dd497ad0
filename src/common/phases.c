/* SPDX-License-Identifier: Apache-2.0 */
/*
 * phases.c - the phase rule table and the code that applies it.
 *
 * A top-level phase starts at its start anchor and ends where the next phase
 * starts; the last one ends at its end anchor.  FIRST anchors are searched
 * forward from the previous phase's start, in table order; LAST anchors are
 * then searched backward from the next phase's start.  Sub-spans (pivot_root
 * in rootfs_setup) are one event inside their parent phase.
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
#define NOEND { SP_AK_NONE, NULL, 0, 0, SP_COND_ANY, SP_FIRST, SP_AT_START }

const struct sp_phase_rule sp_phase_rules[] = {
	/* crun run / crun create+start: one C process and its clone child. */
	{ "crun", "runtime_create", NULL, LOAD("crun"), NOEND,
	  "crun starts: config, state dir, its own re-exec" },
	{ "crun", "namespace_setup", NULL,
	  CALL("crun", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_NS, SP_FIRST, SP_AT_START),
	  NOEND, "first clone/unshare with CLONE_NEW* flags" },
	{ "crun", "rootfs_setup", NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "first mount after the namespaces exist" },
	{ "crun", "pivot_root", "rootfs_setup",
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "crun", "task_start", NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of the last mount before the entrypoint's exec" },
	{ "crun", "process_exec", NULL,
	  CALL("crun", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  PEXIT_LAST("crun"),
	  "the entrypoint's execve, until the runtime exits (or a ready mark)" },
};
const size_t sp_phase_nrules = sizeof(sp_phase_rules) / sizeof(sp_phase_rules[0]);

const char *sp_proc_role(const struct sp_proc *p)
{
	return sp_proc_comm(p);
}

const char *sp_proc_container_id(const struct sp_proc *p)
{
	static const char *const subs[] = { "run", "create", "start", "delete", NULL };
	const char *role = sp_proc_role(p);
	int sub = -1;

	if (strcmp(role, "crun") != 0 && strcmp(role, "runc") != 0)
		return NULL;
	for (int i = 1; i < p->argc; i++) {
		for (int k = 0; subs[k]; k++)
			if (strcmp(p->argv[i], subs[k]) == 0) {
				sub = i;
				break;
			}
		if (sub >= 0)
			break;
	}
	if (sub < 0 || sub == p->argc - 1)
		return NULL;
	return p->argv[p->argc - 1][0] != '-' ? p->argv[p->argc - 1] : NULL;
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

static int role_ok(const char *want, const struct sp_proc *p)
{
	return !want || strcmp(want, "*") == 0 || strcmp(want, sp_proc_role(p)) == 0;
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
	default:
		return 1;
	}
}

static uint64_t edge_time(const struct sp_anchor *a, const struct ev *e)
{
	return a->edge == SP_AT_END ? e->t1 : e->t0;
}

/* First match with time >= lo (and < hi if hi), or last match in [lo, hi). */
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

int sp_map_build(const struct sp_proc **group, size_t n, const char *profile,
		 uint64_t end_hint, struct sp_map *m)
{
	const struct sp_phase_rule *top[SP_MAP_MAX_PHASES];
	const struct ev *hit[SP_MAP_MAX_PHASES] = { 0 };
	size_t ntop = 0, nev = 0, cap = 0;
	struct ev *evs = NULL;
	uint64_t lo = 0;

	memset(m, 0, sizeof(*m));
	m->profile = profile;
	m->procs = malloc((n ? n : 1) * sizeof(*m->procs));
	if (!m->procs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = group[i];

		m->procs[m->nprocs++] = p;
		m->lost += p->lost;
		cap += p->nspans + 2;
	}
	evs = malloc((cap ? cap : 1) * sizeof(*evs));
	if (!evs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct sp_proc *p = group[i];

		if (!p->forked)
			evs[nev++] = (struct ev){ p->t_load_ns, p->t_load_ns, SP_AK_LOAD, p, NULL };
		if (p->exited)
			evs[nev++] = (struct ev){ p->t_exit_ns, p->t_exit_ns, SP_AK_PEXIT, p, NULL };
		for (size_t k = 0; k < p->nspans; k++) {
			const struct sp_span *s = &p->spans[k];

			evs[nev++] = (struct ev){ s->t0, s->t1, SP_AK_CALL, p, s };
		}
	}
	qsort(evs, nev, sizeof(*evs), ev_cmp);

	for (size_t r = 0; r < sp_phase_nrules && ntop < SP_MAP_MAX_PHASES; r++)
		if (strcmp(sp_phase_rules[r].profile, profile) == 0 && !sp_phase_rules[r].parent)
			top[ntop++] = &sp_phase_rules[r];
	/* FIRST anchors, forward. */
	for (size_t i = 0; i < ntop; i++) {
		if (top[i]->start.pick != SP_FIRST)
			continue;
		hit[i] = find(&top[i]->start, evs, nev, lo, 0);
		if (hit[i])
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
		ph->seen = hit[i] != NULL;
		if (!hit[i]) {
			m->nmissing++;
			continue;
		}
		ph->t0 = edge_time(&top[i]->start, hit[i]);
		ph->proc = hit[i]->proc;
		ph->span = hit[i]->span;
	}
	/* Ends: the next seen phase's start; the last one its end anchor. */
	for (size_t i = 0; i < ntop; i++) {
		struct sp_map_phase *ph = &m->phases[i];
		uint64_t end = 0;

		if (!ph->seen)
			continue;
		for (size_t k = i + 1; k < ntop; k++)
			if (m->phases[k].seen) {
				end = m->phases[k].t0;
				break;
			}
		if (!end && top[i]->end.kind != SP_AK_NONE) {
			const struct ev *e = find(&top[i]->end, evs, nev, ph->t0, 0);

			if (e)
				end = edge_time(&top[i]->end, e);
		}
		if (!end && end_hint > ph->t0)
			end = end_hint;
		ph->t1 = end > ph->t0 ? end : ph->t0;
		if (!m->t0 || ph->t0 < m->t0)
			m->t0 = ph->t0;
		if (ph->t1 > m->t1)
			m->t1 = ph->t1;
	}
	/* The bottleneck: the longest top-level phase. */
	{
		struct sp_map_phase *b = NULL;

		for (size_t i = 0; i < m->nphases; i++)
			if (m->phases[i].seen &&
			    (!b || m->phases[i].t1 - m->phases[i].t0 > b->t1 - b->t0))
				b = &m->phases[i];
		if (b)
			b->bottleneck = 1;
	}
	/* Sub-spans, placed right after their parent. */
	for (size_t r = 0; r < sp_phase_nrules; r++) {
		const struct sp_phase_rule *rule = &sp_phase_rules[r];
		const struct sp_map_phase *par = NULL;
		size_t at = 0;

		if (strcmp(rule->profile, profile) != 0 || !rule->parent)
			continue;
		if (m->nphases >= SP_MAP_MAX_PHASES)
			break;
		for (size_t i = 0; i < m->nphases; i++)
			if (!m->phases[i].parent && strcmp(m->phases[i].name, rule->parent) == 0) {
				par = &m->phases[i];
				at = i + 1;
			}
		if (!par)
			continue;
		while (at < m->nphases && m->phases[at].parent)
			at++;
		memmove(&m->phases[at + 1], &m->phases[at], (m->nphases - at) * sizeof(m->phases[0]));
		m->nphases++;
		{
			struct sp_map_phase *ph = &m->phases[at];
			const struct ev *s = NULL, *e = NULL;

			memset(ph, 0, sizeof(*ph));
			ph->name = rule->phase;
			ph->parent = rule->parent;
			/* par may have moved if it was after `at`: it never is. */
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
			}
		}
	}
	free(evs);
	return 0;
}

/* ---- grouping ---- */

static const char *profile_for(const struct sp_proc **g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *role = sp_proc_role(g[i]);

		for (size_t r = 0; r < sp_phase_nrules; r++)
			if (strcmp(sp_phase_rules[r].profile, role) == 0)
				return sp_phase_rules[r].profile;
	}
	return NULL;
}

static int map_cmp(const void *a, const void *b)
{
	const struct sp_map *x = a, *y = b;

	return x->t0 < y->t0 ? -1 : x->t0 > y->t0;
}

int sp_maps_build(const struct sp_proc *procs, size_t nprocs, uint64_t end_hint,
		  struct sp_map **out)
{
	const struct sp_proc **group = malloc((nprocs ? nprocs : 1) * sizeof(*group));
	char *done = calloc(nprocs ? nprocs : 1, 1);
	struct sp_map *maps = NULL;
	int nmaps = 0;

	*out = NULL;
	if (!group || !done)
		goto fail;
	for (size_t i = 0; i < nprocs; i++) {
		const char *cid = sp_proc_container_id(&procs[i]), *profile;
		size_t n = 0;
		struct sp_map *grown;

		if (done[i] || !cid)
			continue;
		for (size_t k = i; k < nprocs; k++) {
			const char *c2 = sp_proc_container_id(&procs[k]);

			if (!done[k] && c2 && strcmp(c2, cid) == 0) {
				group[n++] = &procs[k];
				done[k] = 1;
			}
		}
		profile = profile_for(group, n);
		if (!profile)
			continue;
		grown = realloc(maps, (size_t)(nmaps + 1) * sizeof(*maps));
		if (!grown)
			goto fail;
		maps = grown;
		if (sp_map_build(group, n, profile, end_hint, &maps[nmaps]) < 0) {
			free(maps[nmaps].procs);
			goto fail;
		}
		snprintf(maps[nmaps].container_id, sizeof(maps[nmaps].container_id), "%s", cid);
		nmaps++;
	}
	if (nmaps > 1)
		qsort(maps, (size_t)nmaps, sizeof(*maps), map_cmp);
	free(group);
	free(done);
	*out = maps;
	return nmaps;
fail:
	sp_maps_free(maps, nmaps);
	free(group);
	free(done);
	return -1;
}

void sp_maps_free(struct sp_map *maps, int n)
{
	for (int i = 0; i < n; i++)
		free(maps[i].procs);
	free(maps);
}
