#!/usr/bin/env bash
# Failing hooked calls return the same values and errno as without the
# library, a succeeding call leaves errno alone, and each is recorded.
. "$(dirname "$0")/lib.sh"
"$PROGS/errno_check" >"$TMP/plain.out" 2>&1
STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/errno_check" >"$TMP/traced.out" 2>"$TMP/traced.err"
diff -u "$TMP/plain.out" "$TMP/traced.out" || fail "output differs under the library"
[ ! -s "$TMP/traced.err" ] || fail "library wrote to stderr: $(cat "$TMP/traced.err")"
grep -q 'errno kept after success: 1234' "$TMP/traced.out" || fail "errno changed"
ok "identical output"
check "$TMP/out" '[.processes[0].spans[] | select(.call=="mount" and .errno==2 and .result==-1)] | length == 2' \
	"mount (libc and syscall()) recorded with ENOENT"
check "$TMP/out" '[.processes[0].spans[] | select(.call=="pivot_root" and .src=="syscall")] | length == 1' \
	"syscall(SYS_pivot_root) recorded"
check "$TMP/out" '[.processes[0].spans[] | select(.call=="setns" and .errno==9)] | length == 1' "setns EBADF"
check "$TMP/out" '[.processes[0].spans[] | select(.call=="execve" and .exit and .errno==2)] | length == 2' \
	"failed execve and execvp recorded with their return"
check "$TMP/out" '[.processes[0].spans[] | select(.call=="mkdir")] | length == 0' \
	"mkdir outside the prefixes not recorded"
