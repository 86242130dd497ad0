#!/usr/bin/env bash
# A tmpfs mount in a private mount namespace is recorded with its arguments
# and a duration.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd unshare util-linux
mkdir -p "$TMP/mnt"
out=$(STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" unshare -m "$PROGS/mount_tmpfs" "$TMP/mnt" 5) ||
	fail "mount_tmpfs failed: $out"
[ "$out" = "mounted 5" ] || fail "unexpected output: $out"
check "$TMP/out" '[.processes[] | select(.comm=="mount_tmpfs") | .spans[] | select(.call=="mount")] | length == 5' \
	"5 mounts recorded"
check "$TMP/out" "[.processes[] | .spans[] | select(.call==\"mount\") | select(.args.fstype==\"tmpfs\" and .args.source==\"sptmp\" and .args.target==\"$TMP/mnt\" and .args.options==\"size=1m,mode=0755\" and .result==0 and .dur_ns > 0 and .args.flags==2)] | length == 5" \
	"source, target, fstype, options, flags, result and duration"
check "$TMP/out" '[.processes[] | .spans[] | select(.call=="umount2" and .result==0 and .dur_ns>0)] | length == 5' \
	"5 umount2 recorded"
check "$TMP/out" '[.processes[] | select(.comm=="unshare") | .spans[] | select(.call=="unshare" and .args.flags==131072)] | length == 1' \
	"unshare(CLONE_NEWNS) of unshare(1) recorded"
