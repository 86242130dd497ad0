/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules.h - shorthands for writing a profile's phase rules (private to
 * src/profiles).  An anchor names a role (roles.c; "a|b" for either, "*"
 * for any), what it did, and which match: FIRST after the previous phase's
 * start, or LAST before the next one's.
 */
#ifndef SP_PROFILES_RULES_H
#define SP_PROFILES_RULES_H

#include <sched.h>
#include "phases.h"

/* A call of class c (call k, or SP_C_NONE for any in c) by role r. */
#define CALL(r, c, k, cond_, pick_, edge_) \
	{ .kind = SP_AK_CALL, .role = r, .cls = c, .call = k, .cond = cond_, .pick = pick_, \
	  .edge = edge_ }
/* The same, about a path that contains p. */
#define CALL_AT(p, r, c, k, cond_, pick_, edge_) \
	{ .kind = SP_AK_CALL, .role = r, .cls = c, .call = k, .cond = cond_, .pick = pick_, \
	  .edge = edge_, .path = p }
#define LOAD(r) { .kind = SP_AK_LOAD, .role = r }
#define LOAD_LAST(r) { .kind = SP_AK_LOAD, .role = r, .pick = SP_LAST }
#define PEXIT_LAST(r) { .kind = SP_AK_PEXIT, .role = r, .pick = SP_LAST }
#define PEXIT_FIRST(r) { .kind = SP_AK_PEXIT, .role = r }
#define NOEND { .kind = SP_AK_NONE }

#define PROFILE(var, name_, doc_, rules_) \
	const struct sp_profile var = { name_, doc_, rules_, sizeof(rules_) / sizeof(rules_[0]) }

#endif
