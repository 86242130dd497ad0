#!/usr/bin/env bash
# Fail open under containerd: containerd parses the combined output of
# `containerd-shim-runc-v2 ... start` as the shim's address, and go-runc
# that of `runc state` and `runc ps` as JSON, so a `startpath:` line on a
# shim's or runc's stderr would fail the container's start or a query.
# With an unusable output directory and no STARTPATH_LOG, every process
# has something to say; the containers must still start and answer
# `ctr task ps`, and containerd (whose stderr is its log) says why.
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
	out=$(ctrd_ctr "$D" run --rm docker.io/library/bb:latest "q$i" /bin/sh -c "echo hello $i; sleep 0.2" 2>"$TMP/err") ||
		fail "start $i failed: $(cat "$TMP/err")"
	echo "$out" | grep -qx "hello $i" || fail "container $i said '$out'"
	grep -v '^startpath: ' "$TMP/err" | grep -q . && fail "start $i: other stderr output: $(cat "$TMP/err")"
done
# runc keeps its state under /run/containerd/runc whatever containerd's root:
# an id of its own, and the task deleted before containerd stops.
bg="quiet-bg-$$"
ctrd_ctr "$D" run -d docker.io/library/bb:latest "$bg" /bin/sleep 60 >"$TMP/bgerr" 2>&1 ||
	fail "a detached container did not start: $(cat "$TMP/bgerr")"
out=$(ctrd_ctr "$D" task ps "$bg" 2>&1) || fail "ctr task ps (runc ps --format json) failed: $out"
echo "$out" | grep -q '^PID' || fail "ctr task ps said: $out"
ctrd_ctr "$D" task kill -s KILL "$bg" >/dev/null 2>&1
for _ in $(seq 1 50); do
	ctrd_ctr "$D" task delete "$bg" >/dev/null 2>&1 && break
	sleep 0.1
done
ctrd_ctr "$D" container delete "$bg" >/dev/null 2>&1
grep -q '^startpath: .*cannot create output directory' "$D/containerd.log" ||
	fail "containerd did not say why it is not recording"
ok "3 starts and a ctr task ps with an unusable STARTPATH_DIR and no STARTPATH_LOG: shims and runc stayed quiet, all succeeded"
