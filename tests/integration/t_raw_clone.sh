#!/usr/bin/env bash
# Process creation and exit through syscall(): fork-style clone and clone3,
# execve and exit_group via syscall() are recorded, and children get rings.
. "$(dirname "$0")/lib.sh"
# The library carries every STARTPATH_* setting into children: the count of
# variables the exec added (2, below) holds only without others in ours.
for v in $(compgen -e | grep '^STARTPATH_'); do unset "$v"; done
out=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/raw_clone"); rc=$?
[ $rc -eq 3 ] || fail "exit $rc, expected 3 (exit_group through syscall)"
eval "$(echo "$out" | tr ' ' '\n' | grep -E '^(clone|clone2|clone3|ok)=')"
[ "$ok" = 1 ] || fail "children failed: $out"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"clone\" and .src==\"syscall\" and .args.child_pid==$clone)] | length == 1" \
	"clone via syscall() with child pid"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"clone3\" and .args.child_pid==$clone3)] | length == 1" "clone3"
check "$TMP/out" "[.processes[] | select(.pid==$clone and .forked)] | length == 1" "clone child has its own ring"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"execve\" and .src==\"syscall\" and .args.env_added==2)] | length == 1" \
	"syscall(SYS_execve) with the environment carried"
check "$TMP/out" "[.processes[] | select(.pid==$clone and .forked==false and .argv[1]==\"leaf\")] | length == 1" \
	"the exec'd child is traced"
check "$TMP/out" '[.processes[] | select(.comm=="raw_clone" and .forked==false and .exited and .exit_status==3)] | length == 1' \
	"exit_group(3) through syscall() recorded"
