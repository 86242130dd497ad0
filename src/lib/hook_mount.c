/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook_mount.c - mount(2) and friends, pivot_root, chroot, the new mount API,
 * unshare/setns, and mkdir/rename under the configured snapshot prefixes.
 * Each hook: record enter, call the real function, record exit, errno kept.
 */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME)

const char *sp_mount_opts(unsigned long flags, const void *data)
{
	/* Option strings are text for every filesystem a container stack
	 * mounts; a bind, move or propagation change carries none. */
	if ((flags & (MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) &&
	    !(flags & MS_REMOUNT))
		return NULL;
	return data;
}

/* Rewrite low (a path) in place as "N:tail" against up: their common
 * leading components kept out, N = up's components after them. */
static void lower_tail(const char *up, char *low)
{
	size_t c = 0, i = 0;
	unsigned n = 0;
	char tmp[256];

	if (!*up || !*low || up[0] != '/' || low[0] != '/')
		return;
	for (; up[i] && up[i] == low[i]; i++)
		if (up[i] == '/')
			c = i + 1;
	for (i = c; up[i]; i++)
		n += up[i] == '/';
	n += up[c] != '\0';
	if (snprintf(tmp, sizeof(tmp), "%u:%s", n, low + c) >= (int)sizeof(tmp))
		return;
	memcpy(low, tmp, strlen(tmp) + 1);
}

unsigned sp_mount_strs(const char *source, const char *target, const char *fstype,
		       unsigned long flags, const void *data, const char *strs[6], char *up,
		       size_t uplen, uint64_t *lowerdirs)
{
	const char *opts = sp_mount_opts(flags, data);
	char *low = up + uplen / 2;

	strs[0] = source;
	strs[1] = target;
	strs[2] = fstype;
	strs[3] = opts;
	strs[4] = NULL;
	*lowerdirs = 0;
	if (fstype && strcmp(fstype, "overlay") == 0 && opts) {
		/* The upper dir names the snapshot: keep it whole even when the
		 * option string is truncated. */
		*lowerdirs = sp_overlay_lowerdirs(opts);
		sp_overlay_option(opts, "upperdir", up, uplen / 2);
		strs[4] = up;
		/* The first lower dir is the image's top layer: it ties a
		 * start to the pull that unpacked it.  Kept short, as
		 * "N:tail": drop upperdir's last N components, add tail
		 * (".../snapshots/6/fs" -> "2:5/fs"), so the target and the
		 * upper dir stay whole in the record. */
		sp_overlay_option(opts, "lowerdir", low, uplen - uplen / 2);
		low[strcspn(low, ":")] = '\0';
		lower_tail(up, low);
		strs[5] = low;
		return 6;
	}
	return 4;
}

SP_EXPORT int mount(const char *source, const char *target, const char *fstype,
		    unsigned long flags, const void *data)
{
	const char *strs[6];
	char up[512];
	uint64_t lower;
	unsigned n = sp_mount_strs(source, target, fstype, flags, data, strs, up, sizeof(up), &lower);
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_MOUNT, SP_SRC_LIBC, strs, n, flags, lower, 0);
	rc = REAL(mount)(source, target, fstype, flags, data);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int umount(const char *target)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_UMOUNT, SP_SRC_LIBC, &target, 1, 0, 0, 0);
	rc = REAL(umount)(target);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int umount2(const char *target, int flags)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_UMOUNT2, SP_SRC_LIBC, &target, 1, (unsigned)flags, 0, 0);
	rc = REAL(umount2)(target, flags);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int pivot_root(const char *new_root, const char *put_old)
{
	const char *strs[2] = { new_root, put_old };
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_PIVOT_ROOT, SP_SRC_LIBC, strs, 2, 0, 0, 0);
	rc = REAL(pivot_root)(new_root, put_old);
	if (rc == 0)
		sp_set_contained();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int chroot(const char *path)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_CHROOT, SP_SRC_LIBC, &path, 1, 0, 0, 0);
	rc = REAL(chroot)(path);
	if (rc == 0)
		sp_set_contained();
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int fsopen(const char *fs_name, unsigned int flags)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_FSOPEN, SP_SRC_LIBC, &fs_name, 1, flags, 0, 0);
	rc = REAL(fsopen)(fs_name, flags);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	/* Only FSCONFIG_SET_STRING (1) carries a string value. */
	const char *strs[2] = { key, cmd == 1 ? value : NULL };
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_FSCONFIG, SP_SRC_LIBC, strs, 2, (unsigned)fd, cmd, (unsigned)aux);
	rc = REAL(fsconfig)(fd, cmd, key, value, aux);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int fsmount(int fd, unsigned int flags, unsigned int attr)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_FSMOUNT, SP_SRC_LIBC, NULL, 0, (unsigned)fd, flags, attr);
	rc = REAL(fsmount)(fd, flags, attr);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
			 unsigned int flags)
{
	const char *strs[2] = { from, to };
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_MOVE_MOUNT, SP_SRC_LIBC, strs, 2, (uint64_t)from_dfd,
		 (uint64_t)to_dfd, flags);
	rc = REAL(move_mount)(from_dfd, from, to_dfd, to, flags);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int open_tree(int dfd, const char *path, unsigned int flags)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_OPEN_TREE, SP_SRC_LIBC, &path, 1, (uint64_t)dfd, flags, 0);
	rc = REAL(open_tree)(dfd, path, flags);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int mount_setattr(int dfd, const char *path, unsigned int flags,
			    struct mount_attr *attr, size_t size)
{
	struct sp_frame c;
	int rc;
	uint64_t set = attr && size >= 8 ? *(const uint64_t *)attr : 0;

	sp_enter(&c, SP_C_MOUNT_SETATTR, SP_SRC_LIBC, &path, 1, (uint64_t)dfd, flags, set);
	rc = REAL(mount_setattr)(dfd, path, flags, attr, size);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int unshare(int flags)
{
	struct sp_frame c;
	int rc;

	sp_enter(&c, SP_C_UNSHARE, SP_SRC_LIBC, NULL, 0, (unsigned)flags, 0, 0);
	rc = REAL(unshare)(flags);
	sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int setns(int fd, int nstype)
{
	struct sp_frame c;
	int rc, saved;

	sp_enter(&c, SP_C_SETNS, SP_SRC_LIBC, NULL, 0, (uint64_t)fd, (unsigned)nstype, 0);
	rc = REAL(setns)(fd, nstype);
	saved = errno;
	if (rc == 0 && sp_setns_enters(fd, nstype))
		sp_set_contained();
	sp_exit(&c, rc, saved, 0);
	return rc;
}

/* ---- directory operations under the snapshot prefixes ---- */

SP_EXPORT int mkdir(const char *path, mode_t mode)
{
	struct sp_frame c = { 0 };
	int rc;

	if (sp_prefix_match(path) && !sp_layer_content_path(path))
		sp_enter(&c, SP_C_MKDIR, SP_SRC_LIBC, &path, 1, mode, 0, 0);
	rc = REAL(mkdir)(path, mode);
	if (c.on)
		sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int mkdirat(int dfd, const char *path, mode_t mode)
{
	struct sp_frame c = { 0 };
	int rc;

	if (sp_prefix_match(path) && !sp_layer_content_path(path))
		sp_enter(&c, SP_C_MKDIRAT, SP_SRC_LIBC, &path, 1, mode, (uint64_t)dfd, 0);
	rc = REAL(mkdirat)(dfd, path, mode);
	if (c.on)
		sp_exit(&c, rc, errno, 0);
	return rc;
}

SP_EXPORT int rename(const char *from, const char *to)
{
	const char *strs[2] = { from, to };
	struct sp_frame c = { 0 };
	int rc;

	if (sp_prefix_match(from) || sp_prefix_match(to))
		sp_enter(&c, SP_C_RENAME, SP_SRC_LIBC, strs, 2, 0, 0, 0);
	rc = REAL(rename)(from, to);
	if (c.on)
		sp_exit(&c, rc, errno, rc == 0 ? sp_blob_size(AT_FDCWD, to) : 0);
	return rc;
}

SP_EXPORT int renameat(int fdf, const char *from, int fdt, const char *to)
{
	const char *strs[2] = { from, to };
	struct sp_frame c = { 0 };
	int rc;

	if (sp_prefix_match(from) || sp_prefix_match(to))
		sp_enter(&c, SP_C_RENAMEAT, SP_SRC_LIBC, strs, 2, 0, 0, 0);
	rc = REAL(renameat)(fdf, from, fdt, to);
	if (c.on)
		sp_exit(&c, rc, errno, rc == 0 ? sp_blob_size(fdt, to) : 0);
	return rc;
}

SP_EXPORT int renameat2(int fdf, const char *from, int fdt, const char *to, unsigned int flags)
{
	const char *strs[2] = { from, to };
	struct sp_frame c = { 0 };
	int rc;

	if (sp_prefix_match(from) || sp_prefix_match(to))
		sp_enter(&c, SP_C_RENAMEAT2, SP_SRC_LIBC, strs, 2, flags, 0, 0);
	rc = REAL(renameat2)(fdf, from, fdt, to, flags);
	if (c.on)
		sp_exit(&c, rc, errno, rc == 0 ? sp_blob_size(fdt, to) : 0);
	return rc;
}
