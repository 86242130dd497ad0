/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procwrite.c - the per-process JSON text, field for field in the order
 * procjson.c's sp_proc_to_json() builds it (keep the two in step: the
 * tests compare their output byte for byte).
 */
#include "procwrite.h"

#include <inttypes.h>
#include <stdio.h>

#include "jsonw.h"
#include "record.h"

const char *sp_src_name(unsigned src)
{
	return src == SP_SRC_SYSCALL ? "syscall" : src == SP_SRC_RAW ? "raw" : "libc";
}

static void span_args(struct sp_jw *w, const struct sp_span *s)
{
	const struct sp_call_info *ci = sp_call_info(s->call);

	sp_jw_open(w, '{');
	for (unsigned i = 0; i < s->nstr && i < SP_MAX_STRS; i++) {
		char name[16];
		const char *n = ci->strs[i];

		if (!n) {
			snprintf(name, sizeof(name), "str%u", i);
			n = name;
		}
		sp_jw_kstr(w, n, s->strs[i] ? s->strs[i] : "");
	}
	for (int i = 0; i < 3; i++)
		if (ci->args[i])
			sp_jw_kint(w, ci->args[i], (int64_t)s->arg[i]);
	if (ci->ret)
		sp_jw_kint(w, ci->ret, (int64_t)s->ret_arg);
	sp_jw_close(w, '}');
}

static void span(struct sp_jw *w, const struct sp_span *s)
{
	sp_jw_open(w, '{');
	sp_jw_kstr(w, "call", sp_call_info(s->call)->name);
	sp_jw_kint(w, "pid", s->pid);
	sp_jw_kint(w, "tid", s->tid);
	sp_jw_kint(w, "callid", s->callid);
	sp_jw_kstr(w, "src", sp_src_name(s->src));
	sp_jw_ku64(w, "t0", s->t0);
	sp_jw_ku64(w, "t1", s->t1);
	sp_jw_kint(w, "dur_ns", (int64_t)sp_span_dur(s));
	sp_jw_kbool(w, "enter", s->has_enter);
	sp_jw_kbool(w, "exit", s->has_exit);
	sp_jw_kint(w, "result", (int64_t)s->result);
	sp_jw_kint(w, "errno", s->err);
	sp_jw_kint(w, "flags", s->flags);
	sp_jw_key(w, "args");
	span_args(w, s);
	sp_jw_close(w, '}');
}

char *sp_proc_text(const struct sp_proc *p, size_t *len)
{
	struct sp_jw w;
	char id[20];

	sp_jw_init(&w);
	sp_jw_open(&w, '{');
	sp_jw_kstr(&w, "schema", SP_PROC_SCHEMA);
	snprintf(id, sizeof(id), "%016" PRIx64, p->ring_id);
	sp_jw_kstr(&w, "ring_id", id);
	snprintf(id, sizeof(id), "%016" PRIx64, p->parent_ring_id);
	sp_jw_kstr(&w, "parent_ring_id", id);
	sp_jw_kint(&w, "pid", p->pid);
	sp_jw_kint(&w, "host_pid", p->host_pid);
	sp_jw_kint(&w, "ppid", p->ppid);
	sp_jw_kstr(&w, "exe", p->exe ? p->exe : "");
	sp_jw_key(&w, "argv");
	sp_jw_open(&w, '[');
	for (int i = 0; i < p->argc; i++)
		sp_jw_str(&w, p->argv[i]);
	sp_jw_close(&w, ']');
	sp_jw_ku64(&w, "t_load_ns", p->t_load_ns);
	sp_jw_ku64(&w, "t_load_real_ns", p->t_load_real_ns);
	sp_jw_kbool(&w, "forked", p->forked);
	sp_jw_kbool(&w, "execed", p->execed);
	sp_jw_kbool(&w, "contained", p->contained);
	sp_jw_kbool(&w, "exited", p->exited);
	sp_jw_kint(&w, "exit_status", p->exit_status);
	sp_jw_ku64(&w, "t_exit_ns", p->t_exit_ns);
	sp_jw_kint(&w, "lost", (int64_t)p->lost);
	sp_jw_kint(&w, "orphans", (int64_t)p->orphans);
	sp_jw_ku64(&w, "ring_head", p->ring_head);
	sp_jw_key(&w, "spans");
	sp_jw_open(&w, '[');
	for (size_t i = 0; i < p->nspans; i++)
		span(&w, &p->spans[i]);
	sp_jw_close(&w, ']');
	sp_jw_key(&w, "marks");
	sp_jw_open(&w, '[');
	for (size_t i = 0; i < p->nmarks; i++) {
		sp_jw_open(&w, '{');
		sp_jw_kstr(&w, "name", p->marks[i].name);
		sp_jw_ku64(&w, "t", p->marks[i].t);
		sp_jw_kint(&w, "pid", p->marks[i].pid);
		sp_jw_kint(&w, "tid", p->marks[i].tid);
		sp_jw_close(&w, '}');
	}
	sp_jw_close(&w, ']');
	if (p->notes)
		sp_jw_kstr(&w, "notes", p->notes);
	sp_jw_close(&w, '}');
	return sp_jw_done(&w, len);
}
