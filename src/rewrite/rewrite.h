/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rewrite.h - the syscall-site rewriter, shared by libstartpath.so (src/lib)
 * and startpath-exec with its recorder (src/exec): finding the syscall
 * sites of a program's text, the patch plan and its cache, the stubs and
 * the patch itself, and what a record keeps of a system call.  Neither
 * side includes the other's headers: both include this one.
 *
 *   rewrite.c    find the sites (capstone, Go's pclntab, .symtab), cache
 *                and apply the plan: sp_rewrite
 *   patch.c      the stubs and the patch, and a plan line's parser; free of
 *                libc (startpath-exec runs it before libc is initialised)
 *   sysdecode.c  a raw system call as its record keeps it
 */
#ifndef SP_REWRITE_H
#define SP_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#ifndef SP_HIDDEN
#define SP_HIDDEN __attribute__((visibility("hidden")))
#endif

/* ---- the patch plan (patch.c; no libc) ---- */

#define MAX_WIN 16
#define STUB_MAX 192

/* One rewritten site: the instructions around a SYSCALL, moved to a stub. */
struct site {
	uint64_t win;      /* link-time address of the window */
	uint8_t len;       /* window length, >= 5 */
	uint8_t sys;       /* offset of the SYSCALL in the window */
	uint8_t bytes[MAX_WIN];
};

/* Where stubs go: the filter's bitmap (512 syscall numbers) and the entry
 * points (child: the entry of a CLONE_VM clone's child, 0 if none). */
struct stub_cfg {
	uint64_t interest, pre, post, child;
};

/* How sp_patch gets write access to the text. */
#define STUB_TEXT_PAGES 0 /* open and close each page around its patch */
#define STUB_TEXT_RW    1 /* already writable (startpath-exec mapped it so) */
#define STUB_TEXT_SPAN  2 /* one R-X mapping holds every site: open the span
			     from the first to the last once (2 mprotects, not
			     2 per site: ~25 us of a Go program's start) */

/*
 * Rewrite the n sites of a program loaded at bias: each window that still
 * holds the decoded bytes becomes a jmp to its stub.  The stubs are written
 * and made executable before any window is touched.  `text` is one of
 * STUB_TEXT_*.  One thread only.  Returns -1 when nothing could be patched
 * for want of room for stubs, else 0, with *done the count patched.
 */
SP_HIDDEN int sp_patch(const struct site *v, size_t n, uint64_t bias, uint64_t text_lo,
		       uint64_t text_hi, int text, const struct stub_cfg *c, unsigned *done);

/* Make the whole text (one executable mapping) writable and touch each
 * site's page with a write that changes nothing, so that its first fault
 * copies the page once (a read first, then the patch's write, would fault
 * twice).  0, or -1 (nothing changed).  One thread only; sp_patch or
 * sp_text_restore makes the text read-only again. */
SP_HIDDEN int sp_text_prefault(const struct site *v, size_t n, uint64_t bias, uint64_t text_lo,
			       uint64_t text_hi);
SP_HIDDEN void sp_text_restore(uint64_t text_lo, uint64_t text_hi);

/* How many of a cached plan's n sites do not hold, at bias, the bytes the
 * plan says (a SYSCALL at its offset among them): a plan for another
 * binary, or not one we wrote.  0: every site matches. */
SP_HIDDEN size_t sp_plan_mismatches(const struct site *v, size_t n, uint64_t bias,
				    uint64_t text_lo, uint64_t text_hi);

/* One "site WIN LEN SYS HEX" line of a plan file, [p, end): 0 and *s, or
 * -1 if it is not one we wrote. */
SP_HIDDEN int sp_plan_parse_site(const char *p, const char *end, struct site *s);

/* The first line of a plan file: "startpath-sites 2 BUILD-ID PATH". */
#define SP_PLAN_MAGIC "startpath-sites 2 "

/* ---- finding and rewriting (rewrite.c) ---- */

struct sp_rewrite_req {
	const char *path;      /* the program, for messages and the plan */
	const char *file;      /* where its sections can be read */
	const char *build_id;  /* hex, or "" (no cache then) */
	int cache_dfd;         /* the checked plan directory, or -1: no cache */
	const char *cache_sub; /* plans in this subdirectory of it ("" none): read
				  by path, the subdirectory checked (or made)
				  only when a plan is written */
	uint64_t bias, text_lo, text_hi;
	int text_writable;     /* the text is mapped writable already */
	int nexec;             /* executable PT_LOADs (1: the text between the first
				  and last site is opened for writing at once) */
	int single;            /* known to have one thread */
	struct stub_cfg stubs;
	/* Messages: level 0 is a note worth keeping (the library puts it in
	 * the ring), 1-3 debug detail. */
	void (*say)(int level, const char *msg);
};

/* Find (or read from the cache) and rewrite the program's interesting
 * syscall sites.  Returns how many were rewritten.  Fails open: anything
 * unexpected skips a site or the program, and says so. */
SP_HIDDEN unsigned sp_rewrite(const struct sp_rewrite_req *rq);

/* ---- a system call as its record keeps it (sysdecode.c) ---- */

struct sp_sysrec {
	unsigned call;
	unsigned nstr;
	const char *strs[6];
	uint64_t x[3];
	char up[512];      /* an overlay mount's upper dir, then its first lower dir */
};

/* Decode syscall nr with raw arguments a[0..5]: 0 and *r filled if it is
 * recorded, -1 if not (another number, exec, exit_group, or mkdir/rename
 * outside the prefixes).  No allocation, async-signal-safe. */
SP_HIDDEN int sp_sys_decode(long nr, const uint64_t a[6], struct sp_sysrec *r);

/* What sp_sys_decode asks of the side that links it (the library, the
 * recorder): the strings a mount record keeps (source, target, fstype,
 * options and, for overlay, upperdir and the first lowerdir in the two
 * halves of up), and whether a path is under a
 * recorded prefix.  Async-signal-safe. */
SP_HIDDEN unsigned sp_mount_strs(const char *source, const char *target, const char *fstype,
				 unsigned long flags, const void *data, const char *strs[6],
				 char *up, size_t uplen, uint64_t *lowerdirs);
SP_HIDDEN int sp_prefix_match(const char *path);

#endif
