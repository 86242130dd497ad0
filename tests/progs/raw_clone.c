/* SPDX-License-Identifier: Apache-2.0 */
/* raw_clone: process creation through libc's syscall(): a fork-style clone
 * whose child execs through syscall(SYS_execve) with an empty environment,
 * a fork-style clone3, and an exit through syscall(SYS_exit_group, 3).
 * (A vfork-style clone cannot be made safely through syscall() from C: the
 * child's next call overwrites the parent's return address.) */
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int wait_ok(long pid)
{
	int st;

	return pid > 0 && waitpid((pid_t)pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	char *leaf[] = { argv[0], "leaf", NULL };
	char *empty[] = { NULL };
	struct clone_args ca;
	long a, b, c;
	int ok = 1;

	/* One recorded call: the leaf's file comes with its first record. */
	if (argc > 1 && strcmp(argv[1], "leaf") == 0)
		return unshare(0) == 0 ? 0 : 3;
	a = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (a == 0) {
		syscall(SYS_execve, argv[0], leaf, empty);
		_exit(127);
	}
	ok &= wait_ok(a);
	b = syscall(SYS_clone, SIGCHLD | CLONE_PARENT_SETTID, 0, 0, 0, 0);
	if (b == 0)
		_exit(0);
	ok &= wait_ok(b);
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	c = syscall(SYS_clone3, &ca, sizeof(ca));
	if (c == 0)
		_exit(0);
	ok &= wait_ok(c);
	printf("clone=%ld clone2=%ld clone3=%ld ok=%d\n", a, b, c, ok);
	fflush(stdout);
	syscall(SYS_exit_group, ok ? 3 : 1);
	return 1;
}
