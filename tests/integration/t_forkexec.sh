#!/usr/bin/env bash
# fork/exec chains with an empty environment stay traced: the exec hook puts
# LD_PRELOAD and STARTPATH_DIR back.  Every image has its file.
. "$(dirname "$0")/lib.sh"
STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 6
rc=$?
[ $rc -eq 6 ] || fail "chain returned $rc, expected 6"
# 7 exec'd images (chain 6..0) + 6 fork children before their exec
check "$TMP/out" '[.processes[] | select(.comm=="forkexec" and .forked==false)] | length == 7' "7 program images"
check "$TMP/out" '[.processes[] | select(.comm=="forkexec" and .forked==true)] | length == 6' "6 fork children"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="execve" and .args.env_added==2 and .args.argv1=="chain")] | length == 6' \
	"6 execs got LD_PRELOAD and STARTPATH_DIR added"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="fork" and .exit and .args.child_pid > 0)] | length == 6' \
	"6 forks with child pids"
check "$TMP/out" '[.processes[] | select(.forked==false and .comm=="forkexec") | .argv[2]] | sort == ["0","1","2","3","4","5","6"]' \
	"argv of every image"
