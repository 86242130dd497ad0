/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procwrite.h - the per-process JSON file ("startpath/proc/v1") as text,
 * without cJSON: what the library writes at a process's exit or exec.  The
 * text is byte for byte cJSON_PrintUnformatted(sp_proc_to_json(p)) (the
 * CLI's builder, procjson.h), which check_json and the ring fuzzer verify.
 */
#ifndef SP_PROCWRITE_H
#define SP_PROCWRITE_H

#include <stddef.h>
#include "model.h"

#define SP_PROC_SCHEMA "startpath/proc/v1"

/* The text (NUL-terminated, *len bytes; the caller frees it), or NULL when
 * out of memory. */
char *sp_proc_text(const struct sp_proc *p, size_t *len);

/* "libc", "syscall" or "raw": a span's src field. */
const char *sp_src_name(unsigned src);

#endif
