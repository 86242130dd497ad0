/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.h - order statistics and the Mann-Whitney U test, for bench and
 * diff: small, noisy samples of durations.
 */
#ifndef SP_STATS_H
#define SP_STATS_H

#include <stddef.h>

struct sp_summary {
	size_t n;
	double min, max, median, p90, p99, mad, mean;
};

/* Summarise v[0..n) (sorted in place).  n may be 0 (all zero). */
void sp_summarize(double *v, size_t n, struct sp_summary *s);

/* Nearest-rank quantile of sorted v[0..n), q in [0, 1]. */
double sp_quantile(const double *v, size_t n, double q);

/*
 * One-sided Mann-Whitney U test that y tends to be larger than x (normal
 * approximation with tie and continuity corrections).  Returns the p-value
 * (1 when either sample has fewer than 2 values).
 */
double sp_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny);

/*
 * One-sided Wilcoxon signed-rank test that the paired differences d tend
 * to be positive (zeros dropped; normal approximation with tie and
 * continuity corrections).  The test for an A/B bench, where drift that
 * hits both sides of a pair cancels.  The p-value (1 with fewer than 2
 * non-zero differences).
 */
double sp_wilcoxon_greater(const double *d, size_t n);

#endif
