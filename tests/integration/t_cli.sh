#!/usr/bin/env bash
# The CLI: usage errors exit 2 with a message, run passes the command's exit
# status through, report reads what run wrote.
. "$(dirname "$0")/lib.sh"
expect() { # expect CODE PATTERN CMD...
	local code=$1 pat=$2; shift 2
	"$@" >"$TMP/o" 2>"$TMP/e"; local rc=$?
	[ $rc -eq "$code" ] || fail "$* exited $rc, expected $code: $(cat "$TMP/e")"
	[ -z "$pat" ] || grep -q -- "$pat" "$TMP/o" "$TMP/e" || fail "$*: no '$pat' in output: $(cat "$TMP/e")"
	ok "$* -> $rc"
}
expect 2 "Usage" "$SP"
expect 2 "unknown command 'frob'" "$SP" frob
expect 0 "Usage: startpath run" "$SP" run --help
expect 0 "Usage: startpath report" "$SP" help report
expect 0 "startpath 0" "$SP" version
expect 2 "no command given" "$SP" run
expect 2 "expected table or json" "$SP" report "$TMP" --format xml
expect 2 "expected one directory" "$SP" report
expect 2 "$TMP/none: No such file" "$SP" report "$TMP/none"
mkdir "$TMP/empty"
expect 2 "no startpath process files" "$SP" report "$TMP/empty"
echo '{"schema":"startpath/proc/v1","ring_id":"x"}' >"$TMP/empty/1-1.json"
expect 2 "1-1.json: ring_id" "$SP" report "$TMP/empty"
head -c 5000 /dev/urandom >"$TMP/empty/2-2.ring"
expect 2 "2-2.ring: not a startpath ring" "$SP" report "$TMP/empty"
expect 2 "cannot find\|--lib" "$SP" run --lib /nonexistent.so -- true
expect 3 "" "$SP" run -q -o "$TMP/r1" -- sh -c '/bin/true; exit 3'
[ -f "$TMP/r1/run.json" ] || fail "run.json missing"
expect 0 "No container start found" "$SP" report "$TMP/r1"
expect 127 "cannot run" "$SP" run -q -o "$TMP/r2" -- /nonexistent-command
expect 2 "" "$SP" report "$TMP/r1" --container nope
# A command that records nothing (no file is made): report says why.
"$SP" run -q -o "$TMP/r3" -- true || fail "run -- true failed"
expect 2 "none made one" "$SP" report "$TMP/r3"
# run clears files of an earlier run
"$SP" run -q -o "$TMP/r1" -- "$PROGS/rawsys" leaf 2>"$TMP/e"
grep -q "removed" "$TMP/e" || fail "earlier files not reported as removed"
check "$TMP/r1" '[.processes[] | select(.comm=="sh")] | length == 0' "old files gone"
# dump: one ring file; a directory or a bad file is a usage error that says so
expect 2 "is a directory: dump reads one .ring file" "$SP" dump "$TMP/r1"
expect 2 "cannot open: No such file" "$SP" dump "$TMP/r1/none.ring"
expect 2 "not a startpath ring" "$SP" dump "$TMP/empty/2-2.ring"
ring=$(ls "$TMP/r1"/*.ring | head -1)
expect 0 '"schema":\|"schema" *:' "$SP" dump "$ring"
"$SP" dump "$ring" | jq -e '.schema == "startpath/proc/v1" and (.ring_id | length) > 0' >/dev/null ||
	fail "dump of $ring is not a process document"
# A start whose runc init images are missing: the unseen phases say what
# their rules expected, in the table and the JSON; --calls lists the calls
# no phase holds.
mkdir -p "$TMP/noinit"
for f in "$TOP"/tests/data/containerd-run/*.json; do
	jq -e '.argv[1] == "init" and (.argv | length) == 2' "$f" >/dev/null || cp "$f" "$TMP/noinit/"
done
"$SP" report "$TMP/noinit" --calls >"$TMP/noinit.txt" || fail "report of a start without runc init failed"
grep -q "why: expected runc:init's first clone/unshare/setns call: no runc:init process was recorded" \
	"$TMP/noinit.txt" || fail "namespace_setup's why line missing: $(cat "$TMP/noinit.txt")"
grep -q "in no phase of the start:" "$TMP/noinit.txt" || fail "--calls does not list the calls in no phase"
check "$TMP/noinit" '.maps[0].phases[] | select(.name=="rootfs_setup") | (.seen | not) and (.why | test("runc:init.s first mount call"))' \
	"an unseen phase says why (table and JSON)"
ok "all CLI checks"
