/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ring.c - lock-free record ring.  Writers: one fetch-add for a ticket, plain
 * stores for the payload, a release store of seq = ticket + 1.  Readers check
 * seq before and after copying a slot (a seqlock), so a record overwritten or
 * still being written is counted as lost instead of being read torn.
 */
#include "ring.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

_Static_assert(sizeof(struct sp_record) == SP_REC_SIZE, "record size");
_Static_assert(offsetof(struct sp_record, data) == SP_REC_HDR, "record header");
_Static_assert(sizeof(struct sp_ring_hdr) <= SP_HDR_SIZE, "ring header");

size_t sp_ring_bytes(uint32_t capacity)
{
	return SP_HDR_SIZE + (size_t)capacity * SP_REC_SIZE;
}

uint32_t sp_ring_capacity(uint64_t want)
{
	uint32_t c = SP_RING_MIN_RECORDS;

	while (c < want && c < SP_RING_MAX_RECORDS)
		c <<= 1;
	return c;
}

void sp_ring_init(struct sp_ring *r, void *mem, uint32_t capacity)
{
	struct sp_ring_hdr *h = mem;

	h->magic = SP_RING_MAGIC;
	h->version = SP_RING_VERSION;
	h->hdr_size = SP_HDR_SIZE;
	h->rec_size = SP_REC_SIZE;
	h->capacity = capacity;
	r->hdr = h;
	r->recs = (struct sp_record *)((char *)mem + SP_HDR_SIZE);
	r->mask = capacity - 1;
	r->map_size = sp_ring_bytes(capacity);
}

/* madvise without errno: a writer may run on a thread with no usable TLS. */
static long ring_madvise(void *addr, size_t len, int advice)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_madvise), "D"(addr), "S"(len), "d"((long)advice)
			 : "rcx", "r11", "memory");
	return ret;
}

int sp_ring_grow(struct sp_ring *r, uint32_t want)
{
	const uint32_t per_page = 4096 / SP_REC_SIZE;
	uint32_t cap = r->mask + 1;
	uint32_t have = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);

	while (have && have < want) {
		/* Double, but by at most SP_RING_GROW_MAX records, so that no
		 * call pays for reserving megabytes (a daemon's 8 MiB ring). */
		uint32_t step = have < SP_RING_GROW_MAX ? have : SP_RING_GROW_MAX;
		uint32_t to = want > have + step ? want : have + step;
		long rc;

		to = (to + per_page - 1) / per_page * per_page;
		if (to > cap)
			to = cap;
		rc = ring_madvise((char *)r->recs + (size_t)have * SP_REC_SIZE,
				  (size_t)(to - have) * SP_REC_SIZE, MADV_POPULATE_WRITE);
		if (rc < 0)
			return (int)rc;
		/* On failure `have` is reloaded; someone else may have reserved more. */
		while (have < to && !__atomic_compare_exchange_n(&r->hdr->reserved, &have, to, 0,
								 __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			;
	}
	return 0;
}

/* Where a record goes that has no reserved page: written, never read. */
static struct sp_record ring_scratch;

struct sp_record *sp_ring_reserve(struct sp_ring *r, uint64_t *ticket)
{
	uint64_t t = __atomic_fetch_add(&r->hdr->head, 1, __ATOMIC_RELAXED);
	uint32_t slot = (uint32_t)(t & r->mask);
	struct sp_record *rec = &r->recs[slot];
	uint32_t res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);

	if (__builtin_expect(res && slot >= res, 0) && sp_ring_grow(r, slot + 1) < 0) {
		__atomic_fetch_add(&r->hdr->dropped, 1, __ATOMIC_RELAXED);
		*ticket = t;
		return &ring_scratch;
	}

	__atomic_store_n(&rec->seq, 0, __ATOMIC_RELAXED);
	/* seq = 0 must be visible before any payload store. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	*ticket = t;
	return rec;
}

void sp_ring_commit(struct sp_record *rec, uint64_t ticket)
{
	__atomic_store_n(&rec->seq, ticket + 1, __ATOMIC_RELEASE);
}

int sp_ring_attach(struct sp_ring *r, void *mem, size_t size, const char **why)
{
	const struct sp_ring_hdr *h = mem;

	if (size < SP_HDR_SIZE) {
		*why = "file shorter than a ring header";
		return -1;
	}
	if (h->magic != SP_RING_MAGIC) {
		*why = "not a startpath ring (bad magic)";
		return -1;
	}
	if (h->version != SP_RING_VERSION || h->hdr_size != SP_HDR_SIZE ||
	    h->rec_size != SP_REC_SIZE) {
		*why = "unsupported ring version or layout";
		return -1;
	}
	if (h->capacity < SP_RING_MIN_RECORDS || h->capacity > SP_RING_MAX_RECORDS ||
	    (h->capacity & (h->capacity - 1))) {
		*why = "bad ring capacity";
		return -1;
	}
	if (size < sp_ring_bytes(h->capacity)) {
		*why = "ring file truncated";
		return -1;
	}
	r->hdr = mem;
	r->recs = (struct sp_record *)((char *)mem + SP_HDR_SIZE);
	r->mask = h->capacity - 1;
	r->map_size = size;
	return 0;
}

int sp_ring_open_file(const char *path, struct sp_ring *r, const char **why)
{
	struct stat st;
	void *mem;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*why = "cannot open";
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return -1;
	}
	if (st.st_size < SP_HDR_SIZE) {
		close(fd);
		*why = "file shorter than a ring header";
		return -1;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (mem == MAP_FAILED) {
		*why = "cannot map";
		return -1;
	}
	if (sp_ring_attach(r, mem, (size_t)st.st_size, why) < 0) {
		munmap(mem, (size_t)st.st_size);
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}

void sp_ring_close_file(struct sp_ring *r)
{
	if (r->hdr)
		munmap(r->hdr, r->map_size);
	memset(r, 0, sizeof(*r));
}

/* A pause of `ns` without errno or libc (the launcher links this file). */
static void ring_pause(long ns)
{
	struct {
		long sec, nsec;
	} ts = { 0, ns };
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_nanosleep), "D"(&ts), "S"(0L)
			 : "rcx", "r11", "memory");
	(void)ret;
}

/* Wait, within *budget pauses, for slot t to be reserved and published (a
 * live writer between its ticket and its commit).  1 if it was. */
static int ring_settle(const struct sp_ring *r, uint64_t t, uint32_t *res, unsigned *budget)
{
	const struct sp_record *rec = &r->recs[t & r->mask];

	while (*budget) {
		ring_pause(SP_RING_SETTLE_NS);
		--*budget;
		*res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);
		if (*res && (t & r->mask) >= *res)
			continue;
		if (__atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE) >= t + 1)
			return 1;
	}
	return 0;
}

void sp_ring_quiesce(struct sp_ring *r, unsigned budget)
{
	uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	uint64_t t = head > SP_RING_QUIESCE_SLOTS ? head - SP_RING_QUIESCE_SLOTS : 0;
	uint32_t res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);

	if (head - t > (uint64_t)r->mask + 1)
		t = head - ((uint64_t)r->mask + 1);
	for (; t < head && budget; t++) {
		if (res && (t & r->mask) >= res)
			res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);
		if ((!res || (t & r->mask) < res) &&
		    __atomic_load_n(&r->recs[t & r->mask].seq, __ATOMIC_ACQUIRE) >= t + 1)
			continue;
		(void)ring_settle(r, t, &res, &budget);
	}
}

int sp_ring_read_wait(const struct sp_ring *r, sp_ring_visit_fn fn, void *ctx,
		      struct sp_ring_stats *st, unsigned budget)
{
	uint64_t head = __atomic_load_n(&r->hdr->head, __ATOMIC_ACQUIRE);
	uint64_t cap = (uint64_t)r->mask + 1;
	uint64_t t = head > cap ? head - cap : 0;
	uint32_t res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);
	struct sp_record copy;

	memset(st, 0, sizeof(*st));
	st->written = head;
	st->overwritten = t;
	for (; t < head; t++) {
		const struct sp_record *rec = &r->recs[t & r->mask];
		uint64_t s1;

		if (res && (t & r->mask) >= res) {
			/* Beyond the pages reserved when we looked: a writer may
			 * have reserved more since (a live ring); look again. */
			res = __atomic_load_n(&r->hdr->reserved, __ATOMIC_ACQUIRE);
		}
		if (res && (t & r->mask) >= res && !ring_settle(r, t, &res, &budget)) {
			/* No page: dropped (the filesystem was full), or being
			 * reserved right now.  Not touched. */
			st->unfinished++;
			continue;
		}
		s1 = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);
		if (s1 < t + 1 && ring_settle(r, t, &res, &budget))
			s1 = __atomic_load_n(&rec->seq, __ATOMIC_ACQUIRE);

		if (s1 != t + 1) {
			if (s1 > t + 1)
				st->overwritten++;
			else
				st->unfinished++;
			continue;
		}
		memcpy(&copy, rec, sizeof(copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&rec->seq, __ATOMIC_RELAXED) != s1) {
			st->overwritten++;
			continue;
		}
		if (copy.nstr > SP_REC_DATA)
			copy.nstr = 0;
		copy.data[SP_REC_DATA - 1] = '\0';
		st->read++;
		if (fn(&copy, ctx))
			return 1;
	}
	return 0;
}

int sp_ring_read(const struct sp_ring *r, sp_ring_visit_fn fn, void *ctx,
		 struct sp_ring_stats *st)
{
	return sp_ring_read_wait(r, fn, ctx, st, 0);
}
