/* SPDX-License-Identifier: Apache-2.0 */
/* errno_check: hooked calls that fail, and what they return and leave in
 * errno; printed so a run with and without the library can be compared.
 * Also checks that a successful hooked call leaves errno alone. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SHOW(expr) do { \
	long r_; \
	errno = 0; \
	r_ = (long)(expr); \
	printf("%-40s rc=%ld errno=%d\n", #expr, r_, errno); \
} while (0)

int main(void)
{
	char *argv[] = { "nope", NULL };
	char *envp[] = { NULL };

	SHOW(mount("none", "/startpath-errno/none", "tmpfs", 0, NULL));
	SHOW(umount2("/startpath-errno/none", 0));
	SHOW(umount("/startpath-errno/none"));
	SHOW(chroot("/startpath-errno/none"));
	SHOW(setns(-1, 0));
	SHOW(unshare(-1));
	SHOW(execve("/startpath-errno/none", argv, envp));
	SHOW(execvp("startpath-errno-none", argv));
	SHOW(mkdir("/startpath-errno/none/x", 0755));
	SHOW(syscall(SYS_umount2, "/startpath-errno/none", 0));
	SHOW(syscall(SYS_mount, "none", "/startpath-errno/none", "tmpfs", 0, NULL));
	SHOW(syscall(SYS_pivot_root, "/startpath-errno/a", "/startpath-errno/b"));
	SHOW(syscall(SYS_getpid) > 0);
	/* A call that succeeds must not change errno. */
	errno = 1234;
	syscall(SYS_getpid);
	printf("errno kept after success: %d\n", errno);
	errno = 4321;
	umount2("/startpath-errno/none", 0);
	errno = 4321;
	unshare(0);
	printf("errno kept after unshare(0): %d\n", errno);
	return 0;
}
