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

#include <elf.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

/* ---- static programs go through startpath-exec ---- */

/* The launcher: STARTPATH_EXEC as it was at load, else next to the library
 * (build/lib -> build/bin, $libdir -> $prefix/bin), else the library's own
 * directory. */
static const char *launcher(void)
{
	static char path[600];
	static int done;

	if (done)
		return path[0] ? path : NULL;
	if (sp_s.launcher[0]) {
		snprintf(path, sizeof(path), "%s", sp_s.launcher);
	} else if (sp_s.libpath[0]) {
		const char *slash = strrchr(sp_s.libpath, '/');
		int dl = (int)(slash - sp_s.libpath);

		snprintf(path, sizeof(path), "%.*s/../bin/startpath-exec", dl, sp_s.libpath);
		if (access(path, X_OK) != 0)
			snprintf(path, sizeof(path), "%.*s/startpath-exec", dl, sp_s.libpath);
	}
	if (path[0] && access(path, X_OK) != 0)
		path[0] = '\0';
	done = 1;
	return path[0] ? path : NULL;
}

/* Is a debugger or tracer attached (TracerPid in /proc/self/status)?  Its
 * inferior must be the program it asked for, not the launcher: gdb could
 * not set a breakpoint in a static program started through it. */
static int being_traced(void)
{
	char buf[1024];
	long fd = sp_raw_syscall6(SYS_openat, AT_FDCWD, (long)"/proc/self/status",
				  O_RDONLY | O_CLOEXEC, 0, 0, 0), n;
	const char *t;

	if (fd < 0)
		return 0;
	n = sp_raw_syscall6(SYS_read, fd, (long)buf, sizeof(buf) - 1, 0, 0, 0);
	sp_raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	t = strstr(buf, "TracerPid:");
	if (!t)
		return 0;
	for (t += 10; *t == ' ' || *t == '\t'; t++)
		;
	return *t >= '1' && *t <= '9';
}

static int static_target(int dirfd, const char *path, int at_flags)
{
	union {
		Elf64_Ehdr e;
		char b[4096];
	} u;
	char fdpath[40];
	struct stat st;
	long fd, n;

	if (sp_s.contained || sp_s.no_redirect)
		return -1;
	if ((at_flags & AT_EMPTY_PATH) && path && !*path) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", dirfd);
		path = fdpath;
		dirfd = AT_FDCWD;
	}
	if (!path || !*path)
		return -1;
	fd = sp_raw_syscall6(SYS_openat, dirfd, (long)path, O_RDONLY, 0, 0, 0);
	if (fd < 0)
		return -1;
	n = sp_raw_syscall6(SYS_pread64, fd, (long)u.b, sizeof(u.b), 0, 0, 0);
	if (n < (long)sizeof(u.e) || memcmp(u.e.e_ident, ELFMAG, SELFMAG) != 0 ||
	    u.e.e_ident[EI_CLASS] != ELFCLASS64 || u.e.e_machine != EM_X86_64 ||
	    (u.e.e_type != ET_EXEC && u.e.e_type != ET_DYN) ||
	    u.e.e_phentsize != sizeof(Elf64_Phdr) ||
	    u.e.e_phoff + (uint64_t)u.e.e_phnum * sizeof(Elf64_Phdr) > (uint64_t)n)
		goto no;
	for (int i = 0; i < u.e.e_phnum; i++)
		if (((const Elf64_Phdr *)(u.b + u.e.e_phoff))[i].p_type == PT_INTERP)
			goto no;
	/* Static: is there a launcher to run it?  (Asked only now: two
	 * access() calls that every dynamic target, nearly all, would pay.) */
	if (!launcher())
		goto no;
	/* A program the kernel would give privileges (setuid, setgid, file
	 * capabilities) must get them: the launcher, which has none, would
	 * take them away.  It runs untraced. */
	if (sp_raw_syscall6(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) < 0 ||
	    (st.st_mode & (S_ISUID | S_ISGID)) ||
	    sp_raw_syscall6(SYS_fgetxattr, fd, (long)"security.capability", 0, 0, 0, 0) > 0)
		goto no;
	/* Under a debugger: the program itself, untraced. */
	if (being_traced())
		goto no;
	return (int)fd;
no:
	sp_raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
	return -1;
}

int sp_static_target(int dirfd, const char *path, int at_flags)
{
	int fd;

	SP_COST_IN(SP_COST_EXEC);
	fd = static_target(dirfd, path, at_flags);
	SP_COST_OUT();
	return fd;
}

char **sp_launcher_argv(int fd, const char *path, char *const argv[], char **out, size_t max,
			char *fdbuf)
{
	size_t n = 0, argc = 0;

	while (argv && argv[argc])
		argc++;
	if (argc + 8 > max)
		return NULL;
	snprintf(fdbuf, 16, "%d", fd);
	out[n++] = (char *)launcher();
	out[n++] = "--fd";
	out[n++] = fdbuf;
	out[n++] = "--argv0";
	out[n++] = argc ? argv[0] : (char *)"";
	out[n++] = "--";
	out[n++] = (char *)path;
	for (size_t i = 1; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return out;
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
	char *largv[1024], fdbuf[16];
	const char *strs[6];
	struct sp_frame c;
	char *const *env = envp;
	int added = 0, rc, sfd = -1;
	unsigned argc;

	if (sp_ready()) {
		env = sp_child_env(envp, out, ENV_MAX, buf, sizeof(buf), &added);
		argc = sp_exec_strs(kind == EX_FVE ? "" : path, argv, strs);
		sp_enter(&c, calls[kind], SP_SRC_LIBC, strs, 6, argc, (uint64_t)added,
			 kind >= EX_VEAT ? (uint64_t)fd : 0);
		sp_before_exec();
		/* A static program never loads the library: its launcher does
		 * what the library would. */
		if (kind != EX_VPE || (path && strchr(path, '/')))
			sfd = sp_static_target(kind >= EX_VEAT ? fd : AT_FDCWD,
					       kind == EX_FVE ? "" : path,
					       kind == EX_FVE ? AT_EMPTY_PATH : flags);
		if (sfd >= 0) {
			char fdp[40];
			const char *p = path;

			if (kind == EX_FVE || (kind == EX_VEAT && (!path || !*path))) {
				snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
				p = fdp;
			}
			if (sp_launcher_argv(sfd, p, argv, largv, 1024, fdbuf)) {
				rc = REAL(execve)(largv[0], largv, env);
				close(sfd);
				goto failed;
			}
			close(sfd);
		}
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
failed:
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
