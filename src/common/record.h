/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.h - what each call's record holds (names of its strings and
 * numbers), call classes, and packing strings into a fixed-size record.
 */
#ifndef SP_RECORD_H
#define SP_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include "startpath.h"

/* Call classes, used by the phase rules. */
#define SP_CLS_MOUNT 0x01 /* mount family, pivot_root, chroot */
#define SP_CLS_EXEC  0x02
#define SP_CLS_CLONE 0x04 /* creates a process */
#define SP_CLS_NS    0x08 /* unshare, setns */
#define SP_CLS_DIR   0x10 /* mkdir/rename under configured prefixes */
#define SP_CLS_PROC  0x20 /* exit */
#define SP_CLS_FILE  0x40 /* a content store blob opened */
#define SP_CLS_NET   0x80 /* connect to a remote address */

#define SP_MAX_STRS 6

struct sp_call_info {
	const char *name;
	unsigned cls;
	const char *strs[SP_MAX_STRS]; /* names of the packed strings, in order */
	const char *args[3];           /* names of arg[0..2], NULL if unused */
	const char *ret;               /* name of the number the exit record
					  carries in its arg[0], or NULL */
};

/* Info for a call number; a placeholder entry for unknown numbers. */
const struct sp_call_info *sp_call_info(unsigned call);

/* Call number for a name, or SP_C_NONE. */
unsigned sp_call_by_name(const char *name);

/* Name of a record kind ("enter", "exit", ...). */
const char *sp_kind_name(unsigned kind);

/*
 * Pack up to SP_MAX_STRS strings (NULL counts as "") into rec->data, sharing
 * the space fairly and truncating the longest first.  Sets rec->nstr and
 * SP_RF_TRUNC.  Async-signal-safe; reads each string once.
 */
void sp_rec_put_strs(struct sp_record *rec, const char *const *strs, unsigned n);

/* The i-th packed string, or NULL.  Bounds-checked (for untrusted records). */
const char *sp_rec_str(const struct sp_record *rec, unsigned i);

/* Number of ':'-separated entries in the lowerdir= option of an overlay
 * option string, 0 if none.  Async-signal-safe. */
unsigned sp_overlay_lowerdirs(const char *opts);

/* Copy the value of option `key` (e.g. "upperdir") of a mount option string
 * into out (empty if absent).  Async-signal-safe. */
void sp_overlay_option(const char *opts, const char *key, char *out, size_t outlen);

/* A directory an image layer's extraction makes (under containerd's
 * tmpmounts/<m>/ or snapshots/<id>/fs/): the layer's content, not a step
 * of a start; not recorded.  Async-signal-safe. */
int sp_layer_content_path(const char *path);

/* Bounded string length (async-signal-safe). */
size_t sp_strnlen(const char *s, size_t max);

#endif
