/* SPDX-License-Identifier: Apache-2.0 */
/* check_json.c - per-process JSON: round trip, and errors that name the
 * field for malformed input. */
#include <stdlib.h>
#include <string.h>
#include "check_main.h"
#include <stdio.h>

#include "procjson.h"

static void build(struct sp_proc *p)
{
	struct sp_span s;
	static char *argv[] = { "crun", "run", "c1", NULL };

	memset(p, 0, sizeof(*p));
	p->ring_id = 0x1234567890abcdefULL;
	p->parent_ring_id = 0x42;
	p->pid = 1;
	p->host_pid = 4242;
	p->ppid = 0;
	p->exe = strdup("/usr/bin/crun");
	p->argv = calloc(4, sizeof(char *));
	for (int i = 0; i < 3; i++)
		p->argv[i] = strdup(argv[i]);
	p->argc = 3;
	p->t_load_ns = 18446744073709551000ULL; /* beyond 2^53: travels as a string */
	p->t_load_real_ns = 1795669131285289000ULL;
	p->forked = 1;
	p->exited = 1;
	p->exit_status = 3;
	p->t_exit_ns = 18446744073709551500ULL;
	p->lost = 7;
	p->ring_head = 99;
	memset(&s, 0, sizeof(s));
	s.call = SP_C_MOUNT;
	s.pid = 1;
	s.tid = 1;
	s.callid = 9;
	s.src = SP_SRC_SYSCALL;
	s.flags = SP_RF_CONTAINED;
	s.t0 = 18446744073709551100ULL;
	s.t1 = 18446744073709551200ULL;
	s.has_enter = s.has_exit = 1;
	s.result = -1;
	s.err = 22;
	s.arg[0] = 4096;
	s.arg[1] = 2;
	s.nstr = 4;
	s.strs[0] = "overlay";
	s.strs[1] = "/run/c1/rootfs";
	s.strs[2] = "overlay";
	s.strs[3] = "lowerdir=/a:/b";
	ck_assert_int_eq(sp_proc_add_span(p, &s), 0);
	memset(&s, 0, sizeof(s));
	s.call = SP_C_CLONE;
	s.t0 = s.t1 = 18446744073709551300ULL;
	s.has_enter = s.has_exit = 1;
	s.arg[0] = 0x20000000 | 17;
	s.ret_arg = 4243;
	s.result = 4243;
	ck_assert_int_eq(sp_proc_add_span(p, &s), 0);
}

START_TEST(test_round_trip)
{
	struct sp_proc a, b;
	char err[200];
	cJSON *j;
	char *text;

	build(&a);
	j = sp_proc_to_json(&a);
	ck_assert_ptr_nonnull(j);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	ck_assert_int_eq(sp_proc_from_json(text, strlen(text), &b, err, sizeof(err)), 0);
	free(text);
	ck_assert_uint_eq(b.ring_id, a.ring_id);
	ck_assert_uint_eq(b.parent_ring_id, a.parent_ring_id);
	ck_assert_int_eq(b.host_pid, 4242);
	ck_assert_str_eq(b.exe, a.exe);
	ck_assert_int_eq(b.argc, 3);
	ck_assert_str_eq(b.argv[2], "c1");
	ck_assert_uint_eq(b.t_load_ns, a.t_load_ns);
	ck_assert_uint_eq(b.t_exit_ns, a.t_exit_ns);
	ck_assert_int_eq(b.forked, 1);
	ck_assert_int_eq(b.exit_status, 3);
	ck_assert_uint_eq(b.lost, 7);
	ck_assert_uint_eq(b.ring_head, 99);
	ck_assert_uint_eq(b.nspans, 2);
	ck_assert_uint_eq(b.spans[0].t0, a.spans[0].t0);
	ck_assert_uint_eq(b.spans[0].t1, a.spans[0].t1);
	ck_assert_int_eq(b.spans[0].result, -1);
	ck_assert_int_eq(b.spans[0].err, 22);
	ck_assert_uint_eq(b.spans[0].src, SP_SRC_SYSCALL);
	ck_assert_uint_eq(b.spans[0].flags, SP_RF_CONTAINED);
	ck_assert_uint_eq(b.spans[0].arg[0], 4096);
	ck_assert_uint_eq(b.spans[0].arg[1], 2);
	ck_assert_uint_eq(b.spans[0].nstr, 4);
	ck_assert_str_eq(b.spans[0].strs[3], "lowerdir=/a:/b");
	ck_assert_uint_eq(b.spans[1].arg[0], 0x20000000 | 17);
	ck_assert_uint_eq(b.spans[1].ret_arg, 4243);
	sp_proc_free(&a);
	sp_proc_free(&b);
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	struct sp_proc p;
	char err[200] = "";

	ck_assert_int_eq(sp_proc_from_json(text, strlen(text), &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

/* Integers are printed by hand (no floating point): exact, signed, and
 * read back as numbers. */
START_TEST(test_ints_printed_exactly)
{
	static const int64_t v[] = { 0, 7, -1, -2147483648LL, 4294967295LL,
				     (1LL << 53) + 1, INT64_MAX, INT64_MIN };
	cJSON *o = cJSON_CreateObject(), *back;
	char *text;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char name[8];

		snprintf(name, sizeof(name), "v%zu", i);
		ck_assert_int_eq(sp_json_add_int(o, name, v[i]), 1);
	}
	text = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(text, "{\"v0\":0,\"v1\":7,\"v2\":-1,\"v3\":-2147483648,"
			       "\"v4\":4294967295,\"v5\":9007199254740993,"
			       "\"v6\":9223372036854775807,\"v7\":-9223372036854775808}");
	back = cJSON_Parse(text);
	ck_assert_ptr_nonnull(back);
	ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(back, "v3")));
	ck_assert_double_eq(cJSON_GetObjectItem(back, "v3")->valuedouble, -2147483648.0);
	cJSON_Delete(back);
	cJSON_free(text);
	cJSON_Delete(o);
}
END_TEST

START_TEST(test_errors_name_the_field)
{
	expect_error("{", "not valid JSON");
	expect_error("[]", "top level is not an object");
	expect_error("{\"schema\":\"x\"}", "schema");
	expect_error("{\"schema\":\"startpath/proc/v1\",\"ring_id\":\"zz\"}", "ring_id");
	{
		struct sp_proc a;
		cJSON *j;
		char *text;

		build(&a);
		j = sp_proc_to_json(&a);
		sp_proc_free(&a);
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "spans"), 1),
					  "t0", cJSON_CreateString("12x"));
		text = cJSON_PrintUnformatted(j);
		expect_error(text, "spans[1].t0");
		free(text);
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "spans"), 1),
					  "t0", cJSON_CreateString("1"));
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "spans"), 0),
					  "call", cJSON_CreateString("frobnicate"));
		text = cJSON_PrintUnformatted(j);
		expect_error(text, "spans[0].call");
		free(text);
		/* 2^63 is what (double)INT64_MAX rounds to: no int64_t holds it. */
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "spans"), 0),
					  "call", cJSON_CreateString("mount"));
		cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "spans"), 0),
					  "result", cJSON_CreateNumber(9223372036854775808.0));
		text = cJSON_PrintUnformatted(j);
		expect_error(text, "spans[0].result");
		free(text);
		cJSON_Delete(j);
	}
}
END_TEST

/* The library's writer (procwrite.c, no cJSON) prints exactly what the
 * CLI's cJSON tree prints: every field, every escape, the extremes. */
static void same_text(const struct sp_proc *p)
{
	cJSON *j = sp_proc_to_json(p);
	char *want, *got;
	size_t len = 0;

	ck_assert_ptr_nonnull(j);
	want = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	got = sp_proc_text(p, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_uint_eq(len, strlen(want));
	free(want);
	free(got);
}

START_TEST(test_writer_matches_cjson)
{
	struct sp_proc a;
	struct sp_span s;
	struct sp_mark m;
	char every[256], mname[] = "ready \"x\"";

	/* Every byte value but NUL: the escapes by name, \u00xx, and the
	 * bytes (UTF-8 or not) passed as they are. */
	for (int i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	build(&a);
	same_text(&a);
	free(a.exe);
	a.exe = NULL; /* printed as "" by both */
	a.exit_status = INT64_MIN;
	a.lost = (uint64_t)INT64_MAX;
	a.t_load_ns = UINT64_MAX;
	a.ring_id = UINT64_MAX;
	a.notes = strdup(every);
	free(a.argv[1]);
	a.argv[1] = strdup(every);
	memset(&s, 0, sizeof(s));
	s.call = SP_C_EXECVE;
	s.pid = -1;
	s.tid = INT32_MAX;
	s.callid = UINT32_MAX;
	s.src = SP_SRC_RAW;
	s.t0 = 5;
	s.t1 = 3; /* ends before it starts: dur_ns as the model says */
	s.has_enter = 1;
	s.result = INT64_MIN;
	s.err = -7;
	s.arg[0] = UINT64_MAX;
	s.nstr = SP_MAX_STRS;
	for (unsigned i = 0; i < SP_MAX_STRS; i++)
		s.strs[i] = i == 1 ? NULL : i == 2 ? "\"quoted\" \\ back\tslash\n" : every;
	ck_assert_int_eq(sp_proc_add_span(&a, &s), 0);
	m.name = mname;
	m.t = UINT64_MAX;
	m.pid = 3;
	m.tid = -4;
	a.marks = &m;
	a.nmarks = 1;
	same_text(&a);
	a.marks = NULL;
	a.nmarks = 0;
	sp_proc_free(&a);
	/* Nothing at all: empty arrays, zeros. */
	memset(&a, 0, sizeof(a));
	same_text(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_errors_name_the_field);
	tcase_add_test(tc, test_ints_printed_exactly);
	tcase_add_test(tc, test_writer_matches_cjson);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
