/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ringbench [CAPACITY] - records per second through the ring (reserve,
 * fill a typical mount record, commit) with 1, 2 and 8 producer threads.
 * CAPACITY in records: 1024 is what a runtime process gets, 16384 what
 * containerd gets.  Prints "threads capacity Mrecords/s ns/record/thread".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "ring.h"
#include "record.h"

#define PER 2000000L

static struct sp_ring ring;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *producer(void *arg)
{
	const char *strs[4] = { "overlay", "/run/containerd/x/rootfs", "overlay", "index=off" };
	int tid = (int)(long)arg;

	for (long i = 0; i < PER; i++) {
		uint64_t t;
		struct sp_record *r = sp_ring_reserve(&ring, &t);

		r->t_ns = (uint64_t)i;
		r->pid = 1;
		r->tid = tid;
		r->kind = SP_K_ENTER;
		r->call = SP_C_MOUNT;
		r->arg[0] = (uint64_t)i;
		sp_rec_put_strs(r, strs, 4);
		sp_ring_commit(r, t);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	uint32_t cap = argc > 1 ? (uint32_t)atoi(argv[1]) : 1024;
	void *mem = mmap(NULL, sp_ring_bytes(cap), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int counts[] = { 1, 2, 8 };

	if (cap < 64 || (cap & (cap - 1)) || mem == MAP_FAILED) {
		fprintf(stderr, "ringbench: capacity must be a power of two >= 64\n");
		return 2;
	}
	sp_ring_init(&ring, mem, cap);
	for (size_t k = 0; k < 3; k++) {
		pthread_t th[8];
		double t0 = now(), dt;

		for (int i = 0; i < counts[k]; i++)
			pthread_create(&th[i], NULL, producer, (void *)(long)i);
		for (int i = 0; i < counts[k]; i++)
			pthread_join(th[i], NULL);
		dt = now() - t0;
		printf("%d %u %.2f %.1f\n", counts[k], cap, counts[k] * PER / dt / 1e6, dt * 1e9 / PER);
	}
	return 0;
}
