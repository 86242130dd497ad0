/* SPDX-License-Identifier: Apache-2.0 */
/* caller [N]: make N (default: forever) hooked calls - umount2 of a missing
 * path, each failing at once - and after each one print how many have
 * returned, so a test that kills it knows what must have been recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 0; n < 0 || i < n; i++) {
		umount2("/startpath-caller/does-not-exist", 0);
		printf("%ld\n", i + 1);
	}
	return 0;
}
