/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.c - turn ring records into a process with paired spans.  Pairing is
 * by (tid, callid): a callid is unique per thread, so nested, interleaved
 * and out-of-order records pair correctly; an enter without an exit stays
 * open (exec that succeeded, process killed), an exit without its enter (lost
 * to a ring wrap) becomes a zero-length span counted in `orphans`.
 */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s)
{
	return strdup(s ? s : "");
}

int sp_proc_add_span(struct sp_proc *p, const struct sp_span *s)
{
	struct sp_span *n;

	if (p->nspans == p->capspans) {
		size_t cap = p->capspans ? p->capspans * 2 : 64;
		struct sp_span *grown = realloc(p->spans, cap * sizeof(*grown));

		if (!grown)
			return -1;
		p->spans = grown;
		p->capspans = cap;
	}
	n = &p->spans[p->nspans];
	*n = *s;
	for (unsigned i = 0; i < s->nstr && i < SP_MAX_STRS; i++) {
		n->strs[i] = xstrdup(s->strs[i]);
		if (!n->strs[i]) {
			n->nstr = i;
			return -1;
		}
	}
	p->nspans++;
	return 0;
}

static int add_mark(struct sp_proc *p, const struct sp_record *rec)
{
	struct sp_mark *m = realloc(p->marks, (p->nmarks + 1) * sizeof(*m));

	if (!m)
		return -1;
	p->marks = m;
	m = &p->marks[p->nmarks];
	m->t = rec->t_ns;
	m->pid = rec->pid;
	m->tid = rec->tid;
	m->name = xstrdup(sp_rec_str(rec, 0));
	if (!m->name)
		return -1;
	p->nmarks++;
	return 0;
}

static int add_note(struct sp_proc *p, const char *text)
{
	size_t old = p->notes ? strlen(p->notes) : 0, add = strlen(text);
	char *n = realloc(p->notes, old + add + 2);

	if (!n)
		return -1;
	memcpy(n + old, text, add);
	n[old + add] = '\n';
	n[old + add + 1] = '\0';
	p->notes = n;
	return 0;
}

/* ---- open spans by (tid, callid, call) ---- */

static size_t key_hash(int tid, uint32_t callid, unsigned call)
{
	uint64_t h = ((uint64_t)(uint32_t)tid << 32 | callid) * 0x9e3779b97f4a7c15ULL;

	return (size_t)((h ^ (h >> 29) ^ call) * 0xbf58476d1ce4e5b9ULL >> 17);
}

static int key_is(const struct sp_span *s, int tid, uint32_t callid, unsigned call)
{
	return s->tid == tid && s->callid == callid && s->call == call;
}

/* Grow to twice the size and put every entry back. */
static int open_grow(struct sp_proc *p)
{
	size_t cap = p->open ? (p->openmask + 1) * 2 : 256, *old = p->open, oldcap = p->openmask + 1;
	size_t *t = calloc(cap, sizeof(*t));

	if (!t)
		return -1;
	p->open = t;
	p->openmask = cap - 1;
	for (size_t i = 0; old && i < oldcap; i++) {
		const struct sp_span *s;
		size_t j;

		if (!old[i])
			continue;
		s = &p->spans[old[i] - 1];
		for (j = key_hash(s->tid, s->callid, s->call) & p->openmask; t[j];
		     j = (j + 1) & p->openmask)
			;
		t[j] = old[i];
	}
	free(old);
	return 0;
}

/* The slot of the open span with this key, or of the empty slot where it
 * would go. */
static size_t open_slot(const struct sp_proc *p, int tid, uint32_t callid, unsigned call)
{
	size_t j = key_hash(tid, callid, call) & p->openmask;

	while (p->open[j] && !key_is(&p->spans[p->open[j] - 1], tid, callid, call))
		j = (j + 1) & p->openmask;
	return j;
}

/* Span idx is open.  A newer span with the key of an open one (its exit was
 * lost) takes its place: an exit closes the newest, as before. */
static int open_add(struct sp_proc *p, size_t idx)
{
	const struct sp_span *s = &p->spans[idx];
	size_t j;

	if ((!p->open || (p->nopen + 1) * 2 > p->openmask + 1) && open_grow(p) < 0)
		return -1;
	j = open_slot(p, s->tid, s->callid, s->call);
	if (!p->open[j])
		p->nopen++;
	p->open[j] = idx + 1;
	return 0;
}

/* Take the open span this exit closes out of the table; NULL if none. */
static struct sp_span *open_take(struct sp_proc *p, const struct sp_record *rec)
{
	size_t j, k, idx;

	if (!p->open)
		return NULL;
	j = open_slot(p, rec->tid, rec->callid, rec->call);
	if (!p->open[j])
		return NULL;
	idx = p->open[j] - 1;
	/* Linear probing: shift back the entries the hole would cut off. */
	p->open[j] = 0;
	p->nopen--;
	for (k = (j + 1) & p->openmask; p->open[k]; k = (k + 1) & p->openmask) {
		const struct sp_span *s = &p->spans[p->open[k] - 1];
		size_t home = key_hash(s->tid, s->callid, s->call) & p->openmask;

		if (((k - home) & p->openmask) >= ((k - j) & p->openmask)) {
			p->open[j] = p->open[k];
			p->open[k] = 0;
			j = k;
		}
	}
	return &p->spans[idx];
}

int sp_proc_add_record(struct sp_proc *p, const struct sp_record *rec)
{
	struct sp_span s, *open;

	switch (rec->kind) {
	case SP_K_ENTER:
		memset(&s, 0, sizeof(s));
		s.call = rec->call;
		s.pid = rec->pid;
		s.tid = rec->tid;
		s.callid = rec->callid;
		s.src = rec->src;
		s.flags = rec->flags;
		s.t0 = s.t1 = rec->t_ns;
		s.has_enter = 1;
		memcpy(s.arg, rec->arg, sizeof(s.arg));
		s.nstr = rec->nstr > SP_MAX_STRS ? SP_MAX_STRS : rec->nstr;
		for (unsigned i = 0; i < s.nstr; i++) {
			const char *str = sp_rec_str(rec, i);

			s.strs[i] = (char *)(str ? str : "");
		}
		if (rec->call == SP_C_EXECVE || rec->call == SP_C_EXECVEAT ||
		    rec->call == SP_C_FEXECVE)
			p->execed = 1; /* cleared again if the exec returns */
		if (sp_proc_add_span(p, &s) < 0)
			return -1;
		return open_add(p, p->nspans - 1);
	case SP_K_EXIT:
		open = open_take(p, rec);
		if (!open) {
			memset(&s, 0, sizeof(s));
			s.call = rec->call;
			s.pid = rec->pid;
			s.tid = rec->tid;
			s.callid = rec->callid;
			s.src = rec->src;
			s.t0 = s.t1 = rec->t_ns;
			s.has_exit = 1;
			s.result = rec->result;
			s.err = rec->err;
			p->orphans++;
			return sp_proc_add_span(p, &s);
		}
		open->t1 = rec->t_ns >= open->t0 ? rec->t_ns : open->t0;
		open->has_exit = 1;
		open->result = rec->result;
		open->err = rec->err;
		open->ret_arg = rec->arg[0]; /* e.g. the child's pid */
		if (sp_call_info(rec->call)->cls & SP_CLS_EXEC)
			p->execed = 0;
		if ((rec->call == SP_C_PIVOT_ROOT || rec->call == SP_C_CHROOT) &&
		    rec->result == 0 && rec->pid == p->pid)
			p->contained = 1;
		return 0;
	case SP_K_PEXIT:
		if (rec->pid == p->pid) {
			p->exited = 1;
			p->exit_status = rec->result;
			p->t_exit_ns = rec->t_ns;
		}
		return 0;
	case SP_K_FORK:
		p->forked = 1;
		return 0;
	case SP_K_MARK:
		return add_mark(p, rec);
	case SP_K_NOTE: {
		const char *t = sp_rec_str(rec, 0);

		return t ? add_note(p, t) : 0;
	}
	default:
		return 0;
	}
}

static int span_cmp(const void *a, const void *b)
{
	const struct sp_span *x = a, *y = b;

	if (x->t0 != y->t0)
		return x->t0 < y->t0 ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->callid < y->callid ? -1 : x->callid > y->callid;
}

void sp_proc_finish(struct sp_proc *p)
{
	free(p->open);
	p->open = NULL;
	p->openmask = p->nopen = 0;
	if (p->nspans > 1)
		qsort(p->spans, p->nspans, sizeof(p->spans[0]), span_cmp);
}

struct ring_ctx {
	struct sp_proc *p;
	int err;
};

static int ring_visit(const struct sp_record *rec, void *vctx)
{
	struct ring_ctx *ctx = vctx;

	if (sp_proc_add_record(ctx->p, rec) < 0) {
		ctx->err = ENOMEM;
		return 1;
	}
	return 0;
}

int sp_proc_from_ring(const struct sp_ring *r, struct sp_proc *p, unsigned settle)
{
	const struct sp_ring_hdr *h = r->hdr;
	struct ring_ctx ctx = { p, 0 };
	struct sp_ring_stats st;
	const char *a = h->args, *end = h->args + SP_ARGS_MAX;
	char exe[SP_EXE_MAX + 1];

	memset(p, 0, sizeof(*p));
	p->origin = "ring";
	p->ring_id = h->ring_id;
	p->parent_ring_id = h->parent_ring_id;
	p->pid = h->pid;
	p->host_pid = h->host_pid;
	p->ppid = h->ppid;
	p->t_load_ns = h->t_load_ns;
	p->t_load_real_ns = h->t_load_real_ns;
	memcpy(exe, h->exe, SP_EXE_MAX);
	exe[SP_EXE_MAX] = '\0';
	p->exe = xstrdup(exe);
	p->argv = calloc((size_t)(h->argc < 256 ? h->argc : 256) + 1, sizeof(char *));
	if (!p->exe || !p->argv)
		goto nomem;
	for (uint32_t i = 0; i < h->argc && i < 256 && a < end; i++) {
		size_t l = sp_strnlen(a, (size_t)(end - a));

		if (a + l >= end)
			break;
		p->argv[p->argc] = xstrdup(a);
		if (!p->argv[p->argc])
			goto nomem;
		p->argc++;
		a += l + 1;
	}
	sp_ring_read_wait(r, ring_visit, &ctx, &st, settle);
	if (ctx.err)
		goto nomem;
	p->lost = st.overwritten + st.unfinished;
	p->ring_head = st.written;
	if (__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & SP_HF_EXECED)
		p->execed = 1;
	if (__atomic_load_n(&h->flags, __ATOMIC_ACQUIRE) & SP_HF_CONTAINED)
		p->contained = 1;
	sp_proc_finish(p);
	return 0;
nomem:
	sp_proc_free(p);
	return -1;
}

void sp_proc_free(struct sp_proc *p)
{
	for (size_t i = 0; i < p->nspans; i++)
		for (unsigned j = 0; j < p->spans[i].nstr && j < SP_MAX_STRS; j++)
			free(p->spans[i].strs[j]);
	for (size_t i = 0; i < p->nmarks; i++)
		free(p->marks[i].name);
	for (int i = 0; p->argv && i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->exe);
	free(p->spans);
	free(p->marks);
	free(p->notes);
	free(p->path);
	free(p->open);
	memset(p, 0, sizeof(*p));
}

const char *sp_proc_comm(const struct sp_proc *p)
{
	const char *s = p->exe, *slash;

	/* An exe that was a detached bind mount or a deleted file reads as
	 * "/" or "... (deleted)": argv[0] says more then. */
	if (!s || !*s || (slash = strrchr(s, '/')) == NULL || !slash[1] ||
	    strstr(s, " (deleted)") || strncmp(s, "/memfd:", 7) == 0)
		s = p->argc > 0 && p->argv[0][0] ? p->argv[0] : "?";
	slash = strrchr(s, '/');
	return slash && slash[1] ? slash + 1 : s;
}
