/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd.c - containerd (1.6+), containerd-shim-runc-v2 and runc: a
 * container started by `ctr run`, nerdctl, or any client of containerd's
 * own API (a pod's containers: pod.c).
 */
#include "rules.h"

static const struct sp_phase_rule rules[] = {
	{ "snapshot_prepare", NULL, NULL,
	  CALL("containerd", SP_CLS_DIR, SP_C_MKDIRAT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("containerd", SP_CLS_DIR, SP_C_RENAMEAT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "containerd's mkdirat of the snapshot's new-NNN directory, until its rename" },
	{ "task_create", NULL, NULL,
	  CALL("containerd", SP_CLS_DIR, SP_C_RENAMEAT, SP_COND_ANY, SP_FIRST, SP_AT_END), NOEND,
	  "containerd after the snapshot: container record, task bundle, until the shim starts" },
	{ "shim_start", NULL, NULL,
	  CALL("containerd", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "containerd's clone of `containerd-shim-runc-v2 ... -id ID start`" },
	{ "snapshot_mount", NULL, NULL,
	  CALL("shim", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_START),
	  CALL("shim", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_END),
	  "the shim's overlay mount of the rootfs, until it returns" },
	{ "runtime_create", NULL, NULL,
	  CALL("shim", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "the shim's clone of `runc create`" },
	{ "runtime_init", NULL, NULL,
	  CALL("runc:create", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc create's clone of `runc init` (/proc/self/exe)" },
	{ "namespace_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "runc init's nsexec: first clone/unshare/setns" },
	{ "rootfs_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc init's first mount in the new namespaces" },
	{ "pivot_root", "rootfs_setup", NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "task_start", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of runc init's last mount: runc create returns, `runc start`" },
	{ "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  LOAD("runc:delete"),
	  "runc init's exec of the entrypoint, until `runc delete` (or a ready mark)" },
	{ "runtime_delete", NULL, "teardown",
	  LOAD("runc:delete"), PEXIT_FIRST("runc:delete"), "`runc delete`, start to exit" },
	{ "snapshot_unmount", NULL, "teardown",
	  CALL("shim", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_START),
	  CALL("shim", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_END),
	  "the shim's umount2 of the rootfs" },
};

PROFILE(sp_profile_containerd, "containerd", "containerd, its runc shim and runc", rules);
