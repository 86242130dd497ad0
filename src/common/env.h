/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.h - carry the library's settings into a child's environment.
 */
#ifndef SP_ENV_H
#define SP_ENV_H

#include <stddef.h>

/*
 * Build in `out` (outcap pointers) the environment a child should get:
 * envp plus every "NAME=value" of `ours` (NULL-terminated) that envp lacks.
 * A variable envp already has is kept as it is, except LD_PRELOAD, which gets
 * our value put in front when it does not already list it (the ':' or ' '
 * separated entries are compared); such a rewritten entry is built in `buf`.
 * Returns the number of variables added or changed (0: out is a copy of
 * envp), or -1 if out or buf is too small (the caller then uses envp as is).
 * No allocation: async-signal-safe and safe in a vfork child.
 */
int sp_env_merge(char *const envp[], const char *const ours[], char **out,
		 size_t outcap, char *buf, size_t buflen);

/* 1 if the colon/space separated list `list` contains `item` exactly. */
int sp_list_has(const char *list, const char *item);

#endif
