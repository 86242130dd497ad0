/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_exec.c - the exec family and posix_spawn.  Each exec is recorded
 * before it happens (a successful exec never returns), the per-process JSON
 * is published first, and the child's environment gets LD_PRELOAD and the
 * STARTPATH_* settings back if it lacks them - unless this process has
 * pivoted, chrooted or joined another mount namespace: that exec is a
 * container's entrypoint, which must run untouched.
 *
 * glibc's execvp, execl and posix_spawn call its internal execve directly, so
 * each is hooked here and routed to the real execve/execvpe/posix_spawn with
 * the merged environment.
 */
#include "internal.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define ENV_MAX 2048
#define ENVBUF 4096
#define ARGS_MAX 65536

/* The strings an exec record keeps: path, argv[0..3], the last argument. */
unsigned sp_exec_strs(const char *path, char *const argv[], const char *strs[6])
{
	unsigned argc = 0;

	strs[0] = path;
	for (int i = 1; i < 6; i++)
		strs[i] = "";
	if (argv) {
		while (argv[argc] && argc < ARGS_MAX)
			argc++;
		for (unsigned i = 0; i < 4 && i < argc; i++)
			strs[1 + i] = argv[i];
		if (argc > 4)
			strs[5] = argv[argc - 1];
	}
	return argc;
}

enum exec_kind { EX_VE, EX_VPE, EX_VEAT, EX_FVE };

/* Every exec hook ends here: merge the environment, record, publish the
 * JSON, exec; if the exec returns, record its failure. */
static int do_exec(enum exec_kind kind, int fd, const char *path, char *const argv[],
		   char *const envp[], int flags)
{
	static const unsigned calls[] = { SP_C_EXECVE, SP_C_EXECVE, SP_C_EXECVEAT, SP_C_FEXECVE };
	char *out[ENV_MAX];
	char buf[ENVBUF];
	const char *strs[6];
	struct sp_frame c;
	char *const *env = envp;
	int added = 0, rc;
	unsigned argc;

	if (sp_ready()) {
		env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
		argc = sp_exec_strs(kind == EX_FVE ? "" : path, argv, strs);
		sp_enter(&c, calls[kind], SP_SRC_LIBC, strs, 6, argc, (uint64_t)added,
			 kind >= EX_VEAT ? (uint64_t)fd : 0);
		sp_before_exec();
	} else {
		c.on = 0;
	}
	switch (kind) {
	case EX_VE:
		rc = REAL(execve)(path, argv, env);
		break;
	case EX_VPE:
		rc = REAL(execvpe)(path, argv, env);
		break;
	case EX_VEAT:
		rc = REAL(execveat)(fd, path, argv, env, flags);
		break;
	default:
		rc = REAL(fexecve)(fd, argv, env);
		break;
	}
	if (c.on) {
		sp_exec_failed();
		sp_exit(&c, rc, errno, 0);
	}
	return rc;
}

SP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_exec(EX_VE, -1, path, argv, envp, 0);
}

SP_EXPORT int execv(const char *path, char *const argv[])
{
	return do_exec(EX_VE, -1, path, argv, environ, 0);
}

SP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_exec(EX_VPE, -1, file, argv, envp, 0);
}

SP_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_exec(EX_VPE, -1, file, argv, environ, 0);
}

SP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	return do_exec(EX_VEAT, dirfd, path, argv, envp, flags);
}

SP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	return do_exec(EX_FVE, fd, NULL, argv, envp, 0);
}

/* execl, execlp, execle: the arguments after arg0 up to NULL become argv
 * (on the stack, as glibc does); execle's envp follows the NULL. */
static int exec_list(enum exec_kind kind, int with_env, const char *path, const char *arg0,
		     va_list ap)
{
	size_t n = 1;
	va_list cnt;
	char *const *envp = environ;

	va_copy(cnt, ap);
	while (va_arg(cnt, const char *) && n < ARGS_MAX)
		n++;
	va_end(cnt);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg0;
		for (size_t i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		argv[n] = NULL;
		if (with_env)
			envp = va_arg(ap, char *const *);
		return do_exec(kind, -1, path, argv, envp, 0);
	}
}

SP_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg0);
	rc = exec_list(EX_VE, 0, path, arg0, ap);
	va_end(ap);
	return rc;
}

SP_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg0);
	rc = exec_list(EX_VPE, 0, file, arg0, ap);
	va_end(ap);
	return rc;
}

SP_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg0);
	rc = exec_list(EX_VE, 1, path, arg0, ap);
	va_end(ap);
	return rc;
}

static int do_spawn(int search, pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
		    char *const argv[], char *const envp[])
{
	char *out[ENV_MAX];
	char buf[ENVBUF];
	const char *strs[6];
	struct sp_frame c;
	char *const *env;
	pid_t child = 0;
	int added, rc;
	unsigned argc;

	if (!sp_ready())
		return search ? REAL(posix_spawnp)(pid, path, fa, attr, argv, envp)
			      : REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
	argc = sp_exec_strs(path, argv, strs);
	sp_enter(&c, SP_C_POSIX_SPAWN, SP_SRC_LIBC, strs, 6, argc, (uint64_t)added, 0);
	rc = search ? REAL(posix_spawnp)(&child, path, fa, attr, argv, env)
		    : REAL(posix_spawn)(&child, path, fa, attr, argv, env);
	if (pid)
		*pid = child;
	/* posix_spawn returns an error number; errno is left alone. */
	{
		int saved = errno;

		sp_exit(&c, rc, rc, rc ? 0 : (uint64_t)child);
		errno = saved;
	}
	return rc;
}

SP_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return do_spawn(0, pid, path, fa, attr, argv, envp);
}

SP_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	return do_spawn(1, pid, file, fa, attr, argv, envp);
}
