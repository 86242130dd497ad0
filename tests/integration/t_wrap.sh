#!/usr/bin/env bash
# scripts/startpath-runc: a dynamic runtime runs under the library (its own
# ring); a static one (busybox-static stands in) runs as a child, its span
# is written by startpath wrap, and its output and exit status pass through.
. "$(dirname "$0")/lib.sh"
W="$TOP/scripts/startpath-runc"
export STARTPATH_BIN="$SP" STARTPATH_DIR="$TMP/o"
runc_bin=$(command -v runc || true)
if [ -n "$runc_bin" ]; then
	out=$(STARTPATH_REAL_RUNC="$runc_bin" "$W" --version) || fail "wrapped runc --version failed"
	[ "$out" = "$(runc --version)" ] || fail "wrapped runc printed something else"
	check "$TMP/o" '[.processes[] | select(.comm=="runc" and .source=="ring" or .comm=="runc" and .source=="json")] | length == 1' \
		"dynamic runc: traced by the library"
else
	echo "SKIP part: no runc"
fi
[ -x /bin/busybox ] || skip "needs /bin/busybox (busybox-static) as a static stand-in"
file -L /bin/busybox 2>/dev/null | grep -q "statically linked" || skip "/bin/busybox is not static here"
rm -rf "$TMP/o"
out=$(STARTPATH_REAL_RUNC=/bin/busybox "$W" echo hello from a static runtime) || fail "static: failed"
[ "$out" = "hello from a static runtime" ] || fail "static: output '$out'"
STARTPATH_REAL_RUNC=/bin/busybox "$W" sh -c 'exit 7'; rc=$?
[ $rc -eq 7 ] || fail "static: exit $rc, expected 7"
check "$TMP/o" '[.processes[] | select(.comm=="busybox" and .exited and .argv[1]=="echo" and .exit_status==0)] | length == 1' \
	"static: the process span written by startpath wrap"
check "$TMP/o" '[.processes[] | select(.comm=="busybox" and .exit_status==7 and ((.t_exit_ns|tonumber) > (.t_load_ns|tonumber)))] | length == 1' \
	"static: exit status and duration recorded"
# The runtime's caller may parse its combined output (go-runc reads
# `runc state` and `runc ps` as JSON): with an unusable output directory,
# neither the library nor wrap adds a line to it, for a dynamic runc or a
# static runtime (startpath-runc sends messages to STARTPATH_LOG).
: >"$TMP/notadir"
if [ -n "$runc_bin" ]; then
	out=$(STARTPATH_DIR="$TMP/notadir/o" STARTPATH_REAL_RUNC="$runc_bin" "$W" --version 2>&1) ||
		fail "wrapped runc --version failed with an unusable directory"
	[ "$out" = "$(runc --version 2>&1)" ] || fail "wrapped runc, unusable directory: combined output '$out'"
fi
out=$(STARTPATH_DIR="$TMP/notadir/o" STARTPATH_REAL_RUNC=/bin/busybox "$W" echo quiet 2>&1) ||
	fail "static runtime failed with an unusable directory"
[ "$out" = "quiet" ] || fail "static runtime, unusable directory: combined output '$out'"
ok "an unusable output directory adds nothing to a runtime's combined output"
