/* SPDX-License-Identifier: Apache-2.0 */
/* check_spans.c - pairing enter/exit records into spans: complete calls,
 * a missing exit, nesting, interleaved threads, an exit whose enter was
 * lost, process events. */
#include <string.h>
#include "check_main.h"
#include "model.h"

static struct sp_record mk(unsigned kind, unsigned call, int tid, uint32_t callid, uint64_t t)
{
	struct sp_record r;

	memset(&r, 0, sizeof(r));
	r.kind = (uint16_t)kind;
	r.call = (uint16_t)call;
	r.pid = 100;
	r.tid = tid;
	r.callid = callid;
	r.t_ns = t;
	return r;
}

static void add(struct sp_proc *p, struct sp_record r)
{
	ck_assert_int_eq(sp_proc_add_record(p, &r), 0);
}

START_TEST(test_pair_simple)
{
	struct sp_proc p;
	struct sp_record e = mk(SP_K_ENTER, SP_C_MOUNT, 7, 1, 1000);
	const char *s[4] = { "tmpfs", "/mnt", "tmpfs", "size=1m" };
	struct sp_record x = mk(SP_K_EXIT, SP_C_MOUNT, 7, 1, 1500);

	memset(&p, 0, sizeof(p));
	p.pid = 100;
	e.arg[0] = 42;
	sp_rec_put_strs(&e, s, 4);
	add(&p, e);
	x.result = -1;
	x.err = 1;
	add(&p, x);
	sp_proc_finish(&p);
	ck_assert_uint_eq(p.nspans, 1);
	ck_assert(p.spans[0].has_exit);
	ck_assert_uint_eq(sp_span_dur(&p.spans[0]), 500);
	ck_assert_int_eq(p.spans[0].result, -1);
	ck_assert_int_eq(p.spans[0].err, 1);
	ck_assert_uint_eq(p.spans[0].arg[0], 42);
	ck_assert_str_eq(p.spans[0].strs[1], "/mnt");
	ck_assert_str_eq(p.spans[0].strs[3], "size=1m");
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_missing_exit)
{
	struct sp_proc p;

	memset(&p, 0, sizeof(p));
	add(&p, mk(SP_K_ENTER, SP_C_EXECVE, 7, 1, 1000));
	sp_proc_finish(&p);
	ck_assert_uint_eq(p.nspans, 1);
	ck_assert(!p.spans[0].has_exit);
	ck_assert_uint_eq(sp_span_dur(&p.spans[0]), 0);
	ck_assert(p.execed); /* an exec with no return: the image was replaced */
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_nesting)
{
	struct sp_proc p;

	/* A hooked call made inside another (e.g. from a signal handler). */
	memset(&p, 0, sizeof(p));
	add(&p, mk(SP_K_ENTER, SP_C_MOUNT, 7, 1, 1000));
	add(&p, mk(SP_K_ENTER, SP_C_UMOUNT2, 7, 2, 1100));
	add(&p, mk(SP_K_EXIT, SP_C_UMOUNT2, 7, 2, 1200));
	add(&p, mk(SP_K_EXIT, SP_C_MOUNT, 7, 1, 1900));
	sp_proc_finish(&p);
	ck_assert_uint_eq(p.nspans, 2);
	ck_assert_uint_eq(p.spans[0].call, SP_C_MOUNT);
	ck_assert_uint_eq(sp_span_dur(&p.spans[0]), 900);
	ck_assert_uint_eq(p.spans[1].call, SP_C_UMOUNT2);
	ck_assert_uint_eq(sp_span_dur(&p.spans[1]), 100);
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_out_of_order_threads)
{
	struct sp_proc p;

	/* Ring order is ticket order: thread 8's call starts earlier but is
	 * published later; the same callid on two threads must not mix. */
	memset(&p, 0, sizeof(p));
	add(&p, mk(SP_K_ENTER, SP_C_MOUNT, 7, 1, 2000));
	add(&p, mk(SP_K_ENTER, SP_C_MOUNT, 8, 1, 1000));
	add(&p, mk(SP_K_EXIT, SP_C_MOUNT, 7, 1, 2600));
	add(&p, mk(SP_K_EXIT, SP_C_MOUNT, 8, 1, 3000));
	sp_proc_finish(&p);
	ck_assert_uint_eq(p.nspans, 2);
	ck_assert_int_eq(p.spans[0].tid, 8); /* sorted by start time */
	ck_assert_uint_eq(sp_span_dur(&p.spans[0]), 2000);
	ck_assert_int_eq(p.spans[1].tid, 7);
	ck_assert_uint_eq(sp_span_dur(&p.spans[1]), 600);
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_orphan_exit)
{
	struct sp_proc p;

	memset(&p, 0, sizeof(p));
	add(&p, mk(SP_K_EXIT, SP_C_MOUNT, 7, 5, 2000));
	sp_proc_finish(&p);
	ck_assert_uint_eq(p.nspans, 1);
	ck_assert_uint_eq(p.orphans, 1);
	ck_assert(!p.spans[0].has_enter);
	ck_assert(p.spans[0].has_exit);
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_exec_failed_and_events)
{
	struct sp_proc p;
	struct sp_record x = mk(SP_K_EXIT, SP_C_EXECVE, 7, 1, 1200);
	struct sp_record pe = mk(SP_K_PEXIT, SP_C_NONE, 7, 0, 5000);
	struct sp_record m = mk(SP_K_MARK, SP_C_NONE, 7, 0, 4000);
	const char *name = "ready";

	memset(&p, 0, sizeof(p));
	p.pid = 100;
	add(&p, mk(SP_K_ENTER, SP_C_EXECVE, 7, 1, 1000));
	x.result = -1;
	x.err = 2;
	add(&p, x);
	sp_rec_put_strs(&m, &name, 1);
	add(&p, m);
	pe.result = 3;
	add(&p, pe);
	sp_proc_finish(&p);
	ck_assert(!p.execed);
	ck_assert(p.exited);
	ck_assert_int_eq(p.exit_status, 3);
	ck_assert_uint_eq(p.t_exit_ns, 5000);
	ck_assert_uint_eq(p.nmarks, 1);
	ck_assert_str_eq(p.marks[0].name, "ready");
	sp_proc_free(&p);
}
END_TEST

START_TEST(test_comm)
{
	struct sp_proc p;
	char *argv[] = { "runc", "init", NULL };

	memset(&p, 0, sizeof(p));
	p.argv = argv;
	p.argc = 2;
	p.exe = "/usr/sbin/runc";
	ck_assert_str_eq(sp_proc_comm(&p), "runc");
	p.exe = "/";
	ck_assert_str_eq(sp_proc_comm(&p), "runc");
	p.exe = "/memfd:runc_cloned:/proc/self/exe (deleted)";
	ck_assert_str_eq(sp_proc_comm(&p), "runc");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("spans");
	TCase *tc = tcase_create("spans");

	tcase_add_test(tc, test_pair_simple);
	tcase_add_test(tc, test_missing_exit);
	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_out_of_order_threads);
	tcase_add_test(tc, test_orphan_exit);
	tcase_add_test(tc, test_exec_failed_and_events);
	tcase_add_test(tc, test_comm);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(suite)
