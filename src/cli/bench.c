/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.c - `startpath bench`: N cold starts, a map per run, per-phase
 * statistics, raw samples kept ("startpath/bench/v1").
 */
#include "cli.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include "procjson.h"
#include "stats.h"

#define SP_BENCH_SCHEMA "startpath/bench/v1"
#define MAX_PHASES 32

static const char bench_usage[] =
	"Usage: startpath bench -n N [OPTIONS] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD N times (after K warm-up runs), each under libstartpath.so, and\n"
	"report every phase of the container start it makes: median, p90, p99, min,\n"
	"max, MAD.  In CMD, {} and %n become a fresh name per run (sp<pid>-<i>), to\n"
	"use as the container name.  A run that fails or shows no container start is\n"
	"reported and left out of the statistics.\n"
	"\n"
	"  -n, --runs N        measured runs (default 10)\n"
	"  -w, --warmup K      unmeasured runs first (default 1)\n"
	"  -o, --output FILE   write the results (with every sample) as JSON\n"
	"  -d, --dir DIR       also read maps from DIR, where a traced daemon writes\n"
	"                      (e.g. containerd under the drop-in: /run/startpath)\n"
	"  -l, --lib PATH      libstartpath.so (default: next to this program)\n"
	"  -k, --keep DIR      keep each run's files under DIR (default: removed)\n"
	"  -q, --quiet         no progress line\n"
	"      --ready-tcp HOST:PORT, --ready-cmd CMD, --ready-log REGEX\n"
	"                      readiness probes, as in startpath run: process_exec ends\n"
	"                      when one succeeds (time to ready)\n"
	"  -h, --help          this text\n"
	"\n"
	"Compare two result files with: startpath diff BASE.json NEW.json\n";

struct phase_acc {
	const char *name;
	size_t n, cap;
	double *v;
};

static struct phase_acc *acc_for(struct phase_acc *a, size_t *na, const char *name)
{
	for (size_t i = 0; i < *na; i++)
		if (strcmp(a[i].name, name) == 0)
			return &a[i];
	if (*na >= MAX_PHASES)
		return NULL;
	a[*na].name = name;
	return &a[(*na)++];
}

static int acc_add(struct phase_acc *p, double v)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		double *g = realloc(p->v, cap * sizeof(*g));

		if (!g)
			return -1;
		p->v = g;
		p->cap = cap;
	}
	p->v[p->n++] = v;
	return 0;
}

static char **substitute(char **cmd, int n, const char *name)
{
	char **out = calloc((size_t)n + 1, sizeof(char *));

	if (!out)
		return NULL;
	for (int i = 0; i < n; i++) {
		const char *a = cmd[i];
		size_t cap = strlen(a) + 64 * 8 + 1, k = 0;
		char *s = malloc(cap);

		if (!s)
			return NULL;
		while (*a && k + strlen(name) + 1 < cap) {
			if ((a[0] == '{' && a[1] == '}') || (a[0] == '%' && a[1] == 'n')) {
				memcpy(s + k, name, strlen(name));
				k += strlen(name);
				a += 2;
			} else {
				s[k++] = *a++;
			}
		}
		s[k] = '\0';
		out[i] = s;
	}
	return out;
}

static void free_argv(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove our own temporary work directory. */
static void rm_tree(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The map of container `id` in dir, or -1.  Copies phase durations. */
static int map_of(const char *dir, const char *id, uint64_t ready, struct sp_map **maps_out,
		  int *nmaps_out, struct sp_dataset *ds, int *found)
{
	*found = -1;
	if (sp_dataset_load(dir, ds) < 0)
		return -1;
	*nmaps_out = sp_maps_build_ready(ds->procs, ds->nprocs, ds->have_run ? ds->run_t1 : 0,
					 ready ? ready : ds->ready_ns, maps_out);
	if (*nmaps_out < 0)
		return -1;
	for (int i = 0; i < *nmaps_out; i++)
		if (!id || strcmp((*maps_out)[i].container_id, id) == 0)
			*found = i;
	return 0;
}

int sp_cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "output", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'd' },
		{ "lib", required_argument, NULL, 'l' },
		{ "keep", required_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "ready-tcp", required_argument, NULL, 1 },
		{ "ready-cmd", required_argument, NULL, 2 },
		{ "ready-log", required_argument, NULL, 3 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	long runs = 10, warmup = 1;
	const char *out = NULL, *extdir = NULL, *lib = NULL, *keep = NULL;
	char libpath[PATH_MAX], work[PATH_MAX];
	struct phase_acc acc[MAX_PHASES];
	struct sp_ready ready = { 0 };
	size_t nacc = 0;
	int c, quiet = 0, ncmd, failed = 0, progress;
	char **cmd;
	cJSON *root = NULL, *jruns, *jphases, *jcmd;
	int rc = SP_EXIT_OK;

	memset(acc, 0, sizeof(acc));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:w:o:d:l:k:qh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'n':
			runs = strtol(optarg, &end, 10);
			if (*end || runs < 1 || runs > 100000) {
				sp_err("bench: -n %s: expected a number of runs from 1 to 100000", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 'w':
			warmup = strtol(optarg, &end, 10);
			if (*end || warmup < 0 || warmup > 1000) {
				sp_err("bench: --warmup %s: expected 0 to 1000", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'd':
			extdir = optarg;
			break;
		case 'l':
			lib = optarg;
			break;
		case 'k':
			keep = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 1:
			ready.tcp = optarg;
			break;
		case 2:
			ready.cmd = optarg;
			break;
		case 3:
			ready.log = optarg;
			break;
		case 'h':
			fputs(bench_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(bench_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		sp_err("bench: no command given (startpath bench -n N -- CMD [ARGS...])");
		return SP_EXIT_USAGE;
	}
	cmd = &argv[optind];
	ncmd = argc - optind;
	if (sp_ready_parse_check(&ready) < 0)
		return SP_EXIT_USAGE;
	if (lib ? (!realpath(lib, libpath)) : sp_find_lib(libpath, sizeof(libpath)) < 0) {
		sp_err("bench: %s", lib ? "--lib: no such file" :
		       "cannot find libstartpath.so next to this program; use --lib PATH");
		return SP_EXIT_USAGE;
	}
	if (extdir && access(extdir, R_OK | X_OK) < 0) {
		sp_err("bench: --dir %s: %s", extdir, strerror(errno));
		return SP_EXIT_USAGE;
	}
	if (keep) {
		if (mkdir(keep, 0755) < 0 && errno != EEXIST) {
			sp_err("bench: --keep %s: %s", keep, strerror(errno));
			return SP_EXIT_USAGE;
		}
		snprintf(work, sizeof(work), "%s", keep);
	} else {
		snprintf(work, sizeof(work), "/tmp/startpath-bench.XXXXXX");
		if (!mkdtemp(work)) {
			sp_err("bench: cannot make a work directory: %s", strerror(errno));
			return SP_EXIT_FAIL;
		}
	}
	progress = !quiet && isatty(2);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "schema", SP_BENCH_SCHEMA);
	jcmd = cJSON_AddArrayToObject(root, "cmd");
	for (int i = 0; i < ncmd; i++)
		cJSON_AddItemToArray(jcmd, cJSON_CreateString(cmd[i]));
	cJSON_AddNumberToObject(root, "runs", (double)runs);
	cJSON_AddNumberToObject(root, "warmup", (double)warmup);
	jruns = cJSON_AddArrayToObject(root, "samples");
	for (long r = 1; r <= warmup + runs; r++) {
		int measured = r > warmup;
		char name[64], dir[PATH_MAX + 32];
		char **argv_r;
		uint64_t t0, t1;
		int code, found = -1, nmaps = 0;
		struct sp_map *maps = NULL;
		struct sp_dataset ds, ext;
		cJSON *jr, *jp;

		snprintf(name, sizeof(name), "sp%d-%ld", (int)getpid(), r);
		snprintf(dir, sizeof(dir), "%s/run-%ld", work, r);
		if (progress)
			fprintf(stderr, "\rstartpath bench: %s run %ld/%ld ", measured ? "" : "warm-up",
				measured ? r - warmup : r, measured ? runs : warmup);
		argv_r = substitute(cmd, ncmd, name);
		if (!argv_r || sp_prepare_dir(dir, 1) < 0) {
			rc = SP_EXIT_FAIL;
			free_argv(argv_r);
			break;
		}
		code = sp_run_traced(argv_r, libpath, dir, NULL, 0, &ready, &t0, &t1);
		if (code >= 0)
			sp_write_run_json(dir, argv_r, t0, t1, code, ready.ready_ns);
		free_argv(argv_r);
		if (!measured)
			continue;
		memset(&ds, 0, sizeof(ds));
		memset(&ext, 0, sizeof(ext));
		jr = cJSON_CreateObject();
		cJSON_AddItemToArray(jruns, jr);
		cJSON_AddNumberToObject(jr, "run", (double)(r - warmup));
		cJSON_AddStringToObject(jr, "name", name);
		cJSON_AddNumberToObject(jr, "status", code);
		cJSON_AddNumberToObject(jr, "wall_ns", (double)(t1 - t0));
		if (code == 0) {
			/* The start this run made: in its own files, else in --dir. */
			if (map_of(dir, NULL, ready.ready_ns, &maps, &nmaps, &ds, &found) < 0 ||
			    found < 0) {
				sp_maps_free(maps, nmaps);
				maps = NULL;
				nmaps = 0;
				found = -1;
				if (extdir)
					map_of(extdir, name, ready.ready_ns, &maps, &nmaps, &ext,
					       &found);
			}
		}
		if (code != 0 || found < 0) {
			cJSON_AddStringToObject(jr, "error", code != 0 ? "command failed"
								       : "no container start found");
			failed++;
			if (progress)
				fputc('\n', stderr);
			sp_err("bench: run %ld: %s (status %d); left out", r - warmup,
			       code != 0 ? "the command failed" : "no container start was recorded", code);
		} else {
			const struct sp_map *m = &maps[found];
			struct phase_acc *a;

			cJSON_AddStringToObject(jr, "container_id", m->container_id);
			cJSON_AddStringToObject(jr, "profile", m->profile);
			cJSON_AddNumberToObject(jr, "lost_records", (double)m->lost);
			if (m->ready_ns)
				cJSON_AddNumberToObject(jr, "ready_offset_ns", (double)(m->ready_ns - m->t0));
			jp = cJSON_AddObjectToObject(jr, "phases_ns");
			cJSON_AddNumberToObject(jp, "total", (double)(m->t1 - m->t0));
			if ((a = acc_for(acc, &nacc, "total")))
				acc_add(a, (double)(m->t1 - m->t0));
			for (size_t i = 0; i < m->nphases; i++) {
				const struct sp_map_phase *ph = &m->phases[i];

				if (!ph->seen)
					continue;
				cJSON_AddNumberToObject(jp, ph->name, (double)(ph->t1 - ph->t0));
				if ((a = acc_for(acc, &nacc, ph->name)))
					acc_add(a, (double)(ph->t1 - ph->t0));
			}
		}
		sp_maps_free(maps, nmaps);
		if (ds.dir)
			sp_dataset_free(&ds);
		if (ext.dir)
			sp_dataset_free(&ext);
	}
	if (progress)
		fputs("\r\033[K", stderr);
	cJSON_AddNumberToObject(root, "failed", failed);
	jphases = cJSON_AddArrayToObject(root, "phases");
	printf("%-18s %5s %11s %11s %11s %11s %11s %9s\n", "PHASE (ms)", "N", "MEDIAN", "P90",
	       "P99", "MIN", "MAX", "MAD");
	for (size_t i = 0; i < nacc; i++) {
		struct sp_summary s;
		double *copy = malloc((acc[i].n ? acc[i].n : 1) * sizeof(double));
		cJSON *jp = cJSON_CreateObject(), *js = cJSON_CreateArray();

		for (size_t k = 0; k < acc[i].n; k++)
			cJSON_AddItemToArray(js, cJSON_CreateNumber(acc[i].v[k]));
		if (copy)
			memcpy(copy, acc[i].v, acc[i].n * sizeof(double));
		sp_summarize(copy, copy ? acc[i].n : 0, &s);
		free(copy);
		cJSON_AddStringToObject(jp, "name", acc[i].name);
		cJSON_AddNumberToObject(jp, "n", (double)s.n);
		cJSON_AddNumberToObject(jp, "median_ns", s.median);
		cJSON_AddNumberToObject(jp, "p90_ns", s.p90);
		cJSON_AddNumberToObject(jp, "p99_ns", s.p99);
		cJSON_AddNumberToObject(jp, "min_ns", s.min);
		cJSON_AddNumberToObject(jp, "max_ns", s.max);
		cJSON_AddNumberToObject(jp, "mad_ns", s.mad);
		cJSON_AddItemToObject(jp, "samples_ns", js);
		cJSON_AddItemToArray(jphases, jp);
		printf("%-18s %5zu %11.3f %11.3f %11.3f %11.3f %11.3f %9.3f\n", acc[i].name, s.n,
		       s.median / 1e6, s.p90 / 1e6, s.p99 / 1e6, s.min / 1e6, s.max / 1e6, s.mad / 1e6);
		free(acc[i].v);
	}
	printf("%ld run%s, %d failed%s\n", runs, runs == 1 ? "" : "s", failed,
	       failed ? " (left out of the statistics)" : "");
	if (out) {
		char *text = cJSON_Print(root);
		FILE *f = fopen(out, "w");

		if (!text || !f || fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0) {
			sp_err("bench: cannot write %s: %s", out, strerror(errno));
			rc = SP_EXIT_FAIL;
		}
		free(text);
	}
	cJSON_Delete(root);
	if (!keep)
		rm_tree(work);
	if (failed == runs && rc == SP_EXIT_OK)
		rc = SP_EXIT_FAIL;
	return rc;
}
