/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c - print Start Path Maps: a table for people, and JSON
 * ("startpath/report/v1", documented in README.md) for programs.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include "procjson.h"

const char *sp_fmt_ms(char *buf, size_t len, uint64_t ns)
{
	snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	return buf;
}

/* A size in bytes, as a reader wants it ("60.0 MiB", "723 B"). */
const char *sp_fmt_bytes(char *buf, size_t len, uint64_t n)
{
	if (n >= 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, len, "%" PRIu64 " B", n);
	return buf;
}

/* The pid as the host sees it: a process in a new pid namespace records
 * its own pid (1), its ring header also has the host's. */
static int host_pid_of(const struct sp_proc *p, int pid)
{
	if (p && pid == p->pid && p->host_pid)
		return p->host_pid;
	return pid;
}

static int phase_pid(const struct sp_map_phase *ph)
{
	if (!ph->proc)
		return 0;
	return host_pid_of(ph->proc, ph->span ? ph->span->pid : ph->proc->pid);
}

/* Calls of the map's processes that start inside [t0, t1). */
static int in_phase(const struct sp_span *s, const struct sp_map_phase *ph, int last)
{
	return s->t0 >= ph->t0 && (s->t0 < ph->t1 || (last && s->t0 <= ph->t1));
}

static void print_call(FILE *out, const struct sp_proc *p, const struct sp_span *s,
		       uint64_t base)
{
	char d[32], at[32];
	const struct sp_call_info *ci = sp_call_info(s->call);

	snprintf(at, sizeof(at), "+%.3f ms", (double)(s->t0 - base) / 1e6);
	fprintf(out, "      %-14s %12s %12s  [%d]", ci->name, at,
		s->has_exit ? sp_fmt_ms(d, sizeof(d), sp_span_dur(s)) : "(no return)",
		host_pid_of(p, s->pid));
	for (unsigned i = 0; i < s->nstr && i < 2; i++)
		if (s->strs[i] && *s->strs[i])
			fprintf(out, " %s", s->strs[i]);
	if (s->has_exit && s->result < 0)
		fprintf(out, " = -1 (%s)", strerror(s->err));
	fputc('\n', out);
}

static void print_table(FILE *out, const struct sp_map *m, const struct sp_report_opts *o)
{
	uint64_t total = m->t1 > m->t0 ? m->t1 - m->t0 : 0;
	char a[32], b[32];
	size_t last_top = 0;

	for (size_t i = 0; i < m->nphases; i++)
		if (!m->phases[i].parent && m->phases[i].seen && !m->phases[i].section)
			last_top = i;
	if (m->nscopes)
		fprintf(out, "Start Path Map: pod %s (sandbox %s), %zu container%s, %zu process "
			"file%s, %" PRIu64 " record%s lost\n", m->name[0] ? m->name : "(unnamed)",
			m->container_id, m->nscopes - 1, m->nscopes == 2 ? "" : "s", m->nprocs,
			m->nprocs == 1 ? "" : "s", m->lost, m->lost == 1 ? "" : "s");
	else if (strcmp(m->profile, "pull") == 0)
		fprintf(out, "Start Path Map: image pull %s, %zu process file%s, %" PRIu64
			" record%s lost\n", m->container_id, m->nprocs, m->nprocs == 1 ? "" : "s",
			m->lost, m->lost == 1 ? "" : "s");
	else
		fprintf(out, "Start Path Map: container %s (%s)%s, %zu process file%s, %" PRIu64
			" record%s lost\n", m->container_id, m->profile,
			m->pulled ? ", its image pulled first" : "", m->nprocs,
			m->nprocs == 1 ? "" : "s", m->lost, m->lost == 1 ? "" : "s");
	fprintf(out, "  %-18s %12s %12s %7s  %s\n", "PHASE", "START", "DURATION", "SHARE", "PROCESS");
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		char name[96];
		uint64_t dur = ph->t1 - ph->t0;
		const char *shown = ph->name;

		if (ph->section && (i == 0 || !m->phases[i - 1].section)) {
			fprintf(out, "  %-18s %12s %12s\n", "total", "", sp_fmt_ms(b, sizeof(b), total));
			fprintf(out, "  %s (after the start, not in its total):\n", ph->section);
		}
		/* A pod: a line for the sandbox and each container, their
		 * phases under it by their own names. */
		if (ph->scope >= 0 && (size_t)ph->scope < m->nscopes && !ph->section) {
			const struct sp_map_scope *sc = &m->scopes[ph->scope];

			if (i == 0 || m->phases[i - 1].scope != ph->scope)
				fprintf(out, "  %s %s %.12s: %s, bottleneck %s\n",
					ph->scope ? "container" : "sandbox", ph->scope ? sc->label : "(pause)",
					sc->id,
					sp_fmt_ms(b, sizeof(b), sc->t1 - sc->t0),
					sc->bottleneck < 0 ? "-"
					: strchr(m->phases[sc->bottleneck].name, '/') && ph->scope
					? strchr(m->phases[sc->bottleneck].name, '/') + 1
					: m->phases[sc->bottleneck].name);
			if (ph->scope && strchr(shown, '/'))
				shown = strchr(shown, '/') + 1;
		}
		snprintf(name, sizeof(name), "%s%s", ph->parent ? "  " : "", shown);
		if (!ph->seen) {
			fprintf(out, "  %-18s %12s %12s %7s  %s\n", name, "-", "-", "-", "(not seen)");
			if (!ph->section && ph->why[0])
				fprintf(out, "  %-18s   why: %s\n", "", ph->why);
			continue;
		}
		snprintf(a, sizeof(a), "+%.3f ms", (double)(ph->t0 - m->t0) / 1e6);
		if (ph->section) {
			fprintf(out, "  %-18s %12s %12s %7s  %s[%d]\n", name, a,
				sp_fmt_ms(b, sizeof(b), dur), "", ph->proc ? sp_proc_comm(ph->proc) : "?",
				phase_pid(ph));
			continue;
		}
		fprintf(out, "  %-18s %12s %12s %6.1f%%  %s[%d]%s", name, a,
			sp_fmt_ms(b, sizeof(b), dur),
			total && !ph->section ? 100.0 * (double)dur / (double)total : 0.0,
			ph->proc ? sp_proc_comm(ph->proc) : "?", phase_pid(ph),
			ph->bottleneck ? "   <== bottleneck" : "");
		if (ph->digest[0])
			fprintf(out, "  %.19s%s%s", ph->digest, ph->bytes ? " " : "",
				ph->bytes ? sp_fmt_bytes(a, sizeof(a), ph->bytes) : "");
		fputc('\n', out);
		/* A phase seen, with what bounds it that was not recorded. */
		if (!ph->section && ph->why[0])
			fprintf(out, "  %-18s   note: %s\n", "", ph->why);
		if (o->calls && !ph->parent && !ph->section) {
			for (size_t k = 0; k < m->ncalls; k++)
				if (in_phase(m->calls[k].span, ph, i == last_top))
					print_call(out, m->calls[k].proc, m->calls[k].span, m->t0);
		}
	}
	if (!m->nphases || !m->phases[m->nphases - 1].section)
		fprintf(out, "  %-18s %12s %12s\n", "total", "", sp_fmt_ms(b, sizeof(b), total));
	if (o->calls) {
		/* The calls of this start that no phase of the start holds:
		 * where a map has a gap, what was recorded there. */
		int head = 0;

		for (size_t k = 0; k < m->ncalls; k++) {
			int held = 0;

			for (size_t i = 0; i < m->nphases && !held; i++)
				held = m->phases[i].seen && !m->phases[i].parent &&
				       !m->phases[i].section &&
				       in_phase(m->calls[k].span, &m->phases[i], i == last_top);
			if (held)
				continue;
			if (!head++)
				fprintf(out, "  in no phase of the start:\n");
			print_call(out, m->calls[k].proc, m->calls[k].span, m->t0);
		}
	}
	if (m->ready_ns) {
		snprintf(a, sizeof(a), "+%.3f ms", (double)(m->ready_ns - m->t0) / 1e6);
		fprintf(out, "  %-18s %12s  (the readiness probe succeeded; process_exec ends here)\n",
			"ready", a);
	}
	if (m->nmissing)
		fprintf(out, "  note: %zu phase%s not seen (the why lines say what was expected; "
			"--calls lists every call of this start, those in no phase last)\n",
			m->nmissing, m->nmissing == 1 ? "" : "s");
}

static cJSON *map_json(const struct sp_map *m, int only_calls_in_phases)
{
	cJSON *o = cJSON_CreateObject(), *phases, *procs;
	uint64_t total = m->t1 > m->t0 ? m->t1 - m->t0 : 0;
	const char *bn = NULL;
	size_t last_top = 0;

	(void)only_calls_in_phases;
	if (!o)
		return NULL;
	for (size_t i = 0; i < m->nphases; i++) {
		if (m->phases[i].bottleneck)
			bn = m->phases[i].name;
		if (!m->phases[i].parent && m->phases[i].seen && !m->phases[i].section)
			last_top = i;
	}
	cJSON_AddStringToObject(o, "container_id", m->container_id);
	cJSON_AddStringToObject(o, "profile", m->profile);
	if (m->name[0])
		cJSON_AddStringToObject(o, "name", m->name);
	else
		cJSON_AddNullToObject(o, "name");
	if (m->nscopes) {
		/* A pod: its sandbox and containers, each with its total and
		 * bottleneck; each phase names its scope. */
		cJSON *sa = cJSON_AddArrayToObject(o, "containers");

		for (size_t k = 0; k < m->nscopes; k++) {
			const struct sp_map_scope *sc = &m->scopes[k];
			cJSON *c = cJSON_CreateObject();

			cJSON_AddItemToArray(sa, c);
			cJSON_AddStringToObject(c, "scope", sc->label);
			cJSON_AddStringToObject(c, "id", sc->id);
			cJSON_AddStringToObject(c, "kind", k ? "container" : "sandbox");
			cJSON_AddNumberToObject(c, "start_offset_ns",
						(double)(sc->t0 > m->t0 ? sc->t0 - m->t0 : 0));
			cJSON_AddNumberToObject(c, "total_ns", (double)(sc->t1 - sc->t0));
			if (sc->bottleneck >= 0)
				cJSON_AddStringToObject(c, "bottleneck", m->phases[sc->bottleneck].name);
			else
				cJSON_AddNullToObject(c, "bottleneck");
		}
	}
	sp_json_add_u64(o, "start_ns", m->t0);
	sp_json_add_u64(o, "end_ns", m->t1);
	cJSON_AddNumberToObject(o, "total_ns", (double)total);
	if (bn)
		cJSON_AddStringToObject(o, "bottleneck", bn);
	else
		cJSON_AddNullToObject(o, "bottleneck");
	cJSON_AddNumberToObject(o, "lost_records", (double)m->lost);
	cJSON_AddNumberToObject(o, "missing_phases", (double)m->nmissing);
	cJSON_AddBoolToObject(o, "pulled", m->pulled);
	if (m->ready_ns)
		cJSON_AddNumberToObject(o, "ready_offset_ns", (double)(m->ready_ns - m->t0));
	else
		cJSON_AddNullToObject(o, "ready_offset_ns");
	phases = cJSON_AddArrayToObject(o, "phases");
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		cJSON *p = cJSON_CreateObject(), *calls;
		uint64_t dur = ph->t1 - ph->t0;

		cJSON_AddItemToArray(phases, p);
		cJSON_AddStringToObject(p, "name", ph->name);
		if (ph->scope >= 0 && (size_t)ph->scope < m->nscopes)
			cJSON_AddStringToObject(p, "scope", m->scopes[ph->scope].label);
		if (ph->parent)
			cJSON_AddStringToObject(p, "parent", ph->parent);
		else
			cJSON_AddNullToObject(p, "parent");
		if (ph->section)
			cJSON_AddStringToObject(p, "section", ph->section);
		else
			cJSON_AddStringToObject(p, "section", "start");
		cJSON_AddBoolToObject(p, "seen", ph->seen);
		if (!ph->seen) {
			if (ph->why[0])
				cJSON_AddStringToObject(p, "why", ph->why);
			continue;
		}
		cJSON_AddNumberToObject(p, "start_offset_ns", (double)(ph->t0 - m->t0));
		cJSON_AddNumberToObject(p, "duration_ns", (double)dur);
		cJSON_AddNumberToObject(p, "share",
					total && !ph->section ? (double)dur / (double)total : 0.0);
		cJSON_AddNumberToObject(p, "pid", phase_pid(ph));
		cJSON_AddStringToObject(p, "process", ph->proc ? sp_proc_comm(ph->proc) : "?");
		cJSON_AddBoolToObject(p, "bottleneck", ph->bottleneck);
		if (ph->digest[0]) {
			cJSON_AddStringToObject(p, "digest", ph->digest);
			if (ph->bytes) /* dockerd's layers: not known */
				cJSON_AddNumberToObject(p, "size_bytes", (double)ph->bytes);
		}
		if (ph->parent)
			continue;
		calls = cJSON_AddArrayToObject(p, "calls");
		for (size_t k = 0; k < m->ncalls; k++) {
			const struct sp_span *s = m->calls[k].span;
			cJSON *c;

			if (!in_phase(s, ph, i == last_top && !ph->section))
				continue;
			c = cJSON_CreateObject();
			cJSON_AddItemToArray(calls, c);
			cJSON_AddStringToObject(c, "call", sp_call_info(s->call)->name);
			cJSON_AddStringToObject(c, "container_id", m->container_id);
			cJSON_AddStringToObject(c, "process", sp_proc_comm(m->calls[k].proc));
			cJSON_AddNumberToObject(c, "pid", host_pid_of(m->calls[k].proc, s->pid));
			cJSON_AddNumberToObject(c, "tid", s->tid);
			cJSON_AddNumberToObject(c, "offset_ns", (double)(s->t0 - m->t0));
			cJSON_AddNumberToObject(c, "duration_ns", (double)sp_span_dur(s));
			cJSON_AddBoolToObject(c, "returned", s->has_exit);
			cJSON_AddNumberToObject(c, "result", (double)s->result);
			cJSON_AddNumberToObject(c, "errno", s->err);
			cJSON_AddItemToObject(c, "args", sp_span_args_json(s));
		}
	}
	procs = cJSON_AddArrayToObject(o, "processes");
	for (size_t q = 0; q < m->nprocs; q++) {
		const struct sp_proc *pr = m->procs[q];
		cJSON *p = cJSON_CreateObject(), *argv = cJSON_CreateArray();

		cJSON_AddItemToArray(procs, p);
		cJSON_AddNumberToObject(p, "pid", pr->host_pid ? pr->host_pid : pr->pid);
		cJSON_AddStringToObject(p, "comm", sp_proc_comm(pr));
		for (int a = 0; a < pr->argc; a++)
			cJSON_AddItemToArray(argv, cJSON_CreateString(pr->argv[a]));
		cJSON_AddItemToObject(p, "argv", argv);
		cJSON_AddStringToObject(p, "source", pr->origin);
		cJSON_AddNumberToObject(p, "calls", (double)pr->nspans);
		cJSON_AddNumberToObject(p, "lost_records", (double)pr->lost);
	}
	return o;
}

int sp_report_print(FILE *out, const struct sp_dataset *ds, const struct sp_report_opts *o)
{
	struct sp_map *maps;
	int n = sp_maps_build_ready(ds->procs, ds->nprocs, ds->have_run ? ds->run_t1 : 0,
				    ds->ready_ns, &maps);
	int shown = 0, rc = SP_EXIT_OK;
	uint64_t lost = 0;

	if (n < 0) {
		sp_err("out of memory");
		return SP_EXIT_FAIL;
	}
	for (size_t i = 0; i < ds->nprocs; i++)
		lost += ds->procs[i].lost;
	if (o->format == SP_FMT_JSON) {
		cJSON *root = cJSON_CreateObject(), *arr, *tool;
		char *text;

		cJSON_AddStringToObject(root, "schema", SP_REPORT_SCHEMA);
		tool = cJSON_AddObjectToObject(root, "tool");
		cJSON_AddStringToObject(tool, "name", "startpath");
		cJSON_AddStringToObject(tool, "version", STARTPATH_VERSION);
		cJSON_AddStringToObject(root, "dir", ds->dir);
		cJSON_AddNumberToObject(root, "process_count", (double)ds->nprocs);
		cJSON_AddNumberToObject(root, "unreadable_files", (double)ds->nbad);
		cJSON_AddNumberToObject(root, "lost_records", (double)lost);
		arr = cJSON_AddArrayToObject(root, "maps");
		for (int i = 0; i < n; i++) {
			if (o->container && strcmp(o->container, maps[i].container_id) != 0 &&
			    strcmp(o->container, maps[i].name) != 0)
				continue;
			cJSON_AddItemToArray(arr, map_json(&maps[i], 1));
			shown++;
		}
		arr = cJSON_AddArrayToObject(root, "processes");
		for (size_t i = 0; i < ds->nprocs; i++) {
			const struct sp_proc *pr = &ds->procs[i];
			cJSON *p = sp_proc_to_json(pr);

			if (!p)
				continue;
			cJSON_AddStringToObject(p, "comm", sp_proc_comm(pr));
			cJSON_AddStringToObject(p, "source", pr->origin);
			cJSON_AddStringToObject(p, "file", pr->path ? pr->path : "");
			cJSON_AddItemToArray(arr, p);
		}
		text = cJSON_Print(root);
		cJSON_Delete(root);
		if (!text) {
			sp_err("out of memory");
			rc = SP_EXIT_FAIL;
		} else {
			fprintf(out, "%s\n", text);
			free(text);
		}
	} else {
		for (int i = 0; i < n; i++) {
			if (o->container && strcmp(o->container, maps[i].container_id) != 0 &&
			    strcmp(o->container, maps[i].name) != 0)
				continue;
			if (shown++)
				fputc('\n', out);
			print_table(out, &maps[i], o);
		}
		if (!shown) {
			fprintf(out, "No container start found in %s (%zu process file%s):\n", ds->dir,
				ds->nprocs, ds->nprocs == 1 ? "" : "s");
			for (size_t i = 0; i < ds->nprocs && i < 50; i++)
				fprintf(out, "  %-24s pid %-7d %zu call%s\n", sp_proc_comm(&ds->procs[i]),
					ds->procs[i].host_pid, ds->procs[i].nspans,
					ds->procs[i].nspans == 1 ? "" : "s");
		}
		if (lost)
			fprintf(out, "warning: %" PRIu64 " record%s lost (ring overflow, a full output filesystem, or killed writers)\n",
				lost, lost == 1 ? "" : "s");
	}
	if (o->container && !shown) {
		sp_err("no container start with id '%s' in %s", o->container, ds->dir);
		rc = SP_EXIT_USAGE;
	}
	sp_maps_free(maps, n);
	return rc;
}
