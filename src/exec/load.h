/* SPDX-License-Identifier: Apache-2.0 */
/*
 * load.h - startpath-exec's loader (load.c): everything from an open
 * program to the jump into it, free of libc.  It runs either at the
 * launcher's own entry point, before libc is initialised (spx_fast: the
 * program's patch plan is cached), or from main() (launcher.c: anything
 * else, e.g. a plan to decode first).
 */
#ifndef SPX_LOAD_H
#define SPX_LOAD_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include "rec.h"
#include "startpath.h"
#include "trust.h"

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	uint64_t base, lo, hi;       /* lo/hi: link-time span of the PT_LOADs */
	uint64_t text_lo, text_hi;   /* runtime */
	uint64_t phdr;               /* runtime address of the program headers */
	char build_id[72];           /* GNU build-id in hex, "go-..." or "" */
};

struct spx_load {
	/* given */
	char **argv;             /* the program's arguments; argv[0] unless argv0 */
	const char *argv0;       /* the program's argv[0] if not argv[0] */
	char **envp;
	const uint64_t *auxv;    /* the launcher's auxiliary vector */
	const char *path;        /* the program as named */
	int fd;                  /* open on it */
	int debug;
	/* worked out */
	struct image im;
	char execfn[4096];       /* its name, as /proc/self/exe would give it */
	char fdfile[32];         /* /proc/self/fd/N */
	char dir[512];           /* where rings (and the site cache) go */
	struct sp_trust_id dirid; /* dir as checked when the ring was made */
	char launcher[4096];     /* this launcher, for the program's own execs */
	uint64_t rec;            /* the recorder's base */
	struct spx_conf *conf;
	struct spx_area *main_area;
	const char *err;         /* why it stopped: err, err_ctx, errno */
	const char *err_ctx;
	long err_no;             /* and the errno, or 0 */
	const char *err_what;    /* or what the directory checks found */
};

/* The program's headers: 1 a static program, 0 not ours to load (dynamic,
 * not ELF...), -1 unreadable.  Also its build id, its name, the output
 * directory and the launcher's path. */
int spx_prepare(struct spx_load *L);

/* Create the ring, map the program, copy in the recorder and fill its
 * configuration.  0, or -1 with L->err. */
int spx_load(struct spx_load *L);

/* Apply the cached patch plan: 0 done (*n sites), 1 no plan cached, -1
 * error (L->err). */
int spx_cache_apply(struct spx_load *L, unsigned *n, unsigned *planned);

/* The site cache directory (STARTPATH_CACHE, else .sites in the output
 * directory) if it passes the checks of trust.h: an fd, or negative. */
long spx_cache_dir(struct spx_load *L);

/* Give the text its own protection, build the initial stack, point
 * /proc/self/exe at the program and jump.  Returns only if %gs could not be
 * set (L->err). */
void spx_go(struct spx_load *L);

/* NAME's value in envp, or NULL. */
const char *spx_env(char *const *envp, const char *name);

/* A "startpath: A B C D" line to STARTPATH_LOG.<pid> or stderr; A is the
 * program's path: for a containerd shim without STARTPATH_LOG, nothing
 * (its stderr is part of its answer to containerd). */
void spx_line(char *const *envp, const char *a, const char *b, const char *c, const char *d);

/* What spx_fast (the entry point, before libc) left for main():
 *   SPX_FAST_NONE    nothing changed; main() starts from the beginning;
 *   SPX_FAST_LOADED  spx_fast_load is loaded but no patch plan is cached:
 *                    main() decodes the program, rewrites it and goes;
 *   SPX_FAST_FAILED  spx_fast_load.err says what failed after the process
 *                    was changed: main() says so and runs the program as
 *                    it is. */
enum { SPX_FAST_NONE, SPX_FAST_LOADED, SPX_FAST_FAILED };
extern int spx_fast_state;
extern struct spx_load spx_fast_load;

#endif
