/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ids: print the real and effective uid.  Built static too (ids_static):
 * a setuid copy shows whether exec gave it its privilege.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
	return 0;
}
