/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust.c - the owner and mode checks of trust.h, with raw system calls so
 * that the library, startpath-exec's loader (before libc) and its
 * freestanding recorder share one definition.
 */
#include "trust.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define tsys(n, a, b, c, d) sp_sys6(n, a, b, c, d, 0, 0)

/* Owner and mode of what fd is open on, against the rules. */
static long check(long fd, int want_dir, struct sp_trust_id *id)
{
	struct stat st;
	long r = tsys(SYS_fstat, fd, (long)&st, 0, 0);
	unsigned euid;

	if (r < 0)
		return r;
	id->uid = st.st_uid;
	id->mode = st.st_mode;
	if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return -SP_TRUST_ETYPE;
	euid = (unsigned)tsys(SYS_geteuid, 0, 0, 0, 0);
	if (st.st_uid != euid)
		return -SP_TRUST_EOWNER;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return -SP_TRUST_EMODE;
	if (id->ino && (id->dev != st.st_dev || id->ino != st.st_ino))
		return -SP_TRUST_EMOVED;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

/* O_NOFOLLOW|O_DIRECTORY on a symlink says ENOTDIR or ELOOP: which? */
static int is_link(long at, const char *path)
{
	struct stat st;

	return tsys(SYS_newfstatat, at, (long)path, (long)&st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISLNK(st.st_mode);
}

long sp_trust_dir(long at, const char *path, int create, struct sp_trust_id *id)
{
	const long fl = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	long fd = tsys(SYS_openat, at, (long)path, fl, 0), r;

	if (fd == -ENOENT && create) {
		r = tsys(SYS_mkdirat, at, (long)path, 0700, 0);
		if (r < 0 && r != -EEXIST)
			return r;
		fd = tsys(SYS_openat, at, (long)path, fl, 0);
	}
	if (fd == -ELOOP || fd == -ENOTDIR)
		return is_link(at, path) ? -SP_TRUST_ETYPE : fd;
	if (fd < 0)
		return fd;
	r = check(fd, 1, id);
	if (r < 0) {
		tsys(SYS_close, fd, 0, 0, 0);
		return r;
	}
	return fd;
}

long sp_trust_file(long dfd, const char *name, struct sp_trust_id *id)
{
	long fd = tsys(SYS_openat, dfd, (long)name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	long r;

	if (fd == -ELOOP)
		return -SP_TRUST_ETYPE; /* a symlink */
	if (fd < 0)
		return fd;
	id->ino = 0;
	r = check(fd, 0, id);
	if (r < 0) {
		tsys(SYS_close, fd, 0, 0, 0);
		return r;
	}
	return fd;
}

const char *sp_trust_what(long err)
{
	switch (-err) {
	case SP_TRUST_EOWNER:
		return "is owned by another user";
	case SP_TRUST_EMODE:
		return "is writable by group or others";
	case SP_TRUST_EMOVED:
		return "was replaced since the process started";
	case SP_TRUST_ETYPE:
		return "is a symbolic link or not a plain directory or file";
	default:
		return 0;
	}
}

int sp_trust_tmpname(char *buf, size_t len, const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	size_t n = 0;

	if (tsys(SYS_getrandom, (long)&r, sizeof(r), 1 /* GRND_NONBLOCK */, 0) != sizeof(r)) {
		unsigned lo, hi;

		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		r = ((uint64_t)hi << 32 | lo) * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)tsys(SYS_getpid, 0, 0, 0, 0);
	}
	while (prefix[n]) {
		if (n + 1 >= len)
			return -1;
		buf[n] = prefix[n];
		n++;
	}
	if (n + 16 + 5 > len)
		return -1;
	for (int i = 0; i < 16; i++, r >>= 4)
		buf[n++] = hex[r & 15];
	buf[n++] = '.';
	buf[n++] = 't';
	buf[n++] = 'm';
	buf[n++] = 'p';
	buf[n] = '\0';
	return 0;
}
