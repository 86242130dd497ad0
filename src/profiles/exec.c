/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec.c - a process started in a running container: `runc exec` (docker
 * exec, ctr task exec, kubectl exec through the shim).  runc init joins
 * the container's namespaces and execs the command; no rootfs to set up.
 */
#include "rules.h"

static const struct sp_phase_rule rules[] = {
	{ "runtime_exec", NULL, NULL, LOAD("runc:exec"), NOEND,
	  "`runc exec` starts (the shim's child): the process spec, the container's state" },
	{ "runtime_init", NULL, NULL,
	  CALL("runc:exec", SP_CLS_CLONE, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START), NOEND,
	  "its clone of `runc init`" },
	{ "namespace_join", NULL, NULL,
	  CALL("runc:init", SP_CLS_CLONE | SP_CLS_NS, SP_C_NONE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  NOEND, "nsexec's first setns into the container's namespaces" },
	{ "process_exec", NULL, NULL,
	  CALL("runc:init", SP_CLS_EXEC, SP_C_EXECVE, SP_COND_ANY, SP_FIRST, SP_AT_START),
	  PEXIT_FIRST("runc:exec"),
	  "runc init's execve of the command, until `runc exec` returns (it waits for the "
	  "process unless detached)" },
};

PROFILE(sp_profile_exec, "exec", "runc exec: a process started in a running container", rules);
