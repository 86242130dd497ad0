#!/usr/bin/env bash
# 8 threads mounting at once: every call recorded once, on its own thread.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd unshare util-linux
mkdir -p "$TMP/mnt"
out=$(STARTPATH_RING=65536 STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" unshare -m "$PROGS/threads_mount" "$TMP/mnt" 8 200) ||
	fail "threads_mount: $out"
check "$TMP/out" '[.processes[] | select(.comm=="threads_mount") | .spans[] | select(.call=="mount" and .result==0 and .exit)] | length == 1600' \
	"1600 mounts"
check "$TMP/out" '[.processes[] | select(.comm=="threads_mount") | .spans[] | select(.call=="umount2" and .result==0)] | length == 1600' \
	"1600 umount2"
check "$TMP/out" '[.processes[] | select(.comm=="threads_mount") | .spans[] | select(.call=="mount") | .tid] | unique | length == 8' \
	"8 distinct threads"
check "$TMP/out" '[.processes[] | select(.comm=="threads_mount") | .lost] | add == 0' "nothing lost"
