/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diff.c - `startpath diff BASE NEW`: per phase, the change of the median and
 * a one-sided Mann-Whitney U test on the raw samples.  A phase regressed
 * when the change is significant (p < alpha) AND larger than the threshold
 * (percent of the base median, and at least --min-ms).  Exit 0: none,
 * 1: a regression, 2: bad input.
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
	"\n"
	"Compare two `startpath bench -o` results phase by phase.  A phase regressed\n"
	"when NEW is slower with statistical significance (one-sided Mann-Whitney U,\n"
	"p < alpha) and by more than the threshold.\n"
	"\n"
	"  -t, --threshold PCT  smallest change of the median that counts (default 10)\n"
	"  -m, --min-ms MS      and at least this many milliseconds (default 1)\n"
	"  -a, --alpha A        significance level (default 0.01)\n"
	"  -f, --format FMT     table (default), json (startpath/diff/v1) or html\n"
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
	}
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int sp_bench_load(const char *path, struct bench *b)
{
	char *text;
	size_t len = 0;
	cJSON *root = NULL, *phases, *it;
	const cJSON *schema;
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
	phases = cJSON_GetObjectItemCaseSensitive(root, "phases");
	if (!cJSON_IsArray(phases)) {
		sp_err("diff: %s: phases: missing or not an array", path);
		goto out;
	}
	b->p = calloc((size_t)cJSON_GetArraySize(phases) + 1, sizeof(*b->p));
	if (!b->p)
		goto out;
	cJSON_ArrayForEach(it, phases) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
		const cJSON *samples = cJSON_GetObjectItemCaseSensitive(it, "samples_ns");
		const cJSON *s;
		struct phase *p = &b->p[b->n];

		if (!cJSON_IsString(name) || !cJSON_IsArray(samples)) {
			sp_err("diff: %s: phases[%zu]: name or samples_ns missing", path, idx);
			goto out;
		}
		p->name = strdup(name->valuestring);
		p->v = malloc(((size_t)cJSON_GetArraySize(samples) + 1) * sizeof(double));
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
		idx++;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0)
		sp_bench_free(b);
	return rc;
}

static const struct phase *find(const struct bench *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->p[i].name, name) == 0)
			return &b->p[i];
	return NULL;
}

static double median(const struct phase *p)
{
	double *c = malloc((p->n ? p->n : 1) * sizeof(double));
	struct sp_summary s;

	if (!c)
		return 0;
	memcpy(c, p->v, p->n * sizeof(double));
	sp_summarize(c, p->n, &s);
	free(c);
	return s.median;
}

int sp_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threshold", required_argument, NULL, 't' },
		{ "min-ms", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double threshold = 10, min_ms = 1.0, alpha = 0.01;
	int json = 0, html = 0, c, regressions = 0;
	const char *hnames[64];
	double hb[64], hn[64];
	int hr[64];
	size_t hcount = 0;
	struct bench base, cand;
	cJSON *root = NULL, *arr = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:m:a:f:h", opts, NULL)) != -1) {
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
				threshold = v;
			else if (c == 'm')
				min_ms = v;
			else
				alpha = v;
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
		case 'h':
			fputs(diff_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(diff_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		sp_err("diff: expected two files, BASE.json and NEW.json");
		fputs(diff_usage, stderr);
		return SP_EXIT_USAGE;
	}
	if (sp_bench_load(argv[optind], &base) < 0)
		return SP_EXIT_USAGE;
	if (sp_bench_load(argv[optind + 1], &cand) < 0) {
		sp_bench_free(&base);
		return SP_EXIT_USAGE;
	}
	if (json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "schema", SP_DIFF_SCHEMA);
		cJSON_AddStringToObject(root, "base", argv[optind]);
		cJSON_AddStringToObject(root, "new", argv[optind + 1]);
		cJSON_AddNumberToObject(root, "threshold_pct", threshold);
		cJSON_AddNumberToObject(root, "min_ms", min_ms);
		cJSON_AddNumberToObject(root, "alpha", alpha);
		arr = cJSON_AddArrayToObject(root, "phases");
	} else if (html) {
		sp_html_head(stdout, "startpath diff");
		printf("<h1>startpath diff</h1>\n<p>before: ");
		sp_html_esc(stdout, argv[optind]);
		printf(", after: ");
		sp_html_esc(stdout, argv[optind + 1]);
		printf("</p>\n");
	} else {
		printf("%-18s %11s %11s %9s %9s  %s\n", "PHASE (ms)", "BASE", "NEW", "CHANGE", "P",
		       "VERDICT");
	}
	for (size_t i = 0; i < base.n; i++) {
		const struct phase *b = &base.p[i], *n = find(&cand, b->name);
		double mb, mn, pct, p;
		const char *verdict;

		if (!n)
			continue;
		mb = median(b);
		mn = median(n);
		pct = mb > 0 ? 100.0 * (mn - mb) / mb : 0;
		p = sp_mann_whitney_greater(b->v, b->n, n->v, n->n);
		if (p < alpha && pct > threshold && (mn - mb) / 1e6 >= min_ms) {
			verdict = "REGRESSION";
			regressions++;
		} else if (sp_mann_whitney_greater(n->v, n->n, b->v, b->n) < alpha &&
			   -pct > threshold && (mb - mn) / 1e6 >= min_ms) {
			verdict = "faster";
		} else {
			verdict = "same";
		}
		if (html) {
			if (hcount < 64) {
				hnames[hcount] = b->name;
				hb[hcount] = mb;
				hn[hcount] = mn;
				hr[hcount++] = strcmp(verdict, "REGRESSION") == 0;
			}
		} else if (json) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", b->name);
			cJSON_AddNumberToObject(o, "base_median_ns", mb);
			cJSON_AddNumberToObject(o, "new_median_ns", mn);
			cJSON_AddNumberToObject(o, "change_pct", pct);
			cJSON_AddNumberToObject(o, "p_slower", p);
			cJSON_AddNumberToObject(o, "base_n", (double)b->n);
			cJSON_AddNumberToObject(o, "new_n", (double)n->n);
			cJSON_AddStringToObject(o, "verdict", verdict);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%-18s %11.3f %11.3f %+8.1f%% %9.2g  %s\n", b->name, mb / 1e6, mn / 1e6, pct,
			       p, verdict);
		}
	}
	if (html) {
		sp_html_diffbars(stdout, hnames, hb, hn, hr, hcount);
		printf("<p>%d regression%s (threshold %.1f%% and %.2f ms, alpha %g)</p>\n", regressions,
		       regressions == 1 ? "" : "s", threshold, min_ms, alpha);
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
		printf("%d regression%s (threshold %.1f%% and %.2f ms, alpha %g)\n", regressions,
		       regressions == 1 ? "" : "s", threshold, min_ms, alpha);
	}
	sp_bench_free(&base);
	sp_bench_free(&cand);
	return regressions ? SP_EXIT_FAIL : SP_EXIT_OK;
}
