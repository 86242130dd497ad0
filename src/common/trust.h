/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trust.h - which directories and files a traced process may write into or
 * read a patch plan from.  The library, startpath-exec and its recorder run
 * as root inside container runtimes; a directory that another user can
 * write (or owns) lets that user plant symlinks, FIFOs, temporary files and
 * site caches.  So a directory is used only if it is a real directory (not
 * a symlink), owned by the process's effective uid, and not writable by
 * group or others; a cached file only if it is a regular file with the same
 * owner and mode rules.  Files are then made with openat(O_EXCL|O_NOFOLLOW)
 * relative to the checked descriptor.
 *
 * Raw system calls only, no libc, no errno: startpath-exec runs this before
 * libc is initialised and its recorder has no libc at all.
 */
#ifndef SP_TRUST_H
#define SP_TRUST_H

#include <stddef.h>
#include <stdint.h>

/* Beyond the errno range: what the checks found. */
#define SP_TRUST_EOWNER 5001 /* owned by another uid */
#define SP_TRUST_EMODE  5002 /* writable by group or others */
#define SP_TRUST_EMOVED 5003 /* not the directory checked at load */
#define SP_TRUST_ETYPE  5004 /* not a directory / not a regular file */

/* A checked directory or file: its identity and what the check saw. */
struct sp_trust_id {
	uint64_t dev, ino;
	uint32_t uid, mode;
};

/*
 * Open `path` (relative to `at`, an fd or AT_FDCWD) as a trusted directory:
 * O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC, owned by the effective uid, no
 * group or other write.  With `create`, a missing directory is made 0700
 * first.  If id->ino is non-zero on entry the directory must be that one
 * (dev and inode), else id is filled.  Returns the descriptor, or
 * -errno / -SP_TRUST_E* (id->uid and id->mode say what was seen).
 * Async-signal-safe.
 */
long sp_trust_dir(long at, const char *path, int create, struct sp_trust_id *id);

/*
 * Open `name` in the directory `dfd` for reading if it is a regular file
 * owned by the effective uid and not writable by group or others (opened
 * O_NONBLOCK: a FIFO never blocks).  Returns the descriptor or -errno /
 * -SP_TRUST_E*.  Async-signal-safe.
 */
long sp_trust_file(long dfd, const char *name, struct sp_trust_id *id);

/* What a negative result of the two means, as a short phrase ("is owned
 * by another user", "is writable by others", or NULL for an errno). */
const char *sp_trust_what(long err);

/* A name for a temporary file, unique and unguessable: prefix, 16 random
 * hex digits, ".tmp".  Returns 0, or -1 if it does not fit. */
int sp_trust_tmpname(char *buf, size_t len, const char *prefix);

#endif
