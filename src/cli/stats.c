/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stats.c - order statistics (median, nearest-rank quantiles, MAD) and a
 * one-sided Mann-Whitney U test: distribution-free, fit for a few dozen
 * noisy timings where a t-test's normality does not hold.
 */
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double sp_quantile(const double *v, size_t n, double q)
{
	size_t k;

	if (!n)
		return 0;
	if (q <= 0)
		return v[0];
	k = (size_t)ceil(q * (double)n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static double median_sorted(const double *v, size_t n)
{
	if (!n)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void sp_summarize(double *v, size_t n, struct sp_summary *s)
{
	double *dev;
	double sum = 0;

	memset(s, 0, sizeof(*s));
	s->n = n;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), dcmp);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = median_sorted(v, n);
	s->p90 = sp_quantile(v, n, 0.90);
	s->p99 = sp_quantile(v, n, 0.99);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	s->mean = sum / (double)n;
	dev = malloc(n * sizeof(*dev));
	if (!dev)
		return;
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(v[i] - s->median);
	qsort(dev, n, sizeof(*dev), dcmp);
	s->mad = median_sorted(dev, n);
	free(dev);
}

struct item {
	double v;
	int from_y;
};

static int icmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->v < y->v ? -1 : x->v > y->v;
}

double sp_mann_whitney_greater(const double *x, size_t nx, const double *y, size_t ny)
{
	size_t n = nx + ny;
	struct item *it;
	double ry = 0, ties = 0, u, mu, sigma, z;

	if (nx < 2 || ny < 2)
		return 1;
	it = malloc(n * sizeof(*it));
	if (!it)
		return 1;
	for (size_t i = 0; i < nx; i++)
		it[i] = (struct item){ x[i], 0 };
	for (size_t i = 0; i < ny; i++)
		it[nx + i] = (struct item){ y[i], 1 };
	qsort(it, n, sizeof(*it), icmp);
	/* Average ranks over runs of ties. */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double rank;

		while (j + 1 < n && it[j + 1].v == it[i].v)
			j++;
		rank = (double)(i + j + 2) / 2; /* ranks are 1-based */
		for (size_t k = i; k <= j; k++)
			if (it[k].from_y)
				ry += rank;
		if (j > i) {
			double t = (double)(j - i + 1);

			ties += t * t * t - t;
		}
		i = j + 1;
	}
	free(it);
	u = ry - (double)ny * (double)(ny + 1) / 2; /* U of y: large when y is larger */
	mu = (double)nx * (double)ny / 2;
	sigma = sqrt((double)nx * (double)ny / 12.0 *
		     ((double)(n + 1) - ties / ((double)n * (double)(n - 1))));
	if (sigma == 0)
		return 1;
	z = (u - mu - 0.5) / sigma; /* continuity correction */
	return 0.5 * erfc(z / sqrt(2.0));
}

static int abs_cmp(const void *a, const void *b)
{
	double x = fabs(*(const double *)a), y = fabs(*(const double *)b);

	return (x > y) - (x < y);
}

double sp_wilcoxon_greater(const double *d, size_t n)
{
	double *v = malloc((n ? n : 1) * sizeof(*v)), wplus = 0, ties = 0, mu, sigma, z;
	size_t m = 0;

	if (!v)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0 && isfinite(d[i]))
			v[m++] = d[i];
	if (m < 2) {
		free(v);
		return 1;
	}
	qsort(v, m, sizeof(*v), abs_cmp);
	for (size_t i = 0; i < m;) {
		size_t j = i;
		double rank;

		while (j + 1 < m && fabs(v[j + 1]) == fabs(v[i]))
			j++;
		rank = (double)(i + j + 2) / 2;
		for (size_t k = i; k <= j; k++)
			if (v[k] > 0)
				wplus += rank;
		if (j > i) {
			double t = (double)(j - i + 1);

			ties += t * t * t - t;
		}
		i = j + 1;
	}
	free(v);
	mu = (double)m * (double)(m + 1) / 4;
	sigma = sqrt((double)m * (double)(m + 1) * (double)(2 * m + 1) / 24 - ties / 48);
	if (sigma == 0)
		return 1;
	z = (wplus - mu - 0.5) / sigma;
	return 0.5 * erfc(z / sqrt(2.0));
}
