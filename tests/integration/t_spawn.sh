#!/usr/bin/env bash
# posix_spawn, posix_spawnp and vfork+exec: children traced (even with an
# empty environment), the parent's records name the child pids, and the
# vfork child's exec is recorded with the child's own pid.
. "$(dirname "$0")/lib.sh"
out=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/spawn") || fail "spawn failed"
eval "$(echo "$out" | tr ' ' '\n' | grep -E '^(spawn|spawnp|vfork)=')"
ok "children $spawn $spawnp $vfork"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"posix_spawn\" and .args.child_pid==$spawn and .args.env_added==2)] | length == 1" \
	"posix_spawn with child pid and env added"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"posix_spawn\" and .args.child_pid==$spawnp and .args.path==\"true\")] | length == 1" \
	"posix_spawnp"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"vfork\" and .exit and .args.child_pid==$vfork)] | length == 1" \
	"vfork with child pid"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"execve\" and .pid==$vfork)] | length == 1" \
	"the vfork child's execve carries its own pid"
check "$TMP/out" "[.processes[] | select(.pid==$spawn and .argv[1]==\"leaf\")] | length == 1" "spawned child traced"
check "$TMP/out" "[.processes[] | select(.pid==$vfork and .argv[1]==\"leaf\")] | length == 1" "vfork child traced"
# true records nothing: no file (a process's file comes with its first record).
check "$TMP/out" "[.processes[] | select(.comm==\"true\")] | length == 0" "posix_spawnp child (records nothing): no file"
