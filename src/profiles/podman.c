/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podman.c - `podman run` (Debian's podman 4.3, root): podman makes the
 * container's layer and mounts its rootfs itself, starts conmon, which
 * forks and runs the runtime's create (runc or crun); podman then runs the
 * runtime's start.  The same phase names as the other profiles where the
 * step is the same.
 */
#include "rules.h"

#define PODMAN_HEAD \
	{ "engine_start", NULL, NULL, LOAD("podman"), NOEND, \
	  "podman starts: its configuration, the storage, the image" }, \
	{ "layer_create", NULL, NULL, \
	  CALL_AT("/overlay/", "podman", SP_CLS_DIR, SP_C_MKDIRAT, SP_COND_ANY, SP_FIRST, \
		  SP_AT_START), NOEND, \
	  "podman's mkdirat of the container's layer (overlay/<L>), its record, the shm mount" }, \
	{ "rootfs_mount", NULL, NULL, \
	  CALL("podman", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_START), \
	  CALL("podman", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_END), \
	  "podman's overlay mount of the container's rootfs (overlay/<L>/merged), until it returns" }, \
	{ "container_setup", NULL, NULL, \
	  CALL("podman", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_END), NOEND, \
	  "podman after the mount: the OCI config, until it starts conmon" }, \
	{ "conmon_start", NULL, NULL, LOAD("conmon"), NOEND, \
	  "conmon starts (podman's clone), forks twice, until it runs the runtime" }, \
	{ "runtime_create", NULL, NULL, LOAD("runc:create|crun:create"), NOEND, \
	  "`runc create` or `crun create` starts (conmon's child)" }, \
	/* end */

static const struct sp_phase_rule with_runc[] = {
	PODMAN_HEAD
	{ "runtime_init", NULL, NULL,
	  CALL("runc:create", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc create's clone of `runc init`" },
	{ "namespace_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_NS, SP_FIRST,
	       SP_AT_START),
	  NOEND, "the first clone/unshare/setns making namespaces (runc init's nsexec)" },
	{ "rootfs_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "the first mount in the new namespaces" },
	{ "pivot_root", "rootfs_setup", NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST,
	       SP_AT_START),
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST,
	       SP_AT_END),
	  "the pivot_root call" },
	{ "task_start", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END),
	  NOEND, "end of the container's last mount: create returns, podman runs `start`" },
	{ "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST,
	       SP_AT_START),
	  PEXIT_FIRST("runc:start"),
	  "the entrypoint's exec, until `runc start` returns (or a ready mark)" },
	{ "runtime_delete", NULL, "teardown", LOAD("runc:delete"),
	  PEXIT_FIRST("runc:delete"),
	  "the runtime's delete (podman's cleanup, run by conmon), start to exit" },
	{ "rootfs_unmount", NULL, "teardown",
	  CALL_AT("/merged", "podman", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST,
		  SP_AT_START),
	  CALL_AT("/merged", "podman", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_END),
	  "podman's umount2 of the rootfs (its cleanup)" },
};

/* crun has no init of its own: its create clones the container directly. */
static const struct sp_phase_rule with_crun[] = {
	PODMAN_HEAD
	{ "namespace_setup", NULL, NULL,
	  CALL("crun:create", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_NS, SP_FIRST,
	       SP_AT_START),
	  NOEND, "the first clone/unshare/setns making namespaces (crun create's clone)" },
	{ "rootfs_setup", NULL, NULL,
	  CALL("crun:create", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "the first mount in the new namespaces" },
	{ "pivot_root", "rootfs_setup", NULL,
	  CALL("crun:create", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST,
	       SP_AT_START),
	  CALL("crun:create", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST,
	       SP_AT_END),
	  "the pivot_root call" },
	{ "task_start", NULL, NULL,
	  CALL("crun:create", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END),
	  NOEND, "end of the container's last mount: create returns, podman runs `start`" },
	{ "process_exec", NULL, NULL,
	  CALL("crun:create", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST,
	       SP_AT_START),
	  PEXIT_FIRST("crun:start"),
	  "the entrypoint's exec, until `crun start` returns (or a ready mark)" },
	{ "runtime_delete", NULL, "teardown", LOAD("crun:delete"),
	  PEXIT_FIRST("crun:delete"),
	  "the runtime's delete (podman's cleanup, run by conmon), start to exit" },
	{ "rootfs_unmount", NULL, "teardown",
	  CALL_AT("/merged", "podman", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST,
		  SP_AT_START),
	  CALL_AT("/merged", "podman", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_END),
	  "podman's umount2 of the rootfs (its cleanup)" },
};

PROFILE(sp_profile_podman, "podman", "podman run with runc, under conmon", with_runc);
PROFILE(sp_profile_podman_crun, "podman-crun", "podman run with crun, under conmon", with_crun);
