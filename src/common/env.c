/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.c - environment merging for the exec hooks.  Runs in vfork children and
 * in processes that have just forked, so it only touches caller memory.
 */
#include "env.h"

#include <string.h>

#define PRELOAD "LD_PRELOAD"
#define PRELOAD_LEN 10
#define OURS_PREFIX "STARTPATH_"
#define OURS_PREFIX_LEN 10

static size_t name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static int same_name(const char *a, const char *b, size_t n)
{
	return strncmp(a, b, n) == 0 && b[n] == '=';
}

static int is_preload(const char *kv)
{
	return same_name(PRELOAD, kv, PRELOAD_LEN);
}

static int one_of(const char *kv, const char *const ours[])
{
	for (const char *const *o = ours; *o; o++)
		if (strcmp(*o, kv) == 0)
			return 1;
	return 0;
}

int sp_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	if (!n)
		return 0;
	while (*p) {
		size_t l = strcspn(p, ": ");

		if (l == n && strncmp(p, item, n) == 0)
			return 1;
		p += l;
		while (*p == ':' || *p == ' ')
			p++;
	}
	return 0;
}

/* "LD_PRELOAD=want:have" in buf at *used; NULL if it does not fit. */
static char *preload_front(const char *want, const char *have, char *buf, size_t buflen,
			   size_t *used)
{
	size_t wl = strlen(want), hl = strlen(have);
	size_t need = PRELOAD_LEN + 1 + wl + (hl ? 1 + hl : 0) + 1;
	char *e = buf + *used;

	if (*used + need > buflen)
		return NULL;
	memcpy(e, PRELOAD "=", PRELOAD_LEN + 1);
	memcpy(e + PRELOAD_LEN + 1, want, wl);
	if (hl) {
		e[PRELOAD_LEN + 1 + wl] = ':';
		memcpy(e + PRELOAD_LEN + 2 + wl, have, hl + 1);
	} else {
		e[PRELOAD_LEN + 1 + wl] = '\0';
	}
	*used += need;
	return e;
}

int sp_env_merge(char *const envp[], const char *const ours[], char **out,
		 size_t outcap, char *buf, size_t buflen)
{
	size_t n = 0, used = 0;
	int changed = 0;

	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], OURS_PREFIX, OURS_PREFIX_LEN) == 0 && !one_of(envp[i], ours)) {
			changed++; /* not the setting this process loaded with */
			continue;
		}
		if (n + 1 >= outcap)
			return -1;
		out[n++] = envp[i];
	}
	for (const char *const *o = ours; *o; o++) {
		size_t nl = name_len(*o);
		size_t i;

		for (i = 0; i < n; i++)
			if (same_name(*o, out[i], nl))
				break;
		if (i == n) {
			if (n + 1 >= outcap)
				return -1;
			out[n++] = (char *)*o;
			changed++;
			continue;
		}
		if (is_preload(*o)) {
			const char *want = *o + PRELOAD_LEN + 1, *have = out[i] + PRELOAD_LEN + 1;

			if (sp_list_has(have, want))
				continue;
			out[i] = preload_front(want, have, buf, buflen, &used);
			if (!out[i])
				return -1;
			changed++;
		}
	}
	out[n] = NULL;
	return changed;
}

/* LD_PRELOAD=LIST without `lib` into buf at *used: the new entry, "" if
 * nothing else was listed, NULL if it does not fit. */
static char *preload_without(const char *kv, const char *lib, char *buf, size_t buflen,
			     size_t *used)
{
	const char *p = kv + PRELOAD_LEN + 1;
	size_t ll = strlen(lib), start = *used, n = start;

	if (n + PRELOAD_LEN + 2 > buflen)
		return NULL;
	memcpy(buf + n, PRELOAD "=", PRELOAD_LEN + 1);
	n += PRELOAD_LEN + 1;
	while (*p) {
		size_t l = strcspn(p, ": ");

		if (l && !(l == ll && strncmp(p, lib, ll) == 0)) {
			if (n + l + 2 > buflen)
				return NULL;
			if (n > start + PRELOAD_LEN + 1)
				buf[n++] = ':';
			memcpy(buf + n, p, l);
			n += l;
		}
		p += l;
		while (*p == ':' || *p == ' ')
			p++;
	}
	buf[n++] = '\0';
	*used = n;
	return n == start + PRELOAD_LEN + 2 ? (char *)"" : buf + start;
}

int sp_env_strip(char *const envp[], const char *const ours[], const char *lib, char **out,
		 size_t outcap, char *buf, size_t buflen)
{
	size_t n = 0, used = 0;
	int changed = 0;

	for (size_t i = 0; envp && envp[i]; i++) {
		char *kv = envp[i];

		if (one_of(kv, ours)) {
			changed++;
			continue;
		}
		if (is_preload(kv) && lib && *lib && sp_list_has(kv + PRELOAD_LEN + 1, lib)) {
			kv = preload_without(kv, lib, buf, buflen, &used);
			if (!kv)
				return -1;
			changed++;
			if (!*kv)
				continue;
		}
		if (n + 1 >= outcap)
			return -1;
		out[n++] = kv;
	}
	out[n] = NULL;
	return changed;
}
