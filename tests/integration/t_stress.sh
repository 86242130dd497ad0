#!/usr/bin/env bash
# Stress, bounded in time: fork+exec storms; a ring far too small for 16
# recording threads (the loss is counted and shown, nothing breaks);
# SIGKILL at random points, after which every call the program saw return
# is recovered from its ring.
. "$(dirname "$0")/lib.sh"
# 1. Storms: 4 chains of 40 fork+execs at once, empty environments.
pids=()
for i in 1 2 3 4; do
	STARTPATH_DIR="$TMP/storm" LD_PRELOAD="$LIB" "$PROGS/forkexec" chain 40 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; rc=$?; [ $rc -eq 40 ] || fail "a chain returned $rc, expected 40"; done
n=$(report_json "$TMP/storm" | jq '[.processes[] | select(.comm=="forkexec" and .forked==false)] | length')
# (chain 40..1: the last image, chain 0, records nothing and has no file)
[ "$n" -eq 160 ] || fail "$n program images recorded, expected 4 x 40 = 160"
ok "fork+exec storm: 4 x 40 chains, 160 images recorded (the 4 last record nothing)"

# 2. Overflow: 16 threads x 2000 calls into a 64-record ring.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	mkdir -p "$TMP/mnt"
	out=$(STARTPATH_RING=64 STARTPATH_DIR="$TMP/ovf" LD_PRELOAD="$LIB" unshare -m \
		"$PROGS/threads_mount" "$TMP/mnt" 16 100) || fail "threads_mount under a tiny ring: $out"
	lost=$(report_json "$TMP/ovf" | jq '[.processes[] | select(.comm=="threads_mount") | .lost] | add')
	[ "$lost" -gt 0 ] || fail "no loss counted with 6400 records in a 64-record ring"
	"$SP" report "$TMP/ovf" | grep -q "records lost" || fail "the loss is not shown in the report"
	ok "16 threads into a 64-record ring: program fine, $lost records lost and shown"
fi

# 3. SIGKILL at random points: every call that returned is in the ring.
for i in $(seq 1 10); do
	d="$TMP/kill$i"
	STARTPATH_RING=65536 STARTPATH_DIR="$d" LD_PRELOAD="$LIB" "$PROGS/caller" 30000 >"$TMP/count$i" &
	pid=$!
	sleep "0.00$((RANDOM % 9 + 1))"
	kill -9 $pid
	wait $pid 2>/dev/null
	seen=$(tail -1 "$TMP/count$i"); seen=${seen:-0}
	got=$(report_json "$d" 2>/dev/null | jq "[.processes[] | select(.pid==$pid) | .spans[] | select(.call==\"umount2\" and .exit)] | length")
	got=${got:-0} # killed before the library made its ring: nothing to recover
	[ "$got" -ge "$seen" ] && [ "$got" -le $((seen + 1)) ] ||
		fail "kill $i: the program saw $seen calls return, the ring has $got"
done
ok "10 SIGKILLs at random points: every returned call recovered (last: $seen seen, $got in the ring)"
