/* SPDX-License-Identifier: Apache-2.0 */
/* check_stats.c - quantiles, MAD, and the Mann-Whitney U test against
 * values worked out by hand / known tables. */
#include <math.h>
#include "check_main.h"
#include "stats.h"

START_TEST(test_summary)
{
	double v[] = { 5, 1, 4, 2, 3, 100 };
	struct sp_summary s;

	sp_summarize(v, 6, &s);
	ck_assert_uint_eq(s.n, 6);
	ck_assert_double_eq(s.min, 1);
	ck_assert_double_eq(s.max, 100);
	ck_assert_double_eq(s.median, 3.5);
	ck_assert_double_eq(s.p90, 100);   /* nearest rank: ceil(5.4) = 6th */
	/* |v - 3.5| = 2.5 1.5 0.5 0.5 1.5 96.5 -> median 1.5 */
	ck_assert_double_eq(s.mad, 1.5);
	sp_summarize(v, 0, &s);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_quantile)
{
	double v[10];

	for (int i = 0; i < 10; i++)
		v[i] = i + 1;
	ck_assert_double_eq(sp_quantile(v, 10, 0.5), 5);
	ck_assert_double_eq(sp_quantile(v, 10, 0.9), 9);
	ck_assert_double_eq(sp_quantile(v, 10, 0.99), 10);
	ck_assert_double_eq(sp_quantile(v, 10, 0), 1);
}
END_TEST

START_TEST(test_mann_whitney)
{
	double x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	double y[] = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	double same[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	double p;

	/* Complete separation, n = 10 + 10: U = 100, z = (100-50-0.5)/13.23 */
	p = sp_mann_whitney_greater(x, 10, y, 10);
	ck_assert_msg(p < 1e-3 && p > 1e-5, "p = %g", p);
	/* The other direction: no evidence */
	p = sp_mann_whitney_greater(y, 10, x, 10);
	ck_assert_msg(p > 0.999, "p = %g", p);
	/* Identical samples: p near one half */
	p = sp_mann_whitney_greater(x, 10, same, 10);
	ck_assert_msg(p > 0.4 && p < 0.6, "p = %g", p);
	/* Too small to say */
	ck_assert_double_eq(sp_mann_whitney_greater(x, 1, y, 10), 1);
	/* All tied: sigma 0 */
	ck_assert_double_eq(sp_mann_whitney_greater(same, 2, same, 2) <= 1, 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stats");

	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_quantile);
	tcase_add_test(tc, test_mann_whitney);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
