/* SPDX-License-Identifier: Apache-2.0 */
/* check_ring.c - the lock-free ring: ordering, many producers, overflow
 * accounting, unfinished writes, header validation. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* A live writer between its ticket and its commit when the CLI reads: the
 * waiting read gets the record, the plain read counts it unfinished; a writer
 * that never commits costs the budget and is counted. */
struct late {
	struct sp_ring *r;
	struct sp_record *rec;
	uint64_t t;
};

static void *commit_late(void *vl)
{
	struct late *l = vl;

	usleep(2000);
	l->rec->tid = 0;
	l->rec->kind = SP_K_ENTER;
	l->rec->arg[0] = 1;
	l->rec->nstr = 0;
	sp_ring_commit(l->rec, l->t);
	return NULL;
}

START_TEST(test_live_writer_waited_for)
{
	struct sp_ring r;
	void *mem = map_ring(64, &r);
	struct lastseen l = { 0, 0 };
	struct sp_ring_stats st;
	struct late w = { &r, NULL, 0 };
	pthread_t th;
	uint64_t t;

	put(&r, 0, 0);
	w.rec = sp_ring_reserve(&r, &w.t);
	sp_ring_read(&r, visit_first, &l, &st);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_uint_eq(st.unfinished, 1);

	l.n = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, commit_late, &w), 0);
	sp_ring_read_wait(&r, visit_first, &l, &st, SP_RING_SETTLE_BUDGET);
	pthread_join(th, NULL);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(st.unfinished, 0);
	ck_assert_uint_eq(st.read, 2);

	(void)sp_ring_reserve(&r, &t); /* killed mid-record: never published */
	put(&r, 0, 3);
	l.n = 0;
	sp_ring_read_wait(&r, visit_first, &l, &st, 5);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_uint_eq(st.unfinished, 1);
	munmap(mem, sp_ring_bytes(64));
}
END_TEST

/* An exit or exec waits for a record another thread is between its ticket
 * and its commit on, so that exit_group does not leave it torn. */
START_TEST(test_quiesce_waits_for_writer)
{
	struct sp_ring r;
	void *mem = map_ring(64, &r);
	struct late w = { &r, NULL, 0 };
	pthread_t th;
	uint64_t t;

	put(&r, 0, 0);
	w.rec = sp_ring_reserve(&r, &w.t);
	ck_assert_int_eq(pthread_create(&th, NULL, commit_late, &w), 0);
	sp_ring_quiesce(&r, 100); /* up to 10 ms; the writer takes 2 */
	ck_assert_uint_eq(__atomic_load_n(&w.rec->seq, __ATOMIC_ACQUIRE), w.t + 1);
	pthread_join(th, NULL);

	/* A writer that never commits: quiesce returns within its budget. */
	(void)sp_ring_reserve(&r, &t);
	sp_ring_quiesce(&r, 2);
	ck_assert_uint_eq(r.recs[t & r.mask].seq, 0);
	munmap(mem, sp_ring_bytes(64));
}
END_TEST

/* A ring over a memfd (shared memory, sparse like a tmpfs file) whose
 * first `ready` slots are reserved, as the library creates it; `file_recs`
 * records' worth of file behind the mapping. */
static void *map_lazy(uint32_t cap, uint32_t ready, uint32_t file_recs, struct sp_ring *r, int *fd)
{
	void *mem;

	*fd = memfd_create("ring", MFD_CLOEXEC);
	ck_assert_int_ge(*fd, 0);
	ck_assert_int_eq(ftruncate(*fd, (off_t)sp_ring_bytes(file_recs)), 0);
	mem = mmap(NULL, sp_ring_bytes(cap), PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	/* Reserve what sp_ring_init writes (the header) and the first slots. */
	ck_assert_int_eq(madvise(mem, sp_ring_bytes(ready), 23 /* MADV_POPULATE_WRITE */), 0);
	sp_ring_init(r, mem, cap);
	r->hdr->reserved = ready;
	return mem;
}

static void *lazy_producer(void *arg)
{
	struct prod *p = arg;

	for (uint64_t i = 0; i < 2000; i++)
		put(p->r, p->tid, i);
	return NULL;
}

/* Writers racing past the reserved slots reserve more; nothing is lost
 * while the ring has room, and the whole ring ends up reserved. */
START_TEST(test_lazy_growth)
{
	uint32_t cap = 1u << 15;
	struct sp_ring r;
	int fd;
	void *mem = map_lazy(cap, SP_RING_FIRST_RECORDS, cap, &r, &fd);
	pthread_t th[8];
	struct prod pr[8];
	uint64_t next[8] = { 0 };
	struct collect c = { 0, next, 8, 0 };
	struct sp_ring_stats st;

	for (int i = 0; i < 8; i++) {
		pr[i] = (struct prod){ &r, i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, lazy_producer, &pr[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	sp_ring_read(&r, visit, &c, &st);
	ck_assert_uint_eq(c.n, 16000);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(st.unfinished, 0);
	ck_assert_uint_eq(r.hdr->dropped, 0);
	ck_assert_uint_ge(r.hdr->reserved, 16000);
	ck_assert_uint_le(r.hdr->reserved, cap);
	munmap(mem, sp_ring_bytes(cap));
	close(fd);
}
END_TEST

/* A reader of a live ring sees the slots a writer reserves while it reads.
 * Here the reader starts while `reserved` still says 16 (the writer of slot
 * 16 had taken its ticket but not yet published its pages), and the pages
 * are published when the reader is at the first record. */
struct growing {
	struct sp_ring *r;
	uint32_t real;
	uint64_t n;
};

static int visit_growing(const struct sp_record *rec, void *v)
{
	struct growing *g = v;

	(void)rec;
	if (!g->n++)
		__atomic_store_n(&g->r->hdr->reserved, g->real, __ATOMIC_RELEASE);
	return 0;
}

START_TEST(test_live_reader_sees_growth)
{
	struct sp_ring r;
	int fd;
	void *mem = map_lazy(256, SP_RING_FIRST_RECORDS, 256, &r, &fd);
	struct sp_ring_stats st;
	struct growing g = { &r, 0, 0 };

	for (uint64_t i = 0; i < 40; i++)
		put(&r, 0, i);
	g.real = r.hdr->reserved;
	ck_assert_uint_ge(g.real, 40);
	r.hdr->reserved = SP_RING_FIRST_RECORDS;
	sp_ring_read(&r, visit_growing, &g, &st);
	ck_assert_uint_eq(g.n, 40);
	ck_assert_uint_eq(st.unfinished, 0);
	munmap(mem, sp_ring_bytes(256));
	close(fd);
}
END_TEST

/* The file cannot grow (here: the mapping runs past its end, which the
 * kernel reports as it would a full filesystem): records past the
 * reserved slots are dropped and counted, never written through a page
 * that would raise SIGBUS, and the ring goes on. */
START_TEST(test_lazy_full)
{
	struct sp_ring r;
	int fd;
	void *mem = map_lazy(256, SP_RING_FIRST_RECORDS, SP_RING_FIRST_RECORDS, &r, &fd);
	struct lastseen l = { 0, 0 };
	struct sp_ring_stats st;

	for (uint64_t i = 0; i < 100; i++)
		put(&r, 0, i);
	ck_assert_uint_eq(r.hdr->dropped, 100 - SP_RING_FIRST_RECORDS);
	ck_assert_uint_eq(r.hdr->reserved, SP_RING_FIRST_RECORDS);
	/* A reader does not touch the slots beyond (here they are past the
	 * end of the file: touching one would raise SIGBUS). */
	sp_ring_read(&r, visit_first, &l, &st);
	ck_assert_uint_eq(l.n, SP_RING_FIRST_RECORDS);
	ck_assert_uint_eq(st.unfinished, 100 - SP_RING_FIRST_RECORDS);
	l = (struct lastseen){ 0, 0 };
	/* The space comes back: the next writer reserves it and is kept. */
	ck_assert_int_eq(ftruncate(fd, (off_t)sp_ring_bytes(256)), 0);
	put(&r, 0, 100);
	ck_assert_uint_eq(r.hdr->dropped, 100 - SP_RING_FIRST_RECORDS);
	sp_ring_read(&r, visit_first, &l, &st);
	ck_assert_uint_eq(l.n, SP_RING_FIRST_RECORDS + 1);
	ck_assert_uint_eq(l.first, 0);
	ck_assert_uint_eq(st.unfinished, 100 - SP_RING_FIRST_RECORDS);
	ck_assert_uint_eq(st.written, 101);
	munmap(mem, sp_ring_bytes(256));
	close(fd);
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
	tcase_add_test(tc, test_live_writer_waited_for);
	tcase_add_test(tc, test_quiesce_waits_for_writer);
	tcase_add_test(tc, test_lazy_growth);
	tcase_add_test(tc, test_lazy_full);
	tcase_add_test(tc, test_live_reader_sees_growth);
	tcase_add_test(tc, test_attach_validates);
	tcase_add_test(tc, test_capacity_rounding);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
