/* SPDX-License-Identifier: Apache-2.0 */
/*
 * startpath-exec - run a static x86-64 program (static or static-pie) with
 * startpath's recorder inside it.  A static program never runs the dynamic
 * loader, so LD_PRELOAD cannot bring libstartpath.so in; this launcher
 * loads the program itself instead:
 *
 *   1. maps its PT_LOAD segments where the kernel would (ET_EXEC: at their
 *      addresses, reserved with MAP_FIXED_NOREPLACE so a clash with the
 *      launcher is detected; static-pie: anywhere);
 *   2. creates this process's ring, as the library would;
 *   3. copies the freestanding recorder (rec.c, built as a flat image and
 *      embedded here) into memory, fills its configuration and gives the
 *      main thread its first area through %gs;
 *   4. rewrites the program's interesting syscall sites to enter it, with
 *      the library's rewriter and site cache;
 *   5. undoes glibc's rseq registration, builds a fresh initial stack
 *      (argv, envp, auxv pointing at the program) and jumps to its entry.
 *
 * The loading itself is load.c's, free of libc: with a cached patch plan it
 * runs at the launcher's entry point, before glibc starts (fast.c), and
 * this main() never runs.  main() handles the rest: usage, a plan to decode
 * first (sp_rewrite, which caches it), a failure to report.
 *
 * Anything that fails before the jump fails open: the program is exec'd
 * as it is, untraced, with one `startpath:` line on stderr (or in
 * STARTPATH_LOG.<pid>).  A dynamic program is simply exec'd (LD_PRELOAD
 * covers it).
 *
 *   startpath-exec [--fd N] [--argv0 NAME] [--] TARGET [ARGS...]
 */
#include "load.h"
#include "rewrite.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *target_name;
static int stderr_is_reply; /* a containerd shim (see spx_stderr_is_reply) */

/* Messages go to STARTPATH_LOG.<pid> where that is set, else to stderr,
 * except for a containerd shim, whose stderr is part of its answer to
 * containerd: NULL, nothing is said. */
static FILE *msg_file(void)
{
	static FILE *f;
	const char *l = getenv(SP_ENV_LOG);
	char path[PATH_MAX];

	if (!f && l && *l) {
		struct stat st;
		int fd;

		/* Never through a link or into a FIFO or someone else's file. */
		snprintf(path, sizeof(path), "%s.%d", l, (int)getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			  0600);
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()))
			close(fd);
		else if (fd >= 0 && !(f = fdopen(fd, "a")))
			close(fd);
	}
	if (!f && (stderr_is_reply || (target_name && spx_stderr_is_reply(target_name))))
		return NULL;
	return f ? f : stderr;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	FILE *f = msg_file();
	va_list ap;

	if (!f)
		return;
	fputs("startpath: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

/* The rewriter's messages: at STARTPATH_DEBUG 1 and up (a note is worth
 * level 1, as in the library). */
static int debug_level;

static void launcher_say(int level, const char *msg)
{
	if (debug_level >= (level ? level : 1))
		say("%s", msg);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: startpath-exec [--fd N] [--argv0 NAME] [--] TARGET [ARGS...]\n"
		"Run TARGET, a static x86-64 program, with startpath's recorder inside it\n"
		"(a dynamic TARGET is exec'd as it is: LD_PRELOAD=libstartpath.so covers it).\n"
		"Records go to STARTPATH_DIR as for libstartpath.so; read them with\n"
		"`startpath report DIR`.\n"
		"  --fd N        run the program open on descriptor N (closed before it runs)\n"
		"  --argv0 NAME  the program's argv[0] (default: TARGET)\n"
		"Environment: STARTPATH_DIR, STARTPATH_RING, STARTPATH_PREFIXES,\n"
		"STARTPATH_DEBUG, STARTPATH_DISABLE=1 (run untraced).\n");
}

/* ---- fail open ---- */

static char **g_argv;   /* the program's argv */
static char **g_envp;
static int g_fd = -1;
static const char *g_path;

/* Run the program as it is. */
static void __attribute__((noreturn)) plain_exec(void)
{
	char fdpath[64];

	if (g_fd >= 0) {
		/* The descriptor itself, closed by the exec (see fast.c). */
		fcntl(g_fd, F_SETFD, FD_CLOEXEC);
		syscall(SYS_execveat, g_fd, "", g_argv, g_envp, AT_EMPTY_PATH);
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", g_fd);
		fcntl(g_fd, F_SETFD, 0);
		execve(fdpath, g_argv, g_envp);
	}
	execve(g_path, g_argv, g_envp);
	fprintf(stderr, "startpath-exec: cannot execute %s: %s\n", g_path, strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Say why (once) and run the program as it is. */
static void __attribute__((noreturn)) untraced(const struct spx_load *L)
{
	FILE *f = msg_file();

	if (f) {
		fprintf(f, "startpath: %s%s%s%s; %s runs untraced\n", L->err ? L->err : "cannot load ",
			L->err_ctx ? L->err_ctx : target_name, L->err_no || L->err_what ? ": " : "",
			L->err_what ? L->err_what : L->err_no ? strerror((int)L->err_no) : "",
			target_name);
		fflush(f);
	}
	plain_exec();
}

int main(int argc, char **argv, char **envp)
{
	static struct spx_load own;
	struct spx_load *L = &own;
	const char *argv0 = NULL, *dis = getenv(SP_ENV_DISABLE), *dbg = getenv(SP_ENV_DEBUG);
	int i = 1, n_done;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("startpath-exec %s\n", STARTPATH_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc) {
			char *end;

			g_fd = (int)strtol(argv[++i], &end, 10);
			if (*end || g_fd < 0) {
				fprintf(stderr, "startpath-exec: --fd wants a descriptor number, not '%s'\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(argv[i], "--argv0") == 0 && i + 1 < argc) {
			argv0 = argv[++i];
		} else {
			fprintf(stderr, "startpath-exec: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	g_path = argv[i];
	target_name = g_path;
	g_argv = argv + i;
	g_envp = envp;

	if (spx_fast_state == SPX_FAST_FAILED) {
		/* The entry point had begun loading it (see fast.c). */
		g_fd = spx_fast_load.fd;
		if (argv0)
			argv[i] = (char *)argv0;
		untraced(&spx_fast_load);
	}
	if (spx_fast_state == SPX_FAST_LOADED) {
		L = &spx_fast_load;
		g_fd = L->fd;
	} else {
		if (g_fd < 0) {
			g_fd = open(g_path, O_RDONLY | O_CLOEXEC);
			if (g_fd < 0) {
				fprintf(stderr, "startpath-exec: cannot open %s: %s\n", g_path,
					strerror(errno));
				return errno == ENOENT ? 127 : 126;
			}
		} else {
			fcntl(g_fd, F_SETFD, FD_CLOEXEC);
		}
		L->argv = argv + i;
		L->argv0 = argv0;
		L->envp = envp;
		{
			char **e = envp;

			while (*e)
				e++;
			L->auxv = (const uint64_t *)(e + 1);
		}
		L->path = g_path;
		L->fd = g_fd;
		L->debug = dbg ? atoi(dbg) : 0;
	}
	if (argv0)
		argv[i] = (char *)argv0; /* for plain_exec: the program's argv[0] */
	/* The path given may be /proc/self/fd/N: the name argv[0] and, once
	 * known, the program's own path say whether it is a shim. */
	stderr_is_reply = spx_stderr_is_reply(argv[i]) || spx_stderr_is_reply(L->execfn);
	if (spx_fast_state == SPX_FAST_NONE) {
		int r = spx_prepare(L);

		stderr_is_reply |= spx_stderr_is_reply(L->execfn);
		if (r <= 0)
			plain_exec(); /* not ours to load: a dynamic program, a script... */
		if (dis && strcmp(dis, "1") == 0)
			plain_exec();
		if (spx_load(L) < 0)
			untraced(L);
	}
	{
		uint64_t *tab = (uint64_t *)L->rec;
		struct sp_rewrite_req rq = {
			.path = L->execfn, .file = L->fdfile, .build_id = L->im.build_id,
			.cache_dfd = (int)spx_cache_dir(L), .cache_sub = "",
			.bias = L->im.base, .text_lo = L->im.text_lo, .text_hi = L->im.text_hi,
			.text_writable = 1, /* until spx_go */
			.single = 1,        /* the program has not run yet */
			.stubs = { (uint64_t)L->conf->interest, L->rec + tab[SPX_T_PRE / 8],
				   L->rec + tab[SPX_T_POST / 8], L->rec + tab[SPX_T_CHILD / 8] },
			.say = launcher_say,
		};

		debug_level = L->debug;
		n_done = (int)sp_rewrite(&rq);
		if (rq.cache_dfd >= 0)
			close(rq.cache_dfd);
	}
	if (L->debug >= 1)
		say("%s: %d syscall sites rewritten, image at %#llx, recorder at %#llx", L->execfn,
		    n_done, (unsigned long long)L->im.base, (unsigned long long)L->rec);

	/* The program's libc registers rseq for this thread itself. */
	if (__rseq_size > 0)
		syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset, __rseq_size,
			1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG);
	fflush(NULL);
	spx_go(L);
	untraced(L);
}
