/* SPDX-License-Identifier: Apache-2.0 */
/*
 * startpath.h - the one public definition of what libstartpath.so records and
 * how the startpath CLI reads it: the ring file layout, the record format, the
 * call and event numbers, and the environment variables that configure the
 * library.  The library (src/lib) writes these structures, the CLI (src/cli)
 * reads them; both include this header, so the two sides cannot disagree.
 *
 * A ring file is a header page followed by a power-of-two array of fixed-size
 * records.  Writers take a ticket with one atomic add on `head`, fill slot
 * (ticket & mask) and publish it by storing seq = ticket + 1 last.  Readers
 * accept a slot only if its seq is the one its position in [head - capacity,
 * head) demands, so every overwritten or unfinished record is counted.
 */
#ifndef STARTPATH_H
#define STARTPATH_H

#include <stdint.h>

#define STARTPATH_VERSION "0.1.0"

/* Environment variables read by libstartpath.so. */
#define SP_ENV_DIR      "STARTPATH_DIR"      /* output directory */
/* Set by the library for the image an exec starts (never by a user):
 * "<pid>:<host pid>:<pid namespace inode>" of the process that exec'd. */
#define SP_ENV_PROC     "STARTPATH_PROC"
#define SP_ENV_DEBUG    "STARTPATH_DEBUG"    /* 0..3 */
#define SP_ENV_LOG      "STARTPATH_LOG"      /* log file path (".<pid>" appended) */
#define SP_ENV_PREFIXES "STARTPATH_PREFIXES" /* ':'-separated dir prefixes for mkdir/rename */
#define SP_ENV_RING     "STARTPATH_RING"     /* records per ring (power of two) */
#define SP_ENV_DISABLE  "STARTPATH_DISABLE"  /* 1: load but record nothing */

#define SP_DEFAULT_DIR_ROOT "/run/startpath"
/* containerd's default root and state: snapshots, content and task
 * directories are made and renamed under them.  containerd itself records
 * under the root and state it really uses (learnt from its flags and
 * config at load). */
#define SP_DEFAULT_PREFIXES "/var/lib/containerd:/run/containerd"

#define SP_RING_MAGIC   0x31474e4952505453ULL /* "STPRING1" little-endian */
#define SP_RING_VERSION 2
#define SP_RING_DEFAULT_RECORDS 1024   /* 512 KiB: a runtime, a shim, a child */
#define SP_RING_DAEMON_RECORDS 16384   /* 8 MiB: containerd, dockerd: they never exit */
#define SP_RING_MIN_RECORDS 64
#define SP_RING_MAX_RECORDS (1u << 22)

#define SP_REC_SIZE 512
#define SP_REC_HDR  72
#define SP_REC_DATA (SP_REC_SIZE - SP_REC_HDR)

/* Record kinds. */
enum sp_kind {
	SP_K_NONE = 0,
	SP_K_ENTER = 1,  /* a hooked call begins (arguments recorded) */
	SP_K_EXIT = 2,   /* it returns (result, errno) */
	SP_K_LOAD = 3,   /* library loaded in this process image */
	SP_K_FORK = 4,   /* this ring belongs to a child created by fork/clone */
	SP_K_PEXIT = 5,  /* process is exiting; result = status */
	SP_K_MARK = 6,   /* a named mark (data: name) */
	SP_K_NOTE = 7,   /* a library message (data: text) */
};

/* Hooked calls.  Keep in step with sp_call_table in src/common/record.c. */
enum sp_call {
	SP_C_NONE = 0,
	SP_C_MOUNT,
	SP_C_UMOUNT,
	SP_C_UMOUNT2,
	SP_C_PIVOT_ROOT,
	SP_C_CHROOT,
	SP_C_CLONE,
	SP_C_CLONE3,
	SP_C_FORK,
	SP_C_VFORK,
	SP_C_EXECVE,
	SP_C_EXECVEAT,
	SP_C_FEXECVE,
	SP_C_POSIX_SPAWN,
	SP_C_UNSHARE,
	SP_C_SETNS,
	SP_C_FSOPEN,
	SP_C_FSCONFIG,
	SP_C_FSMOUNT,
	SP_C_MOVE_MOUNT,
	SP_C_OPEN_TREE,
	SP_C_MOUNT_SETATTR,
	SP_C_MKDIR,
	SP_C_MKDIRAT,
	SP_C_RENAME,
	SP_C_RENAMEAT,
	SP_C_RENAMEAT2,
	SP_C_EXIT,
	SP_C_OPENAT,  /* a content store blob opened for reading */
	SP_C_CONNECT, /* an IPv4/IPv6 connect (a registry) */
	SP_C_COUNT
};

/* Where a record came from. */
enum sp_src {
	SP_SRC_LIBC = 0,    /* an interposed libc function */
	SP_SRC_SYSCALL = 1, /* libc's syscall() */
	SP_SRC_RAW = 2,     /* a rewritten raw syscall site */
};

/* Record flags (sp_record.flags). */
#define SP_RF_CONTAINED 0x1 /* process had pivoted/chrooted when this was recorded */
#define SP_RF_VFORKED   0x2 /* recorded in a vfork child */
#define SP_RF_TRUNC     0x4 /* some string was truncated */

/*
 * One record: 512 bytes.  `seq` is the publication word and must stay first.
 * data holds nstr NUL-terminated strings back to back (see sp_rec_put_strs).
 */
struct sp_record {
	uint64_t seq;     /* ticket + 1 once published; 0 while being written */
	uint64_t t_ns;    /* CLOCK_MONOTONIC */
	int32_t pid;      /* getpid() of the writer (its own namespace) */
	int32_t tid;
	uint16_t kind;    /* enum sp_kind */
	uint16_t call;    /* enum sp_call */
	uint32_t callid;  /* pairs ENTER and EXIT of one call on one thread */
	int64_t result;
	int32_t err;      /* errno after the call, 0 if none */
	uint8_t src;      /* enum sp_src */
	uint8_t flags;    /* SP_RF_* */
	uint16_t nstr;
	uint64_t arg[3];  /* call-specific numbers; see sp_call_table */
	char data[SP_REC_DATA];
};

/* Ring header flags. */
#define SP_HF_EXITED     0x1 /* a PEXIT record was written */
#define SP_HF_JSON       0x2 /* the per-process JSON file was written */
#define SP_HF_EXECED     0x4 /* the image exec'd; a newer ring continues the pid */
#define SP_HF_CONTAINED  0x8 /* pivot_root or chroot succeeded */

#define SP_HDR_SIZE 4096
#define SP_EXE_MAX  256
#define SP_ARGS_MAX 1024

/* The header page of a ring file.  Fixed at creation except head/flags. */
/* Where the library spent its time (sp_ring_hdr.cost_ns).  RING and PLAN
 * are taken out of the others: making the ring file (at the first record),
 * and reading and applying the syscall sites' patch plan (at load). */
enum {
	SP_COST_LOAD, SP_COST_CALLS, SP_COST_CHILD, SP_COST_EXEC, SP_COST_EXIT,
	SP_COST_RING, SP_COST_PLAN, SP_COST_N
};

struct sp_ring_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;     /* SP_HDR_SIZE */
	uint32_t rec_size;     /* SP_REC_SIZE */
	uint32_t capacity;     /* records, power of two */
	uint64_t ring_id;      /* unique per ring */
	uint64_t parent_ring_id; /* ring of the process this one forked from, or 0 */
	int32_t pid;           /* getpid() at creation */
	int32_t host_pid;      /* pid as the host's /proc saw it, or pid */
	int32_t ppid;
	uint32_t flags_created;
	uint64_t t_load_ns;    /* CLOCK_MONOTONIC at creation */
	uint64_t t_load_real_ns; /* CLOCK_REALTIME at creation */
	uint32_t argc;         /* strings in args (may be truncated) */
	uint32_t pad0;
	char exe[SP_EXE_MAX];
	char args[SP_ARGS_MAX];  /* argv, NUL-separated */
	/* The inode of the pid namespace in which host_pid names the process
	 * (its own, when /proc agreed), or 0 if unknown: retention asks
	 * whether a process is alive only in that namespace. */
	uint64_t pidns;
	/* Nanoseconds spent inside the library by this process, by where
	 * (SP_COST_*): written by a timing build only (make SELFTIME=1). */
	uint64_t cost_ns[7]; /* 5 before RING and PLAN: their place was padding */
	/* Written while running; each on its own cache line. */
	uint64_t head __attribute__((aligned(64)));
	/* Slots [0, reserved) have their pages in the file; 0: all of them
	 * (reserved when the ring was made).  Writers reserve more as the
	 * ring fills; nobody touches a slot beyond: on a full tmpfs even a
	 * read of an unreserved page raises SIGBUS. */
	uint32_t reserved;
	uint64_t flags __attribute__((aligned(64)));
	int64_t exit_status;   /* valid with SP_HF_EXITED */
	uint64_t dropped;      /* records with no page to go to (full filesystem) */
};

#endif /* STARTPATH_H */
