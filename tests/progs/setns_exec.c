/* SPDX-License-Identifier: Apache-2.0 */
/*
 * setns_exec HOW NSFILE PROG [ARGS...]: join the mount namespace NSFILE
 * (a /proc/PID/ns/mnt) with nstype 0, the way a runtime may enter a
 * container, then exec PROG with this process's environment.  HOW is how
 * the call is made: `libc` (glibc's setns), `syscall` (libc's syscall()) or
 * `raw` (a syscall instruction in this program's text, as Go makes it).
 * Exit 111 if the join fails.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

long raw_setns(long fd, long nstype);
__asm__(".text\n.globl raw_setns\n.type raw_setns,@function\nraw_setns:\n"
	"  mov $308,%eax\n  mov %rdi,%rdi\n  mov %rsi,%rsi\n  syscall\n  ret\n"
	".size raw_setns,.-raw_setns\n");

int main(int argc, char **argv)
{
	long rc;
	int fd;

	if (argc < 4) {
		fprintf(stderr, "usage: setns_exec libc|syscall|raw NSFILE PROG [ARGS...]\n");
		return 2;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 111;
	}
	if (strcmp(argv[1], "libc") == 0)
		rc = setns(fd, 0);
	else if (strcmp(argv[1], "syscall") == 0)
		rc = syscall(SYS_setns, fd, 0);
	else
		rc = raw_setns(fd, 0);
	if (rc != 0) {
		fprintf(stderr, "setns: %ld\n", rc);
		return 111;
	}
	close(fd);
	execve(argv[3], argv + 3, environ);
	perror(argv[3]);
	return 127;
}
