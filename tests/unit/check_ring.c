/* SPDX-License-Identifier: Apache-2.0 */
/* check_ring.c - the lock-free ring: ordering, many producers, overflow
 * accounting, unfinished writes, header validation. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ring.h"

static void *map_ring(uint32_t cap, struct sp_ring *r)
{
	void *mem = mmap(NULL, sp_ring_bytes(cap), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(mem, MAP_FAILED);
	sp_ring_init(r, mem, cap);
	return mem;
}

static void put(struct sp_ring *r, int tid, uint64_t i)
{
	uint64_t t;
	struct sp_record *rec = sp_ring_reserve(r, &t);

	rec->tid = tid;
	rec->kind = SP_K_ENTER;
	rec->arg[0] = i;
	rec->arg[1] = i * 2654435761u ^ (uint64_t)tid; /* check word */
	memset(rec->data, (int)(i & 0x7f) | 1, 32);
	rec->data[32] = 0;
	rec->nstr = 1;
	sp_ring_commit(rec, t);
}

struct collect {
	uint64_t n;
	uint64_t *next; /* per tid: next expected i */
	int ntid;
	int bad;
};

static int visit(const struct sp_record *rec, void *vc)
{
	struct collect *c = vc;

	c->n++;
	if (rec->tid < 0 || rec->tid >= c->ntid) {
		c->bad++;
		return 0;
	}
	if (rec->arg[1] != (rec->arg[0] * 2654435761u ^ (uint64_t)rec->tid))
		c->bad++; /* torn */
	for (int k = 0; k < 32; k++)
		if (rec->data[k] != (char)((rec->arg[0] & 0x7f) | 1)) {
			c->bad++;
			break;
		}
	if (rec->arg[0] != c->next[rec->tid])
		c->bad++; /* lost or reordered within a thread */
	c->next[rec->tid] = rec->arg[0] + 1;
	return 0;
}

START_TEST(test_order_single)
{
	struct sp_ring r;
	void *mem = map_ring(1024, &r);
	uint64_t next[1] = { 0 };
	struct collect c = { 0, next, 1, 0 };
	struct sp_ring_stats st;

	for (uint64_t i = 0; i < 1000; i++)
		put(&r, 0, i);
	sp_ring_read(&r, visit, &c, &st);
	ck_assert_uint_eq(c.n, 1000);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(st.written, 1000);
	ck_assert_uint_eq(st.overwritten, 0);
	ck_assert_uint_eq(st.unfinished, 0);
	munmap(mem, sp_ring_bytes(1024));
}
END_TEST

#define NTHREADS 16
#define PER_THREAD 100000

struct prod {
	struct sp_ring *r;
	int tid;
};

static void *producer(void *arg)
{
	struct prod *p = arg;

	for (uint64_t i = 0; i < PER_THREAD; i++)
		put(p->r, p->tid, i);
	return NULL;
}

START_TEST(test_many_producers)
{
	uint32_t cap = 1u << 21; /* 2M records > 1.6M written */
	struct sp_ring r;
	void *mem = map_ring(cap, &r);
	pthread_t th[NTHREADS];
	struct prod pr[NTHREADS];
	uint64_t next[NTHREADS] = { 0 };
	struct collect c = { 0, next, NTHREADS, 0 };
	struct sp_ring_stats st;

	for (int i = 0; i < NTHREADS; i++) {
		pr[i].r = &r;
		pr[i].tid = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, producer, &pr[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	sp_ring_read(&r, visit, &c, &st);
	ck_assert_uint_eq(st.written, (uint64_t)NTHREADS * PER_THREAD);
	ck_assert_uint_eq(c.n, (uint64_t)NTHREADS * PER_THREAD);
	ck_assert_uint_eq(st.overwritten + st.unfinished, 0);
	ck_assert_int_eq(c.bad, 0);
	for (int i = 0; i < NTHREADS; i++)
		ck_assert_uint_eq(next[i], PER_THREAD);
	munmap(mem, sp_ring_bytes(cap));
}
END_TEST

struct lastseen {
	uint64_t first, n;
};

static int visit_first(const struct sp_record *rec, void *v)
{
	struct lastseen *l = v;

	if (!l->n)
		l->first = rec->arg[0];
	l->n++;
	return 0;
}

START_TEST(test_overflow_counted)
{
	struct sp_ring r;
	void *mem = map_ring(64, &r);
	struct lastseen l = { 0, 0 };
	struct sp_ring_stats st;

	for (uint64_t i = 0; i < 1000; i++)
		put(&r, 0, i);
	sp_ring_read(&r, visit_first, &l, &st);
	ck_assert_uint_eq(l.n, 64);
	ck_assert_uint_eq(l.first, 1000 - 64); /* the newest 64 survive */
	ck_assert_uint_eq(st.overwritten, 1000 - 64);
	ck_assert_uint_eq(st.written, 1000);
	munmap(mem, sp_ring_bytes(64));
}
END_TEST

START_TEST(test_unfinished_counted)
{
	struct sp_ring r;
	void *mem = map_ring(64, &r);
	struct lastseen l = { 0, 0 };
	struct sp_ring_stats st;
	uint64_t t;

	put(&r, 0, 0);
	(void)sp_ring_reserve(&r, &t); /* a writer killed mid-record */
	put(&r, 0, 2);
	sp_ring_read(&r, visit_first, &l, &st);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(st.unfinished, 1);
	ck_assert_uint_eq(st.overwritten, 0);
	munmap(mem, sp_ring_bytes(64));
}
END_TEST

START_TEST(test_attach_validates)
{
	struct sp_ring r, a;
	void *mem = map_ring(64, &r);
	const char *why = NULL;

	ck_assert_int_eq(sp_ring_attach(&a, mem, sp_ring_bytes(64), &why), 0);
	ck_assert_int_eq(sp_ring_attach(&a, mem, sp_ring_bytes(64) - 1, &why), -1);
	ck_assert_str_eq(why, "ring file truncated");
	ck_assert_int_eq(sp_ring_attach(&a, mem, 100, &why), -1);
	r.hdr->capacity = 100;
	ck_assert_int_eq(sp_ring_attach(&a, mem, sp_ring_bytes(64), &why), -1);
	ck_assert_str_eq(why, "bad ring capacity");
	r.hdr->capacity = 64;
	r.hdr->magic ^= 1;
	ck_assert_int_eq(sp_ring_attach(&a, mem, sp_ring_bytes(64), &why), -1);
	ck_assert_str_eq(why, "not a startpath ring (bad magic)");
	munmap(mem, sp_ring_bytes(64));
}
END_TEST

START_TEST(test_capacity_rounding)
{
	ck_assert_uint_eq(sp_ring_capacity(0), SP_RING_MIN_RECORDS);
	ck_assert_uint_eq(sp_ring_capacity(65), 128);
	ck_assert_uint_eq(sp_ring_capacity(1u << 30), SP_RING_MAX_RECORDS);
	ck_assert_uint_eq(sizeof(struct sp_record), SP_REC_SIZE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_order_single);
	tcase_add_test(tc, test_many_producers);
	tcase_add_test(tc, test_overflow_counted);
	tcase_add_test(tc, test_unfinished_counted);
	tcase_add_test(tc, test_attach_validates);
	tcase_add_test(tc, test_capacity_rounding);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
