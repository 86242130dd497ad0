#!/usr/bin/env bash
# An unusable STARTPATH_DIR or bad settings: the program runs exactly as
# without the library (stdout, exit code) and startpath says why once.
. "$(dirname "$0")/lib.sh"
"$PROGS/forkexec" chain 3; want=$?
for dir in /dev/null/sub "$TMP/file"; do
	: >"$TMP/file"
	out=$(STARTPATH_DIR="$dir" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 3 2>"$TMP/err")
	rc=$?
	[ $rc -eq $want ] || fail "exit $rc with STARTPATH_DIR=$dir, expected $want"
	[ -z "$out" ] || fail "stdout written: $out"
	n=$(grep -c '^startpath: ' "$TMP/err")
	[ "$n" -ge 1 ] || fail "no startpath: message for $dir"
	# once per process image: 4 images at most, each says it once
	[ "$n" -le 4 ] || fail "$n messages for 4 processes"
	grep -v '^startpath: ' "$TMP/err" && fail "other stderr output"
	ok "STARTPATH_DIR=$dir: exit $rc, $n message(s): $(head -1 "$TMP/err")"
done
out=$(STARTPATH_DIR="$TMP/o2" STARTPATH_RING=banana LD_PRELOAD="$LIB" "$PROGS/errno_check" 2>"$TMP/err")
[ "$out" = "$("$PROGS/errno_check")" ] || fail "output differs with a bad STARTPATH_RING"
grep -q '^startpath: .*STARTPATH_RING=banana' "$TMP/err" || fail "bad setting not reported"
ok "bad STARTPATH_RING reported, program unaffected"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	# A read-only directory, even for root.
	mkdir -p "$TMP/ro"
	out=$(unshare -m sh -c "mount --bind -o ro '$TMP/ro' '$TMP/ro' && mount -o remount,bind,ro '$TMP/ro' &&
		STARTPATH_DIR='$TMP/ro' LD_PRELOAD='$LIB' '$PROGS/forkexec' chain 3; echo rc=\$?" 2>"$TMP/err")
	[ "$out" = "rc=$want" ] || fail "read-only dir: $out"
	grep -q '^startpath: ' "$TMP/err" || fail "no message for a read-only directory"
	ok "read-only STARTPATH_DIR: $(head -1 "$TMP/err")"
fi
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	# A tiny tmpfs that fills up.  A ring reserves its header and first
	# pages when it is made and the rest as it fills.  Filled up but for
	# 64 KiB: the first rings fit, then one cannot be made (said once), and
	# no program sees a SIGBUS or a changed exit code.
	mkdir -p "$TMP/tiny" "$TMP/mnt" "$TMP/grown"
	out=$(unshare -m sh -c "mount -t tmpfs -o size=3m,mode=0700 tiny '$TMP/tiny' &&
		{ dd if=/dev/zero of='$TMP/tiny/fill' bs=64k 2>/dev/null; truncate -s -64K '$TMP/tiny/fill'; } &&
		STARTPATH_DIR='$TMP/tiny' LD_PRELOAD='$LIB' '$PROGS/forkexec' chain 20; echo rc=\$?" 2>"$TMP/err")
	[ "$out" = "rc=20" ] || fail "full tmpfs: $out ($(head -3 "$TMP/err"))"
	grep -q "^startpath: .*No space left on device" "$TMP/err" || fail "full tmpfs: not reported"
	grep -v '^startpath: ' "$TMP/err" && fail "full tmpfs: other stderr output"
	ok "a tmpfs that fills up: chain of 21 images unaffected, $(grep -c '^startpath: ' "$TMP/err") message(s)"
	# The ring is made, then the filesystem fills while 16 threads record
	# (3200 records into a ring of 8192: none are lost to overflow):
	# the records with no page to go to are dropped and counted, the
	# program runs as without the library, and the map shows the loss.
	want=$(unshare -m "$PROGS/threads_mount" "$TMP/mnt" 16 50)
	out=$(unshare -m sh -c "mount -t tmpfs -o size=1m,mode=0700 tiny '$TMP/tiny' &&
		STARTPATH_RING=8192 STARTPATH_DIR='$TMP/tiny' LD_PRELOAD='$LIB' '$PROGS/threads_mount' '$TMP/mnt' 16 50 \
			fill '$TMP/tiny/fill'; echo rc=\$?
		cp '$TMP'/tiny/*.ring '$TMP/grown/' 2>/dev/null" 2>"$TMP/err") ||:
	echo "$out" | grep -qx "rc=0" || fail "filled while recording: $out ($(head -3 "$TMP/err"))"
	[ "$(echo "$out" | grep -v '^rc=')" = "$want" ] || fail "filled while recording: output differs: $out"
	grep -v '^startpath: ' "$TMP/err" && fail "filled while recording: other stderr output"
	grep -q '^startpath: .* records had no room in ' "$TMP/err" || fail "filled while recording: the drop is not said"
	lost=$(report_json "$TMP/grown" | jq '[.processes[] | select(.comm=="threads_mount") | .lost] | add')
	[ "${lost:-0}" -gt 0 ] || fail "filled while recording: no loss counted"
	"$SP" report "$TMP/grown" | grep -q "records lost" || fail "filled while recording: the loss is not shown"
	ok "filled while recording: 16 threads x 50 mounts, output and exit as untraced, $lost records lost and shown"
fi
# STARTPATH_LOG takes the messages off stderr.
STARTPATH_DIR=/dev/null/x STARTPATH_LOG="$TMP/log" LD_PRELOAD="$LIB" "$PROGS/ctor_main" >/dev/null 2>"$TMP/err"
[ ! -s "$TMP/err" ] || fail "stderr written although STARTPATH_LOG is set"
cat "$TMP"/log.* | grep -q '^startpath: ' || fail "nothing in STARTPATH_LOG"
ok "STARTPATH_LOG"
