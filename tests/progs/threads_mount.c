/* SPDX-License-Identifier: Apache-2.0 */
/* threads_mount DIR T N [fill FILE]: T threads each mount and unmount a
 * tmpfs on DIR/<thread> N times, all at once.  Run in unshare -m.  With
 * "fill FILE", first make one recorded call (unshare(0): the library makes
 * its ring then), then write FILE until its filesystem is full (the ring
 * then has no room to grow). */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const char *base;
static int per;
static int failures;

static void *worker(void *arg)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/t%ld", base, (long)arg);
	mkdir(dir, 0755);
	for (int i = 0; i < per; i++) {
		if (mount("sptmp", dir, "tmpfs", 0, "size=64k") < 0 || umount2(dir, 0) < 0)
			__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int t = argc > 2 ? atoi(argv[2]) : 8;
	pthread_t th[64];

	if (argc < 4 || t < 1 || t > 64) {
		fprintf(stderr, "usage: threads_mount DIR T N\n");
		return 2;
	}
	base = argv[1];
	per = atoi(argv[3]);
	if (argc > 5 && strcmp(argv[4], "fill") == 0) {
		static char zero[65536];
		int fd = unshare(0) == 0 ? open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;

		if (fd < 0) {
			perror(argv[5]);
			return 2;
		}
		while (write(fd, zero, sizeof(zero)) > 0)
			;
		while (write(fd, zero, 512) > 0)
			;
		close(fd);
	}
	for (long i = 0; i < t; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	printf("threads=%d per=%d failures=%d\n", t, per, failures);
	return failures ? 1 : 0;
}
