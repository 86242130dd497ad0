/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker.c - `docker run` through dockerd (Debian's docker.io 20.10): dockerd
 * makes the container's layers (overlay2: an init layer, then the
 * container's) and mounts its rootfs itself, then asks its containerd for a
 * task; the shim runs runc, whose create runs docker's prestart hook
 * (libnetwork-setkey, even with --network none) between runc init's first
 * mounts and its pivot_root.
 */
#include "rules.h"

#define TASK_DIR "/io.containerd.runtime.v2.task/"

static const struct sp_phase_rule rules[] = {
	{ "layer_create", NULL, NULL,
	  CALL_AT("/overlay2/", "dockerd", SP_CLS_DIR, SP_C_MKDIRAT, SP_COND_ANY, SP_FIRST,
		  SP_AT_START), NOEND,
	  "dockerd's mkdirat of the container's init layer (overlay2/<m>-init): the init "
	  "layer, the container's layer and record (docker create), until the start's rootfs mount" },
	{ "rootfs_mount", NULL, NULL,
	  CALL("dockerd", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_LAST, SP_AT_START),
	  CALL("dockerd", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_FIRST, SP_AT_END),
	  "dockerd's overlay mount of the container's rootfs (overlay2/<m>/merged), until it returns" },
	{ "container_setup", NULL, NULL,
	  CALL("dockerd", SP_CLS_MOUNT, SP_C_MOUNT, SP_COND_OVERLAY, SP_LAST, SP_AT_END), NOEND,
	  "dockerd after the mount: hosts, resolv.conf, the container's FIFOs, its call to containerd" },
	{ "task_create", NULL, NULL,
	  CALL_AT(TASK_DIR, "containerd", SP_CLS_DIR, SP_C_MKDIRAT, SP_COND_ANY, SP_FIRST,
		  SP_AT_START), NOEND,
	  "containerd's mkdirat of the task directory (bundle), until the shim starts" },
	{ "shim_start", NULL, NULL,
	  CALL("containerd", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "containerd's clone of `containerd-shim-runc-v2 -namespace moby ... start`" },
	{ "runtime_create", NULL, NULL,
	  CALL("shim", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "the shim's clone of `runc create`" },
	{ "runtime_init", NULL, NULL,
	  CALL("runc:create", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc create's clone of `runc init`" },
	{ "namespace_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "runc init's nsexec: first clone/unshare/setns" },
	{ "rootfs_setup", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "runc init's first mount: the rootfs bind, /proc, /dev, the mounts of the config" },
	{ "oci_hooks", NULL, NULL, LOAD("hook"), NOEND,
	  "the first hook runc create runs (docker's libnetwork-setkey: the network namespace, "
	  "dockerd's set-ipv6), until runc init pivots" },
	{ "pivot_root", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "runc init's pivot_root, then its last mounts (masked and read-only paths)" },
	{ "task_start", NULL, NULL,
	  CALL("runc:init", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of runc init's last mount: runc create returns, `runc start`" },
	{ "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  LOAD("runc:delete"),
	  "runc init's exec of the entrypoint, until `runc delete` (or a ready mark)" },
	{ "runtime_delete", NULL, "teardown",
	  LOAD("runc:delete"), PEXIT_FIRST("runc:delete"), "`runc delete`, start to exit" },
	{ "netns_remove", NULL, "teardown",
	  CALL_AT("/netns/", "dockerd", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_ANY, SP_FIRST,
		  SP_AT_START),
	  CALL_AT("/netns/", "dockerd", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_ANY, SP_FIRST,
		  SP_AT_END),
	  "dockerd's umount2 of the network namespace it kept" },
	{ "rootfs_unmount", NULL, "teardown",
	  CALL_AT("/merged", "dockerd", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST,
		  SP_AT_START),
	  CALL_AT("/merged", "dockerd", SP_CLS_MOUNT, SP_C_UMOUNT2, SP_COND_OK, SP_FIRST, SP_AT_END),
	  "dockerd's umount2 of the container's rootfs" },
};

PROFILE(sp_profile_docker, "docker", "docker run: dockerd, its containerd, the shim and runc",
	rules);
