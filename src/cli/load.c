/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load.c - read an output directory: per-process JSON files and ring files
 * (a ring is read where no JSON was written, or where the ring has records
 * the JSON does not: a process killed after it last wrote one), and the
 * run.json that `startpath run` leaves.
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procjson.h"
#include "ring.h"

int sp_load_quiet;
uint64_t sp_load_since;

/* With sp_load_since: a ring of a process that loaded before it and has
 * exited (or exec'd) is left out; its load time is in its name.  The
 * oldest load time of an exited process's ring goes to *oldest_exited. */
static int old_and_done(int dfd, const char *name, uint64_t *oldest_exited)
{
	struct sp_ring_hdr h;
	unsigned long long t;
	int pid, fd, done = 0;

	if (sscanf(name, "%d-%llu.ring", &pid, &t) != 2)
		return 0;
	if (!sp_load_since && t >= *oldest_exited)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.magic == SP_RING_MAGIC)
		done = (__atomic_load_n(&h.flags, __ATOMIC_RELAXED) & (SP_HF_EXITED | SP_HF_EXECED)) != 0;
	close(fd);
	if (done && t < *oldest_exited)
		*oldest_exited = t;
	return done && sp_load_since && t < sp_load_since;
}

/* A message about one file of the directory (not said when quiet). */
#define file_err(...) do { if (!sp_load_quiet) sp_err(__VA_ARGS__); } while (0)

void sp_err(const char *fmt, ...)
{
	va_list ap;

	fputs("startpath: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct sp_proc *x = a, *y = b;

	return x->t_load_ns < y->t_load_ns ? -1 : x->t_load_ns > y->t_load_ns;
}

static void load_run(struct sp_dataset *ds)
{
	char path[4096];
	size_t len;
	char *text;
	cJSON *j;

	snprintf(path, sizeof(path), "%s/run.json", ds->dir);
	text = sp_read_file(path, 256u << 20, &len);
	if (!text)
		return;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (!j) {
		sp_err("%s: not valid JSON; ignored", path);
		return;
	}
	if (sp_json_get_u64(j, "t_start_ns", &ds->run_t0) == 0 &&
	    sp_json_get_u64(j, "t_end_ns", &ds->run_t1) == 0) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");

		ds->have_run = 1;
		ds->run_status = cJSON_IsNumber(st) ? st->valueint : 0;
		if (sp_json_get_u64(j, "ready_ns", &ds->ready_ns) < 0)
			ds->ready_ns = 0;
	} else {
		sp_err("%s: t_start_ns/t_end_ns missing; ignored", path);
	}
	cJSON_Delete(j);
}

/* Load base (path without extension): JSON and/or ring. */
static int load_one(struct sp_dataset *ds, const char *base, int have_json, int have_ring)
{
	char path[4096];
	struct sp_proc pj, pr;
	struct sp_ring ring;
	int ok_json = 0, ok_ring = 0;
	const char *why;
	char err[256];

	if (have_json) {
		size_t len;
		char *text;

		snprintf(path, sizeof(path), "%s/%s.json", ds->dir, base);
		text = sp_read_file(path, 256u << 20, &len);
		if (!text) {
			file_err("%s: %s; skipped", path,
			       errno == EINVAL ? "not a regular file" : strerror(errno));
		} else if (sp_proc_from_json(text, len, &pj, err, sizeof(err)) < 0) {
			file_err("%s: %s; skipped", path, err);
		} else {
			ok_json = 1;
			pj.path = strdup(path);
		}
		free(text);
	}
	if (have_ring) {
		snprintf(path, sizeof(path), "%s/%s.ring", ds->dir, base);
		if (sp_ring_open_file(path, &ring, &why) < 0) {
			if (!ok_json)
				file_err("%s: %s; skipped", path, why);
		} else {
			uint64_t head = __atomic_load_n(&ring.hdr->head, __ATOMIC_ACQUIRE);

			/* The JSON was built from this ring: read the ring only
			 * if it has records the JSON lacks. */
			if (!ok_json || head > pj.ring_head) {
				if (sp_proc_from_ring(&ring, &pr, SP_RING_SETTLE_BUDGET) == 0) {
					ok_ring = 1;
					pr.path = strdup(path);
				} else {
					sp_err("%s: out of memory", path);
				}
			}
			sp_ring_close_file(&ring);
		}
	}
	if (!ok_json && !ok_ring) {
		ds->nbad++;
		return 0;
	}
	if (ok_ring && ok_json)
		sp_proc_free(&pj);
	ds->procs[ds->nprocs++] = ok_ring ? pr : pj;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sp_dataset_load(const char *dir, struct sp_dataset *ds)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = -1;

	memset(ds, 0, sizeof(*ds));
	d = opendir(dir);
	if (!d) {
		sp_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	ds->dir = strdup(dir);
	ds->oldest_exited = UINT64_MAX;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strcmp(e->d_name, "run.json") == 0)
			continue;
		if (!has_suffix(e->d_name, ".ring") && !has_suffix(e->d_name, ".json"))
			continue;
		if (sp_load_quiet && has_suffix(e->d_name, ".ring") &&
		    old_and_done(dirfd(d), e->d_name, &ds->oldest_exited))
			continue;
		if (n == cap) {
			char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!g)
				goto out;
			names = g;
		}
		if (!(names[n] = strdup(e->d_name)))
			goto out;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	ds->procs = calloc(n ? n : 1, sizeof(*ds->procs));
	if (!ds->procs || !ds->dir)
		goto out;
	for (size_t i = 0; i < n;) {
		char base[1024];
		int hj = 0, hr = 0;
		size_t bl = strlen(names[i]) - 5;

		snprintf(base, sizeof(base), "%.*s", (int)bl, names[i]);
		while (i < n && strncmp(names[i], base, bl) == 0 &&
		       (names[i][bl] == '.' && (strcmp(names[i] + bl, ".json") == 0 ||
						strcmp(names[i] + bl, ".ring") == 0))) {
			if (has_suffix(names[i], ".json"))
				hj = 1;
			else
				hr = 1;
			i++;
		}
		if (!hj && !hr) {
			i++;
			continue;
		}
		load_one(ds, base, hj, hr);
	}
	load_run(ds);
	if (!ds->nprocs) {
		file_err("%s: no startpath process files (*.ring, *.json)%s%s", dir,
		       ds->nbad ? " that could be read" : "",
		       ds->nbad ? "" : "; a traced process gets its file at its first recorded call (a "
				       "mount, exec, fork or clone, namespace change, or mkdir/rename "
				       "under a watched prefix): none made one");
		goto out;
	}
	qsort(ds->procs, ds->nprocs, sizeof(*ds->procs), proc_cmp);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	if (rc < 0)
		sp_dataset_free(ds);
	return rc;
}

void sp_dataset_free(struct sp_dataset *ds)
{
	for (size_t i = 0; i < ds->nprocs; i++)
		sp_proc_free(&ds->procs[i]);
	free(ds->procs);
	free(ds->dir);
	memset(ds, 0, sizeof(*ds));
}
