/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libtime - the time a timing build of libstartpath.so (make SELFTIME=1)
 * spent inside itself, as its rings' headers say: summed over every ring
 * file of DIR.
 *
 *   libtime DIR
 *
 * Prints one line: rings, then nanoseconds at load, in calls, in fork
 * children, preparing execs, at exit, making the ring, applying the patch
 * plan, and their total.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "startpath.h"

int main(int argc, char **argv)
{
	unsigned long long sum[SP_COST_N] = { 0 }, total = 0;
	struct sp_ring_hdr h;
	struct dirent *e;
	unsigned rings = 0;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: libtime DIR\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 2;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		int fd;

		if (l < 6 || strcmp(e->d_name + l - 5, ".ring") != 0)
			continue;
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.magic == SP_RING_MAGIC) {
			rings++;
			for (int i = 0; i < SP_COST_N; i++) {
				sum[i] += h.cost_ns[i];
				total += h.cost_ns[i];
			}
		}
		close(fd);
	}
	closedir(d);
	printf("%u", rings);
	for (int i = 0; i < SP_COST_N; i++)
		printf(" %llu", sum[i]);
	printf(" %llu\n", total);
	return 0;
}
