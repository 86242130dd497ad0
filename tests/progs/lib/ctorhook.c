/* SPDX-License-Identifier: Apache-2.0 */
/* libctorhook.so: its constructor makes a hooked call (umount2 of a path
 * that does not exist) before libstartpath.so's own constructor may have
 * run, and keeps the result for ctor_main to print. */
#include <errno.h>
#include <sys/mount.h>

int ctorhook_rc, ctorhook_errno;

__attribute__((constructor)) static void early(void)
{
	ctorhook_rc = umount2("/startpath-ctor-test/does-not-exist", 0);
	ctorhook_errno = errno;
}
