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

/* Record the enter of an exec-like call. */
static void exec_enter(struct sp_frame *c, unsigned call, const char *path,
		       char *const argv[], int added, uint64_t a2)
{
	const char *strs[6] = { path, "", "", "", "", "" };
	unsigned argc = 0;

	if (argv) {
		while (argv[argc] && argc < ARGS_MAX)
			argc++;
		for (unsigned i = 0; i < 4 && i < argc; i++)
			strs[1 + i] = argv[i];
		if (argc > 4)
			strs[5] = argv[argc - 1];
	}
	sp_enter(c, call, SP_SRC_LIBC, strs, 6, argc, (uint64_t)added, a2);
}

static int do_execve(unsigned call, const char *path, char *const argv[],
		     char *const envp[], int search)
{
	char *out[ENV_MAX];
	char buf[ENVBUF];
	struct sp_frame c;
	char *const *env;
	int added, rc;

	if (!sp_ready())
		return search ? REAL(execvpe)(path, argv, envp) : REAL(execve)(path, argv, envp);
	env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
	exec_enter(&c, call, path, argv, added, 0);
	sp_before_exec();
	rc = search ? REAL(execvpe)(path, argv, env) : REAL(execve)(path, argv, env);
	sp_exec_failed();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(SP_C_EXECVE, path, argv, envp, 0);
}

SP_EXPORT int execv(const char *path, char *const argv[])
{
	return do_execve(SP_C_EXECVE, path, argv, environ, 0);
}

SP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execve(SP_C_EXECVE, file, argv, envp, 1);
}

SP_EXPORT int execvp(const char *file, char *const argv[])
{
	return do_execve(SP_C_EXECVE, file, argv, environ, 1);
}

/* Count the variadic arguments after arg0, up to the NULL. */
#define COUNT_VA(arg0, n) do { \
	va_list cnt; \
	va_start(cnt, arg0); \
	for (n = 1; va_arg(cnt, const char *) && n < ARGS_MAX; n++) \
		; \
	va_end(cnt); \
} while (0)

SP_EXPORT int execl(const char *path, const char *arg0, ...)
{
	size_t n;
	va_list ap;

	COUNT_VA(arg0, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg0;
		va_start(ap, arg0);
		for (size_t i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		va_end(ap);
		argv[n] = NULL;
		return do_execve(SP_C_EXECVE, path, argv, environ, 0);
	}
}

SP_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	size_t n;
	va_list ap;

	COUNT_VA(arg0, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg0;
		va_start(ap, arg0);
		for (size_t i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		va_end(ap);
		argv[n] = NULL;
		return do_execve(SP_C_EXECVE, file, argv, environ, 1);
	}
}

SP_EXPORT int execle(const char *path, const char *arg0, ...)
{
	size_t n;
	va_list ap;
	char *const *envp;

	COUNT_VA(arg0, n);
	{
		char *argv[n + 1];

		argv[0] = (char *)arg0;
		va_start(ap, arg0);
		for (size_t i = 1; i <= n; i++)
			argv[i] = va_arg(ap, char *);
		envp = va_arg(ap, char *const *);
		va_end(ap);
		argv[n] = NULL;
		return do_execve(SP_C_EXECVE, path, argv, envp, 0);
	}
}

SP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
		       int flags)
{
	char *out[ENV_MAX];
	char buf[ENVBUF];
	struct sp_frame c;
	char *const *env;
	int added, rc;

	if (!sp_ready())
		return REAL(execveat)(dirfd, path, argv, envp, flags);
	env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
	exec_enter(&c, SP_C_EXECVEAT, path, argv, added, (uint64_t)dirfd);
	sp_before_exec();
	rc = REAL(execveat)(dirfd, path, argv, env, flags);
	sp_exec_failed();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	char *out[ENV_MAX];
	char buf[ENVBUF];
	struct sp_frame c;
	char *const *env;
	int added, rc;

	if (!sp_ready())
		return REAL(fexecve)(fd, argv, envp);
	env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
	exec_enter(&c, SP_C_FEXECVE, "", argv, added, (uint64_t)fd);
	sp_before_exec();
	rc = REAL(fexecve)(fd, argv, env);
	sp_exec_failed();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

static int do_spawn(int search, pid_t *pid, const char *path,
		    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
		    char *const argv[], char *const envp[])
{
	char *out[ENV_MAX];
	char buf[ENVBUF];
	struct sp_frame c;
	char *const *env;
	pid_t child = 0;
	int added, rc;

	if (!sp_ready())
		return search ? REAL(posix_spawnp)(pid, path, fa, attr, argv, envp)
			      : REAL(posix_spawn)(pid, path, fa, attr, argv, envp);
	env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
	exec_enter(&c, SP_C_POSIX_SPAWN, path, argv, added, 0);
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
