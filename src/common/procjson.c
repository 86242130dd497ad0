/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procjson.c - per-process JSON with cJSON, both directions (the CLI; the
 * library writes with procwrite.c, which must print what this builds).  The reader treats its
 * input as untrusted: every field is type-checked and an error names the
 * field's path.
 */
#include "procjson.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sp_json_add_u64(cJSON *obj, const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_AddStringToObject(obj, name, buf) ? 0 : -1;
}

/* An integer as JSON text, printed here: cJSON prints every number
 * through the floating-point printf, whose first use in a process costs
 * ~15 us (cold code and tables), paid by every traced process at exit.
 * The text is the same number, exact beyond 2^53. */
cJSON *sp_json_int(int64_t v)
{
	char buf[24], *e = buf + sizeof(buf) - 1;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	*e = '\0';
	do
		*--e = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--e = '-';
	return cJSON_CreateRaw(e);
}

int sp_json_add_int(cJSON *obj, const char *name, int64_t v)
{
	cJSON *it = sp_json_int(v);

	if (!it)
		return 0;
	if (!cJSON_AddItemToObject(obj, name, it)) {
		cJSON_Delete(it);
		return 0;
	}
	return 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!s || !*s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = x;
	return 0;
}

int sp_json_get_u64(const cJSON *obj, const char *name, uint64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(it))
		return parse_u64(it->valuestring, v);
	if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 1.8e19) {
		*v = (uint64_t)it->valuedouble;
		return 0;
	}
	return -1;
}

cJSON *sp_span_args_json(const struct sp_span *s)
{
	const struct sp_call_info *ci = sp_call_info(s->call);
	cJSON *args = cJSON_CreateObject();

	if (!args)
		return NULL;
	for (unsigned i = 0; i < s->nstr && i < SP_MAX_STRS; i++) {
		char name[16];
		const char *n = ci->strs[i];

		if (!n) {
			snprintf(name, sizeof(name), "str%u", i);
			n = name;
		}
		if (!cJSON_AddStringToObject(args, n, s->strs[i] ? s->strs[i] : ""))
			goto fail;
	}
	for (int i = 0; i < 3; i++) {
		if (!ci->args[i])
			continue;
		/* Values with the top bit set are negative numbers (AT_FDCWD). */
		if (!sp_json_add_int(args, ci->args[i], (int64_t)s->arg[i]))
			goto fail;
	}
	if (ci->ret && !sp_json_add_int(args, ci->ret, (int64_t)s->ret_arg))
		goto fail;
	return args;
fail:
	cJSON_Delete(args);
	return NULL;
}

cJSON *sp_span_json(const struct sp_span *s)
{
	cJSON *o = cJSON_CreateObject(), *args;

	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "call", sp_call_info(s->call)->name) ||
	    !sp_json_add_int(o, "pid", s->pid) ||
	    !sp_json_add_int(o, "tid", s->tid) ||
	    !sp_json_add_int(o, "callid", s->callid) ||
	    !cJSON_AddStringToObject(o, "src", sp_src_name(s->src)) ||
	    sp_json_add_u64(o, "t0", s->t0) < 0 || sp_json_add_u64(o, "t1", s->t1) < 0 ||
	    !sp_json_add_int(o, "dur_ns", (int64_t)sp_span_dur(s)) ||
	    !cJSON_AddBoolToObject(o, "enter", s->has_enter) ||
	    !cJSON_AddBoolToObject(o, "exit", s->has_exit) ||
	    !sp_json_add_int(o, "result", (int64_t)s->result) ||
	    !sp_json_add_int(o, "errno", s->err) ||
	    !sp_json_add_int(o, "flags", s->flags))
		goto fail;
	args = sp_span_args_json(s);
	if (!args)
		goto fail;
	cJSON_AddItemToObject(o, "args", args);
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

cJSON *sp_proc_to_json(const struct sp_proc *p)
{
	cJSON *o = cJSON_CreateObject(), *a, *spans, *marks;
	char id[20];

	if (!o)
		return NULL;
	snprintf(id, sizeof(id), "%016" PRIx64, p->ring_id);
	if (!cJSON_AddStringToObject(o, "schema", SP_PROC_SCHEMA) ||
	    !cJSON_AddStringToObject(o, "ring_id", id))
		goto fail;
	snprintf(id, sizeof(id), "%016" PRIx64, p->parent_ring_id);
	if (!cJSON_AddStringToObject(o, "parent_ring_id", id) ||
	    !sp_json_add_int(o, "pid", p->pid) ||
	    !sp_json_add_int(o, "host_pid", p->host_pid) ||
	    !sp_json_add_int(o, "ppid", p->ppid) ||
	    !cJSON_AddStringToObject(o, "exe", p->exe ? p->exe : ""))
		goto fail;
	a = cJSON_AddArrayToObject(o, "argv");
	if (!a)
		goto fail;
	for (int i = 0; i < p->argc; i++) {
		cJSON *s = cJSON_CreateString(p->argv[i]);

		if (!s)
			goto fail;
		cJSON_AddItemToArray(a, s);
	}
	if (sp_json_add_u64(o, "t_load_ns", p->t_load_ns) < 0 ||
	    sp_json_add_u64(o, "t_load_real_ns", p->t_load_real_ns) < 0 ||
	    !cJSON_AddBoolToObject(o, "forked", p->forked) ||
	    !cJSON_AddBoolToObject(o, "execed", p->execed) ||
	    !cJSON_AddBoolToObject(o, "contained", p->contained) ||
	    !cJSON_AddBoolToObject(o, "exited", p->exited) ||
	    !sp_json_add_int(o, "exit_status", (int64_t)p->exit_status) ||
	    sp_json_add_u64(o, "t_exit_ns", p->t_exit_ns) < 0 ||
	    !sp_json_add_int(o, "lost", (int64_t)p->lost) ||
	    !sp_json_add_int(o, "orphans", (int64_t)p->orphans) ||
	    sp_json_add_u64(o, "ring_head", p->ring_head) < 0)
		goto fail;
	spans = cJSON_AddArrayToObject(o, "spans");
	if (!spans)
		goto fail;
	for (size_t i = 0; i < p->nspans; i++) {
		cJSON *s = sp_span_json(&p->spans[i]);

		if (!s)
			goto fail;
		cJSON_AddItemToArray(spans, s);
	}
	marks = cJSON_AddArrayToObject(o, "marks");
	if (!marks)
		goto fail;
	for (size_t i = 0; i < p->nmarks; i++) {
		cJSON *m = cJSON_CreateObject();

		if (!m)
			goto fail;
		cJSON_AddItemToArray(marks, m);
		if (!cJSON_AddStringToObject(m, "name", p->marks[i].name) ||
		    sp_json_add_u64(m, "t", p->marks[i].t) < 0 ||
		    !sp_json_add_int(m, "pid", p->marks[i].pid) ||
		    !sp_json_add_int(m, "tid", p->marks[i].tid))
			goto fail;
	}
	if (p->notes && !cJSON_AddStringToObject(o, "notes", p->notes))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

/* ---- reading ---- */

struct rd {
	char *err;
	size_t errlen;
};

static int bad(struct rd *rd, const char *where, const char *what)
{
	snprintf(rd->err, rd->errlen, "%s: %s", where, what);
	return -1;
}

/* where ends in "." (e.g. "spans[3]."): "spans[3].field: what". */
static int badf(struct rd *rd, const char *where, const char *field, const char *what)
{
	snprintf(rd->err, rd->errlen, "%s%s: %s", where, field, what);
	return -1;
}

static int get_int(struct rd *rd, const cJSON *o, const char *name, const char *where,
		   int64_t lo, int64_t hi, int64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	char path[96];

	snprintf(path, sizeof(path), "%s%s", where, name);
	if (!cJSON_IsNumber(it))
		return bad(rd, path, "missing or not a number");
	/* (double)INT64_MAX rounds up to 2^63, which no int64_t holds: the
	 * cast of that would be undefined. */
	if (!(it->valuedouble >= (double)lo && it->valuedouble <= (double)hi) ||
	    it->valuedouble >= 0x1p63 || it->valuedouble < -0x1p63)
		return bad(rd, path, "out of range");
	*v = (int64_t)it->valuedouble;
	return 0;
}

static int get_bool(struct rd *rd, const cJSON *o, const char *name, const char *where, int *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	char path[96];

	snprintf(path, sizeof(path), "%s%s", where, name);
	if (!cJSON_IsBool(it))
		return bad(rd, path, "missing or not true/false");
	*v = cJSON_IsTrue(it);
	return 0;
}

static int get_u64s(struct rd *rd, const cJSON *o, const char *name, const char *where,
		    uint64_t *v)
{
	char path[96];

	snprintf(path, sizeof(path), "%s%s", where, name);
	if (sp_json_get_u64(o, name, v) < 0)
		return bad(rd, path, "missing or not a decimal string");
	return 0;
}

static int get_hex(struct rd *rd, const cJSON *o, const char *name, uint64_t *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	char *end;

	if (!cJSON_IsString(it) || !*it->valuestring)
		return bad(rd, name, "missing or not a hex string");
	errno = 0;
	*v = strtoull(it->valuestring, &end, 16);
	if (errno || *end)
		return bad(rd, name, "not a hex string");
	return 0;
}

static int read_span(struct rd *rd, const cJSON *js, size_t idx, struct sp_proc *p)
{
	char where[48];
	struct sp_span s;
	const cJSON *call = cJSON_GetObjectItemCaseSensitive(js, "call");
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(js, "src");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(js, "args");
	const struct sp_call_info *ci;
	int64_t v;

	snprintf(where, sizeof(where), "spans[%zu].", idx);
	memset(&s, 0, sizeof(s));
	if (!cJSON_IsObject(js))
		return badf(rd, where, "", "not an object");
	if (!cJSON_IsString(call) || !(s.call = sp_call_by_name(call->valuestring)))
		return badf(rd, where, "call", "missing or unknown call name");
	ci = sp_call_info(s.call);
	if (get_int(rd, js, "pid", where, 0, INT32_MAX, &v) < 0)
		return -1;
	s.pid = (int)v;
	if (get_int(rd, js, "tid", where, 0, INT32_MAX, &v) < 0)
		return -1;
	s.tid = (int)v;
	if (get_int(rd, js, "callid", where, 0, UINT32_MAX, &v) < 0)
		return -1;
	s.callid = (uint32_t)v;
	if (get_u64s(rd, js, "t0", where, &s.t0) < 0 || get_u64s(rd, js, "t1", where, &s.t1) < 0)
		return -1;
	if (s.t1 < s.t0)
		return badf(rd, where, "t1", "is before t0");
	if (get_bool(rd, js, "enter", where, &s.has_enter) < 0 ||
	    get_bool(rd, js, "exit", where, &s.has_exit) < 0)
		return -1;
	if (get_int(rd, js, "result", where, INT64_MIN, INT64_MAX, &v) < 0)
		return -1;
	s.result = v;
	if (get_int(rd, js, "errno", where, 0, 4095, &v) < 0)
		return -1;
	s.err = (int)v;
	if (get_int(rd, js, "flags", where, 0, 255, &v) < 0)
		return -1;
	s.flags = (unsigned)v;
	s.src = SP_SRC_LIBC;
	if (cJSON_IsString(src)) {
		if (strcmp(src->valuestring, "syscall") == 0)
			s.src = SP_SRC_SYSCALL;
		else if (strcmp(src->valuestring, "raw") == 0)
			s.src = SP_SRC_RAW;
	}
	if (!cJSON_IsObject(args))
		return badf(rd, where, "args", "missing or not an object");
	for (unsigned i = 0; i < SP_MAX_STRS && ci->strs[i]; i++) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, ci->strs[i]);

		if (!a)
			break;
		if (!cJSON_IsString(a))
			return badf(rd, where, "args", "a string argument is not a string");
		s.strs[i] = a->valuestring;
		s.nstr = i + 1;
	}
	for (int i = 0; i < 3; i++) {
		const cJSON *a;

		if (!ci->args[i])
			continue;
		a = cJSON_GetObjectItemCaseSensitive(args, ci->args[i]);
		if (!a)
			continue;
		if (!cJSON_IsNumber(a) || a->valuedouble < -9.2e18 || a->valuedouble > 9.2e18)
			return badf(rd, where, "args", "a numeric argument is not a number");
		s.arg[i] = a->valuedouble < 0 ? (uint64_t)(int64_t)a->valuedouble
					      : (uint64_t)a->valuedouble;
	}
	if (ci->ret) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(args, ci->ret);

		if (a && (!cJSON_IsNumber(a) || a->valuedouble < 0 || a->valuedouble > 4294967295.0))
			return badf(rd, where, "args", "the returned number is out of range");
		if (a)
			s.ret_arg = (uint64_t)a->valuedouble;
	}
	if (sp_proc_add_span(p, &s) < 0)
		return badf(rd, where, "", "out of memory");
	return 0;
}

int sp_proc_from_json(const char *text, size_t len, struct sp_proc *p,
		      char *err, size_t errlen)
{
	struct rd rd = { err, errlen };
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *schema, *exe, *argv, *spans, *marks, *notes, *it;
	int64_t v;
	int rc = -1;
	size_t i;

	memset(p, 0, sizeof(*p));
	p->origin = "json";
	if (!root) {
		bad(&rd, "json", "not valid JSON");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		bad(&rd, "json", "top level is not an object");
		goto out;
	}
	schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, SP_PROC_SCHEMA) != 0) {
		bad(&rd, "schema", "missing or not " SP_PROC_SCHEMA);
		goto out;
	}
	if (get_hex(&rd, root, "ring_id", &p->ring_id) < 0 ||
	    get_hex(&rd, root, "parent_ring_id", &p->parent_ring_id) < 0)
		goto out;
	if (get_int(&rd, root, "pid", "", 0, INT32_MAX, &v) < 0)
		goto out;
	p->pid = (int)v;
	if (get_int(&rd, root, "host_pid", "", 0, INT32_MAX, &v) < 0)
		goto out;
	p->host_pid = (int)v;
	if (get_int(&rd, root, "ppid", "", 0, INT32_MAX, &v) < 0)
		goto out;
	p->ppid = (int)v;
	exe = cJSON_GetObjectItemCaseSensitive(root, "exe");
	if (!cJSON_IsString(exe)) {
		bad(&rd, "exe", "missing or not a string");
		goto out;
	}
	p->exe = strdup(exe->valuestring);
	argv = cJSON_GetObjectItemCaseSensitive(root, "argv");
	if (!cJSON_IsArray(argv)) {
		bad(&rd, "argv", "missing or not an array");
		goto out;
	}
	p->argv = calloc((size_t)cJSON_GetArraySize(argv) + 1, sizeof(char *));
	if (!p->exe || !p->argv) {
		bad(&rd, "json", "out of memory");
		goto out;
	}
	cJSON_ArrayForEach(it, argv) {
		if (!cJSON_IsString(it)) {
			bad(&rd, "argv", "an element is not a string");
			goto out;
		}
		if (!(p->argv[p->argc] = strdup(it->valuestring))) {
			bad(&rd, "argv", "out of memory");
			goto out;
		}
		p->argc++;
	}
	if (get_u64s(&rd, root, "t_load_ns", "", &p->t_load_ns) < 0 ||
	    get_u64s(&rd, root, "t_load_real_ns", "", &p->t_load_real_ns) < 0 ||
	    get_bool(&rd, root, "forked", "", &p->forked) < 0 ||
	    get_bool(&rd, root, "execed", "", &p->execed) < 0 ||
	    get_bool(&rd, root, "contained", "", &p->contained) < 0 ||
	    get_bool(&rd, root, "exited", "", &p->exited) < 0 ||
	    get_u64s(&rd, root, "t_exit_ns", "", &p->t_exit_ns) < 0)
		goto out;
	if (get_int(&rd, root, "exit_status", "", INT32_MIN, INT32_MAX, &v) < 0)
		goto out;
	p->exit_status = v;
	if (get_int(&rd, root, "lost", "", 0, INT64_C(9000000000000000), &v) < 0)
		goto out;
	p->lost = (uint64_t)v;
	if (get_int(&rd, root, "orphans", "", 0, INT64_C(9000000000000000), &v) < 0)
		goto out;
	p->orphans = (uint64_t)v;
	if (get_u64s(&rd, root, "ring_head", "", &p->ring_head) < 0)
		goto out;
	spans = cJSON_GetObjectItemCaseSensitive(root, "spans");
	if (!cJSON_IsArray(spans)) {
		bad(&rd, "spans", "missing or not an array");
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(it, spans) {
		if (read_span(&rd, it, i++, p) < 0)
			goto out;
	}
	marks = cJSON_GetObjectItemCaseSensitive(root, "marks");
	if (marks && !cJSON_IsArray(marks)) {
		bad(&rd, "marks", "not an array");
		goto out;
	}
	i = 0;
	cJSON_ArrayForEach(it, marks) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		struct sp_mark *m;
		char where[32];

		snprintf(where, sizeof(where), "marks[%zu].", i++);
		if (!cJSON_IsString(name)) {
			badf(&rd, where, "name", "missing or not a string");
			goto out;
		}
		m = realloc(p->marks, (p->nmarks + 1) * sizeof(*m));
		if (!m) {
			badf(&rd, where, "", "out of memory");
			goto out;
		}
		p->marks = m;
		m = &p->marks[p->nmarks];
		memset(m, 0, sizeof(*m));
		if (get_u64s(&rd, it, "t", where, &m->t) < 0)
			goto out;
		if (get_int(&rd, it, "pid", where, 0, INT32_MAX, &v) < 0)
			goto out;
		m->pid = (int)v;
		if (get_int(&rd, it, "tid", where, 0, INT32_MAX, &v) < 0)
			goto out;
		m->tid = (int)v;
		if (!(m->name = strdup(name->valuestring))) {
			badf(&rd, where, "", "out of memory");
			goto out;
		}
		p->nmarks++;
	}
	notes = cJSON_GetObjectItemCaseSensitive(root, "notes");
	if (cJSON_IsString(notes) && !(p->notes = strdup(notes->valuestring))) {
		bad(&rd, "notes", "out of memory");
		goto out;
	}
	sp_proc_finish(p);
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0) {
		sp_proc_free(p);
		p->origin = "json";
	}
	return rc;
}
