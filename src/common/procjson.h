/* SPDX-License-Identifier: Apache-2.0 */
/*
 * procjson.h - the per-process JSON file ("startpath/proc/v1"): written by
 * the library when a process exits or execs, read by the CLI.
 */
#ifndef SP_PROCJSON_H
#define SP_PROCJSON_H

#include <cjson/cJSON.h>
#include "model.h"
#include "procwrite.h"

/* Serialise a process (the CLI; the library writes the same text with
 * sp_proc_text(), procwrite.h, without cJSON).  NULL on ENOMEM. */
cJSON *sp_proc_to_json(const struct sp_proc *p);

/*
 * Parse a process from JSON text.  0, or -1 with a message in err (what was
 * wrong and where, e.g. "spans[3].t0: not a decimal string").
 */
int sp_proc_from_json(const char *text, size_t len, struct sp_proc *p,
		      char *err, size_t errlen);

/* One span as in the "spans" array.  NULL on ENOMEM. */
cJSON *sp_span_json(const struct sp_span *s);

/* Span arguments as a JSON object, named after the call table. */
cJSON *sp_span_args_json(const struct sp_span *s);

/* Unsigned 64-bit numbers travel as decimal strings (beyond 2^53). */
int sp_json_add_u64(cJSON *obj, const char *name, uint64_t v);

/* An integer item (cJSON "raw": printed as the number, exactly, without
 * floating-point formatting).  In a tree built here, before printing, the
 * item is cJSON_IsRaw, not cJSON_IsNumber; parsed back it is a number. */
cJSON *sp_json_int(int64_t v);
/* Add one; 1, or 0 when out of memory. */
int sp_json_add_int(cJSON *obj, const char *name, int64_t v);
int sp_json_get_u64(const cJSON *obj, const char *name, uint64_t *v);

#endif
