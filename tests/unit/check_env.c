/* SPDX-License-Identifier: Apache-2.0 */
/* check_env.c - carrying LD_PRELOAD and STARTPATH_* into a child's env. */
#include <string.h>
#include "check_main.h"
#include "env.h"

static const char *const ours[] = { "LD_PRELOAD=/lib/libstartpath.so",
				     "STARTPATH_DIR=/out", NULL };

static const char *find(char **env, const char *name)
{
	size_t n = strlen(name);

	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

START_TEST(test_empty_env_gets_ours)
{
	char *envp[] = { NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 8, buf, sizeof(buf)), 2);
	ck_assert_str_eq(find(out, "LD_PRELOAD"), "/lib/libstartpath.so");
	ck_assert_str_eq(find(out, "STARTPATH_DIR"), "/out");
	ck_assert_ptr_null(out[2]);
}
END_TEST

START_TEST(test_null_env)
{
	char *out[8];
	char buf[64];

	ck_assert_int_eq(sp_env_merge(NULL, ours, out, 8, buf, sizeof(buf)), 2);
}
END_TEST

START_TEST(test_ours_already_there)
{
	char *envp[] = { "PATH=/bin", "STARTPATH_DIR=/out", "LD_PRELOAD=/lib/libstartpath.so",
			 NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 8, buf, sizeof(buf)), 0);
	ck_assert_str_eq(find(out, "STARTPATH_DIR"), "/out");
	ck_assert_str_eq(find(out, "PATH"), "/bin");
	ck_assert_ptr_null(out[3]);
}
END_TEST

/* What the environment became after load (runc copies an image's variables
 * into its own) never steers a child: other STARTPATH_* values and names are
 * replaced by ours or left out. */
START_TEST(test_settings_after_load_ignored)
{
	char *envp[] = { "PATH=/bin", "STARTPATH_DIR=/elsewhere",
			 "STARTPATH_EXEC=/proc/self/cwd/evil", "STARTPATH_LOG=/etc/cron.d/x",
			 "LD_PRELOAD=/lib/libstartpath.so", NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 8, buf, sizeof(buf)), 4);
	ck_assert_str_eq(find(out, "STARTPATH_DIR"), "/out");
	ck_assert_ptr_null(find(out, "STARTPATH_EXEC"));
	ck_assert_ptr_null(find(out, "STARTPATH_LOG"));
	ck_assert_str_eq(find(out, "PATH"), "/bin");
	ck_assert_str_eq(find(out, "LD_PRELOAD"), "/lib/libstartpath.so");
	ck_assert_ptr_null(out[3]);
}
END_TEST

/* Into a container: ours go, the container's own stay. */
START_TEST(test_strip)
{
	char *envp[] = { "PATH=/bin", "STARTPATH_DIR=/out", "STARTPATH_DEBUG=2",
			 "LD_PRELOAD=/lib/libstartpath.so", NULL };
	char *envp2[] = { "LD_PRELOAD=/lib/a.so:/lib/libstartpath.so /lib/b.so",
			  "STARTPATH_DIR=/theirs", NULL };
	char *envp3[] = { "HOME=/", NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_strip(envp, ours, "/lib/libstartpath.so", out, 8, buf,
				      sizeof(buf)), 2);
	ck_assert_str_eq(out[0], "PATH=/bin");
	ck_assert_str_eq(out[1], "STARTPATH_DEBUG=2"); /* not one of ours */
	ck_assert_ptr_null(out[2]);
	ck_assert_int_eq(sp_env_strip(envp2, ours, "/lib/libstartpath.so", out, 8, buf,
				      sizeof(buf)), 1);
	ck_assert_str_eq(find(out, "LD_PRELOAD"), "/lib/a.so:/lib/b.so");
	ck_assert_str_eq(find(out, "STARTPATH_DIR"), "/theirs");
	ck_assert_int_eq(sp_env_strip(envp3, ours, "/lib/libstartpath.so", out, 8, buf,
				      sizeof(buf)), 0);
	ck_assert_int_eq(sp_env_strip(envp2, ours, "/lib/libstartpath.so", out, 8, buf, 12), -1);
}
END_TEST

START_TEST(test_preload_prepended)
{
	char *envp[] = { "LD_PRELOAD=/lib/other.so", "HOME=/", NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 8, buf, sizeof(buf)), 2);
	ck_assert_str_eq(find(out, "LD_PRELOAD"), "/lib/libstartpath.so:/lib/other.so");
	ck_assert_str_eq(find(out, "HOME"), "/");
}
END_TEST

START_TEST(test_preload_listed_not_substring)
{
	char *envp[] = { "LD_PRELOAD=/lib/other.so /lib/libstartpath.so", NULL };
	char *envp2[] = { "LD_PRELOAD=/lib/libstartpath.so.old", NULL };
	char *out[8];
	char buf[256];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 8, buf, sizeof(buf)), 1); /* DIR only */
	ck_assert_int_eq(sp_env_merge(envp2, ours, out, 8, buf, sizeof(buf)), 2);
	ck_assert_str_eq(find(out, "LD_PRELOAD"), "/lib/libstartpath.so:/lib/libstartpath.so.old");
}
END_TEST

START_TEST(test_too_small)
{
	char *envp[] = { "A=1", "B=2", "C=3", NULL };
	char *envp2[] = { "LD_PRELOAD=/x.so", NULL };
	char *out[4];
	char buf[8];

	ck_assert_int_eq(sp_env_merge(envp, ours, out, 4, buf, sizeof(buf)), -1);
	ck_assert_int_eq(sp_env_merge(envp2, ours, out, 4, buf, sizeof(buf)), -1);
}
END_TEST

START_TEST(test_list_has)
{
	ck_assert(sp_list_has("/a.so:/b.so", "/b.so"));
	ck_assert(sp_list_has("/a.so /b.so", "/a.so"));
	ck_assert(!sp_list_has("/a.so:/b.so", "/a"));
	ck_assert(!sp_list_has("", "/a.so"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("env");
	TCase *tc = tcase_create("env");

	tcase_add_test(tc, test_empty_env_gets_ours);
	tcase_add_test(tc, test_null_env);
	tcase_add_test(tc, test_ours_already_there);
	tcase_add_test(tc, test_settings_after_load_ignored);
	tcase_add_test(tc, test_strip);
	tcase_add_test(tc, test_preload_prepended);
	tcase_add_test(tc, test_preload_listed_not_substring);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_list_has);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
