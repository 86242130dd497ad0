#!/usr/bin/env bash
# A process killed with SIGKILL writes no JSON; its events are recovered
# from its ring file.
. "$(dirname "$0")/lib.sh"
mkfifo "$TMP/fifo"
STARTPATH_DIR="$TMP/out" LD_PRELOAD="$LIB" "$PROGS/sleeper" 50 >"$TMP/fifo" &
pid=$!
read -r line <"$TMP/fifo"
[ "$line" = ready ] || fail "sleeper said '$line'"
kill -9 $pid
wait $pid 2>/dev/null
ls "$TMP/out"/*.json >/dev/null 2>&1 && fail "a JSON file exists for a killed process"
check "$TMP/out" "[.processes[] | select(.pid==$pid and .source==\"ring\")] | length == 1" "recovered from the ring"
check "$TMP/out" "[.processes[] | select(.pid==$pid) | .spans[] | select(.call==\"umount2\" and .exit and .errno==2)] | length == 50" \
	"all 50 calls recovered with results"
check "$TMP/out" "[.processes[] | select(.pid==$pid) | .exited] == [false]" "no exit recorded"
