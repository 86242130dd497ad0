/* SPDX-License-Identifier: Apache-2.0 */
/*
 * export.c - `startpath export --format chrome|otlp DIR`: the maps of an
 * output directory as Chrome Trace Event JSON (Perfetto UI, chrome://tracing)
 * or as OTLP/JSON (an ExportTraceServiceRequest: one trace per container
 * start, phases as parents of their calls).
 */
#include "cli.h"

#include <getopt.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "procjson.h"

static const char export_usage[] =
	"Usage: startpath export --format chrome|otlp|html SRC [--container ID]\n"
	"\n"
	"Print the container starts recorded in DIR for other tools:\n"
	"  chrome  Trace Event Format JSON: open it in ui.perfetto.dev or chrome://tracing\n"
	"          (a track per process and thread, the phases on a track of their own)\n"
	"  otlp    OpenTelemetry OTLP/JSON (ExportTraceServiceRequest): one trace per\n"
	"          container start, phase spans as parents of their syscall spans\n"
	"  html    one self-contained page: a Gantt timeline of the phases (a lane per\n"
	"          process, the bottleneck highlighted, details on hover) and the table;\n"
	"          for a bench file (startpath bench -o), a box plot per phase.\n"
	"          (For a diff: startpath diff --format html BASE NEW.)\n"
	"SRC is an output directory or a report JSON (startpath report --format json),\n"
	"or for html a bench JSON file.\n"
	"\n"
	"  -f, --format FMT    chrome or otlp (required)\n"
	"  -c, --container ID  only the start of container ID\n"
	"      --otlp-endpoint URL  POST the OTLP body to URL (an OTLP/HTTP receiver's\n"
	"                      /v1/traces) instead of printing it; a failure is an error\n"
	"  -h, --help          this text\n";

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int sp_otlp_post(const char *url, const char *body, long timeout_s, char *why, size_t len)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	if (!c) {
		snprintf(why, len, "cannot start libcurl");
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(why, len, "POST %s: %s", url, err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	if (status < 200 || status > 299) {
		snprintf(why, len, "POST %s: the receiver answered HTTP %ld", url, status);
		return -1;
	}
	return 0;
}

/* POST body to url as JSON.  0, or -1 with the reason said. */
static int post(const char *url, const char *body)
{
	char why[512];

	if (sp_otlp_post(url, body, 30, why, sizeof(why)) == 0)
		return 0;
	sp_err("export: %s", why);
	return -1;
}

/* Host pid of a call (a process in a new pid namespace records 1). */
static int host_pid(const struct sp_proc *p, int pid)
{
	return p && pid == p->pid && p->host_pid ? p->host_pid : pid;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static cJSON *meta(const char *what, int pid, int tid, const char *name)
{
	cJSON *e = cJSON_CreateObject(), *a = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "name", what);
	cJSON_AddStringToObject(e, "ph", "M");
	cJSON_AddNumberToObject(e, "ts", 0);
	cJSON_AddNumberToObject(e, "dur", 0);
	cJSON_AddNumberToObject(e, "pid", pid);
	cJSON_AddNumberToObject(e, "tid", tid);
	cJSON_AddStringToObject(a, "name", name);
	cJSON_AddItemToObject(e, "args", a);
	return e;
}

static cJSON *slice(const char *name, const char *cat, uint64_t t0, uint64_t t1, int pid, int tid)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "cat", cat);
	cJSON_AddStringToObject(e, "ph", "X");
	cJSON_AddNumberToObject(e, "ts", us(t0));
	cJSON_AddNumberToObject(e, "dur", us(t1 > t0 ? t1 - t0 : 0));
	cJSON_AddNumberToObject(e, "pid", pid);
	cJSON_AddNumberToObject(e, "tid", tid);
	return e;
}

static void chrome_map(cJSON *ev, const struct sp_map *m, int idx)
{
	int ppid = 1000000 + idx; /* the phases' own track */
	char name[200];

	snprintf(name, sizeof(name), "Start Path: %s (%s)", m->container_id, m->profile);
	cJSON_AddItemToArray(ev, meta("process_name", ppid, 0, name));
	cJSON_AddItemToArray(ev, meta("thread_name", ppid, 1, "start phases"));
	cJSON_AddItemToArray(ev, meta("thread_name", ppid, 2, "teardown"));
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		cJSON *e, *a;

		if (!ph->seen)
			continue;
		e = slice(ph->name, ph->parent ? "subphase" : "phase", ph->t0, ph->t1, ppid,
			  ph->section ? 2 : 1);
		a = cJSON_AddObjectToObject(e, "args");
		cJSON_AddStringToObject(a, "container_id", m->container_id);
		cJSON_AddStringToObject(a, "process", ph->proc ? sp_proc_comm(ph->proc) : "?");
		cJSON_AddNumberToObject(a, "pid", ph->proc ? host_pid(ph->proc, ph->span ? ph->span->pid
									      : ph->proc->pid) : 0);
		cJSON_AddBoolToObject(a, "bottleneck", ph->bottleneck);
		if (ph->digest[0]) {
			cJSON_AddStringToObject(a, "digest", ph->digest);
			if (ph->bytes)
				cJSON_AddNumberToObject(a, "size_bytes", (double)ph->bytes);
		}
		cJSON_AddItemToArray(ev, e);
	}
	for (size_t k = 0; k < m->ncalls; k++) {
		const struct sp_proc *p = m->calls[k].proc;
		const struct sp_span *s = m->calls[k].span;
		cJSON *e = slice(sp_call_info(s->call)->name, "syscall", s->t0, s->t1,
				 host_pid(p, s->pid), host_pid(p, s->tid));
		cJSON *a = sp_span_args_json(s);

		if (a) {
			cJSON_AddNumberToObject(a, "result", (double)s->result);
			if (s->err)
				cJSON_AddNumberToObject(a, "errno", s->err);
			cJSON_AddBoolToObject(a, "returned", s->has_exit);
			cJSON_AddItemToObject(e, "args", a);
		}
		cJSON_AddItemToArray(ev, e);
	}
	/* Names for the process and thread tracks of this start. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct sp_proc *p = m->procs[i];
		char pn[300];
		int hp = p->host_pid ? p->host_pid : p->pid;

		snprintf(pn, sizeof(pn), "%s%s%s [%d]", sp_proc_comm(p), p->argc > 1 ? " " : "",
			 p->argc > 1 ? p->argv[1] : "", hp);
		cJSON_AddItemToArray(ev, meta("process_name", hp, 0, pn));
	}
}

/* ---- OTLP/JSON ---- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s, uint64_t h)
{
	while (*s)
		h = mix(h ^ (uint8_t)*s++);
	return h;
}

static void hex64(char *out, uint64_t v)
{
	snprintf(out, 17, "%016" PRIx64, v ? v : 1);
}

static cJSON *attr_str(const char *k, const char *v)
{
	cJSON *a = cJSON_CreateObject(), *val = cJSON_CreateObject();

	cJSON_AddStringToObject(a, "key", k);
	cJSON_AddStringToObject(val, "stringValue", v ? v : "");
	cJSON_AddItemToObject(a, "value", val);
	return a;
}

static cJSON *attr_int(const char *k, int64_t v)
{
	cJSON *a = cJSON_CreateObject(), *val = cJSON_CreateObject();
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddStringToObject(a, "key", k);
	cJSON_AddStringToObject(val, "intValue", buf); /* int64 travels as a string */
	cJSON_AddItemToObject(a, "value", val);
	return a;
}

/* Monotonic ns -> Unix ns, through the process's load-time pair. */
static uint64_t unix_ns(const struct sp_proc *p, uint64_t mono)
{
	if (!p || !p->t_load_real_ns)
		return mono;
	return p->t_load_real_ns + (mono - p->t_load_ns);
}

static cJSON *otlp_span(const char *trace, uint64_t id, uint64_t parent, const char *name,
			uint64_t t0, uint64_t t1, int error)
{
	cJSON *s = cJSON_CreateObject(), *st = cJSON_CreateObject();
	char hex[17];

	cJSON_AddStringToObject(s, "traceId", trace);
	hex64(hex, id);
	cJSON_AddStringToObject(s, "spanId", hex);
	if (parent) {
		hex64(hex, parent);
		cJSON_AddStringToObject(s, "parentSpanId", hex);
	}
	cJSON_AddStringToObject(s, "name", name);
	cJSON_AddNumberToObject(s, "kind", 1); /* SPAN_KIND_INTERNAL */
	sp_json_add_u64(s, "startTimeUnixNano", t0);
	sp_json_add_u64(s, "endTimeUnixNano", t1 > t0 ? t1 : t0);
	cJSON_AddArrayToObject(s, "attributes");
	cJSON_AddNumberToObject(st, "code", error ? 2 : 1); /* STATUS_CODE_ERROR / _OK */
	cJSON_AddItemToObject(s, "status", st);
	return s;
}

static cJSON *otlp_map(const struct sp_map *m, const char *host)
{
	cJSON *rs = cJSON_CreateObject(), *res = cJSON_CreateObject(), *ra, *ss, *scope, *spans, *sc;
	const struct sp_proc *p0 = m->nprocs ? m->procs[0] : NULL;
	uint64_t seed = hash_str(m->container_id, m->t0), root_id = mix(seed ^ 1);
	char trace[33], name[200];
	uint64_t *phase_ids = calloc(m->nphases + 1, sizeof(*phase_ids));
	uint64_t *scope_ids = calloc(m->nscopes + 1, sizeof(*scope_ids));
	cJSON *root;

	if (!phase_ids || !scope_ids) {
		free(phase_ids);
		free(scope_ids);
		cJSON_Delete(rs);
		cJSON_Delete(res);
		return NULL;
	}
	snprintf(trace, sizeof(trace), "%016" PRIx64 "%016" PRIx64, mix(seed) | 1, mix(seed ^ 7));
	ra = cJSON_AddArrayToObject(res, "attributes");
	cJSON_AddItemToArray(ra, attr_str("service.name", "startpath"));
	cJSON_AddItemToArray(ra, attr_str("host.name", host));
	cJSON_AddItemToArray(ra, attr_str("container.id", m->container_id));
	cJSON_AddItemToArray(ra, attr_str("container.runtime", m->profile));
	if (m->name[0])
		cJSON_AddItemToArray(ra, attr_str("k8s.pod.name", m->name));
	cJSON_AddItemToObject(rs, "resource", res);
	ss = cJSON_AddArrayToObject(rs, "scopeSpans");
	sc = cJSON_CreateObject();
	cJSON_AddItemToArray(ss, sc);
	scope = cJSON_AddObjectToObject(sc, "scope");
	cJSON_AddStringToObject(scope, "name", "startpath");
	cJSON_AddStringToObject(scope, "version", STARTPATH_VERSION);
	spans = cJSON_AddArrayToObject(sc, "spans");
	if (m->nscopes)
		snprintf(name, sizeof(name), "pod start %s", m->name[0] ? m->name : m->container_id);
	else
		snprintf(name, sizeof(name), "container start %s", m->container_id);
	root = otlp_span(trace, root_id, 0, name, unix_ns(p0, m->t0), unix_ns(p0, m->t1), 0);
	cJSON_AddItemToArray(spans, root);
	/* A pod: its sandbox and each container a child span of the pod's. */
	for (size_t k = 0; k < m->nscopes; k++) {
		const struct sp_map_scope *sc = &m->scopes[k];
		cJSON *s;

		scope_ids[k] = mix(seed ^ (0x80 + k));
		snprintf(name, sizeof(name), "%s %s", k ? "container" : "sandbox", sc->id);
		s = otlp_span(trace, scope_ids[k], root_id, name, unix_ns(p0, sc->t0),
			      unix_ns(p0, sc->t1), 0);
		cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
				     attr_str("container.id", sc->id));
		cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
				     attr_str("startpath.scope", sc->label));
		cJSON_AddItemToArray(spans, s);
	}
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		uint64_t parent = root_id;
		cJSON *s;

		if (!ph->seen)
			continue;
		phase_ids[i] = mix(seed ^ (0x100 + i));
		if (ph->scope >= 0 && (size_t)ph->scope < m->nscopes && !ph->section)
			parent = scope_ids[ph->scope];
		if (ph->parent)
			for (size_t k = 0; k < i; k++)
				if (!m->phases[k].parent && strcmp(m->phases[k].name, ph->parent) == 0)
					parent = phase_ids[k];
		s = otlp_span(trace, phase_ids[i], parent, ph->name, unix_ns(ph->proc, ph->t0),
			      unix_ns(ph->proc, ph->t1), 0);
		cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
				     attr_str("startpath.section", ph->section ? ph->section : "start"));
		cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
				     attr_str("process.executable.name",
					      ph->proc ? sp_proc_comm(ph->proc) : "?"));
		if (ph->digest[0]) {
			cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
					     attr_str("startpath.blob.digest", ph->digest));
			if (ph->bytes)
				cJSON_AddItemToArray(cJSON_GetObjectItem(s, "attributes"),
						     attr_int("startpath.blob.size", (int64_t)ph->bytes));
		}
		cJSON_AddItemToArray(spans, s);
	}
	for (size_t k = 0; k < m->ncalls; k++) {
		const struct sp_proc *p = m->calls[k].proc;
		const struct sp_span *c = m->calls[k].span;
		uint64_t parent = root_id;
		cJSON *s, *at, *args, *it;

		/* The phase it happened in (top level; the sub-span if inside one). */
		for (size_t i = 0; i < m->nphases; i++) {
			const struct sp_map_phase *ph = &m->phases[i];

			if (ph->seen && c->t0 >= ph->t0 && c->t0 < ph->t1 && (!ph->section || parent == root_id))
				parent = phase_ids[i];
		}
		s = otlp_span(trace, mix(seed ^ (0x10000 + k)), parent, sp_call_info(c->call)->name,
			      unix_ns(p, c->t0), unix_ns(p, c->t1), c->has_exit && c->result < 0);
		at = cJSON_GetObjectItem(s, "attributes");
		cJSON_AddItemToArray(at, attr_int("process.pid", host_pid(p, c->pid)));
		cJSON_AddItemToArray(at, attr_int("thread.id", host_pid(p, c->tid)));
		cJSON_AddItemToArray(at, attr_str("container.id", m->container_id));
		cJSON_AddItemToArray(at, attr_int("startpath.result", c->result));
		args = sp_span_args_json(c);
		cJSON_ArrayForEach(it, args) {
			char key[64];

			snprintf(key, sizeof(key), "startpath.arg.%s", it->string);
			if (cJSON_IsString(it))
				cJSON_AddItemToArray(at, attr_str(key, it->valuestring));
			else if (cJSON_IsNumber(it))
				cJSON_AddItemToArray(at, attr_int(key, (int64_t)it->valuedouble));
			else if (cJSON_IsRaw(it)) /* sp_json_int */
				cJSON_AddItemToArray(at, attr_int(key, strtoll(it->valuestring, NULL, 10)));
		}
		cJSON_Delete(args);
		cJSON_AddItemToArray(spans, s);
	}
	free(phase_ids);
	free(scope_ids);
	return rs;
}

char *sp_otlp_body(const struct sp_map *m, const char *host)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "resourceSpans");
	cJSON *rs = otlp_map(m, host);
	char *text;

	if (!rs) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddItemToArray(arr, rs);
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* A report JSON (startpath/report/v1) as a dataset: its "processes" are
 * startpath/proc/v1 documents.  0; 1 if the file is not a report (try
 * something else); -1 after an error was said. */
static int load_report(const char *path, struct sp_dataset *ds)
{
	char *text, err[256];
	size_t len = 0, i = 0;
	cJSON *root, *procs, *it;
	const cJSON *schema;

	memset(ds, 0, sizeof(*ds));
	text = sp_read_file(path, 512u << 20, &len);
	if (!text)
		return 1;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	schema = root ? cJSON_GetObjectItemCaseSensitive(root, "schema") : NULL;
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, SP_REPORT_SCHEMA) != 0) {
		cJSON_Delete(root);
		return 1;
	}
	procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
	ds->dir = strdup(path);
	ds->procs = calloc((size_t)cJSON_GetArraySize(procs) + 1, sizeof(*ds->procs));
	if (!cJSON_IsArray(procs) || !ds->procs || !ds->dir) {
		sp_err("export: %s: processes: missing or not an array", path);
		cJSON_Delete(root);
		sp_dataset_free(ds);
		return -1;
	}
	cJSON_ArrayForEach(it, procs) {
		char *one = cJSON_PrintUnformatted(it);

		if (!one || sp_proc_from_json(one, strlen(one), &ds->procs[ds->nprocs], err,
					      sizeof(err)) < 0) {
			sp_err("export: %s: processes[%zu]: %s", path, i, one ? err : "out of memory");
			free(one);
			cJSON_Delete(root);
			sp_dataset_free(ds);
			return -1;
		}
		free(one);
		ds->nprocs++;
		i++;
	}
	cJSON_Delete(root);
	return 0;
}

int sp_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "container", required_argument, NULL, 'c' },
		{ "otlp-endpoint", required_argument, NULL, 1 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = NULL, *container = NULL, *endpoint = NULL;
	struct sp_dataset ds;
	struct sp_map *maps;
	cJSON *root, *arr;
	char host[256] = "";
	char *text;
	int c, n, shown = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'c':
			container = optarg;
			break;
		case 1:
			endpoint = optarg;
			break;
		case 'h':
			fputs(export_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(export_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (!format || (strcmp(format, "chrome") != 0 && strcmp(format, "otlp") != 0 &&
			strcmp(format, "html") != 0)) {
		sp_err("export: --format %s: expected chrome, otlp or html", format ? format : "(none)");
		return SP_EXIT_USAGE;
	}
	if (endpoint && strcmp(format, "otlp") != 0) {
		sp_err("export: --otlp-endpoint goes with --format otlp");
		return SP_EXIT_USAGE;
	}
	if (endpoint && strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) {
		sp_err("export: --otlp-endpoint %s: expected an http:// or https:// URL", endpoint);
		return SP_EXIT_USAGE;
	}
	if (optind != argc - 1) {
		sp_err("export: expected one directory");
		fputs(export_usage, stderr);
		return SP_EXIT_USAGE;
	}
	{
		struct stat st;

		if (stat(argv[optind], &st) == 0 && S_ISREG(st.st_mode) &&
		    load_report(argv[optind], &ds) == 0)
			goto have_dataset;
		if (strcmp(format, "html") == 0 && stat(argv[optind], &st) == 0 && S_ISREG(st.st_mode)) {
			struct sp_bench b;
			const char *names[64];
			double *samples[64];
			size_t counts[64], k = 0;

			if (sp_bench_load(argv[optind], &b) < 0)
				return SP_EXIT_USAGE;
			for (size_t i = 0; i < b.n && k < 64; i++, k++) {
				names[k] = b.p[i].name;
				samples[k] = b.p[i].v;
				counts[k] = b.p[i].n;
			}
			sp_html_head(stdout, "startpath bench");
			printf("<h1>startpath bench: %zu phases</h1>\n", k);
			sp_html_boxes(stdout, names, samples, counts, k);
			sp_html_tail(stdout);
			sp_bench_free(&b);
			return SP_EXIT_OK;
		}
	}
	{
		struct stat st;

		if (stat(argv[optind], &st) == 0 && S_ISREG(st.st_mode)) {
			sp_err("export: %s: not a report JSON (startpath report --format json); a bench "
			       "file has no calls to export, only --format html draws it", argv[optind]);
			return SP_EXIT_USAGE;
		}
	}
	if (sp_dataset_load(argv[optind], &ds) < 0)
		return SP_EXIT_USAGE;
have_dataset:
	n = sp_maps_build_ready(ds.procs, ds.nprocs, ds.have_run ? ds.run_t1 : 0, ds.ready_ns, &maps);
	if (n < 0) {
		sp_dataset_free(&ds);
		return SP_EXIT_FAIL;
	}
	gethostname(host, sizeof(host) - 1);
	if (strcmp(format, "html") == 0) {
		sp_html_head(stdout, "startpath: Start Path Map");
		printf("<h1>Start Path Map</h1>\n");
		for (int i = 0; i < n; i++)
			if (!container || strcmp(container, maps[i].container_id) == 0) {
				sp_html_map(stdout, &maps[i]);
				shown++;
			}
		sp_html_tail(stdout);
		sp_maps_free(maps, n);
		sp_dataset_free(&ds);
		if (!shown) {
			sp_err("export: no container start%s%s in %s", container ? " with id " : "",
			       container ? container : "", argv[optind]);
			return SP_EXIT_USAGE;
		}
		return SP_EXIT_OK;
	}
	root = cJSON_CreateObject();
	if (strcmp(format, "chrome") == 0) {
		arr = cJSON_AddArrayToObject(root, "traceEvents");
		cJSON_AddStringToObject(root, "displayTimeUnit", "ms");
		for (int i = 0; i < n; i++)
			if (!container || strcmp(container, maps[i].container_id) == 0) {
				chrome_map(arr, &maps[i], i);
				shown++;
			}
	} else {
		arr = cJSON_AddArrayToObject(root, "resourceSpans");
		for (int i = 0; i < n; i++)
			if (!container || strcmp(container, maps[i].container_id) == 0) {
				cJSON_AddItemToArray(arr, otlp_map(&maps[i], host));
				shown++;
			}
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	sp_maps_free(maps, n);
	sp_dataset_free(&ds);
	if (!text)
		return SP_EXIT_FAIL;
	if (!shown) {
		free(text);
		sp_err("export: no container start%s%s in %s", container ? " with id " : "",
		       container ? container : "", argv[optind]);
		return SP_EXIT_USAGE;
	}
	if (endpoint) {
		int rc = post(endpoint, text);

		free(text);
		if (rc < 0)
			return SP_EXIT_FAIL;
		fprintf(stderr, "startpath: export: %d trace%s sent to %s\n", shown,
			shown == 1 ? "" : "s", endpoint);
		return SP_EXIT_OK;
	}
	printf("%s\n", text);
	free(text);
	if (!shown) {
		sp_err("export: no container start%s%s in %s", container ? " with id " : "",
		       container ? container : "", argv[optind]);
		return SP_EXIT_USAGE;
	}
	return SP_EXIT_OK;
}
