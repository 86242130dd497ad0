/* SPDX-License-Identifier: Apache-2.0 */
/* crun.c - crun run / crun create+start: one C process and its clone child. */
#include "rules.h"

static const struct sp_phase_rule rules[] = {
	{ "runtime_create", NULL, NULL, LOAD("crun"), NOEND,
	  "crun starts: config, state dir, its own re-exec" },
	{ "namespace_setup", NULL, NULL,
	  CALL("crun", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_NS, SP_FIRST, SP_AT_START),
	  NOEND, "first clone/unshare with CLONE_NEW* flags" },
	{ "rootfs_setup", NULL, NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "first mount after the namespaces exist" },
	{ "pivot_root", "rootfs_setup", NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  CALL("crun", SP_CLS_MOUNT, SP_C_PIVOT_ROOT, SP_COND_ANY, SP_FIRST, SP_AT_END),
	  "the pivot_root call" },
	{ "task_start", NULL, NULL,
	  CALL("crun", SP_CLS_MOUNT, SP_C_NONE, SP_COND_ANY, SP_LAST, SP_AT_END), NOEND,
	  "end of the last mount before the entrypoint's exec" },
	{ "process_exec", NULL, NULL,
	  CALL("crun", SP_CLS_EXEC, SP_C_NONE, SP_COND_CONTAINED, SP_FIRST, SP_AT_START),
	  PEXIT_LAST("crun"),
	  "the entrypoint's execve, until the runtime exits (or a ready mark)" },
};

PROFILE(sp_profile_crun, "crun", "crun run, or crun create and start", rules);
