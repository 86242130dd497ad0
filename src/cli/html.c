/* SPDX-License-Identifier: Apache-2.0 */
/*
 * html.c - self-contained HTML: a Gantt timeline of a container start's
 * phases (a lane per process, the bottleneck highlighted, details on hover,
 * the table under it), box plots of a bench, before/after bars of a diff.
 * No script, no font, no request: inline SVG and CSS, and a
 * Content-Security-Policy that forbids loading anything.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

#define W 960.0
#define LANE 28.0
#define LEFT 230.0

void sp_html_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* s escaped for HTML text and attributes, in one of a few rotating static
 * buffers (a name is printed at most twice in one fprintf); cut at 1 KiB.
 * Every name that came from a file (phases, profiles) goes through this or
 * sp_html_esc(): a bench file is input like any other. */
static const char *h(const char *s)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4], *p = b, *end = b + sizeof(bufs[0]) - 7;

	for (; s && *s && p < end; s++) {
		const char *r = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;"
			      : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

		if (r) {
			memcpy(p, r, strlen(r));
			p += strlen(r);
		} else {
			*p++ = *s;
		}
	}
	*p = '\0';
	return b;
}

void sp_html_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; img-src data:\">\n<title>", f);
	sp_html_esc(f, title);
	fputs("</title>\n<style>\n"
	      "body{font:14px system-ui,sans-serif;margin:24px;color:#222}\n"
	      "h1{font-size:20px} h2{font-size:16px;margin-top:28px}\n"
	      "table{border-collapse:collapse;margin-top:12px}\n"
	      "td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #ddd}\n"
	      "td:first-child,th:first-child{text-align:left}\n"
	      "tr.bottleneck td{font-weight:bold;color:#b00}\n"
	      ".bar{fill:#4a90d9} .bar.sub{fill:#9cc3ea} .bar.teardown{fill:#bbb}\n"
	      ".bar.bottleneck{fill:#d9534f} .bar:hover{opacity:.75}\n"
	      ".lane{font:12px monospace;fill:#444} .axis{stroke:#999} .tick{font:11px sans-serif;fill:#666}\n"
	      ".label{font:11px sans-serif;fill:#fff;pointer-events:none}\n"
	      ".box{fill:#cfe0f5;stroke:#4a90d9} .whisker{stroke:#4a90d9} .median{stroke:#b00;stroke-width:2}\n"
	      ".before{fill:#9cc3ea} .after{fill:#4a90d9} .after.regression{fill:#d9534f}\n"
	      ".value{font:11px sans-serif;fill:#333} .note{font:12px sans-serif;color:#666}\n"
	      "</style></head><body>\n", f);
}

void sp_html_tail(FILE *f)
{
	fputs("<p style=\"color:#888;font-size:12px\">startpath " STARTPATH_VERSION
	      "</p>\n</body></html>\n", f);
}

static int lane_of(const struct sp_map *m, const struct sp_proc *p)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i] == p)
			return (int)i;
	return 0;
}

void sp_html_map(FILE *f, const struct sp_map *m)
{
	uint64_t end = m->t1, total = m->t1 - m->t0;
	double scale;
	int lanes = (int)m->nprocs, height;

	for (size_t i = 0; i < m->nphases; i++)
		if (m->phases[i].seen && m->phases[i].t1 > end)
			end = m->phases[i].t1;
	scale = (W - LEFT - 20) / (double)(end > m->t0 ? end - m->t0 : 1);
	height = (int)(lanes * LANE + 40);
	fputs("<h2>Start Path Map: container ", f);
	sp_html_esc(f, m->container_id);
	fprintf(f, " (%s) &mdash; %.3f ms</h2>\n", h(m->profile), (double)total / 1e6);
	fprintf(f, "<svg class=\"gantt\" width=\"%.0f\" height=\"%d\" "
		   "xmlns=\"http://www.w3.org/2000/svg\">\n", W, height);
	for (int l = 0; l < lanes; l++) {
		const struct sp_proc *p = m->procs[l];

		fprintf(f, "<text class=\"lane\" x=\"4\" y=\"%.0f\">", 20 + l * LANE + 14);
		sp_html_esc(f, sp_proc_comm(p));
		if (p->argc > 1) {
			fputc(' ', f);
			sp_html_esc(f, p->argv[1]);
		}
		fprintf(f, " [%d]</text>\n", p->host_pid ? p->host_pid : p->pid);
	}
	for (int t = 0; t <= 10; t++) {
		double x = LEFT + t * (W - LEFT - 20) / 10;

		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"16\" x2=\"%.1f\" y2=\"%d\"/>"
			   "<text class=\"tick\" x=\"%.1f\" y=\"12\">%.1f ms</text>\n",
			x, x, height - 20, x - 10, (double)(end - m->t0) * t / 10 / 1e6);
	}
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];
		double x, w, y;
		uint64_t dur;

		if (!ph->seen)
			continue;
		dur = ph->t1 - ph->t0;
		x = LEFT + (double)(ph->t0 - m->t0) * scale;
		w = fmax(1.0, (double)dur * scale);
		y = 20 + lane_of(m, ph->proc) * LANE + (ph->parent ? 14 : 2);
		fprintf(f, "<rect class=\"bar%s%s%s\" data-phase=\"%s\" x=\"%.1f\" y=\"%.1f\" "
			   "width=\"%.1f\" height=\"%d\"><title>",
			ph->parent ? " sub" : "", ph->section ? " teardown" : "",
			ph->bottleneck ? " bottleneck" : "", h(ph->name), x, y, w, ph->parent ? 10 : 22);
		fprintf(f, "%s: %.3f ms", h(ph->name), (double)dur / 1e6);
		if (!ph->section && total)
			fprintf(f, " (%.1f%%)", 100.0 * (double)dur / (double)total);
		fputs(" &#10;", f);
		sp_html_esc(f, ph->proc ? sp_proc_comm(ph->proc) : "?");
		if (ph->span) {
			fputs(" &#10;", f);
			sp_html_esc(f, sp_call_info(ph->span->call)->name);
			if (ph->span->nstr && ph->span->strs[0]) {
				fputc(' ', f);
				sp_html_esc(f, ph->span->strs[0]);
			}
		}
		fputs("</title></rect>\n", f);
		if (w > 70 && !ph->parent)
			fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 3,
				y + 15, h(ph->name));
	}
	fputs("</svg>\n<table><tr><th>phase</th><th>start (ms)</th><th>duration (ms)</th>"
	      "<th>share</th><th>process</th></tr>\n", f);
	for (size_t i = 0; i < m->nphases; i++) {
		const struct sp_map_phase *ph = &m->phases[i];

		fprintf(f, "<tr%s><td>%s%s%s</td>", ph->bottleneck ? " class=\"bottleneck\"" : "",
			ph->parent ? "&nbsp;&nbsp;" : "", ph->section ? "(teardown) " : "", h(ph->name));
		if (!ph->seen) {
			fputs("<td colspan=\"4\">not seen</td></tr>\n", f);
			continue;
		}
		fprintf(f, "<td>+%.3f</td><td>%.3f</td><td>%s", (double)(ph->t0 - m->t0) / 1e6,
			(double)(ph->t1 - ph->t0) / 1e6, "");
		if (!ph->section && total)
			fprintf(f, "%.1f%%", 100.0 * (double)(ph->t1 - ph->t0) / (double)total);
		fputs("</td><td>", f);
		sp_html_esc(f, ph->proc ? sp_proc_comm(ph->proc) : "?");
		fprintf(f, "%s</td></tr>\n", ph->bottleneck ? " &larr; bottleneck" : "");
	}
	fprintf(f, "<tr><td>total</td><td></td><td>%.3f</td><td></td><td></td></tr></table>\n",
		(double)total / 1e6);
}

/* One box per phase: min, p25, median, p75, max of the samples (ns). */
/* A logarithmic axis from lo to hi (ns, lo > 0) over [LEFT, LEFT + width]:
 * a 0.05 ms and a 50 ms phase both show. */
struct logaxis {
	double lo, hi, width;
};

static double lx(const struct logaxis *a, double v)
{
	if (v < a->lo)
		v = a->lo;
	return LEFT + (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo)) * a->width;
}

/* Decade ticks (0.01 ms, 0.1 ms, 1 ms...) with their grid lines. */
static void log_ticks(FILE *f, const struct logaxis *a, int top, int bottom)
{
	for (double t = pow(10, floor(log10(a->lo))); t <= a->hi * 1.0001; t *= 10) {
		double x = lx(a, t);

		if (t < a->lo * 0.9999)
			continue;
		fprintf(f, "<line class=\"axis\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
			   "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%g ms</text>\n",
			x, top, x, bottom, x - 12, bottom + 12, t / 1e6);
	}
}

void sp_html_boxes(FILE *f, const char *const *names, double *const *samples, const size_t *n,
		   size_t nphases)
{
	struct logaxis ax = { 0, 0, W - LEFT - 230 };
	int height = (int)(nphases * 30 + 50);

	for (size_t i = 0; i < nphases; i++)
		for (size_t k = 0; k < n[i]; k++) {
			if (samples[i][k] > 0 && (!ax.lo || samples[i][k] < ax.lo))
				ax.lo = samples[i][k];
			ax.hi = fmax(ax.hi, samples[i][k]);
		}
	/* Whole decades around the samples, at least 10 us to 1 ms. */
	ax.lo = pow(10, floor(log10(ax.lo > 0 ? fmin(ax.lo, 1e6) : 1e4)));
	ax.hi = pow(10, ceil(log10(fmax(ax.hi, ax.lo * 100))));
	fprintf(f, "<svg class=\"boxplot\" width=\"%.0f\" height=\"%d\" "
		   "xmlns=\"http://www.w3.org/2000/svg\">\n", W, height);
	log_ticks(f, &ax, 14, height - 18);
	for (size_t i = 0; i < nphases; i++) {
		double *v = malloc((n[i] ? n[i] : 1) * sizeof(double));
		struct sp_summary s;
		double y = 20 + (double)i * 30, q1, q3;

		if (!v)
			continue;
		memcpy(v, samples[i], n[i] * sizeof(double));
		sp_summarize(v, n[i], &s);
		q1 = sp_quantile(v, n[i], 0.25);
		q3 = sp_quantile(v, n[i], 0.75);
		free(v);
		fprintf(f, "<text class=\"lane\" x=\"4\" y=\"%.0f\">", y + 14);
		sp_html_esc(f, names[i]);
		fprintf(f, "</text>\n<line class=\"whisker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			lx(&ax, s.min), y + 10, lx(&ax, s.max), y + 10);
		fprintf(f, "<rect class=\"box\" data-phase=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			   "height=\"20\"><title>%s: median %.3f ms, p90 %.3f, p25 %.3f, p75 %.3f, "
			   "min %.3f, max %.3f (n=%zu)</title></rect>\n",
			h(names[i]), lx(&ax, q1), y, fmax(2, lx(&ax, q3) - lx(&ax, q1)), h(names[i]),
			s.median / 1e6, s.p90 / 1e6, q1 / 1e6, q3 / 1e6, s.min / 1e6, s.max / 1e6, s.n);
		fprintf(f, "<line class=\"median\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			lx(&ax, s.median), y, lx(&ax, s.median), y + 20);
		/* The figures beside each box, in the margin kept for them. */
		fprintf(f, "<text class=\"value\" data-phase=\"%s\" x=\"%.0f\" y=\"%.0f\">median %.3f ms, "
			   "p90 %.3f</text>\n", h(names[i]), LEFT + ax.width + 8, y + 14, s.median / 1e6,
			s.p90 / 1e6);
	}
	fprintf(f, "</svg>\n<p class=\"note\">Logarithmic scale; box: p25 to p75, line: "
		   "median, whiskers: min to max.</p>\n");
}

/* Before/after bars per phase; regressions marked. */
void sp_html_diffbars(FILE *f, const char *const *names, const double *before,
		      const double *after, const int *regressed, size_t nphases)
{
	double maxv = 0;
	int height = (int)(nphases * 34 + 30);

	for (size_t i = 0; i < nphases; i++)
		maxv = fmax(maxv, fmax(before[i], after[i]));
	if (maxv <= 0)
		maxv = 1;
	fprintf(f, "<svg class=\"diff\" width=\"%.0f\" height=\"%d\" "
		   "xmlns=\"http://www.w3.org/2000/svg\">\n", W, height);
	for (size_t i = 0; i < nphases; i++) {
		/* Room right of the longest bar for its whole label. */
		double sc = (W - LEFT - 240) / maxv, y = 10 + (double)i * 34;

		fprintf(f, "<text class=\"lane\" x=\"4\" y=\"%.0f\">", y + 16);
		sp_html_esc(f, names[i]);
		fprintf(f, "</text>\n<rect class=\"before\" x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"13\">"
			   "<title>%s before: %.3f ms</title></rect>\n", LEFT, y, fmax(1, before[i] * sc),
			h(names[i]), before[i] / 1e6);
		fprintf(f, "<rect class=\"after%s\" data-phase=\"%s\" x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" "
			   "height=\"13\"><title>%s after: %.3f ms%s</title></rect>\n",
			regressed[i] ? " regression" : "", h(names[i]), LEFT, y + 14, fmax(1, after[i] * sc),
			h(names[i]), after[i] / 1e6, regressed[i] ? " (REGRESSION)" : "");
		fprintf(f, "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\">%.3f &rarr; %.3f ms%s</text>\n",
			LEFT + fmax(before[i], after[i]) * sc + 6, y + 20, before[i] / 1e6, after[i] / 1e6,
			regressed[i] ? " REGRESSION" : "");
	}
	fputs("</svg>\n", f);
}
