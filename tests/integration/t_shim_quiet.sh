#!/usr/bin/env bash
# Fail open under containerd: containerd parses the combined output of
# `containerd-shim-runc-v2 ... start` as the shim's address, so a
# `startpath:` line on a shim's stderr would fail the container's start.
# With an unusable output directory and no STARTPATH_LOG, every process
# has something to say; the container must still start and say only what
# it says untraced, and containerd (whose stderr is its log) says why.
. "$(dirname "$0")/lib.sh"
. "$TOP/scripts/containerd-env.sh"
need_root
for c in containerd ctr runc; do need_cmd $c; done
[ -x /bin/busybox ] || skip "needs /bin/busybox (apt-get install busybox-static)"
D="$TMP/c"
cleanup_hook() { ctrd_stop "$D"; }
: >"$TMP/notadir"
STARTPATH_OUT="$TMP/notadir/out" STARTPATH_LOG= ctrd_start "$D" "$LIB" ||
	fail "containerd did not start under the library"
ctrd_image "$D" || fail "image import failed"
for i in 1 2 3; do
	out=$(ctrd_ctr "$D" run --rm docker.io/library/bb:latest "q$i" /bin/echo "hello $i" 2>"$TMP/err") ||
		fail "start $i failed: $(cat "$TMP/err")"
	echo "$out" | grep -qx "hello $i" || fail "container $i said '$out'"
	grep -v '^startpath: ' "$TMP/err" | grep -q . && fail "start $i: other stderr output: $(cat "$TMP/err")"
done
grep -q '^startpath: .*cannot create output directory' "$D/containerd.log" ||
	fail "containerd did not say why it is not recording"
ok "3 starts with an unusable STARTPATH_DIR and no STARTPATH_LOG: the shims stayed quiet, every start succeeded"
