/* SPDX-License-Identifier: Apache-2.0 */
/*
 * retention.c - keep an output directory bounded when a daemon (containerd)
 * runs under the library for weeks: files of processes that are gone are
 * removed once they are older than STARTPATH_KEEP_AGE seconds (default one
 * day), and the oldest of them go first while the directory holds more than
 * STARTPATH_KEEP_MB megabytes (default 512) or the files of more than
 * STARTPATH_KEEP_PROCS process images (default 1000; rings take a few pages
 * each, so the megabytes alone would keep tens of thousands, and every
 * scan, and every report, would read them all).  A process that is still
 * running keeps its files.  At most one process every 10 s does the scan (the
 * one that wins the `.retention` stamp); anything unexpected just ends it.
 */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCAN_EVERY_S 10
#define MAX_FILES 100000

struct entry {
	char name[64];
	uint64_t t;        /* load time, CLOCK_MONOTONIC ns */
	uint64_t bytes;    /* allocated */
	int pid;
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long x;

	if (!v || !*v)
		return dflt;
	x = strtoull(v, &end, 10);
	if (*end) {
		sp_say_once(SP_MSG_CONFIG, "%s=%s is not a number; using %llu", name, v,
			    (unsigned long long)dflt);
		return dflt;
	}
	return x;
}

/* Take the stamp (one scan every SCAN_EVERY_S); 1 if this process should
 * scan.  Every traced process asks, so the common answer (not yet) is one
 * stat of the stamp by path: no directory opened. */
static int take_stamp(void)
{
	struct stat st;
	struct timespec now;
	char path[600];
	int fd;

	if (snprintf(path, sizeof(path), "%s/.retention", sp_s.dir) >= (int)sizeof(path))
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	if (stat(path, &st) == 0 && now.tv_sec - st.st_mtime < SCAN_EVERY_S)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return 0;
	/* Two processes may both scan at the same moment: harmless. */
	futimens(fd, NULL);
	close(fd);
	return 1;
}

/* Older than age, or from an earlier boot (its monotonic time is ahead). */
static int e_older(uint64_t now, uint64_t t, uint64_t age)
{
	return t >= now || now - t > age;
}

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->t < y->t ? -1 : x->t > y->t;
}

static void drop(int dfd, const struct entry *e)
{
	char n[80];

	snprintf(n, sizeof(n), "%s.ring", e->name);
	unlinkat(dfd, n, 0);
	snprintf(n, sizeof(n), "%s.json", e->name);
	unlinkat(dfd, n, 0);
}

void sp_retention(void)
{
	uint64_t keep_age = env_u64("STARTPATH_KEEP_AGE", 86400) * 1000000000ULL;
	uint64_t keep_bytes = env_u64("STARTPATH_KEEP_MB", 512) << 20;
	uint64_t keep_procs = env_u64("STARTPATH_KEEP_PROCS", 1000), count = 0;
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0, now;
	struct timespec ts;
	struct dirent *de;
	DIR *d;
	int dfd;

	if (!take_stamp())
		return;
	d = opendir(sp_s.dir);
	if (!d)
		return;
	dfd = dirfd(d);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	while ((de = readdir(d)) && n < MAX_FILES) {
		size_t l = strlen(de->d_name);
		struct stat st;
		struct entry e;
		unsigned long long t;
		int pid;

		if (l < 6 || l >= sizeof(e.name) + 5 || strcmp(de->d_name + l - 5, ".ring") != 0)
			continue;
		if (sscanf(de->d_name, "%d-%llu.ring", &pid, &t) != 2)
			continue;
		if (fstatat(dfd, de->d_name, &st, 0) < 0)
			continue;
		memset(&e, 0, sizeof(e));
		memcpy(e.name, de->d_name, l - 5);
		e.t = t;
		e.pid = pid;
		e.bytes = (uint64_t)st.st_blocks * 512;
		{
			char jn[80];

			snprintf(jn, sizeof(jn), "%s.json", e.name);
			if (fstatat(dfd, jn, &st, 0) == 0)
				e.bytes += (uint64_t)st.st_blocks * 512;
		}
		total += e.bytes;
		count++;
		if (pid == sp_s.pid)
			continue;
		if (n == cap) {
			struct entry *g = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!g)
				break;
			v = g;
		}
		v[n++] = e;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_age);
	for (size_t i = 0; i < n; i++) {
		int old = e_older(now, v[i].t, keep_age);

		if (!old && total <= keep_bytes && count <= keep_procs)
			break;
		/* Still running (or its pid reused): keep.  Asked only of the
		 * files that would go, not of every file in the directory. */
		if (kill(v[i].pid, 0) == 0 || errno == EPERM)
			continue;
		drop(dfd, &v[i]);
		total -= v[i].bytes < total ? v[i].bytes : total;
		count--;
	}
	free(v);
	closedir(d);
}
