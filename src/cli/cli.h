/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the startpath command's parts: loading an output directory,
 * printing reports, the subcommands.
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stdio.h>
#include "model.h"
#include "phases.h"

/* Exit codes. */
#define SP_EXIT_OK 0
#define SP_EXIT_FAIL 1   /* command failed / regression found */
#define SP_EXIT_USAGE 2  /* usage or input error */

#define SP_REPORT_SCHEMA "startpath/report/v1"
#define SP_RUN_SCHEMA "startpath/run/v1"

/* Everything recorded in one output directory. */
struct sp_dataset {
	char *dir;
	struct sp_proc *procs;
	size_t nprocs;
	size_t nbad;          /* files that could not be read (warned about) */
	uint64_t run_t0, run_t1; /* from run.json, 0 if absent */
	int have_run;
	int run_status;
	uint64_t ready_ns;       /* from run.json: readiness probe, 0 if none */
	/* With sp_load_quiet: the oldest load time of a process that exited
	 * (UINT64_MAX if none), from the rings' names. */
	uint64_t oldest_exited;
};

/* Load every process file in dir.  0, or -1 with a message printed
 * (exit code 2: no such directory, nothing readable in it). */
int sp_dataset_load(const char *dir, struct sp_dataset *ds);
void sp_dataset_free(struct sp_dataset *ds);

enum sp_format { SP_FMT_TABLE, SP_FMT_JSON };

struct sp_report_opts {
	enum sp_format format;
	const char *container; /* only this container id, or NULL */
	int calls;             /* list each phase's calls (table) */
};

/* Print the maps of a dataset.  Returns an exit code. */
int sp_report_print(FILE *out, const struct sp_dataset *ds, const struct sp_report_opts *o);

/* Subcommands: argc/argv start at the subcommand name. */
int sp_cmd_run(int argc, char **argv);
int sp_cmd_report(int argc, char **argv);
int sp_cmd_dump(int argc, char **argv);

/* Run cmd with the library preloaded and STARTPATH_DIR=dir; wait.  Returns
 * its exit code (128+N for signal N), or -1 if it could not be started.
 * keep_stdout 0 sends its stdout to /dev/null. */
/* Readiness probes (any that is set); ready_ns is when one first succeeded. */
struct sp_ready {
	const char *tcp;   /* HOST:PORT accepts a connection */
	const char *cmd;   /* sh -c CMD exits 0 */
	const char *log;   /* a line of the command's stdout matches this regex */
	uint64_t ready_ns;
};
int sp_ready_parse_check(const struct sp_ready *r);

int sp_run_traced(char **cmd, const char *libpath, const char *dir, const char *prefixes,
		  int keep_stdout, struct sp_ready *ready, uint64_t *t0, uint64_t *t1);
/* libstartpath.so next to this program (build tree or installed). */
int sp_find_lib(char *out, size_t len);
/* Make dir (it must pass the library's checks); with clean, remove the
 * startpath files of an earlier run from it. */
int sp_prepare_dir(const char *dir, int clean);
int sp_write_run_json(const char *dir, char **cmd, uint64_t t0, uint64_t t1, int status,
		      uint64_t ready_ns);

int sp_cmd_bench(int argc, char **argv);
int sp_cmd_diff(int argc, char **argv);
int sp_cmd_wrap(int argc, char **argv);
int sp_cmd_export(int argc, char **argv);
int sp_cmd_watch(int argc, char **argv);

/* One start as an OTLP/JSON ExportTraceServiceRequest (malloc'd), or NULL. */
char *sp_otlp_body(const struct sp_map *m, const char *host);
/* POST a JSON body to an OTLP/HTTP receiver: 0 on a 2xx answer, else -1
 * with why filled. */
int sp_otlp_post(const char *url, const char *body, long timeout_s, char *why, size_t len);

/* Set: sp_dataset_load says nothing about files it cannot read (a file
 * that vanished under a watcher); it still counts them in nbad. */
extern int sp_load_quiet;
/* With sp_load_quiet: leave out the rings of processes that loaded before
 * this time (CLOCK_MONOTONIC ns) and have exited or exec'd (0: none). */
extern uint64_t sp_load_since;

/* A bench result (startpath/bench/v1) as phases and samples (diff.c). */
struct sp_bench_phase {
	char *name;
	double *v;
	long *round;  /* the round of each sample (an A/B bench pairs by it), or NULL */
	size_t n;
};
struct sp_bench {
	struct sp_bench_phase *p;
	size_t n;
	int ab;       /* an A/B bench: `candidate` holds the other side */
};
/* A bench file's phases; side NULL: the top-level ones (the base of an A/B
 * bench), "candidate": the other side of an A/B bench.  0, or -1 after an
 * error naming the file was said. */
int sp_bench_load_side(const char *path, const char *side, struct sp_bench *b);
int sp_bench_load(const char *path, struct sp_bench *b);
void sp_bench_free(struct sp_bench *b);

/* HTML pieces (html.c). */
void sp_html_head(FILE *f, const char *title);
void sp_html_tail(FILE *f);
void sp_html_map(FILE *f, const struct sp_map *m);
void sp_html_boxes(FILE *f, const char *const *names, double *const *samples, const size_t *n,
		   size_t nphases);
/* s as HTML text (also safe inside a quoted attribute). */
void sp_html_esc(FILE *f, const char *s);
void sp_html_diffbars(FILE *f, const char *const *names, const double *before,
		      const double *after, const int *regressed, size_t nphases);

/* The whole of a regular file (at most max bytes), NUL-terminated, in
 * malloc'ed memory; NULL with errno (EINVAL: not a regular file, such as
 * a FIFO, which is never waited on; EFBIG: over max). */
char *sp_read_file(const char *path, size_t max, size_t *len);

/* Write text as dir/name, atomically (a temporary file of a random name,
 * made O_EXCL|O_NOFOLLOW, renamed), if dir passes the library's checks:
 * owned by the euid, writable by nobody else, not a link.  0, or -1 with
 * errno, and *why naming what the checks found (else NULL: see errno). */
int sp_write_in_dir(const char *dir, const char *name, const char *text, const char **why);

/* 1 if path is an ELF without an interpreter (static), 0 if dynamic or not
 * ELF (a script), -1 if it cannot be read (static.c). */
int sp_elf_static(const char *path);

/* The argv that runs cmd (whose program is the file exe) through
 * startpath-exec next to this program, if exe is static with a function
 * table to rewrite and the launcher is there; else NULL.  Malloc'd. */
char **sp_static_argv(char **cmd, const char *exe);

/* name as execvp would find it, made absolute into out.  0 or -1. */
int sp_which(const char *name, char *out, size_t len);

/* Messages: "startpath: ..." on stderr. */
void sp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "12.345 ms" style, into buf. */
const char *sp_fmt_ms(char *buf, size_t len, uint64_t ns);
const char *sp_fmt_bytes(char *buf, size_t len, uint64_t n);

#endif
