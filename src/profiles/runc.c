/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc.c - runc driven directly: `runc run`, or `runc create` then
 * `runc start` (scripts, podman/conmon).  The same names as below a shim.
 */
#include "rules.h"

static const struct sp_phase_rule rules[] = {
	{ "runtime_create", NULL, NULL, LOAD("runc:create|runc:run"), NOEND,
	  "`runc create` or `runc run` starts: config, state, cgroups" },
	{ "runtime_init", NULL, NULL,
	  CALL("runc:create|runc:run", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "its clone of `runc init` (/proc/self/exe)" },
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
	  "end of runc init's last mount: create returns, `runc start` (run starts it itself)" },
	{ "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  PEXIT_LAST("runc:run|runc:start"),
	  "runc init's exec of the entrypoint, until `runc run` exits with the container, or "
	  "`runc start` returns (or a ready mark)" },
	{ "runtime_delete", NULL, "teardown",
	  LOAD("runc:delete"), PEXIT_FIRST("runc:delete"), "`runc delete`, start to exit" },
};

PROFILE(sp_profile_runc, "runc", "runc run, or runc create and start, without a shim", rules);
