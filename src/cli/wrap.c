/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wrap.c - `startpath wrap -- RUNTIME ARGS...`, what scripts/startpath-runc
 * runs.  A dynamically linked runtime is exec'ed in place with the library
 * preloaded.  A static one cannot load it: it is run as a child and this
 * process writes its span itself (a startpath/proc/v1 file: command line,
 * start, exit, status), so `runc create/start/delete` still appear in the
 * map.  Signals are passed on; the exit status is the runtime's.
 */
#include "cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include "procjson.h"

static pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static uint64_t now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void write_span(const char *dir, char **cmd, const char *exe, pid_t pid, uint64_t t0,
		       uint64_t real0, uint64_t t1, int status)
{
	struct sp_proc p;
	char name[64];
	const char *why = NULL;
	cJSON *j;
	char *text;
	int argc = 0;

	memset(&p, 0, sizeof(p));
	while (cmd[argc])
		argc++;
	p.ring_id = ((uint64_t)pid << 32) ^ t0;
	p.pid = p.host_pid = pid;
	p.ppid = getpid();
	p.exe = (char *)exe;
	p.argc = argc;
	p.argv = cmd;
	p.t_load_ns = t0;
	p.t_load_real_ns = real0;
	p.exited = 1;
	p.exit_status = status;
	p.t_exit_ns = t1;
	p.notes = "static binary: process span recorded by startpath wrap";
	j = sp_proc_to_json(&p);
	text = j ? cJSON_PrintUnformatted(j) : NULL;
	cJSON_Delete(j);
	snprintf(name, sizeof(name), "%d-%" PRIu64 ".json", pid, t0);
	if (!text || sp_write_in_dir(dir, name, text, &why) < 0) {
		const char *log = getenv("STARTPATH_LOG");
		char lp[PATH_MAX];
		int e = text ? errno : ENOMEM, fd;
		FILE *l;

		/* The runtime ran: its caller may parse its stderr (go-runc reads
		 * `runc state` as JSON), so with STARTPATH_LOG set the reason
		 * goes there or nowhere. */
		if (!log || !*log) {
			sp_err("wrap: cannot write %s/%s: %s", dir, name, why ? why : strerror(e));
		} else if (snprintf(lp, sizeof(lp), "%s.%d", log, (int)getpid()) < (int)sizeof(lp) &&
			   (fd = open(lp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
					      O_NONBLOCK, 0600)) >= 0) {
			l = fdopen(fd, "a");
			if (l) {
				fprintf(l, "startpath: wrap: cannot write %s/%s: %s\n", dir, name,
					why ? why : strerror(e));
				fclose(l);
			} else {
				close(fd);
			}
		}
	}
	free(text);
}

int sp_cmd_wrap(int argc, char **argv)
{
	const char *dir = getenv("STARTPATH_DIR");
	char libpath[PATH_MAX], exe[PATH_MAX];
	char **cmd;
	int i = 1, st, status;
	uint64_t t0, real0, t1;

	if (argc > 1 && strcmp(argv[1], "--") == 0)
		i = 2;
	if (i >= argc || argv[i][0] == '-') {
		fputs("Usage: startpath wrap -- RUNTIME [ARGS...]\n"
		      "Run RUNTIME under libstartpath.so (exec in place); a static binary\n"
		      "through startpath-exec (next to this program), which records its calls\n"
		      "the same way, or, without it (or with STARTPATH_WRAP_SPAN=1), as a child\n"
		      "whose process span is recorded here.  Output goes to STARTPATH_DIR\n"
		      "(default /run/startpath).\n",
		      argc > 1 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc > 1 && !strcmp(argv[1], "--help") ? SP_EXIT_OK : SP_EXIT_USAGE;
	}
	cmd = &argv[i];
	if (!dir || !*dir)
		dir = geteuid() == 0 ? SP_DEFAULT_DIR_ROOT : "/tmp";
	if (!realpath(cmd[0], exe)) {
		sp_err("wrap: %s: %s", cmd[0], strerror(errno));
		return 127;
	}
	st = sp_elf_static(exe);
	if (st > 0 && !getenv("STARTPATH_WRAP_SPAN")) {
		/* A static runtime: startpath-exec (next to this program) loads it
		 * with the recorder inside; without it, only its process span. */
		char **la = sp_static_argv(cmd, exe);

		if (la) {
			st = -2; /* exec the launcher below */
			cmd = la;
		}
	}
	if (st <= 0) {
		if (sp_find_lib(libpath, sizeof(libpath)) == 0) {
			const char *have = getenv("LD_PRELOAD");
			char *pre = malloc(strlen(libpath) + (have ? strlen(have) : 0) + 2);

			if (pre) {
				sprintf(pre, "%s%s%s", libpath, have && *have ? ":" : "",
					have ? have : "");
				setenv("LD_PRELOAD", pre, 1);
			}
			setenv("STARTPATH_DIR", dir, 0);
		}
		execv(st == -2 ? cmd[0] : exe, cmd);
		sp_err("wrap: cannot run %s: %s", st == -2 ? cmd[0] : exe, strerror(errno));
		return 127;
	}
	mkdir(dir, 0700);
	t0 = now(CLOCK_MONOTONIC);
	real0 = now(CLOCK_REALTIME);
	child = fork();
	if (child < 0) {
		sp_err("wrap: fork: %s", strerror(errno));
		return 127;
	}
	if (child == 0) {
		execv(exe, cmd);
		_exit(127);
	}
	{
		static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
					    SIGWINCH };
		struct sigaction sa = { .sa_handler = pass_on, .sa_flags = SA_RESTART };

		for (size_t k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
			sigaction(sigs[k], &sa, NULL);
	}
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	t1 = now(CLOCK_MONOTONIC);
	write_span(dir, cmd, exe, child, t0, real0, t1,
		   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
