/* SPDX-License-Identifier: Apache-2.0 */
/* sleeper N: make N hooked calls (umount2 of a missing path, each failing),
 * say "ready" on stdout, then sleep until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;

	for (int i = 0; i < n; i++)
		umount2("/startpath-sleeper/does-not-exist", 0);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
