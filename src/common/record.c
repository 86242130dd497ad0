/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record.c - the call table (one row per hooked call: its name, class and
 * what its record's strings and numbers mean) and string packing.  The
 * library packs on the hot path, so nothing here allocates or locks.
 */
#include "record.h"

#include <string.h>

static const struct sp_call_info sp_call_table[SP_C_COUNT] = {
	[SP_C_NONE] = { "none", 0, { 0 }, { 0 }, NULL },
	[SP_C_MOUNT] = { "mount", SP_CLS_MOUNT,
			 { "source", "target", "fstype", "options", "upperdir", "lowerdir0_tail" },
			 { "flags", "lowerdirs", NULL } },
	[SP_C_UMOUNT] = { "umount", SP_CLS_MOUNT, { "target" }, { 0 } },
	[SP_C_UMOUNT2] = { "umount2", SP_CLS_MOUNT, { "target" }, { "flags" } },
	[SP_C_PIVOT_ROOT] = { "pivot_root", SP_CLS_MOUNT, { "new_root", "put_old" }, { 0 } },
	[SP_C_CHROOT] = { "chroot", SP_CLS_MOUNT, { "path" }, { 0 } },
	[SP_C_CLONE] = { "clone", SP_CLS_CLONE, { 0 }, { "flags", "new_stack", NULL }, "child_pid" },
	[SP_C_CLONE3] = { "clone3", SP_CLS_CLONE, { 0 }, { "flags", "new_stack", NULL }, "child_pid" },
	[SP_C_FORK] = { "fork", SP_CLS_CLONE, { 0 }, { 0 }, "child_pid" },
	[SP_C_VFORK] = { "vfork", SP_CLS_CLONE, { 0 }, { 0 }, "child_pid" },
	[SP_C_EXECVE] = { "execve", SP_CLS_EXEC,
			  { "path", "argv0", "argv1", "argv2", "argv3", "argv_last" },
			  { "argc", "env_added", NULL } },
	[SP_C_EXECVEAT] = { "execveat", SP_CLS_EXEC,
			    { "path", "argv0", "argv1", "argv2", "argv3", "argv_last" },
			    { "argc", "env_added", "dirfd" } },
	[SP_C_FEXECVE] = { "fexecve", SP_CLS_EXEC,
			   { "path", "argv0", "argv1", "argv2", "argv3", "argv_last" },
			   { "argc", "env_added", "fd" } },
	[SP_C_POSIX_SPAWN] = { "posix_spawn", SP_CLS_CLONE | SP_CLS_EXEC,
			       { "path", "argv0", "argv1", "argv2", "argv3", "argv_last" },
			       { "argc", "env_added", NULL }, "child_pid" },
	[SP_C_UNSHARE] = { "unshare", SP_CLS_NS, { 0 }, { "flags" } },
	[SP_C_SETNS] = { "setns", SP_CLS_NS, { 0 }, { "fd", "nstype" } },
	[SP_C_FSOPEN] = { "fsopen", SP_CLS_MOUNT, { "fstype" }, { "flags" } },
	[SP_C_FSCONFIG] = { "fsconfig", SP_CLS_MOUNT, { "key", "value" }, { "fd", "cmd", "aux" } },
	[SP_C_FSMOUNT] = { "fsmount", SP_CLS_MOUNT, { 0 }, { "fd", "flags", "attr" } },
	[SP_C_MOVE_MOUNT] = { "move_mount", SP_CLS_MOUNT, { "from", "to" }, { "from_dirfd", "to_dirfd", "flags" } },
	[SP_C_OPEN_TREE] = { "open_tree", SP_CLS_MOUNT, { "path" }, { "dirfd", "flags" } },
	[SP_C_MOUNT_SETATTR] = { "mount_setattr", SP_CLS_MOUNT, { "path" }, { "dirfd", "flags", "attr_set" } },
	[SP_C_MKDIR] = { "mkdir", SP_CLS_DIR, { "path" }, { "mode" } },
	[SP_C_MKDIRAT] = { "mkdirat", SP_CLS_DIR, { "path" }, { "mode", "dirfd" } },
	/* size: of a content store blob committed by the rename, else 0 */
	[SP_C_RENAME] = { "rename", SP_CLS_DIR, { "from", "to" }, { 0 }, "size" },
	[SP_C_RENAMEAT] = { "renameat", SP_CLS_DIR, { "from", "to" }, { 0 }, "size" },
	[SP_C_RENAMEAT2] = { "renameat2", SP_CLS_DIR, { "from", "to" }, { "flags" }, "size" },
	[SP_C_EXIT] = { "exit", SP_CLS_PROC, { 0 }, { "status" } },
	[SP_C_OPENAT] = { "openat", SP_CLS_FILE, { "path" }, { "flags", "dirfd" } },
	[SP_C_CONNECT] = { "connect", SP_CLS_NET, { "addr" }, { "family", "fd" } },
};

static const struct sp_call_info sp_call_unknown = { "unknown", 0, { 0 }, { 0 }, NULL };

const struct sp_call_info *sp_call_info(unsigned call)
{
	if (call >= SP_C_COUNT)
		return &sp_call_unknown;
	return &sp_call_table[call];
}

unsigned sp_call_by_name(const char *name)
{
	for (unsigned i = 1; i < SP_C_COUNT; i++)
		if (strcmp(sp_call_table[i].name, name) == 0)
			return i;
	return SP_C_NONE;
}

const char *sp_kind_name(unsigned kind)
{
	static const char *const names[] = { "none", "enter", "exit", "load",
					     "fork", "pexit", "mark", "note" };

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

size_t sp_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return 0;
	while (n < max && s[n])
		n++;
	return n;
}

void sp_rec_put_strs(struct sp_record *rec, const char *const *strs, unsigned n)
{
	size_t len[SP_MAX_STRS], give[SP_MAX_STRS], room, total = 0;
	unsigned left, i;
	char *p = rec->data;
	int changed = 1;

	if (n > SP_MAX_STRS)
		n = SP_MAX_STRS;
	room = SP_REC_DATA - n; /* one NUL per string */
	for (i = 0; i < n; i++) {
		len[i] = strs[i] ? strnlen(strs[i], SP_REC_DATA) : 0;
		total += len[i];
	}
	rec->nstr = (uint16_t)n;
	if (total <= room) {
		/* The common case: everything fits as it is. */
		for (i = 0; i < n; i++) {
			memcpy(p, strs[i] ? strs[i] : "", len[i]);
			p += len[i];
			*p++ = '\0';
		}
		return;
	}
	left = n;
	for (i = 0; i < n; i++)
		give[i] = (size_t)-1;
	/* Water-filling: strings shorter than the fair share keep their
	 * length; the rest split what remains. */
	while (changed && left) {
		size_t share = room / left;

		changed = 0;
		for (i = 0; i < n; i++) {
			if (give[i] == (size_t)-1 && len[i] <= share) {
				give[i] = len[i];
				room -= len[i];
				left--;
				changed = 1;
			}
		}
	}
	for (i = 0; i < n; i++) {
		if (give[i] == (size_t)-1) {
			give[i] = room / left;
			room -= give[i];
			left--;
			rec->flags |= SP_RF_TRUNC;
		}
		if (give[i])
			memcpy(p, strs[i], give[i]);
		p += give[i];
		*p++ = '\0';
	}
}

const char *sp_rec_str(const struct sp_record *rec, unsigned i)
{
	const char *p = rec->data, *end = rec->data + SP_REC_DATA;

	if (i >= rec->nstr)
		return NULL;
	while (i--) {
		size_t l = sp_strnlen(p, (size_t)(end - p));

		if (p + l >= end)
			return NULL;
		p += l + 1;
	}
	if (p >= end || p + sp_strnlen(p, (size_t)(end - p)) >= end)
		return NULL;
	return p;
}

void sp_overlay_option(const char *opts, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), n = 0;
	const char *p = opts;

	if (outlen)
		out[0] = '\0';
	if (!opts || !outlen)
		return;
	for (; *p; p++) {
		if ((p == opts || p[-1] == ',') && strncmp(p, key, kl) == 0 && p[kl] == '=')
			break;
	}
	if (!*p)
		return;
	p += kl + 1;
	while (p[n] && p[n] != ',' && n + 1 < outlen) {
		out[n] = p[n];
		n++;
	}
	out[n] = '\0';
}

unsigned sp_overlay_lowerdirs(const char *opts)
{
	const char *p = opts;
	unsigned n;

	if (!opts)
		return 0;
	for (; *p; p++) {
		if ((p == opts || p[-1] == ',') && strncmp(p, "lowerdir=", 9) == 0)
			break;
	}
	if (!*p)
		return 0;
	p += 9;
	for (n = 1; *p && *p != ','; p++)
		if (*p == ':')
			n++;
	return n;
}

/* Inside "<dir>/<name>/" past its first level: a layer being extracted
 * (an image's own directories). */
static int below(const char *path, const char *dir, const char *sub)
{
	const char *p = strstr(path, dir);
	size_t n;

	if (!p)
		return 0;
	p += strlen(dir);
	n = strcspn(p, "/");
	if (!n || p[n] != '/')
		return 0;
	p += n;
	if (sub) {
		if (strncmp(p, sub, strlen(sub)) != 0)
			return 0;
		p += strlen(sub);
	} else {
		p++;
	}
	return *p != '\0';
}

int sp_layer_content_path(const char *path)
{
	return path && (below(path, "/tmpmounts/", NULL) || below(path, "/snapshots/", "/fs/"));
}
