/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diff.c - `startpath diff BASE NEW` or `startpath diff AB`: per phase, the
 * change of the median and a one-sided test: Mann-Whitney U on the raw
 * samples of two benches (with an allowance for drift that moves every
 * phase alike), Wilcoxon signed-rank on the per-round differences of an A/B
 * bench.  A phase regressed when the change is significant (p < alpha) AND
 * larger than the threshold (percent of the base median, and at least
 * --min-ms).  Exit 0: none, 1: a regression, 2: bad input.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include "stats.h"

#define SP_BENCH_SCHEMA "startpath/bench/v1"
#define SP_DIFF_SCHEMA "startpath/diff/v1"

static const char diff_usage[] =
	"Usage: startpath diff BASE.json NEW.json [OPTIONS]\n"
	"       startpath diff AB.json [OPTIONS]\n"
	"\n"
	"Compare `startpath bench -o` results phase by phase.  A phase regressed\n"
	"when NEW is slower with statistical significance (p < alpha) and by more\n"
	"than the threshold.  Two benches run apart: one-sided Mann-Whitney U on the\n"
	"samples, allowing for drift (every phase moved alike: said, not counted).\n"
	"One A/B bench (startpath bench -- BASE ::: NEW, taking turns): one-sided\n"
	"Wilcoxon signed-rank on the per-round differences, where drift cancels.\n"
	"\n"
	"  -t, --threshold PCT  smallest change of the median that counts (default 10)\n"
	"  -m, --min-ms MS      and at least this many milliseconds (default 1)\n"
	"  -a, --alpha A        significance level (default 0.01)\n"
	"  -f, --format FMT     table (default), json (startpath/diff/v1) or html\n"
	"  -c, --confirm FILE   a second bench of NEW's setup: a phase regressed only if\n"
	"                       it did against both (re-run before failing a gate)\n"
	"      --no-drift       judge two benches run apart without the drift allowance\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit codes: 0 no regression, 1 regression, 2 bad input.\n";

#define phase sp_bench_phase
#define bench sp_bench

void sp_bench_free(struct bench *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->p[i].name);
		free(b->p[i].v);
		free(b->p[i].round);
	}
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int sp_bench_load_side(const char *path, const char *side, struct bench *b)
{
	char *text;
	size_t len = 0;
	cJSON *root = NULL, *phases, *it;
	const cJSON *schema, *from;
	size_t idx = 0;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	text = sp_read_file(path, 256u << 20, &len);
	if (!text) {
		sp_err("diff: %s: %s", path, errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (!root) {
		sp_err("diff: %s: not valid JSON", path);
		return -1;
	}
	schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsString(schema) || strcmp(schema->valuestring, SP_BENCH_SCHEMA) != 0) {
		sp_err("diff: %s: schema: not %s (make it with startpath bench -o)", path,
		       SP_BENCH_SCHEMA);
		goto out;
	}
	b->ab = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "candidate"));
	from = side ? cJSON_GetObjectItemCaseSensitive(root, side) : root;
	if (side && !cJSON_IsObject(from)) {
		sp_err("diff: %s: %s: missing (not an A/B bench: startpath bench -- A ::: B)", path,
		       side);
		goto out;
	}
	phases = cJSON_GetObjectItemCaseSensitive(from, "phases");
	if (!cJSON_IsArray(phases)) {
		sp_err("diff: %s: %s%sphases: missing or not an array", path, side ? side : "",
		       side ? "." : "");
		goto out;
	}
	b->p = calloc((size_t)cJSON_GetArraySize(phases) + 1, sizeof(*b->p));
	if (!b->p)
		goto out;
	cJSON_ArrayForEach(it, phases) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *samples = cJSON_GetObjectItemCaseSensitive(it, "samples_ns");
		const cJSON *rounds = cJSON_GetObjectItemCaseSensitive(it, "rounds");
		const cJSON *s;
		struct phase *p = &b->p[b->n];
		size_t ns;

		if (!cJSON_IsString(name) || !cJSON_IsArray(samples)) {
			sp_err("diff: %s: phases[%zu]: name or samples_ns missing", path, idx);
			goto out;
		}
		ns = (size_t)cJSON_GetArraySize(samples);
		p->name = strdup(name->valuestring);
		p->v = malloc((ns + 1) * sizeof(double));
		if (!p->name || !p->v)
			goto out;
		b->n++;
		cJSON_ArrayForEach(s, samples) {
			if (!cJSON_IsNumber(s) || s->valuedouble < 0 || !isfinite(s->valuedouble)) {
				sp_err("diff: %s: phases[%zu].samples_ns: not a duration", path, idx);
				goto out;
			}
			p->v[p->n++] = s->valuedouble;
		}
		if (rounds) {
			size_t k = 0;

			if (!cJSON_IsArray(rounds) || (size_t)cJSON_GetArraySize(rounds) != ns ||
			    !(p->round = malloc((ns + 1) * sizeof(long)))) {
				sp_err("diff: %s: phases[%zu].rounds: not one round per sample", path, idx);
				goto out;
			}
			cJSON_ArrayForEach(s, rounds) {
				if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 1e9) {
					sp_err("diff: %s: phases[%zu].rounds: not a round number", path, idx);
					goto out;
				}
				p->round[k++] = (long)s->valuedouble;
			}
		}
		idx++;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		sp_bench_free(b);
	return rc;
}

int sp_bench_load(const char *path, struct bench *b)
{
	return sp_bench_load_side(path, NULL, b);
}

static const struct phase *find(const struct bench *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->p[i].name, name) == 0)
			return &b->p[i];
	return NULL;
}

static double median_of(const double *v, size_t n)
{
	double *c = malloc((n ? n : 1) * sizeof(double));
	struct sp_summary s;

	if (!c)
		return 0;
	memcpy(c, v, n * sizeof(double));
	sp_summarize(c, n, &s);
	free(c);
	return s.median;
}

static double median(const struct phase *p)
{
	return median_of(p->v, p->n);
}

struct judge {
	double threshold, min_ms, alpha;
	double scale; /* the new side's samples are divided by it (drift) */
};

struct verdict {
	double mb, mn, pct, p; /* base and new medians (ns), change, p of slower */
	const char *word;      /* REGRESSION, faster, same */
};

/* Two independent samples: one-sided Mann-Whitney U on the raw samples. */
static void judge_unpaired(const struct phase *b, const struct phase *n, const struct judge *j,
			   struct verdict *v)
{
	double *ns = malloc((n->n ? n->n : 1) * sizeof(double));

	for (size_t i = 0; ns && i < n->n; i++)
		ns[i] = n->v[i] / j->scale;
	v->mb = median(b);
	v->mn = ns ? median_of(ns, n->n) : median(n);
	v->pct = v->mb > 0 ? 100.0 * (v->mn - v->mb) / v->mb : 0;
	v->p = ns ? sp_mann_whitney_greater(b->v, b->n, ns, n->n) : 1;
	if (v->p < j->alpha && v->pct > j->threshold && (v->mn - v->mb) / 1e6 >= j->min_ms)
		v->word = "REGRESSION";
	else if (ns && sp_mann_whitney_greater(ns, n->n, b->v, b->n) < j->alpha &&
		 -v->pct > j->threshold && (v->mb - v->mn) / 1e6 >= j->min_ms)
		v->word = "faster";
	else
		v->word = "same";
	free(ns);
}

/* An A/B bench: the two sides' samples paired by round (ABBA order), and a
 * one-sided Wilcoxon signed-rank test on the differences, so that what
 * slows both sides of a round (a neighbour stealing the CPU) cancels. */
static void judge_paired(const struct phase *b, const struct phase *n, const struct judge *j,
			 struct verdict *v)
{
	size_t cap = b->n < n->n ? b->n : n->n, m = 0;
	double *d = malloc((cap ? cap : 1) * sizeof(double)), *bv = malloc((cap ? cap : 1) * sizeof(double));
	double md;

	for (size_t i = 0; d && bv && i < b->n; i++)
		for (size_t k = 0; k < n->n; k++)
			if (b->round && n->round ? b->round[i] == n->round[k] : i == k) {
				if (m < cap) {
					d[m] = n->v[k] - b->v[i];
					bv[m++] = b->v[i];
				}
				break;
			}
	v->mb = bv ? median_of(bv, m) : 0;
	md = d ? median_of(d, m) : 0;
	v->mn = v->mb + md;
	v->pct = v->mb > 0 ? 100.0 * md / v->mb : 0;
	v->p = d ? sp_wilcoxon_greater(d, m) : 1;
	for (size_t i = 0; d && i < m; i++)
		d[i] = -d[i];
	if (v->p < j->alpha && v->pct > j->threshold && md / 1e6 >= j->min_ms)
		v->word = "REGRESSION";
	else if (d && sp_wilcoxon_greater(d, m) < j->alpha && -v->pct > j->threshold &&
		 -md / 1e6 >= j->min_ms)
		v->word = "faster";
	else
		v->word = "same";
	free(d);
	free(bv);
}

/* The phases drift is judged from: 0.1 ms or more, not "total". */
static int drift_phase(const struct bench *base, size_t i)
{
	return strcmp(base->p[i].name, "total") != 0 && median(&base->p[i]) >= 1e5;
}

/* Drift between two benches run apart: when the phases (of 0.1 ms or more,
 * not "total"; at least 3) moved together - three in four or more the same
 * way by at least half the threshold - the median of their ratios
 * new/base, leaving out phase `skip` (a phase is judged against the drift
 * of the others: its own regression must not excuse itself); else 1.
 * Machines drift as a whole (a neighbour, a frequency change): every phase
 * slower alike. */
static double drift_of(const struct bench *base, const struct bench *cand, double threshold,
		       const char *skip)
{
	double r[64], o[64], d;
	size_t k = 0, ko = 0, along = 0;

	for (size_t i = 0; i < base->n && k < 64; i++) {
		const struct phase *n = find(cand, base->p[i].name);

		if (!n || !drift_phase(base, i))
			continue;
		r[k] = median(n) / median(&base->p[i]);
		if (!skip || strcmp(skip, base->p[i].name) != 0)
			o[ko++] = r[k];
		k++;
	}
	if (k < 3)
		return 1;
	d = median_of(r, k);
	if (fabs(d - 1) * 100 < threshold)
		return 1;
	for (size_t i = 0; i < k; i++)
		if ((r[i] - 1) * (d - 1) > 0 && fabs(r[i] - 1) * 100 >= threshold / 2)
			along++;
	if (along * 4 < k * 3)
		return 1;
	return ko ? median_of(o, ko) : d;
}

int sp_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "min-ms", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "no-drift", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct judge j = { 10, 1.0, 0.01, 1 };
	int json = 0, html = 0, c, regressions = 0, paired = 0, no_drift = 0, ndrift = 0;
	const char *hnames[64], *confirm = NULL, *bname, *nname;
	double hb[64], hn[64], drift = 1;
	int hr[64];
	size_t hcount = 0;
	struct bench base, cand, conf = { 0 };
	cJSON *root = NULL, *arr = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:m:a:f:c:h", opts, NULL)) != -1) {
		char *end;
		double v;

		switch (c) {
		case 't':
		case 'm':
		case 'a':
			v = strtod(optarg, &end);
			if (*end || !isfinite(v) || v < 0 || (c == 'a' && (v <= 0 || v >= 1))) {
				sp_err("diff: -%c %s: not a valid number%s", c, optarg,
				       c == 'a' ? " between 0 and 1" : "");
				return SP_EXIT_USAGE;
			}
			if (c == 't')
				j.threshold = v;
			else if (c == 'm')
				j.min_ms = v;
			else
				j.alpha = v;
			break;
		case 'f':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "html") == 0)
				html = 1;
			else if (strcmp(optarg, "table") != 0) {
				sp_err("diff: --format %s: expected table, json or html", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 'c':
			confirm = optarg;
			break;
		case 'D':
			no_drift = 1;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(diff_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (argc - optind == 1) {
		/* An A/B bench: its two sides, paired. */
		bname = nname = argv[optind];
		if (sp_bench_load(bname, &base) < 0)
			return SP_EXIT_USAGE;
		if (!base.ab) {
			sp_err("diff: %s: one file is compared with itself only when it is an A/B bench "
			       "(startpath bench -- BASE ::: CANDIDATE); else give BASE.json NEW.json",
			       bname);
			sp_bench_free(&base);
			return SP_EXIT_USAGE;
		}
		if (sp_bench_load_side(bname, "candidate", &cand) < 0) {
			sp_bench_free(&base);
			return SP_EXIT_USAGE;
		}
		paired = 1;
	} else if (argc - optind == 2) {
		bname = argv[optind];
		nname = argv[optind + 1];
		if (sp_bench_load(bname, &base) < 0)
			return SP_EXIT_USAGE;
		if (sp_bench_load(nname, &cand) < 0) {
			sp_bench_free(&base);
			return SP_EXIT_USAGE;
		}
	} else {
		sp_err("diff: expected BASE.json NEW.json, or one A/B bench file");
		fputs(diff_usage, stderr);
		return SP_EXIT_USAGE;
	}
	if (confirm && (paired || sp_bench_load(confirm, &conf) < 0)) {
		if (paired)
			sp_err("diff: --confirm is for two benches run apart; an A/B bench needs none");
		sp_bench_free(&base);
		sp_bench_free(&cand);
		return SP_EXIT_USAGE;
	}
	if (!paired && !no_drift)
		drift = drift_of(&base, &cand, j.threshold, NULL);
	if (json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "schema", SP_DIFF_SCHEMA);
		cJSON_AddStringToObject(root, "base", bname);
		cJSON_AddStringToObject(root, "new", nname);
		cJSON_AddStringToObject(root, "test", paired ? "wilcoxon-paired" : "mann-whitney");
		cJSON_AddNumberToObject(root, "threshold_pct", j.threshold);
		cJSON_AddNumberToObject(root, "min_ms", j.min_ms);
		cJSON_AddNumberToObject(root, "alpha", j.alpha);
		cJSON_AddNumberToObject(root, "drift_pct", 100.0 * (drift - 1));
		cJSON_AddStringToObject(root, "drift_note", "phases marked \"drift\" are slower by the "
					"drift of every phase alone; the total is judged as it is");
		if (confirm)
			cJSON_AddStringToObject(root, "confirm", confirm);
		arr = cJSON_AddArrayToObject(root, "phases");
	} else if (html) {
		sp_html_head(stdout, "startpath diff");
		printf("<h1>startpath diff</h1>\n<p>before: ");
		sp_html_esc(stdout, bname);
		printf(", after: ");
		sp_html_esc(stdout, nname);
		printf("%s</p>\n", paired ? " (A/B bench: its two sides, paired by round)" : "");
	} else {
		if (paired)
			printf("A/B bench %s: candidate against base, paired by round\n", bname);
		printf("%-18s %11s %11s %9s %9s  %s\n", "PHASE (ms)", "BASE", "NEW", "CHANGE", "P",
		       "VERDICT");
	}
	for (size_t i = 0; i < base.n; i++) {
		const struct phase *b = &base.p[i], *n = find(&cand, b->name);
		struct verdict v, raw;
		const char *word;

		if (!n)
			continue;
		if (paired) {
			judge_paired(b, n, &j, &v);
		} else {
			struct judge plain = j;

			/* The total is judged as it is: a start that got slower
			 * overall is slower, drift or not.  Each phase is judged
			 * allowing for the drift: "drift" where it alone made the
			 * phase look slower. */
			j.scale = strcmp(b->name, "total") == 0 || drift == 1
					  ? 1 : drift_of(&base, &cand, j.threshold, b->name);
			judge_unpaired(b, n, &j, &v);
			plain.scale = 1;
			judge_unpaired(b, n, &plain, &raw);
			if (drift != 1 && !strcmp(raw.word, "REGRESSION") && strcmp(v.word, "REGRESSION")) {
				v = raw;
				v.word = "drift";
				ndrift++;
			}
		}
		word = v.word;
		if (!strcmp(word, "REGRESSION") && confirm) {
			const struct phase *k = find(&conf, b->name);
			struct verdict again;

			if (k)
				judge_unpaired(b, k, &j, &again);
			if (!k || strcmp(again.word, "REGRESSION") != 0)
				word = "not confirmed";
		}
		if (!strcmp(word, "REGRESSION"))
			regressions++;
		if (html) {
			if (hcount < 64) {
				hnames[hcount] = b->name;
				hb[hcount] = v.mb;
				hn[hcount] = v.mn;
				hr[hcount++] = strcmp(word, "REGRESSION") == 0;
			}
		} else if (json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", b->name);
			cJSON_AddNumberToObject(o, "base_median_ns", v.mb);
			cJSON_AddNumberToObject(o, "new_median_ns", v.mn);
			cJSON_AddNumberToObject(o, "change_pct", v.pct);
			cJSON_AddNumberToObject(o, "p_slower", v.p);
			cJSON_AddNumberToObject(o, "base_n", (double)b->n);
			cJSON_AddNumberToObject(o, "new_n", (double)n->n);
			cJSON_AddStringToObject(o, "verdict", word);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%-18s %11.3f %11.3f %+8.1f%% %9.2g  %s\n", b->name, v.mb / 1e6, v.mn / 1e6,
			       v.pct, v.p, word);
		}
	}
	if (html) {
		sp_html_diffbars(stdout, hnames, hb, hn, hr, hcount);
		printf("<p>%d regression%s (threshold %.1f%% and %.2f ms, alpha %g)</p>\n", regressions,
		       regressions == 1 ? "" : "s", j.threshold, j.min_ms, j.alpha);
		sp_html_tail(stdout);
	} else if (json) {
		char *text;

		cJSON_AddNumberToObject(root, "regressions", regressions);
		text = cJSON_Print(root);
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(root);
	} else {
		if (drift != 1)
			printf("drift: the phases moved together by %+.1f%% (median of their changes); "
			       "%d phase%s slower by that alone %s \"drift\", not regressions.  A machine "
			       "that slows down does this, and so does a change that slows every phase "
			       "alike: an A/B bench (startpath bench -- BASE ::: NEW) tells them apart, "
			       "and --confirm re-checks against a second bench\n",
			       100.0 * (drift - 1), ndrift, ndrift == 1 ? "" : "s",
			       ndrift == 1 ? "is" : "are");
		printf("%d regression%s (threshold %.1f%% and %.2f ms, alpha %g%s%s)\n", regressions,
		       regressions == 1 ? "" : "s", j.threshold, j.min_ms, j.alpha,
		       paired ? ", paired" : "", confirm ? ", confirmed by a second bench" : "");
	}
	sp_bench_free(&base);
	sp_bench_free(&cand);
	sp_bench_free(&conf);
	return regressions ? SP_EXIT_FAIL : SP_EXIT_OK;
}
