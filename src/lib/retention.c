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
 *
 * "Still running" is asked with kill(pid, 0), which answers in the caller's
 * pid namespace, of a pid that names the file as the writer's /proc saw it.
 * So it is asked only when both are the same namespace (the ring header's
 * pidns, and ours); a file of any other process goes only once its header
 * says the process exited.  Only regular files named like a ring are ever
 * removed, and nothing here follows a link or opens a FIFO.
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

/* Take the stamp (one scan every SCAN_EVERY_S); 1 if this process should
 * scan.  Every traced process asks, so the common answer (not yet) is one
 * stat of the stamp by path: no directory opened. */
static int take_stamp(int dfd)
{
	struct stat st;
	struct timespec now;
	int fd;

	clock_gettime(CLOCK_REALTIME, &now);
	if (fstatat(dfd, ".retention", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now.tv_sec - st.st_mtime < SCAN_EVERY_S)
		return 0;
	fd = openat(dfd, ".retention", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		    0600);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	/* Two processes may both scan at the same moment: harmless. */
	futimens(fd, NULL);
	close(fd);
	return 1;
}

/* Can it go?  Its process is known to be gone: it exited, or its pid is
 * free in the namespace that named the file, which is ours. */
static int gone(int dfd, const struct entry *e)
{
	struct sp_ring_hdr h;
	char n[80];
	ssize_t got;
	int fd;

	snprintf(n, sizeof(n), "%s.ring", e->name);
	fd = openat(dfd, n, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	got = pread(fd, &h, sizeof(h), 0);
	close(fd);
	/* No header: no process records into it (a ring gets its header
	 * microseconds after it is made, and the newest files go last). */
	if (got != (ssize_t)sizeof(h) || h.magic != SP_RING_MAGIC)
		return 1;
	if (__atomic_load_n(&h.flags, __ATOMIC_RELAXED) & SP_HF_EXITED)
		return 1;
	if (!sp_s.pidns || h.pidns != sp_s.pidns || h.host_pid != e->pid)
		return 0; /* another namespace's pid: cannot be asked here */
	return kill(e->pid, 0) < 0 && errno == ESRCH;
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

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Append e to the array *v of *n (room for *cap); 0 when out of memory. */
static int add(struct entry **v, size_t *n, size_t *cap, const struct entry *e)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct entry *g = realloc(*v, c * sizeof(**v));

		if (!g)
			return 0;
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = *e;
	return 1;
}

static void drop(int dfd, const struct entry *e)
{
	char n[80];

	snprintf(n, sizeof(n), "%s.ring", e->name);
	unlinkat(dfd, n, 0);
	snprintf(n, sizeof(n), "%s.json", e->name);
	unlinkat(dfd, n, 0);
}

void sp_retention(int dfd)
{
	uint64_t keep_age = sp_s.keep_age_s * 1000000000ULL;
	uint64_t keep_bytes = sp_s.keep_mb << 20;
	uint64_t keep_procs = sp_s.keep_procs, count = 0;
	struct entry *v = NULL, *j = NULL;
	size_t n = 0, cap = 0, nj = 0, capj = 0;
	uint64_t total = 0, now;
	struct timespec ts;
	struct dirent *de;
	DIR *d;
	int sfd;

	if (!take_stamp(dfd))
		return;
	sfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return;
	d = fdopendir(sfd);
	if (!d) {
		close(sfd);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	while ((de = readdir(d)) && n + nj < MAX_FILES) {
		size_t l = strlen(de->d_name);
		struct stat st;
		struct entry e;
		unsigned long long t;
		int pid, json;

		if (l < 6 || l >= sizeof(e.name) + 5 ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
			continue;
		json = strcmp(de->d_name + l - 5, ".json") == 0;
		if ((!json && strcmp(de->d_name + l - 5, ".ring") != 0) ||
		    sscanf(de->d_name, json ? "%d-%llu.json" : "%d-%llu.ring", &pid, &t) != 2)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		memset(&e, 0, sizeof(e));
		memcpy(e.name, de->d_name, l - 5);
		e.t = t;
		e.pid = pid;
		e.bytes = (uint64_t)st.st_blocks * 512;
		total += e.bytes;
		if (json) {
			/* Written by older versions (and read by the CLI): its
			 * bytes count with its ring's, found below. */
			if (!add(&j, &nj, &capj, &e))
				break;
			continue;
		}
		count++;
		if (pid == sp_s.pid)
			continue;
		if (!add(&v, &n, &cap, &e))
			break;
	}
	if (nj && n) {
		qsort(v, n, sizeof(*v), by_name);
		qsort(j, nj, sizeof(*j), by_name);
		for (size_t a = 0, b = 0; a < n && b < nj;) {
			int c = strcmp(v[a].name, j[b].name);

			if (c == 0)
				v[a].bytes += j[b].bytes;
			a += c <= 0;
			b += c >= 0;
		}
	}
	free(j);
	if (n)
		qsort(v, n, sizeof(*v), by_age);
	for (size_t i = 0; i < n; i++) {
		int old = e_older(now, v[i].t, keep_age);

		if (!old && total <= keep_bytes && count <= keep_procs)
			break;
		/* Still running, its pid reused, or not known: keep.  Asked
		 * only of the files that would go, not of every file. */
		if (!gone(dfd, &v[i]))
			continue;
		drop(dfd, &v[i]);
		total -= v[i].bytes < total ? v[i].bytes : total;
		count--;
	}
	free(v);
	closedir(d);
}
