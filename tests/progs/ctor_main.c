/* SPDX-License-Identifier: Apache-2.0 */
/* ctor_main: prints what libctorhook.so's constructor got. */
#include <stdio.h>

extern int ctorhook_rc, ctorhook_errno;

int main(void)
{
	printf("ctor rc=%d errno=%d\n", ctorhook_rc, ctorhook_errno);
	return 0;
}
