/* SPDX-License-Identifier: Apache-2.0 */
/*
 * launcher.h - what startpath-exec (launcher.c) asks of the syscall-site
 * rewriter it shares with libstartpath.so (src/lib/rewrite.c, built with
 * SP_LAUNCHER for the launcher).
 */
#ifndef SPX_LAUNCHER_H
#define SPX_LAUNCHER_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include "startpath.h"

#define SP_HIDDEN __attribute__((visibility("hidden")))

struct sp_rewrite_req {
	const char *path;      /* the program, for messages and the cache */
	const char *file;      /* where its sections can be read */
	const char *build_id;  /* hex, or "" */
	int cache_dfd;         /* the checked site cache directory, or -1 */
	uint64_t bias, text_lo, text_hi;
	uint64_t *interest;    /* in the recorder's conf */
	uint64_t entry_pre, entry_post, entry_child;
	int debug;
	int text_writable;     /* the launcher mapped the text writable */
};

/* A "startpath: " line to STARTPATH_LOG.<pid> or stderr (launcher.c). */
void spx_say(const char *fmt, ...) __attribute__((format(printf, 1, 2), visibility("hidden")));

/* Rewrite the loaded program's syscall sites; how many were rewritten. */
unsigned sp_rewrite_static(const struct sp_rewrite_req *rq);

#endif
