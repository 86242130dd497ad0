/* SPDX-License-Identifier: Apache-2.0 */
/* mount_tmpfs DIR N: mount a tmpfs on DIR and unmount it, N times.
 * Run in a private mount namespace (unshare -m). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mount.h>

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 1;

	if (argc < 2) {
		fprintf(stderr, "usage: mount_tmpfs DIR [N]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		if (mount("sptmp", argv[1], "tmpfs", MS_NOSUID, "size=1m,mode=0755") < 0) {
			fprintf(stderr, "mount: %s\n", strerror(errno));
			return 1;
		}
		if (umount2(argv[1], 0) < 0) {
			fprintf(stderr, "umount2: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("mounted %d\n", n);
	return 0;
}
