/* SPDX-License-Identifier: Apache-2.0 */
/*
 * run.c - `startpath run` (run a command under the library, then print its
 * Start Path Map) and `startpath report` (print the map of a directory).
 */
#include "cli.h"
#include "trust.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <regex.h>
#include <sys/socket.h>
#include <errno.h>
#include <getopt.h>
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
#include "ring.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int parse_format(const char *s, enum sp_format *f)
{
	if (strcmp(s, "table") == 0)
		*f = SP_FMT_TABLE;
	else if (strcmp(s, "json") == 0)
		*f = SP_FMT_JSON;
	else
		return -1;
	return 0;
}

static const char report_usage[] =
	"Usage: startpath report DIR [--format table|json] [--container ID] [--calls]\n"
	"\n"
	"Merge the per-process files in DIR (written by libstartpath.so) and print one\n"
	"Start Path Map per container start found.  An image pull is in the map of the\n"
	"start made from it (its pull_* phases first), else a map of its own.\n"
	"\n"
	"  -f, --format FMT    table (default) or json (schema startpath/report/v1)\n"
	"  -c, --container ID  only the start of container ID (or of the pod of that name,\n"
	"                      or the pull of that image reference)\n"
	"  -C, --calls         list the recorded calls under each phase\n"
	"  -h, --help          this text\n";

int sp_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "container", required_argument, NULL, 'c' },
		{ "calls", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sp_report_opts ro = { SP_FMT_TABLE, NULL, 0 };
	struct sp_dataset ds;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:c:Ch", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (parse_format(optarg, &ro.format) < 0) {
				sp_err("report: --format %s: expected table or json", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 'c':
			ro.container = optarg;
			break;
		case 'C':
			ro.calls = 1;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(report_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		sp_err("report: expected one directory%s", optind < argc - 1 ? ", got more" : "");
		fputs(report_usage, stderr);
		return SP_EXIT_USAGE;
	}
	if (sp_dataset_load(argv[optind], &ds) < 0)
		return SP_EXIT_USAGE;
	rc = sp_report_print(stdout, &ds, &ro);
	sp_dataset_free(&ds);
	return rc;
}

int sp_cmd_dump(int argc, char **argv)
{
	struct sp_ring ring;
	struct sp_proc p;
	const char *why;
	char *text;
	cJSON *j;

	if (argc != 2 || argv[1][0] == '-') {
		fputs("Usage: startpath dump FILE.ring\n"
		      "Print the records of one ring file as a startpath/proc/v1 JSON document.\n",
		      argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? SP_EXIT_OK : SP_EXIT_USAGE;
	}
	{
		struct stat st;

		if (stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {
			sp_err("%s is a directory: dump reads one .ring file (`startpath report %s` "
			       "reads a directory)", argv[1], argv[1]);
			return SP_EXIT_USAGE;
		}
	}
	errno = 0;
	if (sp_ring_open_file(argv[1], &ring, &why) < 0) {
		sp_err("%s: %s%s%s", argv[1], why, errno ? ": " : "", errno ? strerror(errno) : "");
		return SP_EXIT_USAGE;
	}
	if (sp_proc_from_ring(&ring, &p, SP_RING_SETTLE_BUDGET) < 0) {
		sp_ring_close_file(&ring);
		sp_err("%s: out of memory", argv[1]);
		return SP_EXIT_FAIL;
	}
	sp_ring_close_file(&ring);
	j = sp_proc_to_json(&p);
	sp_proc_free(&p);
	text = j ? cJSON_Print(j) : NULL;
	cJSON_Delete(j);
	if (!text) {
		sp_err("out of memory");
		return SP_EXIT_FAIL;
	}
	printf("%s\n", text);
	free(text);
	return SP_EXIT_OK;
}

/* ---- run ---- */

static const char run_usage[] =
	"Usage: startpath run [OPTIONS] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD with libstartpath.so preloaded (it and every process it starts,\n"
	"except a container's own entrypoint), wait for it, then print the Start Path\n"
	"Map on stderr.  Exits with CMD's exit status (128+N if killed by signal N).\n"
	"\n"
	"  -o, --output DIR    where the processes write their files\n"
	"                      (default ./startpath.out; earlier startpath files there are removed)\n"
	"  -a, --append        keep the files of earlier runs in DIR: one map of a start made\n"
	"                      of several commands (runc create, then runc start)\n"
	"  -l, --lib PATH      libstartpath.so to preload (default: next to this program)\n"
	"  -p, --prefix DIR    record mkdir/rename under DIR (repeatable; default: the roots\n"
	"                      containerd, dockerd or podman use, as each resolves them)\n"
	"  -f, --format FMT    table (default) or json\n"
	"  -C, --calls         list the recorded calls under each phase\n"
	"  -q, --quiet         do not print the map (read it later with startpath report)\n"
	"      --ready-tcp HOST:PORT  the container is ready when HOST:PORT accepts a connection\n"
	"      --ready-cmd CMD        ... when `sh -c CMD` exits 0 (tried every 10 ms)\n"
	"      --ready-log REGEX      ... when a line of CMD's output matches REGEX\n"
	"                      The first probe to succeed ends process_exec with a ready mark.\n"
	"  -h, --help          this text\n";

/* ---- readiness probes ---- */

int sp_ready_parse_check(const struct sp_ready *r)
{
	if (r->tcp) {
		const char *colon = strrchr(r->tcp, ':');
		char *end;
		long port = colon ? strtol(colon + 1, &end, 10) : 0;

		if (!colon || colon == r->tcp || *end || port < 1 || port > 65535) {
			sp_err("--ready-tcp %s: expected HOST:PORT", r->tcp);
			return -1;
		}
	}
	if (r->log) {
		regex_t re;

		if (regcomp(&re, r->log, REG_EXTENDED | REG_NOSUB) != 0) {
			sp_err("--ready-log %s: not a valid regular expression", r->log);
			return -1;
		}
		regfree(&re);
	}
	return 0;
}

static int probe_tcp(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *a;
	int ok = 0;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - hostport), hostport);
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		return 0;
	for (a = res; a && !ok; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);

		if (fd < 0)
			continue;
		ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

static int probe_cmd(const char *cmd)
{
	int st;
	pid_t p = fork();

	if (p < 0)
		return 0;
	if (p == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int sp_run_traced(char **cmd, const char *libpath, const char *dir, const char *prefixes,
		  int keep_stdout, struct sp_ready *ready, uint64_t *t0, uint64_t *t1)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	const char *have = getenv("LD_PRELOAD");
	size_t l = strlen(libpath) + (have ? strlen(have) : 0) + 2;
	char *preload = malloc(l);
	int status, pipefd[2] = { -1, -1 }, probing, done = 0;
	char line[4096];
	size_t used = 0;
	regex_t re;
	uint64_t next_cmd = 0;
	pid_t pid;

	if (!preload)
		return -1;
	probing = ready && (ready->tcp || ready->cmd || ready->log);
	if (ready)
		ready->ready_ns = 0;
	if (ready && ready->log) {
		if (regcomp(&re, ready->log, REG_EXTENDED | REG_NOSUB) != 0 ||
		    pipe2(pipefd, O_CLOEXEC) < 0) {
			free(preload);
			return -1;
		}
	}
	snprintf(preload, l, "%s%s%s", libpath, have && *have ? ":" : "", have ? have : "");
	fflush(stdout);
	*t0 = mono_ns();
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid < 0) {
		sp_err("fork: %s", strerror(errno));
		free(preload);
		return -1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		if (pipefd[1] >= 0) {
			dup2(pipefd[1], 1);
		} else if (!keep_stdout) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 1);
				close(fd);
			}
		}
		setenv("LD_PRELOAD", preload, 1);
		setenv("STARTPATH_DIR", dir, 1);
		if (prefixes && prefixes[0])
			setenv("STARTPATH_PREFIXES", prefixes, 1);
		{
			/* A static program (upstream's runc) never loads the
			 * library: startpath-exec brings the recorder in. */
			char exe[PATH_MAX], **la;

			if (sp_which(cmd[0], exe, sizeof(exe)) == 0 && (la = sp_static_argv(cmd, exe)))
				execv(la[0], la);
		}
		execvp(cmd[0], cmd);
		sp_err("cannot run %s: %s", cmd[0], strerror(errno));
		_exit(127);
	}
	free(preload);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	/* Probe while the command runs; its output is passed on. */
	while (probing && !done) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		uint64_t now = mono_ns();

		if (w == pid) {
			done = 1;
			break;
		}
		if (!ready->ready_ns && ready->tcp && probe_tcp(ready->tcp))
			ready->ready_ns = mono_ns();
		if (!ready->ready_ns && ready->cmd && now >= next_cmd) {
			if (probe_cmd(ready->cmd))
				ready->ready_ns = mono_ns();
			next_cmd = mono_ns() + 10000000;
		}
		if (pipefd[0] >= 0) {
			struct pollfd pf = { pipefd[0], POLLIN, 0 };

			if (poll(&pf, 1, 1) > 0) {
				ssize_t r = read(pipefd[0], line + used, sizeof(line) - 1 - used);

				if (r <= 0) {
					close(pipefd[0]);
					pipefd[0] = -1;
				} else {
					if (keep_stdout)
						fwrite(line + used, 1, (size_t)r, stdout);
					used += (size_t)r;
					line[used] = '\0';
					for (char *nl; (nl = strchr(line, '\n'));) {
						*nl = '\0';
						if (!ready->ready_ns && regexec(&re, line, 0, NULL, 0) == 0)
							ready->ready_ns = mono_ns();
						used -= (size_t)(nl + 1 - line);
						memmove(line, nl + 1, used + 1);
					}
					if (used >= sizeof(line) - 1)
						used = 0; /* an endless line: drop it */
				}
			}
		} else if (ready->ready_ns || !(ready->tcp || ready->cmd)) {
			/* nothing left to probe: just wait */
			break;
		} else {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	if (pipefd[0] >= 0) {
		/* drain after the probe matched */
		ssize_t r;

		while ((r = read(pipefd[0], line, sizeof(line))) > 0)
			if (keep_stdout)
				fwrite(line, 1, (size_t)r, stdout);
		close(pipefd[0]);
	}
	if (ready && ready->log)
		regfree(&re);
	while (!done && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			sp_err("waitpid: %s", strerror(errno));
			return -1;
		}
	}
	*t1 = mono_ns();
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int sp_find_lib(char *out, size_t len)
{
	static const char *const rel[] = { "../lib/libstartpath.so",
					   "../lib/startpath/libstartpath.so",
					   "libstartpath.so" };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	slash[1] = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX + 64];

		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
			return 0;
	}
	return -1;
}

/* Is name one of the files startpath makes in an output directory: a
 * ring or per-process JSON ("<pid>-<ns>.ring|json"), the JSON's temporary
 * file (".<pid>-<ns>.<16 hex>.tmp"), run.json or the retention stamp? */
static int own_file(const char *name)
{
	const char *p = name;
	size_t l;

	if (strcmp(name, "run.json") == 0 || strcmp(name, ".retention") == 0)
		return 1;
	if (*p == '.')
		p++;
	l = strspn(p, "0123456789");
	if (!l || p[l] != '-')
		return 0;
	p += l + 1;
	l = strspn(p, "0123456789");
	if (!l)
		return 0;
	p += l;
	if (name[0] != '.')
		return strcmp(p, ".ring") == 0 || strcmp(p, ".json") == 0;
	return strncmp(p, ".json.", 6) == 0 && strspn(p + 6, "0123456789abcdef") == 16 &&
	       strcmp(p + 22, ".tmp") == 0;
}

/* Make dir, remove startpath files of an earlier run from it (its own
 * files only: a project directory keeps its package.json).  The library
 * records only into a directory of this user's that nobody else can write:
 * say so now rather than record nothing. */
int sp_prepare_dir(const char *dir, int clean)
{
	struct sp_trust_id id = { 0 };
	struct dirent *e;
	int removed = 0;
	long fd;
	DIR *d;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		sp_err("run: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = sp_trust_dir(AT_FDCWD, dir, 0, &id);
	if (fd < 0) {
		if (sp_trust_what(fd))
			sp_err("run: output directory %s %s (owner uid %u, mode %04o): the library "
			       "records only into a directory of uid %u that nobody else can write; "
			       "choose another with -o", dir, sp_trust_what(fd), id.uid,
			       id.mode & 07777, (unsigned)geteuid());
		else
			sp_err("run: %s: %s", dir, strerror((int)-fd));
		return -1;
	}
	if (!clean) {
		close((int)fd);
		return 0;
	}
	d = fdopendir((int)fd);
	if (!d) {
		sp_err("run: %s: %s", dir, strerror(errno));
		close((int)fd);
		return -1;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!own_file(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		sp_err("run: removed %d file%s of an earlier run from %s", removed,
		       removed == 1 ? "" : "s", dir);
	return 0;
}

int sp_write_run_json(const char *dir, char **cmd, uint64_t t0, uint64_t t1, int status,
		      uint64_t ready_ns)
{
	cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "argv");
	const char *why = NULL;
	char *text;

	cJSON_AddStringToObject(j, "schema", SP_RUN_SCHEMA);
	for (int i = 0; cmd[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(cmd[i]));
	sp_json_add_u64(j, "t_start_ns", t0);
	sp_json_add_u64(j, "t_end_ns", t1);
	cJSON_AddNumberToObject(j, "status", status);
	if (ready_ns)
		sp_json_add_u64(j, "ready_ns", ready_ns);
	text = cJSON_Print(j);
	cJSON_Delete(j);
	if (!text || sp_write_in_dir(dir, "run.json", text, &why) < 0) {
		sp_err("run: cannot write %s/run.json: %s", dir,
		       why ? why : strerror(text ? errno : ENOMEM));
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

int sp_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "lib", required_argument, NULL, 'l' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "calls", no_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "append", no_argument, NULL, 'a' },
		{ "ready-tcp", required_argument, NULL, 1 },
		{ "ready-cmd", required_argument, NULL, 2 },
		{ "ready-log", required_argument, NULL, 3 },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sp_report_opts ro = { SP_FMT_TABLE, NULL, 0 };
	struct sp_ready ready = { 0 };
	const char *out = "startpath.out", *lib = NULL;
	char libpath[PATH_MAX], dir[PATH_MAX], prefixes[4096] = "";
	int c, quiet = 0, append = 0, code, stdout_fd_keep = 1;
	uint64_t t0, t1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:l:p:f:Cqah", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'l':
			lib = optarg;
			break;
		case 'p':
			if (optarg[0] != '/') {
				sp_err("run: --prefix %s: must be an absolute path", optarg);
				return SP_EXIT_USAGE;
			}
			if (strlen(prefixes) + strlen(optarg) + 2 > sizeof(prefixes)) {
				sp_err("run: too many --prefix directories");
				return SP_EXIT_USAGE;
			}
			if (prefixes[0])
				strcat(prefixes, ":");
			strcat(prefixes, optarg);
			break;
		case 'f':
			if (parse_format(optarg, &ro.format) < 0) {
				sp_err("run: --format %s: expected table or json", optarg);
				return SP_EXIT_USAGE;
			}
			break;
		case 'C':
			ro.calls = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'a':
			append = 1;
			break;
		case 1:
			ready.tcp = optarg;
			break;
		case 2:
			ready.cmd = optarg;
			break;
		case 3:
			ready.log = optarg;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return SP_EXIT_OK;
		default:
			fputs(run_usage, stderr);
			return SP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		sp_err("run: no command given (startpath run [OPTIONS] -- CMD [ARGS...])");
		return SP_EXIT_USAGE;
	}
	if (sp_ready_parse_check(&ready) < 0)
		return SP_EXIT_USAGE;
	if (lib) {
		if (access(lib, R_OK) < 0 || !realpath(lib, libpath)) {
			sp_err("run: --lib %s: %s", lib, strerror(errno));
			return SP_EXIT_USAGE;
		}
	} else if (sp_find_lib(libpath, sizeof(libpath)) < 0) {
		sp_err("run: cannot find libstartpath.so next to this program; use --lib PATH");
		return SP_EXIT_USAGE;
	}
	if (sp_prepare_dir(out, !append) < 0 || !realpath(out, dir)) {
		if (!dir[0])
			sp_err("run: %s: %s", out, strerror(errno));
		return SP_EXIT_USAGE;
	}
	code = sp_run_traced(&argv[optind], libpath, dir, prefixes, stdout_fd_keep, &ready, &t0, &t1);
	if (code < 0)
		return SP_EXIT_FAIL;
	sp_write_run_json(dir, &argv[optind], t0, t1, code, ready.ready_ns);
	if (!quiet) {
		struct sp_dataset ds;

		fflush(stdout);
		if (sp_dataset_load(dir, &ds) == 0) {
			sp_report_print(stderr, &ds, &ro);
			sp_dataset_free(&ds);
		}
	}
	return code;
}
