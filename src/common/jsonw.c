/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonw.c - JSON text the way cJSON_PrintUnformatted() prints it, without
 * cJSON (see jsonw.h for why).
 */
#include "jsonw.h"

#include <stdlib.h>
#include <string.h>

void sp_jw_init(struct sp_jw *w)
{
	memset(w, 0, sizeof(*w));
}

static int room(struct sp_jw *w, size_t n)
{
	size_t cap;
	char *b;

	if (w->oom)
		return 0;
	if (w->len + n + 1 <= w->cap)
		return 1;
	cap = w->cap ? w->cap : 1024;
	while (cap < w->len + n + 1)
		cap *= 2;
	b = realloc(w->buf, cap);
	if (!b) {
		w->oom = 1;
		return 0;
	}
	w->buf = b;
	w->cap = cap;
	return 1;
}

static void put(struct sp_jw *w, const char *s, size_t n)
{
	if (!room(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* Before a value or a key: the comma between members. */
static void sep(struct sp_jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth - 1])
			put(w, ",", 1);
		w->first[w->depth - 1] = 0;
	}
}

void sp_jw_open(struct sp_jw *w, char bracket)
{
	sep(w);
	put(w, &bracket, 1);
	if (w->depth >= SP_JW_DEPTH) {
		w->oom = 1; /* deeper than any file of ours: refuse */
		return;
	}
	w->first[w->depth++] = 1;
}

void sp_jw_close(struct sp_jw *w, char bracket)
{
	if (w->depth > 0)
		w->depth--;
	put(w, &bracket, 1);
}

/* A quoted string, escaped as cJSON's print_string_ptr() escapes it:
 * the quote, the backslash and \b \f \n \r \t by name, other bytes below
 * 0x20 as \u00xx, every other byte (UTF-8 or not) as it is. */
static void quoted(struct sp_jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = 2;

	for (const unsigned char *q = p; *q; q++)
		n += *q == '"' || *q == '\\' || *q == '\b' || *q == '\f' || *q == '\n' ||
			     *q == '\r' || *q == '\t' ? 2 : *q < 0x20 ? 6 : 1;
	if (!room(w, n))
		return;
	w->buf[w->len++] = '"';
	for (; *p; p++) {
		char *o = w->buf + w->len;
		char c = 0;

		switch (*p) {
		case '"': c = '"'; break;
		case '\\': c = '\\'; break;
		case '\b': c = 'b'; break;
		case '\f': c = 'f'; break;
		case '\n': c = 'n'; break;
		case '\r': c = 'r'; break;
		case '\t': c = 't'; break;
		default: break;
		}
		if (c) {
			o[0] = '\\';
			o[1] = c;
			w->len += 2;
		} else if (*p < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			w->len += 6;
		} else {
			o[0] = (char)*p;
			w->len++;
		}
	}
	w->buf[w->len++] = '"';
}

void sp_jw_key(struct sp_jw *w, const char *name)
{
	sep(w);
	quoted(w, name);
	put(w, ":", 1);
	w->after_key = 1;
}

void sp_jw_str(struct sp_jw *w, const char *s)
{
	sep(w);
	quoted(w, s);
}

static void decimal(struct sp_jw *w, uint64_t u, int neg)
{
	char buf[24], *e = buf + sizeof(buf);

	do
		*--e = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (neg)
		*--e = '-';
	put(w, e, (size_t)(buf + sizeof(buf) - e));
}

void sp_jw_int(struct sp_jw *w, int64_t v)
{
	sep(w);
	decimal(w, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0);
}

void sp_jw_bool(struct sp_jw *w, int v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void sp_jw_kstr(struct sp_jw *w, const char *name, const char *s)
{
	sp_jw_key(w, name);
	sp_jw_str(w, s);
}

void sp_jw_kint(struct sp_jw *w, const char *name, int64_t v)
{
	sp_jw_key(w, name);
	sp_jw_int(w, v);
}

void sp_jw_kbool(struct sp_jw *w, const char *name, int v)
{
	sp_jw_key(w, name);
	sp_jw_bool(w, v);
}

void sp_jw_ku64(struct sp_jw *w, const char *name, uint64_t v)
{
	sp_jw_key(w, name);
	sep(w);
	put(w, "\"", 1);
	decimal(w, v, 0);
	put(w, "\"", 1);
}

char *sp_jw_done(struct sp_jw *w, size_t *len)
{
	char *b = w->buf;

	if (w->oom || w->depth || !room(w, 0)) {
		free(w->buf);
		sp_jw_init(w);
		return NULL;
	}
	b = w->buf;
	b[w->len] = '\0';
	if (len)
		*len = w->len;
	sp_jw_init(w);
	return b;
}
