/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch.c - `startpath watch DIR`: follow a live output directory (a
 * containerd, dockerd or podman that runs under the library for weeks) and
 * emit every container or pod start once, as soon as its map is complete:
 * to Prometheus (a /metrics endpoint), to an OTLP/HTTP receiver (a trace
 * per start, queued and retried while the receiver is down), and as NDJSON
 * on stdout.
 *
 * Following: inotify on the directory says when files appear or go (a
 * ring's records arrive through a shared mapping, which inotify does not
 * see), so a scan (the whole directory, as `startpath report` reads it)
 * runs a little after each burst of files, and again only while a start
 * is pending: at its settle or timeout deadline.  An idle watcher sleeps.
 *
 * Exactly once: each emitted start's key (profile, container id, start
 * time) is kept in a state file, written after every scan that emitted,
 * and read at start: a start emitted before a restart is not emitted
 * again, one that completed while the watcher was down is emitted at its
 * first scan.  A start whose trace the OTLP receiver has not taken stays
 * marked in the state and is sent again after a restart.  Keys of starts
 * whose files retention removed are dropped.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include "procjson.h"

static const char watch_usage[] =
	"Usage: startpath watch DIR [--metrics-listen ADDR:PORT] [--otlp-endpoint URL] [--json]\n"
	"\n"
	"Follow a live output directory (the STARTPATH_DIR of a containerd, dockerd or podman\n"
	"running under the library) and emit every container or pod start once, when its map\n"
	"is complete (or, after --timeout, incomplete, marked so).  At least one output:\n"
	"  -m, --metrics-listen ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics:\n"
	"                      startpath_phase_duration_seconds (histogram by phase, profile,\n"
	"                      runtime), startpath_start_duration_seconds, startpath_starts_total,\n"
	"                      lost records, unreadable files, and the watcher's own health\n"
	"  -o, --otlp-endpoint URL  POST each start's trace to an OTLP/HTTP receiver\n"
	"                      (.../v1/traces); while it fails, traces wait in a queue and are\n"
	"                      sent again (with backoff), the oldest dropped and counted past\n"
	"                      --queue\n"
	"  -j, --json          one JSON line per start on stdout (schema startpath/watch/v1)\n"
	"\n"
	"  -s, --state FILE    what was emitted, kept across restarts (default DIR/.watch-state)\n"
	"      --settle SEC    a complete map is emitted once nothing has changed in it for\n"
	"                      SEC seconds (default 2)\n"
	"      --timeout SEC   a start still incomplete SEC seconds after it began is emitted\n"
	"                      as incomplete (default 60)\n"
	"      --queue N       OTLP traces kept while the receiver is down (default 1000)\n"
	"      --once          scan once, emit what is ready, wait for the OTLP queue to\n"
	"                      drain (or fail), save the state, exit\n"
	"  -h, --help          this text\n"
	"\n"
	"SIGTERM or SIGINT: the state is saved and the watcher exits.\n";

/* Histogram buckets, seconds: 100 us to 10 s. */
static const double bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
				 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define NB (sizeof(bounds) / sizeof(bounds[0]))

/* One series: a counter or gauge (value) or a histogram (b, sum, count). */
struct series {
	const char *metric;
	char labels[320];
	int hist;
	double value;
	uint64_t b[NB];
	double sum;
	uint64_t count;
};

struct key {
	char k[240];
	uint64_t t0;
	int otlp_pending; /* its trace not yet taken by the receiver */
	int queued;       /* in the queue now */
};

struct queued {
	char *key;
	char *body;
};

static struct {
	const char *dir, *state, *metrics, *otlp;
	int json, once;
	uint64_t settle_ns, timeout_ns;
	size_t qmax;
	struct series *s;
	size_t ns, caps;
	struct key *keys;
	size_t nkeys, capkeys;
	struct queued *q;
	size_t nq;
	uint64_t retry_at, backoff_ns;
	uint64_t scans, pending, unreadable;
	uint64_t horizon; /* starts before this are all emitted (0: unknown) */
	double scan_s;
	char host[256];
	char otlp_why[512];
	int dirty_state;
} W;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- metrics ---- */

static void label_esc(char *out, size_t len, const char *v)
{
	size_t o = 0;

	for (; v && *v && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			out[o++] = '\\';
			out[o++] = *v;
		} else if (*v == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			out[o++] = *v;
		}
	}
	out[o] = '\0';
}

static struct series *series(const char *metric, const char *labels, int hist)
{
	for (size_t i = 0; i < W.ns; i++)
		if (W.s[i].metric == metric && strcmp(W.s[i].labels, labels) == 0)
			return &W.s[i];
	if (W.ns == W.caps) {
		size_t c = W.caps ? W.caps * 2 : 64;
		struct series *g = realloc(W.s, c * sizeof(*g));

		if (!g)
			return NULL;
		W.s = g;
		W.caps = c;
	}
	memset(&W.s[W.ns], 0, sizeof(W.s[0]));
	W.s[W.ns].metric = metric;
	W.s[W.ns].hist = hist;
	snprintf(W.s[W.ns].labels, sizeof(W.s[0].labels), "%s", labels);
	return &W.s[W.ns++];
}

static const char M_PHASE[] = "startpath_phase_duration_seconds";
static const char M_START[] = "startpath_start_duration_seconds";
static const char M_STARTS[] = "startpath_starts_total";
static const char M_LOST[] = "startpath_lost_records_total";

static void observe(const char *metric, const char *labels, double v)
{
	struct series *s = series(metric, labels, 1);

	if (!s)
		return;
	for (size_t i = 0; i < NB; i++)
		if (v <= bounds[i])
			s->b[i]++;
	s->sum += v;
	s->count++;
}

static void add(const char *metric, const char *labels, double v)
{
	struct series *s = series(metric, labels, 0);

	if (s)
		s->value += v;
}

static const char *help_of(const char *m)
{
	if (m == M_PHASE)
		return "histogram|Duration of one phase of a container or pod start.";
	if (m == M_START)
		return "histogram|Duration of a container or pod start, first phase to last.";
	if (m == M_STARTS)
		return "counter|Starts emitted; complete=\"false\": emitted after the timeout, phases missing.";
	return "counter|Records lost in the starts emitted (a ring that wrapped, a full filesystem).";
}

struct buf {
	char *p;
	size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->p && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		{
			size_t c = (b->cap + (size_t)n + 1) * 2;
			char *g = realloc(b->p, c);

			if (!g)
				return;
			b->p = g;
			b->cap = c;
		}
	}
}

static void proc_stats(double *cpu_s, double *rss_bytes)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long ut = 0, st = 0;
	long rss = 0;

	*cpu_s = *rss_bytes = 0;
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d "
			  "%*d %*u %*u %ld", &ut, &st, &rss) == 3) {
		*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		*rss_bytes = (double)rss * (double)sysconf(_SC_PAGESIZE);
	}
	fclose(f);
}

static char *metrics_text(size_t *len)
{
	struct buf b = { 0 };
	double cpu, rss;

	/* Each metric's series together, after its HELP and TYPE. */
	const char *metrics[] = { M_PHASE, M_START, M_STARTS, M_LOST };

	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		const char *h = help_of(metrics[m]), *bar = strchr(h, '|');

		bprintf(&b, "# HELP %s %s\n# TYPE %s %.*s\n", metrics[m], bar + 1, metrics[m],
			(int)(bar - h), h);
		for (size_t i = 0; i < W.ns; i++) {
			struct series *s = &W.s[i];
			const char *sep = s->labels[0] ? "," : "";

			if (s->metric != metrics[m])
				continue;
			if (!s->hist) {
				bprintf(&b, "%s{%s} %.0f\n", s->metric, s->labels, s->value);
				continue;
			}
			for (size_t k = 0; k < NB; k++)
				bprintf(&b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", s->metric, s->labels,
					sep, bounds[k], s->b[k]);
			bprintf(&b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", s->metric, s->labels, sep,
				s->count);
			bprintf(&b, "%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", s->metric, s->labels,
				s->sum, s->metric, s->labels, s->count);
		}
	}
	bprintf(&b, "# HELP startpath_unreadable_files Files of the directory the last scan could not read.\n"
		    "# TYPE startpath_unreadable_files gauge\nstartpath_unreadable_files %" PRIu64 "\n",
		W.unreadable);
	bprintf(&b, "# HELP startpath_watch_scans_total Scans of the directory.\n"
		    "# TYPE startpath_watch_scans_total counter\nstartpath_watch_scans_total %" PRIu64 "\n",
		W.scans);
	bprintf(&b, "# HELP startpath_watch_scan_duration_seconds How long the last scan took.\n"
		    "# TYPE startpath_watch_scan_duration_seconds gauge\n"
		    "startpath_watch_scan_duration_seconds %.6f\n", W.scan_s);
	bprintf(&b, "# HELP startpath_watch_starts_pending Starts seen, not yet complete.\n"
		    "# TYPE startpath_watch_starts_pending gauge\nstartpath_watch_starts_pending %" PRIu64 "\n",
		W.pending);
	bprintf(&b, "# HELP startpath_watch_otlp_queue_length Traces waiting for the OTLP receiver.\n"
		    "# TYPE startpath_watch_otlp_queue_length gauge\n"
		    "startpath_watch_otlp_queue_length %zu\n", W.nq);
	bprintf(&b, "# HELP startpath_watch_otlp_traces_total Traces by outcome: sent, failed (an attempt), dropped (queue full).\n"
		    "# TYPE startpath_watch_otlp_traces_total counter\n");
	{
		const char *outcomes[] = { "sent", "failed", "dropped" };

		for (int i = 0; i < 3; i++) {
			char l[32];
			struct series *s;

			snprintf(l, sizeof(l), "outcome=\"%s\"", outcomes[i]);
			s = series("startpath_watch_otlp_traces_total", l, 0);
			bprintf(&b, "startpath_watch_otlp_traces_total{%s} %.0f\n", l, s ? s->value : 0);
		}
	}
	proc_stats(&cpu, &rss);
	bprintf(&b, "# HELP process_cpu_seconds_total User and system CPU time of the watcher.\n"
		    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n", cpu);
	bprintf(&b, "# HELP process_resident_memory_bytes Resident memory of the watcher.\n"
		    "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %.0f\n", rss);
	*len = b.n;
	return b.p;
}

/* ---- state ---- */

static struct key *key_find(const char *k)
{
	for (size_t i = 0; i < W.nkeys; i++)
		if (strcmp(W.keys[i].k, k) == 0)
			return &W.keys[i];
	return NULL;
}

static struct key *key_add(const char *k, uint64_t t0)
{
	if (W.nkeys == W.capkeys) {
		size_t c = W.capkeys ? W.capkeys * 2 : 256;
		struct key *g = realloc(W.keys, c * sizeof(*g));

		if (!g)
			return NULL;
		W.keys = g;
		W.capkeys = c;
	}
	memset(&W.keys[W.nkeys], 0, sizeof(W.keys[0]));
	snprintf(W.keys[W.nkeys].k, sizeof(W.keys[0].k), "%s", k);
	W.keys[W.nkeys].t0 = t0;
	return &W.keys[W.nkeys++];
}

#define STATE_MAGIC "startpath-watch-state 1"

/* 0, or -1 after saying why (a state file that is not ours: exit 2). */
static int state_load(void)
{
	FILE *f = fopen(W.state, "r");
	char line[400];
	int n = 0;

	if (!f)
		return errno == ENOENT ? 0 : (sp_err("watch: %s: %s", W.state, strerror(errno)), -1);
	if (!fgets(line, sizeof(line), f) || strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0) {
		sp_err("watch: %s: not a startpath watch state file (first line \"%s\"); give another "
		       "--state or remove it", W.state, STATE_MAGIC);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long t0;
		int pend, off = 0;
		struct key *k;

		n++;
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%d %llu %n", &pend, &t0, &off) != 2 || !off || !line[off]) {
			sp_err("watch: %s:%d: not \"PENDING T0 KEY\"; line ignored", W.state, n + 1);
			continue;
		}
		if ((k = key_add(line + off, t0)))
			k->otlp_pending = pend != 0;
	}
	fclose(f);
	return 0;
}

static void state_save(void)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", W.state);
	f = fopen(tmp, "w");
	if (!f) {
		sp_err("watch: cannot write %s: %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%s\n", STATE_MAGIC);
	for (size_t i = 0; i < W.nkeys; i++)
		fprintf(f, "%d %" PRIu64 " %s\n", W.keys[i].otlp_pending, W.keys[i].t0, W.keys[i].k);
	if (fflush(f) != 0 || fclose(f) != 0 || rename(tmp, W.state) != 0) {
		sp_err("watch: cannot write %s: %s", W.state, strerror(errno));
		unlink(tmp);
		return;
	}
	W.dirty_state = 0;
}

/* ---- OTLP ---- */

static void otlp_enqueue(struct key *k, const struct sp_map *m)
{
	char *body = sp_otlp_body(m, W.host);

	if (!body)
		return;
	if (W.nq == W.qmax) {
		/* Full: the oldest goes, counted (and no longer pending). */
		struct key *old = key_find(W.q[0].key);

		if (old) {
			old->otlp_pending = 0;
			old->queued = 0;
		}
		free(W.q[0].key);
		free(W.q[0].body);
		memmove(W.q, W.q + 1, (W.nq - 1) * sizeof(*W.q));
		W.nq--;
		add("startpath_watch_otlp_traces_total", "outcome=\"dropped\"", 1);
		W.dirty_state = 1;
	}
	W.q[W.nq].key = strdup(k->k);
	W.q[W.nq].body = body;
	if (!W.q[W.nq].key) {
		free(body);
		return;
	}
	W.nq++;
	k->queued = 1;
}

/* Send what is queued, oldest first, until one fails. */
static void otlp_flush(void)
{
	char why[512];

	while (W.nq && mono_ns() >= W.retry_at) {
		struct key *k;

		if (sp_otlp_post(W.otlp, W.q[0].body, 10, why, sizeof(why)) < 0) {
			add("startpath_watch_otlp_traces_total", "outcome=\"failed\"", 1);
			if (strcmp(why, W.otlp_why) != 0) {
				sp_err("watch: %s; %zu trace(s) queued, sent again later", why, W.nq);
				snprintf(W.otlp_why, sizeof(W.otlp_why), "%s", why);
			}
			W.backoff_ns = W.backoff_ns ? W.backoff_ns * 2 : 500000000ULL;
			if (W.backoff_ns > 30000000000ULL)
				W.backoff_ns = 30000000000ULL;
			W.retry_at = mono_ns() + W.backoff_ns;
			return;
		}
		if (W.otlp_why[0]) {
			sp_err("watch: the OTLP receiver takes traces again");
			W.otlp_why[0] = '\0';
		}
		W.backoff_ns = 0;
		add("startpath_watch_otlp_traces_total", "outcome=\"sent\"", 1);
		if ((k = key_find(W.q[0].key))) {
			k->otlp_pending = 0;
			k->queued = 0;
		}
		free(W.q[0].key);
		free(W.q[0].body);
		memmove(W.q, W.q + 1, (W.nq - 1) * sizeof(*W.q));
		W.nq--;
		W.dirty_state = 1;
	}
}

/* ---- emitting a start ---- */

static const char *runtime_of(const struct sp_map *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const char *r = sp_proc_role(m->procs[i]);

		if (strncmp(r, "crun", 4) == 0)
			return "crun";
		if (strncmp(r, "runc", 4) == 0)
			return "runc";
	}
	return "unknown";
}

static uint64_t unix_of(const struct sp_map *m, uint64_t mono)
{
	const struct sp_proc *p = m->nprocs ? m->procs[0] : NULL;

	if (!p || !p->t_load_real_ns)
		return 0;
	return p->t_load_real_ns + (mono - p->t_load_ns);
}

static void emit(const struct sp_map *m, struct key *k, int complete)
{
	const char *rt = runtime_of(m);
	char prof[64], run[32], labels[256];

	label_esc(prof, sizeof(prof), m->profile);
	label_esc(run, sizeof(run), rt);
	snprintf(labels, sizeof(labels), "profile=\"%s\",runtime=\"%s\",complete=\"%s\"", prof, run,
		 complete ? "true" : "false");
	add(M_STARTS, labels, 1);
	snprintf(labels, sizeof(labels), "profile=\"%s\",runtime=\"%s\"", prof, run);
	if (m->lost)
		add(M_LOST, labels, (double)m->lost);
	else
		series(M_LOST, labels, 0);
	if (complete) {
		observe(M_START, labels, (double)(m->t1 - m->t0) / 1e9);
		for (size_t i = 0; i < m->nphases; i++) {
			const struct sp_map_phase *ph = &m->phases[i];
			char name[160], l[300];

			if (!ph->seen || ph->section)
				continue;
			label_esc(name, sizeof(name), ph->name);
			snprintf(l, sizeof(l), "phase=\"%s\",profile=\"%s\",runtime=\"%s\"", name, prof, run);
			observe(M_PHASE, l, (double)(ph->t1 - ph->t0) / 1e9);
		}
	}
	if (W.json) {
		cJSON *o = cJSON_CreateObject(), *arr;
		char *text;
		int bn = -1;

		cJSON_AddStringToObject(o, "schema", "startpath/watch/v1");
		cJSON_AddStringToObject(o, "key", k->k);
		cJSON_AddStringToObject(o, "container_id", m->container_id);
		if (m->name[0])
			cJSON_AddStringToObject(o, "name", m->name);
		cJSON_AddStringToObject(o, "profile", m->profile);
		cJSON_AddStringToObject(o, "runtime", rt);
		cJSON_AddBoolToObject(o, "complete", complete);
		sp_json_add_u64(o, "start_unix_ns", unix_of(m, m->t0));
		sp_json_add_u64(o, "total_ns", m->t1 > m->t0 ? m->t1 - m->t0 : 0);
		sp_json_add_u64(o, "emitted_after_ns", mono_ns() - m->t0);
		cJSON_AddNumberToObject(o, "missing_phases", (double)m->nmissing);
		cJSON_AddNumberToObject(o, "lost_records", (double)m->lost);
		arr = cJSON_AddArrayToObject(o, "phases");
		for (size_t i = 0; i < m->nphases; i++) {
			const struct sp_map_phase *ph = &m->phases[i];
			cJSON *p;

			if (ph->section)
				continue;
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "name", ph->name);
			cJSON_AddBoolToObject(p, "seen", ph->seen);
			if (ph->seen)
				sp_json_add_u64(p, "dur_ns", ph->t1 - ph->t0);
			if (ph->bottleneck)
				bn = (int)i;
			cJSON_AddItemToArray(arr, p);
		}
		if (bn >= 0)
			cJSON_AddStringToObject(o, "bottleneck", m->phases[bn].name);
		text = cJSON_PrintUnformatted(o);
		if (text) {
			printf("%s\n", text);
			fflush(stdout);
			free(text);
		}
		cJSON_Delete(o);
	}
	if (W.otlp) {
		k->otlp_pending = 1;
		otlp_enqueue(k, m);
	}
	W.dirty_state = 1;
}

/* ---- scanning ---- */

/* Scan the directory: emit what is ready; *next the time a pending start
 * is due again (0: none). */
static void scan(uint64_t *next)
{
	struct sp_dataset ds;
	struct sp_map *maps = NULL;
	uint64_t t_begin = mono_ns(), first_pending = UINT64_MAX;
	int n;

	*next = 0;
	W.scans++;
	W.pending = 0;
	/* Only what can still belong to a start not yet emitted: the rings of
	 * processes that exited before the horizon (less a margin for the
	 * processes a start makes before its first phase) stay unread. */
	sp_load_since = W.horizon > 30000000000ULL ? W.horizon - 30000000000ULL : 0;
	if (sp_dataset_load(W.dir, &ds) < 0) {
		/* An empty (or emptied) directory: nothing to emit. */
		W.unreadable = 0;
		W.horizon = t_begin;
		malloc_trim(0);
		return;
	}
	W.unreadable = ds.nbad;
	n = sp_maps_build(ds.procs, ds.nprocs, 0, &maps);
	for (int i = 0; i < n; i++) {
		struct sp_map *m = &maps[i];
		char kb[240];
		struct key *k;
		uint64_t now = mono_ns(), due;
		int complete;

		snprintf(kb, sizeof(kb), "%s/%s/%" PRIu64, m->profile, m->container_id, m->t0);
		if ((k = key_find(kb))) {
			if (W.otlp && k->otlp_pending && !k->queued)
				otlp_enqueue(k, m); /* not taken before a restart */
			continue;
		}
		complete = m->nmissing == 0 && m->t1 && now >= m->t1 + W.settle_ns;
		if (!complete && now < m->t0 + W.timeout_ns) {
			/* Settling: due when it has settled.  Still missing
			 * phases: its processes end without a new file to say
			 * so, so look again in a second (until the timeout). */
			due = m->nmissing == 0 && m->t1 ? m->t1 + W.settle_ns : now + 1000000000ULL;
			if (due > m->t0 + W.timeout_ns)
				due = m->t0 + W.timeout_ns;
			if (!*next || due < *next)
				*next = due;
			if (m->t0 < first_pending)
				first_pending = m->t0;
			W.pending++;
			continue;
		}
		if (!(k = key_add(kb, m->t0)))
			continue;
		emit(m, k, complete);
	}
	/* Forget the starts whose files retention took: begun well before
	 * (a start's processes load after it begins, up to --timeout later)
	 * the oldest exited process's file still here. */
	for (size_t i = 0; i < W.nkeys;) {
		if (ds.oldest_exited != UINT64_MAX && W.keys[i].t0 + W.timeout_ns < ds.oldest_exited &&
		    !W.keys[i].queued) {
			W.keys[i] = W.keys[--W.nkeys];
			W.dirty_state = 1;
			continue;
		}
		i++;
	}
	W.horizon = first_pending != UINT64_MAX ? first_pending : t_begin;
	if (n > 0)
		sp_maps_free(maps, n);
	sp_dataset_free(&ds);
	/* A scan's memory (a few MB per thousand processes) back to the
	 * system: the watcher's size stays what one scan needs. */
	malloc_trim(0);
	W.scan_s = (double)(mono_ns() - t_begin) / 1e9;
}

/* ---- the metrics endpoint ---- */

static int listen_on(const char *spec)
{
	char host[256], port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { 0 }, *ai = NULL;
	int fd = -1, one = 1, rc;

	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port) ||
	    (size_t)(colon - spec) >= sizeof(host)) {
		sp_err("watch: --metrics-listen %s: expected ADDR:PORT (127.0.0.1:9464, :9464, [::1]:9464)",
		       spec);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (rc != 0) {
		sp_err("watch: --metrics-listen %s: %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		sp_err("watch: --metrics-listen %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

#define MAX_CLIENTS 16

struct client {
	int fd;
	size_t n;
	char req[4096];
	uint64_t since;
};

static void answer(struct client *c)
{
	char head[256];
	char *body = NULL;
	size_t blen = 0;
	const char *status = "200 OK", *type = "text/plain; version=0.0.4; charset=utf-8";
	struct timeval tv = { 2, 0 };
	int flags = fcntl(c->fd, F_GETFL);

	if (strncmp(c->req, "GET /metrics ", 13) == 0 || strncmp(c->req, "GET /metrics?", 13) == 0) {
		body = metrics_text(&blen);
	} else if (strncmp(c->req, "GET / ", 6) == 0) {
		body = strdup("startpath watch: metrics at /metrics\n");
		blen = body ? strlen(body) : 0;
		type = "text/plain; charset=utf-8";
	} else {
		status = strncmp(c->req, "GET ", 4) == 0 ? "404 Not Found" : "405 Method Not Allowed";
		body = strdup("not found: the metrics are at /metrics\n");
		blen = body ? strlen(body) : 0;
		type = "text/plain; charset=utf-8";
	}
	/* One answer, then close: a blocking write with a deadline. */
	fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(head, sizeof(head), "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n", status, type, blen);
	if (write(c->fd, head, strlen(head)) == (ssize_t)strlen(head) && body) {
		size_t off = 0;

		while (off < blen) {
			ssize_t w = write(c->fd, body + off, blen - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	free(body);
}

/* ---- the loop ---- */

int sp_cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metrics-listen", required_argument, NULL, 'm' },
		{ "otlp-endpoint", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "state", required_argument, NULL, 's' },
		{ "settle", required_argument, NULL, 1 },
		{ "timeout", required_argument, NULL, 2 },
		{ "queue", required_argument, NULL, 3 },
		{ "once", no_argument, NULL, 4 },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct client cl[MAX_CLIENTS];
	struct sigaction sa = { 0 };
	char statebuf[4096];
	int c, ifd = -1, lfd = -1, rc = SP_EXIT_OK;
	uint64_t scan_at, next = 0, last_scan_end = 0;
	double settle = 2, timeout = 60;
	long qmax = 1000;

	memset(&W, 0, sizeof(W));
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:o:js:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'm':
			W.metrics = optarg;
			break;
		case 'o':
			W.otlp = optarg;
			break;
		case 'j':
			W.json = 1;
			break;
		case 's':
			W.state = optarg;
			break;
		case 1:
		case 2:
			errno = 0;
			*(c == 1 ? &settle : &timeout) = strtod(optarg, &end);
			if (*end || errno || !(*(c == 1 ? &settle : &timeout) >= 0) ||
			    *(c == 1 ? &settle : &timeout) > 86400) {
				sp_err("watch: --%s %s: expected seconds, 0 to 86400", c == 1 ? "settle" : "timeout",
				       optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 3:
			errno = 0;
			qmax = strtol(optarg, &end, 10);
			if (*end || errno || qmax < 1 || qmax > 1000000) {
				sp_err("watch: --queue %s: expected a count, 1 to 1000000", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 4:
			W.once = 1;
			break;
		case 'h':
			fputs(watch_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(watch_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		sp_err("watch: %s; see startpath watch --help",
		       optind >= argc ? "give the output directory to follow" : "one directory only");
		return SP_EXIT_USAGE;
	}
	W.dir = argv[optind];
	if (!W.metrics && !W.otlp && !W.json) {
		sp_err("watch: no output: give --metrics-listen ADDR:PORT, --otlp-endpoint URL or --json");
		return SP_EXIT_USAGE;
	}
	if (W.otlp && strncmp(W.otlp, "http://", 7) != 0 && strncmp(W.otlp, "https://", 8) != 0) {
		sp_err("watch: --otlp-endpoint %s: expected an http:// or https:// URL", W.otlp);
		return SP_EXIT_USAGE;
	}
	W.settle_ns = (uint64_t)(settle * 1e9);
	W.timeout_ns = (uint64_t)(timeout * 1e9);
	W.qmax = (size_t)qmax;
	if (!W.state) {
		snprintf(statebuf, sizeof(statebuf), "%s/.watch-state", W.dir);
		W.state = statebuf;
	}
	/* The directory the library will make (0700) if it is not there yet. */
	if (mkdir(W.dir, 0700) < 0 && errno != EEXIST) {
		sp_err("watch: cannot make %s: %s", W.dir, strerror(errno));
		return SP_EXIT_USAGE;
	}
	{
		struct stat st;

		if (stat(W.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			sp_err("watch: %s: not a directory", W.dir);
			return SP_EXIT_USAGE;
		}
	}
	W.q = calloc(W.qmax, sizeof(*W.q));
	if (!W.q || state_load() < 0) {
		free(W.q);
		return SP_EXIT_USAGE;
	}
	gethostname(W.host, sizeof(W.host) - 1);
	sp_load_quiet = 1;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0 || inotify_add_watch(ifd, W.dir, IN_CREATE | IN_MOVED_TO | IN_DELETE |
						       IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		sp_err("watch: cannot follow %s: %s", W.dir, strerror(errno));
		rc = SP_EXIT_USAGE;
		goto out;
	}
	if (W.metrics && (lfd = listen_on(W.metrics)) < 0) {
		rc = SP_EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	scan_at = mono_ns(); /* at start: what completed while we were down */
	while (!stop) {
		struct pollfd pf[2 + MAX_CLIENTS];
		int np = 0, wait_ms = -1;
		uint64_t now = mono_ns(), due = 0;

		if (scan_at && now >= scan_at) {
			scan_at = 0;
			scan(&next);
			last_scan_end = mono_ns();
			if (next) {
				uint64_t pace = last_scan_end + (uint64_t)(3 * W.scan_s * 1e9);

				scan_at = next > pace ? next : pace;
			}
		}
		/* Saved before any POST (which may take seconds): what was
		 * emitted is on disk microseconds after it was emitted. */
		if (W.dirty_state)
			state_save();
		if (W.otlp)
			otlp_flush();
		if (W.dirty_state)
			state_save();
		if (W.once) {
			/* Drain the queue while the receiver takes traces. */
			while (W.otlp && W.nq && !stop && !W.backoff_ns)
				otlp_flush();
			if (W.otlp && W.nq)
				sp_err("watch: %zu trace(s) not taken by the receiver; kept for the next run", W.nq);
			state_save();
			break;
		}
		now = mono_ns();
		if (scan_at)
			due = scan_at;
		if (W.otlp && W.nq && (!due || W.retry_at < due))
			due = W.retry_at;
		if (due)
			wait_ms = due <= now ? 0 : (int)((due - now) / 1000000 + 1);
		pf[np++] = (struct pollfd){ .fd = ifd, .events = POLLIN };
		if (lfd >= 0)
			pf[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0) {
				pf[np++] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN };
				if (wait_ms < 0 || wait_ms > 1000)
					wait_ms = 1000; /* to time out slow clients */
			}
		if (poll(pf, (nfds_t)np, wait_ms) < 0 && errno != EINTR) {
			sp_err("watch: poll: %s", strerror(errno));
			rc = SP_EXIT_FAIL;
			break;
		}
		now = mono_ns();
		for (int k = 0; k < np; k++) {
			if (!pf[k].revents)
				continue;
			if (pf[k].fd == ifd) {
				char evb[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
				ssize_t got;
				int gone = 0;

				while ((got = read(ifd, evb, sizeof(evb))) > 0)
					for (char *p = evb; p < evb + got;) {
						struct inotify_event *ev = (struct inotify_event *)p;

						if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
							gone = 1;
						p += sizeof(*ev) + ev->len;
					}
				if (gone) {
					sp_err("watch: %s was removed or moved; stopping", W.dir);
					rc = SP_EXIT_FAIL;
					stop = 1;
				}
				/* A burst of files: scan once it has settled a little,
				 * and (starts coming one after another) at most a
				 * quarter of the time. */
				{
					uint64_t at = now + 200000000ULL,
						 pace = last_scan_end + (uint64_t)(3 * W.scan_s * 1e9);

					if (pace > at)
						at = pace;
					if (!scan_at || scan_at > at)
						scan_at = at;
				}
			} else if (pf[k].fd == lfd) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				int slot = -1;

				for (int i = 0; i < MAX_CLIENTS && fd >= 0; i++)
					if (cl[i].fd < 0) {
						slot = i;
						break;
					}
				if (fd >= 0 && slot < 0) {
					close(fd); /* busy: the scraper retries */
				} else if (fd >= 0) {
					cl[slot].fd = fd;
					cl[slot].n = 0;
					cl[slot].since = now;
				}
			} else {
				for (int i = 0; i < MAX_CLIENTS; i++) {
					struct client *cc = &cl[i];
					ssize_t got;

					if (cc->fd != pf[k].fd)
						continue;
					got = read(cc->fd, cc->req + cc->n, sizeof(cc->req) - 1 - cc->n);
					if (got > 0) {
						cc->n += (size_t)got;
						cc->req[cc->n] = '\0';
					}
					if (got > 0 && !strstr(cc->req, "\r\n\r\n") && !strstr(cc->req, "\n\n") &&
					    cc->n < sizeof(cc->req) - 1)
						break;
					if (got > 0 || cc->n)
						answer(cc);
					close(cc->fd);
					cc->fd = -1;
				}
			}
		}
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (cl[i].fd >= 0 && now - cl[i].since > 5000000000ULL) {
				close(cl[i].fd);
				cl[i].fd = -1;
			}
	}
	state_save();
	for (int i = 0; i < MAX_CLIENTS && lfd >= 0; i++)
		if (cl[i].fd >= 0)
			close(cl[i].fd);
out:
	if (ifd >= 0)
		close(ifd);
	if (lfd >= 0)
		close(lfd);
	for (size_t i = 0; i < W.nq; i++) {
		free(W.q[i].key);
		free(W.q[i].body);
	}
	free(W.q);
	free(W.s);
	free(W.keys);
	return rc;
}
