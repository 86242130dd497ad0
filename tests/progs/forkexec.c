/* SPDX-License-Identifier: Apache-2.0 */
/* forkexec chain N: fork, and in the child exec this program again with
 * N-1 and an EMPTY environment (the library must carry itself over), down
 * to 0.  Exits with the depth it reached, so the chain is checked too.
 * forkexec env PROG: fork, and in the child exec PROG (no arguments) with
 * an empty environment; then print "child=PID" (PROG's pid). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 0;
	char num[16];
	char *args[] = { argv[0], "chain", num, NULL };
	char *empty[] = { NULL };
	int st;
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "env") == 0) {
		char *prog[] = { argv[2], NULL };

		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 100;
		if (pid == 0) {
			execve(argv[2], prog, empty);
			_exit(101);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 102;
		printf("child=%d\n", (int)pid);
		return 0;
	}
	if (argc < 3 || strcmp(argv[1], "chain") != 0) {
		fprintf(stderr, "usage: forkexec chain N | forkexec env PROG\n");
		return 2;
	}
	if (n <= 0)
		return 0;
	snprintf(num, sizeof(num), "%d", n - 1);
	pid = fork();
	if (pid < 0)
		return 100;
	if (pid == 0) {
		execve(argv[0], args, empty);
		_exit(101);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) >= 100)
		return 102;
	return WEXITSTATUS(st) + 1;
}
