/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.c - environment merging for the exec hooks.  Runs in vfork children and
 * in processes that have just forked, so it only touches caller memory.
 */
#include "env.h"

#include <string.h>

static size_t name_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static int same_name(const char *a, const char *b, size_t n)
{
	return strncmp(a, b, n) == 0 && b[n] == '=';
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

int sp_env_merge(char *const envp[], const char *const ours[], char **out,
		 size_t outcap, char *buf, size_t buflen)
{
	size_t n = 0, used = 0;
	int changed = 0;

	if (envp) {
		for (; envp[n]; n++) {
			if (n + 1 >= outcap)
				return -1;
			out[n] = envp[n];
		}
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
		if (nl == 10 && strncmp(*o, "LD_PRELOAD", 10) == 0) {
			const char *want = *o + nl + 1, *have = out[i] + nl + 1;
			size_t wl = strlen(want), hl = strlen(have);

			if (sp_list_has(have, want))
				continue;
			if (used + nl + 1 + wl + 1 + hl + 1 > buflen)
				return -1;
			char *e = buf + used;

			memcpy(e, *o, nl + 1 + wl);
			if (hl) {
				e[nl + 1 + wl] = ':';
				memcpy(e + nl + 2 + wl, have, hl + 1);
				used += nl + 2 + wl + hl + 1;
			} else {
				e[nl + 1 + wl] = '\0';
				used += nl + 1 + wl + 1;
			}
			out[i] = e;
			changed++;
		}
	}
	out[n] = NULL;
	return changed;
}
