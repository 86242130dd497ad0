/* SPDX-License-Identifier: Apache-2.0 */
/*
 * execbench - what libstartpath.so adds to one exec of a program: fork,
 * exec, run to exit, wait; untraced, traced with the site cache warm (hit)
 * and traced with the cache emptied first (miss), the three modes taking
 * turns so that machine noise falls on all of them alike.
 *
 *   execbench ROUNDS LIB DIR CMD [ARGS...]
 *
 * DIR is the library's STARTPATH_DIR (its .sites cache is emptied before
 * each "miss" run, outside the timed part).  With EXECBENCH_LAUNCHER set
 * (startpath-exec), traced runs go through it instead of LD_PRELOAD: the
 * cost of a static program's launched exec.  With EXECBENCH_BASELIB set
 * (another build of libstartpath.so), a fourth mode takes its turn: a hit
 * with that library, so that two builds are compared in one run.  With
 * EXECBENCH_EMPTYLIB set (a shared object that does nothing), a mode
 * preloads it: what preloading any library costs, the unit the library's
 * own cost is measured in.  Prints one line:
 *   CMD plain_us hit_us miss_us [base_hit_us] [empty=EMPTY_us]   (medians)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static double run(char **cmd, const char *lib, const char *dir, int bare)
{
	double t0 = now_us();
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (lib && bare) {
			setenv("LD_PRELOAD", lib, 1);
		} else if (lib) {
			const char *l = getenv("EXECBENCH_LAUNCHER");

			setenv("STARTPATH_DIR", dir, 1);
			if (l && *l) {
				int n = 0;

				while (cmd[n])
					n++;
				char **la = calloc((size_t)n + 2, sizeof(char *));

				la[0] = (char *)l;
				memcpy(la + 1, cmd, (size_t)n * sizeof(char *));
				execv(l, la);
				_exit(127);
			}
			setenv("LD_PRELOAD", lib, 1);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return now_us() - t0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	const char *base = getenv("EXECBENCH_BASELIB"), *empty = getenv("EXECBENCH_EMPTYLIB");
	char sites[4096];
	double *t[5];
	int rounds, modes, mode[5], nm = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: execbench ROUNDS LIB DIR CMD [ARGS...]\n");
		return 2;
	}
	rounds = atoi(argv[1]);
	if (rounds < 1) {
		fprintf(stderr, "execbench: bad ROUNDS '%s'\n", argv[1]);
		return 2;
	}
	snprintf(sites, sizeof(sites), "%s/.sites", argv[3]);
	/* Modes: 0 untraced, 1 hit, 2 miss, 3 the base library, 4 empty. */
	mode[nm++] = 0, mode[nm++] = 1, mode[nm++] = 2;
	if (base && *base)
		mode[nm++] = 3;
	if (empty && *empty)
		mode[nm++] = 4;
	modes = nm;
	for (int m = 0; m < 5; m++)
		t[m] = calloc((size_t)rounds, sizeof(double));
	/* Warm up: page cache, and a cache entry for the first "hit". */
	run(argv + 4, NULL, NULL, 0);
	run(argv + 4, argv[2], argv[3], 0);
	if (base && *base)
		run(argv + 4, base, argv[3], 0);
	if (empty && *empty)
		run(argv + 4, empty, NULL, 1);
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < modes; k++) {
			int m = mode[(i + k) % modes];

			if (m == 2)
				empty_dir(sites);
			t[m][i] = m == 4 ? run(argv + 4, empty, NULL, 1)
					 : run(argv + 4, m == 3 ? base : m ? argv[2] : NULL, argv[3], 0);
			if (m == 2) /* leave a warm cache for the next hit */
				run(argv + 4, argv[2], argv[3], 0);
		}
		/* Keep DIR small: the library's files are not what is measured. */
		if (i % 16 == 15) {
			DIR *d = opendir(argv[3]);
			struct dirent *e;

			while (d && (e = readdir(d)))
				if (e->d_name[0] != '.')
					unlinkat(dirfd(d), e->d_name, 0);
			if (d)
				closedir(d);
		}
	}
	printf("%s %.1f %.1f %.1f", argv[4], median(t[0], rounds), median(t[1], rounds),
	       median(t[2], rounds));
	if (base && *base)
		printf(" %.1f", median(t[3], rounds));
	if (empty && *empty)
		printf(" empty=%.1f", median(t[4], rounds));
	printf("\n");
	return 0;
}
