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
#define MAX_PHASES 160 /* a pod of several containers has ~15 each */

static const char bench_usage[] =
	"Usage: startpath bench -n N [OPTIONS] -- CMD [ARGS...]\n"
	"       startpath bench -n N [OPTIONS] -- BASE [ARGS...] ::: CANDIDATE [ARGS...]\n"
	"\n"
	"Run CMD N times (after K warm-up runs), each under libstartpath.so, and\n"
	"report every phase of the container start it makes: median, p90, p99, min,\n"
	"max, MAD.  In CMD, {} and %n become a fresh name per run (sp<pid>-<i>), to\n"
	"use in the container's name (web-{} gives web-sp<pid>-<i>).  A run that\n"
	"fails or shows no container start is reported and left out of the\n"
	"statistics.\n"
	"\n"
	"A/B: with ::: between two commands (two images, runtimes, configs or\n"
	"binaries), the two take turns in one bench (ABBA order), so a neighbour\n"
	"that slows the machine slows both; `startpath diff FILE` then judges the\n"
	"candidate on the per-round differences.\n"
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
	char *name;         /* a copy: a pod's phase names live in its map */
	size_t n, cap;
	double *v;
};

static struct phase_acc *acc_for(struct phase_acc *a, size_t *na, const char *name)
{
	for (size_t i = 0; i < *na; i++)
		if (strcmp(a[i].name, name) == 0)
			return &a[i];
	if (*na >= MAX_PHASES || !(a[*na].name = strdup(name)))
		return NULL;
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

/* cmd with {} and %n replaced by name; *id (if given) is the first
 * argument that held a template, as substituted: the container's name
 * ("web-{}" gives web-sp12-3).  NULL on allocation failure. */
static char **substitute(char **cmd, int n, const char *name, const char **id)
{
	char **out = calloc((size_t)n + 1, sizeof(char *));

	if (id)
		*id = NULL;
	if (!out)
		return NULL;
	for (int i = 0; i < n; i++) {
		const char *a = cmd[i];
		size_t cap = strlen(a) + 64 * 8 + 1, k = 0;
		char *s = malloc(cap);

		if (!s)
			return NULL;
		if (id && !*id && (strstr(a, "{}") || strstr(a, "%n")))
			*id = s;
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

/* The map of the run's container in dir: the one named id (the template
 * as substituted: a container id, or a pod's name), else one whose name
 * holds the run's name; with any_one, else the last map there (the run's
 * own directory holds only its start); else, with a window [t_lo, t_hi],
 * the only start that began in it.  0 (and *found, or -1), or -1. */
static int map_of(const char *dir, const char *id, const char *name, int any_one, uint64_t ready,
		  uint64_t t_lo, uint64_t t_hi, struct sp_map **maps_out, int *nmaps_out,
		  struct sp_dataset *ds, int *found, struct sp_dataset *also)
{
	int in_window = 0, last = -1;

	*found = -1;
	if (sp_dataset_load(dir, ds) < 0)
		return -1;
	if (also && also->nprocs) {
		/* The run's own processes with the daemon's: a client traced in
		 * the run (ctr image pull) and the daemon it drove make one
		 * start.  The processes move; `also` keeps none. */
		struct sp_proc *g = realloc(ds->procs, (ds->nprocs + also->nprocs) * sizeof(*g));

		if (!g)
			return -1;
		memcpy(g + ds->nprocs, also->procs, also->nprocs * sizeof(*g));
		ds->procs = g;
		ds->nprocs += also->nprocs;
		also->nprocs = 0;
	}
	*nmaps_out = sp_maps_build_ready(ds->procs, ds->nprocs, ds->have_run ? ds->run_t1 : 0,
					 ready ? ready : ds->ready_ns, maps_out);
	if (*nmaps_out < 0)
		return -1;
	/* A pod: by its name (its sandbox id is the runtime's choice). */
	for (int i = 0; i < *nmaps_out && *found < 0; i++)
		if (id && (strcmp((*maps_out)[i].container_id, id) == 0 ||
			   strcmp((*maps_out)[i].name, id) == 0))
			*found = i;
	for (int i = 0; i < *nmaps_out && *found < 0; i++)
		if (strstr((*maps_out)[i].container_id, name))
			*found = i;
	if (*found < 0 && any_one && *nmaps_out > 0)
		*found = *nmaps_out - 1;
	/* A daemon's directory (docker run names its container itself): the
	 * one start that began while the run's command ran. */
	for (int i = 0; i < *nmaps_out && *found < 0 && t_hi; i++)
		if ((*maps_out)[i].t0 >= t_lo && (*maps_out)[i].t0 <= t_hi) {
			in_window++;
			last = i;
		}
	if (*found < 0 && in_window == 1)
		*found = last;
	return 0;
}

/* One side of a bench: its command and what its runs gave. */
struct side {
	const char *label;      /* "base", "candidate" */
	char **cmd;
	int ncmd;
	struct phase_acc acc[MAX_PHASES];
	long *rounds[MAX_PHASES]; /* the round of each sample, per phase */
	size_t rcap[MAX_PHASES];
	size_t nacc;
	int failed;
	cJSON *samples;
};

struct bench_env {
	const char *libpath, *extdir, *work;
	struct sp_ready *ready;
	int progress;
};

static int add_sample(struct side *sd, const char *name, double v, long round)
{
	struct phase_acc *a = acc_for(sd->acc, &sd->nacc, name);
	long **r;

	if (!a)
		return 0;
	r = &sd->rounds[a - sd->acc];
	if (acc_add(a, v) < 0)
		return -1;
	if (sd->rcap[a - sd->acc] < a->cap) {
		long *g = realloc(*r, a->cap * sizeof(long));

		if (!g) {
			a->n--;
			return -1;
		}
		*r = g;
		sd->rcap[a - sd->acc] = a->cap;
	}
	(*r)[a->n - 1] = round;
	return 0;
}

/* Run one start of sd (round r, measured or warm-up); its phases go to sd.
 * -1 if the run could not be made at all. */
static int run_once(struct side *sd, const struct bench_env *e, long r, int measured, long seq)
{
	char name[64], dir[PATH_MAX + 48];
	const char *id;
	char **argv_r;
	uint64_t t0, t1;
	int code, found = -1, nmaps = 0;
	struct sp_map *maps = NULL;
	struct sp_dataset ds, ext;
	cJSON *jr, *jp;

	snprintf(name, sizeof(name), "sp%d-%ld", (int)getpid(), seq);
	snprintf(dir, sizeof(dir), "%s/run-%ld", e->work, seq);
	argv_r = substitute(sd->cmd, sd->ncmd, name, &id);
	if (!argv_r || sp_prepare_dir(dir, 1) < 0) {
		free_argv(argv_r);
		return -1;
	}
	code = sp_run_traced(argv_r, e->libpath, dir, NULL, 0, e->ready, &t0, &t1);
	if (code >= 0)
		sp_write_run_json(dir, argv_r, t0, t1, code, e->ready->ready_ns);
	if (!measured) {
		free_argv(argv_r);
		return 0;
	}
	memset(&ds, 0, sizeof(ds));
	memset(&ext, 0, sizeof(ext));
	jr = cJSON_CreateObject();
	cJSON_AddItemToArray(sd->samples, jr);
	cJSON_AddNumberToObject(jr, "run", (double)r);
	cJSON_AddStringToObject(jr, "side", sd->label);
	cJSON_AddStringToObject(jr, "name", id ? id : name);
	cJSON_AddNumberToObject(jr, "status", code);
	cJSON_AddNumberToObject(jr, "wall_ns", (double)(t1 - t0));
	if (code == 0) {
		/* The start this run made: in its own files, else in --dir. */
		if (map_of(dir, id, name, 1, e->ready->ready_ns, 0, 0, &maps, &nmaps, &ds, &found,
			   NULL) < 0 ||
		    found < 0) {
			sp_maps_free(maps, nmaps);
			maps = NULL;
			nmaps = 0;
			found = -1;
			if (e->extdir)
				map_of(e->extdir, id, name, 0, e->ready->ready_ns, t0, t1, &maps, &nmaps,
				       &ext, &found, &ds);
		}
	}
	if (code != 0 || found < 0) {
		cJSON_AddStringToObject(jr, "error", code != 0 ? "command failed"
							       : "no container start found");
		sd->failed++;
		if (e->progress)
			fputc('\n', stderr);
		if (code != 0)
			sp_err("bench: %s run %ld: the command failed (status %d); left out", sd->label, r,
			       code);
		else
			sp_err("bench: %s run %ld: no start of container \"%s\" was recorded (looked in "
			       "%s%s%s; a template such as web-{} names it); left out", sd->label, r,
			       id ? id : name, dir, e->extdir ? " and --dir " : "",
			       e->extdir ? e->extdir : " only: a traced daemon writes elsewhere, --dir DIR");
	} else {
		const struct sp_map *m = &maps[found];

		cJSON_AddStringToObject(jr, "container_id", m->container_id);
		cJSON_AddStringToObject(jr, "profile", m->profile);
		cJSON_AddNumberToObject(jr, "lost_records", (double)m->lost);
		if (m->ready_ns)
			cJSON_AddNumberToObject(jr, "ready_offset_ns", (double)(m->ready_ns - m->t0));
		jp = cJSON_AddObjectToObject(jr, "phases_ns");
		cJSON_AddNumberToObject(jp, "total", (double)(m->t1 - m->t0));
		add_sample(sd, "total", (double)(m->t1 - m->t0), r);
		for (size_t i = 0; i < m->nphases; i++) {
			const struct sp_map_phase *ph = &m->phases[i];

			if (!ph->seen)
				continue;
			cJSON_AddNumberToObject(jp, ph->name, (double)(ph->t1 - ph->t0));
			add_sample(sd, ph->name, (double)(ph->t1 - ph->t0), r);
		}
	}
	free_argv(argv_r);
	sp_maps_free(maps, nmaps);
	if (ds.dir)
		sp_dataset_free(&ds);
	if (ext.dir)
		sp_dataset_free(&ext);
	return 0;
}

/* sd's statistics: a table on stdout, the phases (with every sample and
 * its round) into arr. */
static void side_report(struct side *sd, cJSON *arr, int titled)
{
	if (titled)
		printf("%s: %s", sd->label, sd->cmd[0]);
	for (int i = 1; titled && i < sd->ncmd; i++)
		printf(" %s", sd->cmd[i]);
	if (titled)
		printf("\n");
	printf("%-18s %5s %11s %11s %11s %11s %11s %9s\n", "PHASE (ms)", "N", "MEDIAN", "P90",
	       "P99", "MIN", "MAX", "MAD");
	for (size_t i = 0; i < sd->nacc; i++) {
		struct sp_summary s;
		double *copy = malloc((sd->acc[i].n ? sd->acc[i].n : 1) * sizeof(double));
		cJSON *jp = cJSON_CreateObject(), *js = cJSON_CreateArray(), *jr = cJSON_CreateArray();

		for (size_t k = 0; k < sd->acc[i].n; k++) {
			cJSON_AddItemToArray(js, cJSON_CreateNumber(sd->acc[i].v[k]));
			cJSON_AddItemToArray(jr, cJSON_CreateNumber((double)sd->rounds[i][k]));
		}
		if (copy)
			memcpy(copy, sd->acc[i].v, sd->acc[i].n * sizeof(double));
		sp_summarize(copy, copy ? sd->acc[i].n : 0, &s);
		free(copy);
		cJSON_AddStringToObject(jp, "name", sd->acc[i].name);
		cJSON_AddNumberToObject(jp, "n", (double)s.n);
		cJSON_AddNumberToObject(jp, "median_ns", s.median);
		cJSON_AddNumberToObject(jp, "p90_ns", s.p90);
		cJSON_AddNumberToObject(jp, "p99_ns", s.p99);
		cJSON_AddNumberToObject(jp, "min_ns", s.min);
		cJSON_AddNumberToObject(jp, "max_ns", s.max);
		cJSON_AddNumberToObject(jp, "mad_ns", s.mad);
		cJSON_AddItemToObject(jp, "samples_ns", js);
		cJSON_AddItemToObject(jp, "rounds", jr);
		cJSON_AddItemToArray(arr, jp);
		printf("%-18s %5zu %11.3f %11.3f %11.3f %11.3f %11.3f %9.3f\n", sd->acc[i].name, s.n,
		       s.median / 1e6, s.p90 / 1e6, s.p99 / 1e6, s.min / 1e6, s.max / 1e6, s.mad / 1e6);
		free(sd->acc[i].v);
		free(sd->acc[i].name);
		free(sd->rounds[i]);
	}
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
	long runs = 10, warmup = 1, seq = 0;
	const char *out = NULL, *lib = NULL, *keep = NULL;
	char libpath[PATH_MAX], work[PATH_MAX];
	struct sp_ready ready = { 0 };
	static struct side sides[2];
	struct bench_env env = { 0 };
	int c, quiet = 0, nsides = 1, ab_failed;
	cJSON *root = NULL, *jcmd;
	int rc = SP_EXIT_OK;

	memset(sides, 0, sizeof(sides));
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
			env.extdir = optarg;
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
	sides[0].label = "base";
	sides[0].cmd = &argv[optind];
	sides[0].ncmd = argc - optind;
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], ":::") == 0) {
			/* A/B: BASE ::: CANDIDATE, taking turns. */
			sides[0].ncmd = i - optind;
			sides[1].label = "candidate";
			sides[1].cmd = &argv[i + 1];
			sides[1].ncmd = argc - i - 1;
			nsides = 2;
			break;
		}
	if (!sides[0].ncmd || (nsides == 2 && !sides[1].ncmd)) {
		sp_err("bench: an A/B bench needs a command on both sides of ::: "
		       "(startpath bench -- BASE ... ::: CANDIDATE ...)");
		return SP_EXIT_USAGE;
	}
	if (sp_ready_parse_check(&ready) < 0)
		return SP_EXIT_USAGE;
	if (lib ? (!realpath(lib, libpath)) : sp_find_lib(libpath, sizeof(libpath)) < 0) {
		sp_err("bench: %s", lib ? "--lib: no such file" :
		       "cannot find libstartpath.so next to this program; use --lib PATH");
		return SP_EXIT_USAGE;
	}
	if (env.extdir && access(env.extdir, R_OK | X_OK) < 0) {
		sp_err("bench: --dir %s: %s", env.extdir, strerror(errno));
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
	env.libpath = libpath;
	env.work = work;
	env.ready = &ready;
	env.progress = !quiet && isatty(2);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "schema", SP_BENCH_SCHEMA);
	jcmd = cJSON_AddArrayToObject(root, "cmd");
	for (int i = 0; i < sides[0].ncmd; i++)
		cJSON_AddItemToArray(jcmd, cJSON_CreateString(sides[0].cmd[i]));
	cJSON_AddNumberToObject(root, "runs", (double)runs);
	cJSON_AddNumberToObject(root, "warmup", (double)warmup);
	sides[0].samples = cJSON_AddArrayToObject(root, "samples");
	if (nsides == 2) {
		cJSON *cand = cJSON_AddObjectToObject(root, "candidate");

		cJSON_AddStringToObject(root, "order", "ABBA");
		jcmd = cJSON_AddArrayToObject(cand, "cmd");
		for (int i = 0; i < sides[1].ncmd; i++)
			cJSON_AddItemToArray(jcmd, cJSON_CreateString(sides[1].cmd[i]));
		sides[1].samples = sides[0].samples;
	}
	/* Rounds: each side once; in A/B the order alternates ABBA so that a
	 * trend over the bench falls on both sides alike. */
	for (long r = 1; r <= warmup + runs && rc == SP_EXIT_OK; r++) {
		int measured = r > warmup;
		long k = measured ? r - warmup : r;

		if (env.progress)
			fprintf(stderr, "\rstartpath bench: %s run %ld/%ld ", measured ? "" : "warm-up", k,
				measured ? runs : warmup);
		for (int t = 0; t < nsides; t++) {
			struct side *sd = &sides[nsides == 2 ? (t ^ (int)((k - 1) & 1)) : 0];

			if (run_once(sd, &env, k, measured, ++seq) < 0)
				rc = SP_EXIT_FAIL;
		}
	}
	if (env.progress)
		fputs("\r\033[K", stderr);
	cJSON_AddNumberToObject(root, "failed", sides[0].failed);
	side_report(&sides[0], cJSON_AddArrayToObject(root, "phases"), nsides == 2);
	printf("%ld run%s, %d failed%s\n", runs, runs == 1 ? "" : "s", sides[0].failed,
	       sides[0].failed ? " (left out of the statistics)" : "");
	if (nsides == 2) {
		cJSON *cand = cJSON_GetObjectItemCaseSensitive(root, "candidate");

		printf("\n");
		cJSON_AddNumberToObject(cand, "failed", sides[1].failed);
		side_report(&sides[1], cJSON_AddArrayToObject(cand, "phases"), 1);
		printf("%ld run%s, %d failed%s\n", runs, runs == 1 ? "" : "s", sides[1].failed,
		       sides[1].failed ? " (left out of the statistics)" : "");
		if (out)
			printf("compare the two, paired by round: startpath diff %s\n", out);
	}
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
	ab_failed = nsides == 2 && sides[1].failed == runs;
	if ((sides[0].failed == runs || ab_failed) && rc == SP_EXIT_OK)
		rc = SP_EXIT_FAIL;
	return rc;
}
