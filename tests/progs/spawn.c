/* SPDX-License-Identifier: Apache-2.0 */
/* spawn: posix_spawn this program ("leaf") with an empty environment, and
 * posix_spawnp "true"; then vfork+exec "leaf" the same way.  Prints the
 * child pids, exits 0 when all children exited 0. */
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int wait_ok(pid_t pid)
{
	int st;

	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(int argc, char **argv)
{
	char *leaf[] = { argv[0], "leaf", NULL };
	char *tru[] = { "true", NULL };
	char *empty[] = { NULL };
	pid_t a, b, c;
	volatile int ok = 1;

	/* A leaf makes one recorded call (the library makes a process's
	 * file at its first record): unshare(0) changes nothing. */
	if (argc > 1 && strcmp(argv[1], "leaf") == 0)
		return unshare(0) == 0 ? 0 : 3;
	if (posix_spawn(&a, argv[0], NULL, NULL, leaf, empty) != 0)
		return 1;
	ok &= wait_ok(a);
	if (posix_spawnp(&b, "true", NULL, NULL, tru, environ) != 0)
		return 1;
	ok &= wait_ok(b);
	c = vfork();
	if (c == 0) {
		execve(argv[0], leaf, empty);
		_exit(127);
	}
	if (c < 0)
		return 1;
	ok &= wait_ok(c);
	printf("spawn=%d spawnp=%d vfork=%d\n", (int)a, (int)b, (int)c);
	return ok ? 0 : 1;
}
