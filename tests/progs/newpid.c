/* SPDX-License-Identifier: Apache-2.0 */
/* newpid: fork a child into a new pid namespace, as a runtime makes a
 * container's first process: the child (pid 1 there) records one call
 * (unshare(0)) and is then killed by its parent, leaving no exit behind (as
 * after its exec into the container).  Prints the child's pid as this
 * namespace sees it.  Needs root. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int p[2], st;
	char b;
	long c;

	if (pipe(p) < 0)
		return 1;
	c = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, 0, 0, 0);
	if (c == 0) {
		close(p[0]);
		if (unshare(0) == 0 && write(p[1], "x", 1) == 1)
			for (;;)
				pause();
		_exit(1);
	}
	close(p[1]);
	if (c < 0 || read(p[0], &b, 1) != 1)
		return 1;
	kill((pid_t)c, SIGKILL);
	if (waitpid((pid_t)c, &st, 0) < 0 || !WIFSIGNALED(st))
		return 1;
	printf("%ld\n", c);
	return 0;
}
