/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.h - the library's settings in a child's environment: carried into
 * the children of a traced process, taken out of a container's.
 */
#ifndef SP_ENV_H
#define SP_ENV_H

#include <stddef.h>

/*
 * Build in `out` (outcap pointers) the environment a child of a traced
 * process gets: envp with its settings made the traced process's own.
 * `ours` (NULL-terminated "NAME=value") holds LD_PRELOAD and the STARTPATH_*
 * variables as they were when the library loaded.  Every STARTPATH_*
 * variable of envp that is not one of ours, to the letter, is left out and
 * ours are added: what the process's environment became after load (runc
 * copies a container image's variables into its own) never steers a child.
 * LD_PRELOAD gets our value put in front when it does not already list it
 * (':' or ' ' separated entries are compared); such a rewritten entry is
 * built in `buf`.  Returns the number of variables added, changed or left
 * out (0: out is a copy of envp), or -1 if out or buf is too small (the
 * caller then uses envp as is).  No allocation: async-signal-safe and safe
 * in a vfork child.
 */
int sp_env_merge(char *const envp[], const char *const ours[], char **out,
		 size_t outcap, char *buf, size_t buflen);

/*
 * The environment of an exec into a container (after pivot_root, chroot or
 * joining a mount namespace): envp without the entries equal to one of
 * `ours` and, if `lib` is given, without it in LD_PRELOAD (the variable
 * goes when nothing else is listed).  A container's own variables, even STARTPATH_* ones
 * with other values, are kept.  Returns the number of variables changed or
 * left out (0: out is a copy of envp), or -1 if out or buf is too small.
 * No allocation.
 */
int sp_env_strip(char *const envp[], const char *const ours[], const char *lib, char **out,
		 size_t outcap, char *buf, size_t buflen);

/* 1 if the colon/space separated list `list` contains `item` exactly. */
int sp_list_has(const char *list, const char *item);

#endif
