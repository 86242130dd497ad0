#!/usr/bin/env bash
# Raw syscalls from the program's own text (inline `syscall`, as Go makes
# them): with the sites rewritten, the program behaves exactly as without
# the library, and its calls are recorded with durations.
. "$(dirname "$0")/lib.sh"
P="$PROGS/rawsys"
run_both() { # mode...: compare plain and traced output and status
	local plain traced rc1 rc2
	plain=$("$@" 2>&1); rc1=$?
	traced=$(STARTPATH_RING=65536 STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$@" 2>&1); rc2=$?
	[ "$rc1" -eq "$rc2" ] || fail "$*: exit $rc2 under the library, $rc1 without"
	[ "$plain" = "$traced" ] || fail "$*: output differs: '$plain' vs '$traced'"
	[ "$rc1" -eq 0 ] || fail "$*: failed even without the library: $plain"
	ok "$*: same output and status ($plain)"
}
raw() { report_json "$TMP/out" | jq -e "[.processes[] | select(.comm==\"rawsys\") | .spans[] | select(.src==\"raw\") | $1] | $2" >/dev/null || fail "$3"; ok "$3"; }

rm -rf "$TMP/out"; run_both "$P" clone3
raw 'select(.call=="clone3" and .exit and .args.child_pid > 0 and .dur_ns > 0)' 'length == 1' "clone3 recorded"
check "$TMP/out" '[.processes[] | select(.comm=="rawsys") | .notes // "" | select(test("rewrote [1-9][0-9]* of"))] | length >= 1' \
	"the sites were rewritten (note in the ring)"

rm -rf "$TMP/out"; run_both "$P" vfork
raw 'select(.call=="clone" and .exit and .args.child_pid > 0 and .args.flags == 16657)' 'length == 5' \
	"5 Go-style vfork clones recorded with child pids"
raw 'select(.call=="execve" and (.flags % 4) >= 2 and .args.env_added >= 2)' 'length == 5' \
	"5 execs in the vfork children, environment carried"
check "$TMP/out" '[.processes[] | select(.comm=="rawsys" and .argv[1]=="leaf")] | length == 5' "5 children traced"
check "$TMP/out" '[.processes[] | select(.comm=="rawsys" and .argv[1]=="vfork") | .spans[] | select(.call=="execve") | .pid] | unique | length == 5' \
	"each child's exec carries its own pid"

rm -rf "$TMP/out"; run_both "$P" clonestack
raw 'select(.call=="clone" and .args.new_stack == 1 and .exit and .args.child_pid > 0)' 'length == 5' \
	"5 clones onto a new stack"

rm -rf "$TMP/out"; run_both "$P" signal
raw 'select(.call=="clone" and .exit and .dur_ns > 15000000)' 'length == 5' \
	"5 vfork clones that lasted the children's 20 ms sleep, signals arriving meanwhile"

rm -rf "$TMP/out"; run_both "$P" threads
raw 'select(.call=="umount2" and .exit and .errno == 2)' 'length == 8000' "8000 calls from 8 threads"
raw 'select(.call=="umount2") | .tid' 'unique | length == 8' "on 8 threads"

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	mkdir -p "$TMP/mnt"
	rm -rf "$TMP/out"
	out=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$P" mount "$TMP/mnt") || fail "mount mode: $out"
	[ "$out" = "unshare=0 private=0 mount=0 umount2=0" ] || fail "mount mode said $out"
	raw "select(.call==\"mount\" and .args.fstype==\"tmpfs\" and .args.target==\"$TMP/mnt\" and .result==0 and .dur_ns > 0)" \
		'length == 1' "a tmpfs mount in a new mount namespace"
	raw 'select(.call=="unshare" and .args.flags == 131072 and .result == 0)' 'length == 1' "unshare(CLONE_NEWNS)"
else
	echo "SKIP part: mount in a new namespace needs root"
fi
# The cache: a second run decodes nothing.
rm -rf "$TMP/out"
STARTPATH_DIR="$TMP/out" STARTPATH_DEBUG=1 LD_PRELOAD="$LIB" "$P" clone3 2>"$TMP/e1" >/dev/null
STARTPATH_DIR="$TMP/out" STARTPATH_DEBUG=1 LD_PRELOAD="$LIB" "$P" clone3 2>"$TMP/e2" >/dev/null
grep -q "(decoded," "$TMP/e1" || fail "first run did not decode: $(cat "$TMP/e1")"
grep -q "(cache," "$TMP/e2" || fail "second run did not use the cache: $(cat "$TMP/e2")"
ok "site cache: decoded once, then read from $(ls "$TMP/out/.sites")"
# STARTPATH_RAW=0: nothing rewritten, nothing raw recorded.
rm -rf "$TMP/out"
STARTPATH_RAW=0 STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$P" clone3 >/dev/null || fail "STARTPATH_RAW=0 run failed"
raw 'select(.call=="clone3")' 'length == 0' "STARTPATH_RAW=0 turns rewriting off"
