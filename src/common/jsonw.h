/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonw.h - a small JSON text writer for the library's per-process file.
 *
 * The library writes one JSON file per process image, at its exit or exec.
 * Building that text through cJSON meant loading libcjson.so.1 into every
 * traced process: a second shared object, which costs every traced exec
 * about as much as loading libstartpath.so itself.  This writer produces
 * the same text cJSON_PrintUnformatted() does for the same values (strings
 * escaped as cJSON escapes them, integers in decimal, no spaces), so the
 * CLI, which reads and merges with cJSON, cannot tell the two apart; the
 * unit tests and the ring fuzzer compare the two byte for byte.
 *
 * Not thread-safe (one writer per buffer); allocates with realloc.  After a
 * failed allocation every call is a no-op and sp_jw_done() returns NULL.
 */
#ifndef SP_JSONW_H
#define SP_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define SP_JW_DEPTH 16

struct sp_jw {
	char *buf;
	size_t len, cap;
	int oom;
	int depth;          /* open objects and arrays */
	int after_key;      /* a key was written: its value follows, no comma */
	uint8_t first[SP_JW_DEPTH]; /* no member written yet at this level */
};

void sp_jw_init(struct sp_jw *w);
/* Open and close an object or an array (as a value). */
void sp_jw_open(struct sp_jw *w, char bracket);
void sp_jw_close(struct sp_jw *w, char bracket);
/* A member's name, in an object; its value comes next. */
void sp_jw_key(struct sp_jw *w, const char *name);
/* Values. */
void sp_jw_str(struct sp_jw *w, const char *s);
void sp_jw_int(struct sp_jw *w, int64_t v);
void sp_jw_bool(struct sp_jw *w, int v);
/* Shorthands for a member: key then value. */
void sp_jw_kstr(struct sp_jw *w, const char *name, const char *s);
void sp_jw_kint(struct sp_jw *w, const char *name, int64_t v);
void sp_jw_kbool(struct sp_jw *w, const char *name, int v);
/* An unsigned 64-bit number as a decimal string (beyond 2^53). */
void sp_jw_ku64(struct sp_jw *w, const char *name, uint64_t v);
/* The NUL-terminated text (the caller frees it), or NULL after a failed
 * allocation or with objects still open (the buffer is then freed). */
char *sp_jw_done(struct sp_jw *w, size_t *len);

#endif
