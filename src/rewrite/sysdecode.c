/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysdecode.c - what a record keeps of a system call, from its number and
 * raw arguments: shared by libc's syscall() hook (hook_proc.c) and the
 * rewritten raw sites (raw.c), which see the same registers.  Exec and
 * exit_group are handled by the callers (environment, process exit).
 * No allocation: runs in vfork children and on the raw path's stack.
 */
#include "rewrite.h"
#include "startpath.h"
#include "record.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* The first fields of struct clone_args (linux/sched.h), all __u64. */
struct clone3_head {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack;
};

static char *put_dec(char *o, unsigned v)
{
	char t[12];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*o++ = t[--n];
	return o;
}

/* "a.b.c.d:port" or "[x:x:...]:port" into out (at least 56 bytes), or
 * 0 for another family. */
static int inet_str(const void *sa, uint64_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const struct sockaddr_in *s4 = sa;
	const struct sockaddr_in6 *s6 = sa;
	char *o = out;

	if (!sa || len < sizeof(struct sockaddr_in))
		return 0;
	if (s4->sin_family == AF_INET) {
		const unsigned char *b = (const unsigned char *)&s4->sin_addr;

		for (int i = 0; i < 4; i++) {
			o = put_dec(o, b[i]);
			*o++ = i < 3 ? '.' : ':';
		}
		o = put_dec(o, ntohs(s4->sin_port));
	} else if (s6->sin6_family == AF_INET6 && len >= sizeof(*s6)) {
		const unsigned char *b = s6->sin6_addr.s6_addr;

		*o++ = '[';
		for (int i = 0; i < 16; i += 2) {
			unsigned v = (unsigned)b[i] << 8 | b[i + 1];
			int lead = 1;

			for (int k = 12; k >= 0; k -= 4) {
				unsigned d = v >> k & 15;

				if (d || !lead || k == 0)
					*o++ = hex[d], lead = 0;
			}
			*o++ = i < 14 ? ':' : ']';
		}
		*o++ = ':';
		o = put_dec(o, ntohs(s6->sin6_port));
	} else {
		return 0;
	}
	*o = '\0';
	return 1;
}

int sp_sys_decode(long nr, const uint64_t a[6], struct sp_sysrec *r)
{
	memset(r->x, 0, sizeof(r->x));
	r->nstr = 0;
	switch (nr) {
	case SYS_mount:
		r->nstr = sp_mount_strs((const char *)a[0], (const char *)a[1], (const char *)a[2],
					a[3], (const void *)a[4], r->strs, r->up, sizeof(r->up),
					&r->x[1]);
		r->call = SP_C_MOUNT;
		r->x[0] = a[3];
		return 0;
	case SYS_umount2:
		r->strs[0] = (const char *)a[0];
		r->nstr = 1;
		r->call = SP_C_UMOUNT2;
		r->x[0] = a[1];
		return 0;
	case SYS_pivot_root:
		r->strs[0] = (const char *)a[0];
		r->strs[1] = (const char *)a[1];
		r->nstr = 2;
		r->call = SP_C_PIVOT_ROOT;
		return 0;
	case SYS_chroot:
		r->strs[0] = (const char *)a[0];
		r->nstr = 1;
		r->call = SP_C_CHROOT;
		return 0;
	case SYS_clone:
		r->call = SP_C_CLONE;
		r->x[0] = a[0];
		r->x[1] = a[1] != 0;
		return 0;
	case SYS_clone3: {
		const struct clone3_head *ca = (const struct clone3_head *)a[0];

		r->call = SP_C_CLONE3;
		if (ca && a[1] >= sizeof(*ca)) {
			r->x[0] = ca->flags;
			r->x[1] = ca->stack != 0;
		}
		return 0;
	}
	case SYS_fork:
		r->call = SP_C_FORK;
		return 0;
	case SYS_vfork:
		r->call = SP_C_VFORK;
		r->x[0] = CLONE_VM | CLONE_VFORK;
		return 0;
	case SYS_unshare:
		r->call = SP_C_UNSHARE;
		r->x[0] = a[0];
		return 0;
	case SYS_setns:
		r->call = SP_C_SETNS;
		r->x[0] = a[0];
		r->x[1] = a[1];
		return 0;
	case SYS_fsopen:
		r->strs[0] = (const char *)a[0];
		r->nstr = 1;
		r->call = SP_C_FSOPEN;
		r->x[0] = a[1];
		return 0;
	case SYS_fsconfig:
		r->strs[0] = (const char *)a[2];
		r->strs[1] = a[1] == 1 ? (const char *)a[3] : NULL; /* FSCONFIG_SET_STRING */
		r->nstr = 2;
		r->call = SP_C_FSCONFIG;
		r->x[0] = a[0];
		r->x[1] = a[1];
		r->x[2] = a[4];
		return 0;
	case SYS_fsmount:
		r->call = SP_C_FSMOUNT;
		r->x[0] = a[0];
		r->x[1] = a[1];
		r->x[2] = a[2];
		return 0;
	case SYS_move_mount:
		r->strs[0] = (const char *)a[1];
		r->strs[1] = (const char *)a[3];
		r->nstr = 2;
		r->call = SP_C_MOVE_MOUNT;
		r->x[0] = a[0];
		r->x[1] = a[2];
		r->x[2] = a[4];
		return 0;
	case SYS_open_tree:
		r->strs[0] = (const char *)a[1];
		r->nstr = 1;
		r->call = SP_C_OPEN_TREE;
		r->x[0] = a[0];
		r->x[1] = a[2];
		return 0;
	case SYS_mount_setattr:
		r->strs[0] = (const char *)a[1];
		r->nstr = 1;
		r->call = SP_C_MOUNT_SETATTR;
		r->x[0] = a[0];
		r->x[1] = a[2];
		r->x[2] = a[3] && a[4] >= 8 ? *(const uint64_t *)a[3] : 0;
		return 0;
	case SYS_mkdir:
	case SYS_mkdirat:
		r->strs[0] = (const char *)(nr == SYS_mkdir ? a[0] : a[1]);
		if (!sp_prefix_match(r->strs[0]) || sp_layer_content_path(r->strs[0]))
			return -1;
		r->nstr = 1;
		r->call = nr == SYS_mkdir ? SP_C_MKDIR : SP_C_MKDIRAT;
		r->x[0] = nr == SYS_mkdir ? a[1] : a[2];
		r->x[1] = nr == SYS_mkdir ? 0 : a[0];
		return 0;
	case SYS_rename:
	case SYS_renameat:
	case SYS_renameat2:
		r->strs[0] = (const char *)(nr == SYS_rename ? a[0] : a[1]);
		r->strs[1] = (const char *)(nr == SYS_rename ? a[1] : a[3]);
		if (!sp_prefix_match(r->strs[0]) && !sp_prefix_match(r->strs[1]))
			return -1;
		r->nstr = 2;
		r->call = nr == SYS_rename ? SP_C_RENAME : nr == SYS_renameat ? SP_C_RENAMEAT
						       : SP_C_RENAMEAT2;
		r->x[0] = nr == SYS_renameat2 ? a[4] : 0;
		return 0;
	case SYS_openat:
		/* A blob of a content store read (containerd's applier opens
		 * the layer it unpacks): asked for only where the interest
		 * set has openat (containerd). */
		r->strs[0] = (const char *)a[1];
		if ((a[2] & (O_ACCMODE | O_CREAT)) != O_RDONLY || !r->strs[0] ||
		    !strstr(r->strs[0], "/blobs/sha256/") || !sp_prefix_match(r->strs[0]))
			return -1;
		r->nstr = 1;
		r->call = SP_C_OPENAT;
		r->x[0] = a[2];
		r->x[1] = a[0];
		return 0;
	case SYS_connect:
		if (!inet_str((const void *)a[1], a[2], r->up))
			return -1;
		r->strs[0] = r->up;
		r->nstr = 1;
		r->call = SP_C_CONNECT;
		r->x[0] = ((const struct sockaddr *)a[1])->sa_family;
		r->x[1] = a[0];
		return 0;
	default:
		return -1;
	}
}
