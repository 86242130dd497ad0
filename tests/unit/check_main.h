/* SPDX-License-Identifier: Apache-2.0 */
/* check_main.h - one main() for the Check suites: SUITE_FN builds the suite. */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H
#include <check.h>

#define CHECK_MAIN(suite_fn) \
	int main(void) \
	{ \
		SRunner *sr = srunner_create(suite_fn()); \
		int failed; \
		srunner_run_all(sr, CK_NORMAL); \
		failed = srunner_ntests_failed(sr); \
		srunner_free(sr); \
		return failed ? 1 : 0; \
	}
#endif
